"""The PyMC graph of the dynamic alignment measurement model (DESIGN.md section 3).

Dynamics, for state s, pole k, step t (``n = T - 1`` increments)::

    theta[s, k, 0] = initial[s, k]                     (sums to zero across states)
    theta[s, k, t] = theta[s, k, t-1] + drift[s, k] + volatility[s, k] * (L @ z[s, t, :])[k]
    drift[s, k]          ~ N(drift_mu[k], drift_tau[k])
    log volatility[s, k] = volatility_log_mu[k] + volatility_log_tau[k] * volatility_z[s, k]

with ``L`` the Cholesky factor of an LKJ correlation of innovations across poles (or the
identity). The walk is sampled in the coordinates of :mod:`forecast.model.random_walk`: the
realised drift (mean increment, centred), the deviations from it in a basis that
diagonalises the walk's prior, and the drift drawn after sampling given the realised drift.

Measurement, for indicator i of pole k(i), state s::

    eta = intercept[i, s] + sign[i] * loading[i] * (mean of theta[s, k(i), t] over the period)

with ``loading > 0`` (log-normal) and ``loading = 1`` and one common intercept for each pole's
reference indicator. The intercepts are sampled as *levels* (the linear predictor at the
latent's mean over the series' own cells), so that levels, loadings and the latent's location
are not confounded. Likelihoods: Normal on the standardised link scale with AR(1)
idiosyncratic deviations (share, positive, continuous), beta-binomial or binomial with logit
link, Bernoulli with logit link. Only observed cells enter.

The observation arrays are ``pymc.Data`` so that one compiled model serves refits on other
data with the same structure (states, indicators, latent steps): see
:func:`observation_arrays`.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
import pymc as pm
import pytensor.tensor as pt
import xarray as xr
from numpy.typing import NDArray

from forecast.dims import CHAIN, DRAW, INDICATOR, PERIOD, POLE, STATE
from forecast.errors import DataError
from forecast.model.design import FAMILIES, ModelData, Observations
from forecast.model.filtering import filter_arrays, filtered_series
from forecast.model.likelihoods import (
    BINOMIAL_INDICATOR,
    GAUSSIAN_FAMILY,
    GAUSSIAN_INDICATOR,
    LinearPredictor,
    add_binary_likelihood,
    add_binomial_likelihood,
    add_gaussian_likelihood,
    gaussian_families,
    obs_dim,
)
from forecast.model.likelihoods import deviation_variance as deviation_variance
from forecast.model.random_walk import complement_basis, drift_given_realised
from forecast.model.spec import AlignmentSpec
from forecast.model.student_t import heavy_tailed

#: extra dims used only inside the graph
INNOVATION_MODE = "innovation_mode"
FREE_LOADING = "free_loading"
POLE_ROW = "pole_row"


def model_coords(data: ModelData) -> dict[str, tuple[str, ...]]:
    """Coordinates of the structural dimensions of the graph (observation dims excluded)."""
    gauss = data.family_indicators("gaussian")
    binom = data.family_indicators("binomial")
    return {
        STATE: data.states,
        POLE: data.poles,
        POLE_ROW: data.poles,
        PERIOD: data.steps,
        INNOVATION_MODE: tuple(str(m) for m in range(max(data.n_steps - 2, 0))),
        INDICATOR: data.indicators,
        FREE_LOADING: tuple(
            k for k, r in zip(data.indicators, data.is_reference, strict=True) if not r
        ),
        GAUSSIAN_INDICATOR: tuple(data.indicators[i] for i in gauss),
        BINOMIAL_INDICATOR: tuple(data.indicators[i] for i in binom),
        GAUSSIAN_FAMILY: gaussian_families(data),
    }


def observation_coords(data: ModelData) -> dict[str, tuple[str, ...]]:
    """Coordinates of the observation dimensions (they change with the data)."""
    return {obs_dim(f): tuple(str(i) for i in range(len(data.obs[f]))) for f in FAMILIES}


def structure_key(data: ModelData, spec: AlignmentSpec) -> tuple[object, ...]:
    """Return what must match for a compiled model to be reused on other data."""
    families = tuple(f for f in FAMILIES if len(data.obs[f]))
    max_span = {f: data.obs[f].cover.shape[1] for f in families}
    priors_and_options = {
        k: v for k, v in spec.to_dict().items() if k not in ("sampler", "projection")
    }
    key: tuple[object, ...] = (
        data.states,
        data.indicators,
        data.steps,
        families,
        tuple(sorted(max_span.items())),
        repr(sorted(priors_and_options.items())),
    )
    if spec.carry == "kalman" and len(data.obs["gaussian"]):
        # the filter's scan runs over a fixed number of series and positions
        obs = data.obs["gaussian"]
        key += (filtered_series(obs.indicator, obs.state, obs.se, data.n_steps).shape,)
    return key


def _family_position(data: ModelData, family: str) -> NDArray[np.int64]:
    local = np.full(len(data.indicators), -1, dtype=np.int64)
    members = data.family_indicators(family)
    local[members] = np.arange(len(members))
    return local


#: dtype of every integer array that enters the graph (PyMC's ``pymc.Data`` stores integers
#: as int32 whatever they were; the graph's compiled code must not depend on the data)
INDEX_DTYPE = np.int32
#: dtype of every real array that enters the graph
REAL_DTYPE = np.float64
#: censoring bound of a value not at its kind's bound: beyond any standardised value
CENSOR_SENTINEL = 1e6


def observation_arrays(
    data: ModelData, heavy_tails: bool = False, kalman: bool = False
) -> dict[str, NDArray]:
    """Every data array the graph reads, by ``pymc.Data`` name.

    Index arithmetic happens here, in NumPy, so that the graph only gathers. Integer arrays
    are :data:`INDEX_DTYPE` and real ones :data:`REAL_DTYPE`, whatever the data: numba's
    compiled code is specialised on input dtypes (see :func:`forecast.model.fit.compile_model`).
    With ``heavy_tails`` (a spec with a finite ``deviation_df``), ``gaussian_obs_heavy`` marks
    the Gaussian rows whose deviation is a Student-t
    (:func:`forecast.model.student_t.heavy_tailed`). With ``kalman`` (``carry = "kalman"``),
    the index arrays of the series the exact filter runs over
    (:func:`forecast.model.filtering.filter_arrays`), when there are any.
    """
    n_poles, n_steps = len(data.poles), data.n_steps
    arrays: dict[str, NDArray] = {}
    for family in FAMILIES:
        obs: Observations = data.obs[family]
        if not len(obs):
            continue
        pole = data.pole_index[obs.indicator]
        base = (obs.state * n_poles + pole) * n_steps
        arrays[f"{family}_obs_theta_index"] = (base[:, None] + obs.cover).astype(INDEX_DTYPE)
        arrays[f"{family}_obs_weight"] = obs.weight.astype(REAL_DTYPE)
        arrays[f"{family}_obs_indicator"] = obs.indicator.astype(INDEX_DTYPE)
        arrays[f"{family}_obs_state"] = obs.state.astype(INDEX_DTYPE)
        arrays[f"{family}_obs_local"] = _family_position(data, family)[obs.indicator].astype(
            INDEX_DTYPE
        )
        arrays[f"{family}_obs_y"] = obs.y.astype(
            REAL_DTYPE if family == "gaussian" else INDEX_DTYPE
        )
        if family == "binomial":
            arrays[f"{family}_obs_trials"] = obs.trials.astype(INDEX_DTYPE)
        if family == "gaussian":
            has_prev = obs.previous >= 0
            arrays["gaussian_obs_has_previous"] = has_prev.astype(REAL_DTYPE)
            # rows are sorted by series: the previous observation is always the row above
            assert np.all(obs.previous[has_prev] == np.flatnonzero(has_prev) - 1)
            arrays["gaussian_obs_gap"] = obs.gap.astype(REAL_DTYPE)
            arrays["gaussian_obs_se"] = obs.se.astype(REAL_DTYPE)
            lower, upper = censoring_bounds(data)
            arrays["gaussian_obs_lower"] = lower
            arrays["gaussian_obs_upper"] = upper
            # what the filtered carry needs of the previous value: its standard error and
            # whether it sat at its bound (censored: its deviation is not known)
            censored = (lower > -CENSOR_SENTINEL) | (upper < CENSOR_SENTINEL)
            prev_se = np.zeros(len(obs))
            prev_censored = np.zeros(len(obs))
            prev_se[has_prev] = obs.se[obs.previous[has_prev]]
            prev_censored[has_prev] = censored[obs.previous[has_prev]]
            arrays["gaussian_obs_previous_se"] = prev_se.astype(REAL_DTYPE)
            arrays["gaussian_obs_previous_censored"] = prev_censored.astype(REAL_DTYPE)
            if heavy_tails:
                heavy = heavy_tailed(data.kind, obs.indicator, obs.se)[obs.indicator]
                arrays["gaussian_obs_heavy"] = heavy.astype(REAL_DTYPE)
            if kalman:
                rows = filtered_series(obs.indicator, obs.state, obs.se, data.n_steps)
                filters = filter_arrays(rows) if len(rows) else {}
                arrays |= {name: v.astype(INDEX_DTYPE) for name, v in filters.items()}
    arrays["centring_weight"] = centring_weights(data).astype(REAL_DTYPE)
    return arrays


def censoring_bounds(data: ModelData) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Censoring bounds of each Gaussian observation: its value where it sits at its kind's bound.

    A share of 0 is stored as the clip, a zero commitment as ``log(offset)``: such a value says
    "at or beyond", and the likelihood reads it as the probability of being there (a run of
    zeros no longer makes the density of a frozen AR(1) deviation unbounded). Any other value
    gets bounds no standardised value reaches, so its density is read as usual.
    """
    obs = data.obs["gaussian"]
    y = obs.y.astype(REAL_DTYPE)
    low = data.lower[obs.indicator] if data.lower.size else np.full(y.shape, -np.inf)
    high = data.upper[obs.indicator] if data.upper.size else np.full(y.shape, np.inf)
    at_low = y <= low + 1e-9
    at_high = y >= high - 1e-9
    return (
        np.where(at_low, y, -CENSOR_SENTINEL).astype(REAL_DTYPE),
        np.where(at_high, y, CENSOR_SENTINEL).astype(REAL_DTYPE),
    )


