"""``forecast data build|validate|show``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from forecast.cli.options import Command, Group
from forecast.data.build import build_panel
from forecast.data.codebook import DEFAULT_CODEBOOK, load_codebook
from forecast.data.coverage import panel_coverage
from forecast.data.panel import DEFAULT_PANEL, read_panel, write_panel
from forecast.data.sources import LOADERS

data_app = typer.Typer(
    cls=Group, help="Build, validate and inspect the indicator panel.", no_args_is_help=True
)

CodebookOpt = Annotated[Path, typer.Option("--codebook", help="Codebook TOML.")]


@data_app.command("build", cls=Command)
def build(
    raw: Annotated[Path, typer.Option("--raw", help="Directory of raw public files.")],
    out: Annotated[Path, typer.Option("--out", help="Panel CSV to write.")] = DEFAULT_PANEL,
    codebook: CodebookOpt = DEFAULT_CODEBOOK,
) -> None:
    """Run every loader on RAW, validate, and write the panel atomically."""
    cb = load_codebook(codebook)
    panel = build_panel(raw, cb, LOADERS)
    written = write_panel(panel, out, cb)
    n_ind = written["indicator"].nunique()
    n_state = written["state"].nunique()
    typer.echo(f"wrote {out}: {len(written)} rows, {n_state} states, {n_ind} indicators")


@data_app.command("validate", cls=Command)
def validate(
    path: Annotated[Path, typer.Argument(help="Panel CSV to check.")] = DEFAULT_PANEL,
    codebook: CodebookOpt = DEFAULT_CODEBOOK,
) -> None:
    """Check a panel against the schema and the codebook."""
    panel = read_panel(path, load_codebook(codebook))
    typer.echo(f"{path}: valid ({len(panel)} rows)")


@data_app.command("show", cls=Command)
def show(
    data: Annotated[Path, typer.Option("--data", help="Panel CSV.")] = DEFAULT_PANEL,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    codebook: CodebookOpt = DEFAULT_CODEBOOK,
) -> None:
    """Print coverage: state x indicator first and last period, count, share missing."""
    cov = panel_coverage(read_panel(data, load_codebook(codebook)))
    if as_json:
        typer.echo(json.dumps(cov.to_dict(orient="records"), indent=2))
        return
    table = Table(title=f"Coverage of {data}")
    for col in cov.columns:
        table.add_column(col, justify="right" if col in ("count", "share_missing") else "left")
    for rec in cov.itertuples(index=False):
        table.add_row(*(f"{v:.2f}" if isinstance(v, float) else str(v) for v in rec))
    Console(width=120).print(table)
