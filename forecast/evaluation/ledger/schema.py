"""The ledger's SQLite schema, its migrations, and opening a ledger file safely.

The schema version is ``PRAGMA user_version``; :data:`MIGRATIONS` lists the scripts that
take a ledger from one version to the next, and opening a ledger applies the missing ones in
one transaction. ``PRAGMA application_id`` marks the file as a forecast ledger, so another
program's SQLite file is refused rather than written into.

Version 1 holds indicator forecasts, their outcomes and scores; version 2 adds scenario and
question probabilities (with the scenario file they were computed from, so that they can be
resolved later exactly as they were asked), their outcomes and scores. Issued forecasts,
outcomes and scores are append-only: triggers abort any ``UPDATE`` or ``DELETE`` of them, so
a new issue is always a new row. Version 3 adds the hash chains of
:mod:`forecast.evaluation.ledger.chain` (table ``row_chain``; the rows of an older ledger
are chained when it is migrated) and triggers that refuse an ``INSERT`` whose key exists
already, which is what ``INSERT OR REPLACE`` and ``REPLACE INTO`` need to rewrite a row.

Every opening verifies the ledger (:func:`verify_ledger`): ``PRAGMA integrity_check``, the
hash chains, and the schema (tables, indexes and triggers exactly as the migrations made
them), and refuses a ledger that fails with a one-line :class:`LedgerBroken`.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Final

from forecast.errors import ForecastError
from forecast.evaluation.ledger.chain import (
    ChainReport,
    first_unchained,
    seal_new_rows,
    verify_chains,
)
from forecast.evaluation.ledger.tables import V1, V2, V3
from forecast.interrupts import sigint_deferred

#: "FCST": marks an SQLite file as a forecast ledger
APPLICATION_ID: Final = 0x46435354

#: seconds a command waits for another writer before reporting the ledger as locked
BUSY_TIMEOUT: Final = 5.0


def _chain_rows(conn: sqlite3.Connection) -> None:
    """Version 3: the chain table and the REPLACE triggers, then chain the existing rows."""
    for statement in _statements(V3):
        conn.execute(statement)
    # rows recorded before version 3 are chained as they are now, in rowid order
    seal_new_rows(conn)


#: a migration: an SQL script, or a function of the connection (inside the transaction)
Migration = str | Callable[[sqlite3.Connection], None]

#: migration ``i`` takes a ledger from schema version ``i`` to ``i + 1``
MIGRATIONS: Final[tuple[Migration, ...]] = (V1, V2, _chain_rows)

#: the schema version this program writes
SCHEMA_VERSION: Final = len(MIGRATIONS)


def _error(path: Path, err: sqlite3.Error, timeout: float) -> ForecastError:
    """One-line user error for an SQLite failure on the ledger at ``path``."""
    text = str(err)
    if "locked" in text or "busy" in text:
        return ForecastError(
            f"{path}: the ledger is locked by another process (waited {timeout:g} s); "
            "try again when it has finished"
        )
    if "not a database" in text or "malformed" in text or "corrupt" in text:
        return ForecastError(f"{path}: the ledger file is corrupted or not a ledger ({text})")
    if "append-only" in text:
        return ForecastError(f"{path}: {text}")
    return ForecastError(f"{path}: ledger error: {text}")


@contextmanager
def sqlite_errors(path: Path, timeout: float | None = None) -> Iterator[None]:
    """Turn SQLite errors inside the block into one-line :class:`ForecastError`."""
    try:
        yield
    except sqlite3.DatabaseError as err:
        raise _error(path, err, BUSY_TIMEOUT if timeout is None else timeout) from None


def _migrate(conn: sqlite3.Connection, path: Path, version: int) -> None:
    if version == SCHEMA_VERSION:
        return
    conn.execute("BEGIN IMMEDIATE")
    try:
        # re-read inside the write lock: another process may have migrated meanwhile
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        for migration in MIGRATIONS[version:]:
            _apply(conn, migration)
        conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise


def _apply(conn: sqlite3.Connection, migration: Migration) -> None:
    if callable(migration):
        migration(conn)
        return
    for statement in _statements(migration):
        conn.execute(statement)


def _statements(script: str) -> list[str]:
    """Split a migration script into complete statements (triggers contain semicolons)."""
    out, current = [], ""
    for line in script.splitlines(keepends=True):
        current += line
        if sqlite3.complete_statement(current):
            out.append(current.strip())
            current = ""
    if current.strip():
        out.append(current.strip())
    return out


def open_ledger(
    path: str | Path,
    *,
    create: bool = False,
    timeout: float | None = None,
    verify: bool = True,
) -> sqlite3.Connection:
    """Open (or, with ``create``, create) a ledger, migrated to :data:`SCHEMA_VERSION`.

    The connection is in autocommit mode; write through :func:`transaction`. The file uses
    write-ahead logging and full synchronous commits, so a killed writer loses at most its
    own uncommitted transaction. ``timeout`` is how long to wait for another writer
    (default :data:`BUSY_TIMEOUT` seconds). The ledger is verified as it is opened
    (:func:`verify_ledger`; the integrity check runs before any migration), unless
    ``verify`` is false.

    Raises
    ------
    ForecastError
        One line, for a missing ledger (without ``create``), a file that is not a ledger or
        is corrupted, a ledger locked by another writer, or a ledger written by a newer
        version of this program (its schema version is higher than this one knows).
    LedgerBroken
        One line naming the first row or schema object that fails verification.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "forecast.db"
    >>> conn = open_ledger(path, create=True)
    >>> conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    True
    >>> conn.close()
    """
    path = Path(path)
    if not path.exists() and not create:
        raise ForecastError(f"{path}: no ledger here; `forecast ledger record` creates one")
    if path.is_dir():
        raise ForecastError(f"{path}: is a directory, not a ledger file")
    timeout = BUSY_TIMEOUT if timeout is None else timeout
    conn = sqlite3.connect(path, timeout=timeout, isolation_level=None)
    try:
        with sqlite_errors(path, timeout):
            version = _check_header(conn, path)
            if conn.execute("PRAGMA journal_mode = WAL").fetchone()[0].lower() != "wal":
                raise ForecastError(f"{path}: cannot switch the ledger to write-ahead logging")
            conn.execute("PRAGMA synchronous = FULL")
            conn.execute("PRAGMA foreign_keys = ON")
            if verify:
                # before migrating: a damaged ledger must not be chained as it is
                check_integrity(conn, path)
            _migrate(conn, path, version)
            if verify:
                _verify_content(conn, path)
    except BaseException:
        conn.close()
        raise
    return conn


def _check_header(conn: sqlite3.Connection, path: Path) -> int:
    """Return the ledger's schema version; refuse a foreign file or a newer schema."""
    # any read of the header fails here on a file that is not an SQLite database
    app_id = conn.execute("PRAGMA application_id").fetchone()[0]
    version = int(conn.execute("PRAGMA user_version").fetchone()[0])
    tables = conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
    if app_id not in (0, APPLICATION_ID) or (app_id == 0 and tables):
        raise ForecastError(f"{path}: an SQLite file, but not a forecast ledger")
    if version > SCHEMA_VERSION:
        raise ForecastError(
            f"{path}: ledger schema version {version} is newer than this program's "
            f"({SCHEMA_VERSION}); upgrade forecast to use it"
        )
    return version


