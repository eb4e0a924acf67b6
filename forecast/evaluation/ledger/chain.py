"""The ledger's hash chains: every row's canonical encoding, chained per table.

Triggers stop honest mistakes (an ``UPDATE``, a ``DELETE``, a ``REPLACE``), but anyone who can
write the file can drop a trigger. The hash chains make such a change *visible*: every row of
every ledger table has an entry in ``row_chain`` whose hash covers the row's content and the
hash of the table's previous row, so changing, removing or slipping in a row breaks the chain
from that row on, and :func:`verify_chains` names the first row that breaks.

Canonical encoding (stable, so that anyone can recompute it without this program):

- a row is the JSON text ``[table, [[column, type, value], ...]]`` with the columns sorted by
  name, ``type`` the SQLite storage class of the value (``null``, ``integer``, ``real``,
  ``text``, ``blob``) and ``value`` ``null``, the integer, the real as ``float.hex`` (exact,
  e.g. ``"0x1.3333333333333p-2"`` for 0.3), the text, or the blob in lower-case hex; written
  with Python's ``json.dumps(..., ensure_ascii=True, separators=(",", ":"))``, i.e. ASCII
  without spaces;
- its **digest** is the SHA-256 of those bytes;
- a table's chain starts from ``SHA-256("forecast-ledger/1 " + table)`` and each row's
  **link** is ``SHA-256(previous link || digest)`` (32 raw bytes each), in the order the rows
  were recorded (``row_chain.seq``); ``row_chain.hash`` stores the link in hex;
- an issue's **root** is the SHA-256 of the concatenated digests of its rows: the ``issue``
  row, its ``indicator_forecast`` rows by ``forecast_id``, its ``question_forecast`` rows by
  ``question_id``, and the ``scenario_spec`` rows they cite by ``sha256``
  (:func:`issue_root`). It depends on the issue's content only, so an exported issue can be
  checked against a published copy.

A chain proves that nothing changed *after* a row was chained; rows that existed when an
older ledger was migrated were chained at migration time, as they were then.
"""

from __future__ import annotations

import hashlib
import json
import numbers
import sqlite3
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Final

#: every append-only table and the column that identifies its rows (its primary key)
CHAINED: Final = {
    "issue": "issue_id",
    "indicator_forecast": "forecast_id",
    "outcome": "outcome_id",
    "indicator_score": "forecast_id",
    "scenario_spec": "sha256",
    "question_forecast": "question_id",
    "question_outcome": "question_id",
    "question_score": "question_id",
}

#: the table that holds each row's link
CHAIN_TABLE: Final = "row_chain"

#: prefix of each table's first link (the version names this encoding)
GENESIS_PREFIX: Final = "forecast-ledger/1 "

Value = int | float | str | bytes | None


def _field(name: str, value: Value) -> tuple[str, str, object]:
    # exact type checks first: this runs for every value of every row at each verification
    kind = type(value)
    if kind is float:
        return (name, "real", value.hex())  # type: ignore[union-attr]
    if kind is str:
        return (name, "text", value)
    if kind is int:
        return (name, "integer", value)
    if value is None:
        return (name, "null", None)
    # sqlite3 stores a bool as an integer: encode what it stores (NumPy scalars likewise)
    if isinstance(value, numbers.Integral):
        return (name, "integer", int(value))
    if isinstance(value, numbers.Real):
        return (name, "real", float(value).hex())
    if isinstance(value, str):
        return (name, "text", str(value))
    if isinstance(value, bytes):
        return (name, "blob", value.hex())
    raise TypeError(f"cannot encode a {type(value).__name__} ledger value")


_ENCODER = json.JSONEncoder(ensure_ascii=True, separators=(",", ":"))


