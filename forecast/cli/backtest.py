"""``forecast backtest``: pseudo-real-time backtest of the model beside the baselines."""

from __future__ import annotations

import time
from contextlib import ExitStack
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from forecast.cli.bounds import bounded, bounded_float
from forecast.cli.options import QuietOpt, in_range
from forecast.cli.paths import output_dir
from forecast.data.panel import DEFAULT_PANEL
from forecast.defaults import MAX_SEED
from forecast.dims import HORIZON, MODEL
from forecast.interrupts import kept_on_interrupt
from forecast.model.inference import BACKTEST_SAMPLER
from forecast.model.spec import DEFAULT_MODEL, MAX_CHAINS, MAX_DRAWS, MAX_TUNE
from forecast.progress import StepStatus, duration

if TYPE_CHECKING:
    import pandas as pd

    from forecast.evaluation.backtest import BacktestResult
    from forecast.evaluation.plan import BacktestPlan
    from forecast.model.spec import AlignmentSpec

# the evaluation modules import PyMC, which is slow to import: the command imports them

DEFAULT_OUT = Path("runs") / "backtest"


def parse_range(text: str, option: str) -> tuple[int, ...]:
    """Parse ``2008:2019`` (inclusive) or ``2012`` into a tuple of integers.

    Examples
    --------
    >>> parse_range("1:4", "--horizon"), parse_range("2012", "--origins")
    ((1, 2, 3, 4), (2012,))
    """
    parts = text.split(":")
    try:
        bounds = [int(p) for p in parts]
    except ValueError:
        raise typer.BadParameter(f"{text!r}: expected FIRST:LAST or one integer") from None
    if len(bounds) == 1:
        bounds = bounds * 2
    if len(bounds) != 2 or bounds[0] > bounds[1]:
        raise typer.BadParameter(f"{text!r}: expected FIRST:LAST with FIRST <= LAST")
    return tuple(range(bounds[0], bounds[1] + 1))


def parse_floats(text: str | None, option: str) -> tuple[float, ...]:
    """Parse ``1,0.5`` into floats (nothing for ``None``).

    Examples
    --------
    >>> parse_floats("1,0.5", "--drift-damping"), parse_floats(None, "--drift-damping")
    ((1.0, 0.5), ())
    """
    if text is None:
        return ()
    try:
        return tuple(float(part) for part in text.split(","))
    except ValueError:
        raise typer.BadParameter(f"{text!r}: expected numbers separated by commas") from None


