"""Peer benchmark: the default model on the bundled panel with Stan (pystan) and PyMC + nutpie.

The Stan program (``benchmarks/stan/alignment.stan``) is the default model of
``forecast/model/graph.py`` with the same priors and likelihoods. Both samplers see identical
data: the Stan data are the arrays of :func:`forecast.model.graph.observation_arrays` built
from the bundled panel by :func:`forecast.model.design.build_model_data` (indices shifted to
1-based). Both run 4 chains x 1000 draws after the spec's warm-up steps (500) at target
acceptance / adapt delta 0.95 (the spec's ``[sampler]`` table), each on all cores; nutpie
with the spec's mass-matrix adaptation (draw variances, as Stan's).

Before speed, the script checks that the two posteriors agree: for every shared scalar
(drifts, loadings, intercept scales, volatilities, latent alignment at the last period, and
the other sampled quantities) it computes ``|mean_nutpie - mean_stan| / sqrt(mcse_nutpie^2 +
mcse_stan^2)``, which is about standard normal when both target the same posterior, and reports
the maximum against a Bonferroni bound.

Table columns: compile time (pystan's ``stan.build`` with httpstan's model cache cleared first,
unless ``--keep-stan-cache``; nutpie's ``compile_pymc_model``), sampling time (warm-up
included; for pystan the draws' transfer from httpstan is included too), minimum bulk ESS over
the quantities the convergence gates check (:data:`forecast.model.diagnostics.GATED`), that per
second of sampling, gradient evaluations after warm-up (Stan: sum of ``n_leapfrog__``; nutpie:
sum of ``n_steps``), minimum bulk ESS per gradient evaluation, divergences, max R-hat, draws
that hit the maximum tree depth (10 for both) and the mean adapted step size. The last row is
the ratio nutpie / Stan. Before sampling, a density check compares the two log densities at
prior draws (their difference must be constant). Stan runs first: httpstan forks its chain
processes, which is unsafe once nutpie's threads exist in the process.

Usage::

    python benchmarks/bench_peers.py [--draws 1000] [--tune 500] [--chains 4] [--seed 1]

The machine's other load changes the numbers. No asserts.
"""

from __future__ import annotations

import argparse
import os
import time
from dataclasses import dataclass
from pathlib import Path

import arviz as az
import numpy as np
import xarray as xr
from scipy.stats import norm

from forecast.data.codebook import load_codebook
from forecast.data.panel import DEFAULT_PANEL, read_panel
from forecast.dims import INDICATOR, PERIOD, POLE, STATE
from forecast.model.design import ModelData, build_model_data
from forecast.model.diagnostics import diagnose
from forecast.model.fit import fit_alignment_model
from forecast.model.graph import (
    BINOMIAL_INDICATOR,
    FREE_LOADING,
    GAUSSIAN_INDICATOR,
    POLE_ROW,
    model_coords,
    observation_arrays,
)
from forecast.model.inference import FitSettings
from forecast.model.random_walk import complement_basis
from forecast.model.spec import DEFAULT_MODEL, AlignmentSpec, load_model_spec
from forecast.model.trees import group

STAN_FILE = Path(__file__).resolve().parent / "stan" / "alignment.stan"

#: Stan output name -> dims of the project's posterior (alignment is reshaped separately)
STAN_DIMS = {
    "drift_mu": (POLE,),
    "drift_tau": (POLE,),
    "volatility_log_mu": (POLE,),
    "volatility_log_tau": (POLE,),
    "drift": (STATE, POLE),
    "drift_realised": (STATE, POLE),
    "volatility": (STATE, POLE),
    "initial": (POLE, STATE),
    "innovation_corr": (POLE, POLE_ROW),
    "intercept_mu": (INDICATOR,),
    "intercept_tau": (FREE_LOADING,),
    "intercept": (INDICATOR, STATE),
    "loading": (INDICATOR,),
    "noise": (GAUSSIAN_INDICATOR,),
    "persistence": (GAUSSIAN_INDICATOR,),
    "concentration": (BINOMIAL_INDICATOR,),
}
#: the shared parameters the brief names first; the rest of STAN_DIMS is checked too
PRIMARY = ("drift", "loading", "intercept_tau", "volatility", "alignment_last")