def read_ledger(
    path: str | Path, *, timeout: float | None = None, verify: bool = True
) -> sqlite3.Connection:
    """Open an existing ledger read-only: it is never created, migrated or written.

    For readers such as the quarterly report. A ledger at an older schema version is
    refused (any ``forecast ledger`` command migrates it); the ledger is verified
    (:func:`verify_ledger`) unless ``verify`` is false; see :func:`open_ledger` for the
    errors.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "forecast.db"
    >>> open_ledger(path, create=True).close()
    >>> conn = read_ledger(path)
    >>> conn.execute("SELECT count(*) FROM issue").fetchone()[0]
    0
    >>> conn.close()
    """
    path = Path(path)
    if not path.is_file():
        raise ForecastError(f"{path}: no ledger here; `forecast ledger record` creates one")
    timeout = BUSY_TIMEOUT if timeout is None else timeout
    uri = f"{path.resolve().as_uri()}?mode=ro"
    conn = sqlite3.connect(uri, uri=True, timeout=timeout, isolation_level=None)
    try:
        with sqlite_errors(path, timeout):
            version = _check_header(conn, path)
            if version < SCHEMA_VERSION:
                raise ForecastError(
                    f"{path}: ledger schema version {version} is older than this program's "
                    f"({SCHEMA_VERSION}); `forecast ledger show --ledger {path}` migrates it"
                )
            if verify:
                verify_ledger(conn, path)
    except BaseException:
        conn.close()
        raise
    return conn


