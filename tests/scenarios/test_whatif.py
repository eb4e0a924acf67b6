"""What-ifs: the spec file, the offsets they add to the latent, and the comparison engine.

The projection itself (:func:`forecast.model.project.project`) needs a fitted posterior; the
tests here replace it by adding the offsets' cumulative sums to a synthetic forecast, which is
what the projection does to the latent (the end-to-end tests use the real one).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

from forecast.errors import SpecError
from forecast.scenarios import whatif as whatif_module
from forecast.scenarios.spec import DEFAULT_SCENARIOS, load_scenario_spec
from forecast.scenarios.synthetic import synthetic_forecast
from forecast.scenarios.whatif import whatif_offsets, whatif_probabilities
from forecast.scenarios.whatif_spec import (
    DEFAULT_WHATIF,
    WhatIf,
    check_claims,
    load_whatif_spec,
)
from tests.scenarios.helpers import MINIMAL_SPEC, assert_names, write

WHATIF = """
[[whatif]]
id = "rus_falls"
title = "Russia falls"
narrative = "A shock lowers alignment with Russia everywhere."
raises = ["rus_down"]
lowers = ["rus_up"]

[[whatif.shock]]
start = "2023"
poles = ["RUS"]
level = -0.5

[[whatif]]
id = "china_drifts"
title = "China drifts up in two states"
narrative = "Alignment with China drifts up in Kazakhstan and Uzbekistan."