def centring_weights(data: ModelData) -> NDArray[np.float64]:
    """Weights of the latent's mean seen by each indicator series, ``(indicator * state, cell)``.

    Row ``i * n_states + s`` averages the flattened latent ``(state, pole, step)`` over the
    observed cells of indicator ``i`` in state ``s`` (each observation weighted as it
    averages its own steps); for a pole's reference the row averages over every state's
    observations of the reference, so the reference's intercept stays common to all states.
    A series with no observation averages its state's whole path.
    """
    n_states, n_poles, n_steps = len(data.states), len(data.poles), data.n_steps
    n_ind = len(data.indicators)
    weights = np.zeros((n_ind, n_states, n_states * n_poles * n_steps))
    for family in FAMILIES:
        obs = data.obs[family]
        if not len(obs):
            continue
        pole = data.pole_index[obs.indicator]
        cells = ((obs.state * n_poles + pole) * n_steps)[:, None] + obs.cover
        for row in range(len(obs)):
            target = obs.state[row]
            np.add.at(weights[obs.indicator[row], target], cells[row], obs.weight[row])
    for i in range(n_ind):
        if data.is_reference[i]:
            pooled = weights[i].sum(axis=0)
            weights[i] = pooled[None, :]
    totals = weights.sum(axis=2, keepdims=True)
    for i, s in zip(*np.nonzero(totals[:, :, 0] == 0), strict=True):
        start = (s * n_poles + data.pole_index[i]) * n_steps
        weights[i, s, start : start + n_steps] = 1.0
    weights /= weights.sum(axis=2, keepdims=True)
    return weights.reshape(n_ind * n_states, -1)


