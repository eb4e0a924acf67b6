"""The quarterly report's pipeline: run (or reuse a run), forecast, score, record, render.

``forecast report`` calls :func:`build_report`. Every step is a call into the package's own
workflows; this module only orders them, reports progress, and hands results to
:mod:`~forecast.report.gather`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from pathlib import Path

import xarray as xr

from forecast.data.codebook import Codebook, load_codebook
from forecast.data.panel import read_panel
from forecast.model.runs import FORECAST_FILE, Run
from forecast.report.attribution import attribute
from forecast.report.contracts import Attribution, ReportInputs, TrackRecordRow
from forecast.report.exporters import write_report
from forecast.report.figures import report_figures
from forecast.report.gather import gather, scenario_table, whatif_table
from forecast.report.sections import build_sections

#: a progress reporter: called with a step's description, returns a context for the step
Step = Callable[[str], AbstractContextManager[object]]


def _silent(_: str) -> AbstractContextManager[object]:
    return nullcontext()


@dataclass(frozen=True)
class LedgerView:
    """What the report reads from the ledger: previous probabilities, track record, runs."""

    previous: Mapping[str, float]
    previous_run: str | None
    track_record: tuple[TrackRecordRow, ...]


def previous_forecast(runs_dir: Path, run_id: str | None, current: str) -> xr.Dataset | None:
    """Return the stored forecast of the previous issue's run, if it is still on disk."""
    if run_id is None or run_id == current:
        return None
    path = runs_dir / run_id / FORECAST_FILE
    if not path.is_file():
        return None
    with xr.open_dataset(path, engine="h5netcdf") as ds:
        return ds.load()


def build_report(
    run: Run,
    *,
    quarter: str,
    out_dir: Path,
    runs_dir: Path,
    ledger: LedgerView,
    scenario_spec: Path | None = None,
    whatif_spec: Path | None = None,
    data: Path | None = None,
    ledger_path: str | None = None,
    step: Step = _silent,
    codebook: Codebook | None = None,
) -> tuple[ReportInputs, dict[str, Path]]:
    """Score a fitted run, render its figures and write the report under ``out_dir``.

    Returns the report's inputs (for tests and the CLI's summary) and the paths written.
    """
    from forecast.plots.convergence import CONVERGENCE_GROUPS, parameter_draws
    from forecast.plots.run_figures import forecast_bands
    from forecast.rank_check import rank_check
    from forecast.scenarios.probabilities import scenario_probabilities
    from forecast.scenarios.spec import DEFAULT_SCENARIOS, load_scenario_spec
    from forecast.scenarios.whatif_spec import DEFAULT_WHATIF, load_whatif_spec
    from forecast.scenarios.workflow import run_forecast, run_whatifs

    codebook = codebook or load_codebook()
    spec = load_scenario_spec(scenario_spec or DEFAULT_SCENARIOS)
    whatifs = load_whatif_spec(whatif_spec or DEFAULT_WHATIF)
    panel = read_panel(run.panel_path(data), codebook)
    with step("forecasting"):
        forecast = run_forecast(run, spec.periods())
        # the years after the data up to the report's own are nowcasts, later ones forecasts
        forecast.attrs["nowcast_until"] = quarter[:4]
    with step("scoring scenarios"):
        scenarios = scenario_probabilities(forecast, spec)
    with step("scoring what-ifs"):
        shocked = run_whatifs(run, spec, whatifs) if whatifs.whatifs else None
    with step("attributing changes since the last issue"):
        previous = previous_forecast(runs_dir, ledger.previous_run, run.run_id)
        if ledger.previous_run == run.run_id:
            attribution = Attribution(
                previous_run=run.run_id,
                note=f"The previous issue was made from the same run ({run.run_id}): "
                "no estimate has moved since.",
            )
        elif previous is None and ledger.previous_run is not None:
            attribution = Attribution(
                previous_run=ledger.previous_run,
                note=f"The previous issue's run {ledger.previous_run} is not in {runs_dir}, "
                "so the change since then cannot be decomposed.",
            )
        else:
            attribution = attribute(panel, forecast, previous, codebook=codebook)
    posterior = run.posterior()
    with step("testing the chains' agreement (rank test)"):
        ranks = rank_check(parameter_draws(posterior, CONVERGENCE_GROUPS["dynamics"]))
    with step("drawing figures"):
        table = scenario_table(scenarios)
        figures = report_figures(
            posterior=posterior,
            bands=forecast_bands(forecast),
            panel=panel,
            codebook=codebook,
            scenarios=table[table["kind"] == "scenario"],
            whatifs=None if shocked is None else whatif_table(shocked),
            horizon=scenarios.headline.horizon,
        )
    inputs = gather(
        quarter=quarter,
        manifest=run.manifest,
        forecast=forecast,
        scenarios=scenarios,
        spec=spec,
        whatifs=shocked,
        panel=panel,
        codebook=codebook,
        attribution=attribution,
        previous=ledger.previous,
        track_record=ledger.track_record,
        figures=figures,
        ledger_path=ledger_path,
        rank_check=ranks,
    )
    with step("writing the report"):
        paths = write_report(inputs, build_sections(inputs), out_dir)
    return inputs, paths
