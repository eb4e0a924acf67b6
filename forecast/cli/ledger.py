"""``forecast ledger record|resolve|score|show|verify|export``: the forecast track record.

Issued forecasts, their outcomes and scores, and checks that none was changed afterwards.
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from forecast.cli.options import Command, Group
from forecast.cli.paths import output_file
from forecast.data.panel import DEFAULT_PANEL
from forecast.defaults import DEFAULT_HORIZON, DEFAULT_LEDGER, DEFAULT_RUNS

if TYPE_CHECKING:
    import pandas as pd

# the ledger's workflow imports the model (PyMC) and the scenario layer, which are slow to
# import: each command imports what it needs when it runs

ledger_app = typer.Typer(
    cls=Group,
    help="Keep, resolve and score every issued forecast (an SQLite ledger).",
    no_args_is_help=True,
)

LedgerOpt = Annotated[Path, typer.Option("--ledger", help="Ledger SQLite file.")]


@ledger_app.command("record", cls=Command)
def record(
    quarter: Annotated[
        str, typer.Option("--quarter", help="Quarter the forecast is issued in, e.g. 2026Q4.")
    ],
    run: Annotated[
        str | None, typer.Argument(help="Run directory or id (default runs/latest).")
    ] = None,
    until: Annotated[str, typer.Option("--until", help="Last forecast period.")] = DEFAULT_HORIZON,
    scenarios: Annotated[
        Path | None,
        typer.Option(
            "--scenarios",
            help="Scenario spec whose probabilities to record (default models/scenarios.toml).",
        ),
    ] = None,
    with_scenarios: Annotated[
        bool,
        typer.Option("--with-scenarios/--no-scenarios", help="Record scenario probabilities."),
    ] = True,
    runs: Annotated[Path, typer.Option("--runs", help="Runs directory.")] = DEFAULT_RUNS,
    ledger: LedgerOpt = DEFAULT_LEDGER,
) -> None:
    """Record a run's forecasts and scenario probabilities as issued in QUARTER (once per run)."""
    from forecast.evaluation.ledger.store import check_quarter
    from forecast.evaluation.ledger.workflow import issued_forecast, record_forecast
    from forecast.model.runs import load_run

    check_quarter(quarter)
    output_file(ledger, "--ledger")
    stored = load_run(run, runs)
    spec = None
    if with_scenarios:
        from forecast.scenarios.spec import DEFAULT_SCENARIOS, load_scenario_spec

        if scenarios is not None or DEFAULT_SCENARIOS.is_file():
            spec = load_scenario_spec(scenarios or DEFAULT_SCENARIOS)
        else:
            typer.echo(f"no scenario spec at {DEFAULT_SCENARIOS}: recording indicators only")
    forecast = issued_forecast(stored, until, spec)
    # SQLite creates the file but not its directory (checked writable above)
    ledger.parent.mkdir(parents=True, exist_ok=True)
    done = record_forecast(ledger, stored, forecast, quarter, spec, until=until)
    if not done.new:
        typer.echo(
            f"run {stored.run_id} is already recorded for {quarter} (issue {done.issue_id}): "
            "nothing written"
        )
        return
    typer.echo(
        f"recorded run {stored.run_id} for {quarter} in {ledger}: "
        f"{done.indicator_forecasts} indicator forecasts, {done.questions} questions"
    )
    typer.echo(f"issue root sha256 {done.root} (`forecast ledger export` writes it with the issue)")
    if not stored.converged:
        typer.echo(f"NOT CONVERGED: run {stored.run_id} did not pass the convergence gates")


@ledger_app.command("resolve", cls=Command)
def resolve(
    data: Annotated[Path, typer.Option("--data", help="Panel CSV.")] = DEFAULT_PANEL,
    ledger: LedgerOpt = DEFAULT_LEDGER,
) -> None:
    """Record the outcomes the panel now settles."""
    from forecast.evaluation.ledger.workflow import resolve_ledger

    output_file(ledger, "--ledger")
    done = resolve_ledger(ledger, data)
    typer.echo(
        f"{done.new} forecast cells (state, indicator, period) newly resolved from {data}; "
        f"{done.already} resolved before; {done.pending} still pending"
    )
    typer.echo(
        f"{done.questions_new} scenario and question entries newly resolved; "
        f"{done.questions_pending} pending (entries on the latent wait for a later model)"
    )
    if done.revised:
        typer.echo(
            f"{done.revised} outcomes differ in {data} from the values first recorded "
            "(kept as first recorded)"
        )


