"""Small synthetic forecasts and run manifests for the ledger tests."""

from __future__ import annotations

import numpy as np
import xarray as xr

from forecast.dims import CHAIN, DRAW, INDICATOR, INDICATOR_VAR, PERIOD, STATE
from forecast.model.manifest import RunManifest
from tests.manifests import run_manifest

STATES = ("KAZ", "UZB")
INDICATORS = ("trade_share_chn", "unga_agree_rus")


def synthetic_forecast(
    seed: int = 0,
    *,
    run_id: str = "run-a",
    periods: tuple[str, ...] = ("2019", "2020", "2021", "2022"),
    last_fitted: str = "2020",
    draws: int = 200,
) -> xr.Dataset:
    """A forecast Dataset shaped like the model's: shares around 0.3, history and horizon."""
    rng = np.random.default_rng(seed)
    shape = (2, draws, len(STATES), len(INDICATORS), len(periods))
    values = 1 / (1 + np.exp(-(rng.normal(-0.85, 0.3, size=shape))))
    ds = xr.Dataset(
        {INDICATOR_VAR: ((CHAIN, DRAW, STATE, INDICATOR, PERIOD), values)},
        coords={STATE: list(STATES), INDICATOR: list(INDICATORS), PERIOD: list(periods)},
    )
    ds.attrs.update(
        {"last_fitted": last_fitted, "until": periods[-1], "random_seed": seed, "run_id": run_id}
    )
    return ds


def manifest(run_id: str = "run-a", converged: bool = True) -> RunManifest:
    """A run manifest (the ledger reads its provenance)."""
    return run_manifest(run_id, converged=converged)
