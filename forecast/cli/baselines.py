"""``forecast baselines``: classical benchmark forecasts in the ``indicators.csv`` format."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

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
        int, typer.Option("--seed", callback=bounded(0, MAX_SEED), help="Random seed.")
    ] = 0,
    draws: Annotated[
        int, typer.Option("--draws", callback=bounded(1, MAX_DRAWS), help="Draws per cell.")
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
        fallbacks = int(((used != name) & (used != "")).sum())
        typer.echo(f"wrote {target}: {len(table)} rows, {fallbacks} series by persistence instead")
