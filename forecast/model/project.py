"""Projection: posterior draws of the dynamics carry the latent forward; indicators follow.

The latent's future increments are ``drift + volatility * (L @ z)``, with ``z`` drawn from
an explicit seed, plus optional ``offsets`` (what-if shocks and drift changes, added to the
increments, so they persist in the random walk). Indicator values go through the measurement
equation *with* observation noise, so their intervals are predictive intervals that widen
with the horizon. Gaussian indicators continue their AR(1) deviation from the last observed
value of each series. Shares whose draws fall beyond the clip are the model's exact 0 and 1
(the likelihood reads a clipped 0 or 1 as the clip).
"""

from __future__ import annotations

from itertools import pairwise
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr
from numpy.typing import NDArray

from forecast.dims import (
    ALIGNMENT_VAR,
    CHAIN,
    DRAW,
    INDICATOR,
    INDICATOR_VAR,
    PERIOD,
    POLE,
    STATE,
)
from forecast.errors import ForecastError
from forecast.model.filtering import filter_step
from forecast.model.spec import FILTERED_CARRIES, innovation_scaled
from forecast.model.student_t import heavy_tailed
from forecast.model.transforms import (
    GAUSSIAN_KINDS,
    from_link,
    inverse_logit,
    to_link,
)
from forecast.model.trees import group
from forecast.periods import (
    PANDAS_FREQ,
    format_period,
    parse_period,
    steps_covered,
)
from forecast.seeds import generator


def future_steps(posterior: xr.DataTree, until: str) -> list[str]:
    """Model steps after the last fitted one, up to ``until`` (inclusive)."""
    steps = [str(p) for p in group(posterior, "posterior")[PERIOD].values]
    step = str(group(posterior, "constant_data").attrs["step"])
    last = parse_period(steps[-1])
    try:
        end = parse_period(until)
    except ValueError as err:
        raise ForecastError(f"--until: {err}") from None
    end = end.asfreq(PANDAS_FREQ[step], how="end")
    if end < last:
        raise ForecastError(f"--until {until} is before the last fitted period {steps[-1]}")
    return [format_period(p) for p in pd.period_range(last + 1, end, freq=PANDAS_FREQ[step])]


def drift_damping_of(posterior: xr.DataTree) -> float:
    """Return the drift damping of the run's spec (1, a straight line, for runs without one)."""
    return float(group(posterior, "constant_data").attrs.get("drift_damping", 1.0))


def project_latent(
    posterior: xr.DataTree,
    until: str,
    *,
    random_seed: int,
    offsets: xr.DataArray | None = None,
    drift_damping: float | None = None,
) -> xr.DataArray:
    """Latent alignment for history and horizon, ``(chain, draw, state, pole, period)``.

    Parameters
    ----------
    posterior
        A fitted run's DataTree.
    until
        Last period of the horizon.
    random_seed
        Seed of the future innovations (the same seed gives the same paths, which is what
        makes what-if comparisons paired).
    offsets
        Optional additions to the future increments, dims ``(state, pole, period)`` over the
        future periods (missing entries count as zero).
    drift_damping
        The drift's weight in step ``h`` ahead is ``drift_damping ** h`` (1: the fitted drift
        in a straight line; 0: none). By default the run's own (its spec's ``[projection]``).
    """
    post = group(posterior, "posterior")
    history = post["alignment"].transpose(CHAIN, DRAW, STATE, POLE, PERIOD)
    future = future_steps(posterior, until)
    if not future:
        return history
    n_chain, n_draw = post.sizes[CHAIN], post.sizes[DRAW]
    n_state, n_pole = post.sizes[STATE], post.sizes[POLE]
    rng = generator(random_seed, "latent")
    z = rng.standard_normal((n_chain, n_draw, n_state, len(future), n_pole))
    if "innovation_chol" in post:
        chol = post["innovation_chol"].values  # (chain, draw, pole, pole_row)
        z = np.einsum("cdkj,cdshj->cdshk", chol, z)
    damping = drift_damping_of(posterior) if drift_damping is None else drift_damping
    weight = damping ** np.arange(1, len(future) + 1, dtype=float)
    drift = post["drift"].transpose(CHAIN, DRAW, STATE, POLE).values[:, :, :, None, :]
    vol = post["volatility"].transpose(CHAIN, DRAW, STATE, POLE).values[:, :, :, None, :]
    increments = drift * weight[None, None, None, :, None] + vol * z
    if offsets is not None:
        extra = (
            offsets.reindex({PERIOD: future}, fill_value=0.0)
            .reindex({STATE: post[STATE].values, POLE: post[POLE].values}, fill_value=0.0)
            .transpose(STATE, PERIOD, POLE)
            .values
        )
        increments = increments + extra[None, None]
    start = history.isel({PERIOD: -1}).values[:, :, :, None, :]
    path = start + np.cumsum(increments, axis=3)  # (chain, draw, state, future, pole)
    ahead = xr.DataArray(
        path.transpose(0, 1, 2, 4, 3),
        dims=(CHAIN, DRAW, STATE, POLE, PERIOD),
        coords={
            CHAIN: history[CHAIN],
            DRAW: history[DRAW],
            STATE: history[STATE],
            POLE: history[POLE],
            PERIOD: future,
        },
    )
    return xr.concat([history, ahead], dim=PERIOD)


