"""Shared fixtures: paths to the raw data, the bundled codebook and panel, a seeded RNG."""

from __future__ import annotations

from pathlib import Path

import matplotlib
import numpy as np
import pytest

matplotlib.use("Agg")

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
