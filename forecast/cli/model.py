"""``forecast fit`` and ``forecast predict``."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from forecast.cli.bounds import bounded
from forecast.cli.options import QuietOpt, spec_default
from forecast.cli.paths import output_dir
from forecast.data.codebook import load_codebook
from forecast.data.panel import DEFAULT_PANEL
from forecast.defaults import DEFAULT_HORIZON, DEFAULT_RUNS, MAX_SEED
from forecast.errors import ForecastError
from forecast.interrupts import kept_on_interrupt
from forecast.model.inference import METHODS, NUTS_SAMPLERS
from forecast.model.spec import DEFAULT_MODEL, MAX_CHAINS, MAX_DRAWS, MAX_TUNE, load_model_spec

if TYPE_CHECKING:
    import xarray as xr

    from forecast.model.runs import Run
    from forecast.model.workflow import FitOutcome

# the model's modules import PyMC, which is slow to import: commands import them when run


DrawsOpt = Annotated[
    int | None,
    typer.Option(
        "--draws",
        metavar="N",
        callback=bounded(1, MAX_DRAWS),
        show_default=spec_default("draws", DEFAULT_MODEL),
        help=f"Draws per chain, kept after tuning (1 to {MAX_DRAWS}).",
    ),
]
TuneOpt = Annotated[
    int | None,
    typer.Option(
        "--tune",
        metavar="N",
        callback=bounded(0, MAX_TUNE),
        show_default=spec_default("tune", DEFAULT_MODEL),
        help=f"Tuning (warm-up) steps per chain (0 to {MAX_TUNE}).",
    ),
]
ChainsOpt = Annotated[
    int | None,
    typer.Option(
        "--chains",
        metavar="N",
        callback=bounded(1, MAX_CHAINS),
        show_default=spec_default("chains", DEFAULT_MODEL),
        help=f"Chains (1 to {MAX_CHAINS}).",
    ),
]
MethodOpt = Annotated[
    str | None,
    typer.Option(
        "--method",
        show_default=spec_default("method", DEFAULT_MODEL),
        help="nuts, pathfinder or advi.",
    ),
]
NutsSamplerOpt = Annotated[
    str,
    typer.Option(
        "--nuts-sampler",
        help="NUTS implementation: nutpie (compiled, fast) or pymc (PyMC's own, several "
        "times slower: a cross-check of nutpie on the same model).",
    ),
]


def fit(
    model: Annotated[Path, typer.Option("--model", help="Model spec TOML.")] = DEFAULT_MODEL,
    data: Annotated[Path, typer.Option("--data", help="Panel CSV.")] = DEFAULT_PANEL,
    draws: DrawsOpt = None,
    tune: TuneOpt = None,
    chains: ChainsOpt = None,
    seed: Annotated[
        int,
        typer.Option(
            "--seed", callback=bounded(0, MAX_SEED), help=f"Random seed (0 to {MAX_SEED})."
        ),
    ] = 1,
    method: MethodOpt = None,
    nuts_sampler: NutsSamplerOpt = "nutpie",
    strict: Annotated[bool, typer.Option("--strict", help="Exit 1 unless converged.")] = False,
    runs: Annotated[Path, typer.Option("--runs", help="Runs directory.")] = DEFAULT_RUNS,
    quiet: QuietOpt = False,
) -> None:
    """Fit the alignment model and store the run in runs/<run_id>/."""
    from forecast.model.workflow import fit_panel, settings_from_spec
    from forecast.progress import progress_for

    if method is not None and method not in METHODS:
        raise typer.BadParameter(f"must be one of {', '.join(METHODS)}", param_hint="--method")
    if nuts_sampler not in NUTS_SAMPLERS:
        raise typer.BadParameter(
            f"must be one of {', '.join(NUTS_SAMPLERS)}", param_hint="--nuts-sampler"
        )
    output_dir(runs, "--runs")
    spec = load_model_spec(model, load_codebook())
    settings = settings_from_spec(
        spec,
        draws=draws,
        tune=tune,
        chains=chains,
        seed=seed,
        method=method,
        nuts_sampler=nuts_sampler,
    )
    label = " (APPROXIMATE)" if settings.approximate else ""
    typer.echo(
        f"fitting {model} to {data}: {settings.method}{label}, {settings.chains} chains x "
        f"{settings.draws} draws ({settings.tune} tuning), seed {settings.seed}"
    )
    # Ctrl-C before the run is stored leaves nothing (save_run moves it and runs/latest
    # into place together); after, only printing remains
    with progress_for(quiet=quiet) as progress:
        outcome = fit_panel(data, model, settings, runs_dir=runs, progress=progress)
    with kept_on_interrupt(f"run {outcome.run.run_id} was written to {outcome.run.path}"):
        _report_fit(outcome, strict)


def _report_fit(outcome: FitOutcome, strict: bool) -> None:
    left_out = outcome.run.manifest.model.left_out_without_variation
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
    seed: Annotated[
        int | None,
        typer.Option("--seed", callback=bounded(0, MAX_SEED), help="Seed (default: the run's)."),
    ] = None,
    runs: Annotated[Path, typer.Option("--runs", help="Runs directory.")] = DEFAULT_RUNS,
    kind: Annotated[
        str,
        typer.Option(
            "--forecast",
            help="stacked: the backtested mixture of the model with the persistence and "
            "local-level baselines (models/stacking.toml); model: the model alone.",
        ),
    ] = "stacked",
    quiet: QuietOpt = False,
) -> None:
    """Forecast a run: forecast.nc, alignment.csv and indicators.csv."""
    from forecast.model.runs import load_run, write_forecast
    from forecast.progress import progress_for

    stored = load_run(run, runs)
    # the run's own directory by default: if it is read-only, --out is the way out
    target = output_dir(out or stored.path, "--out")
    with progress_for(quiet=quiet) as progress:
        with progress.step(f"forecasting run {stored.run_id} through {until}"):
            forecast = stored.forecast(until, kind=kind, seed=seed)
        # the three files are renamed into place together (or not at all on Ctrl-C)
        with progress.step("writing forecast.nc, alignment.csv and indicators.csv"):
            paths = write_forecast(forecast, target)
    with kept_on_interrupt(f"the forecast was written to {target}"):
        _report_forecast(stored, forecast, paths)


def _report_forecast(stored: Run, forecast: xr.Dataset, paths: dict[str, Path]) -> None:
    # the warnings first: they qualify everything after them
    if not stored.converged:
        typer.echo(f"NOT CONVERGED: run {stored.run_id} did not pass the convergence gates")
    if forecast.attrs["approximate"]:
        typer.echo(
            f"APPROXIMATE: run {stored.run_id} was fitted with "
            f"{forecast.attrs['inference_method']}, an approximation of the posterior"
        )
    typer.echo(f"forecast: {forecast.attrs['forecast']} ({forecast.attrs['forecast_note']})")
    for path in paths.values():
        typer.echo(f"wrote {path}")
