"""``forecast plot``: write a run's figures as PNG and SVG."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
import xarray as xr

from forecast.cli.options import QuietOpt
from forecast.cli.paths import output_dir
from forecast.data.codebook import load_codebook
from forecast.data.panel import read_panel
from forecast.defaults import DEFAULT_HORIZON, DEFAULT_RUNS
from forecast.interrupts import Interrupted

if TYPE_CHECKING:
    from forecast.model.runs import Run


def _forecast(stored: Run, until: str | None) -> xr.Dataset:
    """Return the run's forecast through ``until``, or through its stored forecast's end."""
    if until is None:
        kept = stored.stored_forecast()
        until = DEFAULT_HORIZON if kept is None else str(kept.attrs["until"])
    return stored.forecast(until)


def plot(
    run: Annotated[
        str | None, typer.Argument(help="Run directory or id (default runs/latest).")
    ] = None,
    out: Annotated[
        Path | None, typer.Option("--out", help="Output directory (default: <run>/figures).")
    ] = None,
    until: Annotated[
        str | None,
        typer.Option("--until", help="Last forecast period (default: the stored forecast's)."),
    ] = None,
    data: Annotated[
        Path | None, typer.Option("--data", help="Panel CSV (default: the run's).")
    ] = None,
    runs: Annotated[Path, typer.Option("--runs", help="Runs directory.")] = DEFAULT_RUNS,
    quiet: QuietOpt = False,
) -> None:
    """Write a run's figures (convergence, forest, checks, fan charts, coverage) as PNG and SVG."""
    # imported here so that other commands do not pay for the plotting modules
    from forecast.model.runs import load_run
    from forecast.plots.run_figures import run_figures, write_figures
    from forecast.progress import progress_for

    stored = load_run(run, runs)
    target = output_dir(out or stored.path / "figures", "--out")
    codebook = load_codebook()
    if not stored.converged:
        typer.echo(f"NOT CONVERGED: run {stored.run_id} did not pass the convergence gates")
    with progress_for(quiet=quiet) as progress:
        with progress.step(f"reading or computing the forecast of run {stored.run_id}"):
            forecast = _forecast(stored, until)
        panel = read_panel(stored.panel_path(data), codebook)
        written: list[Path] = []
        # figures are drawn one at a time (memory): the status names the last one written
        try:
            with progress.step(f"drawing the figures into {target}") as status:
                figures = run_figures(stored.posterior(), forecast, panel, codebook=codebook)
                for path in write_figures(figures, target):
                    written.append(path)
                    status.update(f"{len(written) // 2} figures written, the last {path.stem}")
        except KeyboardInterrupt:
            # figures are written one after the other (each file atomically)
            done = len([p for p in written if p.suffix == ".png"])
            raise Interrupted(f"{done} complete figures written to {target}") from None
    count = 0
    for path in written:
        if path.suffix == ".png":
            typer.echo(f"wrote {path.with_suffix('')}.png/.svg")
            count += 1
    typer.echo(f"{count} figures in {target}")
