"""Resolving issued forecasts: recording the outcomes a panel now settles.

An outcome is the panel's value of a forecast cell (state, indicator, period). It is stored
once, with the panel's vintage, source and hash, the first time a panel settles it; a later
panel that revises the value is reported, never written over (every forecast is scored
against the value first published, as it would have been at the time).
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from forecast.dims import INDICATOR, PERIOD, STATE
from forecast.evaluation.ledger.schema import transaction
from forecast.evaluation.ledger.store import now

_CELL = [STATE, INDICATOR, PERIOD]


@dataclass(frozen=True)
class Resolution:
    """What ``ledger resolve`` did."""

    new: int
    already: int
    pending: int
    revised: int
    questions_new: int = 0
    questions_pending: int = 0


def resolve_outcomes(
    conn: sqlite3.Connection, path: str | Path, panel: pd.DataFrame, data_sha256: str
) -> Resolution:
    """Record, in one transaction, every outcome that ``panel`` settles.

    Indicator forecast cells, and the scenario and question entries stated on indicators
    (:mod:`forecast.evaluation.ledger.questions`).

    Parameters
    ----------
    conn, path
        An open ledger and its path.
    panel
        A validated panel (its ``value``, ``vintage`` and ``source`` are stored).
    data_sha256
        Hash of the panel file, stored with each outcome.

    Returns
    -------
    Resolution
        Counts of distinct forecast cells (state, indicator, period; several issues may
        forecast the same cell) newly resolved, resolved before and still pending, and of
        stored outcomes that ``panel`` revises (reported only).
    """
    observed = panel.dropna(subset=["value"])[[*_CELL, "value", "vintage", "source"]]
    with transaction(conn, path):
        cells = pd.DataFrame(
            conn.execute(
                "SELECT DISTINCT f.state, f.indicator, f.period, o.value "
                "FROM indicator_forecast f LEFT JOIN outcome o "
                "USING (state, indicator, period)"
            ).fetchall(),
            columns=[*_CELL, "stored"],
        )
        joined = cells.merge(observed, on=_CELL, how="left")
        settled = joined["value"].notna()
        known = joined["stored"].notna()
        fresh = joined[settled & ~known]
        stamp = now()
        conn.executemany(
            "INSERT INTO outcome (state, indicator, period, value, vintage, source, "
            "data_sha256, resolved_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                (
                    r[STATE],
                    r[INDICATOR],
                    r[PERIOD],
                    float(r["value"]),
                    r["vintage"],
                    r["source"],
                    data_sha256,
                    stamp,
                )
                for r in fresh.to_dict("records")
            ),
        )
        revised = joined[settled & known]
        n_revised = int((revised["value"] - revised["stored"]).abs().gt(1e-12).sum())
        q_new, q_pending = _resolve_questions(conn, panel, data_sha256, stamp)
    return Resolution(
        new=len(fresh),
        already=int(known.sum()),
        pending=int((~settled & ~known).sum()),
        revised=n_revised,
        questions_new=q_new,
        questions_pending=q_pending,
    )


def _resolve_questions(
    conn: sqlite3.Connection, panel: pd.DataFrame, data_sha256: str, stamp: str
) -> tuple[int, int]:
    """Resolve pending scenario and question entries, if the ledger holds any."""
    pending = conn.execute(
        "SELECT count(*) FROM question_forecast q "
        "LEFT JOIN question_outcome o USING (question_id) WHERE o.question_id IS NULL"
    ).fetchone()[0]
    if not pending:
        return 0, 0
    # the scenario layer (rule parser and evaluator) is needed only when entries are pending
    from forecast.evaluation.ledger.questions import resolve_questions

    return resolve_questions(conn, panel, data_sha256, stamp)
