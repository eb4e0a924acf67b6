"""The SQL of each ledger schema version: tables, indexes and triggers.

:mod:`forecast.evaluation.ledger.schema` applies them in order (its ``MIGRATIONS``). Version 1:
indicator forecasts, outcomes and scores; version 2: scenario and question probabilities with
their scenario file, outcomes and scores; version 3: the hash chain table of
:mod:`forecast.evaluation.ledger.chain` and triggers refusing a row whose key exists already.
Every table is append-only: triggers abort ``UPDATE``, ``DELETE`` and ``REPLACE``.
"""

from __future__ import annotations

from typing import Final

from forecast.evaluation.ledger.chain import CHAIN_TABLE


def _append_only(table: str) -> str:
    return f"""
CREATE TRIGGER {table}_no_update BEFORE UPDATE ON {table}
BEGIN SELECT RAISE(ABORT, '{table} rows are append-only'); END;
CREATE TRIGGER {table}_no_delete BEFORE DELETE ON {table}
BEGIN SELECT RAISE(ABORT, '{table} rows are append-only'); END;
"""


V1 = (
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

V2 = """
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

#: the keys (primary and unique) of every append-only table
UNIQUE_KEYS: Final = {
    "issue": (("issue_id",), ("run_id",)),
    "indicator_forecast": (("forecast_id",), ("issue_id", "state", "indicator", "period")),
    "outcome": (("outcome_id",), ("state", "indicator", "period")),
    "indicator_score": (("forecast_id",),),
    "scenario_spec": (("sha256",),),
    "question_forecast": (("question_id",), ("issue_id", "kind", "name")),
    "question_outcome": (("question_id",),),
    "question_score": (("question_id",),),
    CHAIN_TABLE: (("seq",), ("tbl", "row_key")),
}


def _no_replace(table: str, keys: tuple[tuple[str, ...], ...]) -> str:
    # REPLACE deletes the conflicting row without firing delete triggers (unless the
    # connection turned recursive_triggers on, which another program's need not), so the
    # insert itself is refused, before SQLite resolves the conflict, in every connection
    match = " OR ".join(
        "(" + " AND ".join(f"{column} = NEW.{column}" for column in key) + ")" for key in keys
    )
    return f"""
CREATE TRIGGER {table}_no_replace BEFORE INSERT ON {table}
WHEN EXISTS (SELECT 1 FROM {table} WHERE {match})
BEGIN SELECT RAISE(ABORT, '{table} rows are append-only: a row with this key exists'); END;
"""


V3 = (
    f"""
CREATE TABLE {CHAIN_TABLE} (
    seq INTEGER PRIMARY KEY,
    tbl TEXT NOT NULL,
    -- the row's primary key, integer or text as the table's
    row_key NOT NULL,
    -- hex SHA-256 link: see forecast.evaluation.ledger.chain
    hash TEXT NOT NULL,
    UNIQUE (tbl, row_key)
);
CREATE INDEX {CHAIN_TABLE}_order ON {CHAIN_TABLE} (tbl, seq);
"""
    + _append_only(CHAIN_TABLE)
    + "".join(_no_replace(table, keys) for table, keys in UNIQUE_KEYS.items())
)
