"""Simulation from the model's own generative process, for parameter-recovery checks.

A simulated data set keeps the real design (which cells are observed, with how many trials)
and replaces the observed values by draws from the model with chosen "true" parameters.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pymc as pm
import xarray as xr

from forecast.dims import INDICATOR, PERIOD, POLE, STATE
from forecast.model.design import ModelData
from forecast.model.graph import build_alignment_model
from forecast.model.likelihoods import GAUSSIAN_INDICATOR
from forecast.model.project import variance_gain
from forecast.model.random_walk import drift_given_realised
from forecast.model.spec import AlignmentSpec
from forecast.model.student_t import heavy_tailed
from forecast.seeds import generator, stream_seed

#: a plausible truth, on the model's standardised scales
DEFAULT_TRUTH = {
    "drift_mu": np.array([-0.03, 0.04, 0.01]),
    "drift_tau": np.array([0.01, 0.01, 0.01]),
    "volatility_log_mu": np.array([-2.0, -2.0, -2.0]),
    "volatility_log_tau": np.array([0.2, 0.2, 0.2]),
}


@dataclass(frozen=True)
class Simulation:
    """Simulated model data and the true values that produced it."""

    data: ModelData
    truth: xr.Dataset


def simulate(
    data: ModelData,
    spec: AlignmentSpec,
    *,
    random_seed: int,
    fixed: dict[str, np.ndarray] | None = None,
) -> Simulation:
    """Draw a data set from the model on ``data``'s design.

    Parameters
    ----------
    data
        The design: states, indicators, periods, observed cells and trials are kept.
    spec
        Model spec (priors for everything not in ``fixed``).
    random_seed
        Seed of every draw.
    fixed
        True values of some variables (by name: free variables, or deterministics such as
        ``loading``); the rest are drawn from the prior. Defaults to :data:`DEFAULT_TRUTH`.

    Returns
    -------
    Simulation
        ``data`` with simulated observations, and ``truth`` holding ``alignment``,
        ``drift``, ``volatility``, ``loading``, ``intercept``, the Gaussian indicators'
        ``noise`` and ``persistence`` (when there are any) and the fixed values.
    """
    fixed = DEFAULT_TRUTH if fixed is None else fixed
    model = build_alignment_model(data, spec)
    conditioned = pm.do(model, {model[name]: value for name, value in fixed.items()})
    names = ["alignment", "drift_realised", "drift_mu", "drift_tau", "volatility", "loading"]
    names.append("intercept")
    if spec.correlated_innovations:
        names += ["innovation_corr"]
    if len(data.obs["gaussian"]):
        names += ["noise", "persistence"]
    # the Gaussian likelihood is written as conditionals on the *observed* previous value,
    # so its AR(1) deviations are simulated here; the other families are drawn by PyMC
    observed = [f"y_{f}" for f in ("binomial", "binary") if len(data.obs[f])]
    # one draw: the Python backend compiles in a second and has every RandomVariable (numba
    # has no beta-binomial and would fall back to object mode with a warning)
    draws = pm.draw(
        [conditioned[n] for n in names + observed],
        random_seed=stream_seed(random_seed, "simulation"),
        mode="FAST_COMPILE",
    )
    values = dict(zip(names + observed, draws, strict=True))
    # the drifts enter the likelihood only through the realised drift: draw them given it
    n_poles = len(data.poles)
    values["drift"] = drift_given_realised(
        np.asarray(values["drift_realised"]),
        np.asarray(values["drift_mu"]),
        np.asarray(values["drift_tau"]),
        np.asarray(values["volatility"]),
        np.asarray(values.get("innovation_corr", np.eye(n_poles))),
        data.n_steps - 1,
        random_seed=stream_seed(random_seed, "simulation_drift"),
    )
    obs = dict(data.obs)
    for key in observed:
        family = key.removeprefix("y_")
        obs[family] = replace(data.obs[family], y=np.asarray(values[key], dtype=float))
    if len(data.obs["gaussian"]):
        rng = generator(random_seed, "simulation_gaussian")
        obs["gaussian"] = replace(data.obs["gaussian"], y=_gaussian_values(data, spec, values, rng))
    truth = _truth(data, values, fixed)
    return Simulation(replace(data, obs=obs), truth)


def _truth(data: ModelData, values: dict, fixed: dict[str, np.ndarray]) -> xr.Dataset:
    """Label the true values of a simulation like a posterior; ``fixed`` goes in ``attrs``."""
    truth = xr.Dataset(
        {
            "alignment": ((STATE, POLE, PERIOD), values["alignment"]),
            "drift": ((STATE, POLE), values["drift"]),
            "volatility": ((STATE, POLE), values["volatility"]),
            "loading": ((INDICATOR,), values["loading"]),
            "intercept": ((INDICATOR, STATE), values["intercept"]),
        },
        coords={
            STATE: list(data.states),
            POLE: list(data.poles),
            PERIOD: list(data.steps),
            INDICATOR: list(data.indicators),
        },
    )
    if "persistence" in values:
        gaussian = data.family_indicators("gaussian")
        for name in ("noise", "persistence"):
            truth[name] = xr.DataArray(
                np.asarray(values[name]),
                dims=(GAUSSIAN_INDICATOR,),
                coords={GAUSSIAN_INDICATOR: [data.indicators[i] for i in gaussian]},
            )
    for name, value in fixed.items():
        truth.attrs[name] = np.asarray(value).tolist()
    return truth


def _gaussian_values(
    data: ModelData, spec: AlignmentSpec, values: dict, rng: np.random.Generator
) -> np.ndarray:
    """Linear predictor plus AR(1) deviations, series by series in time order, plus ``se``."""
    g = data.obs["gaussian"]
    theta = np.asarray(values["alignment"])  # (state, pole, period)
    pole = data.pole_index[g.indicator]
    theta_bar = (theta[g.state[:, None], pole[:, None], g.cover] * g.weight).sum(axis=1)
    loading = np.asarray(values["loading"])
    intercept = np.asarray(values["intercept"])
    mu = intercept[g.indicator, g.state] + data.sign[g.indicator] * loading[g.indicator] * theta_bar
    local = np.full(len(data.indicators), -1)
    members = data.family_indicators("gaussian")
    local[members] = np.arange(len(members))
    noise = np.asarray(values["noise"])[local[g.indicator]]
    phi = np.asarray(values["persistence"])[local[g.indicator]]
    resid = np.zeros(len(g))
    df = spec.deviation_df
    eps = rng.standard_normal(len(g))
    if not np.isinf(df):
        heavy = heavy_tailed(data.kind, g.indicator, g.se)[g.indicator]
        eps = np.where(heavy, rng.standard_t(df, len(g)), eps)
    scaled = np.array([spec.innovation_scaled(str(k)) for k in data.kind])[g.indicator]
    cap = spec.priors.deviation_initial_sd
    for j in range(len(g)):
        if g.previous[j] >= 0:
            phi_d = phi[j] ** g.gap[j]
            gain = variance_gain(phi[j : j + 1], int(g.gap[j]))[0] if scaled[j] else 1 - phi_d**2
            resid[j] = phi_d * resid[j - 1] + noise[j] * np.sqrt(gain) * eps[j]
        elif scaled[j]:
            resid[j] = eps[j] / np.sqrt((1.0 - phi[j] ** 2) / noise[j] ** 2 + 1.0 / cap**2)
        else:
            resid[j] = noise[j] * eps[j]
    value = mu + resid + g.se * rng.standard_normal(len(g))
    # values beyond a kind's bound are recorded at it, as the panel records a 0 share
    if data.lower.size:
        value = np.clip(value, data.lower[g.indicator], data.upper[g.indicator])
    return value
