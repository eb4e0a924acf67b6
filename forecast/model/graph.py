"""The PyMC graph of the dynamic alignment measurement model (DESIGN.md section 3).

Dynamics (non-centred), for state s, pole k, step t::

    theta[s, k, 0] = initial[s, k]                     (sums to zero across states)
    theta[s, k, t] = theta[s, k, t-1] + drift[s, k] + volatility[s, k] * (L @ z[s, t, :])[k]
    drift[s, k]          = drift_mu[k] + drift_tau[k] * drift_z[s, k]
    log volatility[s, k] = volatility_log_mu[k] + volatility_log_tau[k] * volatility_z[s, k]

with ``L`` the Cholesky factor of an LKJ correlation of innovations across poles (or the
identity). Measurement, for indicator i of pole k(i), state s::

    eta = intercept[i, s] + sign[i] * loading[i] * (mean of theta[s, k(i), t] over the period)

with ``loading > 0`` (log-normal) and ``loading = 1`` and one common intercept for each pole's
reference indicator. Likelihoods: Normal on the standardised link scale with AR(1)
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
from numpy.typing import NDArray

from forecast.dims import INDICATOR, PERIOD, POLE, STATE
from forecast.model.design import FAMILIES, ModelData, Observations
from forecast.model.spec import AlignmentSpec

#: extra dims used only inside the graph
INNOVATION = "innovation"
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
        INNOVATION: data.steps[1:],
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
    priors_and_options = {k: v for k, v in spec.to_dict().items() if k != "sampler"}
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


def observation_arrays(data: ModelData) -> dict[str, NDArray]:
    """Every data array the graph reads, by ``pymc.Data`` name.

    Index arithmetic happens here, in NumPy, so that the graph only gathers.
    """
    n_poles, n_steps = len(data.poles), data.n_steps
    arrays: dict[str, NDArray] = {}
    for family in FAMILIES:
        obs: Observations = data.obs[family]
        if not len(obs):
            continue
        pole = data.pole_index[obs.indicator]
        base = (obs.state * n_poles + pole) * n_steps
        arrays[f"{family}_obs_theta_index"] = (base[:, None] + obs.cover).astype(np.int64)
        arrays[f"{family}_obs_weight"] = obs.weight.astype(float)
        arrays[f"{family}_obs_indicator"] = obs.indicator.astype(np.int64)
        arrays[f"{family}_obs_state"] = obs.state.astype(np.int64)
        arrays[f"{family}_obs_local"] = _family_position(data, family)[obs.indicator]
        arrays[f"{family}_obs_y"] = obs.y.astype(float if family == "gaussian" else np.int64)
        if family == "binomial":
            arrays[f"{family}_obs_trials"] = obs.trials.astype(np.int64)
        if family == "gaussian":
            has_prev = obs.previous >= 0
            arrays["gaussian_obs_has_previous"] = has_prev.astype(float)
            # rows are sorted by series: the previous observation is always the row above
            assert np.all(obs.previous[has_prev] == np.flatnonzero(has_prev) - 1)
            arrays["gaussian_obs_gap"] = obs.gap.astype(float)
    return arrays


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
        Free variables in the non-centred parameterisation; ``alignment`` (state, pole,
        period), ``drift``, ``volatility``, ``intercept`` and ``loading`` as deterministics.
    """
    p = spec.priors
    n_states, n_poles, n_steps = len(data.states), len(data.poles), data.n_steps
    coords = model_coords(data) | observation_coords(data)
    with pm.Model(coords=coords) as model:
        arrays = {name: pm.Data(name, value) for name, value in observation_arrays(data).items()}

        # -- dynamics, partially pooled across states per pole
        drift_mu = pm.Normal("drift_mu", 0.0, p.drift_mean_sd, dims=POLE)
        drift_tau = pm.HalfNormal("drift_tau", p.drift_pool_sd, dims=POLE)
        drift_z = pm.Normal("drift_z", 0.0, 1.0, dims=(STATE, POLE))
        drift = pm.Deterministic("drift", drift_mu + drift_tau * drift_z, dims=(STATE, POLE))
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

        # location: the first period sums to zero across states, per pole
        theta0 = pm.ZeroSumNormal(
            "initial", sigma=p.initial_sd, dims=(POLE, STATE), n_zerosum_axes=1
        ).T
        z = pm.Normal("innovation_z", 0.0, 1.0, dims=(STATE, INNOVATION, POLE))
        if spec.correlated_innovations:
            # PyMC's LKJCorr is parameterised by, and returns, the Cholesky factor
            chol = pm.LKJCorr("innovation_chol", n=n_poles, eta=p.lkj_eta, dims=(POLE, POLE_ROW))
            # LKJCorr's density is det(C)^(eta - 1) evaluated on the factor L, without the
            # Jacobian of L -> C, so alone it is not LKJ(eta) on C (for 3 poles it puts too
            # much mass near +-1). The missing term, prod_i L_ii^(K - 1 - i) (0-based), makes
            # the prior on C exactly LKJ(eta), as Stan's lkj_corr_cholesky.
            power = pt.as_tensor(np.arange(n_poles - 1, -1, -1, dtype=float))
            pm.Potential("innovation_chol_jacobian", (power * pt.log(pt.diag(chol))).sum())
            pm.Deterministic("innovation_corr", chol @ chol.T, dims=(POLE, POLE_ROW))
            # correlate the poles of each (state, step) innovation: z @ L^T
            z = pt.dot(z, chol.T)
        steps = drift[:, None, :] + volatility[:, None, :] * z
        path = pt.concatenate(
            [theta0[:, None, :], theta0[:, None, :] + pt.cumsum(steps, axis=1)], axis=1
        )
        alignment = pm.Deterministic(
            "alignment", path.transpose(0, 2, 1), dims=(STATE, POLE, PERIOD)
        )
        theta_flat = alignment.reshape((n_states * n_poles * n_steps,))

        # -- measurement
        # Each non-reference indicator has its own level per state, partially pooled; the
        # pole's reference has one common intercept, so it alone defines the cross-state
        # levels of the latent and the other indicators inform its dynamics (their
        # cross-state differences often reflect economic structure, not alignment). The
        # state levels are centred (data pin them down) and their spread has a
        # zero-avoiding Gamma prior, which keeps the hierarchy free of funnels.
        free = np.flatnonzero(~data.is_reference)
        intercept_mu = pm.Normal("intercept_mu", 0.0, p.intercept_sd, dims=INDICATOR)
        intercept_tau = pm.Gamma(
            "intercept_tau", alpha=4.0, beta=4.0 / p.intercept_pool_sd, dims=FREE_LOADING
        )
        levels = pm.Normal(
            "intercept_state",
            mu=intercept_mu[free][:, None],
            sigma=intercept_tau[:, None],
            dims=(FREE_LOADING, STATE),
        )
        intercept = pt.repeat(intercept_mu[:, None], n_states, axis=1)
        intercept = pt.set_subtensor(intercept[free], levels)
        intercept = pm.Deterministic("intercept", intercept, dims=(INDICATOR, STATE))
        log_free = pm.Normal("log_loading", 0.0, p.loading_log_sd, dims=FREE_LOADING)
        loading = pt.set_subtensor(pt.ones(len(data.indicators))[free], pt.exp(log_free))
        loading = pm.Deterministic("loading", loading, dims=INDICATOR)
        sign = pt.as_tensor(data.sign)

        intercept_flat = intercept.reshape((len(data.indicators) * n_states,))
        loading_signed = loading * sign

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
            # Each Gaussian indicator deviates from the latent by its own stationary AR(1)
            # process (marginal sd `noise`, autocorrelation `persistence` per period of its
            # own frequency), so a series' persistent idiosyncrasies need not be explained by
            # the latent. The likelihood is the exact sequence of one-step conditionals, gaps
            # included: r_t | r_prev ~ N(phi^d r_prev, noise^2 (1 - phi^(2 d))).
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
            shrink = 1.0 - has_prev * phi_d**2
            pm.Normal(
                "y_gaussian",
                mu=mu + carry,
                sigma=noise[local] * pt.sqrt(shrink),
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
