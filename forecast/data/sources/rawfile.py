"""Reading raw source files with one-line errors naming the file and what was expected."""

from __future__ import annotations

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
        When the file is missing, unreadable, empty or lacks an expected column.
    """
    path = Path(raw_dir) / relpath
    needed = list(columns)
    expected = f"expected {what} with columns {', '.join(needed)}"
    if not path.is_file():
        raise DataError(path, f"missing raw file: {expected}")
    try:
        frame = pd.read_csv(path, dtype=dtype, encoding="utf-8")
    except pd.errors.EmptyDataError:
        raise DataError(path, f"empty raw file: {expected}") from None
    except UnicodeDecodeError:
        raise DataError(path, f"not UTF-8 encoded: expected {what}") from None
    except (pd.errors.ParserError, ValueError) as err:
        # pandas' parser messages run over several lines; DataError joins them into one
        raise DataError(path, f"cannot parse as CSV ({err}): expected {what}") from None
    except OSError as err:  # unreadable (permissions and the like), not a bug
        raise DataError(path, f"cannot read raw file ({err.strerror or err}): {expected}") from None
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
