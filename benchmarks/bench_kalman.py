"""Benchmark: marginalising the latent path with a Kalman filter, for the all-Gaussian variant.

The default model is not linear-Gaussian (UN votes are beta-binomial), so the Kalman filter
cannot marginalise its latent path. Its all-Gaussian variant can: the default spec without its
binomial indicators, on the bundled panel (5 states, 10 Gaussian indicators, yearly steps).
This script writes that variant twice, as two PyMC programs of the *same* posterior:

``path``
    The latent path is sampled, in the coordinates ``forecast/model/graph.py`` uses (realised
    drift, centred, and the deviations from it in the basis of
    :mod:`forecast.model.random_walk`); the AR(1) measurement deviations enter as exact
    one-step conditionals, as in ``graph.py``.
``kalman``
    The path, the state drifts and the AR(1) deviations are states of a linear Gaussian
    state-space model, one per country: state ``[theta (3 poles), drift (3), r (10)]``,
    transition ``theta += drift + L-correlated innovation``, ``drift`` constant,
    ``r = phi * r + e``, observation ``y = intercept + sign * loading * theta[pole] + r`` with
    missing cells masked. Its log likelihood comes from pymc-extras' ``StandardFilter``
    (``pymc_extras.statespace.filters``, without its default covariance jitter; the statespace
    model classes assume one series with shared parameters, the filter takes any matrices).
    The first period's level stays sampled (it sums to zero across states, which couples the
    countries).

Both share every other parameter and prior (``models/alignment.toml``); the intercepts are the
plain partially pooled ones (no centring on the latent's mean: a centred level depends on the
whole path, which a filter cannot see). Before speed, a density check compares the filter's
log likelihood of one country with the dense multivariate normal of all its observations, and
after sampling the two posteriors' means are compared within Monte Carlo error.

Reported per program: compile time, time of one log-density-and-gradient evaluation (numba,
timed alone), sampling time, gradient evaluations after warm-up, minimum bulk ESS over the
parameters both programs sample (hyper-drifts, drift spreads, volatilities, correlation,
loadings, intercept scales, noise, persistence), ESS per second and per gradient, divergences,
max R-hat. Both with nutpie, 4 chains x 1000 draws after 500 warm-up steps, ``draw_diag``
adaptation, target acceptance 0.95, seed 1.

Usage::

    python benchmarks/bench_kalman.py [--draws 1000] [--tune 500] [--chains 4] [--seed 1]

The machine's other load changes the numbers. No asserts.
"""

from __future__ import annotations

import argparse
import os
import time
from dataclasses import dataclass, replace

import arviz as az
import numpy as np
import pymc as pm
import pytensor.tensor as pt
import xarray as xr
from scipy.stats import multivariate_normal, norm

from forecast.data.codebook import load_codebook
from forecast.data.panel import DEFAULT_PANEL, read_panel
from forecast.dims import INDICATOR, POLE, STATE
from forecast.model.design import ModelData, build_model_data
from forecast.model.fit import ieee_numba
from forecast.model.graph import (
    FREE_LOADING,
    GAUSSIAN_INDICATOR,
    INNOVATION_MODE,
    POLE_ROW,
    model_coords,
    observation_arrays,
)
from forecast.model.random_walk import complement_basis
from forecast.model.spec import DEFAULT_MODEL, AlignmentSpec, load_model_spec

#: sampled by both programs: the minimum bulk ESS and the agreement check run over these
SHARED = (
    "drift_mu",
    "drift_tau",
    "volatility_log_mu",
    "volatility_log_tau",
    "volatility",
    "innovation_corr",
    "initial",
    "loading",
    "intercept_mu",
    "intercept_tau",
    "intercept",
    "noise",
    "persistence",
)


@dataclass(frozen=True)
class Row:
    program: str
    compile_seconds: float
    gradient_us: float
    sampling_seconds: float
    gradients: int
    min_ess_bulk: float
    divergences: int
    max_rhat: float


