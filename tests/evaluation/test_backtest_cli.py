"""`forecast backtest` argument checks (no fit: every case stops before one)."""

from __future__ import annotations

import sys

import pytest
import typer

from forecast.cli.backtest import parse_range
from forecast.data.codebook import load_codebook
from forecast.model.spec import DEFAULT_MODEL, load_model_spec
from tests.data.panel_fixtures import run_cli


@pytest.mark.parametrize(
    "args",
    [
        ["--origins", "2019:2010"],
        ["--origins", "x"],
        ["--horizon", "1:2:3"],
        ["--method", "advi"],
        ["--workers", "2", "--scheduler", "tcp://localhost:1"],
        ["--workers", "0"],
        ["--target-accept", "1"],
        ["--target-accept", "0.2"],
    ],
)
def test_usage_errors_exit_2(args, capsys):
    result = run_cli(["backtest", *args], capsys)
    assert result.code == 2


def test_a_bad_panel_is_one_line_and_exit_1(tmp_path, capsys):
    bad = tmp_path / "panel.csv"
    bad.write_text("state,indicator\n")
    result = run_cli(["backtest", "--data", str(bad), "--no-progress"], capsys)
    assert result.code == 1
    assert result.err.count("\n") == 1 and str(bad) in result.err


def test_parse_range():
    assert parse_range("2008:2010", "--origins") == (2008, 2009, 2010)
    assert parse_range("3", "--horizon") == (3,)


@pytest.mark.parametrize(("flag", "expected"), [([], None), (["--target-accept", "0.97"], 0.97)])
def test_target_acceptance_defaults_to_the_spec_and_can_be_set(flag, expected, monkeypatch, capsys):
    # stop at the announcement, after the plan is made and before any fit
    seen: list[str] = []

    def stop(*args: object) -> None:
        seen.append(str(args[4]))
        raise typer.Exit(0)

    # the package exports the command under the module's name: reach the module itself
    monkeypatch.setattr(sys.modules["forecast.cli.backtest"], "_announce", stop)
    result = run_cli(["backtest", "--origins", "2015", "--horizon", "1", *flag], capsys)
    assert result.code == 0, result
    if expected is None:
        expected = load_model_spec(DEFAULT_MODEL, load_codebook()).sampler.target_accept
    assert seen == [f"nuts, 2 chains x 300 draws (500 tuning, target acceptance {expected:g})"]
