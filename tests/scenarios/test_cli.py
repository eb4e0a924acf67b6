"""``forecast scenarios`` and ``forecast whatif`` on a synthetic run: output and bad input.

A bad input ends with status 1 and one line on stderr naming the file and the entry, without
a traceback; a usage error with status 2.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from forecast.scenarios.spec import DEFAULT_SCENARIOS
from tests.data.panel_fixtures import Result, run_cli
from tests.scenarios.helpers import MINIMAL_SPEC, spec_with_rule, synthetic_run, write
from tests.scenarios.test_whatif import WHATIF


@pytest.fixture
def run(tmp_path: Path) -> Path:
    return synthetic_run(tmp_path / "runs", chains=2, draws=100, random_seed=4)


def assert_bad_input(result: Result, path: Path, *entries: str) -> str:
    assert result.code == 1, result
    assert result.out == ""
    assert "Traceback" not in result.err
    lines = result.err.splitlines()
    assert len(lines) == 1, result.err
    assert lines[0].startswith(f"error: {path}"), lines[0]
    for entry in entries:
        assert entry in lines[0], (entry, lines[0])
    return lines[0]


def test_scenarios_json(run: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec = write(tmp_path, MINIMAL_SPEC)
    result = run_cli(["scenarios", str(run), "--spec", str(spec), "--json"], capsys)
    assert (result.code, result.err) == (0, "")
    doc = json.loads(result.out)
    assert set(doc) == {"run_id", "headline", "partitions", "questions"}
    assert doc["run_id"] == "synthetic"
    assert set(doc["headline"]) == {"trend_probability", "outcome_entropy"}
    (part,) = doc["partitions"]
    assert set(part) == {"id", "entropy", "scenarios"}
    assert part["id"] == "rus" and 0.0 <= part["entropy"] <= 1.0
    assert doc["headline"]["outcome_entropy"] == part["entropy"]
    assert [s["id"] for s in part["scenarios"]] == ["rus_down", "rus_up"]
    assert sum(s["probability"] for s in part["scenarios"]) == pytest.approx(1.0, abs=1e-9)
    assert [q["id"] for q in doc["questions"]] == ["kaz_china_trade"]
    for entry in [*part["scenarios"], *doc["questions"]]:
        assert set(entry) == {"id", "title", "probability", "mcse"}


def test_json_of_an_unconverged_run(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run = synthetic_run(tmp_path / "runs", converged=False, chains=2, draws=50)
    spec = write(tmp_path, MINIMAL_SPEC)
    result = run_cli(["scenarios", str(run), "--spec", str(spec), "--json"], capsys)
    assert result.code == 0
    # the document keeps its schema; the warning goes to stderr, on one line
    assert set(json.loads(result.out)) == {"run_id", "headline", "partitions", "questions"}
    assert result.err.splitlines() == [
        "NOT CONVERGED: run synthetic did not pass the convergence gates"
    ]
    table = run_cli(["scenarios", str(run), "--spec", str(spec)], capsys)
    assert "NOT CONVERGED" in table.out and table.err == ""


def test_scenarios_table(run: Path, capsys: pytest.CaptureFixture[str]) -> None:
    result = run_cli(["scenarios", str(run), "--spec", str(DEFAULT_SCENARIOS)], capsys)
    assert (result.code, result.err) == (0, "")
    assert "Russian primacy endures" in result.out
    assert "Questions" in result.out
    assert "Trend certainty " in result.out and "(normalised entropy)" in result.out


def test_hostile_rule(run: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec = write(tmp_path, spec_with_rule("__import__('os').system('touch pwned')"))
    result = run_cli(["scenarios", str(run), "--spec", str(spec)], capsys)
    assert_bad_input(result, spec, "question.kaz_china_trade.rule", "attribute access")
    assert not (tmp_path / "pwned").exists() and not Path("pwned").exists()


def test_invalid_toml(run: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec = write(tmp_path, MINIMAL_SPEC.replace('id = "rus"', 'id = "rus'))
    result = run_cli(["scenarios", str(run), "--spec", str(spec), "--json"], capsys)
    assert_bad_input(result, spec, "invalid TOML")


def test_not_a_partition(run: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec = write(tmp_path, MINIMAL_SPEC.replace('"rus_shift >= 0"', '"rus_shift >= -1"'))
    result = run_cli(["scenarios", str(run), "--spec", str(spec)], capsys)
    assert_bad_input(result, spec, "partition.rus", "overlap")


def test_unknown_state(run: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec = write(tmp_path, spec_with_rule('alignment["RUS", "AFG"] > 0'))
    result = run_cli(["scenarios", str(run), "--spec", str(spec)], capsys)
    assert_bad_input(result, spec, "question.kaz_china_trade.rule", "unknown state", "AFG")


def test_unknown_run(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    result = run_cli(["scenarios", "nope", "--runs", str(tmp_path)], capsys)
    assert result.code == 1 and "Traceback" not in result.err
    assert len(result.err.splitlines()) == 1 and "nope" in result.err


def test_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert run_cli(["scenarios", "--bogus"], capsys).code == 2


def test_whatif_unknown_pole(run: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec = write(tmp_path, MINIMAL_SPEC)
    whatifs = write(tmp_path, WHATIF.replace('poles = ["RUS"]', 'poles = ["EU"]'), "w.toml")
    args = ["whatif", str(run), "--spec", str(spec), "--whatif", str(whatifs)]
    result = run_cli(args, capsys)
    assert_bad_input(result, whatifs, "whatif.rus_falls.shock[0].poles", "unknown pole")


def test_whatif_unknown_claim(
    run: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = write(tmp_path, MINIMAL_SPEC)
    whatifs = write(tmp_path, WHATIF.replace('lowers = ["rus_up"]', 'lowers = ["nope"]'), "w.toml")
    args = ["whatif", str(run), "--spec", str(spec), "--whatif", str(whatifs), "--json"]
    result = run_cli(args, capsys)
    assert_bad_input(result, whatifs, "whatif.rus_falls.lowers", "'nope'")


def test_division_by_zero_in_some_draws_is_printed(
    run: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rule = 'mean(alignment["RUS"]) / count(alignment["RUS"] > 0) > 0'
    spec = write(tmp_path, spec_with_rule(rule))
    text = run_cli(["scenarios", str(run), "--spec", str(spec)], capsys)
    assert text.code == 0, text
    note = "DIVISION BY ZERO: question.kaz_china_trade.rule: a denominator is zero in "
    assert note in text.out
    # with --json the document keeps its schema and the note goes to stderr
    doc = run_cli(["scenarios", str(run), "--spec", str(spec), "--json"], capsys)
    assert doc.code == 0 and note in doc.err
    assert set(json.loads(doc.out)) == {"run_id", "headline", "partitions", "questions"}


def test_division_by_zero_in_every_draw_is_an_error(
    run: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rule = 'mean(alignment["RUS"]) / count(alignment["RUS"] > 1e6) > 0'
    spec = write(tmp_path, spec_with_rule(rule))
    result = run_cli(["scenarios", str(run), "--spec", str(spec)], capsys)
    assert_bad_input(result, spec, "question.kaz_china_trade.rule", "zero in every one of")
