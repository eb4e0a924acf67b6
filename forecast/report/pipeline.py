"""The quarterly report's pipeline: fit or load a run, forecast once, score once, record, render.

``forecast report`` builds a :class:`ReportJob` from its options and calls
:func:`run_report`; every step is a call into the package's own workflows. This module only
orders them, reports progress, and hands results to :mod:`~forecast.report.gather`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd
import xarray as xr

from forecast.data.codebook import Codebook, load_codebook
from forecast.data.panel import DEFAULT_PANEL, read_panel
from forecast.defaults import DEFAULT_HORIZON
from forecast.errors import ForecastError
from forecast.interrupts import Kept
from forecast.model.forecasting import weights_for_run
from forecast.model.runs import Run, load_run
from forecast.progress import SILENT, Progress
from forecast.report.attribution import attribute
from forecast.report.backtest import backtest_facts
from forecast.report.contracts import Attribution, ReportInputs
from forecast.report.exporters import write_report
from forecast.report.figures import report_figures
from forecast.report.gather import gather, scenario_table, whatif_table
from forecast.report.ledger_view import LedgerView, read_ledger_view
from forecast.report.sections import build_sections
from forecast.scenarios.probabilities import ScenarioResult, scenario_probabilities
from forecast.scenarios.spec import DEFAULT_SCENARIOS, ScenarioSpec, load_scenario_spec
from forecast.scenarios.workflow import horizon_of

if TYPE_CHECKING:
    from forecast.model.workflow import FitOutcome


@dataclass(frozen=True)
class ReportJob:
    """What ``forecast report`` was asked for.

    ``run`` names a stored run to report on; ``None`` fits the model now (``model``,
    ``data``, ``seed``), stores the run and its forecast under ``runs_dir`` and records the
    issue in ``ledger``. ``seed`` applies to a fresh fit only: a stored run keeps its own.
    """

    quarter: str
    out_dir: Path
    ledger: Path
    runs_dir: Path
    run: str | None = None
    model: Path | None = None
    data: Path | None = None
    scenarios: Path | None = None
    whatif: Path | None = None
    seed: int | None = None

    def __post_init__(self) -> None:
        if self.run is not None and self.seed is not None:
            raise ForecastError(
                f"--seed {self.seed} applies to a fresh fit: run {self.run} keeps its own seed"
            )


@dataclass(frozen=True)
class ReportOutcome:
    """The report's inputs, the files written, and the fit when the job made one."""

    inputs: ReportInputs
    paths: dict[str, Path]
    fitted: FitOutcome | None


def run_report(
    job: ReportJob, *, progress: Progress = SILENT, kept: Kept | None = None
) -> ReportOutcome:
    """Fit or load a run, forecast it once, score it once, record the issue, write the report.

    ``kept`` hears of every output once it is in place (the line a Ctrl-C prints).
    """
    kept = kept if kept is not None else Kept()
    # read the ledger first: a damaged ledger should stop the pipeline before the fit
    view = read_ledger_view(job.ledger, job.quarter)
    fitted = _fit(job, progress, kept) if job.run is None else None
    run = fitted.run if fitted is not None else load_run(job.run, job.runs_dir)
    spec = load_scenario_spec(job.scenarios or DEFAULT_SCENARIOS)
    horizon = horizon_of(run, [DEFAULT_HORIZON, *spec.periods()])
    with progress.step(f"forecasting through {horizon}"):
        forecast = run.forecast(horizon, store=fitted is not None)
    if fitted is not None:
        kept.add(f"its forecast was written to {run.path}")
    with progress.step("scoring scenarios"):
        scenarios = scenario_probabilities(forecast, spec)
    if fitted is not None:
        from forecast.evaluation.ledger.workflow import record_forecast

        with progress.step(f"recording the {job.quarter} issue in {job.ledger}"):
            # SQLite creates the file but not its directory (checked writable before the fit)
            job.ledger.parent.mkdir(parents=True, exist_ok=True)
            record_forecast(job.ledger, run, forecast, job.quarter, spec, scored=scenarios)
        kept.add(f"the {job.quarter} issue was recorded in {job.ledger}")
    # the years after the data up to the report's own are nowcasts, later ones forecasts
    forecast.attrs["nowcast_until"] = job.quarter[:4]
    inputs, paths = render_report(
        run, forecast, scenarios, spec, job=job, view=view, progress=progress
    )
    kept.add(f"the report was written to {job.out_dir}")
    return ReportOutcome(inputs, paths, fitted)