@dataclass(frozen=True)
class Row:
    sampler: str
    compile_seconds: float
    sampling_seconds: float
    min_ess_bulk: float
    gradients: int
    divergences: int
    max_rhat: float
    maxdepth_hits: int
    step_size: float

    @property
    def ess_per_second(self) -> float:
        return self.min_ess_bulk / self.sampling_seconds

    @property
    def ess_per_gradient(self) -> float:
        return self.min_ess_bulk / self.gradients


def stan_data(data: ModelData, spec: AlignmentSpec, *, lkj_as_pymc: bool) -> dict[str, object]:
    """The Stan program's data, from the very arrays the PyMC graph reads."""
    if not (spec.correlated_innovations and spec.overdispersion):
        raise SystemExit("the Stan model mirrors the default spec (correlated, overdispersed)")
    arrays = observation_arrays(data)
    free = np.flatnonzero(~data.is_reference)
    out: dict[str, object] = {
        "S": len(data.states),
        "K": len(data.poles),
        "T": data.n_steps,
        "I": len(data.indicators),
        "F": int(free.size),
        "free": (free + 1).tolist(),
        "pole_of_indicator": (data.pole_index + 1).tolist(),
        "sign": data.sign.tolist(),
        "shear": [float(data.kind[i] == "binomial") for i in free],
        "basis": complement_basis(data.n_steps - 1).tolist(),
        "centring_weight": arrays["centring_weight"].tolist(),
        "G": int(data.family_indicators("gaussian").size),
        "B": int(data.family_indicators("binomial").size),
        "lkj_as_pymc": int(lkj_as_pymc),
    }
    p = spec.priors
    for name in (
        "initial_sd",
        "drift_mean_sd",
        "drift_pool_sd",
        "volatility_log_mean",
        "volatility_log_sd",
        "volatility_pool_sd",
        "lkj_eta",
        "intercept_sd",
        "intercept_pool_sd",
        "loading_log_sd",
        "noise_sd",
        "noise_log_sd",
        "persistence_alpha",
        "persistence_beta",
        "concentration_mean",
    ):
        out[name] = float(getattr(p, name))
    for family, key in (("gaussian", "g"), ("binomial", "b"), ("binary", "c")):
        n = len(data.obs[family])
        span = data.obs[family].cover.shape[1]
        out[f"N_{key}"] = n
        out[f"span_{key}"] = span
        if n == 0:
            for name in ("theta", "weight"):
                out[f"{key}_{name}"] = np.zeros((0, span)).tolist()
            for name in ("ind", "state", "local", "y", "trials"):
                out[f"{key}_{name}"] = []
            continue
        a = {
            k.removeprefix(f"{family}_obs_"): v
            for k, v in arrays.items()
            if k.startswith(f"{family}_obs_")
        }
        out[f"{key}_theta"] = (a["theta_index"] + 1).tolist()
        out[f"{key}_weight"] = a["weight"].tolist()
        out[f"{key}_ind"] = (a["indicator"] + 1).tolist()
        out[f"{key}_state"] = (a["state"] + 1).tolist()
        out[f"{key}_local"] = (a["local"] + 1).tolist()
        out[f"{key}_y"] = a["y"].tolist()
        if family == "gaussian":
            out["g_has_previous"] = a["has_previous"].tolist()
            out["g_gap"] = a["gap"].tolist()
        if family == "binomial":
            out["b_trials"] = a["trials"].tolist()
    # arrays the program does not declare (binary locals, non-binomial trials) are dropped
    for name in ("c_local", "c_trials", "g_trials"):
        out.pop(name, None)
    return out


#: PyMC free variable -> Stan parameter (same shapes; PyMC's LKJCorr value is the factor L)
FREE_NAMES = (
    "drift_mu",
    "drift_tau",
    "drift_realised",
    "volatility_log_mu",
    "volatility_log_tau",
    "volatility_z",
    "initial",
    "innovation_z",
    "innovation_chol",
    "intercept_mu",
    "intercept_tau",
    "intercept_state_z",
    "log_loading_shifted",
    "noise",
    "persistence",
    "concentration",
)