def build_alignment_model(data: ModelData, spec: AlignmentSpec) -> pm.Model:
    """Build the PyMC model for ``data`` under ``spec``.

    Parameters
    ----------
    data
        Arrays from :func:`forecast.model.design.build_model_data`.
    spec
        The model spec (priors, options).

    Returns
    -------
    pymc.Model
        ``alignment`` (state, pole, period), ``volatility``, ``intercept``, ``loading`` and
        ``innovation_corr`` as deterministics. The state drifts are not in the graph (the
        likelihood sees them only through ``drift_realised``); :func:`add_drift` draws them
        into a posterior.
    """
    n_steps = data.n_steps
    if n_steps < 2:
        raise DataError("panel", f"the latent path needs at least two periods, got {n_steps}")
    coords = model_coords(data) | observation_coords(data)
    # The helpers create the random variables in a fixed order: PyMC seeds draws by that
    # order, so reordering the calls would change every sample drawn with the same seed.
    with pm.Model(coords=coords) as model:
        heavy, kalman = not math.isinf(spec.deviation_df), spec.carry == "kalman"
        arrays = {n: pm.Data(n, v) for n, v in observation_arrays(data, heavy, kalman).items()}
        dynamics = _dynamics(data, spec)
        theta_flat = _latent_path(data, spec, dynamics)
        level = _intercept_levels(data, spec)
        loading_signed = _loadings(data, spec, dynamics.vol_mu)
        intercept_flat = _intercepts(data, arrays, theta_flat, level, loading_signed)
        predictor = LinearPredictor(data, arrays, theta_flat, intercept_flat, loading_signed)
        if "gaussian_obs_y" in arrays:
            add_gaussian_likelihood(arrays, spec, predictor)
        if "binomial_obs_y" in arrays:
            add_binomial_likelihood(arrays, spec, predictor)
        if "binary_obs_y" in arrays:
            add_binary_likelihood(arrays, predictor)
    return model


