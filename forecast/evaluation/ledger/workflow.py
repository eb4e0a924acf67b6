"""The ``forecast ledger`` commands as plain functions.

Record, resolve, score, show, verify and export. Only recording with a scenario spec reaches
into the scenario layer; the rest of the ledger does not need it. Every function verifies
the ledger as it opens it (:func:`~forecast.evaluation.ledger.schema.verify_ledger`) and
refuses a broken one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import xarray as xr

from forecast.data.codebook import Codebook, load_codebook
from forecast.data.panel import panel_sha256, read_panel
from forecast.errors import ForecastError
from forecast.evaluation.ledger.chain import ChainReport, issue_root, issue_rows
from forecast.evaluation.ledger.export import IssueMatch, check_against, export_issue
from forecast.evaluation.ledger.resolve import Resolution, resolve_outcomes
from forecast.evaluation.ledger.schema import (
    open_ledger,
    read_ledger,
    sqlite_errors,
    verify_ledger,
)
from forecast.evaluation.ledger.scoring import score_ledger
from forecast.evaluation.ledger.store import (
    Recorded,
    check_quarter,
    indicator_cells,
    issue_meta,
    record_issue,
)
from forecast.evaluation.ledger.track import TrackRecord, read_track_record
from forecast.interrupts import kept_on_interrupt
from forecast.model.runs import Run, through
from forecast.periods import parse_period

if TYPE_CHECKING:
    from forecast.scenarios.probabilities import ScenarioResult
    from forecast.scenarios.spec import ScenarioSpec


def issued_forecast(run: Run, until: str, scenarios: ScenarioSpec | None = None) -> xr.Dataset:
    """Return the forecast a run issues: through ``until`` and every period ``scenarios`` reads.

    The run's forecast (:meth:`Run.forecast <forecast.model.runs.Run.forecast>`): the stored
    one, what ``forecast predict`` wrote and the user saw, when it answers.
    """
    periods = [until, *(scenarios.periods() if scenarios is not None else [])]
    return run.forecast(max(periods, key=lambda p: parse_period(p).end_time))


def record_forecast(
    ledger: str | Path,
    run: Run,
    forecast: xr.Dataset,
    quarter: str,
    scenarios: ScenarioSpec | None = None,
    *,
    until: str | None = None,
    scored: ScenarioResult | None = None,
) -> Recorded:
    """Record a run's forecast as issued in ``quarter``, with its scenario probabilities.

    Parameters
    ----------
    ledger
        The ledger file (created if it does not exist).
    run
        The stored run ``forecast`` comes from (its manifest gives the provenance).
    forecast
        From :func:`issued_forecast`.
    quarter
        The issue quarter, such as ``2026Q4``.
    scenarios
        A scenario spec: every scenario and question probability under ``forecast``
        (:func:`forecast.scenarios.probabilities.scenario_probabilities`) is recorded too.
    until
        Record indicator forecasts through this period only (default: every period).
    scored
        ``scenarios`` already scored on ``forecast``, when the caller has it (the report):
        the probabilities are then not computed twice.

    Returns
    -------
    Recorded
        The issue id, row counts and root hash; ``new`` is ``False`` when the run was
        already recorded for ``quarter`` (nothing is written twice). Everything is one
        transaction.
    """
    check_quarter(quarter)
    questions = None
    if scenarios is not None:
        from forecast.evaluation.ledger.questions import question_issue
        from forecast.scenarios.probabilities import scenario_probabilities

        if scored is None:
            scored = scenario_probabilities(forecast, scenarios)
        questions = question_issue(scored, scenarios)
    kept = through(forecast, until) if until is not None else forecast
    meta = issue_meta(kept, run.manifest, quarter)
    cells = indicator_cells(kept)
    if cells.empty:
        raise ForecastError(f"run {run.run_id}: the forecast holds no period after the data")
    conn = open_ledger(ledger, create=True)
    try:
        done = record_issue(conn, ledger, meta, cells, questions)
        recorded = f"the issue of run {run.run_id} was recorded in {ledger}"
        with sqlite_errors(Path(ledger)), kept_on_interrupt(recorded):
            return replace(done, root=issue_root(issue_rows(conn, done.issue_id)))
    finally:
        conn.close()


def resolve_ledger(
    ledger: str | Path, panel_path: str | Path, codebook: Codebook | None = None
) -> Resolution:
    """Record the outcomes that the panel at ``panel_path`` settles."""
    conn = open_ledger(ledger)
    try:
        panel = read_panel(panel_path, codebook or load_codebook())
        return resolve_outcomes(conn, ledger, panel, panel_sha256(panel_path))
    finally:
        conn.close()


def score_resolved(ledger: str | Path) -> tuple[int, int]:
    """Score every resolved forecast not scored yet: (indicator forecasts, questions)."""
    conn = open_ledger(ledger)
    try:
        return score_ledger(conn, ledger)
    finally:
        conn.close()


def show_ledger(ledger: str | Path) -> TrackRecord:
    """Read the track record by quarter, by quarter and indicator, and the list of issues."""
    conn = open_ledger(ledger)
    try:
        with sqlite_errors(Path(ledger)):
            return read_track_record(conn)
    finally:
        conn.close()


@dataclass(frozen=True)
class Verification:
    """What ``ledger verify`` found: the chains' row counts and heads, and matched copies."""

    chains: ChainReport
    matches: tuple[IssueMatch, ...]


def verify_ledger_file(ledger: str | Path, against: Sequence[str | Path] = ()) -> Verification:
    """Verify a ledger read-only, and check it against exported issues (published copies).

    Raises
    ------
    ForecastError
        One line at the first problem: the integrity check, the first row whose hash chain
        breaks, an altered schema, or a published issue the ledger does not hold as it was
        published.
    """
    conn = read_ledger(ledger, verify=False)
    try:
        chains = verify_ledger(conn, ledger)
        with sqlite_errors(Path(ledger)):
            matches = tuple(check_against(conn, ledger, path) for path in against)
    finally:
        conn.close()
    return Verification(chains, matches)


def export_ledger_issue(ledger: str | Path, run_id: str | None = None) -> dict[str, Any]:
    """One issue (default the latest) with its rows and root hash, from a verified ledger."""
    conn = read_ledger(ledger)
    try:
        with sqlite_errors(Path(ledger)):
            return export_issue(conn, run_id)
    finally:
        conn.close()
