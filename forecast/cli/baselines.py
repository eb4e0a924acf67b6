"""``forecast baselines``: classical benchmark forecasts in the ``indicators.csv`` format."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from forecast.atomic import atomic_path
from forecast.cli.bounds import bounded
from forecast.cli.paths import output_dir
from forecast.data.codebook import load_codebook
from forecast.data.panel import DEFAULT_PANEL, read_panel
from forecast.defaults import DEFAULT_HORIZON, MAX_SEED
from forecast.model.spec import MAX_DRAWS

DEFAULT_OUT = Path("runs") / "baselines"


def baselines(
    data: Annotated[Path, typer.Option("--data", help="Panel CSV.")] = DEFAULT_PANEL,
    until: Annotated[str, typer.Option("--until", help="Last forecast period.")] = DEFAULT_HORIZON,
    out: Annotated[Path, typer.Option("--out", help="Output directory.")] = DEFAULT_OUT,
    method: Annotated[
        str, typer.Option("--method", help="persistence, drift, local_level or all.")
    ] = "all",
    seed: Annotated[
        int,
        typer.Option(
            "--seed", callback=bounded(0, MAX_SEED), help=f"Random seed (0 to {MAX_SEED})."
        ),
    ] = 0,
    draws: Annotated[
        int,
        typer.Option(
            "--draws",
            metavar="N",
            callback=bounded(1, MAX_DRAWS),
            help=f"Draws per cell (1 to {MAX_DRAWS}).",
        ),
    ] = 1000,
) -> None:
    """Forecast every series with classical baselines: <out>/<method>/indicators.csv."""
    from forecast.baselines import BASELINES, METHOD_USED, baseline_forecast
    from forecast.model.summaries import indicator_table

    if method != "all" and method not in BASELINES:
        raise typer.BadParameter(
            f"must be one of {', '.join(BASELINES)} or all", param_hint="--method"
        )
    output_dir(out, "--out")
    codebook = load_codebook()
    panel = read_panel(data, codebook)
    for name in BASELINES if method == "all" else (method,):
        forecast = baseline_forecast(
            panel, codebook, method=name, until=until, draws=draws, random_seed=seed
        )
        table = indicator_table(forecast)
        target = out / name / "indicators.csv"
        with atomic_path(target) as tmp:
            table.to_csv(tmp, index=False, float_format="%.6g", lineterminator="\n")
        used = forecast[METHOD_USED].values
        typer.echo(f"wrote {target}: {len(table)} rows, {fallback_note(name, used)}")


def fallback_note(method: str, used: Any) -> str:
    """Say how many series a baseline forecast itself and how many fell back to persistence.

    Examples
    --------
    >>> import numpy as np
    >>> fallback_note("local_level", np.array(["local_level", "persistence", ""]))
    '1 series by local_level, 1 by persistence where local_level does not apply'
    >>> fallback_note("persistence", np.array(["persistence", "persistence"]))
    '2 series by persistence'
    """
    forecast = used != ""
    own = int((forecast & (used == method)).sum())
    fell_back = int((forecast & (used != method)).sum())
    note = f"{own} series by {method}"
    if fell_back:
        # binary indicators and series too short for the method fall back to persistence
        note += f", {fell_back} by persistence where {method} does not apply"
    return note
