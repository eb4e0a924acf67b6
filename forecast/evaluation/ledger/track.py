"""The track record: what the ledger holds, by issue quarter, as tidy tables.

Two layers. Functions of an open connection (:func:`track_record`, :func:`indicator_record`,
:func:`issues`, :func:`previous_issue_in`) serve the ``forecast ledger`` commands. The pure
reads of a ledger *file*, :func:`load_track_record` and :func:`previous_issue`, serve the
quarterly report: they open the file read-only and never create, migrate or write it, and a
ledger that does not exist yet reads as an empty record (the first issue has no history).
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from forecast.dims import INDICATOR, PARTITION, SCENARIO
from forecast.evaluation.ledger.schema import empty_ledger, read_ledger, sqlite_errors
from forecast.evaluation.ledger.store import check_quarter

_BY_QUARTER = """
SELECT i.quarter,
       count(DISTINCT i.issue_id) AS issues,
       count(f.forecast_id) AS forecasts,
       count(o.outcome_id) AS resolved,
       count(s.forecast_id) AS scored,
       avg(s.covered_50) AS covered_50,
       avg(s.covered_90) AS covered_90,
       avg(s.pit) AS mean_pit
FROM issue i
LEFT JOIN indicator_forecast f ON f.issue_id = i.issue_id
LEFT JOIN outcome o USING (state, indicator, period)
LEFT JOIN indicator_score s ON s.forecast_id = f.forecast_id
GROUP BY i.quarter ORDER BY i.quarter
"""

_QUESTIONS = """
SELECT i.quarter,
       count(q.question_id) AS questions,
       count(r.question_id) AS questions_resolved,
       count(s.question_id) AS questions_scored,
       avg(s.brier) AS brier,
       avg(s.log_score) AS log_score
FROM issue i
LEFT JOIN question_forecast q ON q.issue_id = i.issue_id
LEFT JOIN question_outcome r ON r.question_id = q.question_id
LEFT JOIN question_score s ON s.question_id = q.question_id
GROUP BY i.quarter ORDER BY i.quarter
"""

_BY_INDICATOR = """
SELECT i.quarter, f.indicator,
       count(s.forecast_id) AS scored,
       avg(s.crps) AS crps,
       avg(s.covered_50) AS covered_50,
       avg(s.covered_90) AS covered_90
FROM issue i
JOIN indicator_forecast f ON f.issue_id = i.issue_id
JOIN indicator_score s ON s.forecast_id = f.forecast_id
GROUP BY i.quarter, f.indicator ORDER BY i.quarter, f.indicator
"""

_ISSUES = """
SELECT quarter, run_id, issued_at, method, approximate, converged, last_fitted,
       data_sha256, spec_sha256
FROM issue ORDER BY quarter, issue_id
"""

# the latest issue of the latest quarter before the given one (quarters such as 2026Q4
# sort correctly as text)
_PREVIOUS = """
SELECT issue_id, quarter, run_id, issued_at, converged, approximate
FROM issue WHERE quarter < ? ORDER BY quarter DESC, issue_id DESC LIMIT 1
"""

_ENTRIES = f"""
SELECT name AS {SCENARIO}, kind, partition AS {PARTITION}, title, period AS at, resolves_on,
       probability, mcse
