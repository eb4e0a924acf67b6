"""``forecast fit`` and ``forecast predict``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from forecast.cli.options import QuietOpt, in_range, spec_default
from forecast.data.codebook import load_codebook
from forecast.data.panel import DEFAULT_PANEL
from forecast.defaults import DEFAULT_HORIZON, DEFAULT_RUNS
from forecast.errors import ForecastError
from forecast.model.spec import DEFAULT_MODEL, METHODS, load_model_spec

# the model's modules import PyMC, which is slow to import: commands import them when run


def fit(
    model: Annotated[Path, typer.Option("--model", help="Model spec TOML.")] = DEFAULT_MODEL,
    data: Annotated[Path, typer.Option("--data", help="Panel CSV.")] = DEFAULT_PANEL,
    draws: Annotated[
        int | None,
        typer.Option(
            "--draws",
            metavar="N",
            callback=in_range(1),
            show_default=spec_default("draws", DEFAULT_MODEL),
            help="Draws per chain, kept after tuning (at least 1).",
        ),
    ] = None,
    tune: Annotated[
        int | None,
        typer.Option(
            "--tune",
            metavar="N",
            callback=in_range(0),
            show_default=spec_default("tune", DEFAULT_MODEL),
            help="Tuning (warm-up) steps per chain (0 or more).",
        ),
    ] = None,
    chains: Annotated[
        int | None,
        typer.Option(
            "--chains",
            metavar="N",
            callback=in_range(1),
            show_default=spec_default("chains", DEFAULT_MODEL),
            help="Chains (at least 1).",
        ),
    ] = None,
    seed: Annotated[int, typer.Option("--seed", help="Random seed.")] = 1,
    method: Annotated[
        str | None,
        typer.Option(
            "--method",
            show_default=spec_default("method", DEFAULT_MODEL),
            help="nuts, pathfinder or advi.",
        ),
    ] = None,
    strict: Annotated[bool, typer.Option("--strict", help="Exit 1 unless converged.")] = False,
    runs: Annotated[Path, typer.Option("--runs", help="Runs directory.")] = DEFAULT_RUNS,
    quiet: QuietOpt = False,
) -> None:
    """Fit the alignment model and store the run in runs/<run_id>/."""
    from forecast.model.workflow import fit_panel, settings_from_spec
    from forecast.progress import progress_for

    if method is not None and method not in METHODS:
        raise typer.BadParameter(f"must be one of {', '.join(METHODS)}", param_hint="--method")
    spec = load_model_spec(model, load_codebook())
    settings = settings_from_spec(
        spec, draws=draws, tune=tune, chains=chains, seed=seed, method=method
    )
    label = " (APPROXIMATE)" if settings.approximate else ""
    typer.echo(
        f"fitting {model} to {data}: {settings.method}{label}, {settings.chains} chains x "
        f"{settings.draws} draws ({settings.tune} tuning), seed {settings.seed}"
    )
    with progress_for(quiet=quiet) as progress:
        outcome = fit_panel(data, model, settings, runs_dir=runs, progress=progress)
    left_out = outcome.run.manifest["model"].get("left_out_without_variation", [])
    if left_out:
        typer.echo(f"left out, the same value in every observation: {', '.join(left_out)}")
    typer.echo(
        f"compile {outcome.compile_seconds:.1f} s, sampling {outcome.sampling_seconds:.1f} s"
    )
    for line in outcome.diagnostics.lines():
        typer.echo(line)
    typer.echo(f"run {outcome.run.run_id} written to {outcome.run.path}")
    if strict and not outcome.diagnostics.converged:
        raise ForecastError("--strict: the run did not pass the convergence gates")


def predict(
    run: Annotated[
        str | None, typer.Argument(help="Run directory or id (default runs/latest).")
    ] = None,
    until: Annotated[str, typer.Option("--until", help="Last forecast period.")] = DEFAULT_HORIZON,
    out: Annotated[
        Path | None, typer.Option("--out", help="Output directory (default: the run's).")
    ] = None,
    seed: Annotated[int | None, typer.Option("--seed", help="Seed (default: the run's).")] = None,
    runs: Annotated[Path, typer.Option("--runs", help="Runs directory.")] = DEFAULT_RUNS,
    quiet: QuietOpt = False,
) -> None:
    """Forecast a run: forecast.nc, alignment.csv and indicators.csv."""
    from forecast.model.runs import load_run
    from forecast.model.workflow import forecast_run, write_forecast
    from forecast.progress import progress_for

    stored = load_run(run, runs)
    with progress_for(quiet=quiet) as progress:
        with progress.step(f"forecasting run {stored.run_id} through {until}"):
            forecast = forecast_run(stored, until, random_seed=seed)
        with progress.step("writing forecast.nc, alignment.csv and indicators.csv"):
            paths = write_forecast(forecast, out or stored.path)
    if not stored.converged:
        typer.echo(f"NOT CONVERGED: run {stored.run_id} did not pass the convergence gates")
    if forecast.attrs["approximate"]:
        typer.echo(
            f"APPROXIMATE: run {stored.run_id} was fitted with "
            f"{forecast.attrs['inference_method']}, an approximation of the posterior"
        )
    for path in paths.values():
        typer.echo(f"wrote {path}")
