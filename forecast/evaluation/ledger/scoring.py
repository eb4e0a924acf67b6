"""Scoring resolved forecasts in the ledger (each forecast is scored once, append-only)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import numpy as np
import pandas as pd

from forecast.evaluation.ledger.schema import transaction
from forecast.evaluation.ledger.store import BOUND_COLUMNS, decode_ensemble, now
from forecast.evaluation.scores import (
    INTERVAL_LEVELS,
    bounded_probability,
    brier,
    covered,
    crps_draws,
    interval_score,
    level_label,
    log_score,
    pit_draws,
)


def _unscored_indicators(conn: sqlite3.Connection) -> pd.DataFrame:
    bounds = ", ".join(f"f.{c}" for c in BOUND_COLUMNS)
    rows = conn.execute(
        f"SELECT f.forecast_id, o.outcome_id, o.value, f.ensemble, {bounds} "
        "FROM indicator_forecast f JOIN outcome o USING (state, indicator, period) "
        "LEFT JOIN indicator_score s ON s.forecast_id = f.forecast_id "
        "WHERE s.forecast_id IS NULL ORDER BY f.forecast_id"
    ).fetchall()
    return pd.DataFrame(
        rows, columns=["forecast_id", "outcome_id", "value", "ensemble", *BOUND_COLUMNS]
    )


def indicator_scores(table: pd.DataFrame) -> pd.DataFrame:
    """Score resolved indicator forecasts from their stored summaries.

    CRPS and PIT come from the stored quantile ensemble; interval scores and coverage from
    the interval bounds computed from every draw when the forecast was issued.
    """
    labels = [level_label(level) for level in INTERVAL_LEVELS]
    columns = ["forecast_id", "outcome_id", "crps", "pit"]
    columns += [f"interval_{x}" for x in labels] + [f"covered_{x}" for x in labels]
    if table.empty:
        return pd.DataFrame({name: [] for name in columns})
    obs = table["value"].to_numpy(dtype=float)
    ensembles = np.stack([decode_ensemble(text) for text in table["ensemble"]])
    out = pd.DataFrame(
        {
            "forecast_id": table["forecast_id"].to_numpy(),
            "outcome_id": table["outcome_id"].to_numpy(),
            "crps": crps_draws(obs, ensembles),
            "pit": pit_draws(obs, ensembles),
        }
    )
    for level, label in zip(INTERVAL_LEVELS, labels, strict=True):
        lower = table[f"lower_{label}"].to_numpy(dtype=float)
        upper = table[f"upper_{label}"].to_numpy(dtype=float)
        out[f"interval_{label}"] = interval_score(obs, lower, upper, level)
        out[f"covered_{label}"] = covered(obs, lower, upper).astype(int)
    return out[columns]


def _unscored_questions(conn: sqlite3.Connection) -> pd.DataFrame:
    rows = conn.execute(
        "SELECT q.question_id, q.probability, o.happened, i.draws "
        "FROM question_forecast q JOIN question_outcome o USING (question_id) "
        "JOIN issue i USING (issue_id) "
        "LEFT JOIN question_score s USING (question_id) "
        "WHERE s.question_id IS NULL ORDER BY q.question_id"
    ).fetchall()
    return pd.DataFrame(rows, columns=["question_id", "probability", "happened", "draws"])


def question_scores(table: pd.DataFrame) -> pd.DataFrame:
    """Brier and log scores of resolved event probabilities.

    Probabilities are Monte Carlo estimates from the run's draws; for the log score they
    are bounded to ``[1/(2n), 1 - 1/(2n)]`` so that an estimate of 0 from ``n`` draws does
    not score as an impossibility.
    """
    if table.empty:
        return pd.DataFrame({"question_id": [], "brier": [], "log_score": []})
    prob = table["probability"].to_numpy(dtype=float)
    happened = table["happened"].to_numpy(dtype=int)
    n = np.maximum(table["draws"].to_numpy(dtype=int), 1)
    return pd.DataFrame(
        {
            "question_id": table["question_id"].to_numpy(),
            "brier": brier(happened, prob),
            "log_score": log_score(happened, bounded_probability(prob, n)),
        }
    )


def score_ledger(conn: sqlite3.Connection, path: str | Path) -> tuple[int, int]:
    """Score, in one transaction, every resolved forecast not scored yet.

    Returns
    -------
    tuple of int
        Indicator forecasts and questions newly scored.
    """
    with transaction(conn, path):
        scored = indicator_scores(_unscored_indicators(conn))
        stamp = now()
        columns = list(scored.columns)
        conn.executemany(
            f"INSERT INTO indicator_score ({', '.join(columns)}, scored_at) "
            f"VALUES ({', '.join('?' for _ in columns)}, ?)",
            (
                (*(v.item() if isinstance(v, np.generic) else v for v in row), stamp)
                for row in scored.itertuples(index=False)
            ),
        )
        questions = question_scores(_unscored_questions(conn))
        conn.executemany(
            "INSERT INTO question_score (question_id, brier, log_score, scored_at) "
            "VALUES (?, ?, ?, ?)",
            (
                (int(qid), float(b), float(ls), stamp)
                for qid, b, ls in zip(
                    questions["question_id"],
                    questions["brier"],
                    questions["log_score"],
                    strict=True,
                )
            ),
        )
    return len(scored), len(questions)