FROM question_forecast WHERE issue_id = ? ORDER BY question_id
"""


def track_record(conn: sqlite3.Connection) -> pd.DataFrame:
    """One row per issue quarter.

    Columns: ``quarter, issues, forecasts, resolved, scored, covered_50, covered_90,
    mean_pit, questions, questions_resolved, questions_scored, brier, log_score``.
    ``forecasts`` counts indicator forecast cells, ``resolved`` those whose outcome is
    known, ``scored`` those scored; ``covered_*`` and ``mean_pit`` average the scored cells,
    ``brier`` and ``log_score`` the scored scenario and question entries (NaN when none).
    CRPS is in each indicator's own unit, so it is reported per indicator
    (:func:`indicator_record`), not averaged here.
    """
    cells = pd.read_sql_query(_BY_QUARTER, conn)
    questions = pd.read_sql_query(_QUESTIONS, conn)
    return cells.merge(questions, on="quarter", how="left")


def indicator_record(conn: sqlite3.Connection) -> pd.DataFrame:
    """Scored indicator forecasts by quarter and indicator: count, mean CRPS, coverage.

    Columns: ``quarter, indicator, scored, crps, covered_50, covered_90``.
    """
    return pd.read_sql_query(_BY_INDICATOR, conn).rename(columns={"indicator": INDICATOR})


def issues(conn: sqlite3.Connection) -> pd.DataFrame:
    """Every issue with its provenance (run id, data and spec hashes)."""
    return pd.read_sql_query(_ISSUES, conn)


@dataclass(frozen=True)
class TrackRecord:
    """The ledger's contents as three tidy tables.

    Attributes
    ----------
    by_quarter
        :func:`track_record`: one row per issue quarter.
    by_indicator
        :func:`indicator_record`: one row per issue quarter and indicator with a score.
    issues
        :func:`issues`: one row per issue, with its provenance.
    """

    by_quarter: pd.DataFrame
    by_indicator: pd.DataFrame
    issues: pd.DataFrame


def read_track_record(conn: sqlite3.Connection) -> TrackRecord:
    """Read the three tables of :class:`TrackRecord` from an open ledger."""
    return TrackRecord(track_record(conn), indicator_record(conn), issues(conn))


@dataclass(frozen=True)
class PreviousIssue:
    """The issue a quarter's forecast is compared with: the one before it.

    Attributes
    ----------
    quarter, run_id, issued_at
        Which issue it is (the latest issue of the latest quarter before the given one).
    converged, approximate
        Whether its run passed the convergence gates, and came from an approximate method.
    probabilities
        One row per scenario and question entry recorded with it, in the spec's order, with
        the columns of :meth:`forecast.scenarios.probabilities.ScenarioResult.table`:
        ``scenario, kind, partition, title, at, resolves_on, probability, mcse``. Empty (same
        columns) when the issue was recorded without scenarios.
    """

    quarter: str
    run_id: str
    issued_at: str
    converged: bool
    approximate: bool
    probabilities: pd.DataFrame

    def probability_of(self) -> dict[str, float]:
        """Return ``{scenario or question id: probability}``."""
        table = self.probabilities
        return dict(zip(table[SCENARIO], table["probability"].astype(float), strict=True))


def previous_issue_in(conn: sqlite3.Connection, quarter: str) -> PreviousIssue | None:
    """Return the latest issue recorded for a quarter before ``quarter`` (``None`` if none)."""
    row = conn.execute(_PREVIOUS, (quarter,)).fetchone()
    if row is None:
        return None
    issue_id, previous, run_id, issued_at, converged, approximate = row
    entries = pd.read_sql_query(_ENTRIES, conn, params=(issue_id,))
    return PreviousIssue(
        quarter=str(previous),
        run_id=str(run_id),
        issued_at=str(issued_at),
        converged=bool(converged),
        approximate=bool(approximate),
        probabilities=entries,
    )


def load_track_record(ledger: str | Path) -> TrackRecord:
    """Read a ledger file's track record, read-only (for the report).

    Parameters
    ----------
    ledger
        Path of the ledger. A file that does not exist yet gives empty tables with every
        column.

    Returns
    -------
    TrackRecord
        ``by_quarter`` (one row per issue quarter: counts of issued, resolved and scored
        indicator forecasts, 50 % and 90 % coverage, mean PIT, scenario and question counts,
        mean Brier and log score), ``by_indicator`` (mean CRPS and coverage per quarter and
        indicator) and ``issues`` (provenance). See :func:`track_record`.

    Raises
    ------
    ForecastError
        One line, for a corrupted, locked, foreign, older- or newer-schema ledger.

    Examples
    --------
    >>> load_track_record("no-such-ledger.db").by_quarter.columns[:5].tolist()
    ['quarter', 'issues', 'forecasts', 'resolved', 'scored']
    """
    path = Path(ledger)
    conn = read_ledger(path) if path.exists() else empty_ledger()
    try:
        with sqlite_errors(path):
            return read_track_record(conn)
    finally:
        conn.close()


def previous_issue(ledger: str | Path, quarter: str) -> PreviousIssue | None:
    """Read the issue before ``quarter`` and its scenario probabilities, read-only.

    "Before" means the latest issue of the latest quarter earlier than ``quarter``, so the
    report of ``2026Q4`` compares with the last forecast issued in ``2026Q3`` or earlier.

    Parameters
    ----------
    ledger
        Path of the ledger (a missing file has no earlier issue).
    quarter
        The quarter being reported, such as ``2026Q4``.

    Returns
    -------
    PreviousIssue or None
        ``None`` when no earlier issue is recorded.

    Raises
    ------
    ForecastError
        One line, for a corrupted, locked, foreign, older- or newer-schema ledger.

    Examples
    --------
    >>> previous_issue("no-such-ledger.db", "2026Q4") is None
    True
    """
    check_quarter(quarter)
    path = Path(ledger)
    if not path.exists():
        return None
    conn = read_ledger(path)
    try:
        with sqlite_errors(path):
            return previous_issue_in(conn, quarter)
    finally:
        conn.close()
