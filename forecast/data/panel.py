"""Reading and writing the tidy indicator panel (DESIGN.md section 2).

The panel on disk is UTF-8 CSV with exactly the columns of
:data:`forecast.dims.PANEL_COLUMNS`. :func:`read_panel` validates everything it reads and
reports the first problem by file, row and column; :func:`write_panel` validates first and
writes atomically, so a bad panel never reaches the disk.
"""

from __future__ import annotations

import csv
import hashlib
import io
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from forecast.atomic import write_text_atomic
from forecast.data.codebook import Codebook, load_codebook
from forecast.data.validate import check_columns, validate_cells
from forecast.dims import PANEL_COLUMNS
from forecast.errors import DataError

#: the bundled panel
DEFAULT_PANEL = Path(__file__).resolve().parents[2] / "data" / "panel.csv"


def _locate_undecodable(raw: bytes) -> tuple[int, str | None]:
    """Return the spreadsheet row and column of the first byte that is not UTF-8."""
    # undecodable bytes become lone surrogates, so the CSV can still be split into cells and
    # the bad one found; rows count records (as a spreadsheet does), not physical lines
    text = raw.decode("utf-8", errors="surrogateescape")
    records: list[list[str]] = []
    try:
        for rec in csv.reader(io.StringIO(text, newline="")):
            records.append(rec)
            for pos, cell in enumerate(rec):
                if any("\udc80" <= ch <= "\udcff" for ch in cell):
                    header = records[0]
                    named = len(records) > 1 and pos < len(header)
                    return len(records), header[pos].strip() if named else None
    except csv.Error:
        pass
    # malformed as well as undecodable: fall back to the physical line of the first bad byte
    bad = next(i for i, ch in enumerate(text) if "\udc80" <= ch <= "\udcff")
    return text[:bad].count("\n") + 1, None


def _decode(path: Path, raw: bytes) -> str:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as err:
        row, column = _locate_undecodable(raw)
        raise DataError(
            path,
            f"not UTF-8 encoded (byte 0x{raw[err.start]:02x}): save the file as UTF-8",
            row=row,
            column=column,
        ) from None
    text = text.removeprefix("\ufeff")
    # checked after decoding so that a file holding only a byte-order mark counts as empty
    if not text.strip():
        raise DataError(path, "empty file: expected a header row and data rows", row=1)
    return text


def _rows(path: Path, text: str) -> tuple[list[list[str]], list[int]]:
    records: list[list[str]] = []
    try:
        records.extend(csv.reader(io.StringIO(text, newline=""), strict=True))
    except csv.Error as err:
        # the record being read when the error struck; ``reader.line_num`` would count the
        # physical lines of quoted multi-line cells instead of spreadsheet rows
        raise DataError(path, f"malformed CSV ({err})", row=len(records) + 1) from None
    header = [h.strip() for h in records[0]]
    check_columns(str(path), header)
    body: list[list[str]] = []
    numbers: list[int] = []
    # optional columns the file leaves out are read as empty cells (they come last)
    padding = [""] * (len(PANEL_COLUMNS) - len(header))
    for i, rec in enumerate(records[1:], start=2):
        if not rec:  # a blank line is not a record, but keeps its row number
            continue
        if len(rec) != len(header):
            # name the first column left without a field, when there is one
            short = header[len(rec)] if len(rec) < len(header) else None
            raise DataError(
                path,
                f"{len(rec)} fields where the header has {len(header)}: check the delimiter "
                "(commas) and quoting",
                row=i,
                column=short,
            )
        body.append(rec + padding)
        numbers.append(i)
    return body, numbers


def read_panel(path: str | Path, codebook: Codebook | None = None) -> pd.DataFrame:
    """Read and validate a panel CSV.

    Parameters
    ----------
    path
        The panel file.
    codebook
        Indicators the panel may use; the bundled codebook by default.

    Returns
    -------
    pandas.DataFrame
        One row per (state, indicator, period) with ``value`` and ``n`` as floats.

    Raises
    ------
    DataError
        For a missing, empty, non-UTF-8 or malformed file, or any cell that breaks the schema.

    Examples
    --------
    >>> panel = read_panel(DEFAULT_PANEL)
    >>> sorted(panel["state"].unique())
    ['KAZ', 'KGZ', 'TJK', 'TKM', 'UZB']
    """
    path = Path(path)
    codebook = codebook or load_codebook()
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise DataError(path, "file not found") from None
    except IsADirectoryError:
        raise DataError(path, "is a directory, expected a panel CSV file") from None
    except OSError as err:  # permissions, a name too long, ...: still the user's input
        raise DataError(path, f"cannot read: {err.strerror or err}") from None
    text = _decode(path, raw)
    body, numbers = _rows(path, text)
    frame = pd.DataFrame(body, columns=list(PANEL_COLUMNS), dtype=object).astype(str)
    return validate_cells(str(path), frame, codebook, rows=numbers)


