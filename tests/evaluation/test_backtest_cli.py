"""`forecast backtest` argument checks (no fit: every case stops before one)."""

from __future__ import annotations

import pytest

from forecast.cli.backtest import parse_range
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