class _Dynamics(NamedTuple):
    """The dynamics' hyperparameters and innovation structure, as graph tensors."""

    drift_mu: pt.TensorVariable
    drift_tau: pt.TensorVariable
    vol_mu: pt.TensorVariable
    volatility: pt.TensorVariable
    chol: pt.TensorVariable
    corr: pt.TensorVariable


def _dynamics(data: ModelData, spec: AlignmentSpec) -> _Dynamics:
    """Add the dynamics' priors, partially pooled across states per pole.

    Creates ``drift_mu``, ``drift_tau``, ``volatility_log_mu``, ``volatility_log_tau``,
    ``volatility_z`` and ``volatility``, then the innovation correlation
    (:func:`_innovation_correlation`), in that order.
    """
    p = spec.priors
    drift_mu = pm.Normal("drift_mu", 0.0, p.drift_mean_sd, dims=POLE)
    drift_tau = pm.HalfNormal("drift_tau", p.drift_pool_sd, dims=POLE)
    vol_mu = pm.Normal("volatility_log_mu", p.volatility_log_mean, p.volatility_log_sd, dims=POLE)
    # zero-avoiding: states differ in how turbulent their alignment is
    vol_tau = pm.Gamma("volatility_log_tau", alpha=2.0, beta=2.0 / p.volatility_pool_sd, dims=POLE)
    vol_z = pm.Normal("volatility_z", 0.0, 1.0, dims=(STATE, POLE))
    volatility = pm.Deterministic(
        "volatility", pt.exp(vol_mu + vol_tau * vol_z), dims=(STATE, POLE)
    )
    chol, corr = _innovation_correlation(len(data.poles), spec)
    return _Dynamics(drift_mu, drift_tau, vol_mu, volatility, chol, corr)