def empty_ledger() -> sqlite3.Connection:
    """Return an in-memory ledger with the current schema and no rows.

    Readers use it for a ledger file that does not exist yet, so that an empty record has
    the same tables and columns as a full one.

    Examples
    --------
    >>> conn = empty_ledger()
    >>> conn.execute("SELECT count(*) FROM issue").fetchone()[0]
    0
    """
    conn = sqlite3.connect(":memory:", isolation_level=None)
    for migration in MIGRATIONS:
        _apply(conn, migration)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
    return conn


@contextmanager
def transaction(conn: sqlite3.Connection, path: str | Path) -> Iterator[sqlite3.Connection]:
    """One write transaction (``BEGIN IMMEDIATE``): committed whole or not at all.

    The rows the transaction adds are chained (:func:`~forecast.evaluation.ledger.chain.
    seal_new_rows`) just before it commits. It starts by refusing a ledger that holds rows
    without a chain entry, so that rows written by another program since the ledger was
    verified are never chained as if this program had written them.
    """
    path = Path(path)
    with sqlite_errors(path):
        conn.execute("BEGIN IMMEDIATE")
    try:
        with sqlite_errors(path):
            unchained = first_unchained(conn)
            if unchained is not None:
                raise LedgerBroken(path, str(unchained))
            yield conn
            seal_new_rows(conn)
            # Ctrl-C is held over the commit, so that its line can say the write was kept
            with sigint_deferred(kept=f"the write to {path} was committed"):
                conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise


def check_integrity(conn: sqlite3.Connection, path: str | Path) -> None:
    """Raise a one-line error unless ``PRAGMA integrity_check`` reports ``ok``."""
    with sqlite_errors(Path(path)):
        result = conn.execute("PRAGMA integrity_check").fetchall()
    if [tuple(r) for r in result] != [("ok",)]:
        # the first line is often only "*** in database main ***": show two
        found = "; ".join(str(r[0]) for r in result[:2])
        raise LedgerBroken(path, f"PRAGMA integrity_check failed ({found})")


class LedgerBroken(ForecastError):
    """A ledger that fails verification: corrupted, changed, or its schema altered."""

    def __init__(self, path: str | Path, problem: str) -> None:
        self.path = str(path)
        self.problem = problem
        super().__init__(f"{path}: the ledger does not verify: {problem}; refusing to use it")


def schema_problem(conn: sqlite3.Connection) -> str | None:
    """Name what differs between the ledger's tables, indexes and triggers and the migrations'.

    ``None`` when they are the same. SQLite's own objects (``sqlite_*``, e.g. the statistics
    ``ANALYZE`` writes) are not compared.
    """
    query = "SELECT name, type, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite%'"
    expected_conn = empty_ledger()
    try:
        expected = {name: (kind, sql) for name, kind, sql in expected_conn.execute(query)}
    finally:
        expected_conn.close()
    actual = {name: (kind, sql) for name, kind, sql in conn.execute(query)}
    for name, (kind, sql) in sorted(expected.items()):
        if name not in actual:
            return f"{kind} {name} is missing (dropped)"
        if actual[name] != (kind, sql):
            return f"{kind} {name} was altered"
    for name in sorted(set(actual) - set(expected)):
        return f"unexpected {actual[name][0]} {name} (not made by forecast)"
    return None


def _verify_content(conn: sqlite3.Connection, path: Path) -> ChainReport:
    report = verify_chains(conn)
    if report.broken is not None:
        raise LedgerBroken(path, str(report.broken))
    problem = schema_problem(conn)
    if problem is not None:
        raise LedgerBroken(path, problem)
    return report


def verify_ledger(conn: sqlite3.Connection, path: str | Path) -> ChainReport:
    """Verify a ledger: integrity check, hash chains, schema; return the chains' heads.

    Raises
    ------
    LedgerBroken
        One line naming the first problem: the integrity check's first finding, the first
        row (table and key) whose hash chain breaks, or the first table, index or trigger
        missing, altered or added.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "forecast.db"
    >>> conn = open_ledger(path, create=True)
    >>> verify_ledger(conn, path).rows["issue"]
    0
    >>> conn.close()
    """
    path = Path(path)
    check_integrity(conn, path)
    with sqlite_errors(path):
        return _verify_content(conn, path)
