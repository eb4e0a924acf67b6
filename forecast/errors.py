"""User-facing errors.

A :class:`ForecastError` is a problem with the user's input (a file, a spec, an argument):
the command-line interface prints its message on one line and exits with status 1, without a
traceback. Anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

from pathlib import Path


class ForecastError(Exception):
    """An error caused by user input, reported on one line."""

    def __str__(self) -> str:
        # one line, whatever the message held
        return " ".join(super().__str__().split())


class DataError(ForecastError):
    """A problem with a data file, located by file, row and column where known.

    Parameters
    ----------
    path
        The file concerned.
    message
        What was wrong and what was expected.
    row
        1-based row number as a spreadsheet shows it (the header is row 1).
    column
        Column name.

    Examples
    --------
    >>> str(DataError("panel.csv", "expected a number", row=3, column="value"))
    'panel.csv, row 3, column value: expected a number'
    """

    def __init__(
        self,
        path: str | Path,
        message: str,
        *,
        row: int | None = None,
        column: str | None = None,
    ) -> None:
        self.path = str(path)
        self.row = row
        self.column = column
        self.message = message
        where = [self.path]
        if row is not None:
            where.append(f"row {row}")
        if column is not None:
            where.append(f"column {column}")
        super().__init__(f"{', '.join(where)}: {message}")


class SpecError(ForecastError):
    """A problem with a TOML spec (model, scenarios, what-ifs, codebook), naming file and key.

    Examples
    --------
    >>> str(SpecError("models/alignment.toml", "must be positive", key="dynamics.sigma_scale"))
    'models/alignment.toml, key dynamics.sigma_scale: must be positive'
    """

    def __init__(self, path: str | Path, message: str, *, key: str | None = None) -> None:
        self.path = str(path)
        self.key = key
        where = f"{path}, key {key}" if key else str(path)
        super().__init__(f"{where}: {message}")