def density_check(stan_model, data: ModelData, spec: AlignmentSpec, seed: int) -> float:
    """Spread of log p_PyMC - log p_Stan over prior draws; ~0 when the densities are the same.

    Both are evaluated on the constrained values without transform Jacobians (PyMC: the model
    with value transforms removed; Stan: ``adjust_transform=False``), so the two programs'
    different unconstraining transforms do not enter; Stan drops constants, so the difference
    is a constant, not zero, when the models agree.
    """
    import pymc as pm
    from pymc.model.transform.conditioning import remove_value_transforms

    from forecast.model.graph import build_alignment_model

    model = build_alignment_model(data, spec)
    umodel = remove_value_transforms(model)
    logp = umodel.compile_logp(mode="NUMBA")
    value_names = {rv.name: umodel.rvs_to_values[umodel[rv.name]].name for rv in model.free_RVs}
    if sorted(value_names) != sorted(FREE_NAMES):
        raise SystemExit(f"free variables differ: {sorted(value_names)} vs {sorted(FREE_NAMES)}")
    draws = pm.draw([model[n] for n in FREE_NAMES], draws=20, random_seed=seed)
    diffs = []
    for d in range(20):
        point = {
            name: np.asarray(values[d]) for name, values in zip(FREE_NAMES, draws, strict=True)
        }
        pymc_logp = float(logp({value_names[n]: v for n, v in point.items()}))
        unconstrained = stan_model.unconstrain_pars({n: v.tolist() for n, v in point.items()})
        stan_logp = stan_model.log_prob(unconstrained, adjust_transform=False)
        diffs.append(pymc_logp - stan_logp)
    spread = float(np.ptp(diffs))
    print(
        f"density check over 20 prior draws: log p_PyMC - log p_Stan ranges over {spread:.2e} "
        f"(mean {np.mean(diffs):.3f}) -> {'SAME' if spread < 1e-4 else 'DIFFERENT'} density",
        flush=True,
    )
    return spread


def _chain_draw(values: np.ndarray, chains: int, draws: int) -> np.ndarray:
    # pystan's last axis runs draw-major with the chain fastest (index = draw * chains + chain)
    shaped = values.reshape(*values.shape[:-1], draws, chains)
    return np.moveaxis(shaped, (-1, -2), (0, 1))


def fit_stan(
    data: ModelData, spec: AlignmentSpec, args: argparse.Namespace
) -> tuple[xr.DataTree, float, float]:
    import httpstan.cache
    import httpstan.models
    import stan

    code = STAN_FILE.read_text()
    if not args.keep_stan_cache:
        httpstan.cache.delete_model_directory(httpstan.models.calculate_model_name(code))
    payload = stan_data(data, spec, lkj_as_pymc=args.stan_lkj == "pymc")
    start = time.perf_counter()
    posterior = stan.build(code, data=payload, random_seed=args.seed)
    compile_seconds = time.perf_counter() - start
    density_check(posterior, data, spec, args.seed)
    if args.density_check_only:
        raise SystemExit(0)
    start = time.perf_counter()
    fit = posterior.sample(
        num_chains=args.chains,
        num_samples=args.draws,
        num_warmup=args.tune,
        delta=spec.sampler.target_accept,
    )
    sampling_seconds = time.perf_counter() - start

    coords = model_coords(data)
    c, d = args.chains, args.draws
    variables = {}
    for name, dims in STAN_DIMS.items():
        variables[name] = (("chain", "draw", *dims), _chain_draw(fit[name], c, d))
    shape = (len(data.states), len(data.poles), data.n_steps)
    flat = _chain_draw(fit["alignment"], c, d)
    variables["alignment"] = (("chain", "draw", STATE, POLE, PERIOD), flat.reshape(c, d, *shape))
    used = {dim for _, (dims, _) in variables.items() for dim in dims}
    post = xr.Dataset(variables, coords={k: list(v) for k, v in coords.items() if k in used})
    stats = xr.Dataset(
        {
            "diverging": (("chain", "draw"), _chain_draw(fit["divergent__"], c, d)[..., 0] > 0),
            "n_steps": (("chain", "draw"), _chain_draw(fit["n_leapfrog__"], c, d)[..., 0]),
            # Stan's default max_depth, nutpie's maxdepth: both 10
            "maxdepth_reached": (
                ("chain", "draw"),
                _chain_draw(fit["treedepth__"], c, d)[..., 0] >= 10,
            ),
            "step_size": (("chain", "draw"), _chain_draw(fit["stepsize__"], c, d)[..., 0]),
        }
    )
    tree = xr.DataTree.from_dict({"posterior": post, "sample_stats": stats})
    return tree, compile_seconds, sampling_seconds