def gaussian_variant(spec: AlignmentSpec, codebook) -> tuple[AlignmentSpec, ModelData]:
    """The default spec without its binomial indicators, and its data on the bundled panel."""
    keep = tuple(k for k in spec.indicators if codebook[k].kind != "binomial")
    variant = replace(spec, indicators=keep)
    data = build_model_data(read_panel(DEFAULT_PANEL, codebook), variant, codebook)
    if data.obs["gaussian"].cover.shape[1] != 1 or len(data.obs["binomial"]):
        raise SystemExit("the variant must be Gaussian with one step per observation")
    return variant, data


def shared_parameters(data: ModelData, spec: AlignmentSpec) -> dict[str, pt.TensorVariable]:
    """Priors both programs share (call inside a model context); returns the tensors used."""
    p = spec.priors
    n_poles = len(data.poles)
    out = {
        "drift_mu": pm.Normal("drift_mu", 0.0, p.drift_mean_sd, dims=POLE),
        "drift_tau": pm.HalfNormal("drift_tau", p.drift_pool_sd, dims=POLE),
    }
    vol_mu = pm.Normal("volatility_log_mu", p.volatility_log_mean, p.volatility_log_sd, dims=POLE)
    vol_tau = pm.Gamma("volatility_log_tau", 2.0, 2.0 / p.volatility_pool_sd, dims=POLE)
    vol_z = pm.Normal("volatility_z", 0.0, 1.0, dims=(STATE, POLE))
    out["volatility"] = pm.Deterministic(
        "volatility", pt.exp(vol_mu + vol_tau * vol_z), dims=(STATE, POLE)
    )
    chol = pm.LKJCorr("innovation_chol", n=n_poles, eta=p.lkj_eta, dims=(POLE, POLE_ROW))
    power = pt.as_tensor(np.arange(n_poles - 1, -1, -1, dtype=float))
    pm.Potential("innovation_chol_jacobian", (power * pt.log(pt.diag(chol))).sum())
    out["chol"] = chol
    out["corr"] = pm.Deterministic("innovation_corr", chol @ chol.T, dims=(POLE, POLE_ROW))
    out["initial"] = pm.ZeroSumNormal(
        "initial", sigma=p.initial_sd, dims=(POLE, STATE), n_zerosum_axes=1
    ).T
    free = np.flatnonzero(~data.is_reference)
    mu = pm.Normal("intercept_mu", 0.0, p.intercept_sd, dims=INDICATOR)
    tau = pm.Gamma("intercept_tau", 4.0, 4.0 / p.intercept_pool_sd, dims=FREE_LOADING)
    z = pm.Normal("intercept_state_z", 0.0, 1.0, dims=(FREE_LOADING, STATE))
    level = pt.repeat(mu[:, None], len(data.states), axis=1)
    level = pt.set_subtensor(level[free], mu[free][:, None] + tau[:, None] * z)
    out["intercept"] = pm.Deterministic("intercept", level, dims=(INDICATOR, STATE))
    log_loading = pm.Normal("log_loading", 0.0, p.loading_log_sd, dims=FREE_LOADING)
    loading = pt.set_subtensor(pt.ones(len(data.indicators))[free], pt.exp(log_loading))
    out["loading"] = pm.Deterministic("loading", loading, dims=INDICATOR)
    out["noise"] = pm.LogNormal(
        "noise", np.log(p.noise_sd), p.noise_log_sd, dims=GAUSSIAN_INDICATOR
    )
    out["persistence"] = pm.Beta(
        "persistence", p.persistence_alpha, p.persistence_beta, dims=GAUSSIAN_INDICATOR
    )
    return out


