"""What the report reads from the forecast ledger: the previous issue and the track record."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd

from forecast.report.contracts import TrackRecordRow
from forecast.report.pipeline import LedgerView

_PREVIOUS = """
SELECT i.quarter, i.run_id, q.name, q.probability
FROM issue i LEFT JOIN question_forecast q ON q.issue_id = i.issue_id
WHERE i.quarter < ? ORDER BY i.quarter DESC, i.issue_id DESC
"""


def _number(value: object) -> float | None:
    """Return a float, or None for SQL NULL (None or NaN once in pandas)."""
    if value is None:
        return None
    number = float(value)  # type: ignore[arg-type]
    return None if math.isnan(number) else number


def track_rows(table: pd.DataFrame) -> tuple[TrackRecordRow, ...]:
    """Convert the ledger's track record by quarter into report rows."""
    table = table.fillna({"forecasts": 0, "resolved": 0, "scored": 0, "questions": 0})
    return tuple(
        TrackRecordRow(
            quarter=str(r["quarter"]),
            issued=int(r["forecasts"]),
            resolved=int(r["resolved"]),
            scored=int(r["scored"]),
            coverage_50=_number(r["covered_50"]),
            coverage_90=_number(r["covered_90"]),
            questions=int(r["questions"]),
            brier=_number(r["brier"]),
        )
        for _, r in table.iterrows()
    )


def read_ledger_view(path: str | Path, quarter: str) -> LedgerView:
    """Read the previous issue before ``quarter`` and the track record from a ledger.

    A ledger that does not exist yet is an empty record (the first issue), not an error;
    a damaged, locked or newer ledger raises the ledger's one-line error.
    """
    from forecast.evaluation.ledger.schema import open_ledger, sqlite_errors
    from forecast.evaluation.ledger.track import track_record

    path = Path(path)
    if not path.exists():
        return LedgerView(previous={}, previous_run=None, track_record=())
    conn = open_ledger(path)
    try:
        with sqlite_errors(path):
            earlier = pd.read_sql_query(_PREVIOUS, conn, params=(quarter,))
            record = track_record(conn)
    finally:
        conn.close()
    if earlier.empty:
        return LedgerView(previous={}, previous_run=None, track_record=track_rows(record))
    last = earlier[earlier["run_id"] == earlier["run_id"].iloc[0]].dropna(subset=["name"])
    return LedgerView(
        previous=dict(
            zip(last["name"].astype(str), last["probability"].astype(float), strict=True)
        ),
        previous_run=str(earlier["run_id"].iloc[0]),
        track_record=track_rows(record),
    )