def row(name: str, tree: xr.DataTree, compile_s: float, sampling_s: float) -> Row:
    diagnostics = diagnose(tree, method="nuts", approximate=False)
    stats = group(tree, "sample_stats")
    return Row(
        name,
        compile_s,
        sampling_s,
        diagnostics.min_ess_bulk,
        int(stats["n_steps"].sum()),
        diagnostics.divergences,
        diagnostics.max_rhat,
        int(stats["maxdepth_reached"].sum()),
        float(stats["step_size"].mean()),
    )


def compared(post: xr.Dataset) -> xr.Dataset:
    """The shared quantities, with the latent alignment at the last period as its own entry."""
    names = [n for n in STAN_DIMS if n in post]
    out = post[names].copy()
    out["alignment_last"] = post["alignment"].isel({PERIOD: -1}, drop=True)
    return out


def agreement(nutpie_post: xr.Dataset, stan_post: xr.Dataset) -> None:
    a, b = compared(nutpie_post), compared(stan_post)
    mean_a, mean_b = a.mean(("chain", "draw")), b.mean(("chain", "draw"))
    sd_a, sd_b = a.std(("chain", "draw")), b.std(("chain", "draw"))
    mcse_a, mcse_b = az.mcse(a, method="mean"), az.mcse(b, method="mean")
    rows = []
    for name in a.data_vars:
        diff = (mean_a[name] - mean_b[name]).values.ravel()
        combined = np.sqrt(mcse_a[name] ** 2 + mcse_b[name] ** 2).values.ravel()
        # constants (reference loadings, the correlation's unit diagonal) have no error
        keep = (sd_a[name].values.ravel() > 1e-9) & (sd_b[name].values.ravel() > 1e-9)
        z = np.abs(diff[keep]) / combined[keep]
        sd_ratio = sd_a[name].values.ravel()[keep] / sd_b[name].values.ravel()[keep]
        rows.append((name, z, np.abs(diff[keep]), sd_ratio))
    every = np.concatenate([z for _, z, _, _ in rows])
    bound = float(norm.ppf(1 - 0.05 / (2 * every.size)))
    print(
        "\nagreement of posterior means, |mean_nutpie - mean_stan| / sqrt(mcse_nutpie^2 + "
        "mcse_stan^2)"
    )
    print(
        f"{'quantity':<20} {'n':>4} {'max z':>7} {'rms z':>7} {'max |diff|':>11} {'sd ratio':>15}"
    )
    for name, z, diff, ratio in sorted(rows, key=lambda r: (r[0] not in PRIMARY, r[0])):
        print(
            f"{name:<20} {z.size:>4} {z.max():>7.2f} {np.sqrt(np.mean(z**2)):>7.2f} "
            f"{diff.max():>11.4f} {ratio.min():>7.3f}-{ratio.max():<7.3f}"
        )
    primary = np.concatenate([z for name, z, _, _ in rows if name in PRIMARY])
    print(
        f"primary ({', '.join(PRIMARY)}): {primary.size} scalars, max z {primary.max():.2f}; "
        f"all: {every.size} scalars, max z {every.max():.2f}, rms z "
        f"{np.sqrt(np.mean(every**2)):.2f}, {int((every > 3).sum())} above 3; "
        f"Bonferroni 5% bound for {every.size} scalars: {bound:.2f} -> "
        f"{'AGREE' if every.max() < bound else 'DISAGREE'}"
    )


