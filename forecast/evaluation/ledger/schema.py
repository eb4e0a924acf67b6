"""The ledger's SQLite schema, its migrations, and opening a ledger file safely.

The schema version is ``PRAGMA user_version``; :data:`MIGRATIONS` lists the scripts that
take a ledger from one version to the next, and opening a ledger applies the missing ones in
one transaction. ``PRAGMA application_id`` marks the file as a forecast ledger, so another
program's SQLite file is refused rather than written into.

Version 1 holds indicator forecasts, their outcomes and scores; version 2 adds scenario and
question probabilities (with the scenario file they were computed from, so that they can be
resolved later exactly as they were asked), their outcomes and scores. Issued forecasts,
outcomes and scores are append-only: triggers abort any ``UPDATE`` or ``DELETE`` of them, so
a new issue is always a new row.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Final

from forecast.errors import ForecastError

#: "FCST": marks an SQLite file as a forecast ledger
APPLICATION_ID: Final = 0x46435354

#: seconds a command waits for another writer before reporting the ledger as locked
BUSY_TIMEOUT: Final = 5.0


def _append_only(table: str) -> str:
    return f"""
CREATE TRIGGER {table}_no_update BEFORE UPDATE ON {table}
BEGIN SELECT RAISE(ABORT, '{table} rows are append-only'); END;
CREATE TRIGGER {table}_no_delete BEFORE DELETE ON {table}
BEGIN SELECT RAISE(ABORT, '{table} rows are append-only'); END;
"""


_V1 = (
    """
