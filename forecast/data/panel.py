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

import numpy as np
import pandas as pd

from forecast.atomic import write_text_atomic
from forecast.data.codebook import Codebook, load_codebook
from forecast.data.validate import check_columns, validate_cells
from forecast.dims import PANEL_COLUMNS
from forecast.errors import DataError

#: the bundled panel
DEFAULT_PANEL = Path(__file__).resolve().parents[2] / "data" / "panel.csv"


def _decode(path: Path, raw: bytes) -> str:
    if not raw.strip():
        raise DataError(path, "empty file: expected a header row and data rows", row=1)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as err:
        row = raw[: err.start].count(b"\n") + 1
        raise DataError(
            path, f"not UTF-8 encoded (byte 0x{raw[err.start]:02x}): save the file as UTF-8", row=row
        ) from None
    return text.removeprefix("\ufeff")


def _rows(path: Path, text: str) -> tuple[list[list[str]], list[int]]:
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        records = [r for r in reader]
    except csv.Error as err:
        raise DataError(path, f"malformed CSV ({err})", row=reader.line_num) from None
    header = [h.strip() for h in records[0]]
    check_columns(str(path), header)
    body: list[list[str]] = []
    numbers: list[int] = []
    for i, rec in enumerate(records[1:], start=2):
        if not rec:  # a blank line is not a record
            continue
        if len(rec) != len(PANEL_COLUMNS):
            raise DataError(
                path,
                f"{len(rec)} fields where the header has {len(PANEL_COLUMNS)}: check the delimiter "
                "(commas) and quoting",
                row=i,
            )
        body.append(rec)
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
    text = _decode(path, raw)
    body, numbers = _rows(path, text)
    frame = pd.DataFrame(body, columns=list(PANEL_COLUMNS), dtype=object).astype(str)
    return validate_cells(str(path), frame, codebook, rows=numbers)


def _format_value(x: float) -> str:
    # shortest repr that round-trips: deterministic, so rebuilds are byte-identical
    text = repr(float(x))
    return text[:-2] if text.endswith(".0") else text


def panel_to_csv(panel: pd.DataFrame) -> str:
    """Serialise a typed panel to CSV text, sorted by state, indicator and period."""
    out = panel.loc[:, list(PANEL_COLUMNS)].copy()
    out = out.sort_values(["state", "indicator", "period"], kind="stable").reset_index(drop=True)
    out["value"] = [_format_value(v) for v in out["value"]]
    out["n"] = ["" if not np.isfinite(n) else str(int(n)) for n in out["n"].astype(float)]
    buf = io.StringIO()
    out.to_csv(buf, index=False, lineterminator="\n")
    return buf.getvalue()


def write_panel(
    panel: pd.DataFrame, path: str | Path, codebook: Codebook | None = None
) -> pd.DataFrame:
    """Validate ``panel`` and write it to ``path`` atomically; return the validated panel.

    Nothing is written when validation fails.
    """
    codebook = codebook or load_codebook()
    text = panel_to_csv(panel)
    # validate exactly what will be written, by re-reading the serialised text
    records = list(csv.reader(io.StringIO(text)))
    frame = pd.DataFrame(records[1:], columns=records[0], dtype=object).astype(str)
    typed = validate_cells(str(path), frame, codebook)
    write_text_atomic(path, text)
    return typed


def panel_sha256(path: str | Path) -> str:
    """SHA-256 of a panel file's bytes (recorded in every run's manifest)."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()