OriginsOpt = Annotated[
    str, typer.Option("--origins", help="Origin years FIRST:LAST (forecast made at year end).")
]
HorizonOpt = Annotated[
    str,
    typer.Option(
        "--horizon",
        help="Horizons in years after the origin, FIRST:LAST (0: the origin's own year, "
        "a nowcast).",
    ),
]
MethodOpt = Annotated[
    str, typer.Option("--method", help="nuts or pathfinder (approximate, faster).")
]
DrawsOpt = Annotated[
    int,
    typer.Option(
        "--draws",
        metavar="N",
        callback=bounded(1, MAX_DRAWS),
        help=f"Draws per chain (1 to {MAX_DRAWS}).",
    ),
]
TuneOpt = Annotated[
    int,
    typer.Option(
        "--tune",
        metavar="N",
        callback=bounded(0, MAX_TUNE),
        help=f"Tuning steps per chain (0 to {MAX_TUNE}).",
    ),
]
ChainsOpt = Annotated[
    int,
    typer.Option(
        "--chains",
        metavar="N",
        callback=bounded(1, MAX_CHAINS),
        help=f"Chains or paths (1 to {MAX_CHAINS}).",
    ),
]
TargetAcceptOpt = Annotated[
    float | None,
    typer.Option(
        "--target-accept",
        metavar="P",
        callback=bounded_float(0.5, 1, open_high=True),
        help="NUTS target acceptance of every origin's fit, from 0.5 up to 1 "
        "(default: the model spec's).",
    ),
]
SeedOpt = Annotated[
    int,
    typer.Option("--seed", callback=bounded(0, MAX_SEED), help=f"Base seed (0 to {MAX_SEED})."),
]
WorkersOpt = Annotated[
    int | None,
    typer.Option(
        "--workers",
        metavar="N",
        callback=in_range(1),
        help="Run origins on a local Dask cluster of N workers (default: serially here).",
    ),
]
SchedulerOpt = Annotated[
    str | None,
    typer.Option(
        "--scheduler",
        help="Address of an existing Dask scheduler you trust (it runs the pickled tasks "
        "sent to it); tls://host:port with the --tls-* files for an encrypted, "
        "authenticated link.",
    ),
]
TlsCaOpt = Annotated[
    Path | None,
    typer.Option("--tls-ca-file", help="CA certificate of a tls:// scheduler (PEM)."),
]
TlsCertOpt = Annotated[
    Path | None, typer.Option("--tls-cert", help="This client's TLS certificate (PEM).")
]
TlsKeyOpt = Annotated[
    Path | None, typer.Option("--tls-key", help="This client's TLS private key (PEM).")
]
DampingOpt = Annotated[
    str | None,
    typer.Option(
        "--drift-damping",
        help="Also score these drift dampings of the projection, comma-separated "
        "(e.g. 1,0.5), on the same fits.",
    ),
]
WeightsOpt = Annotated[
    Path | None,
    typer.Option(
        "--write-weights",
        help="Also write the stacking weights learned from every cell here "
        "(models/stacking.toml is what forecast predict reads).",
    ),
]


def backtest(
    origins: OriginsOpt = "2008:2022",
    horizon: HorizonOpt = "0:4",
    method: MethodOpt = BACKTEST_SAMPLER.method,
    draws: DrawsOpt = BACKTEST_SAMPLER.draws,
    tune: TuneOpt = BACKTEST_SAMPLER.tune,
    chains: ChainsOpt = BACKTEST_SAMPLER.chains,
    target_accept: TargetAcceptOpt = None,
    seed: SeedOpt = 1,
    model: Annotated[Path, typer.Option("--model", help="Model spec TOML.")] = DEFAULT_MODEL,
    data: Annotated[Path, typer.Option("--data", help="Panel CSV.")] = DEFAULT_PANEL,
    out: Annotated[Path, typer.Option("--out", help="Output directory.")] = DEFAULT_OUT,
    workers: WorkersOpt = None,
    scheduler: SchedulerOpt = None,
    tls_ca_file: TlsCaOpt = None,
    tls_cert: TlsCertOpt = None,
    tls_key: TlsKeyOpt = None,
    quiet: QuietOpt = False,
    drift_damping: DampingOpt = None,
    write_weights: WeightsOpt = None,
) -> None:
    """Refit at each origin on the data public then; score against what arrived later."""
    from forecast.data.codebook import load_codebook
    from forecast.data.panel import read_panel
    from forecast.evaluation.backtest import backtest_tables, write_tables
    from forecast.evaluation.plan import BACKTEST_METHODS, BacktestSettings, make_plan
    from forecast.model.spec import load_model_spec

    if method not in BACKTEST_METHODS:
        raise typer.BadParameter(
            f"must be one of {', '.join(BACKTEST_METHODS)}", param_hint="--method"
        )
    if workers is not None and scheduler is not None:
        raise typer.BadParameter("give --workers or --scheduler, not both", param_hint="--workers")
    from forecast.scaleout import scheduler_tls

    tls = scheduler_tls(scheduler, tls_ca_file, tls_cert, tls_key)
    output_dir(out, "--out")
    codebook = load_codebook()
    spec = load_model_spec(model, codebook)
    settings = BacktestSettings(
        origins=parse_range(origins, "--origins"),
        horizons=parse_range(horizon, "--horizon"),
        method=method,
        draws=draws,
        tune=tune,
        chains=chains,
        seed=seed,
        target_accept=spec.sampler.target_accept if target_accept is None else target_accept,
        adaptation=spec.sampler.adaptation,
        drift_dampings=parse_floats(drift_damping, "--drift-damping"),
    )
    plan = make_plan(read_panel(data, codebook), spec, codebook, settings)
    _announce(model, data, origins, horizon, settings.label, seed, workers, scheduler, tls)
    result = _run(plan, workers=workers, scheduler=scheduler, tls=tls, quiet=quiet)
    tables = backtest_tables(result)
    if not tables:
        typer.echo("nothing to score: no origin has a later outcome in the panel")
        return
    paths = write_tables(out, tables)
    # the tables are in place together (or none was, on Ctrl-C); then only printing
    with kept_on_interrupt(f"the backtest tables were written to {out}"):
        skill_h, skill_ih = tables["skill"], tables["skill_by_indicator"]
        for name in dict.fromkeys(skill_h[MODEL]):
            print_summary(
                skill_h[skill_h[MODEL] == name],
                skill_ih[skill_ih[MODEL] == name],
                tables["coverage"],
                settings.label,
                name,
            )
        print_convergence(result.fits)
        for path in paths.values():
            typer.echo(f"wrote {path}")
    if write_weights is not None:
        _save_weights(write_weights, tables, spec, data, origins, horizon, seed, settings.label)
        typer.echo(f"wrote {write_weights}")


