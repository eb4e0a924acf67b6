"""``carry = "kalman"``: the exact filter of the series published with standard errors.

Given the latent, a series' residuals are its AR(1) deviation plus independent Normal errors
of the published standard errors: jointly Normal, with covariance ``v phi^|s - t| +
diag(se^2)``. The likelihood's one-step predictives must multiply to that density exactly,
every other series must keep the ``"filtered_se"`` likelihood, and the projection must carry
the deviation's expectation given all of a series' values. Nothing here samples; the
recovery fits are the probe's (``benchmarks/probe_t_recovery.py --carry kalman``).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import xarray as xr
from scipy.stats import multivariate_normal, norm

from forecast.dims import CHAIN, DRAW, INDICATOR, INDICATOR_VAR, PERIOD, STATE
from forecast.model.filtering import filter_step, filtered_series
from forecast.model.graph import build_alignment_model, observation_arrays, structure_key
from forecast.model.project import project
from tests.model.test_carry import OBSERVED, default_data, gaussian_mean_and_sd
from tests.model.test_horizon import (
    CENTRE,
    DRIFT,
    HISTORY,
    HORIZON,
    INTERCEPT,
    LAST_RUS,
    LOADING,
    NOISE,
    PERSISTENCE,
    SCALE,
    SHARE,
    VOLATILITY,
    constant_posterior,
    link_of,
)

__all__ = ["default_data"]  # the fixture, shared with test_carry

PHI = 0.8


def ar_covariance(positions: np.ndarray, v: float, phi: float, se: np.ndarray) -> np.ndarray:
    """The residuals' covariance: a stationary AR(1) of variance ``v`` plus the errors."""
    lag = np.abs(positions[:, None] - positions[None, :])
    return v * phi**lag + np.diag(se**2)


def test_the_filter_is_the_joint_normal_density() -> None:
    rng = np.random.default_rng(3)
    positions = np.array([0, 1, 2, 4, 5, 8])  # gaps of 2 and 3 periods
    se = rng.uniform(0.1, 0.6, positions.size)
    resid = rng.normal(size=positions.size)
    v = 0.3
    mean = var = 0.0
    total = 0.0
    for i, pos in enumerate(positions):
        gap = pos - positions[i - 1] if i else 0
        q = v * (1 - PHI ** (2 * gap)) if i else v
        pred_mean, pred_var, mean, var = filter_step(
            mean, var, resid[i], se[i], PHI**gap, q, float(i > 0)
        )
        total += norm.logpdf(resid[i], pred_mean, np.sqrt(pred_var + se[i] ** 2))
    dense = multivariate_normal.logpdf(resid, cov=ar_covariance(positions, v, PHI, se))
    assert total == pytest.approx(dense, rel=1e-12)


def test_only_series_with_standard_errors_are_filtered(default_data) -> None:
    spec, data = default_data
    obs = data.obs["gaussian"]
    rows = filtered_series(obs.indicator, obs.state, obs.se, data.n_steps)
    names = {data.indicators[i] for i in obs.indicator[rows[rows >= 0]]}
    assert names == {"unga_ideal_rus", "unga_ideal_chn", "unga_ideal_usa"}
    assert rows.shape == (3 * len(data.states), data.n_steps)
    # each series' rows in order, all of one (indicator, state)
    for series in rows:
        real = series[series >= 0]
        assert np.all(np.diff(real) == 1) and len(set(obs.state[real])) == 1
    kalman = replace(spec, carry="kalman")
    assert "gaussian_filter_rows" in observation_arrays(data, kalman=True)
    assert "gaussian_filter_rows" not in observation_arrays(data)
    assert structure_key(data, kalman) != structure_key(data, replace(spec, carry="filtered_se"))