[[whatif.shock]]
start = "2025"
poles = ["CHN"]
states = ["KAZ", "UZB"]
drift = 0.1
"""

STATES = ["KAZ", "KGZ", "TJK", "TKM", "UZB"]
POLES = ["RUS", "CHN", "WEST"]
FUTURE = [str(y) for y in range(2021, 2031)]


def offsets_for(whatif: WhatIf, future: list[str] = FUTURE, step: str = "Y") -> xr.DataArray:
    return whatif_offsets(whatif, states=STATES, poles=POLES, future=future, step=step)


def test_default_whatifs_load_and_match_the_default_scenarios() -> None:
    spec = load_whatif_spec(DEFAULT_WHATIF)
    assert [w.id for w in spec.whatifs] == [
        "sanctions_bite",
        "reexport_boom",
        "china_pipeline",
        "western_drive",
    ]
    assert spec.weighted
    check_claims(spec, load_scenario_spec(DEFAULT_SCENARIOS))


def test_level_and_drift_offsets(tmp_path: Path) -> None:
    spec = load_whatif_spec(write(tmp_path, WHATIF))
    level = offsets_for(spec.whatifs[0])
    assert level.dims == ("state", "pole", "period")
    assert level.sel(pole="RUS", period="2023").values.tolist() == [-0.5] * 5
    assert float(abs(level).sum()) == pytest.approx(2.5)
    drift = offsets_for(spec.whatifs[1])
    kaz = drift.sel(state="KAZ", pole="CHN").values
    assert kaz.tolist() == [0.0] * 4 + [0.1] * 6
    assert float(abs(drift.sel(state=["KGZ", "TJK", "TKM"])).sum()) == 0.0


def test_year_start_in_a_quarterly_model_is_its_first_quarter(tmp_path: Path) -> None:
    spec = load_whatif_spec(write(tmp_path, WHATIF))
    quarters = [f"{y}Q{q}" for y in range(2021, 2024) for q in range(1, 5)]
    off = offsets_for(spec.whatifs[0], future=quarters, step="Q")
    assert float(off.sel(state="KAZ", pole="RUS", period="2023Q1")) == -0.5


@pytest.mark.parametrize(
    ("old", "new", "fragment"),
    [
        ('start = "2023"', 'start = "2020"', "not after the last fitted period"),
        ('start = "2023"', 'start = "2019"', "not after the last fitted period"),
        ('start = "2023"', 'start = "2031"', "beyond the forecast's horizon"),
        ('start = "2023"', 'start = "2023Q2"', "finer than the model's step"),
        ('poles = ["RUS"]', 'poles = ["RUS"]\nstates = ["KAZ", "XYZ"]', "unknown state 'XYZ'"),
    ],
)
def test_offsets_refuse(tmp_path: Path, old: str, new: str, fragment: str) -> None:
    path = write(tmp_path, WHATIF.replace(old, new, 1))
    spec = load_whatif_spec(path)
    with pytest.raises(SpecError) as err:
        offsets_for(spec.whatifs[0])
    message = assert_names(err, path, "whatif.rus_falls.shock[0]")
    assert fragment in message


BAD_WHATIFS = [
    ('poles = ["RUS"]', 'poles = ["MARS"]', "whatif.rus_falls.shock[0].poles", "unknown pole"),
    ('poles = ["RUS"]', "poles = []", "whatif.rus_falls.shock[0].poles", "empty"),
    ('poles = ["RUS"]', 'poles = "RUS"', "whatif.rus_falls.shock[0].poles", "expected list"),
    ("level = -0.5", "level = 0", "whatif.rus_falls.shock[0]", "non-zero"),
    ("level = -0.5", "level = 50", "whatif.rus_falls.shock[0].level", "between"),
    ("level = -0.5", "level = nan", "whatif.rus_falls.shock[0].level", "between"),
    ("drift = 0.1", 'drift = "up"', "whatif.china_drifts.shock[0].drift", "expected"),
    ('start = "2023"', 'start = "soon"', "whatif.rus_falls.shock[0].start", "not a period"),
    ('start = "2023"', 'begin = "2023"', "whatif.rus_falls.shock[0].start", "missing"),
    ('id = "china_drifts"', 'id = "rus_falls"', "whatif.rus_falls.id", "duplicate id"),
    ('raises = ["rus_down"]', 'raises = ["rus_up"]', "whatif.rus_falls.lowers", "both raised"),
    (
        'title = "Russia falls"',
        'title = "Russia falls"\nodds = 2',
        "whatif.rus_falls.odds",
        "unknown key",
    ),
    (
        'title = "Russia falls"',
        'title = "Russia falls"\nweight = 0.5',
        "whatif.china_drifts.weight",
        "every what-if needs one",
    ),
]


@pytest.mark.parametrize(("old", "new", "entry", "fragment"), BAD_WHATIFS)
def test_bad_whatif_spec(tmp_path: Path, old: str, new: str, entry: str, fragment: str) -> None:
    assert old in WHATIF
    path = write(tmp_path, WHATIF.replace(old, new, 1))
    with pytest.raises(SpecError) as err:
        load_whatif_spec(path)
    message = assert_names(err, path, entry)
    assert fragment in message


def test_weights_must_sum_to_one(tmp_path: Path) -> None:
    text = "baseline_weight = 0.5\n" + WHATIF.replace(
        'title = "Russia falls"', 'title = "Russia falls"\nweight = 0.3'
    ).replace('title = "China drifts up in two states"', 'title = "China"\nweight = 0.3')
    path = write(tmp_path, text)
    with pytest.raises(SpecError) as err:
        load_whatif_spec(path)
    assert_names(err, path, "key baseline_weight", "sum to 1.1")


def test_no_whatif(tmp_path: Path) -> None:
    path = write(tmp_path, "baseline_weight = 1.0\n")
    with pytest.raises(SpecError) as err:
        load_whatif_spec(path)
    assert_names(err, path, "key whatif", "missing")


def test_invalid_toml(tmp_path: Path) -> None:
    path = write(tmp_path, WHATIF + "\n[[whatif.shock]\n")
    with pytest.raises(SpecError) as err:
        load_whatif_spec(path)
    assert_names(err, path, "invalid TOML")


def test_claims_must_name_scenarios(tmp_path: Path) -> None:
    path = write(tmp_path, WHATIF.replace('raises = ["rus_down"]', 'raises = ["rus_gone"]'))
    scenarios = load_scenario_spec(write(tmp_path, MINIMAL_SPEC, "scenarios.toml"))
    with pytest.raises(SpecError) as err:
        check_claims(load_whatif_spec(path), scenarios)
    assert_names(err, path, "whatif.rus_falls.raises", "'rus_gone'")


# -- the comparison engine, with the projection replaced -------------------------------------


@pytest.fixture
def fake_projection(monkeypatch: pytest.MonkeyPatch) -> xr.Dataset:
    """A synthetic baseline; apply_whatif adds the offsets' cumulative sums to its latent."""
    baseline = synthetic_forecast(
        chains=2, draws=200, random_seed=11, drift={"RUS": 0.0, "CHN": 0.03, "WEST": 0.0}
    )

    def apply(posterior: object, whatif: WhatIf, *, until: str, random_seed: int) -> xr.Dataset:
        assert (until, random_seed) == ("2030", 11)  # the baseline's: a paired comparison
        off = whatif_offsets(whatif, states=STATES, poles=POLES, future=FUTURE, step="Y")
        shift = off.cumsum("period").reindex(period=baseline["period"].values, fill_value=0.0)
        out = baseline.copy()
        out["alignment"] = baseline["alignment"] + shift
        return out

    monkeypatch.setattr(whatif_module, "apply_whatif", apply)
    return baseline