def path_model(data: ModelData, spec: AlignmentSpec) -> pm.Model:
    """The variant with the latent path sampled (graph.py's coordinates)."""
    n_states, n_poles, n_steps = len(data.states), len(data.poles), data.n_steps
    arrays = observation_arrays(data)
    with pm.Model(coords=model_coords(data)) as model:
        s = shared_parameters(data, spec)
        volatility, corr = s["volatility"], s["corr"]
        n_incr = n_steps - 1
        realised_cov = pt.diag(s["drift_tau"] ** 2)[None] + (
            volatility[:, :, None] * corr[None] * volatility[:, None, :] / n_incr
        )
        realised = pm.MvNormal(
            "drift_realised", mu=s["drift_mu"], cov=realised_cov, dims=(STATE, POLE)
        )
        coef = pm.Normal("innovation_z", 0.0, 1.0, dims=(STATE, INNOVATION_MODE, POLE))
        basis = pt.as_tensor(complement_basis(n_incr))
        deviation = pt.tensordot(basis, coef, axes=[[1], [1]]).transpose(1, 0, 2)
        steps = realised[:, None, :] + volatility[:, None, :] * pt.dot(deviation, s["chol"].T)
        theta0 = s["initial"]
        path = pt.concatenate(
            [theta0[:, None, :], theta0[:, None, :] + pt.cumsum(steps, axis=1)], axis=1
        )
        theta_flat = path.transpose(0, 2, 1).reshape((n_states * n_poles * n_steps,))
        ind = arrays["gaussian_obs_indicator"]
        intercept_flat = s["intercept"].reshape((-1,))
        loading_signed = s["loading"] * pt.as_tensor(data.sign)
        mu = (
            intercept_flat[ind * n_states + arrays["gaussian_obs_state"]]
            + loading_signed[ind] * theta_flat[arrays["gaussian_obs_theta_index"][:, 0]]
        )
        local, y = arrays["gaussian_obs_local"], arrays["gaussian_obs_y"]
        has_prev = arrays["gaussian_obs_has_previous"]
        phi_d = s["persistence"][local] ** arrays["gaussian_obs_gap"]
        resid = y - mu
        resid_prev = pt.concatenate([pt.zeros((1,)), resid[:-1]])
        pm.Normal(
            "y",
            mu=mu + has_prev * phi_d * resid_prev,
            sigma=s["noise"][local] * pt.sqrt(1.0 - has_prev * phi_d**2),
            observed=y,
        )
    return model


def dense_observations(data: ModelData) -> np.ndarray:
    """Observations as ``(state, step, gaussian indicator)``, NaN where missing."""
    obs = data.obs["gaussian"]
    local = np.full(len(data.indicators), -1)
    members = data.family_indicators("gaussian")
    local[members] = np.arange(len(members))
    y = np.full((len(data.states), data.n_steps, len(members)), np.nan)
    y[obs.state, obs.cover[:, 0], local[obs.indicator]] = obs.y
    return y


def state_space(
    initial,
    drift_mu,
    drift_tau,
    volatility,
    corr,
    loading_signed,
    intercept,
    noise,
    persistence,
    pole_of,
):
    """``a0, P0, c, d, T, Z, R, H, Q`` of one country (pymc-extras' argument order and names).

    State ``[theta (K), drift (K), r (G)]``; ``a0, P0`` are the predictions for the first step.
    """
    n_poles = initial.shape[0]
    n_ind = noise.shape[0]
    eye_k = pt.eye(n_poles)
    n_state = 2 * n_poles + n_ind
    transition = pt.zeros((n_state, n_state))
    transition = pt.set_subtensor(transition[:n_poles, :n_poles], eye_k)
    transition = pt.set_subtensor(transition[:n_poles, n_poles : 2 * n_poles], eye_k)
    transition = pt.set_subtensor(transition[n_poles : 2 * n_poles, n_poles : 2 * n_poles], eye_k)
    transition = pt.set_subtensor(transition[2 * n_poles :, 2 * n_poles :], pt.diag(persistence))
    design = pt.zeros((n_ind, n_state))
    design = pt.set_subtensor(design[pt.arange(n_ind), pole_of], loading_signed)
    design = pt.set_subtensor(design[:, 2 * n_poles :], pt.eye(n_ind))
    state_cov = pt.zeros((n_state, n_state))
    innov = volatility[:, None] * corr * volatility[None, :]
    state_cov = pt.set_subtensor(state_cov[:n_poles, :n_poles], innov)
    state_cov = pt.set_subtensor(
        state_cov[2 * n_poles :, 2 * n_poles :], pt.diag(noise**2 * (1.0 - persistence**2))
    )
    a0 = pt.concatenate([initial, drift_mu, pt.zeros(n_ind)])
    p0 = pt.diag(pt.concatenate([pt.zeros(n_poles), drift_tau**2, noise**2]))
    return (
        a0,
        p0,
        pt.zeros(n_state),
        intercept,
        transition,
        design,
        pt.eye(n_state),
        pt.zeros((n_ind, n_ind)),
        state_cov,
    )


