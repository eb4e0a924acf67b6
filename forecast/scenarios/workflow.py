"""The scenario layer's user path: find a run's forecast that covers a spec, then score it.

The CLI and the report call these; the Python API proper is
:func:`~forecast.scenarios.probabilities.scenario_probabilities` and
:func:`~forecast.scenarios.whatif.whatif_probabilities`.
"""

from __future__ import annotations

import xarray as xr

from forecast.dims import PERIOD
from forecast.model.runs import FORECAST_FILE, Run
from forecast.model.workflow import forecast_run
from forecast.periods import parse_period
from forecast.scenarios.probabilities import ScenarioResult, scenario_probabilities
from forecast.scenarios.spec import ScenarioSpec
from forecast.scenarios.whatif import WhatIfResult, whatif_probabilities
from forecast.scenarios.whatif_spec import WhatIfSpec

#: the forecast a run directory may hold (``forecast predict`` writes it)


def covers(forecast: xr.Dataset, periods: list[str]) -> bool:
    """Return whether the forecast reaches every period (by end date) of ``periods``.

    Examples
    --------
    >>> from forecast.scenarios.synthetic import synthetic_forecast
    >>> covers(synthetic_forecast(until=2030), ["2025", "2030"])
    True
    >>> covers(synthetic_forecast(until=2030), ["2031"])
    False
    """
    last = parse_period(str(forecast[PERIOD].values[-1])).end_time
    return all(parse_period(p).end_time <= last for p in periods)


def run_forecast(run: Run, periods: list[str]) -> xr.Dataset:
    """Return the run's forecast through the latest of ``periods``.

    The stored ``forecast.nc`` is used when it belongs to the run and reaches every period;
    otherwise the run is forecast anew with its own seed
    (:func:`forecast.model.workflow.forecast_run`), through the latest period.
    """
    if (run.path / FORECAST_FILE).is_file():
        stored = run.dataset(FORECAST_FILE)
        if str(stored.attrs.get("run_id", "")) == run.run_id and covers(stored, periods):
            return stored
    return forecast_run(run, _horizon(run, periods))


def _horizon(run: Run, periods: list[str]) -> str:
    """Return the latest of ``periods``, and at least the run's last fitted period."""
    horizon = max(periods, key=lambda p: parse_period(p).end_time)
    last_fitted = str(run.manifest.get("model", {}).get("last_period", ""))
    if last_fitted and parse_period(horizon).end_time <= parse_period(last_fitted).end_time:
        return last_fitted
    return horizon


def run_scenarios(run: Run, spec: ScenarioSpec) -> ScenarioResult:
    """Score a spec on a run (``forecast scenarios``)."""
    return scenario_probabilities(run_forecast(run, spec.periods()), spec)


def run_whatifs(run: Run, spec: ScenarioSpec, whatifs: WhatIfSpec) -> WhatIfResult:
    """Score a spec on a run under each what-if beside the baseline (``forecast whatif``).

    The baseline is the model's own forecast (not the stacked one), projected afresh with
    the run's seed rather than read from a stored ``forecast.nc``: the what-ifs shock the
    model's latent and are projected by the same code with the same seed, so the comparison
    is paired draw by draw whatever version of the code wrote the stored file. (A stacked
    baseline would mix in persistence draws that no shock can move.)
    """
    baseline = forecast_run(run, _horizon(run, spec.periods()), forecast="model")
    return whatif_probabilities(run.posterior(), baseline, spec, whatifs)
