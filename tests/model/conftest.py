"""Fixtures of the model tests: the default spec on the bundled panel, and a simulated twin.

The simulated panel keeps the bundled panel's design (states, indicators, years, observed
cells and trials), so its fits share the session's compiled model with ``bundled_fit``.
"""

from __future__ import annotations

import numpy as np
import pytest

#: true values of the simulation: the model's default truth, with loadings spread over
#: [0.6, 1.6] so that their recovery can be judged by correlation
TRUE_LOADINGS = np.array([1.3, 0.6, 1.0, 1.6, 0.8, 1.45, 0.7, 1.15, 0.9, 1.25])


@pytest.fixture(scope="session")
def default_spec(codebook):
    from forecast.model.spec import DEFAULT_MODEL, load_model_spec

    return load_model_spec(DEFAULT_MODEL, codebook)


@pytest.fixture(scope="session")
def bundled_panel(codebook):
    from forecast.data.panel import DEFAULT_PANEL, read_panel

    return read_panel(DEFAULT_PANEL, codebook)


@pytest.fixture(scope="session")
def bundled_data(bundled_panel, default_spec, codebook):
    from forecast.model.design import build_model_data

    return build_model_data(bundled_panel, default_spec, codebook)


@pytest.fixture(scope="session")
def simulation(bundled_data, default_spec):
    """Observations drawn from the model on the bundled panel's design, with their truth."""
    from forecast.model.simulate import DEFAULT_TRUTH, simulate

    loading = np.ones(len(bundled_data.indicators))
    loading[~bundled_data.is_reference] = TRUE_LOADINGS
    fixed = DEFAULT_TRUTH | {"loading": loading}
    return simulate(bundled_data, default_spec, random_seed=20261125, fixed=fixed)