def kalman_loglike(y, *matrices, jitter: float = 0.0) -> pt.TensorVariable:
    """Log likelihood of one country's ``(step, indicator)`` observations (NaN: missing)."""
    from pymc_extras.statespace.filters import StandardFilter

    # No jitter: the default (1e-8 on every filtered covariance, every step) moved this log
    # likelihood by up to 0.03 from the exact one (the density check); the one-step
    # covariance is positive definite without it, as the AR(1) deviations have noise.
    outputs = StandardFilter(cov_jitter=jitter).build_graph(pt.as_tensor(y), *matrices)
    return outputs[-1].sum()


def kalman_model(data: ModelData, spec: AlignmentSpec, jitter: float = 0.0) -> pm.Model:
    """The variant with path, drifts and AR(1) deviations marginalised by the filter."""
    gauss = data.family_indicators("gaussian")
    y = dense_observations(data)
    pole_of = data.pole_index[gauss]
    with pm.Model(coords=model_coords(data)) as model:
        s = shared_parameters(data, spec)
        loading_signed = (s["loading"] * pt.as_tensor(data.sign))[gauss]
        total = 0.0
        # one filter per country: the countries are independent given the parameters
        for i in range(len(data.states)):
            total = total + kalman_loglike(
                y[i],
                *state_space(
                    s["initial"][i],
                    s["drift_mu"],
                    s["drift_tau"],
                    s["volatility"][i],
                    s["corr"],
                    loading_signed,
                    s["intercept"][gauss, i],
                    s["noise"],
                    s["persistence"],
                    pole_of,
                ),
                jitter=jitter,
            )
        pm.Potential("kalman_loglike", total)
    return model


def dense_loglike(y: np.ndarray, v: dict[str, np.ndarray], pole_of: np.ndarray) -> float:
    """The same likelihood as one multivariate normal of all observed cells (for the check)."""
    steps, inds = np.nonzero(~np.isnan(y))
    t = steps.astype(float)
    k = pole_of[inds]
    lam = v["loading_signed"][inds]
    mean = v["intercept"][inds] + lam * (v["initial"][k] + t * v["drift_mu"][k])
    innov = v["volatility"][:, None] * v["corr"] * v["volatility"][None, :]
    theta_cov = (
        np.outer(t, t) * np.diag(v["drift_tau"] ** 2)[k][:, k]
        + np.minimum.outer(t, t) * innov[k][:, k]
    )
    lag = np.abs(np.subtract.outer(t, t))
    same = inds[:, None] == inds[None, :]
    ar_cov = same * v["noise"][inds][:, None] ** 2 * v["persistence"][inds][:, None] ** lag
    cov = np.outer(lam, lam) * theta_cov + ar_cov
    return float(multivariate_normal(mean, cov).logpdf(y[steps, inds]))


def density_check(data: ModelData, seed: int) -> float:
    """Filter against dense log likelihood at random parameters, one country; max |difference|."""
    rng = np.random.default_rng(seed)
    gauss = data.family_indicators("gaussian")
    y = dense_observations(data)
    pole_of = data.pole_index[gauss]
    n_poles, n_ind = len(data.poles), len(gauss)
    diffs = []
    for trial in range(5):
        a = rng.normal(size=(n_poles, n_poles))
        corr = np.corrcoef(a @ a.T + np.eye(n_poles))
        v = {
            "initial": rng.normal(size=n_poles),
            "drift_mu": rng.normal(0, 0.1, n_poles),
            "drift_tau": rng.uniform(0.01, 0.1, n_poles),
            "volatility": rng.uniform(0.05, 0.3, n_poles),
            "corr": corr,
            "loading_signed": data.sign[gauss] * rng.uniform(0.5, 1.5, n_ind),
            "intercept": rng.normal(0, 0.5, n_ind),
            "noise": rng.uniform(0.2, 0.8, n_ind),
            "persistence": rng.uniform(0.1, 0.9, n_ind),
        }
        state = trial % len(data.states)
        matrices = state_space(
            *(pt.as_tensor(v[n]) for n in ("initial", "drift_mu", "drift_tau", "volatility")),
            pt.as_tensor(v["corr"]),
            pt.as_tensor(v["loading_signed"]),
            pt.as_tensor(v["intercept"]),
            pt.as_tensor(v["noise"]),
            pt.as_tensor(v["persistence"]),
            pole_of,
        )
        filtered = float(kalman_loglike(y[state], *matrices).eval())
        diffs.append(abs(filtered - dense_loglike(y[state], v, pole_of)))
    worst = max(diffs)
    print(
        f"density check, 5 random parameter sets: |log L_filter - log L_dense| <= {worst:.2e} "
        f"-> {'SAME' if worst < 1e-6 else 'DIFFERENT'} likelihood",
        flush=True,
    )
    return worst


