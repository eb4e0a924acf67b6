"""Loading ``scenarios.toml``: the default spec, and malformed files naming file and entry."""

from __future__ import annotations

from pathlib import Path

import pytest

from forecast.errors import SpecError
from forecast.scenarios.spec import DEFAULT_SCENARIOS, load_scenario_spec
from tests.scenarios.helpers import MINIMAL_SPEC, assert_names, write


def test_default_spec() -> None:
    spec = load_scenario_spec(DEFAULT_SCENARIOS)
    headline = spec.headline
    assert headline.id == "region_2030" and headline.at == "2030"
    assert [s.id for s in headline.scenarios] == [
        "divergence",
        "chinese_ascendancy",
        "western_pivot",
        "russian_primacy",
        "multi_vector_balance",
    ]
    assert all(s.narrative.strip() and s.rule is not None for s in headline.scenarios)
    observable = [q for q in spec.questions if q.resolves_on == "indicators"]
    assert len(observable) >= 6
    assert spec.horizon == "2030"
    assert {"2024", "2025", "2030"} <= set(spec.periods())
    assert len(spec.sha256) == 64


def test_minimal_spec(tmp_path: Path) -> None:
    spec = load_scenario_spec(write(tmp_path, MINIMAL_SPEC))
    assert [p.id for p in spec.partitions] == ["rus"]
    assert spec.questions[0].resolves_on == "indicators"
    assert spec.partitions[0].resolves_on == "latent"
    assert spec.defines[0][0] == "rus_shift"


def test_residual_scenario(tmp_path: Path) -> None:
    text = MINIMAL_SPEC.replace('rule = "rus_shift >= 0"', "residual = true")
    spec = load_scenario_spec(write(tmp_path, text))
    assert spec.partitions[0].scenarios[1].residual


BAD_SPECS = [
    # (replace this, with this, entry named, message fragment)
    ('at = "2030"', 'at = "soon"', "partition.rus.at", "not a period"),
    ('at = "2025"', "at = 2025", "question.kaz_china_trade.at", "expected str"),
    ('id = "rus_up"', 'id = "rus_down"', "partition.rus.scenario.rus_down.id", "duplicate id"),
    ('id = "kaz_china_trade"', 'id = "rus"', "question.rus.id", "duplicate id"),
    ('id = "rus_up"', 'id = "Rus Up"', "partition.rus.scenario[1].id", "lower-case"),
    ('rule = "rus_shift >= 0"', "rule = 3", "partition.rus.scenario.rus_up.rule", "expected str"),
    ('rule = "rus_shift >= 0"', "", "partition.rus.scenario.rus_up.rule", "missing required"),
    (
        'rule = "rus_shift >= 0"',
        'rule = "rus_shift >= 0"\nresidual = true',
        "partition.rus.scenario.rus_up.rule",
        "residual scenario has no rule",
    ),
    (
        'narrative = "Region-wide alignment with Russia holds or rises."',
        'narrative = "x"\nweight = 1',
        "partition.rus.scenario.rus_up.weight",
        "unknown key",
    ),
    ('title = "Russia up"', 'title = ""', "partition.rus.scenario.rus_up.title", "empty"),
    ('title = "Russia up or down"', "", "partition.rus.title", "missing required"),
    ("[define]", "[define.x]", "define.x", ""),
]


@pytest.mark.parametrize(("old", "new", "entry", "fragment"), BAD_SPECS)
def test_bad_spec(tmp_path: Path, old: str, new: str, entry: str, fragment: str) -> None:
    assert old in MINIMAL_SPEC
    path = write(tmp_path, MINIMAL_SPEC.replace(old, new, 1))
    with pytest.raises(SpecError) as err:
        load_scenario_spec(path)
    message = assert_names(err, path, entry)
    assert fragment in message


def test_invalid_toml(tmp_path: Path) -> None:
    path = write(tmp_path, MINIMAL_SPEC + "\n[[question]\n")
    with pytest.raises(SpecError) as err:
        load_scenario_spec(path)
    assert_names(err, path, "invalid TOML")


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(SpecError) as err:
        load_scenario_spec(tmp_path / "none.toml")
    assert_names(err, tmp_path / "none.toml", "file not found")


def test_no_partition(tmp_path: Path) -> None:
    text = MINIMAL_SPEC[MINIMAL_SPEC.index("[[question]]") :]
    path = write(tmp_path, text)
    with pytest.raises(SpecError) as err:
        load_scenario_spec(path)
    assert_names(err, path, "key partition")


def test_single_scenario_partition(tmp_path: Path) -> None:
    start = MINIMAL_SPEC.index('[[partition.scenario]]\nid = "rus_up"')
    end = MINIMAL_SPEC.index("[[question]]")
    path = write(tmp_path, MINIMAL_SPEC[:start] + MINIMAL_SPEC[end:])
    with pytest.raises(SpecError) as err:
        load_scenario_spec(path)
    assert_names(err, path, "partition.rus.scenario", "at least two")


def test_two_residuals(tmp_path: Path) -> None:
    text = MINIMAL_SPEC.replace('rule = "rus_shift >= 0"', "residual = true").replace(
        'rule = "rus_shift < 0"', "residual = true"
    )
    path = write(tmp_path, text)
    with pytest.raises(SpecError) as err:
        load_scenario_spec(path)
    assert_names(err, path, "partition.rus.scenario", "at most one residual")


def test_partition_not_an_array_of_tables(tmp_path: Path) -> None:
    path = write(tmp_path, 'partition = "all of them"\n')
    with pytest.raises(SpecError) as err:
        load_scenario_spec(path)
    assert_names(err, path, "key partition", "array of tables")


def test_unknown_top_level_table(tmp_path: Path) -> None:
    path = write(tmp_path, MINIMAL_SPEC + "\n[scenarios]\nx = 1\n")
    with pytest.raises(SpecError) as err:
        load_scenario_spec(path)
    assert_names(err, path, "key scenarios", "unknown key")