def _indicator_periods(first_step: str, last_step: str, frequency: str) -> list[pd.Period]:
    """Periods of ``frequency`` lying wholly inside the latent path."""
    first = parse_period(first_step).asfreq(PANDAS_FREQ[frequency], how="start")
    last = parse_period(last_step).asfreq(PANDAS_FREQ[frequency], how="end")
    periods = list(pd.period_range(first, last, freq=PANDAS_FREQ[frequency]))
    start_ts = parse_period(first_step).start_time
    end_ts = parse_period(last_step).end_time
    return [p for p in periods if p.start_time >= start_ts and p.end_time <= end_ts]


def _averaging(periods: list[pd.Period], steps: list[str], step: str) -> xr.DataArray:
    """Matrix (indicator period x model step) averaging the steps each period covers."""
    position = {label: i for i, label in enumerate(steps)}
    weights = np.zeros((len(periods), len(steps)))
    for row, period in enumerate(periods):
        covered = [position[format_period(p)] for p in steps_covered(period, step)]
        weights[row, covered] = 1.0 / len(covered)
    labels = [format_period(p) for p in periods]
    return xr.DataArray(weights, dims=("target", PERIOD), coords={"target": labels, PERIOD: steps})


def _linear_predictor(
    posterior: xr.DataTree, latent: xr.DataArray, indicator: str, periods: list[pd.Period]
) -> xr.DataArray:
    """Draws of ``eta`` for one indicator: (chain, draw, state, target period)."""
    post = group(posterior, "posterior")
    const = group(posterior, "constant_data")
    pole = str(const["pole_of_indicator"].sel({INDICATOR: indicator}).values)
    steps = [str(p) for p in latent[PERIOD].values]
    weights = _averaging(periods, steps, str(const.attrs["step"]))
    theta_bar = xr.dot(latent.sel({POLE: pole}, drop=True), weights, dim=PERIOD)
    sign = float(const["sign"].sel({INDICATOR: indicator}))
    loading = post["loading"].sel({INDICATOR: indicator}, drop=True)
    intercept = post["intercept"].sel({INDICATOR: indicator}, drop=True)
    eta = intercept + sign * loading * theta_bar
    return eta.transpose(CHAIN, DRAW, STATE, "target")


def variance_gain(phi: NDArray, gap: int) -> NDArray:
    """``sum(phi^(2 j), j < gap)``: what an AR(1) variance gains over ``gap`` periods.

    Examples
    --------
    >>> variance_gain(np.array([0.0, 0.5, 1.0]), 2).tolist()
    [1.0, 1.25, 2.0]
    """
    q = np.asarray(phi, dtype=float) ** 2
    return np.sum(q[..., None] ** np.arange(gap), axis=-1)


def carry_gain(marginal: Any, previous_se: Any) -> Any:
    """Share of the previous residual that is deviation: ``v / (v + se^2)``.

    The filtered carry (``carry = "filtered"``) carries ``phi^d k r`` instead of ``phi^d r``:
    a residual published with a standard error is the deviation plus that error, and
    carrying it whole attenuates the persistence toward 0 (errors in variables).

    Examples
    --------
    >>> float(carry_gain(0.25, 0.0)), float(carry_gain(0.25, 0.5))
    (1.0, 0.5)
    """
    return marginal / (marginal + previous_se**2)


