"""Fixtures of the plot tests: every figure closed after each test, small synthetic results."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pandas as pd
import pytest
import xarray as xr

STATES = ["KAZ", "UZB"]
POLES = ["RUS", "CHN", "WEST"]
INDICATORS = ["trade_share_rus", "unga_agree_chn", "us_aid"]
PERIODS = [str(y) for y in range(2015, 2024)]
LAST_FITTED = "2020"


@pytest.fixture(autouse=True)
def close_figures() -> Iterator[None]:
    import matplotlib.pyplot as plt

    yield
    plt.close("all")


@pytest.fixture
def forecast(rng: np.random.Generator) -> xr.Dataset:
    """A tiny forecast: 2 chains x 30 draws, 2 states, 3 poles, 3 indicators, 2015-2023."""
    shape_a = (2, 30, len(STATES), len(POLES), len(PERIODS))
    alignment = np.cumsum(rng.normal(0, 0.2, shape_a), axis=-1)
    shape_i = (2, 30, len(STATES), len(INDICATORS), len(PERIODS))
    indicators = rng.uniform(0.1, 0.9, shape_i)
    indicators[:, :, :, 2] *= 100.0  # us_aid is an amount, not a share
    indicators[:, :, 1, 0, :2] = np.nan  # a cell the model does not produce
    return xr.Dataset(
        {
            "alignment": (("chain", "draw", "state", "pole", "period"), alignment),
            "indicators": (("chain", "draw", "state", "indicator", "period"), indicators),
        },
        coords={"state": STATES, "pole": POLES, "indicator": INDICATORS, "period": PERIODS},
        attrs={"last_fitted": LAST_FITTED, "until": PERIODS[-1], "converged": 1},
    )


@pytest.fixture
def panel() -> pd.DataFrame:
    """Observed values of the forecast's series up to 2020, plus a quarterly series."""
    rows = []
    for state in STATES:
        for k, key in enumerate(INDICATORS):
            for year in range(2015, 2021):
                value = 50.0 if key == "us_aid" else 0.2 + 0.05 * k
                rows.append((state, key, str(year), value))
    rows += [("KAZ", "eu_exports", f"2020Q{q}", 10.0) for q in (1, 2, 3)]
    rows.append(("KAZ", "trade_share_rus", "2014", np.nan))  # a missing value
    return pd.DataFrame.from_records(rows, columns=["state", "indicator", "period", "value"])


@pytest.fixture
def posterior(rng: np.random.Generator) -> xr.DataTree:
    """A tiny posterior with the variables the forest and convergence plots read."""
    chains, draws = 2, 40
    loading = rng.gamma(5.0, 0.2, (chains, draws, len(INDICATORS)))
    loading[..., 0] = 1.0  # the reference indicator's loading is fixed
    post = xr.Dataset(
        {
            "loading": (("chain", "draw", "indicator"), loading),
            "drift": (
                ("chain", "draw", "state", "pole"),
                rng.normal(0, 0.02, (chains, draws, len(STATES), len(POLES))),
            ),
            "drift_mu": (("chain", "draw", "pole"), rng.normal(0, 0.02, (chains, draws, 3))),
            "volatility_log_mu": (
                ("chain", "draw", "pole"),
                rng.normal(-2, 0.1, (chains, draws, 3)),
            ),
            "noise": (
                ("chain", "draw", "gaussian_indicator"),
                rng.gamma(5.0, 0.1, (chains, draws, 2)),
            ),
        },
        coords={
            "chain": range(chains),
            "draw": range(draws),
            "indicator": INDICATORS,
            "state": STATES,
            "pole": POLES,
            "gaussian_indicator": ["trade_share_rus", "us_aid"],
        },
        attrs={"run_id": "test-run"},
    )
    constant = xr.Dataset(
        {
            "pole_of_indicator": ("indicator", ["RUS", "CHN", "WEST"]),
            "is_reference": ("indicator", np.array([1, 0, 0], dtype=np.int8)),
        },
        coords={"indicator": INDICATORS},
        attrs={"step": "Y"},
    )
    stats = xr.Dataset(
        {"diverging": (("chain", "draw"), np.zeros((chains, draws), dtype=bool))},
        coords={"chain": range(chains), "draw": range(draws)},
    )
    return xr.DataTree.from_dict(
        {"posterior": post, "constant_data": constant, "sample_stats": stats}
    )


def drawn(ax) -> bool:  # type: ignore[no-untyped-def]
    """Whether an axes holds any data artist (lines, collections, patches, images)."""
    return bool(ax.lines or ax.collections or ax.patches or ax.images)