def test_the_likelihood_is_the_exact_density_of_each_filtered_series(default_data) -> None:
    spec, data = default_data
    spec = replace(spec, **OBSERVED)
    kalman = build_alignment_model(data, replace(spec, carry="kalman"))
    point = kalman.initial_point()
    logodds = point["persistence_logodds__"]
    point["persistence_logodds__"] = np.full_like(logodds, np.log(PHI / (1 - PHI)))
    # with the persistence at 0 nothing is carried: the mean is the linear predictor
    predictor, _, _ = gaussian_mean_and_sd(kalman, dict(point, persistence_logodds__=logodds - 60))
    mu, sigma, noise = gaussian_mean_and_sd(kalman, point)
    obs = data.obs["gaussian"]
    local = observation_arrays(data)["gaussian_obs_local"]
    resid = obs.y - predictor
    rows = filtered_series(obs.indicator, obs.state, obs.se, data.n_steps)
    assert rows.shape[0] == 15
    for series in rows:
        real = series[series >= 0]
        positions = np.cumsum(np.where(np.arange(real.size) > 0, obs.gap[real], 0))
        v = noise[local[real[0]]] ** 2
        dense = multivariate_normal.logpdf(
            resid[real], cov=ar_covariance(positions, v, PHI, obs.se[real])
        )
        filtered = norm.logpdf(obs.y[real], mu[real], sigma[real]).sum()
        assert filtered == pytest.approx(dense, rel=1e-9)
    # every other series keeps the one-step likelihood of "filtered_se"
    one_step = build_alignment_model(data, replace(spec, carry="filtered_se"))
    mu_se, sigma_se, _ = gaussian_mean_and_sd(one_step, point)
    others = np.setdiff1d(np.arange(obs.y.size), rows[rows >= 0])
    np.testing.assert_allclose(mu[others], mu_se[others], rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(sigma[others], sigma_se[others], rtol=1e-12)
    # and on a filtered series the two differ from its third value on
    first = rows[0][rows[0] >= 0]
    assert np.allclose(mu[first[:2]], mu_se[first[:2]])
    assert not np.allclose(mu[first[2:]], mu_se[first[2:]])


SES = np.array([0.5, 0.3, 0.4])
YS = np.array([0.2, 0.9, 0.8])


def kalman_posterior() -> xr.DataTree:
    """``test_horizon``'s known posterior with three values, each with a standard error."""
    tree = constant_posterior()
    const = tree["constant_data"].to_dataset()
    const.attrs["carry"] = "kalman"
    dim = "obs_gaussian"
    observed = xr.Dataset(
        {
            "y_gaussian": xr.DataArray(
                YS,
                dims=(dim,),
                coords={
                    f"{dim}_{STATE}": (dim, ["KAZ"] * 3),
                    f"{dim}_{INDICATOR}": (dim, [SHARE] * 3),
                    f"{dim}_{PERIOD}": (dim, HISTORY),
                    f"{dim}_se": (dim, SES),
                },
            )
        }
    )
    return xr.DataTree.from_dict(
        {
            "posterior": tree["posterior"].to_dataset(),
            "constant_data": const,
            "observed_data": observed,
        }
    )


def test_the_projection_carries_the_deviation_given_all_values() -> None:
    known = project(kalman_posterior(), "2030", random_seed=5)
    values = known[INDICATOR_VAR].sel({STATE: "KAZ", INDICATOR: SHARE, PERIOD: HORIZON})
    standardised = (link_of(values, "share") - CENTRE) / SCALE
    # the latent is 0 before its last fitted year, LAST_RUS then
    eta = INTERCEPT[SHARE] + LOADING[SHARE] * np.array([0.0, 0.0, LAST_RUS])
    positions = np.arange(3)
    v = NOISE**2
    cov = ar_covariance(positions, v, PERSISTENCE, SES)
    h = np.arange(1, len(HORIZON) + 1)
    cross = v * PERSISTENCE ** (2 + h[:, None] - positions[None, :])  # (horizon, value)
    weights = np.linalg.solve(cov, cross.T).T
    dev_mean = weights @ (YS - eta)
    dev_var = v - np.einsum("hi,hi->h", weights, cross)
    level = INTERCEPT[SHARE] + LOADING[SHARE] * (LAST_RUS + DRIFT * h)
    # the projection adds the series' median standard error to each value
    var = (LOADING[SHARE] * VOLATILITY) ** 2 * h + dev_var + np.median(SES) ** 2
    np.testing.assert_allclose(standardised.mean((CHAIN, DRAW)), level + dev_mean, atol=0.03)
    np.testing.assert_allclose(standardised.var((CHAIN, DRAW)), var, rtol=0.05)
    # the one-step carry of the last value alone differs by more than that tolerance
    k = v / (v + SES[-1] ** 2)
    one_step = PERSISTENCE**h * k * (YS[-1] - eta[-1])
    assert np.abs(dev_mean - one_step)[0] > 0.05
