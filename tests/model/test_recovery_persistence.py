"""Recovery of the Gaussian indicators' deviation persistence and noise, at a truth near 1.

The persistence of an indicator's deviation from its latent-implied level decides how much
of the last observed deviation a forecast carries (``phi ** d`` after ``d`` periods). Here
the truth is 0.95 for every Gaussian indicator, where trade shares and remittances lie
(lag-1 autocorrelation 0.86 to 0.96, issue 16) and where the default Beta(2, 2) prior has
little mass (0.007 above 0.95); ``test_recovery`` checks the prior draw of the shared
simulation. The fit reuses the session's compiled model.

Known bias, kept visible as a strict ``xfail``: the likelihood conditions each value on the
previous residual, which is exact only when the previous value is the deviation itself (or,
with the default ``carry = "filtered_se"``, the deviation plus its published standard error,
shrunk to its expectation). A value recorded at its bound (an arms share of 0, a quarter of
the US trade shares) is not, and the persistence is attenuated toward 0 (errors in
variables): at a truth of 0.95, posterior medians 0.867 for the arms shares' family
(interval [0.814, 0.906]) and 0.903 for the trade shares' ([0.868, 0.931]). With the observed
carry per indicator the UN ideal points, whose standard errors (median 0.35 to 0.48 on the
standardised scale) are as large as the deviations, were attenuated too: medians 0.25 to
0.74, ``trade_share_usa`` 0.32, ``arms_share_chn`` 0.50.

The spec option ``carry = "filtered"`` (also a fresh start after a value at its bound) is
fitted to the same simulation (marked ``slow``: a model of its own to compile).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import xarray as xr

from forecast.dims import CHAIN, DRAW
from forecast.model.design import ModelData
from forecast.model.fit import fit_alignment_model
from forecast.model.likelihoods import GAUSSIAN_FAMILY, GAUSSIAN_INDICATOR
from forecast.model.simulate import DEFAULT_TRUTH, simulate
from forecast.model.trees import group
from tests.model.conftest import TRUE_LOADINGS
from tests.model.test_recovery import (
    SETTINGS,
    covered,
    exact_conditionals,
    one_per_persistence,
)

NEAR_ONE = 0.95


def near_one_truth(data: ModelData) -> dict[str, np.ndarray]:
    """The fixed truth of a near-one simulation: the test loadings, every persistence 0.95."""
    loading = np.ones(len(data.indicators))
    loading[~data.is_reference] = TRUE_LOADINGS
    n_gaussian = len(data.family_indicators("gaussian"))
    return DEFAULT_TRUTH | {"loading": loading, "persistence": np.full(n_gaussian, NEAR_ONE)}


@pytest.fixture(scope="module")
def near_one(bundled_data, default_spec):
    fixed = near_one_truth(bundled_data)
    return simulate(bundled_data, default_spec, random_seed=20261206, fixed=fixed)


@pytest.fixture(scope="module")
def near_one_fit(near_one, default_spec, compiled_models) -> xr.Dataset:
    result = fit_alignment_model(
        near_one.data, default_spec, SETTINGS, compiled=compiled_models, log_likelihood=False
    )
    return group(result.posterior, "posterior")


def test_truth_holds_noise_and_persistence(simulation, near_one) -> None:
    for name in ("noise", "persistence"):
        assert simulation.truth[name].dims == (GAUSSIAN_INDICATOR,)
    np.testing.assert_array_equal(near_one.truth["persistence"].values, NEAR_ONE)


def test_the_design_has_series_of_both_kinds(bundled_data, default_spec) -> None:
    observed = replace(default_spec, carry="observed", persistence_by="indicator")
    exact = exact_conditionals(bundled_data, observed)
    # trade shares with Russia and the EU, remittances and US aid
    assert len(exact) >= 4, exact
    assert "unga_ideal_usa" not in exact and "arms_share_chn" not in exact
    # the filtered carry accounts for the UN ideal points' standard errors; with one
    # persistence per family, the families with values at their bounds (arms and trade
    # shares) stay out
    filtered = replace(default_spec, carry="filtered_se", persistence_by="family")
    exact = exact_conditionals(bundled_data, filtered)
    assert "unga_ideal_usa" in exact and "remittances_gdp" in exact, exact
    assert "trade_share_rus" not in exact and "arms_share_west" not in exact, exact


def test_persistence_near_one_is_recovered(near_one_fit, near_one, default_spec) -> None:
    exact = exact_conditionals(near_one.data, default_spec)
    draws = near_one_fit["persistence"].sel(
        {GAUSSIAN_INDICATOR: one_per_persistence(exact, default_spec)}
    )
    hit = covered(draws, xr.full_like(draws.isel({CHAIN: 0, DRAW: 0}, drop=True), NEAR_ONE))
    medians = draws.median((CHAIN, DRAW))
    report = (hit.to_series().to_dict(), medians.to_series().round(3).to_dict())
    # (seed 20261206, the default spec: the UN ideal points', remittances', Chinese finance's
    # and US aid's persistences have exact conditionals; 3 of 4 covered, US aid's interval
    # ends at 0.942; medians 0.880 to 0.926. With the observed carry per indicator:
    # trade_share_rus, remittances_gdp, china_finance, arms_share_west and us_aid, 4 of 5
    # covered, medians 0.89 to 0.94.) This seed is the kindest of seven to the UN ideal
    # points: on 20261207 and 1 to 5 (benchmarks/probe_t_recovery.py --near-one) their
    # family's median is 0.55 to 0.86, and on 6 of the 7 one of their noise scales lies more
    # than 3 posterior sds below the truth (z down to -5.7). Their filtered carry conditions
    # on the last value only, a one-step approximation that at 0.95 loses what the earlier
    # values say about the deviation. The other three's medians are 0.848 to 0.964, with
    # 0.95 outside the 90 % interval 5 times in 19.
    assert float(hit.mean()) >= 0.75, report
    assert float(medians.min()) > 0.85, report


@pytest.mark.xfail(
    strict=True,
    reason="attenuated toward 0 where the previous value sits at its bound: the likelihood "
    "carries that value's residual as if it were the deviation (module docstring)",
)
def test_persistence_near_one_is_recovered_where_values_are_noisy_or_censored(
    near_one_fit, near_one, default_spec
) -> None:
    exact = set(exact_conditionals(near_one.data, default_spec))
    noisy = [k for k in near_one_fit[GAUSSIAN_INDICATOR].values if k not in exact]
    draws = near_one_fit["persistence"].sel({GAUSSIAN_INDICATOR: noisy})
    hit = covered(draws, xr.full_like(draws.isel({CHAIN: 0, DRAW: 0}, drop=True), NEAR_ONE))
    assert float(hit.mean()) >= 0.75, draws.median((CHAIN, DRAW)).to_series().round(3)


@pytest.fixture(scope="module")
def filtered_fit(near_one, default_spec, compiled_models) -> xr.Dataset:
    spec = replace(default_spec, carry="filtered", persistence_by="family")
    result = fit_alignment_model(
        near_one.data, spec, SETTINGS, compiled=compiled_models, log_likelihood=False
    )
    return group(result.posterior, "posterior")


@pytest.mark.slow
def test_the_filtered_carry_recovers_the_persistence_of_noisy_families(filtered_fit) -> None:
    draws = filtered_fit["persistence_family"]
    truth = xr.full_like(draws.isel({CHAIN: 0, DRAW: 0}, drop=True), NEAR_ONE)
    hit = covered(draws, truth)
    medians = draws.median((CHAIN, DRAW)).to_series().round(3)
    # the families whose values carry standard errors or sit at their bounds
    noisy = ["unga_ideal", "arms_share", "trade_share"]
    assert set(noisy) <= set(filtered_fit[GAUSSIAN_FAMILY].values)
    assert bool(hit.sel({GAUSSIAN_FAMILY: noisy}).all()), medians
    assert float(medians[noisy].min()) > 0.85, medians


#: the simulations the Kalman carry's recovery is judged on, all at once (one seed can be kind)
KALMAN_SIMULATIONS = (1, 2, 3, 4, 5)
UN_IDEAL = ("unga_ideal_rus", "unga_ideal_chn", "unga_ideal_usa")


@pytest.mark.slow
def test_the_kalman_carry_recovers_the_un_family_near_one(
    bundled_data, default_spec, compiled_models
) -> None:
    spec = replace(default_spec, carry="kalman")
    fixed = near_one_truth(bundled_data)
    persistence_z, noise_z, hits = [], [], []
    for seed in KALMAN_SIMULATIONS:
        sim = simulate(bundled_data, spec, random_seed=seed, fixed=fixed)
        result = fit_alignment_model(
            sim.data, spec, SETTINGS, compiled=compiled_models, log_likelihood=False
        )
        post = group(result.posterior, "posterior")
        family = post["persistence"].sel({GAUSSIAN_INDICATOR: UN_IDEAL[0]})
        persistence_z.append(float((family.mean() - NEAR_ONE) / family.std()))
        hits.append(bool(covered(family, xr.DataArray(NEAR_ONE))))
        noise = post["noise"].sel({GAUSSIAN_INDICATOR: list(UN_IDEAL)})
        truth = sim.truth["noise"].sel({GAUSSIAN_INDICATOR: list(UN_IDEAL)})
        z = (noise.mean((CHAIN, DRAW)) - truth) / noise.std((CHAIN, DRAW))
        noise_z.extend(z.values.tolist())
    report = {"persistence z": np.round(persistence_z, 2), "noise z": np.round(noise_z, 2)}
    # benchmarks/results/probe_t_recovery.txt: on these five simulations the family's
    # persistence z is -0.70 to -1.33 (the Beta(2, 2) prior's pull at 0.95: the series
    # without standard errors, filtered alike under every carry, show the same), covered 4
    # times in 5, no noise z below -2.39. The one-step "filtered_se" fails two of the three:
    # medians 0.55 to 0.86, missed 4 times in 5, a noise z below -3 on 4 of the 5
    # (to -5.74); its mean persistence z, -1.88, passes the third.
    assert sum(hits) >= 4, report
    assert -2.0 < float(np.mean(persistence_z)) < 1.0, report
    assert min(noise_z) > -3.0, report