def _announce(
    model: Path,
    data: Path,
    origins: str,
    horizon: str,
    label: str,
    seed: int,
    workers: int | None,
    scheduler: str | None,
    tls: object,
) -> None:
    """Say what runs where (and warn of a scheduler link that is not TLS)."""
    where = (
        f"{workers} local Dask workers"
        if workers
        else (f"Dask scheduler {scheduler}" if scheduler else "serial")
    )
    if scheduler is not None and tls is None:
        typer.echo(
            f"note: {scheduler} is not TLS: the link is neither encrypted nor authenticated, "
            "and the scheduler runs the pickled tasks it gets (README, Dask scheduler)",
            err=True,
        )
    typer.echo(
        f"backtest of {model.name} on {data}: origins {origins}, horizons {horizon}, "
        f"{label}, seed {seed}, {where}"
    )


def _run(
    plan: BacktestPlan,
    *,
    workers: int | None,
    scheduler: str | None,
    tls: Any,
    quiet: bool,
) -> BacktestResult:
    """Run every origin, serially or on Dask, counting finished origins into the progress."""
    from forecast.evaluation.backtest import run_backtest
    from forecast.progress import progress_for

    origins = plan.settings.origins
    with ExitStack() as stack:
        client = None
        if workers is not None or scheduler is not None:
            from forecast.scaleout import dask_client

            client = stack.enter_context(dask_client(workers=workers, scheduler=scheduler, tls=tls))
        progress = stack.enter_context(progress_for(quiet=quiet))
        status = stack.enter_context(
            progress.step(f"backtest: refitting at {len(origins)} origins")
        )
        return run_backtest(plan, client=client, on_origin=OriginCounter(status, len(origins)))


def _save_weights(
    path: Path,
    tables: dict[str, pd.DataFrame],
    spec: AlignmentSpec,
    data: Path,
    origins: str,
    horizons: str,
    seed: int,
    label: str,
) -> None:
    """Write the stacking weights learned from every cell, their provenance and evidence."""
    from forecast.data.panel import panel_sha256
    from forecast.evaluation.skill import backtest_evidence
    from forecast.model.stacked import provenance_now, write_weights

    provenance = provenance_now(
        spec_sha256=spec.sha256,
        model_sha256=spec.model_sha256,
        panel_sha256=panel_sha256(data),
        origins=origins,
        horizons=horizons,
        seed=seed,
        fits=label,
    )
    evidence = backtest_evidence(tables["skill"], tables["coverage"])
    write_weights(path, tables["stacking_weights"], provenance, evidence, tables["pit_histogram"])


