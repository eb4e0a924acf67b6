"""``forecast report``: the quarterly report, from a stored run or from a fresh pipeline run."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from forecast.cli.bounds import bounded
from forecast.cli.paths import output_dir, output_file
from forecast.data.panel import DEFAULT_PANEL
from forecast.defaults import DEFAULT_HORIZON, DEFAULT_LEDGER, DEFAULT_RUNS, MAX_SEED
from forecast.interrupts import Kept

if TYPE_CHECKING:
    from rich.progress import Progress

    from forecast.model.runs import Run

_QUARTER = re.compile(r"^\d{4}Q[1-4]$")


def _check_quarter(value: str) -> str:
    if not _QUARTER.match(value):
        raise typer.BadParameter("expected a quarter such as 2026Q4", param_hint="--quarter")
    return value


@contextmanager
def _step(progress: Progress, description: str) -> Iterator[None]:
    """Show one pipeline step as a spinner that turns into a tick with its duration."""
    task = progress.add_task(description, total=1)
    start = time.perf_counter()
    yield
    progress.update(
        task,
        completed=1,
        description=f"{description} ({time.perf_counter() - start:.0f} s)",
    )


def _fresh_run(
    progress: Progress, *, model: Path, data: Path, seed: int, runs: Path, kept: Kept
) -> tuple[Run, bool]:
    """Fit the default model and store its forecast; return the run and whether it converged."""
    from forecast.data.codebook import load_codebook
    from forecast.model.spec import load_model_spec
    from forecast.model.workflow import fit_panel, forecast_run, settings_from_spec, write_forecast

    spec = load_model_spec(model, load_codebook())
    settings = settings_from_spec(spec, seed=seed)
    with _step(
        progress,
        f"fitting {model.name} ({settings.method}, {settings.chains} chains x "
        f"{settings.draws} draws, seed {seed})",
    ):
        outcome = fit_panel(data, model, settings, runs_dir=runs, progressbar=False)
    kept.add(f"run {outcome.run.run_id} was written to {outcome.run.path}")
    for line in outcome.diagnostics.lines():
        progress.console.print(line, markup=False, highlight=False)
    with _step(progress, f"forecasting through {DEFAULT_HORIZON}"):
        write_forecast(forecast_run(outcome.run, DEFAULT_HORIZON), outcome.run.path)
    kept.add(f"its forecast was written to {outcome.run.path}")
    return outcome.run, outcome.diagnostics.converged


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
        typer.Option("--seed", callback=bounded(0, MAX_SEED), help="Random seed of a fresh fit."),
    ] = 1,
) -> None:
    """Write the quarterly report (HTML and Markdown) under reports/QUARTER/.

    Without --run: fit the default model, forecast, score scenarios and what-ifs, record the
    issue in the ledger, then write the report.
    """
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    from forecast.model.runs import load_run
    from forecast.model.spec import DEFAULT_MODEL
    from forecast.report.ledger_view import read_ledger_view
    from forecast.report.pipeline import build_report

    quarter = _check_quarter(quarter)
    target = output_dir(out or Path("reports") / quarter, "--out")
    if run is None:
        # a fresh pipeline stores a run and records the issue in the ledger
        output_dir(runs, "--runs")
        output_file(ledger, "--ledger")
    columns = (SpinnerColumn(finished_text="✓"), TextColumn("{task.description}"))
    # a Ctrl-C at any step says which outputs were in place
    with Kept() as kept, Progress(*columns, TimeElapsedColumn(), transient=False) as progress:
        # read the ledger first: a damaged ledger should stop the pipeline before the fit
        view = read_ledger_view(ledger, quarter)
        if run is None:
            stored, _ = _fresh_run(
                progress,
                model=model or DEFAULT_MODEL,
                data=data or DEFAULT_PANEL,
                seed=seed,
                runs=runs,
                kept=kept,
            )
            with _step(progress, f"recording the {quarter} issue in {ledger}"):
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
            step=lambda description: _step(progress, description),
        )
        kept.add(f"the report was written to {target}")
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