def _deviation_law(const: xr.Dataset, indicator: str, se: NDArray) -> tuple[bool, float]:
    """Whether an indicator's deviation is innovation-scaled, and its degrees of freedom.

    As the fit had them (its ``constant_data`` attributes; absent: stationary, Normal):
    Student-t innovations when ``deviation_df`` is finite, except where the likelihood kept
    the Normal (:func:`~forecast.model.student_t.heavy_tailed`: a log link, or values ``se``
    published with standard errors).
    """
    kind = str(const["kind"].sel({INDICATOR: indicator}).values)
    innovation = innovation_scaled(
        str(const.attrs.get("deviation", "stationary")),
        str(const.attrs.get("log_link_deviation", "same")),
        kind,
    )
    heavy = heavy_tailed([kind], np.zeros(se.size, dtype=int), se)[0]
    df = float(const.attrs.get("deviation_df", np.inf)) if heavy else np.inf
    return innovation, df


def _conditional_variance(noise: NDArray, phi: NDArray, gap: int, innovation: bool) -> NDArray:
    """Return the deviation's variance ``gap`` periods after a known one (draws of each)."""
    phi_1 = phi[:, :, 0]
    gain = variance_gain(phi_1, gap) if innovation else 1.0 - (phi_1**gap) ** 2
    return np.asarray(noise[:, :, 0] ** 2 * gain)


def _filtered_states(
    carry: str,
    resid: NDArray,
    se: NDArray,
    phi: NDArray,
    gaps: list[int],
    q: list[NDArray],
    marginal: NDArray,
) -> tuple[NDArray, NDArray]:
    """Return the deviation's mean and variance given a series' values, at each of them.

    ``resid`` ``(chain, draw, value)``; ``se``, ``gaps`` and ``q`` (the deviation's
    variance given the previous one, :func:`_conditional_variance`) per value. Under
    ``"observed"`` the residual itself; under the other filtered carries the residual shrunk
    by :func:`carry_gain`, given that value alone; under ``"kalman"`` given it and every
    earlier value (:func:`~forecast.model.filtering.filter_step`).
    """
    if carry not in FILTERED_CARRIES:
        return resid, np.zeros_like(resid)
    if carry != "kalman":
        k = carry_gain(marginal[..., None], se)
        return k * resid, marginal[..., None] * (1.0 - k)
    mean, var = np.zeros_like(resid), np.zeros_like(resid)
    m, p = np.zeros_like(marginal), np.zeros_like(marginal)
    for i, gap in enumerate(gaps):
        _, _, m, p = filter_step(m, p, resid[..., i], se[i], phi**gap, q[i], float(i > 0))
        mean[..., i], var[..., i] = m, p
    return mean, var