def gradient_microseconds(model: pm.Model, repeats: int = 2000) -> float:
    """Mean time of one log density and gradient evaluation (numba, IEEE), at the initial point."""
    with ieee_numba():
        fn = model.compile_fn(
            [model.logp(), *pt.grad(model.logp(), model.value_vars)],
            inputs=model.value_vars,
            mode="NUMBA",
            on_unused_input="ignore",
        )
    point = model.initial_point()
    fn(point)
    start = time.perf_counter()
    for _ in range(repeats):
        fn(point)
    return (time.perf_counter() - start) / repeats * 1e6


def sample(model: pm.Model, name: str, args: argparse.Namespace) -> tuple[Row, xr.Dataset]:
    import nutpie
    from pymc.model.transform.optimization import freeze_dims_and_data

    start = time.perf_counter()
    with ieee_numba():
        compiled = nutpie.compile_pymc_model(freeze_dims_and_data(model), freeze_model=False)
    compile_seconds = time.perf_counter() - start
    gradient_us = gradient_microseconds(model)
    print(
        f"  {name}: compile {compile_seconds:.1f} s, {gradient_us:.0f} µs per log density and "
        "gradient",
        flush=True,
    )
    start = time.perf_counter()
    sampler = nutpie.sample(
        compiled,
        draws=args.draws,
        tune=args.tune,
        chains=args.chains,
        seed=args.seed,
        target_accept=0.95,
        adaptation="draw_diag",
        progress_bar=args.progress,
        blocking=False,
    )
    try:
        tree = sampler.wait(timeout=args.budget)
    except TimeoutError:
        tree = sampler.inspect()
    sampling_seconds = time.perf_counter() - start
    if not sampler.is_finished:
        # report how far each chain got (the trace so far), and give up on this program
        trace = tree
        sampler.cancel()
        for group in ("warmup_sample_stats", "sample_stats"):
            if group not in trace.children:
                continue
            steps = trace[group]["n_steps"].values
            size = trace[group]["step_size"].values
            for c in range(steps.shape[0]):
                done = np.isfinite(size[c]) & (steps[c] > 0)
                print(
                    f"  {name}, chain {c}, {group}: {int(done.sum())} iterations done, mean "
                    f"{steps[c][done].mean() if done.any() else float('nan'):.0f} gradients "
                    f"each, last step size {size[c][done][-1] if done.any() else float('nan'):.2e}",
                    flush=True,
                )
        raise SystemExit(f"{name}: not finished within {args.budget:.0f} s")
    post = tree["posterior"].to_dataset()
    stats = tree["sample_stats"].to_dataset()
    shared = post[list(SHARED)]
    with np.errstate(divide="ignore", invalid="ignore"):
        table = az.summary(shared)
    table = table[table["sd"] > 0]
    row = Row(
        name,
        compile_seconds,
        gradient_us,
        sampling_seconds,
        int(stats["n_steps"].sum()),
        float(table["ess_bulk"].min()),
        int(stats["diverging"].sum()),
        float(table["r_hat"].max()),
    )
    print(f"  {name}: sampling {sampling_seconds:.1f} s", flush=True)
    return row, shared


