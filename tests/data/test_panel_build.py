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
    pytest.param(_rename_column, 1, "value_musd", "changed column layout", id="renamed-column"),
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


# -- a raw file cut short or damaged mid-file is an error naming its row, not fewer rows -----
#
# Each case rewrites the reporter file from its own lines: ``lines[0]`` is the header (row 1),
# so ``lines[k]`` is row k + 1. Row 20001 is deep inside the file (25605 lines).
CUT_LINE = 20000


def _rewrite(path: Path, edit: Callable[[list[str]], list[str]]) -> None:
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    path.write_text("".join(edit(lines)), encoding="utf-8", newline="")


def _ends_mid_row(lines: list[str]) -> list[str]:
    # the last row keeps only its first field and the comma after it
    return [*lines[:CUT_LINE], lines[CUT_LINE][:4]]


def _ends_inside_quotes(lines: list[str]) -> list[str]:
    # cut a few characters into the row's first quoted field
    quote = lines[CUT_LINE].index('"')
    return [*lines[:CUT_LINE], lines[CUT_LINE][: quote + 4]]


def _no_final_line_break(lines: list[str]) -> list[str]:
    return [*lines[:CUT_LINE], lines[CUT_LINE].rstrip("\n")]


def _short_row(lines: list[str]) -> list[str]:
    # one row loses its first field (the reporter's code) and the comma after it
    _, tail = lines[CUT_LINE].split(",", 1)
    return [*lines[:CUT_LINE], tail, *lines[CUT_LINE + 1 :]]


def _long_row(lines: list[str]) -> list[str]:
    return [*lines[:CUT_LINE], lines[CUT_LINE].rstrip("\n") + ",9\n", *lines[CUT_LINE + 1 :]]


TRUNCATIONS = [
    pytest.param(_ends_mid_row, "2 fields where the header has 7", id="ends-mid-row"),
    pytest.param(_ends_inside_quotes, "truncated or damaged", id="ends-inside-quotes"),
    pytest.param(_no_final_line_break, "no line break after it", id="no-final-line-break"),
    pytest.param(_short_row, "6 fields where the header has 7", id="row-lacks-a-field"),
    pytest.param(_long_row, "8 fields where the header has 7", id="row-has-an-extra-field"),
]


@pytest.mark.parametrize(("edit", "message"), TRUNCATIONS)
def test_truncated_raw_file_is_refused_by_row(
    raw_copy: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    edit: Callable[[list[str]], list[str]],
    message: str,
) -> None:
    broken = raw_copy / REPORTER_FILE
    _rewrite(broken, edit)
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    out = out_dir / "panel.csv"
    out.write_text(valid_text(), encoding="utf-8")
    before = snapshot(out_dir)
    result = run_cli(["data", "build", "--raw", str(raw_copy), "--out", str(out)], capsys)
    assert_one_line_error(result, broken, row=CUT_LINE + 1, column=None, message=message)
    assert snapshot(out_dir) == before


def test_blank_lines_and_crlf_line_ends_are_complete_rows(tmp_path: Path) -> None:
    from forecast.data.sources.rawfile import read_raw_csv

    (tmp_path / "x.csv").write_bytes(b'a,b\r\n1,"x, y"\r\n\r\n2,z\r\n\n')
    frame = read_raw_csv(tmp_path, "x.csv", ["a", "b"], what="a test file")
    assert frame["b"].tolist() == ["x, y", "z"]