def table(rows: list[Row]) -> None:
    header = (
        f"{'sampler':<8} {'compile s':>10} {'sampling s':>11} {'min ESS':>8} {'min ESS/s':>10} "
        f"{'gradients':>10} {'ESS/grad':>9} {'divergences':>12} {'max R-hat':>10} "
        f"{'depth 10':>9} {'step size':>10}"
    )
    print("\n" + header)
    print("-" * len(header))
    for r in rows:
        print(
            f"{r.sampler:<8} {r.compile_seconds:>10.1f} {r.sampling_seconds:>11.1f} "
            f"{r.min_ess_bulk:>8.0f} {r.ess_per_second:>10.2f} {r.gradients:>10d} "
            f"{r.ess_per_gradient:>9.5f} {r.divergences:>12d} {r.max_rhat:>10.4f} "
            f"{r.maxdepth_hits:>9d} {r.step_size:>10.4f}"
        )
    nut, st = rows
    print(
        f"{'ratio':<8} {nut.compile_seconds / st.compile_seconds:>10.2f} "
        f"{nut.sampling_seconds / st.sampling_seconds:>11.2f} "
        f"{nut.min_ess_bulk / st.min_ess_bulk:>8.2f} "
        f"{nut.ess_per_second / st.ess_per_second:>10.2f} "
        f"{nut.gradients / st.gradients:>10.2f} {nut.ess_per_gradient / st.ess_per_gradient:>9.2f}"
        "   (nutpie / Stan)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--draws", type=int, default=1000)
    parser.add_argument("--tune", type=int, help="warm-up steps (default: the spec's)")
    parser.add_argument("--chains", type=int, default=4)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--keep-stan-cache",
        action="store_true",
        help="reuse httpstan's compiled model if cached (the compile time is then not measured)",
    )
    parser.add_argument(
        "--stan-lkj",
        choices=("pymc", "lkj"),
        default="lkj",
        help=(
            "correlation prior in Stan: true LKJ (default; the project's model adds the "
            "Jacobian PyMC's LKJCorr lacks) or LKJCorr's density alone (a negative control "
            "for the density check)"
        ),
    )
    parser.add_argument(
        "--density-check-only",
        action="store_true",
        help="stop after comparing the two log densities (no sampling)",
    )
    args = parser.parse_args()

    codebook = load_codebook()
    spec = load_model_spec(DEFAULT_MODEL, codebook)
    if args.tune is None:
        args.tune = spec.sampler.tune
    data = build_model_data(read_panel(DEFAULT_PANEL, codebook), spec, codebook)
    print(
        f"default model on the bundled panel: {len(data.states)} states, "
        f"{len(data.indicators)} indicators, {data.n_steps} steps, "
        f"{sum(len(o) for o in data.obs.values())} observations; "
        f"{args.chains} chains x {args.draws} draws ({args.tune} warm-up), "
        f"target accept {spec.sampler.target_accept}, seed {args.seed}, "
        f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}",
        flush=True,
    )

    start = time.perf_counter()
    stan_tree, stan_compile, stan_sampling = fit_stan(data, spec, args)
    print(f"  stan: {time.perf_counter() - start:.1f} s in all", flush=True)

    start = time.perf_counter()
    settings = FitSettings(
        method="nuts",
        draws=args.draws,
        tune=args.tune,
        chains=args.chains,
        seed=args.seed,
        target_accept=spec.sampler.target_accept,
        adaptation=spec.sampler.adaptation,
        nuts_sampler="nutpie",
    )
    # compiled for this data set alone, as `forecast fit` does
    result = fit_alignment_model(data, spec, settings, log_likelihood=False)
    print(f"  nutpie: {time.perf_counter() - start:.1f} s in all", flush=True)

    agreement(group(result.posterior, "posterior"), group(stan_tree, "posterior"))
    table(
        [
            row("nutpie", result.posterior, result.compile_seconds, result.sampling_seconds),
            row("stan", stan_tree, stan_compile, stan_sampling),
        ]
    )
    print(f"load average at the end: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
