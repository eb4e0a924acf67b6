"""Checks of the tidy tables the plots read: the columns they need, and some rows."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd


def check_columns(table: pd.DataFrame, columns: Sequence[str], what: str) -> None:
    """Raise ``ValueError`` unless ``table`` has ``columns`` and at least one row.

    Examples
    --------
    >>> check_columns(pd.DataFrame({"a": [1]}), ("a", "b"), "skill")
    Traceback (most recent call last):
    ...
    ValueError: the skill table lacks the columns ['b'] (expected ('a', 'b'))
    """
    missing = [c for c in columns if c not in table.columns]
    if missing:
        raise ValueError(
            f"the {what} table lacks the columns {missing} (expected {tuple(columns)})"
        )
    if table.empty:
        raise ValueError(f"the {what} table is empty")