def _ar_deviations(
    posterior: xr.DataTree,
    indicator: str,
    eta: xr.DataArray,
    periods: list[pd.Period],
    rng: np.random.Generator,
) -> NDArray:
    """AR(1) deviations of a Gaussian indicator, each conditional on the latest earlier observation.

    For a period with an earlier observation of its series (a fitted year or the horizon),
    the deviation is ``phi^d m`` plus noise of variance ``q + phi^(2 d) p``: ``q`` the
    likelihood's conditional variance (:func:`forecast.model.likelihoods.deviation_variance`;
    Student-t noise of that scale when the fit's ``deviation_df`` is finite), ``m`` and ``p``
    the deviation's mean and variance at that observation as the fit's carry reads them
    (:func:`_filtered_states`: the residual itself and 0 under the observed carry). Before a
    series' first observation it has the first value's variance. This is the model's own
    one-step-ahead predictive, so history and horizon are treated alike.
    """
    post = group(posterior, "posterior")
    const = group(posterior, "constant_data")
    y = group(posterior, "observed_data")["y_gaussian"]
    dim = y.dims[0]
    mine = y[f"{dim}_{INDICATOR}"].values == indicator
    obs_state = y[f"{dim}_{STATE}"].values[mine]
    obs_period = [parse_period(p) for p in y[f"{dim}_{PERIOD}"].values[mine]]
    obs_y = y.values[mine]
    obs_se = y[f"{dim}_se"].values[mine] if f"{dim}_se" in y.coords else np.zeros(mine.sum())
    innovation, df = _deviation_law(const, indicator, obs_se)
    cap = float(const.attrs.get("deviation_initial_sd", 1.0))
    noise = post["noise"].sel(gaussian_indicator=indicator).values[:, :, None]
    phi = post["persistence"].sel(gaussian_indicator=indicator).values[:, :, None]
    n_chain, n_draw, n_state, n_period = eta.shape
    shape = (n_chain, n_draw, n_state, n_period)
    eps = rng.standard_normal(shape) if np.isinf(df) else rng.standard_t(df, shape)
    first_sd = np.sqrt(1.0 / ((1.0 - phi**2) / noise**2 + 1.0 / cap**2)) if innovation else noise
    dev = first_sd[..., None] * eps
    carry = str(const.attrs.get("carry", "observed"))
    marginal = first_sd[:, :, 0] ** 2
    at_bound = np.zeros(obs_y.size, dtype=bool)
    if carry == "filtered" and "lower" in const:
        low, high = (float(const[b].sel({INDICATOR: indicator})) for b in ("lower", "upper"))
        at_bound = (obs_y <= low + 1e-9) | (obs_y >= high - 1e-9)
    targets = {format_period(p): j for j, p in enumerate(periods)}
    states = [str(v) for v in eta[STATE].values]
    for s_pos, state in enumerate(states):
        rows = [k for k in range(obs_y.size) if obs_state[k] == state]
        if not rows:
            continue
        rows.sort(key=lambda k: obs_period[k])
        # residual draws at each observation of the series, and the deviation's filtered
        # mean and variance there (as the likelihood conditions on them)
        cols = [targets[format_period(obs_period[k])] for k in rows]
        resid = obs_y[rows][None, None, :] - eta.values[:, :, s_pos, cols]
        gaps = [0] + [(obs_period[b] - obs_period[a]).n for a, b in pairwise(rows)]
        q = [marginal] + [_conditional_variance(noise, phi, g, innovation) for g in gaps[1:]]
        mean, var = _filtered_states(carry, resid, obs_se[rows], phi[:, :, 0], gaps, q, marginal)
        last_obs = -1
        for j, period in enumerate(periods):
            while last_obs + 1 < len(rows) and obs_period[rows[last_obs + 1]] < period:
                last_obs += 1
            # after a value at its bound the filtered carry starts afresh, as its likelihood
            if last_obs < 0 or at_bound[rows[last_obs]]:
                continue
            gap = (period - obs_period[rows[last_obs]]).n
            phi_d = phi[:, :, 0] ** gap
            q_gap = _conditional_variance(noise, phi, gap, innovation)
            sd = np.sqrt(q_gap + phi_d**2 * var[..., last_obs])
            dev[:, :, s_pos, j] = phi_d * mean[..., last_obs] + sd * eps[:, :, s_pos, j]
        # a value published with a standard error: the series' median one, as the likelihood
        se = float(np.median(obs_se[rows]))
        if se > 0:
            dev[:, :, s_pos, :] += se * rng.standard_normal(dev[:, :, s_pos, :].shape)
    return dev


