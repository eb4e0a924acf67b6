"""Output paths: a bad ``--out``, ``--runs`` or ``--ledger`` fails at once on one line.

Every command that writes checks its output paths before doing any work: a directory where a
file is expected (or the reverse), a path under a file, or a place the user cannot write is a
one-line error naming the path and the option, exit status 1, and nothing is created.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.conftest import RAW_DIR
from tests.data.panel_fixtures import run_cli, snapshot
from tests.scenarios.helpers import synthetic_run


def _writable(directory: Path) -> bool:
    try:
        with tempfile.TemporaryFile(dir=directory):
            return True
    except OSError:
        return False


@pytest.fixture(scope="module")
def unwritable(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A directory the user cannot create files in (root ignores modes: then /sys)."""
    locked = tmp_path_factory.mktemp("locked")
    locked.chmod(0o500)
    if not _writable(locked):
        yield locked
    elif Path("/sys").is_dir() and not _writable(Path("/sys")):
        yield Path("/sys")
    else:
        pytest.skip("no unwritable directory on this machine")
    locked.chmod(0o700)


#: command lines, given the run directory and the output path under test
Args = Callable[[Path, Path], list[str]]
#: (command line, option, whether the option names a directory)
COMMANDS: dict[str, tuple[Args, str, bool]] = {
    "data build": (
        lambda run, out: ["data", "build", "--raw", str(RAW_DIR), "--out", str(out)],
        "--out",
        False,
    ),
    "fit": (lambda run, out: ["fit", "--runs", str(out)], "--runs", True),
    "predict": (lambda run, out: ["predict", str(run), "--out", str(out)], "--out", True),
    "plot": (lambda run, out: ["plot", str(run), "--out", str(out)], "--out", True),
    "baselines": (lambda run, out: ["baselines", "--out", str(out)], "--out", True),
    "backtest": (lambda run, out: ["backtest", "--out", str(out)], "--out", True),
    "report --run": (
        lambda run, out: ["report", "--quarter", "2026Q4", "--run", str(run), "--out", str(out)],
        "--out",
        True,
    ),
    "report --runs": (
        lambda run, out: ["report", "--quarter", "2026Q4", "--runs", str(out)],
        "--runs",
        True,
    ),
    "report --ledger": (
        lambda run, out: ["report", "--quarter", "2026Q4", "--ledger", str(out)],
        "--ledger",
        False,
    ),
    "ledger record": (
        lambda run, out: [
            "ledger",
            "record",
            "--quarter",
            "2026Q4",
            str(run),
            "--ledger",
            str(out),
        ],
        "--ledger",
        False,
    ),
    "ledger resolve": (
        lambda run, out: ["ledger", "resolve", "--ledger", str(out)],
        "--ledger",
        False,
    ),
    "ledger score": (lambda run, out: ["ledger", "score", "--ledger", str(out)], "--ledger", False),
}


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A run directory that loads (none of these commands gets as far as its posterior)."""
    return synthetic_run(tmp_path_factory.mktemp("runs"), chains=1, draws=10)


def _check(
    args: list[str],
    target: Path,
    option: str,
    message: str,
    work: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    before = snapshot(work)
    result = run_cli(args, capsys)
    assert result.code == 1, result
    assert "Traceback" not in result.err
    lines = result.err.splitlines()
    assert len(lines) == 1, result.err
    assert lines[0].startswith(f"error: {target}: cannot write: "), lines[0]
    assert lines[0].endswith(f"({option})"), lines[0]
    assert message in lines[0], lines[0]
    assert snapshot(work) == before


@pytest.mark.parametrize("command", list(COMMANDS))
def test_wrong_kind_of_path(
    command: str,
    run: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(tmp_path)
    args, option, is_dir = COMMANDS[command]
    # a file where a directory is expected, or a directory where a file is
    target = tmp_path / "taken"
    if is_dir:
        target.write_text("x")
        message = "it is a file, expected a directory"
    else:
        target.mkdir()
        message = "it is a directory, expected a file"
    _check(args(run, target), target, option, message, tmp_path, capsys)


@pytest.mark.parametrize("command", list(COMMANDS))
def test_path_under_a_file(
    command: str,
    run: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(tmp_path)
    args, option, _ = COMMANDS[command]
    (tmp_path / "afile").write_text("x")
    target = tmp_path / "afile" / "new" / "out"
    message = f"{tmp_path / 'afile'} is a file, not a directory"
    _check(args(run, target), target, option, message, tmp_path, capsys)


@pytest.mark.parametrize("command", list(COMMANDS))
def test_unwritable_place(
    command: str,
    run: Path,
    unwritable: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(tmp_path)
    args, option, _ = COMMANDS[command]
    target = unwritable / "new" / "out"
    message = f"in {unwritable}"
    _check(args(run, target), target, option, message, tmp_path, capsys)


def test_missing_parents_are_made(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from forecast.data.sources.dots import load_trade_shares

    # one loader is enough: the point is the output's missing directories
    monkeypatch.setattr("forecast.cli.data.LOADERS", (load_trade_shares,))
    out = tmp_path / "new" / "deeper" / "panel.csv"
    result = run_cli(["data", "build", "--raw", str(RAW_DIR), "--out", str(out)], capsys)
    assert (result.code, result.err) == (0, ""), result
    assert out.is_file()
    assert os.listdir(out.parent) == ["panel.csv"]


def test_ledger_record_makes_the_ledger_directory(
    bundled_run, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # SQLite creates a database file but not the directory it is in
    ledger = tmp_path / "new" / "deeper" / "forecast.db"
    args = ["ledger", "record", "--quarter", "2026Q4", str(bundled_run.path)]
    result = run_cli([*args, "--ledger", str(ledger)], capsys)
    assert result.code == 0, result
    assert ledger.is_file()
