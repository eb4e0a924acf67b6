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

import numpy as np
import pymc as pm
import pytensor.tensor as pt
import xarray as xr
from numpy.typing import NDArray

from forecast.dims import CHAIN, DRAW, INDICATOR, PERIOD, POLE, STATE
from forecast.errors import DataError
from forecast.model.design import FAMILIES, ModelData, Observations
from forecast.model.random_walk import complement_basis, drift_given_realised
from forecast.model.spec import AlignmentSpec

#: extra dims used only inside the graph
INNOVATION_MODE = "innovation_mode"
FREE_LOADING = "free_loading"
GAUSSIAN_INDICATOR = "gaussian_indicator"
BINOMIAL_INDICATOR = "binomial_indicator"
POLE_ROW = "pole_row"


def obs_dim(family: str) -> str:
    """Name of the observation dimension of one likelihood family."""
    return f"obs_{family}"


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
    return (
        data.states,
        data.indicators,
        data.steps,
        families,
        tuple(sorted(max_span.items())),
        repr(sorted(priors_and_options.items())),
    )


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


def observation_arrays(data: ModelData) -> dict[str, NDArray]:
    """Every data array the graph reads, by ``pymc.Data`` name.

    Index arithmetic happens here, in NumPy, so that the graph only gathers. Integer arrays
    are :data:`INDEX_DTYPE` and real ones :data:`REAL_DTYPE`, whatever the data: numba's
    compiled code is specialised on input dtypes (see :func:`forecast.model.fit.compile_model`).
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
    arrays["centring_weight"] = centring_weights(data).astype(REAL_DTYPE)
    return arrays


def deviation_variance(
    noise: pt.TensorVariable,
    phi: pt.TensorVariable,
    gap: pt.TensorVariable,
    has_prev: pt.TensorVariable,
    spec: AlignmentSpec,
) -> pt.TensorVariable:
    """Conditional variance of an AR(1) deviation given the previous one, ``gap`` periods back.

    ``deviation = "stationary"``: ``noise`` is the stationary sd, so the variance is
    ``noise^2 (1 - phi^(2 gap))`` (``noise^2`` for a series' first value). ``"innovation"``:
    ``noise`` is the innovation sd, the variance ``noise^2 sum(phi^(2 j), j < gap)``, which
    is ``noise^2 gap`` at ``phi = 1`` (a random walk: a series can leave its latent-implied
    level for good); a series' first value has the stationary variance capped at
    ``deviation_initial_sd^2``.
    """
    if spec.deviation == "stationary":
        return noise**2 * (1.0 - has_prev * (phi**gap) ** 2)
    q = phi**2
    near_one = pt.abs(1.0 - q) < 1e-6
    safe = pt.switch(near_one, 0.5, q)
    steps = pt.maximum(gap, 1.0)
    gain = pt.switch(near_one, steps, (1.0 - safe**steps) / (1.0 - safe))
    initial = 1.0 / ((1.0 - q) / noise**2 + 1.0 / spec.priors.deviation_initial_sd**2)
    return pt.switch(has_prev > 0, noise**2 * gain, initial)


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
    p = spec.priors
    n_states, n_poles, n_steps = len(data.states), len(data.poles), data.n_steps
    if n_steps < 2:
        raise DataError("panel", f"the latent path needs at least two periods, got {n_steps}")
    coords = model_coords(data) | observation_coords(data)
    with pm.Model(coords=coords) as model:
        arrays = {name: pm.Data(name, value) for name, value in observation_arrays(data).items()}

        # -- dynamics, partially pooled across states per pole
        drift_mu = pm.Normal("drift_mu", 0.0, p.drift_mean_sd, dims=POLE)
        drift_tau = pm.HalfNormal("drift_tau", p.drift_pool_sd, dims=POLE)
        vol_mu = pm.Normal(
            "volatility_log_mu", p.volatility_log_mean, p.volatility_log_sd, dims=POLE
        )
        # zero-avoiding: states differ in how turbulent their alignment is
        vol_tau = pm.Gamma(
            "volatility_log_tau", alpha=2.0, beta=2.0 / p.volatility_pool_sd, dims=POLE
        )
        vol_z = pm.Normal("volatility_z", 0.0, 1.0, dims=(STATE, POLE))
        volatility = pm.Deterministic(
            "volatility", pt.exp(vol_mu + vol_tau * vol_z), dims=(STATE, POLE)
        )
        if spec.correlated_innovations:
            # PyMC's LKJCorr is parameterised by, and returns, the Cholesky factor
            chol = pm.LKJCorr("innovation_chol", n=n_poles, eta=p.lkj_eta, dims=(POLE, POLE_ROW))
            # LKJCorr's density is det(C)^(eta - 1) evaluated on the factor L, without the
            # Jacobian of L -> C, so alone it is not LKJ(eta) on C (for 3 poles it puts too
            # much mass near +-1). The missing term, prod_i L_ii^(K - 1 - i) (0-based), makes
            # the prior on C exactly LKJ(eta), as Stan's lkj_corr_cholesky.
            power = pt.as_tensor(np.arange(n_poles - 1, -1, -1, dtype=float))
            pm.Potential("innovation_chol_jacobian", (power * pt.log(pt.diag(chol))).sum())
            corr = pm.Deterministic("innovation_corr", chol @ chol.T, dims=(POLE, POLE_ROW))
        else:
            chol = corr = pt.eye(n_poles)

        # location: the first period sums to zero across states, per pole
        theta0 = pm.ZeroSumNormal(
            "initial", sigma=p.initial_sd, dims=(POLE, STATE), n_zerosum_axes=1
        ).T
        # The walk in the coordinates of forecast.model.random_walk. The realised drift (the
        # mean increment) is pinned by the data, so it is centred; given the hyperparameters
        # it is N(drift_mu, diag(drift_tau^2) + Sigma / n).
        n_incr = n_steps - 1
        realised_cov = pt.diag(drift_tau**2)[None] + (
            volatility[:, :, None] * corr[None] * volatility[:, None, :] / n_incr
        )
        realised = pm.MvNormal("drift_realised", mu=drift_mu, cov=realised_cov, dims=(STATE, POLE))
        # the deviations from the mean increment: independent standard normal coefficients
        # in a basis in which the walk's prior covariance is diagonal, slowest first
        coef = pm.Normal("innovation_z", 0.0, 1.0, dims=(STATE, INNOVATION_MODE, POLE))
        basis = pt.as_tensor(complement_basis(n_incr))
        deviation = pt.tensordot(basis, coef, axes=[[1], [1]]).transpose(1, 0, 2)
        steps = realised[:, None, :] + volatility[:, None, :] * pt.dot(deviation, chol.T)
        path = pt.concatenate(
            [theta0[:, None, :], theta0[:, None, :] + pt.cumsum(steps, axis=1)], axis=1
        )
        alignment = pm.Deterministic(
            "alignment", path.transpose(0, 2, 1), dims=(STATE, POLE, PERIOD)
        )
        theta_flat = alignment.reshape((n_states * n_poles * n_steps,))

        # -- measurement
        # Each non-reference indicator has its own level per state, partially pooled; the
        # pole's reference has one common level, so it alone defines the cross-state levels
        # of the latent and the other indicators inform its dynamics (their cross-state
        # differences often reflect economic structure, not alignment). A level is the
        # series' linear predictor at the latent's mean over the series' own observed cells
        # (``centring_weight``): the regressor of every loading is centred, so levels,
        # loadings and the latent's level are not confounded in the posterior (a shear of the
        # intercepts the sampler would otherwise have to follow).
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
        level = pt.repeat(intercept_mu[:, None], n_states, axis=1)
        level = pt.set_subtensor(level[free], levels)
        # UN votes measure loading * (the latent's amplitude) much more precisely than the
        # reference indicator measures the amplitude alone, so their log loadings are sampled
        # shifted by the pole's log volatility (an exact shear): log_loading_shifted is
        # log loading + (volatility_log_mu - its prior mean) for binomial indicators and the
        # log loading for the others, with the prior log loading ~ N(0, loading_log_sd).
        shear = np.array([data.kind[i] == "binomial" for i in free], dtype=float)
        shift = (vol_mu[data.pole_index[free]] - p.volatility_log_mean) * shear
        shifted = pm.Normal("log_loading_shifted", shift, p.loading_log_sd, dims=FREE_LOADING)
        log_free = shifted - shift
        loading = pt.set_subtensor(pt.ones(len(data.indicators))[free], pt.exp(log_free))
        loading = pm.Deterministic("loading", loading, dims=INDICATOR)
        sign = pt.as_tensor(data.sign)
        loading_signed = loading * sign
        # the latent's mean over each series' cells, (indicator, state)
        series_mean = pt.dot(arrays["centring_weight"], theta_flat).reshape(
            (len(data.indicators), n_states)
        )
        # eta = level + sign * loading * (theta - series_mean) = intercept + sign * loading * theta
        intercept = pm.Deterministic(
            "intercept", level - loading_signed[:, None] * series_mean, dims=(INDICATOR, STATE)
        )
        intercept_flat = intercept.reshape((len(data.indicators) * n_states,))

        def linear_predictor(family: str) -> pt.TensorVariable:
            # one-dimensional gathers only: their gradients take the fast scatter-add path
            ind = arrays[f"{family}_obs_indicator"]
            index = arrays[f"{family}_obs_theta_index"]
            if data.obs[family].cover.shape[1] == 1:
                theta_bar = theta_flat[index[:, 0]]
            else:
                weight = arrays[f"{family}_obs_weight"]
                theta_bar = (theta_flat[index.ravel()].reshape(index.shape) * weight).sum(axis=1)
            level = intercept_flat[ind * n_states + arrays[f"{family}_obs_state"]]
            return level + loading_signed[ind] * theta_bar

        if "gaussian_obs_y" in arrays:
            # Each Gaussian indicator deviates from the latent by its own AR(1) process
            # (autocorrelation `persistence` per period of its own frequency, scale `noise`:
            # see deviation_variance), so a series' persistent idiosyncrasies need not be
            # explained by the latent. The likelihood is the exact sequence of one-step
            # conditionals, gaps included: r_t | r_prev ~ N(phi^d r_prev, variance).
            noise = pm.LogNormal(
                "noise", np.log(p.noise_sd), p.noise_log_sd, dims=GAUSSIAN_INDICATOR
            )
            persistence = pm.Beta(
                "persistence", p.persistence_alpha, p.persistence_beta, dims=GAUSSIAN_INDICATOR
            )
            local = arrays["gaussian_obs_local"]
            y = arrays["gaussian_obs_y"]
            mu = linear_predictor("gaussian")
            has_prev = arrays["gaussian_obs_has_previous"]
            phi_d = persistence[local] ** arrays["gaussian_obs_gap"]
            # observations are sorted by series, so a previous observation is the row above
            resid = y - mu
            resid_prev = pt.concatenate([pt.zeros((1,)), resid[:-1]])
            carry = has_prev * phi_d * resid_prev
            variance = deviation_variance(
                noise[local], persistence[local], arrays["gaussian_obs_gap"], has_prev, spec
            )
            # a value published with a standard error adds its variance; a value at its
            # kind's bound (an arms share of 0) is censored there (see censoring_bounds)
            sigma = pt.sqrt(variance + arrays["gaussian_obs_se"] ** 2)
            pm.Censored(
                "y_gaussian",
                pm.Normal.dist(mu=mu + carry, sigma=sigma),
                lower=arrays["gaussian_obs_lower"],
                upper=arrays["gaussian_obs_upper"],
                observed=y,
                dims=obs_dim("gaussian"),
            )
        if "binomial_obs_y" in arrays:
            eta = linear_predictor("binomial")
            if spec.overdispersion:
                concentration = pm.Gamma(
                    "concentration",
                    alpha=2.0,
                    beta=2.0 / p.concentration_mean,
                    dims=BINOMIAL_INDICATOR,
                )
                kappa = concentration[arrays["binomial_obs_local"]]
                # sigmoid(-eta) rather than 1 - sigmoid(eta), which rounds to 0 for large eta
                pm.BetaBinomial(
                    "y_binomial",
                    alpha=pm.math.sigmoid(eta) * kappa,
                    beta=pm.math.sigmoid(-eta) * kappa,
                    n=arrays["binomial_obs_trials"],
                    observed=arrays["binomial_obs_y"],
                    dims=obs_dim("binomial"),
                )
            else:
                pm.Binomial(
                    "y_binomial",
                    n=arrays["binomial_obs_trials"],
                    logit_p=eta,
                    observed=arrays["binomial_obs_y"],
                    dims=obs_dim("binomial"),
                )
        if "binary_obs_y" in arrays:
            pm.Bernoulli(
                "y_binary",
                logit_p=linear_predictor("binary"),
                observed=arrays["binary_obs_y"],
                dims=obs_dim("binary"),
            )
    return model


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