def _innovation_correlation(
    n_poles: int, spec: AlignmentSpec
) -> tuple[pt.TensorVariable, pt.TensorVariable]:
    """Cholesky factor and correlation of the innovations across poles (identity if off)."""
    if not spec.correlated_innovations:
        eye = pt.eye(n_poles)
        return eye, eye
    # PyMC's LKJCorr is parameterised by, and returns, the Cholesky factor
    chol = pm.LKJCorr("innovation_chol", n=n_poles, eta=spec.priors.lkj_eta, dims=(POLE, POLE_ROW))
    # LKJCorr's density is det(C)^(eta - 1) evaluated on the factor L, without the
    # Jacobian of L -> C, so alone it is not LKJ(eta) on C (for 3 poles it puts too
    # much mass near +-1). The missing term, prod_i L_ii^(K - 1 - i) (0-based), makes
    # the prior on C exactly LKJ(eta), as Stan's lkj_corr_cholesky.
    power = pt.as_tensor(np.arange(n_poles - 1, -1, -1, dtype=float))
    pm.Potential("innovation_chol_jacobian", (power * pt.log(pt.diag(chol))).sum())
    corr = pm.Deterministic("innovation_corr", chol @ chol.T, dims=(POLE, POLE_ROW))
    return chol, corr


def _latent_path(data: ModelData, spec: AlignmentSpec, dyn: _Dynamics) -> pt.TensorVariable:
    """Add ``initial``, ``drift_realised``, ``innovation_z`` and ``alignment``.

    Returns
    -------
    pytensor.tensor.TensorVariable
        The latent path flattened over ``(state, pole, step)``.
    """
    n_states, n_poles, n_steps = len(data.states), len(data.poles), data.n_steps
    # location: the first period sums to zero across states, per pole
    theta0 = pm.ZeroSumNormal(
        "initial", sigma=spec.priors.initial_sd, dims=(POLE, STATE), n_zerosum_axes=1
    ).T
    # The walk in the coordinates of forecast.model.random_walk. The realised drift (the
    # mean increment) is pinned by the data, so it is centred; given the hyperparameters
    # it is N(drift_mu, diag(drift_tau^2) + Sigma / n).
    n_incr = n_steps - 1
    volatility = dyn.volatility
    realised_cov = pt.diag(dyn.drift_tau**2)[None] + (
        volatility[:, :, None] * dyn.corr[None] * volatility[:, None, :] / n_incr
    )
    realised = pm.MvNormal("drift_realised", mu=dyn.drift_mu, cov=realised_cov, dims=(STATE, POLE))
    # the deviations from the mean increment: independent standard normal coefficients
    # in a basis in which the walk's prior covariance is diagonal, slowest first
    coef = pm.Normal("innovation_z", 0.0, 1.0, dims=(STATE, INNOVATION_MODE, POLE))
    basis = pt.as_tensor(complement_basis(n_incr))
    deviation = pt.tensordot(basis, coef, axes=[[1], [1]]).transpose(1, 0, 2)
    steps = realised[:, None, :] + volatility[:, None, :] * pt.dot(deviation, dyn.chol.T)
    path = pt.concatenate(
        [theta0[:, None, :], theta0[:, None, :] + pt.cumsum(steps, axis=1)], axis=1
    )
    alignment = pm.Deterministic("alignment", path.transpose(0, 2, 1), dims=(STATE, POLE, PERIOD))
    return alignment.reshape((n_states * n_poles * n_steps,))


def _intercept_levels(data: ModelData, spec: AlignmentSpec) -> pt.TensorVariable:
    """Add the level priors; return the levels ``(indicator, state)``.

    Each non-reference indicator has its own level per state, partially pooled; the pole's
    reference has one common level, so it alone defines the cross-state levels of the
    latent and the other indicators inform its dynamics (their cross-state differences often
    reflect economic structure, not alignment). A level is the series' linear predictor at
    the latent's mean over the series' own observed cells (``centring_weight``): the
    regressor of every loading is centred, so levels, loadings and the latent's level are
    not confounded in the posterior (a shear of the intercepts the sampler would otherwise
    have to follow).
    """
    p = spec.priors
    free = np.flatnonzero(~data.is_reference)
    intercept_mu = pm.Normal("intercept_mu", 0.0, p.intercept_sd, dims=INDICATOR)
    intercept_tau = pm.Gamma(
        "intercept_tau", alpha=4.0, beta=4.0 / p.intercept_pool_sd, dims=FREE_LOADING
    )
    # the state levels are non-centred: for some indicators (UN votes, arms shares) the
    # states barely differ, and centred levels made a funnel with their spread (the
    # divergent transitions sat at its smallest values)
    level_z = pm.Normal("intercept_state_z", 0.0, 1.0, dims=(FREE_LOADING, STATE))
    levels = intercept_mu[free][:, None] + intercept_tau[:, None] * level_z
    level = pt.repeat(intercept_mu[:, None], len(data.states), axis=1)
    return pt.set_subtensor(level[free], levels)


