"""The scenario layer's user path: find a run's forecast that covers a spec, then score it.

The CLI and the report call these; the Python API proper is
:func:`~forecast.scenarios.probabilities.scenario_probabilities` and
:func:`~forecast.scenarios.whatif.whatif_probabilities`.
"""

from __future__ import annotations

from forecast.model.runs import Run
from forecast.periods import parse_period
from forecast.scenarios.probabilities import ScenarioResult, scenario_probabilities
from forecast.scenarios.spec import ScenarioSpec
from forecast.scenarios.whatif import WhatIfResult, whatif_probabilities
from forecast.scenarios.whatif_spec import WhatIfSpec


def horizon_of(run: Run, periods: list[str]) -> str:
    """Return the latest of ``periods``, and at least the run's last fitted period."""
    horizon = max(periods, key=lambda p: parse_period(p).end_time)
    last_fitted = run.manifest.model.last_period
    if parse_period(horizon).end_time <= parse_period(last_fitted).end_time:
        return last_fitted
    return horizon


def run_scenarios(run: Run, spec: ScenarioSpec) -> ScenarioResult:
    """Score a spec on a run (``forecast scenarios``)."""
    return scenario_probabilities(run.forecast(horizon_of(run, spec.periods())), spec)


def run_whatifs(run: Run, spec: ScenarioSpec, whatifs: WhatIfSpec) -> WhatIfResult:
    """Score a spec on a run under each what-if beside the baseline (``forecast whatif``).

    The baseline is the model's own forecast (not the stacked one) with the run's seed: the
    what-ifs shock the model's latent and are projected by the same code with the same seed,
    so the comparison is paired draw by draw. (A stacked baseline would mix in persistence
    draws that no shock can move.)
    """
    baseline = run.forecast(horizon_of(run, spec.periods()), kind="model")
    return whatif_probabilities(run.posterior(), baseline, spec, whatifs)