def agreement(a: xr.Dataset, b: xr.Dataset) -> None:
    """Max |mean difference| / combined MCSE over the shared scalars, against Bonferroni."""
    mcse_a, mcse_b = az.mcse(a, method="mean"), az.mcse(b, method="mean")
    zs = []
    for name in a.data_vars:
        keep = (a[name].std(("chain", "draw")) > 1e-9).values.ravel()
        diff = (a[name].mean(("chain", "draw")) - b[name].mean(("chain", "draw"))).values.ravel()
        combined = np.sqrt(mcse_a[name] ** 2 + mcse_b[name] ** 2).values.ravel()
        zs.append(np.abs(diff[keep]) / combined[keep])
    z = np.concatenate(zs)
    bound = float(norm.ppf(1 - 0.05 / (2 * z.size)))
    print(
        f"\nagreement of posterior means over {z.size} shared scalars: max z {z.max():.2f}, "
        f"rms z {np.sqrt(np.mean(z**2)):.2f}, Bonferroni 5% bound {bound:.2f} -> "
        f"{'AGREE' if z.max() < bound else 'DISAGREE'}"
    )


def table(rows: list[Row]) -> None:
    header = (
        f"{'program':<8} {'compile s':>10} {'µs/grad':>8} {'sampling s':>11} {'gradients':>10} "
        f"{'min ESS':>8} {'ESS/s':>7} {'ESS/1k grad':>12} {'diverg.':>8} {'max R-hat':>10}"
    )
    print("\n" + header)
    print("-" * len(header))
    for r in rows:
        print(
            f"{r.program:<8} {r.compile_seconds:>10.1f} {r.gradient_us:>8.0f} "
            f"{r.sampling_seconds:>11.1f} {r.gradients:>10d} {r.min_ess_bulk:>8.0f} "
            f"{r.min_ess_bulk / r.sampling_seconds:>7.2f} "
            f"{1000 * r.min_ess_bulk / r.gradients:>12.3f} {r.divergences:>8d} {r.max_rhat:>10.4f}"
        )
    if len(rows) < 2:
        return
    k, p = rows[1], rows[0]
    per_second = (k.min_ess_bulk / k.sampling_seconds) / (p.min_ess_bulk / p.sampling_seconds)
    per_gradient = (k.min_ess_bulk / k.gradients) / (p.min_ess_bulk / p.gradients)
    print(
        f"kalman / path: ESS per second {per_second:.2f}x, "
        f"ESS per gradient {per_gradient:.2f}x, "
        f"time per gradient {k.gradient_us / p.gradient_us:.1f}x, "
        f"compile time {k.compile_seconds / p.compile_seconds:.2f}x"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--draws", type=int, default=1000)
    parser.add_argument("--tune", type=int, default=500)
    parser.add_argument("--chains", type=int, default=4)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--check-only", action="store_true", help="stop after the density check")
    parser.add_argument("--progress", action="store_true", help="show nutpie's progress")
    parser.add_argument(
        "--budget", type=float, default=1800.0, help="give up sampling a program after this"
    )
    parser.add_argument(
        "--jitter", type=float, default=0.0, help="the filter's covariance jitter (default 0)"
    )
    parser.add_argument(
        "--only", choices=("path", "kalman"), help="sample one program (no comparison)"
    )
    args = parser.parse_args()

    codebook = load_codebook()
    spec, data = gaussian_variant(load_model_spec(DEFAULT_MODEL, codebook), codebook)
    print(
        f"all-Gaussian variant on the bundled panel: {len(data.states)} states, "
        f"{len(data.indicators)} indicators, {data.n_steps} steps, "
        f"{len(data.obs['gaussian'])} observations; {args.chains} chains x {args.draws} draws "
        f"({args.tune} warm-up), seed {args.seed}; {os.cpu_count()} CPUs, load average "
        f"{os.getloadavg()[0]:.2f}",
        flush=True,
    )
    density_check(data, args.seed)
    if args.check_only:
        return
    if args.only:
        model = (
            path_model(data, spec) if args.only == "path" else kalman_model(data, spec, args.jitter)
        )
        table([sample(model, args.only, args)[0]])
        return
    path_row, path_post = sample(path_model(data, spec), "path", args)
    kalman_row, kalman_post = sample(kalman_model(data, spec, args.jitter), "kalman", args)
    agreement(path_post, kalman_post)
    table([path_row, kalman_row])
    print(f"load average at the end: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
