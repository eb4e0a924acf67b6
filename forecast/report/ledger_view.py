"""What the report reads from the forecast ledger: the previous issue and the track record."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from forecast.report.contracts import TrackRecordRow


@dataclass(frozen=True)
class LedgerView:
    """What the report reads from the ledger: previous probabilities, track record, runs."""

    previous: Mapping[str, float]
    previous_run: str | None
    track_record: tuple[TrackRecordRow, ...]


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
    """Read the previous issue before ``quarter`` and the track record from a ledger, read-only.

    A ledger that does not exist yet is an empty record (the first issue), not an error;
    a damaged, locked or newer ledger raises the ledger's one-line error.
    """
    from forecast.evaluation.ledger.track import load_track_record, previous_issue

    record = load_track_record(path)
    before = previous_issue(path, quarter)
    return LedgerView(
        previous=before.probability_of() if before is not None else {},
        previous_run=before.run_id if before is not None else None,
        track_record=track_rows(record.by_quarter),
    )