class OriginCounter:
    """Count finished origins into a progress status, with the time left at the rate so far.

    Examples
    --------
    >>> status = StepStatus()
    >>> count = OriginCounter(status, 3)
    >>> status.text
    '0 of 3 origins done'
    >>> count(2012)
    >>> status.text.startswith("1 of 3 origins done (last 2012), about")
    True
    >>> count(2013), count(2014)
    (None, None)
    >>> status.text
    '3 of 3 origins done (last 2014)'
    """

    def __init__(self, status: StepStatus, total: int) -> None:
        self.status, self.total, self.done = status, total, 0
        self.started = time.monotonic()
        status.update(f"0 of {total} origins done")

    def __call__(self, origin: int) -> None:
        """Record that ``origin`` finished."""
        self.done += 1
        elapsed = time.monotonic() - self.started
        left = (self.total - self.done) * elapsed / self.done
        tail = f", about {duration(left)} left" if self.done < self.total else ""
        self.status.update(f"{self.done} of {self.total} origins done (last {origin}){tail}")


def print_summary(
    skill: pd.DataFrame,
    skill_by_indicator: pd.DataFrame,
    coverage: pd.DataFrame,
    label: str,
    name: str,
) -> None:
    """Print a model's CRPS skill by horizon, interval coverage, and where it loses."""
    from rich.console import Console
    from rich.table import Table

    from forecast.evaluation.skill import losses

    console = Console()
    table = Table(title=f"CRPS skill of {name} ({label}) against each baseline")
    table.add_column("horizon", justify="right")
    baselines = list(dict.fromkeys(skill["baseline"]))
    for baseline in baselines:
        table.add_column(f"vs {baseline}", justify="right")
    table.add_column("cells", justify="right")
    for h, group in skill.groupby(HORIZON):
        by = dict(zip(group["baseline"], group["skill"], strict=True))
        table.add_row(
            str(h), *(f"{by[b]:+.3f}" for b in baselines), str(int(group["cells"].iloc[0]))
        )
    console.print(table)
    cov = Table(title="Interval coverage (nominal 50 % and 90 %)")
    for col in ("model", "horizon", "cells", "50 %", "90 %"):
        cov.add_column(col, justify="right" if col != "model" else "left")
    for row in coverage[coverage["model"] == name].itertuples(index=False):
        cov.add_row(
            str(row.model),
            str(row.horizon),
            str(row.cells),
            f"{row.covered_50:.2f}",
            f"{row.covered_90:.2f}",
        )
    console.print(cov)
    worse = losses(skill_by_indicator)
    if worse.empty:
        console.print(f"{name} beats every baseline on every indicator and horizon")
        return
    console.print(
        f"{name} loses to a baseline on {len(worse)} (indicator, horizon, baseline) groups:"
    )
    for row in worse.head(15).itertuples(index=False):
        console.print(
            f"  {row.indicator} h={row.horizon} vs {row.baseline}: skill {row.skill:+.3f} "
            f"({row.cells} cells)"
        )


def print_convergence(fits: pd.DataFrame) -> None:
    """Print how many origins' fits passed the convergence gates, and the worst values."""
    from forecast.model.diagnostics import MAX_RHAT, MIN_ESS_BULK

    fitted = fits.dropna(subset=["max_rhat"]) if "max_rhat" in fits else fits.iloc[:0]
    if fitted.empty:
        return
    if fitted["approximate"].any():
        typer.echo("APPROXIMATE: the convergence gates apply to NUTS fits only")
        return
    passed = int(fitted["converged"].sum())
    typer.echo(
        f"convergence: {passed} of {len(fitted)} origin fits pass the gates "
        f"(R-hat <= {MAX_RHAT}, bulk ESS >= {MIN_ESS_BULK}, no divergences); "
        f"worst R-hat {fitted['max_rhat'].max():.4g}, lowest bulk ESS "
        f"{fitted['min_ess_bulk'].min():.0f}, divergences {int(fitted['divergences'].sum())}"
    )