CREATE TABLE issue (
    issue_id INTEGER PRIMARY KEY,
    run_id TEXT NOT NULL UNIQUE,
    quarter TEXT NOT NULL,
    issued_at TEXT NOT NULL,
    data_sha256 TEXT NOT NULL,
    spec_sha256 TEXT NOT NULL,
    method TEXT NOT NULL,
    approximate INTEGER NOT NULL,
    converged INTEGER NOT NULL,
    random_seed INTEGER NOT NULL,
    last_fitted TEXT NOT NULL,
    until TEXT NOT NULL,
    draws INTEGER NOT NULL
);
CREATE TABLE indicator_forecast (
    forecast_id INTEGER PRIMARY KEY,
    issue_id INTEGER NOT NULL REFERENCES issue (issue_id),
    state TEXT NOT NULL,
    indicator TEXT NOT NULL,
    period TEXT NOT NULL,
    horizon INTEGER NOT NULL,
    mean REAL NOT NULL,
    sd REAL NOT NULL,
    median REAL NOT NULL,
    lower_50 REAL NOT NULL,
    upper_50 REAL NOT NULL,
    lower_80 REAL NOT NULL,
    upper_80 REAL NOT NULL,
    lower_90 REAL NOT NULL,
    upper_90 REAL NOT NULL,
    lower_95 REAL NOT NULL,
    upper_95 REAL NOT NULL,
    -- JSON array: the forecast's quantiles at levels (k - 0.5) / K, k = 1..K
    ensemble TEXT NOT NULL,
    UNIQUE (issue_id, state, indicator, period)
);
CREATE INDEX indicator_forecast_cell ON indicator_forecast (state, indicator, period);
CREATE TABLE outcome (
    outcome_id INTEGER PRIMARY KEY,
    state TEXT NOT NULL,
    indicator TEXT NOT NULL,
    period TEXT NOT NULL,
    value REAL NOT NULL,
    vintage TEXT NOT NULL,
    source TEXT NOT NULL,
    data_sha256 TEXT NOT NULL,
    resolved_at TEXT NOT NULL,
    UNIQUE (state, indicator, period)
);
CREATE TABLE indicator_score (
    forecast_id INTEGER PRIMARY KEY REFERENCES indicator_forecast (forecast_id),
    outcome_id INTEGER NOT NULL REFERENCES outcome (outcome_id),
    crps REAL NOT NULL,
    pit REAL NOT NULL,
    interval_50 REAL NOT NULL,
    interval_80 REAL NOT NULL,
    interval_90 REAL NOT NULL,
    interval_95 REAL NOT NULL,
    covered_50 INTEGER NOT NULL,
    covered_80 INTEGER NOT NULL,
    covered_90 INTEGER NOT NULL,
    covered_95 INTEGER NOT NULL,
    scored_at TEXT NOT NULL
);
"""
    + "".join(_append_only(t) for t in ("issue", "indicator_forecast", "outcome"))
    + _append_only("indicator_score")
)

_V2 = """
CREATE TABLE scenario_spec (
    sha256 TEXT PRIMARY KEY,
    path TEXT NOT NULL,
    text TEXT NOT NULL
);
CREATE TABLE question_forecast (
    question_id INTEGER PRIMARY KEY,
    issue_id INTEGER NOT NULL REFERENCES issue (issue_id),
    spec_sha256 TEXT NOT NULL REFERENCES scenario_spec (sha256),
    kind TEXT NOT NULL,
    name TEXT NOT NULL,
    partition TEXT NOT NULL,
    period TEXT NOT NULL,
    resolves_on TEXT NOT NULL,
    title TEXT NOT NULL,
    rule TEXT NOT NULL,
    probability REAL NOT NULL,
    mcse REAL NOT NULL,
    UNIQUE (issue_id, kind, name)
);
CREATE TABLE question_outcome (
    question_id INTEGER PRIMARY KEY REFERENCES question_forecast (question_id),
    happened INTEGER NOT NULL,
    data_sha256 TEXT NOT NULL,
    resolved_at TEXT NOT NULL
);
CREATE TABLE question_score (
    question_id INTEGER PRIMARY KEY REFERENCES question_forecast (question_id),
    brier REAL NOT NULL,
    log_score REAL NOT NULL,
    scored_at TEXT NOT NULL
);
""" + "".join(
    _append_only(t)
    for t in ("scenario_spec", "question_forecast", "question_outcome", "question_score")
)

#: migration ``i`` takes a ledger from schema version ``i`` to ``i + 1``
MIGRATIONS: Final = (_V1, _V2)

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
        for script in MIGRATIONS[version:]:
            for statement in _statements(script):
                conn.execute(statement)
        conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise


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
    path: str | Path, *, create: bool = False, timeout: float | None = None
) -> sqlite3.Connection:
    """Open (or, with ``create``, create) a ledger, migrated to :data:`SCHEMA_VERSION`.

    The connection is in autocommit mode; write through :func:`transaction`. The file uses
    write-ahead logging and full synchronous commits, so a killed writer loses at most its
    own uncommitted transaction. ``timeout`` is how long to wait for another writer
    (default :data:`BUSY_TIMEOUT` seconds).

    Raises
    ------
    ForecastError
        One line, for a missing ledger (without ``create``), a file that is not a ledger or
        is corrupted, a ledger locked by another writer, or a ledger written by a newer
        version of this program (its schema version is higher than this one knows).

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
            _migrate(conn, path, version)
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


def read_ledger(path: str | Path, *, timeout: float | None = None) -> sqlite3.Connection:
    """Open an existing ledger read-only: it is never created, migrated or written.

    For readers such as the quarterly report. A ledger at an older schema version is
    refused (any ``forecast ledger`` command migrates it); see :func:`open_ledger` for the
    other errors.

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
    for script in MIGRATIONS:
        for statement in _statements(script):
            conn.execute(statement)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
    return conn


@contextmanager
def transaction(conn: sqlite3.Connection, path: str | Path) -> Iterator[sqlite3.Connection]:
    """One write transaction (``BEGIN IMMEDIATE``): committed whole or not at all."""
    path = Path(path)
    with sqlite_errors(path):
        conn.execute("BEGIN IMMEDIATE")
    try:
        with sqlite_errors(path):
            yield conn
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
        raise ForecastError(f"{path}: the ledger failed its integrity check ({result[0][0]})")