def test_whatif_probabilities(tmp_path: Path, fake_projection: xr.Dataset) -> None:
    scenarios = load_scenario_spec(write(tmp_path, MINIMAL_SPEC, "scenarios.toml"))
    whatifs = load_whatif_spec(write(tmp_path, WHATIF))
    result = whatif_probabilities(xr.DataTree(), fake_projection, scenarios, whatifs)
    diff = result.probabilities["difference"]
    assert float(diff.sel(whatif="rus_falls", scenario="rus_down")) > 0.3
    assert float(diff.sel(whatif="rus_falls", scenario="rus_up")) < -0.3
    # the question reads indicators, which the fake projection leaves alone: no change at all
    assert float(diff.sel(whatif="rus_falls", scenario="kaz_china_trade")) == 0.0
    assert (
        float(
            result.probabilities["difference_mcse"].sel(whatif="china_drifts", scenario="rus_down")
        )
        == 0.0
    )
    assert result.claims["shown"].tolist() == [True, True]
    assert result.coherence is None
    base = result.baseline.probabilities["probability"]
    np.testing.assert_allclose(result.probabilities["probability"] - base, diff, atol=1e-12)
    table = result.table()
    assert {"whatif", "target", "title", "baseline", "probability"} <= set(table.columns)
    assert len(table) == 2 * 3
    doc = json.loads(json.dumps(result.to_json()))
    assert [w["id"] for w in doc["whatifs"]] == ["rus_falls", "china_drifts"]
    assert doc["whatifs"][0]["claims"][0] == {
        "scenario": "rus_down",
        "claim": "raises",
        "difference": pytest.approx(float(diff.sel(whatif="rus_falls", scenario="rus_down"))),
        "difference_mcse": pytest.approx(doc["whatifs"][0]["scenarios"][0]["difference_mcse"]),
        "shown": True,
    }
    assert "coherence" not in doc


def test_coherence(tmp_path: Path, fake_projection: xr.Dataset) -> None:
    text = "baseline_weight = 0.5\n" + WHATIF.replace(
        'title = "Russia falls"', 'title = "Russia falls"\nweight = 0.3'
    ).replace('title = "China drifts up in two states"', 'title = "China"\nweight = 0.2')
    scenarios = load_scenario_spec(write(tmp_path, MINIMAL_SPEC, "scenarios.toml"))
    result = whatif_probabilities(
        xr.DataTree(), fake_projection, scenarios, load_whatif_spec(write(tmp_path, text))
    )
    assert result.coherence is not None
    p = result.probabilities["probability"]
    base = result.baseline.probabilities["probability"]
    want = 0.3 * p.sel(whatif="rus_falls") + 0.2 * p.sel(whatif="china_drifts") + 0.5 * base
    np.testing.assert_allclose(result.coherence["mixture"], want, atol=1e-12)
    np.testing.assert_allclose(result.coherence["gap"], want - base, atol=1e-12)
    doc = json.loads(json.dumps(result.to_json()))
    assert doc["coherence"]["max_abs_gap"] > 0.05
    assert doc["coherence"]["worst"] in {"rus_down", "rus_up"}