def _loadings(data: ModelData, spec: AlignmentSpec, vol_mu: pt.TensorVariable) -> pt.TensorVariable:
    """Add ``log_loading_shifted`` and ``loading``; return the signed loadings.

    UN votes measure loading * (the latent's amplitude) much more precisely than the
    reference indicator measures the amplitude alone, so their log loadings are sampled
    shifted by the pole's log volatility (an exact shear): ``log_loading_shifted`` is
    log loading + (``volatility_log_mu`` - its prior mean) for binomial indicators and the
    log loading for the others, with the prior log loading ~ N(0, ``loading_log_sd``).
    """
    p = spec.priors
    free = np.flatnonzero(~data.is_reference)
    shear = np.array([data.kind[i] == "binomial" for i in free], dtype=float)
    shift = (vol_mu[data.pole_index[free]] - p.volatility_log_mean) * shear
    shifted = pm.Normal("log_loading_shifted", shift, p.loading_log_sd, dims=FREE_LOADING)
    log_free = shifted - shift
    loading = pt.set_subtensor(pt.ones(len(data.indicators))[free], pt.exp(log_free))
    loading = pm.Deterministic("loading", loading, dims=INDICATOR)
    sign = pt.as_tensor(data.sign)
    return loading * sign


def _intercepts(
    data: ModelData,
    arrays: dict[str, pt.TensorVariable],
    theta_flat: pt.TensorVariable,
    level: pt.TensorVariable,
    loading_signed: pt.TensorVariable,
) -> pt.TensorVariable:
    """Add ``intercept`` (indicator, state); return it flattened, indicator-major."""
    n_ind, n_states = len(data.indicators), len(data.states)
    # the latent's mean over each series' cells, (indicator, state)
    series_mean = pt.dot(arrays["centring_weight"], theta_flat).reshape((n_ind, n_states))
    # eta = level + sign * loading * (theta - series_mean) = intercept + sign * loading * theta
    intercept = pm.Deterministic(
        "intercept", level - loading_signed[:, None] * series_mean, dims=(INDICATOR, STATE)
    )
    return intercept.reshape((n_ind * n_states,))


def add_drift(
    posterior: xr.Dataset, n_steps: int, *, random_seed: int | np.random.Generator
) -> xr.Dataset:
    """Return ``posterior`` with ``drift`` (state, pole) drawn given each draw's realised drift.

    See :func:`forecast.model.random_walk.drift_given_realised`; the draw is exact, and the
    same seed gives the same drifts.
    """
    dims = (CHAIN, DRAW, STATE, POLE)
    n_poles = posterior.sizes[POLE]
    if "innovation_corr" in posterior:
        corr = posterior["innovation_corr"].transpose(CHAIN, DRAW, POLE, POLE_ROW).values
    else:
        corr = np.broadcast_to(
            np.eye(n_poles), (*posterior["drift_mu"].shape[:2], n_poles, n_poles)
        )
    drift = drift_given_realised(
        posterior["drift_realised"].transpose(*dims).values,
        posterior["drift_mu"].transpose(CHAIN, DRAW, POLE).values,
        posterior["drift_tau"].transpose(CHAIN, DRAW, POLE).values,
        posterior["volatility"].transpose(*dims).values,
        corr,
        n_steps - 1,
        random_seed=random_seed,
    )
    out = posterior.copy()
    out["drift"] = (dims, drift)
    return out
