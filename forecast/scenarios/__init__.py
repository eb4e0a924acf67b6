"""Scenario layer: named outcomes as posterior probabilities, and what-if shocks.

The Python API mirrors the command line (``forecast scenarios``, ``forecast whatif``)::

    from forecast.model.runs import load_run
    from forecast.scenarios import (
        load_scenario_spec, load_whatif_spec, run_scenarios, run_whatifs,
        scenario_probabilities, apply_whatif, whatif_probabilities,
    )

    run = load_run("runs/latest")
    result = run_scenarios(run, load_scenario_spec())      # ScenarioResult
    result.probabilities      # xarray, dim "scenario": probability, mcse, ess
    result.table()            # tidy: one row per scenario and question
    result.headline.line()    # "Trend certainty ... vs outcome uncertainty ..."
    shocked = run_whatifs(run, load_scenario_spec(), load_whatif_spec())  # WhatIfResult
    shocked.probabilities     # xarray, dims ("whatif", "scenario")

    # the same from a forecast Dataset and a posterior
    result = scenario_probabilities(forecast, spec)
    world = apply_whatif(run.posterior(), whatif, until="2030", random_seed=1)

The names above are loaded on first use (PEP 562), so that importing one small module of
the layer (the CLI reads a spec before anything else) does not import ArviZ or PyMC.

The modules:

- :mod:`~forecast.scenarios.rules` parses scenario rules (``ast`` against a whitelist) into
  the typed trees of :mod:`~forecast.scenarios.expr`; :mod:`~forecast.scenarios.evaluate`
  computes them over forecast draws;
- :mod:`~forecast.scenarios.spec` loads ``models/scenarios.toml`` and
  :mod:`~forecast.scenarios.whatif_spec` loads ``models/whatif.toml`` (with the shared
  helpers of :mod:`~forecast.scenarios.entries`);
- :mod:`~forecast.scenarios.probabilities` gives probabilities, Monte Carlo errors and
  entropies (:mod:`~forecast.scenarios.events`) and the headline pair
  (:mod:`~forecast.scenarios.headline`);
- :mod:`~forecast.scenarios.whatif` re-propagates the posterior under shocks;
- :mod:`~forecast.scenarios.workflow` finds a run's forecast that covers a spec;
- :mod:`~forecast.scenarios.synthetic` builds small synthetic forecasts for examples and tests.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any, Final

if TYPE_CHECKING:
    from forecast.scenarios.probabilities import ScenarioResult, scenario_probabilities
    from forecast.scenarios.spec import ScenarioSpec, load_scenario_spec
    from forecast.scenarios.whatif import WhatIfResult, apply_whatif, whatif_probabilities
    from forecast.scenarios.whatif_spec import WhatIfSpec, load_whatif_spec
    from forecast.scenarios.workflow import run_scenarios, run_whatifs

#: public name -> the module that defines it
_EXPORTS: Final = {
    "ScenarioResult": "forecast.scenarios.probabilities",
    "scenario_probabilities": "forecast.scenarios.probabilities",
    "ScenarioSpec": "forecast.scenarios.spec",
    "load_scenario_spec": "forecast.scenarios.spec",
    "WhatIfResult": "forecast.scenarios.whatif",
    "apply_whatif": "forecast.scenarios.whatif",
    "whatif_probabilities": "forecast.scenarios.whatif",
    "WhatIfSpec": "forecast.scenarios.whatif_spec",
    "load_whatif_spec": "forecast.scenarios.whatif_spec",
    "run_scenarios": "forecast.scenarios.workflow",
    "run_whatifs": "forecast.scenarios.workflow",
}

__all__ = [
    "ScenarioResult",
    "ScenarioSpec",
    "WhatIfResult",
    "WhatIfSpec",
    "apply_whatif",
    "load_scenario_spec",
    "load_whatif_spec",
    "run_scenarios",
    "run_whatifs",
    "scenario_probabilities",
    "whatif_probabilities",
]


def __getattr__(name: str) -> Any:
    """Import a public name's module on first use.

    Examples
    --------
    >>> from forecast.scenarios import load_scenario_spec
    >>> load_scenario_spec().headline.id
    'region_2030'
    """
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)


def __dir__() -> list[str]:
    """List the public names beside the module's own."""
    return sorted({*globals(), *__all__})