def canonical_row(table: str, row: Mapping[str, Value]) -> bytes:
    """Return the canonical encoding of one row (see the module docstring).

    Examples
    --------
    >>> canonical_row("outcome", {"value": 0.5, "state": "KAZ", "outcome_id": 1})
    b'["outcome",[["outcome_id","integer",1],["state","text","KAZ"],["value","real","0x1.0000000000000p-1"]]]'
    """
    fields = [_field(name, row[name]) for name in sorted(row)]
    return _ENCODER.encode([table, fields]).encode("ascii")


def row_digest(table: str, row: Mapping[str, Value]) -> bytes:
    """SHA-256 of :func:`canonical_row` (32 bytes)."""
    return hashlib.sha256(canonical_row(table, row)).digest()


def genesis(table: str) -> bytes:
    """Return the link a table's chain starts from.

    Examples
    --------
    >>> genesis("issue").hex()[:16]
    '02738146a4b06953'
    """
    return hashlib.sha256((GENESIS_PREFIX + table).encode("ascii")).digest()


def next_link(previous: bytes, digest: bytes) -> bytes:
    """Return a row's link: SHA-256 of the previous link followed by the row's digest."""
    return hashlib.sha256(previous + digest).digest()


def _rows(
    conn: sqlite3.Connection, sql: str, params: Sequence[object] = ()
) -> Iterable[dict[str, Value]]:
    cur = conn.execute(sql, params)
    names = [d[0] for d in cur.description]
    for values in cur:
        yield dict(zip(names, values, strict=True))


def _head(conn: sqlite3.Connection, table: str) -> bytes:
    row = conn.execute(
        f"SELECT hash FROM {CHAIN_TABLE} WHERE tbl = ? ORDER BY seq DESC LIMIT 1", (table,)
    ).fetchone()
    return genesis(table) if row is None else bytes.fromhex(row[0])


def seal_new_rows(conn: sqlite3.Connection) -> int:
    """Chain every row not chained yet; return how many (call inside the write transaction).

    Only the writer's own new rows are unchained at this point: a transaction starts by
    refusing a ledger with unchained rows (:func:`first_unchained`), so rows slipped in by
    another program are never vouched for by this one.
    """
    count = 0
    for table, key in CHAINED.items():
        rows = list(
            _rows(
                conn,
                f"SELECT * FROM {table} WHERE {key} NOT IN "
                f"(SELECT row_key FROM {CHAIN_TABLE} WHERE tbl = ?) ORDER BY rowid",
                (table,),
            )
        )
        if not rows:
            continue
        link = _head(conn, table)
        entries = []
        for row in rows:
            link = next_link(link, row_digest(table, row))
            entries.append((table, row[key], link.hex()))
        conn.executemany(
            f"INSERT INTO {CHAIN_TABLE} (tbl, row_key, hash) VALUES (?, ?, ?)", entries
        )
        count += len(entries)
    return count


@dataclass(frozen=True)
class ChainBreak:
    """The first row at which a ledger's hash chains break."""

    table: str
    key_column: str
    key: Value
    problem: str

    def __str__(self) -> str:
        return f"table {self.table}, {self.key_column} {self.key!r}: {self.problem}"


def first_unchained(conn: sqlite3.Connection) -> ChainBreak | None:
    """Return the first row without a chain entry (cheap: compares row counts first)."""
    for table, key in CHAINED.items():
        rows = conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
        chained = conn.execute(
            f"SELECT count(*) FROM {CHAIN_TABLE} WHERE tbl = ?", (table,)
        ).fetchone()[0]
        if rows == chained:
            continue
        row = conn.execute(
            f"SELECT {key} FROM {table} WHERE {key} NOT IN "
            f"(SELECT row_key FROM {CHAIN_TABLE} WHERE tbl = ?) ORDER BY rowid LIMIT 1",
            (table,),
        ).fetchone()
        if row is not None:
            return ChainBreak(table, key, row[0], _UNCHAINED)
        return verify_chains(conn).broken  # a chain entry without its row
    return None


_UNCHAINED = "not in the hash chain (written by another program, not by forecast)"


