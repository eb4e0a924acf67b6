"""``forecast data build``: a broken raw directory fails cleanly and never touches the output.

The raw directory is a per-test stand-in for ``../shared/data``: every entry is a symlink to
the shared data except ``imf_dots``, which is a real copy that the test may break (the shared
files themselves are never modified). The IMF DOTS files are the ones broken because the DOTS
loader is the one every version of the loader list runs.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from forecast.data.panel import read_panel
from forecast.data.sources.dots import REPORTER_FILE, load_trade_shares
from tests.conftest import RAW_DIR
from tests.data.panel_fixtures import assert_one_line_error, run_cli, snapshot, valid_text

DOTS_DIR = REPORTER_FILE.split("/")[0]


@pytest.fixture
def raw_copy(tmp_path: Path) -> Path:
    """A writable raw directory: symlinks to the shared data, with a real copy of the DOTS files."""
    assert RAW_DIR.is_dir(), f"raw data not found at {RAW_DIR}"
    raw = tmp_path / "raw"
    raw.mkdir()
    for entry in RAW_DIR.iterdir():
        if entry.name == DOTS_DIR:
            shutil.copytree(entry, raw / entry.name)
        else:
            (raw / entry.name).symlink_to(entry, target_is_directory=entry.is_dir())
    return raw


def _delete(path: Path) -> None:
    path.unlink()


def _rename_column(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    header, rest = text.split("\n", 1)
    path.write_text(header.replace("value_musd", "value_usd") + "\n" + rest, encoding="utf-8")


def _empty(path: Path) -> None:
    path.write_bytes(b"")


# (how the reporter file is broken, row, column, fragment of the message)
BREAKAGES = [
    pytest.param(_delete, None, None, "missing raw file", id="missing-file"),
    pytest.param(
        _rename_column, 1, "value_musd", "changed column layout", id="renamed-column"
    ),
    pytest.param(_empty, None, None, "empty raw file", id="empty-file"),
]


@pytest.mark.parametrize(("breakage", "row", "column", "message"), BREAKAGES)
def test_failed_build_keeps_existing_output(
    raw_copy: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    breakage: Callable[[Path], None],
    row: int | None,
    column: str | None,
    message: str,
) -> None:
    broken = raw_copy / REPORTER_FILE
    breakage(broken)
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    out = out_dir / "panel.csv"
    out.write_text(valid_text(), encoding="utf-8")
    before = snapshot(out_dir)
    result = run_cli(["data", "build", "--raw", str(raw_copy), "--out", str(out)], capsys)
    assert_one_line_error(result, broken, row=row, column=column, message=message)
    # same bytes, same mtime, and no temporary file left beside it
    assert snapshot(out_dir) == before


@pytest.mark.parametrize(("breakage", "row", "column", "message"), BREAKAGES[:2])
def test_failed_build_creates_no_output(
    raw_copy: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    breakage: Callable[[Path], None],
    row: int | None,
    column: str | None,
    message: str,
) -> None:
    broken = raw_copy / REPORTER_FILE
    breakage(broken)
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    # a missing parent directory must not be created either
    out = out_dir / "new" / "panel.csv"
    result = run_cli(["data", "build", "--raw", str(raw_copy), "--out", str(out)], capsys)
    assert_one_line_error(result, broken, row=row, column=column, message=message)
    assert list(out_dir.iterdir()) == []


def test_build_with_missing_raw_dir(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    raw = tmp_path / "no-such-dir"
    out = tmp_path / "panel.csv"
    result = run_cli(["data", "build", "--raw", str(raw), "--out", str(out)], capsys)
    assert_one_line_error(
        result, raw, row=None, column=None, message="raw data directory not found"
    )
    assert list(tmp_path.iterdir()) == []


def test_build_onto_directory_is_one_line_error(
    raw_copy: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # the failure is in writing, so one loader is enough to get there
    monkeypatch.setattr("forecast.cli.data.LOADERS", (load_trade_shares,))
    out = tmp_path / "taken"
    out.mkdir()
    result = run_cli(["data", "build", "--raw", str(raw_copy), "--out", str(out)], capsys)
    assert_one_line_error(result, out, row=None, column=None, message="cannot write")
    assert list(out.iterdir()) == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["raw", "taken"]


def test_build_replaces_output_atomically(
    raw_copy: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    out = out_dir / "panel.csv"
    out.write_text("stale\n", encoding="utf-8")
    result = run_cli(["data", "build", "--raw", str(raw_copy), "--out", str(out)], capsys)
    assert (result.code, result.err) == (0, ""), result
    assert result.out.startswith(f"wrote {out}: ")
    assert [p.name for p in out_dir.iterdir()] == ["panel.csv"]
    panel = read_panel(out)
    assert {"trade_share_rus", "trade_share_chn"} <= set(panel["indicator"])
    result = run_cli(["data", "validate", str(out)], capsys)
    assert result.code == 0, result