@ledger_app.command("score", cls=Command)
def score(ledger: LedgerOpt = DEFAULT_LEDGER) -> None:
    """Score every resolved forecast not scored yet."""
    from forecast.evaluation.ledger.workflow import score_resolved

    output_file(ledger, "--ledger")
    indicators, questions = score_resolved(ledger)
    typer.echo(f"scored {indicators} indicator forecasts and {questions} questions in {ledger}")


def _records(table: pd.DataFrame) -> list[dict[str, Any]]:
    """JSON-ready rows: NaN becomes null."""
    rows = table.astype(object).to_dict("records")
    return [
        {str(k): (None if isinstance(v, float) and math.isnan(v) else v) for k, v in row.items()}
        for row in rows
    ]


def _fmt(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    if isinstance(value, float):
        return f"{value:.3g}"
    return str(value)


@ledger_app.command("show", cls=Command)
def show(
    ledger: LedgerOpt = DEFAULT_LEDGER,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    """List the track record by quarter."""
    from rich.console import Console
    from rich.table import Table

    from forecast.evaluation.ledger.workflow import show_ledger

    record = show_ledger(ledger)
    if as_json:
        payload = {
            "by_quarter": _records(record.by_quarter),
            "by_indicator": _records(record.by_indicator),
            "issues": _records(record.issues),
        }
        typer.echo(json.dumps(payload, indent=2))
        return
    # piped, rich would squeeze the tables into 80 columns and cut their headers
    console = Console() if sys.stdout.isatty() else Console(width=200)
    if record.issues.empty:
        console.print(f"{ledger}: no forecast recorded yet")
        return
    by_quarter = record.by_quarter
    cells = ["quarter", "issues", "forecasts", "resolved", "scored", "covered_50", "covered_90"]
    questions = ["quarter", "questions", "questions_resolved", "questions_scored", "brier"]
    for title, table in (
        ("Indicator forecasts by issue quarter", by_quarter[[*cells, "mean_pit"]]),
        (
            "Scored indicator forecasts by quarter (CRPS in the indicator's unit)",
            record.by_indicator,
        ),
        ("Scenario and question probabilities by issue quarter", by_quarter[questions]),
    ):
        if table.empty:
            continue
        out = Table(title=title)
        for column in table.columns:
            # a header is never cut, whatever the width (piped output has no terminal width)
            name = str(column).replace("questions_", "").replace("_", " ")
            out.add_column(name, no_wrap=True, min_width=len(name))
        for row in table.itertuples(index=False):
            out.add_row(*(_fmt(v) for v in row))
        console.print(out)


@ledger_app.command("verify", cls=Command)
def verify(
    ledger: LedgerOpt = DEFAULT_LEDGER,
    against: Annotated[
        list[Path] | None,
        typer.Option(
            "--against",
            help="A published copy of an issue (from `ledger export`) the ledger must hold "
            "unchanged; repeatable.",
        ),
    ] = None,
) -> None:
    """Check the ledger: integrity check, every row's hash chain, schema and triggers.

    Exit 1 with the first row (table and key) or object that fails.
    """
    from forecast.evaluation.ledger.workflow import verify_ledger_file

    done = verify_ledger_file(ledger, against or [])
    rows = sum(done.chains.rows.values())
    typer.echo(
        f"{ledger}: integrity check ok; hash chains ok ({rows} rows in "
        f"{len(done.chains.rows)} tables); schema and triggers as made by forecast"
    )
    typer.echo(f"ledger head sha256 {done.chains.ledger_head}")
    for match in done.matches:
        typer.echo(
            f"issue of run {match.run_id} ({match.quarter}) matches {match.path}: "
            f"root sha256 {match.root}"
        )


@ledger_app.command("export", cls=Command)
def export(
    run: Annotated[
        str | None, typer.Argument(help="Run id of the issue (default: the latest recorded).")
    ] = None,
    out: Annotated[
        Path | None, typer.Option("--out", help="JSON file to write (default: standard output).")
    ] = None,
    ledger: LedgerOpt = DEFAULT_LEDGER,
) -> None:
    """Export one issue as JSON with its root hash, to publish beside the report."""
    from forecast.atomic import write_text_atomic
    from forecast.evaluation.ledger.export import export_text
    from forecast.evaluation.ledger.workflow import export_ledger_issue

    payload = export_ledger_issue(ledger, run)
    if out is None:
        typer.echo(export_text(payload), nl=False)
        return
    write_text_atomic(out, export_text(payload))
    typer.echo(
        f"wrote {out}: issue of run {payload['run_id']} ({payload['quarter']}), "
        f"root sha256 {payload['root']}"
    )
