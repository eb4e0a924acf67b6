"""The measurement side of the alignment model's graph: linear predictors and likelihoods.

Split from :mod:`forecast.model.graph`, which calls these inside its ``pm.Model`` context
after it has built the latent path, the loadings and the intercepts. Only observed cells
enter; the observation arrays are the graph's ``pymc.Data`` (see
:func:`forecast.model.graph.observation_arrays`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pymc as pm
import pytensor.tensor as pt

from forecast.model.design import ModelData
from forecast.model.filtering import exact_carry
from forecast.model.project import carry_gain
from forecast.model.spec import FILTERED_CARRIES, AlignmentSpec
from forecast.model.stacked import indicator_family
from forecast.model.student_t import censored_deviation_logp

#: extra dims of the likelihoods' own parameters
GAUSSIAN_INDICATOR = "gaussian_indicator"
BINOMIAL_INDICATOR = "binomial_indicator"
GAUSSIAN_FAMILY = "gaussian_family"


def obs_dim(family: str) -> str:
    """Name of the observation dimension of one likelihood family."""
    return f"obs_{family}"


def deviation_variance(
    noise: pt.TensorVariable,
    phi: pt.TensorVariable,
    gap: pt.TensorVariable,
    has_prev: pt.TensorVariable,
    innovation: Any,
    cap: float,
) -> pt.TensorVariable:
    """Conditional variance of an AR(1) deviation given the previous one, ``gap`` periods back.

    Where ``innovation`` is false (a stationary deviation), ``noise`` is the stationary sd,
    so the variance is ``noise^2 (1 - phi^(2 gap))`` (``noise^2`` for a series' first value).
    Where it is true, ``noise`` is the innovation sd, the variance
    ``noise^2 sum(phi^(2 j), j < gap)``, which is ``noise^2 gap`` at ``phi = 1`` (a random
    walk: a series can leave its latent-implied level for good, and ``phi`` near 1 is no
    funnel); a series' first value has the stationary variance capped at ``cap^2``
    (:func:`deviation_marginal_variance`). ``innovation`` is a bool or a 0/1 tensor per row.
    """
    stationary = noise**2 * (1.0 - has_prev * (phi**gap) ** 2)
    if innovation is False:
        return stationary
    q = phi**2
    near_one = pt.abs(1.0 - q) < 1e-6
    safe = pt.switch(near_one, 0.5, q)
    steps = pt.maximum(gap, 1.0)
    gain = pt.switch(near_one, steps, (1.0 - safe**steps) / (1.0 - safe))
    initial = deviation_marginal_variance(noise, phi, True, cap)
    scaled = pt.switch(has_prev > 0, noise**2 * gain, initial)
    return scaled if innovation is True else pt.switch(innovation > 0, scaled, stationary)


@dataclass(frozen=True)
class LinearPredictor:
    """The linear predictor of each observation family, gathered from the graph's tensors.

    Attributes
    ----------
    data
        The model data (for the families' cover widths and the number of states).
    arrays
        The graph's ``pymc.Data`` by name.
    theta_flat
        The latent path flattened over ``(state, pole, step)``.
    intercept_flat
        The intercepts flattened over ``(indicator, state)``.
    loading_signed
        Sign times loading, per indicator.
    """

    data: ModelData
    arrays: dict[str, pt.TensorVariable]
    theta_flat: pt.TensorVariable
    intercept_flat: pt.TensorVariable
    loading_signed: pt.TensorVariable

    def __call__(self, family: str) -> pt.TensorVariable:
        """``intercept + sign * loading * (the latent's mean over the cell)``, per row."""
        # one-dimensional gathers only: their gradients take the fast scatter-add path
        arrays = self.arrays
        ind = arrays[f"{family}_obs_indicator"]
        index = arrays[f"{family}_obs_theta_index"]
        if self.data.obs[family].cover.shape[1] == 1:
            theta_bar = self.theta_flat[index[:, 0]]
        else:
            weight = arrays[f"{family}_obs_weight"]
            theta_bar = (self.theta_flat[index.ravel()].reshape(index.shape) * weight).sum(axis=1)
        n_states = len(self.data.states)
        level = self.intercept_flat[ind * n_states + arrays[f"{family}_obs_state"]]
        return level + self.loading_signed[ind] * theta_bar


def deviation_marginal_variance(noise: Any, phi: Any, innovation: Any, cap: float) -> Any:
    """Marginal variance of an AR(1) deviation: a series' first value's variance.

    On tensors and arrays alike: ``noise^2`` where ``innovation`` is false (``noise`` is the
    stationary sd); where true, the stationary variance ``noise^2 / (1 - phi^2)`` capped at
    ``cap^2`` (``noise`` is the innovation sd: at ``phi = 1`` the variance is ``cap^2``).
    ``innovation`` is a bool, or 0/1 per element (then ``noise`` and ``phi`` are tensors).

    Examples
    --------
    >>> float(deviation_marginal_variance(0.5, 0.9, False, 1.0))
    0.25
    >>> round(float(deviation_marginal_variance(0.1, 1.0, True, 1.0)), 6)
    1.0
    """
    stationary = noise**2
    if innovation is False:
        return stationary
    scaled = 1.0 / ((1.0 - phi**2) / noise**2 + 1.0 / cap**2)
    return scaled if innovation is True else pt.switch(innovation > 0, scaled, stationary)


def innovation_rows(
    data: ModelData, spec: AlignmentSpec, local: pt.TensorVariable
) -> bool | pt.TensorVariable:
    """Which Gaussian rows have an innovation-scaled deviation (``spec.innovation_scaled``).

    A bool when every Gaussian indicator is scaled alike (the graph has no switch), else a
    0/1 tensor gathered by each row's Gaussian indicator, ``local``.
    """
    scaled = innovation_indicators(data, spec)
    if scaled.all() or not scaled.any():
        return bool(scaled.all())
    return pt.as_tensor(scaled.astype(np.float64))[local]


def innovation_indicators(data: ModelData, spec: AlignmentSpec) -> np.ndarray:
    """Whether each Gaussian indicator (in the likelihood's order) is innovation-scaled."""
    kinds = np.asarray(data.kind)[data.family_indicators("gaussian")]
    return np.array([spec.innovation_scaled(str(k)) for k in kinds], dtype=bool)


def gaussian_noise(data: ModelData, spec: AlignmentSpec) -> pt.TensorVariable:
    """Add the ``noise`` scale of each Gaussian indicator's deviation, LogNormal.

    An innovation sd is a yearly change's, far below a stationary sd: the innovation-scaled
    indicators have their own prior (``priors.innovation_noise_sd`` and ``_log_sd``).
    """
    p = spec.priors
    scaled = innovation_indicators(data, spec)
    median: Any = np.where(scaled, p.innovation_noise_sd, p.noise_sd)
    log_sd: Any = np.where(scaled, p.innovation_noise_log_sd, p.noise_log_sd)
    if scaled.all() or not scaled.any():  # one prior: scalars, the graph of earlier fits
        median, log_sd = float(median[0]), float(log_sd[0])
    return pm.LogNormal("noise", np.log(median), log_sd, dims=GAUSSIAN_INDICATOR)


def gaussian_persistence(data: ModelData, spec: AlignmentSpec) -> pt.TensorVariable:
    """Add the ``persistence`` of each Gaussian indicator's AR(1) deviation.

    ``persistence_by = "indicator"``: one Beta prior per indicator. ``"family"``: one per
    indicator family (:func:`forecast.model.stacked.indicator_family`: the three arms shares
    share one), stored as ``persistence_family`` and mapped back to a deterministic
    ``persistence`` per indicator, so the projection reads it alike. Sharing identifies a
    persistence that a series of zeros leaves weakly identified (few consecutive values).
    """
    p = spec.priors
    if spec.persistence_by == "indicator":
        return pm.Beta(
            "persistence", p.persistence_alpha, p.persistence_beta, dims=GAUSSIAN_INDICATOR
        )
    families = gaussian_families(data)
    shared = pm.Beta(
        "persistence_family", p.persistence_alpha, p.persistence_beta, dims=GAUSSIAN_FAMILY
    )
    names = [data.indicators[i] for i in data.family_indicators("gaussian")]
    index = np.array([families.index(indicator_family(n)) for n in names], dtype=np.int64)
    return pm.Deterministic("persistence", shared[index], dims=GAUSSIAN_INDICATOR)


def gaussian_families(data: ModelData) -> tuple[str, ...]:
    """Families of the Gaussian indicators, in the order of their first member."""
    names = [data.indicators[i] for i in data.family_indicators("gaussian")]
    return tuple(dict.fromkeys(indicator_family(n) for n in names))


def add_gaussian_likelihood(
    arrays: dict[str, pt.TensorVariable], spec: AlignmentSpec, predictor: LinearPredictor
) -> None:
    """Add ``noise``, ``persistence`` and the censored ``y_gaussian``.

    Each Gaussian indicator deviates from the latent by its own AR(1) process
    (autocorrelation ``persistence`` per period of its own frequency, scale ``noise``: see
    :func:`deviation_variance`), so a series' persistent idiosyncrasies need not be
    explained by the latent. The likelihood is the sequence of one-step conditionals, gaps
    included: ``r_t | r_prev ~ N(phi^d r_prev, variance)`` with ``carry = "observed"``.
    With ``carry = "filtered"`` the previous residual is first shrunk to its expected
    deviation (:func:`carry_gain`) and the rest of its uncertainty added to the variance,
    and a series starts afresh after a value at its bound (only "at or beyond" is known
    there): a one-step approximation to the Kalman filter of deviation plus error.
    ``"filtered_se"`` shrinks alike but carries a value at its bound as observed. The
    conditional is Normal, or Student-t with ``deviation_df`` degrees of freedom except on a
    log link and for values with standard errors
    (:func:`~forecast.model.student_t.heavy_tailed`; ``sigma`` is the t's scale, its standard
    deviation ``sigma sqrt(df / (df - 2))``; the carry's formulas unchanged). Under
    a Normal one jump (an arms share from 0 to 0.9) is paid for with a larger innovation
    variance, hence a lower persistence, every year; a t pays for it in its tails.
    """
    p = spec.priors
    noise = gaussian_noise(predictor.data, spec)
    persistence = gaussian_persistence(predictor.data, spec)
    local = arrays["gaussian_obs_local"]
    innovation = innovation_rows(predictor.data, spec, local)
    cap = p.deviation_initial_sd
    y = arrays["gaussian_obs_y"]
    mu = predictor("gaussian")
    has_prev = arrays["gaussian_obs_has_previous"]
    gap = arrays["gaussian_obs_gap"]
    if spec.carry == "filtered":
        has_prev = has_prev * (1.0 - arrays["gaussian_obs_previous_censored"])
    filtered = spec.carry in FILTERED_CARRIES
    phi_d = persistence[local] ** gap
    # observations are sorted by series, so a previous observation is the row above
    resid = y - mu
    resid_prev = pt.concatenate([pt.zeros((1,)), resid[:-1]])
    q = deviation_variance(noise[local], persistence[local], gap, has_prev, innovation, cap)
    variance = q
    if filtered:
        marginal = deviation_marginal_variance(noise[local], persistence[local], innovation, cap)
        k = carry_gain(marginal, arrays["gaussian_obs_previous_se"])
        carry = has_prev * phi_d * k * resid_prev
        variance = q + has_prev * phi_d**2 * marginal * (1.0 - k)
    else:
        carry = has_prev * phi_d * resid_prev
    if "gaussian_filter_rows" in arrays:  # carry = "kalman": the exact filter
        carry, variance = exact_carry(arrays, resid, phi_d, q, has_prev, carry, variance)
    # a value published with a standard error adds its variance; a value at its kind's
    # bound (an arms share of 0) is censored there (see graph.censoring_bounds)
    sigma = pt.sqrt(variance + arrays["gaussian_obs_se"] ** 2)
    lower, upper = arrays["gaussian_obs_lower"], arrays["gaussian_obs_upper"]
    if math.isinf(spec.deviation_df):
        pm.Censored(
            "y_gaussian",
            pm.Normal.dist(mu=mu + carry, sigma=sigma),
            lower=lower,
            upper=upper,
            observed=y,
            dims=obs_dim("gaussian"),
        )
        return
    df = spec.deviation_df

    def logp(value: Any, mu: Any, sigma: Any, heavy: Any, low: Any, high: Any) -> Any:
        return censored_deviation_logp(value, mu, sigma, heavy, low, high, df)

    pm.CustomDist(
        "y_gaussian",
        mu + carry,
        sigma,
        arrays["gaussian_obs_heavy"],
        lower,
        upper,
        logp=logp,
        observed=y,
        dims=obs_dim("gaussian"),
    )


def add_binomial_likelihood(
    arrays: dict[str, pt.TensorVariable], spec: AlignmentSpec, predictor: LinearPredictor
) -> None:
    """Add ``y_binomial``: beta-binomial with ``concentration`` if overdispersed, else binomial."""
    eta = predictor("binomial")
    if not spec.overdispersion:
        pm.Binomial(
            "y_binomial",
            n=arrays["binomial_obs_trials"],
            logit_p=eta,
            observed=arrays["binomial_obs_y"],
            dims=obs_dim("binomial"),
        )
        return
    concentration = pm.Gamma(
        "concentration",
        alpha=2.0,
        beta=2.0 / spec.priors.concentration_mean,
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


def add_binary_likelihood(arrays: dict[str, pt.TensorVariable], predictor: LinearPredictor) -> None:
    """Add the Bernoulli ``y_binary`` with logit link."""
    pm.Bernoulli(
        "y_binary",
        logit_p=predictor("binary"),
        observed=arrays["binary_obs_y"],
        dims=obs_dim("binary"),
    )
