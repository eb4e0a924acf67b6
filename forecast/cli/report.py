"""``forecast report``: the quarterly report, from a stored run or from a fresh pipeline run."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated

import typer

from forecast.cli.bounds import bounded
from forecast.cli.options import QuietOpt
from forecast.cli.paths import output_dir, output_file
from forecast.defaults import DEFAULT_LEDGER, DEFAULT_RUNS, MAX_SEED
from forecast.interrupts import Kept

_QUARTER = re.compile(r"^\d{4}Q[1-4]$")


def _check_quarter(value: str) -> str:
    if not _QUARTER.match(value):
        raise typer.BadParameter("expected a quarter such as 2026Q4", param_hint="--quarter")
    return value


def report(
    quarter: Annotated[str, typer.Option("--quarter", help="Quarter of the issue, e.g. 2026Q4.")],
    run: Annotated[
        str | None,
        typer.Option("--run", help="Report on this stored run (default: fit one now)."),
    ] = None,
    ledger: Annotated[
        Path, typer.Option("--ledger", help="Forecast ledger (SQLite).")
    ] = DEFAULT_LEDGER,
    out: Annotated[
        Path | None, typer.Option("--out", help="Output directory (default reports/QUARTER).")
    ] = None,
    runs: Annotated[Path, typer.Option("--runs", help="Runs directory.")] = DEFAULT_RUNS,
    model: Annotated[Path | None, typer.Option("--model", help="Model spec TOML.")] = None,
    data: Annotated[Path | None, typer.Option("--data", help="Panel CSV.")] = None,
    scenarios: Annotated[
        Path | None, typer.Option("--scenarios", help="Scenario spec TOML.")
    ] = None,
    whatif: Annotated[Path | None, typer.Option("--whatif", help="What-if spec TOML.")] = None,
    seed: Annotated[
        int | None,
        typer.Option(
            "--seed",
            callback=bounded(0, MAX_SEED),
            help=f"Random seed of a fresh fit (0 to {MAX_SEED}; default 1). Not with --run: "
            "a stored run keeps its own.",
        ),
    ] = None,
    quiet: QuietOpt = False,
) -> None:
    """Write the quarterly report (HTML and Markdown) under reports/QUARTER/.

    Without --run: fit the default model, forecast, score scenarios and what-ifs, record the
    issue in the ledger, then write the report.
    """
    from forecast.progress import progress_for
    from forecast.report.pipeline import ReportJob, run_report

    job = ReportJob(
        quarter=_check_quarter(quarter),
        out_dir=output_dir(out or Path("reports") / quarter, "--out"),
        ledger=ledger,
        runs_dir=runs,
        run=run,
        model=model,
        data=data,
        scenarios=scenarios,
        whatif=whatif,
        seed=seed,
    )
    if run is None:
        # a fresh pipeline stores a run and records the issue in the ledger
        output_dir(runs, "--runs")
        output_file(ledger, "--ledger")
    # a Ctrl-C at any step says which outputs were in place
    with Kept() as kept, progress_for(quiet=quiet) as progress:
        outcome = run_report(job, progress=progress, kept=kept)
    if outcome.fitted is not None:
        for line in outcome.fitted.diagnostics.lines():
            typer.echo(line)
    inputs = outcome.inputs
    if not inputs.run.converged:
        typer.echo(f"NOT CONVERGED: run {inputs.run.run_id} did not pass the convergence gates")
    typer.echo(inputs.headline.line())
    typer.echo(
        f"wrote {outcome.paths['html']} ({len(inputs.figures)} figures) "
        f"and {outcome.paths['markdown']}"
    )