def _fit(job: ReportJob, progress: Progress, kept: Kept) -> FitOutcome:
    """Fit the job's model to its panel and store the run."""
    from forecast.model.spec import DEFAULT_MODEL, load_model_spec
    from forecast.model.workflow import fit_panel, settings_from_spec

    model = job.model or DEFAULT_MODEL
    settings = settings_from_spec(load_model_spec(model, load_codebook()), seed=job.seed)
    with progress.step(
        f"fitting {model.name} ({settings.method}, {settings.chains} chains x "
        f"{settings.draws} draws, seed {settings.seed})"
    ):
        outcome = fit_panel(
            job.data or DEFAULT_PANEL, model, settings, runs_dir=job.runs_dir, progress=progress
        )
    kept.add(f"run {outcome.run.run_id} was written to {outcome.run.path}")
    return outcome


def previous_forecast(runs_dir: Path, run_id: str | None, current: str) -> xr.Dataset | None:
    """Return the stored forecast of the previous issue's run, if it is still on disk."""
    if run_id is None or run_id == current:
        return None
    try:
        previous = load_run(run_id, runs_dir)
    except ForecastError:
        return None
    return previous.stored_forecast()


def render_report(
    run: Run,
    forecast: xr.Dataset,
    scenarios: ScenarioResult,
    spec: ScenarioSpec,
    *,
    job: ReportJob,
    view: LedgerView,
    progress: Progress = SILENT,
    codebook: Codebook | None = None,
) -> tuple[ReportInputs, dict[str, Path]]:
    """Add what-ifs, attribution and figures to a scored forecast; write the report.

    Returns the report's inputs (for tests and the CLI's summary) and the paths written.
    """
    from forecast.plots.convergence import CONVERGENCE_GROUPS, parameter_draws
    from forecast.plots.run_figures import forecast_bands
    from forecast.rank_check import rank_check
    from forecast.scenarios.whatif_spec import DEFAULT_WHATIF, load_whatif_spec
    from forecast.scenarios.workflow import run_whatifs

    codebook = codebook or load_codebook()
    whatifs = load_whatif_spec(job.whatif or DEFAULT_WHATIF)
    panel = read_panel(run.panel_path(job.data), codebook)
    with progress.step("scoring what-ifs"):
        shocked = run_whatifs(run, spec, whatifs) if whatifs.whatifs else None
    with progress.step("attributing changes since the last issue"):
        attribution = _attribution(run, forecast, panel, codebook, view, job.runs_dir)
    posterior = run.posterior()
    with progress.step("testing the chains' agreement (rank test)"):
        ranks = rank_check(parameter_draws(posterior, CONVERGENCE_GROUPS["dynamics"]))
    kind = str(forecast.attrs.get("forecast", "model"))
    backtest = backtest_facts(weights_for_run(run.manifest), kind)
    with progress.step("drawing figures"):
        table = scenario_table(scenarios)
        figures = report_figures(
            posterior=posterior,
            bands=forecast_bands(forecast),
            panel=panel,
            codebook=codebook,
            scenarios=table[table["kind"] == "scenario"],
            whatifs=None if shocked is None else whatif_table(shocked),
            horizon=scenarios.headline.horizon,
            backtest=backtest,
        )
    inputs = gather(
        quarter=job.quarter,
        manifest=run.manifest,
        forecast=forecast,
        scenarios=scenarios,
        spec=spec,
        whatifs=shocked,
        panel=panel,
        codebook=codebook,
        attribution=attribution,
        previous=view.previous,
        track_record=view.track_record,
        figures=figures,
        ledger_path=str(job.ledger),
        rank_check=ranks,
        backtest=backtest,
    )
    with progress.step("writing the report"):
        paths = write_report(inputs, build_sections(inputs), job.out_dir)
    return inputs, paths


def _attribution(
    run: Run,
    forecast: xr.Dataset,
    panel: pd.DataFrame,
    codebook: Codebook,
    view: LedgerView,
    runs_dir: Path,
) -> Attribution:
    """Attribute what moved since the previous issue, or say why that cannot be done."""
    if view.previous_run == run.run_id:
        return Attribution(
            previous_run=run.run_id,
            note=f"The previous issue was made from the same run ({run.run_id}): "
            "no estimate has moved since.",
        )
    previous = previous_forecast(runs_dir, view.previous_run, run.run_id)
    if previous is None and view.previous_run is not None:
        return Attribution(
            previous_run=view.previous_run,
            note=f"The previous issue's run {view.previous_run} is not in {runs_dir}, "
            "so the change since then cannot be decomposed.",
        )
    return attribute(panel, forecast, previous, codebook=codebook)
