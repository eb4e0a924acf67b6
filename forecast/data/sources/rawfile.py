"""Reading raw source files with one-line errors naming the file and what was expected."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pandas as pd

from forecast.errors import DataError

#: columns every loader returns (``vintage`` is added by the panel builder from the codebook)
LOADER_COLUMNS = ("state", "indicator", "period", "value", "n", "source", "se")


def read_raw_csv(
    raw_dir: str | Path,
    relpath: str,
    columns: Iterable[str],
    *,
    what: str,
    dtype: dict[str, type] | None = None,
) -> pd.DataFrame:
    """Read one raw CSV from ``raw_dir`` and check that its layout has the expected columns.

    Parameters
    ----------
    raw_dir
        The raw data directory (``../shared/data`` or any directory of the same files).
    relpath
        Path of the file inside ``raw_dir``.
    columns
        Columns the loader needs; extra columns are allowed.
    what
        A few words on what the file is, for the error message.
    dtype
        Optional dtypes passed to :func:`pandas.read_csv`.

    Raises
    ------
    DataError
        When the file is missing, unreadable, empty, truncated or damaged (see
        :func:`check_complete_rows`), or lacks an expected column.
    """
    path = Path(raw_dir) / relpath
    needed = list(columns)
    expected = f"expected {what} with columns {', '.join(needed)}"
    if not path.is_file():
        raise DataError(path, f"missing raw file: {expected}")
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError:
        raise DataError(path, f"not UTF-8 encoded: expected {what}") from None
    except OSError as err:  # unreadable (permissions and the like), not a bug
        raise DataError(path, f"cannot read raw file ({err.strerror or err}): {expected}") from None
    if not text.strip():
        raise DataError(path, f"empty raw file: {expected}")
    check_complete_rows(path, text)
    try:
        frame = pd.read_csv(io.StringIO(text), dtype=dtype)
    except pd.errors.EmptyDataError:
        raise DataError(path, f"empty raw file: {expected}") from None
    except (pd.errors.ParserError, ValueError) as err:
        # pandas' parser messages run over several lines; DataError joins them into one
        raise DataError(path, f"cannot parse as CSV ({err}): expected {what}") from None
    missing = [c for c in needed if c not in frame.columns]
    if missing:
        raise DataError(
            path,
            f"changed column layout: expected columns {', '.join(needed)}; "
            f"missing {', '.join(missing)}",
            row=1,
            column=missing[0],
        )
    return frame


def check_complete_rows(path: str | Path, text: str) -> None:
    r"""Refuse a CSV text whose rows do not all have the header's number of fields.

    A raw file cut short (a failed download, a full disk) usually ends in the middle of a row;
    pandas would read that row with empty cells and the loaders would drop it, so the panel
    would silently lose values. A file must therefore end with a line break after its last
    row, no row may have fewer or more fields than the header, and no quoted field may be left
    open. Blank lines are skipped, as pandas skips them.

    Raises
    ------
    DataError
        Naming the file and the row (as a spreadsheet numbers it, the header is row 1).

    Examples
    --------
    >>> check_complete_rows("x.csv", "a,b\n1,2\n3\n")
    Traceback (most recent call last):
    ...
    forecast.errors.DataError: x.csv, row 3: 1 field where the header has 2: ...
    """
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    width: int | None = None
    row = 0
    try:
        for row, record in enumerate(reader, start=1):
            if not record:
                continue
            if width is None:
                width = len(record)
            elif len(record) != width:
                fields = "field" if len(record) == 1 else "fields"
                raise DataError(
                    path,
                    f"{len(record)} {fields} where the header has {width}: the row is "
                    "incomplete or damaged (a truncated file?); expected every row to have "
                    "the header's fields",
                    row=row,
                )
    except csv.Error as err:
        # strict mode: a quoted field left open at the end of the file, or text after a
        # closing quote
        raise DataError(
            path,
            f"cannot parse as CSV ({err}): the file is truncated or damaged",
            row=row + 1,
        ) from None
    if not text.endswith("\n"):
        raise DataError(
            path,
            "the file ends in the middle of its last row (no line break after it): "
            "a truncated file? expected complete rows, each ending with a line break",
            row=row,
        )


def _period_text(period: pd.Series, source: str) -> list[str]:
    # a year column read with a missing cell becomes float, and str(2019.0) is "2019.0", not a
    # period: integral floats are years, anything else fractional is refused
    out = []
    for value in period:
        if isinstance(value, float | np.floating):
            if not value.is_integer():
                raise DataError(
                    f"{source} loader output",
                    f"period {value!r} is not a whole year: expected an integer year "
                    "such as 2019 or a period string such as 2019Q3 or 2019-07",
                    column="period",
                )
            value = int(value)
        out.append(str(value))
    return out


def tidy(frame: pd.DataFrame, source: str) -> pd.DataFrame:
    """Return loader output in :data:`LOADER_COLUMNS` order with types the builder expects.

    ``frame`` must carry ``state``, ``indicator``, ``period`` (int year, integral float year
    or str) and ``value``; ``n`` and ``se`` (standard error of ``value``) default to missing.

    Raises
    ------
    DataError
        When a period is a float that is not a whole year (``2019.5``, NaN).

    Examples
    --------
    >>> rows = pd.DataFrame({"state": ["KAZ"], "indicator": ["x"], "period": [2019.0]})
    >>> rows["value"] = 0.5
    >>> tidy(rows, "demo")["period"].tolist()
    ['2019']
    """
    out = pd.DataFrame(
        {
            "state": frame["state"].astype(str).to_numpy(),
            "indicator": frame["indicator"].astype(str).to_numpy(),
            "period": pd.Series(_period_text(frame["period"], source), dtype=str).to_numpy(),
            "value": frame["value"].astype(float).to_numpy(),
            "n": (frame["n"] if "n" in frame else pd.Series(float("nan"), index=frame.index))
            .astype(float)
            .to_numpy(),
            "source": source,
            "se": (frame["se"] if "se" in frame else pd.Series(float("nan"), index=frame.index))
            .astype(float)
            .to_numpy(),
        }
    )
    return out.reset_index(drop=True)
