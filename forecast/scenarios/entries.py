"""Validation helpers shared by the scenario and what-if TOML files.

Both files are lists of entries (``[[partition]]``, ``[[question]]``, ``[[whatif]]``) with an
``id`` each; errors name the file and the entry by its id (by its position while the id is
not known yet), e.g. ``models/scenarios.toml, key question.kaz_trade.rule: ...``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from forecast.errors import SpecError
from forecast.periods import parse_period
from forecast.scenarios.syntax import YEAR_RANGE, is_period
from forecast.tomlfile import expect_type

_ID = re.compile(r"[a-z][a-z0-9_]{0,63}")


def array_of_tables(path: Path, raw: dict[str, Any], key: str) -> list[dict[str, Any]]:
    """Return ``raw[key]`` checked to be an array of tables (missing = empty).

    Examples
    --------
    >>> array_of_tables(Path("s.toml"), {"question": [{"id": "a"}]}, "question")
    [{'id': 'a'}]
    >>> array_of_tables(Path("s.toml"), {"question": 3}, "question")
    Traceback (most recent call last):
    ...
    forecast.errors.SpecError: s.toml, key question: expected an array of tables ([[question]])
    """
    value = raw.get(key, [])
    if not isinstance(value, list) or not all(isinstance(t, dict) for t in value):
        raise SpecError(path, f"expected an array of tables ([[{key}]])", key=key)
    return value


def entry_id(path: Path, table: dict[str, Any], where: str) -> str:
    """Return the entry's ``id``: lower-case letters, digits and underscores."""
    if "id" not in table:
        raise SpecError(path, "missing required key", key=f"{where}.id")
    value = expect_type(path, f"{where}.id", table["id"], str)
    if not _ID.fullmatch(value):
        raise SpecError(
            path,
            f"id {value!r} must be lower-case letters, digits and underscores, "
            "starting with a letter",
            key=f"{where}.id",
        )
    return value


def text(
    path: Path, table: dict[str, Any], key: str, where: str, *, default: str | None = None
) -> str:
    """Return a non-empty string field (or ``default`` when it is absent and one is given)."""
    if key not in table and default is not None:
        return default
    value = expect_type(path, f"{where}.{key}", table.get(key), str)
    if not value.strip():
        raise SpecError(path, "must not be empty", key=f"{where}.{key}")
    return value


def period_field(path: Path, table: dict[str, Any], key: str, where: str) -> str:
    """Return a period field (``2030``, ``2030Q2`` or ``2030-05``)."""
    value = expect_type(path, f"{where}.{key}", table.get(key), str)
    if not is_period(value):
        raise SpecError(
            path,
            f"{value!r} is not a period (2030, 2030Q2 or 2030-05, years {YEAR_RANGE[0]} to "
            f"{YEAR_RANGE[1]})",
            key=f"{where}.{key}",
        )
    return value


def check_unique(path: Path, ids: Iterable[tuple[str, str]]) -> None:
    """Refuse an id used twice; ``ids`` are ``(id, where)`` pairs."""
    seen: set[str] = set()
    for value, where in ids:
        if value in seen:
            raise SpecError(path, f"duplicate id {value!r}", key=where)
        seen.add(value)


def latest_period(periods: Iterable[str]) -> str:
    """Return the period that ends last.

    Examples
    --------
    >>> latest_period(["2025", "2030Q2", "2029"])
    '2030Q2'
    """
    return max(periods, key=lambda p: parse_period(p).end_time)