@dataclass(frozen=True)
class ChainReport:
    """What :func:`verify_chains` found: row counts and heads per table, or the first break."""

    rows: dict[str, int]
    heads: dict[str, str]
    broken: ChainBreak | None

    @property
    def ledger_head(self) -> str:
        """SHA-256 of the table heads in :data:`CHAINED` order: one value for the whole ledger."""
        joined = b"".join(bytes.fromhex(self.heads[t]) for t in CHAINED if t in self.heads)
        return hashlib.sha256(joined).hexdigest()


def verify_chains(conn: sqlite3.Connection) -> ChainReport:
    """Recompute every table's chain from its rows; report the first row that breaks.

    A row breaks the chain when its content no longer gives its stored link (changed after
    it was recorded, or the chain entry was), when its chain entry names a row that is gone
    (deleted), or when it has no chain entry (written outside this program).
    """
    counts: dict[str, int] = {}
    heads: dict[str, str] = {}
    for table, key in CHAINED.items():
        rows = {row[key]: row for row in _rows(conn, f"SELECT * FROM {table} ORDER BY rowid")}
        link = genesis(table)
        chained = set()
        entries = conn.execute(
            f"SELECT row_key, hash FROM {CHAIN_TABLE} WHERE tbl = ? ORDER BY seq", (table,)
        )
        for row_key, stored in entries:
            row = rows.get(row_key)
            if row is None:
                problem = "in the hash chain but missing from the table (deleted)"
                return ChainReport(counts, heads, ChainBreak(table, key, row_key, problem))
            link = next_link(link, row_digest(table, row))
            if link.hex() != stored:
                problem = "content does not match the hash chain (changed after it was recorded)"
                return ChainReport(counts, heads, ChainBreak(table, key, row_key, problem))
            chained.add(row_key)
        for row_key in rows:
            if row_key not in chained:
                return ChainReport(counts, heads, ChainBreak(table, key, row_key, _UNCHAINED))
        counts[table] = len(rows)
        heads[table] = link.hex()
    return ChainReport(counts, heads, None)


def issue_root(rows: Mapping[str, Sequence[Mapping[str, Value]]]) -> str:
    """Root hash of one issue from its rows by table (see the module docstring).

    ``rows`` maps ``issue``, ``indicator_forecast``, ``question_forecast`` and
    ``scenario_spec`` to lists of rows (column -> value); they are put in canonical order
    here, so the order given does not matter.
    """
    order = {
        "issue": "issue_id",
        "indicator_forecast": "forecast_id",
        "question_forecast": "question_id",
        "scenario_spec": "sha256",
    }
    digests: list[bytes] = []
    for table, key in order.items():
        ordered = sorted(rows.get(table, ()), key=lambda row: _order(row[key]))
        digests.extend(row_digest(table, row) for row in ordered)
    return hashlib.sha256(b"".join(digests)).hexdigest()


def _order(value: Value) -> tuple[int, str]:
    """Sort key of a row key: integers by value, text by text."""
    return (value, "") if isinstance(value, int) else (0, str(value))


def issue_rows(conn: sqlite3.Connection, issue_id: int) -> dict[str, list[dict[str, Value]]]:
    """Every row that makes up one issue, by table (what :func:`issue_root` hashes)."""
    questions = list(
        _rows(
            conn,
            "SELECT * FROM question_forecast WHERE issue_id = ? ORDER BY question_id",
            (issue_id,),
        )
    )
    specs = sorted({str(q["spec_sha256"]) for q in questions})
    return {
        "issue": list(_rows(conn, "SELECT * FROM issue WHERE issue_id = ?", (issue_id,))),
        "indicator_forecast": list(
            _rows(
                conn,
                "SELECT * FROM indicator_forecast WHERE issue_id = ? ORDER BY forecast_id",
                (issue_id,),
            )
        ),
        "question_forecast": questions,
        "scenario_spec": [
            row
            for sha in specs
            for row in _rows(conn, "SELECT * FROM scenario_spec WHERE sha256 = ?", (sha,))
        ],
    }
