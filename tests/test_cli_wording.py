"""What the command line prints reads as English: help, titles, claims, uncertainty, tables."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from forecast.data.codebook import load_codebook
from forecast.evaluation.ledger.questions import question_issue
from forecast.evaluation.ledger.schema import open_ledger
from forecast.evaluation.ledger.store import indicator_cells, issue_meta, record_issue
from forecast.model.spec import DEFAULT_MODEL, load_model_spec
from forecast.rounding import PLUS_MINUS_MEANS
from forecast.scenarios.probabilities import scenario_probabilities
from forecast.scenarios.spec import DEFAULT_SCENARIOS, load_scenario_spec
from forecast.scenarios.synthetic import synthetic_forecast
from tests.data.panel_fixtures import run_cli
from tests.evaluation.ledger_helpers import manifest
from tests.scenarios.helpers import synthetic_run

COMMANDS = [
    ["fit"],
    ["predict"],
    ["scenarios"],
    ["whatif"],
    ["plot"],
    ["report"],
    ["baselines"],
    ["backtest"],
    ["data", "build"],
    ["data", "validate"],
    ["data", "show"],
    ["ledger", "record"],
    ["ledger", "resolve"],
    ["ledger", "score"],
    ["ledger", "show"],
    ["data", "sources"],
    ["ledger", "verify"],
    ["ledger", "export"],
    [],
]


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c) or "forecast")
def test_help_shows_readable_types(command, capsys):
    result = run_cli([*command, "--help"], capsys)
    assert result.code == 0
    for jargon in ("<bool>", "<int range>", "x>=", "x<="):
        assert jargon not in result.out, (jargon, result.out)
    # no default names this machine's checkout (issue 17): bundled files by their place in it
    from forecast.cli.options import PROJECT_ROOT

    assert str(PROJECT_ROOT) not in result.out


def test_fit_help_shows_the_sampler_defaults(capsys):
    # the help is a box of wrapped lines: read it as one line of words
    text = " ".join(re.sub(r"[│╭╮╰╯─]", " ", run_cli(["fit", "--help"], capsys).out).split())
    # the defaults come from the model spec's [sampler] table
    sampler = load_model_spec(DEFAULT_MODEL, load_codebook()).sampler
    for option, value in (
        ("draws", sampler.draws),
        ("tune", sampler.tune),
        ("chains", sampler.chains),
    ):
        assert re.search(rf"--{option} .*?from --model, {value} in alignment\.toml", text), option
    assert "Draws per chain, kept after tuning (1 to 100000)" in text


def test_a_bound_is_said_in_words(capsys):
    result = run_cli(["fit", "--chains", "0"], capsys)
    assert result.code == 2
    text = " ".join(re.sub(r"[│╭╮╰╯─]", " ", result.err).split())
    assert "'--chains': 0 is out of range: expected an integer from 1 to 64" in text


@pytest.fixture
def run(tmp_path: Path) -> Path:
    return synthetic_run(tmp_path / "runs", chains=2, draws=200, random_seed=4)


def test_scenarios_title_names_the_year_once_and_plus_minus_is_two_mcse(run, capsys):
    text = run_cli(["scenarios", str(run), "--quiet"], capsys)
    assert text.code == 0, text.err
    assert "(2030) (2030)" not in text.out and "in 2030 (2030)" not in text.out
    assert text.out.rstrip().endswith(PLUS_MINUS_MEANS)
    doc = json.loads(run_cli(["scenarios", str(run), "--json", "--quiet"], capsys).out)
    trend = re.search(r"trend certainty: P\(.*\) = ([\d.]+) ± ([\d.]+)", text.out)
    assert trend is not None
    # the ± printed is two Monte Carlo standard errors
    scenario = doc["partitions"][0]["scenarios"][0]
    row = re.search(rf"{scenario['id']} .*? ([\d.]+) │ +([\d.]+) │", text.out)
    assert row is not None
    assert float(row.group(1)) == pytest.approx(scenario["probability"], abs=5e-4)
    assert float(row.group(2)) == pytest.approx(2 * scenario["mcse"], abs=5e-4)


def test_scenarios_are_listed_most_likely_first(run, capsys):
    doc = json.loads(run_cli(["scenarios", str(run), "--json", "--quiet"], capsys).out)
    text = run_cli(["scenarios", str(run), "--quiet"], capsys).out
    for part in doc["partitions"]:
        ids = [s["id"] for s in sorted(part["scenarios"], key=lambda s: -s["probability"])]
        positions = [text.index(f"│ {sid} ") for sid in ids]
        assert positions == sorted(positions), ids


def test_progress_goes_to_stderr_and_json_stays_clean(run, capsys, monkeypatch):
    import forecast.progress

    # a synthetic run scores in a blink: announce every step at once
    monkeypatch.setattr(forecast.progress, "LINE_DELAY", 0.0)
    result = run_cli(["scenarios", str(run), "--json"], capsys)
    json.loads(result.out)
    assert result.err and all(re.match(r"\[\d\d:\d\d\] ", line) for line in result.err.splitlines())


def test_whatif_claims_and_coherence_read_as_sentences(bundled_run, tmp_path, capsys):
    result = run_cli(["whatif", str(bundled_run.path), "--quiet"], capsys)
    assert result.code == 0, result.err
    out = " ".join(result.out.split())
    assert "raises:" not in out and "lowers:" not in out
    assert re.search(r"makes it (more|less) likely: (yes|NOT borne out)", out)
    assert "Coherence of the weights:" in out and "law of total probability" in out
    assert "max |gap|" not in out
    assert PLUS_MINUS_MEANS in out


def _record(path: Path, run_id: str, quarter: str, seed: int) -> None:
    forecast = synthetic_forecast(random_seed=seed)
    forecast.attrs.update({"until": "2030", "random_seed": seed})
    spec = load_scenario_spec(DEFAULT_SCENARIOS)
    questions = question_issue(scenario_probabilities(forecast, spec), spec)
    conn = open_ledger(path, create=True)
    try:
        meta = issue_meta(forecast, manifest(run_id), quarter)
        record_issue(conn, path, meta, indicator_cells(forecast), questions)
    finally:
        conn.close()


def test_ledger_show_keeps_its_headers_when_piped(tmp_path, capsys):
    ledger = tmp_path / "forecast.db"
    _record(ledger, "run-a", "2026Q3", 1)
    _record(ledger, "run-b", "2026Q4", 2)
    result = run_cli(["ledger", "show", "--ledger", str(ledger)], capsys)
    assert result.code == 0, result.err
    # capsys is not a terminal, as a pipe is not
    for header in (
        "quarter",
        "issues",
        "forecasts",
        "resolved",
        "scored",
        "covered 50",
        "covered 90",
        "mean pit",
        "questions",
        "brier",
    ):
        assert re.search(rf"[│┃] {header} +[│┃]", result.out), (header, result.out)
    assert "…" not in result.out
