"""``forecast report``: the quarterly report, from a stored run or from a fresh pipeline run."""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from forecast.cli.bounds import bounded
from forecast.cli.options import QuietOpt
from forecast.cli.paths import output_dir, output_file
from forecast.data.panel import DEFAULT_PANEL
from forecast.defaults import DEFAULT_HORIZON, DEFAULT_LEDGER, DEFAULT_RUNS, MAX_SEED
from forecast.interrupts import Kept

if TYPE_CHECKING:
    from forecast.model.runs import Run
    from forecast.model.workflow import FitOutcome
    from forecast.progress import Progress

_QUARTER = re.compile(r"^\d{4}Q[1-4]$")


def _check_quarter(value: str) -> str:
    if not _QUARTER.match(value):
        raise typer.BadParameter("expected a quarter such as 2026Q4", param_hint="--quarter")
    return value


def _fresh_run(
    progress: Progress, *, model: Path, data: Path, seed: int, runs: Path, kept: Kept
) -> FitOutcome:
    """Fit the default model and store its forecast; return the fit's outcome."""
    from forecast.data.codebook import load_codebook
    from forecast.model.spec import load_model_spec
    from forecast.model.workflow import fit_panel, forecast_run, settings_from_spec, write_forecast

    spec = load_model_spec(model, load_codebook())
    settings = settings_from_spec(spec, seed=seed)
    with progress.step(
        f"fitting {model.name} ({settings.method}, {settings.chains} chains x "
        f"{settings.draws} draws, seed {seed})"
    ):
        outcome = fit_panel(data, model, settings, runs_dir=runs, progress=progress)
    kept.add(f"run {outcome.run.run_id} was written to {outcome.run.path}")
    with progress.step(f"forecasting through {DEFAULT_HORIZON}"):
        write_forecast(forecast_run(outcome.run, DEFAULT_HORIZON), outcome.run.path)
    kept.add(f"its forecast was written to {outcome.run.path}")
    return outcome


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
        int,
        typer.Option(
            "--seed",
            callback=bounded(0, MAX_SEED),
            help=f"Random seed of a fresh fit (0 to {MAX_SEED}).",
        ),
    ] = 1,
    quiet: QuietOpt = False,
) -> None:
    """Write the quarterly report (HTML and Markdown) under reports/QUARTER/.

    Without --run: fit the default model, forecast, score scenarios and what-ifs, record the
    issue in the ledger, then write the report.
    """
    from forecast.model.runs import load_run
    from forecast.model.spec import DEFAULT_MODEL
    from forecast.progress import progress_for
    from forecast.report.ledger_view import read_ledger_view
    from forecast.report.pipeline import build_report

    quarter = _check_quarter(quarter)
    target = output_dir(out or Path("reports") / quarter, "--out")
    if run is None:
        # a fresh pipeline stores a run and records the issue in the ledger
        output_dir(runs, "--runs")
        output_file(ledger, "--ledger")
    fitted: FitOutcome | None = None
    # a Ctrl-C at any step says which outputs were in place
    with Kept() as kept, progress_for(quiet=quiet) as progress:
        # read the ledger first: a damaged ledger should stop the pipeline before the fit
        view = read_ledger_view(ledger, quarter)
        if run is None:
            fitted = _fresh_run(
                progress,
                model=model or DEFAULT_MODEL,
                data=data or DEFAULT_PANEL,
                seed=seed,
                runs=runs,
                kept=kept,
            )
            stored = fitted.run
            with progress.step(f"recording the {quarter} issue in {ledger}"):
                _record(ledger, stored, quarter, scenarios)
            kept.add(f"the {quarter} issue was recorded in {ledger}")
        else:
            stored = load_run(run, runs)
        inputs, paths = build_report(
            stored,
            quarter=quarter,
            out_dir=target,
            runs_dir=runs,
            ledger=view,
            scenario_spec=scenarios,
            whatif_spec=whatif,
            data=data,
            ledger_path=str(ledger),
            step=progress.step,
        )
        kept.add(f"the report was written to {target}")
    if fitted is not None:
        for line in fitted.diagnostics.lines():
            typer.echo(line)
    if not inputs.run.converged:
        typer.echo(f"NOT CONVERGED: run {inputs.run.run_id} did not pass the convergence gates")
    typer.echo(inputs.headline.line())
    typer.echo(f"wrote {paths['html']} ({len(inputs.figures)} figures) and {paths['markdown']}")


def _record(ledger: Path, run: Run, quarter: str, scenarios: Path | None) -> None:
    """Record the run's stored forecast and scenario probabilities as the quarter's issue."""
    from forecast.evaluation.ledger.workflow import issued_forecast, record_forecast
    from forecast.scenarios.spec import DEFAULT_SCENARIOS, load_scenario_spec

    spec = load_scenario_spec(scenarios or DEFAULT_SCENARIOS)
    forecast = issued_forecast(run, DEFAULT_HORIZON, spec)
    # SQLite creates the file but not its directory (checked writable before the fit)
    ledger.parent.mkdir(parents=True, exist_ok=True)
    record_forecast(ledger, run, forecast, quarter, spec)