def project_indicators(
    posterior: xr.DataTree, latent: xr.DataArray, *, random_seed: int
) -> xr.DataArray:
    """Draw indicator values on their natural scale, with observation noise.

    Dims ``(chain, draw, state, indicator, period)`` over every period of each indicator's
    frequency inside the latent path (NaN where an indicator has no such period).

    Each indicator draws from its own random stream (the ``observation`` stream of
    ``random_seed``, keyed by the indicator, :mod:`forecast.seeds`):
    binomial and beta draws consume a number of variates that depends on their parameters,
    so with one shared stream a what-if that moves one pole's latent would also change the
    noise of every indicator drawn after it, and the what-if comparison would no longer be
    paired.
    """
    post = group(posterior, "posterior")
    const = group(posterior, "constant_data")
    steps = [str(p) for p in latent[PERIOD].values]
    pieces = []
    for indicator in [str(k) for k in const[INDICATOR].values]:
        rng = generator(random_seed, "observation", indicator)
        kind = str(const["kind"].sel({INDICATOR: indicator}).values)
        freq = str(const["frequency"].sel({INDICATOR: indicator}).values)
        periods = _indicator_periods(steps[0], steps[-1], freq)
        eta_da = _linear_predictor(posterior, latent, indicator, periods)
        eta = eta_da.values
        if kind in GAUSSIAN_KINDS:
            dev = _ar_deviations(posterior, indicator, eta_da, periods, rng)
            scale = float(const["scale"].sel({INDICATOR: indicator}))
            centre = float(const["centre"].sel({INDICATOR: indicator}))
            offset = float(const["offset"].sel({INDICATOR: indicator}))
            link = (eta + dev) * scale + centre
            values = from_link(link, kind, offset=offset)
            if kind == "share":
                # the likelihood reads an exact 0 or 1 as the clip, so the draws beyond the
                # clip are the model's exact 0 and 1 (178 arms shares are exactly 0)
                clip = float(const.attrs["share_clip"])
                values = np.where(link <= to_link(clip, "share", clip=0.0), 0.0, values)
                values = np.where(link >= to_link(1.0 - clip, "share", clip=0.0), 1.0, values)
        elif kind == "binomial":
            prob = inverse_logit(eta)
            if "concentration" in post:
                kappa = post["concentration"].sel(binomial_indicator=indicator).values
                kappa = kappa[:, :, None, None]
                prob = rng.beta(
                    np.maximum(prob * kappa, 1e-12), np.maximum((1 - prob) * kappa, 1e-12)
                )
            states = [str(v) for v in eta_da[STATE].values]
            trials = const["typical_trials"].sel({INDICATOR: indicator, STATE: states}).values
            n = np.broadcast_to(trials[None, None, :, None], eta.shape)
            values = rng.binomial(n, prob) / n
        else:  # binary
            prob = inverse_logit(eta)
            values = (rng.random(eta.shape) < prob).astype(float)
        pieces.append(
            xr.DataArray(
                values,
                dims=(CHAIN, DRAW, STATE, PERIOD),
                coords={
                    CHAIN: latent[CHAIN],
                    DRAW: latent[DRAW],
                    STATE: eta_da[STATE].values,
                    PERIOD: [format_period(p) for p in periods],
                },
            ).expand_dims({INDICATOR: [indicator]}, axis=3)
        )
    return xr.concat(pieces, dim=INDICATOR, join="outer")


def project(
    posterior: xr.DataTree,
    until: str,
    *,
    random_seed: int,
    offsets: xr.DataArray | None = None,
    drift_damping: float | None = None,
) -> xr.Dataset:
    """Forecast draws of the latent and the indicators over history and horizon.

    Parameters
    ----------
    posterior
        A fitted run's DataTree.
    until
        Last period of the horizon (e.g. ``"2030"``).
    random_seed
        Seed for future innovations and observation noise.
    offsets
        Optional what-if additions to the latent's future increments (see
        :func:`project_latent`).
    drift_damping
        See :func:`project_latent` (default: the run's own).

    Returns
    -------
    xarray.Dataset
        ``alignment (chain, draw, state, pole, period)`` and
        ``indicators (chain, draw, state, indicator, period)``; ``attrs["last_fitted"]`` is the
        last period of the fitted path.
    """
    damping = drift_damping_of(posterior) if drift_damping is None else float(drift_damping)
    latent = project_latent(
        posterior, until, random_seed=random_seed, offsets=offsets, drift_damping=damping
    )
    # a different stream for observation noise than for the latent's innovations
    indicators = project_indicators(posterior, latent, random_seed=random_seed)
    post = group(posterior, "posterior")
    last = str(post[PERIOD].values[-1])
    ds = xr.Dataset({ALIGNMENT_VAR: latent, INDICATOR_VAR: indicators})
    ds.attrs.update(
        {
            "last_fitted": last,
            "until": until,
            "random_seed": random_seed,
            # the drift's weight h steps ahead is drift_damping ** h (0: a driftless walk)
            "drift_damping": damping,
            "inference_method": str(
                group(posterior, "posterior").attrs.get("inference_method", "")
            ),
            "approximate": int(group(posterior, "posterior").attrs.get("approximate", 0)),
        }
    )
    return ds
