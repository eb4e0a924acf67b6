"""Seeds and sampler sizes out of range are usage errors naming the option and both bounds.

Every command taking ``--seed``, ``--draws``, ``--tune`` or ``--chains`` refuses a value
outside its range before doing any work (no file is read or written), with exit status 2.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from forecast.defaults import MAX_SEED
from tests.data.panel_fixtures import run_cli

#: each command that takes the options, with the arguments it needs besides them
COMMANDS = {
    "fit": ["fit"],
    "predict": ["predict"],
    "report": ["report", "--quarter", "2026Q4"],
    "backtest": ["backtest"],
    "baselines": ["baselines"],
}
SEED_CASES = [
    pytest.param(command, value, id=f"{command}-{value}")
    for command in COMMANDS
    for value in ("-1", str(MAX_SEED + 1), "99999999999999999999")
]
#: (command, option, value, accepted range)
SIZE_CASES = [
    ("fit", "--draws", "0", "1 to 100000"),
    ("fit", "--draws", "1000000000", "1 to 100000"),
    ("fit", "--tune", "-1", "0 to 100000"),
    ("fit", "--tune", "100001", "0 to 100000"),
    ("fit", "--chains", "65", "1 to 64"),
    ("backtest", "--draws", "99999999999999999", "1 to 100000"),
    ("backtest", "--tune", "100001", "0 to 100000"),
    ("backtest", "--chains", "0", "1 to 64"),
    ("baselines", "--draws", "100001", "1 to 100000"),
]


def _usage_error(args: list[str], option: str, expected: str, capsys, tmp_path: Path) -> None:
    result = run_cli(args, capsys)
    assert result.code == 2, result
    assert "Traceback" not in result.err
    # the usage box wraps long lines: compare the message with its line breaks removed
    message = " ".join(result.err.replace("│", " ").split())
    assert f"Invalid value for '{option}'" in message, message
    assert expected in message, message
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(("command", "value"), SEED_CASES)
def test_seed_out_of_range_is_a_usage_error(
    command: str,
    value: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(tmp_path)
    args = [*COMMANDS[command], "--seed", value]
    _usage_error(args, "--seed", f"expected an integer from 0 to {MAX_SEED}", capsys, tmp_path)


@pytest.mark.parametrize(("command", "option", "value", "accepted"), SIZE_CASES)
def test_sampler_size_out_of_range_is_a_usage_error(
    command: str,
    option: str,
    value: str,
    accepted: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(tmp_path)
    expected = f"expected an integer from {accepted}"
    _usage_error([*COMMANDS[command], option, value], option, expected, capsys, tmp_path)


@pytest.mark.parametrize("value", ["1", "1.5", "0.49", "-0.9"])
def test_backtest_target_acceptance_out_of_range_is_a_usage_error(
    value: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(tmp_path)
    expected = "expected a number from 0.5 up to (not including) 1"
    _usage_error(
        ["backtest", "--target-accept", value], "--target-accept", expected, capsys, tmp_path
    )
