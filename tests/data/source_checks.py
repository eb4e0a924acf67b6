"""Shared helpers for the loader tests: raw CSV rows read with the csv module, copies of raw
files in a fresh directory, and the schema every loader's output must have."""

from __future__ import annotations

import csv
import math
import shutil
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest

from forecast.data.codebook import Codebook
from forecast.data.sources.rawfile import LOADER_COLUMNS
from forecast.errors import DataError

Loader = Callable[[Path], pd.DataFrame]
COW = {"KAZ": 705, "KGZ": 703, "TJK": 702, "TKM": 701, "UZB": 704}


def value(rows: pd.DataFrame, state: str, indicator: str, period: int) -> float | None:
    hit = rows[(rows["state"] == state) & (rows["indicator"] == indicator)]
    hit = hit[hit["period"] == str(period)]
    assert len(hit) <= 1
    return None if hit.empty else float(hit["value"].iloc[0])


def read_rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def copy_raw(raw_dir: Path, tmp_path: Path, relpath: str) -> Path:
    """Copy one raw file into a fresh raw directory and return the copy."""
    target = tmp_path / relpath
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(raw_dir / relpath, target)
    return target


def rewrite(path: Path, rows: list[dict[str, str]], drop: str | None = None) -> None:
    fields = [f for f in rows[0] if f != drop]
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=fields, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)


def assert_loader_schema(rows: pd.DataFrame, codebook: Codebook) -> None:
    """Yearly loader output: schema, no duplicates, no n, values in each kind's range."""
    assert tuple(rows.columns) == LOADER_COLUMNS
    assert not rows.empty
    assert not rows.duplicated(["state", "indicator", "period"]).any()
    assert set(rows["state"]) <= set(COW)
    assert rows["period"].str.fullmatch(r"\d{4}").all()
    assert rows["n"].isna().all()
    assert rows["value"].map(math.isfinite).all()
    for key, block in rows.groupby("indicator"):
        ind = codebook[key]
        assert set(block["source"]) == {ind.source}
        low, high, low_inclusive = ind.value_range()
        assert (block["value"] <= high).all()
        assert (block["value"] >= low).all() if low_inclusive else (block["value"] > low).all()
        if ind.kind == "binary":
            assert set(block["value"]) <= {0.0, 1.0}


def assert_missing_file_refused(
    raw_dir: Path, tmp_path: Path, loader: Loader, relpath: str, files: list[str]
) -> None:
    """Copy every file of ``files`` but ``relpath``: the loader names the missing one."""
    for other in files:  # every other file present: only this one is missing
        if other != relpath:
            copy_raw(raw_dir, tmp_path, other)
    with pytest.raises(DataError, match="missing raw file") as err:
        loader(tmp_path)
    assert Path(relpath).name in str(err.value)


def assert_removed_column_refused(
    raw_dir: Path, tmp_path: Path, loader: Loader, relpath: str, column: str
) -> None:
    """Drop ``column`` from a copy of ``relpath``: the loader names the file and the column."""
    path = copy_raw(raw_dir, tmp_path, relpath)
    rewrite(path, read_rows(path), drop=column)
    with pytest.raises(DataError, match="changed column layout") as err:
        loader(tmp_path)
    assert Path(relpath).name in str(err.value)
    assert column in str(err.value)
