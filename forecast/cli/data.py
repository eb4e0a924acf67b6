"""``forecast data build|validate|show|sources``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from forecast.atomic import write_text_atomic
from forecast.cli.options import Command, Group
from forecast.cli.paths import output_file
from forecast.data.build import build_panel
from forecast.data.codebook import DEFAULT_CODEBOOK, load_codebook
from forecast.data.coverage import panel_coverage
from forecast.data.indicator_table import (
    DEFAULT_SOURCES,
    indicator_table_markdown,
    with_indicator_table,
)
from forecast.data.panel import DEFAULT_PANEL, read_panel, write_panel
from forecast.data.sources import LOADERS, OPTIONAL_FOLDERS
from forecast.errors import DataError

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
    output_file(out, "--out")
    cb = load_codebook(codebook)
    panel = build_panel(raw, cb, LOADERS)
    for folder, missing in OPTIONAL_FOLDERS.items():
        if not (raw / folder).is_dir():
            typer.echo(f"note: {raw} has no {folder}/ (an older release): not built: {missing}")
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


@data_app.command("sources", cls=Command)
def sources(
    data: Annotated[Path, typer.Option("--data", help="Panel CSV.")] = DEFAULT_PANEL,
    doc: Annotated[Path, typer.Option("--sources", help="Sources document.")] = DEFAULT_SOURCES,
    check: Annotated[
        bool, typer.Option("--check", help="Only check that the table is current.")
    ] = False,
    codebook: CodebookOpt = DEFAULT_CODEBOOK,
) -> None:
    """Regenerate the indicator table of SOURCES.md from the codebook and the panel."""
    cb = load_codebook(codebook)
    table = indicator_table_markdown(read_panel(data, cb), cb)
    try:
        text = doc.read_text(encoding="utf-8")
    except OSError as err:
        raise DataError(doc, f"cannot read: {err.strerror or err}") from None
    new = with_indicator_table(text, table, doc)
    if new == text:
        typer.echo(f"{doc}: indicator table up to date with {data}")
    elif check:
        raise DataError(
            doc, f"indicator table differs from {data}: run `forecast data sources` to update"
        )
    else:
        write_text_atomic(doc, new)
        typer.echo(f"wrote the indicator table of {doc} from {data}")
