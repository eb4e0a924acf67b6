"""Shared fixtures: paths to the raw data, the bundled codebook and panel, a seeded RNG."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import matplotlib
import numpy as np
import pytest
from hypothesis import settings

matplotlib.use("Agg")

# property tests draw the same examples on every run, so CI cannot pass or fail by luck;
# HYPOTHESIS_PROFILE=explore searches afresh
settings.register_profile("ci", derandomize=True, database=None)
settings.register_profile("explore", derandomize=False)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

ROOT = Path(__file__).resolve().parents[1]
RAW_DIR = ROOT.parent / "shared" / "data"


@pytest.fixture(scope="session")
def raw_dir() -> Path:
    """The raw public data beside the project (``../shared/data``)."""
    assert RAW_DIR.is_dir(), f"raw data not found at {RAW_DIR}"
    return RAW_DIR


@pytest.fixture(scope="session")
def codebook():
    from forecast.data.codebook import load_codebook

    return load_codebook()


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(20261125)


@pytest.fixture
def sigint_default():
    """SIGINT raises KeyboardInterrupt in this test, even where the runner ignores it."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, previous)


# -- the model, compiled once per session ---------------------------------------------------
#
# Compiling the alignment model costs about a minute; every test that fits shares this cache
# (refits with the same structure reuse the compiled model through ``with_data``).

#: reduced settings of the real end-to-end fit of the bundled panel that CI runs
# target_accept 0.95: the fit the end-to-end tests were calibrated on (the default is 0.995)
E2E_SETTINGS = dict(method="nuts", draws=250, tune=400, chains=2, seed=11, target_accept=0.95)


@pytest.fixture(scope="session")
def compiled_models():
    from forecast.model.fit import CompiledModels

    return CompiledModels()


@pytest.fixture(scope="session")
def bundled_fit(tmp_path_factory, compiled_models):
    """A real fit of the bundled panel with the default spec (reduced draws), stored as a run."""
    from forecast.data.panel import DEFAULT_PANEL
    from forecast.model.fit import FitSettings
    from forecast.model.spec import DEFAULT_MODEL
    from forecast.model.workflow import fit_panel

    runs = tmp_path_factory.mktemp("runs")
    return fit_panel(
        DEFAULT_PANEL,
        DEFAULT_MODEL,
        FitSettings(**E2E_SETTINGS),
        runs_dir=runs,
        compiled=compiled_models,
    )


@pytest.fixture(scope="session")
def bundled_run(bundled_fit):
    """The stored run of :func:`bundled_fit`."""
    return bundled_fit.run


@pytest.fixture(scope="session")
def bundled_forecast(bundled_run):
    """Forecast draws of the bundled run through 2030 (latent and indicators)."""

    return bundled_run.forecast("2030")
