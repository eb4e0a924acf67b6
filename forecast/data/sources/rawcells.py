"""Checking cells of raw files, with errors naming the file, the row and the column.

Loaders read a raw CSV with :func:`forecast.data.sources.rawfile.read_raw_csv` (which checks
the file and its columns) and then the cells they use with these functions. Rows are numbered
as a spreadsheet shows them (the header is row 1), from the frame's index, so a frame keeps its
original index until its cells are checked.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from forecast.errors import DataError


def _row(frame: pd.DataFrame, mask: np.ndarray) -> int:
    # the index still counts data rows from 0, so spreadsheet row = index + 2
    return int(frame.index[np.flatnonzero(mask)[0]]) + 2


def numbers(
    frame: pd.DataFrame, column: str, path: str | Path, *, what: str, allow_missing: bool = False
) -> pd.Series:
    """Return ``frame[column]`` as floats, refusing text and infinities (and blanks unless allowed).

    Parameters
    ----------
    frame
        A raw file as read, with its original index.
    column
        The column to check.
    path
        The file, for the error message.
    what
        What the column holds, for the error message (``"a year"``, ``"an amount in USD"``).
    allow_missing
        Whether an empty cell is allowed (it becomes NaN).

    Raises
    ------
    DataError
        Naming file, row and column of the first bad cell.

    Examples
    --------
    >>> numbers(pd.DataFrame({"x": ["1.5", ""]}), "x", "f.csv", what="a number", allow_missing=True)
    0    1.5
    1    NaN
    Name: x, dtype: float64
    >>> numbers(pd.DataFrame({"x": ["1", "n/a"]}), "x", "f.csv", what="a number")
    Traceback (most recent call last):
    ...
    forecast.errors.DataError: f.csv, row 3, column x: 'n/a' is not a number: expected a number
    """
    raw = frame[column]
    values = pd.to_numeric(raw, errors="coerce").astype(float)
    blank = raw.isna() | (raw.astype(str).str.strip() == "")
    bad = (values.isna() & ~blank).to_numpy() | np.isinf(values.to_numpy())
    if bad.any():
        text = raw.to_numpy()[np.flatnonzero(bad)[0]]
        raise DataError(
            path, f"{text!r} is not a number: expected {what}", row=_row(frame, bad), column=column
        )
    if not allow_missing and blank.any():
        raise DataError(
            path, f"empty cell: expected {what}", row=_row(frame, blank.to_numpy()), column=column
        )
    return values.where(~blank)


def whole_numbers(frame: pd.DataFrame, column: str, path: str | Path, *, what: str) -> pd.Series:
    """Return ``frame[column]`` as integers, refusing blanks, text and fractions.

    Raw files often store years as ``2006.0``; those are accepted.

    Examples
    --------
    >>> whole_numbers(pd.DataFrame({"year": [2006.0, 2007.0]}), "year", "f.csv", what="a year")
    0    2006
    1    2007
    Name: year, dtype: int64
    >>> frame = pd.DataFrame({"year": [2006.5]})
    >>> whole_numbers(frame, "year", "f.csv", what="a year")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    forecast.errors.DataError: f.csv, row 2, column year: 2006.5 is not a whole number: ...
    """
    values = numbers(frame, column, path, what=what)
    fraction = (values != np.round(values)).to_numpy()
    if fraction.any():
        value = values.to_numpy()[np.flatnonzero(fraction)[0]]
        raise DataError(
            path,
            f"{value:g} is not a whole number: expected {what}",
            row=_row(frame, fraction),
            column=column,
        )
    return values.astype("int64")