#: columns written from numbers (the others are text)
_NUMERIC = ("value", "n", "se")


def _format_value(x: float) -> str:
    # shortest repr that round-trips: deterministic, so rebuilds are byte-identical
    text = repr(float(x))
    return text[:-2] if text.endswith(".0") else text


def _missing(value: Any) -> bool:
    # None, NaN, NaT and pandas' NA all mean "no value"
    return bool(pd.api.types.is_scalar(value) and pd.isna(value))


def _text(value: Any) -> str:
    # a missing cell is written empty (and then reported as empty), never as "nan" or "<NA>"
    return "" if _missing(value) else str(value)


def _number(value: Any) -> float:
    return np.nan if _missing(value) else float(value)


def panel_cells(panel: pd.DataFrame) -> pd.DataFrame:
    """Return the panel as the text cells written to disk, sorted by state, indicator and period.

    Examples
    --------
    >>> panel = pd.DataFrame({"state": ["KAZ"], "indicator": ["unga_agree_rus"], "period": [2019],
    ...     "value": [0.5], "n": [100.0], "source": ["UNGA"], "vintage": ["2020-06-30"]})
    >>> panel_cells(panel).iloc[0].tolist()
    ['KAZ', 'unga_agree_rus', '2019', '0.5', '100', 'UNGA', '2020-06-30', '']
    """
    out = pd.DataFrame(
        {c: [_text(v) for v in panel[c]] for c in PANEL_COLUMNS if c not in _NUMERIC},
        dtype=str,
    )
    out["value"] = [_format_value(_number(v)) for v in panel["value"]]
    # not int(n): that would truncate a bad n = 2.5 to 2 and let it pass validation
    for column in ("n", "se"):
        cells = panel[column] if column in panel else [np.nan] * len(panel)
        numbers = [_number(v) for v in cells]
        out[column] = ["" if not np.isfinite(x) else _format_value(x) for x in numbers]
    out = out.loc[:, list(PANEL_COLUMNS)]
    return out.sort_values(["state", "indicator", "period"], kind="stable").reset_index(drop=True)


def _cells_to_csv(cells: pd.DataFrame) -> str:
    buf = io.StringIO()
    cells.to_csv(buf, index=False, lineterminator="\n")
    return buf.getvalue()


def write_panel(
    panel: pd.DataFrame, path: str | Path, codebook: Codebook | None = None
) -> pd.DataFrame:
    """Validate ``panel`` and write it to ``path`` atomically; return the validated panel.

    Nothing is written when validation fails. Errors locate cells by their row in the file
    that would have been written.

    Raises
    ------
    DataError
        When a cell breaks the schema, or ``path`` cannot be written.
    """
    path = Path(path)
    codebook = codebook or load_codebook()
    cells = panel_cells(panel)
    # the cells first: the CSV writer leaves a carriage return in a cell unquoted, so a bad
    # cell must be reported before it can garble the text
    validate_cells(str(path), cells, codebook)
    text = _cells_to_csv(cells)
    # then exactly what will be written, re-read as read_panel reads it
    body, numbers = _rows(path, text)
    frame = pd.DataFrame(body, columns=list(PANEL_COLUMNS), dtype=object).astype(str)
    typed = validate_cells(str(path), frame, codebook, rows=numbers)
    try:
        write_text_atomic(path, text)
    except OSError as err:  # an unwritable place is the user's choice of --out, not a bug
        raise DataError(path, f"cannot write: {err.strerror or err}") from None
    return typed


def panel_sha256(path: str | Path) -> str:
    """SHA-256 of a panel file's bytes (recorded in every run's manifest)."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()
