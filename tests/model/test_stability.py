"""Refits: the latent's scale survives one more year of data; the same seed gives the same run."""

from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr

from forecast.dims import CHAIN, DRAW, PERIOD, POLE, POLES
from forecast.model.design import build_model_data
from forecast.model.diagnostics import convergence_summary
from forecast.model.fit import fit_alignment_model
from forecast.model.inference import FitSettings
from forecast.model.trees import group
from tests.conftest import E2E_SETTINGS


def test_identification_is_stable_under_one_more_year(
    bundled_fit, bundled_panel, default_spec, codebook, compiled_models
) -> None:
    # the panel without its last year, on a latent path through 2024 so that the fit has the
    # full fit's structure (and reuses its compiled model)
    earlier = bundled_panel[bundled_panel[PERIOD].str[:4].astype(int) <= 2023]
    data = build_model_data(earlier, default_spec, codebook, until="2024")
    result = fit_alignment_model(
        data,
        default_spec,
        FitSettings(**E2E_SETTINGS),
        compiled=compiled_models,
        log_likelihood=False,
    )
    assert result.compile_seconds == 0.0
    overlap = {PERIOD: [str(y) for y in range(1992, 2024)]}
    before = group(result.posterior, "posterior")["alignment"].sel(overlap).mean((CHAIN, DRAW))
    after = group(bundled_fit.run.posterior(), "posterior")["alignment"]
    after = after.sel(overlap).mean((CHAIN, DRAW))
    r = np.corrcoef(before.values.ravel(), after.values.ravel())[0, 1]
    assert r >= 0.95, r
    for pole in POLES:
        x, y = before.sel({POLE: pole}).values.ravel(), after.sel({POLE: pole}).values.ravel()
        assert np.corrcoef(x, y)[0, 1] >= 0.9, pole
        # same scale, not merely correlated: the spread of the estimates agrees
        assert 0.8 <= x.std() / y.std() <= 1.25, pole


def test_same_seed_gives_identical_summaries(bundled_data, default_spec, compiled_models) -> None:
    def tiny(seed: int) -> xr.DataTree:
        settings = FitSettings(
            method="nuts", draws=10, tune=10, chains=2, seed=seed, target_accept=0.95
        )
        result = fit_alignment_model(
            bundled_data, default_spec, settings, compiled=compiled_models, log_likelihood=False
        )
        return result.posterior

    def draws(tree: xr.DataTree) -> xr.Dataset:
        # everything but the time stamp ArviZ puts on every group
        post = group(tree, "posterior")
        post.attrs.pop("created_at")
        return post

    first, again, other = tiny(3), tiny(3), tiny(4)
    pd.testing.assert_frame_equal(convergence_summary(first), convergence_summary(again))
    xr.testing.assert_identical(draws(first), draws(again))
    assert not np.array_equal(
        group(first, "posterior")["alignment"].values,
        group(other, "posterior")["alignment"].values,
    )
