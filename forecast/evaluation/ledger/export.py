"""One issue as JSON with its root hash, and checking a ledger against such a copy.

An exported issue holds every row that makes it up (the ``issue`` row, its indicator
forecasts, its scenario and question probabilities, and the scenario files they cite) and
its root hash (:func:`forecast.evaluation.ledger.chain.issue_root`). Published when the
issue is made (next to the report, say), it lets a reader check later that the ledger still
holds the issue exactly as it was published: the root depends on nothing else, so it can be
recomputed from the JSON alone, and a ledger rewritten whole, hashes and all, still fails
the comparison.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from forecast.errors import ForecastError
from forecast.evaluation.ledger.chain import Value, issue_root, issue_rows, row_digest

#: the ``format`` field of an exported issue
EXPORT_FORMAT: Final = "forecast-ledger-issue/1"

#: the tables an issue is made of, and the key of each
ISSUE_TABLES: Final = {
    "issue": "issue_id",
    "indicator_forecast": "forecast_id",
    "question_forecast": "question_id",
    "scenario_spec": "sha256",
}

Rows = Mapping[str, Sequence[Mapping[str, Value]]]


def _issue_id(conn: sqlite3.Connection, run_id: str | None) -> int:
    if run_id is None:
        row = conn.execute("SELECT issue_id FROM issue ORDER BY issue_id DESC LIMIT 1").fetchone()
        if row is None:
            raise ForecastError("the ledger holds no issue yet")
    else:
        row = conn.execute("SELECT issue_id FROM issue WHERE run_id = ?", (run_id,)).fetchone()
        if row is None:
            raise ForecastError(f"run {run_id} was never issued in this ledger")
    return int(row[0])


def export_issue(conn: sqlite3.Connection, run_id: str | None = None) -> dict[str, Any]:
    """Return one issue (by its run id; default the latest recorded) as a JSON-ready dict.

    Keys: ``format`` (:data:`EXPORT_FORMAT`), ``run_id``, ``quarter``, ``issued_at``,
    ``root`` (hex SHA-256) and ``rows`` (table -> list of rows, column -> value).
    """
    rows = issue_rows(conn, _issue_id(conn, run_id))
    issue = rows["issue"][0]
    return {
        "format": EXPORT_FORMAT,
        "run_id": issue["run_id"],
        "quarter": issue["quarter"],
        "issued_at": issue["issued_at"],
        "root": issue_root(rows),
        "rows": rows,
    }


def export_text(payload: Mapping[str, Any]) -> str:
    """Return the JSON text of an exported issue (floats in Python's shortest exact form)."""
    return json.dumps(payload, indent=1, ensure_ascii=False) + "\n"


def read_export(path: str | Path) -> dict[str, Any]:
    """Read an exported issue and check that its rows give the root hash it carries.

    Raises
    ------
    ForecastError
        One line, for a file that is missing, not JSON, not an exported issue, or whose
        rows do not give its root (the copy itself was altered).
    """
    path = Path(path)
    try:
        payload = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ForecastError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ForecastError(f"{path}: not an exported ledger issue ({err})") from None
    if not isinstance(payload, dict) or payload.get("format") != EXPORT_FORMAT:
        raise ForecastError(f"{path}: not an exported ledger issue (format {EXPORT_FORMAT})")
    rows = payload.get("rows")
    if (
        not isinstance(rows, dict)
        or not all(isinstance(rows.get(t), list) for t in ISSUE_TABLES)
        or len(rows["issue"]) != 1
        or not isinstance(payload.get("root"), str)
    ):
        raise ForecastError(f"{path}: an exported issue needs 'root' and the rows of each table")
    try:
        root = issue_root(rows)
    except (TypeError, KeyError, AttributeError) as err:
        raise ForecastError(f"{path}: malformed rows in the exported issue ({err})") from None
    if root != payload["root"]:
        raise ForecastError(
            f"{path}: its rows do not give the root hash it carries (the copy was altered): "
            f"{root} from the rows, {payload['root']} in the file"
        )
    return payload


def _first_difference(ours: Rows, theirs: Rows) -> str:
    """Name the first row (table and key) in which two versions of an issue differ."""
    for table, key in ISSUE_TABLES.items():
        mine = {row[key]: row_digest(table, row) for row in ours.get(table, ())}
        other = {row[key]: row_digest(table, row) for row in theirs.get(table, ())}
        for row_key in sorted(set(mine) | set(other), key=str):
            if row_key not in mine:
                return f"table {table}, {key} {row_key!r} is in the copy, not in the ledger"
            if row_key not in other:
                return f"table {table}, {key} {row_key!r} is in the ledger, not in the copy"
            if mine[row_key] != other[row_key]:
                return f"table {table}, {key} {row_key!r} differs"
    return "the rows differ"


@dataclass(frozen=True)
class IssueMatch:
    """An exported issue the ledger matches."""

    path: str
    run_id: str
    quarter: str
    root: str


def check_against(conn: sqlite3.Connection, ledger: str | Path, path: str | Path) -> IssueMatch:
    """Check that the ledger holds the issue exported in ``path`` exactly as exported.

    Raises
    ------
    ForecastError
        One line: the copy is not a valid export (:func:`read_export`), its issue is not in
        the ledger, or the ledger's version of it differs (naming the first differing row
        and both roots).
    """
    payload = read_export(path)
    run_id = str(payload["rows"]["issue"][0].get("run_id"))
    ours = export_issue(conn, run_id) if _has_run(conn, run_id) else None
    if ours is None:
        raise ForecastError(f"{ledger}: issue of run {run_id} ({path}) is not in the ledger")
    if ours["root"] != payload["root"]:
        where = _first_difference(ours["rows"], payload["rows"])
        raise ForecastError(
            f"{ledger}: issue of run {run_id} differs from the published copy {path}: "
            f"{where}; root {ours['root']} in the ledger, {payload['root']} in the copy"
        )
    return IssueMatch(str(path), run_id, str(ours["quarter"]), str(ours["root"]))


def _has_run(conn: sqlite3.Connection, run_id: str) -> bool:
    return conn.execute("SELECT 1 FROM issue WHERE run_id = ?", (run_id,)).fetchone() is not None
