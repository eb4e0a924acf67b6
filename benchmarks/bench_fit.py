"""Benchmark: the default fit of the bundled panel with nutpie, PyMC's Python NUTS and Pathfinder.

Three measurements of the default model (``models/alignment.toml``) on the bundled panel, all
with the spec's sampler settings (4 chains x 1000 draws, 500 tuning steps, target acceptance
0.95, nutpie's ``draw_diag`` mass-matrix adaptation) unless overridden:

1. **The default pipeline, nutpie** — ``forecast fit --seed S`` then ``forecast predict`` in
   fresh child processes (the user's path: import, compile, sample, pointwise
   log-likelihood, store; then project to 2030 and write the tables). Reported: wall and CPU
   time of each command, the peak resident memory of each process (``ru_maxrss`` from
   ``os.wait4``), and from the stored run the compile time, sampling time (tuning included),
   minimum bulk ESS over the gated quantities (the ones the convergence gates check) and the
   number of gradient evaluations (leapfrog steps, ``n_steps``) after tuning.
2. **PyMC's Python NUTS** on the same PyMC model, data, seed and settings, in this process.
   PyMC compiles inside ``pm.sample``: its sampling time is the sampler's own
   ``sampling_time`` (tuning included) and its compile time is the rest of the call.
3. **The cost of one gradient**: the log density and gradient of the same model compiled by
   PyTensor as each sampler runs it, numba with data frozen in (nutpie's, ``compile_once``)
   and C with data as shared variables (PyMC's ``pm.sample``), timed alone at the initial
   point; against each sampler's wall time per gradient evaluation, the difference is the
   sampler's own cost per leapfrog step.
4. **Pathfinder** (pymc-extras, one path per chain, as many draws as NUTS), in this process:
   its wall time (compilation included, PyMC compiles inside) and, against the nutpie
   posterior, the error of its posterior means and standard deviations for the main
   quantities, in units of the NUTS posterior SD.

ESS per gradient evaluation divides the minimum bulk ESS by the gradient evaluations of the
kept draws (tuning excluded) for both samplers.

Usage::

    python benchmarks/bench_fit.py [--draws 1000] [--tune N] [--chains 4] [--seed 1]
        [--pymc-draws N] [--pymc-tune N] [--skip-pymc] [--skip-pathfinder]

The machine's other load changes the numbers (the load average is printed before and after);
run it on a quiet machine. No asserts.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import xarray as xr

from forecast.data.codebook import load_codebook
from forecast.data.panel import DEFAULT_PANEL, read_panel
from forecast.dims import CHAIN, DRAW, INDICATOR, PERIOD
from forecast.model.design import build_model_data
from forecast.model.diagnostics import diagnose
from forecast.model.fit import fit_alignment_model, ieee_numba
from forecast.model.graph import build_alignment_model
from forecast.model.inference import FitSettings
from forecast.model.spec import DEFAULT_MODEL, load_model_spec
from forecast.model.trees import group
from forecast.model.workflow import settings_from_spec


@dataclass(frozen=True)
class Child:
    """A finished child process: wall and CPU seconds, peak resident memory in MiB."""

    wall: float
    cpu: float
    max_rss_mib: float
    out: str


@dataclass(frozen=True)
class Row:
    sampler: str
    draws: int
    compile_seconds: float
    sampling_seconds: float
    min_ess_bulk: float
    gradients: int
    divergences: int
    max_rhat: float

    @property
    def ess_per_second(self) -> float:
        return self.min_ess_bulk / self.sampling_seconds

    @property
    def ess_per_1000_gradients(self) -> float:
        return 1000 * self.min_ess_bulk / self.gradients


def run_child(args: list[str]) -> Child:
    """Run ``python -m forecast ARGS``; its own rusage comes from ``os.wait4``."""
    start = time.perf_counter()
    with tempfile.TemporaryFile("w+") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "forecast", *args], stdout=out, stderr=subprocess.STDOUT
        )
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        wall = time.perf_counter() - start
        out.seek(0)
        text = out.read()
    if proc.returncode != 0:
        sys.exit(f"forecast {' '.join(args)} failed ({proc.returncode}):\n{text}")
    # ru_maxrss is in KiB on Linux
    return Child(wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, text)


def gradient_evaluations(tree: xr.DataTree) -> int:
    """Leapfrog steps of the kept draws (each one gradient evaluation)."""
    return int(group(tree, "sample_stats")["n_steps"].sum())


def default_pipeline(args: argparse.Namespace, runs: Path) -> tuple[Row, Child, Child, Path]:
    sizes = ["--draws", str(args.draws), "--tune", str(args.tune), "--chains", str(args.chains)]
    fit = run_child(["fit", "--seed", str(args.seed), *sizes, "--runs", str(runs), "--no-progress"])
    predict = run_child(["predict", "--runs", str(runs)])
    run = (runs / "latest").resolve()
    manifest = json.loads((run / "manifest.json").read_text())
    diagnostics = manifest["diagnostics"]
    tree = xr.open_datatree(run / "posterior.nc", engine="h5netcdf")
    row = Row(
        "nutpie",
        args.draws,
        manifest["timing"]["compile_seconds"],
        manifest["timing"]["sampling_seconds"],
        diagnostics["min_ess_bulk"],
        gradient_evaluations(tree),
        diagnostics["divergences"],
        diagnostics["max_rhat"],
    )
    tree.close()
    return row, fit, predict, run


def pymc_nuts(settings: FitSettings, data, spec) -> Row:
    start = time.perf_counter()
    result = fit_alignment_model(data, spec, settings, log_likelihood=False)
    total = time.perf_counter() - start
    sampling = float(group(result.posterior, "sample_stats").attrs["sampling_time"])
    diagnostics = diagnose(result.posterior, method="nuts", approximate=False)
    print(f"  pymc: {total:.1f} s in all", flush=True)
    return Row(
        "pymc",
        settings.draws,
        result.sampling_seconds - sampling,
        sampling,
        diagnostics.min_ess_bulk,
        gradient_evaluations(result.posterior),
        diagnostics.divergences,
        diagnostics.max_rhat,
    )


def gradient_microseconds(model, mode: str, calls: int = 2000, repeats: int = 5) -> float:
    """Median over ``repeats`` blocks of the microseconds per log density + gradient call."""
    from pymc.blocking import DictToArrayBijection

    with ieee_numba():
        function = model.logp_dlogp_function(ravel_inputs=True, mode=mode)
    function.set_extra_values({})
    point = DictToArrayBijection.map(model.initial_point()).data
    function(point)
    blocks = []
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(calls):
            function(point)
        blocks.append((time.perf_counter() - start) / calls * 1e6)
    return float(np.median(blocks))


def print_step_costs(rows: list[Row], data, spec, args: argparse.Namespace) -> None:
    """The compiled graph's cost alone against each sampler's wall time per gradient."""
    from pymc.model.transform.optimization import freeze_dims_and_data

    model = build_alignment_model(data, spec)
    graph = {
        "nutpie": gradient_microseconds(freeze_dims_and_data(model), "NUMBA"),
        "pymc": gradient_microseconds(model, "FAST_RUN"),
    }
    parallel = min(args.chains, os.cpu_count() or 1)
    print(
        "\nCost per leapfrog step, µs (all in = sampling time x chains in parallel / gradient "
        "evaluations, tuning counted at the sampling rate):"
    )
    print(f"{'sampler':<8} {'graph alone':>12} {'all in':>8} {'sampler own':>12}")
    tune = {"nutpie": args.tune, "pymc": args.tune if args.pymc_tune is None else args.pymc_tune}
    all_in = {}
    for r in rows:
        per_draw = r.gradients / (args.chains * r.draws)
        total = per_draw * args.chains * (r.draws + tune[r.sampler])
        all_in[r.sampler] = r.sampling_seconds * parallel / total * 1e6
        own = all_in[r.sampler] - graph[r.sampler]
        print(f"{r.sampler:<8} {graph[r.sampler]:>12.0f} {all_in[r.sampler]:>8.0f} {own:>12.0f}")
    if len(rows) == 2:
        ratio = rows[0].ess_per_1000_gradients / rows[1].ess_per_1000_gradients
        pymc_all_in = all_in["pymc"]
        print(
            f"graph alone, C / numba: {graph['pymc'] / graph['nutpie']:.2f}x; all in, PyMC / "
            f"nutpie: {pymc_all_in / all_in['nutpie']:.2f}x; at this ESS per gradient ratio "
            f"({ratio:.2f}x) 3x ESS/s needs nutpie at <= {pymc_all_in * ratio / 3:.0f} µs "
            "all in per step"
        )


def main_quantities(post: xr.Dataset, free: list[str]) -> dict[str, xr.DataArray]:
    """The quantities compared: hyper-drifts, drifts, volatilities, loadings, the last latent."""
    return {
        "drift_mu": post["drift_mu"],
        "drift": post["drift"],
        "volatility": post["volatility"],
        "loading (free)": post["loading"].sel({INDICATOR: free}),
        "alignment, last period": post["alignment"].isel({PERIOD: -1}),
    }


def pathfinder_errors(approx: xr.Dataset, nuts: xr.Dataset, free: list[str]) -> list[tuple]:
    """Per quantity: cells, median and max |mean error| / NUTS sd, range of sd ratios."""
    rows = []
    ours, theirs = main_quantities(approx, free), main_quantities(nuts, free)
    for name, exact in theirs.items():
        sd = exact.std((CHAIN, DRAW))
        z = np.abs(ours[name].mean((CHAIN, DRAW)) - exact.mean((CHAIN, DRAW))) / sd
        ratio = ours[name].std((CHAIN, DRAW)) / sd
        rows.append(
            (
                name,
                int(z.size),
                float(z.median()),
                float(z.max()),
                float(ratio.median()),
                float(ratio.min()),
                float(ratio.max()),
            )
        )
    return rows


def print_samplers(rows: list[Row]) -> None:
    header = (
        f"{'sampler':<8} {'draws':>6} {'compile s':>10} {'sampling s':>11} {'min ESS':>8} "
        f"{'ESS/s':>7} {'grad evals':>11} {'ESS/1k grad':>12} {'diverg.':>8} {'max R-hat':>10}"
    )
    print(header)
    print("-" * len(header))
    for r in rows:
        print(
            f"{r.sampler:<8} {r.draws:>6} {r.compile_seconds:>10.1f} {r.sampling_seconds:>11.1f} "
            f"{r.min_ess_bulk:>8.0f} {r.ess_per_second:>7.2f} {r.gradients:>11d} "
            f"{r.ess_per_1000_gradients:>12.3f} {r.divergences:>8d} {r.max_rhat:>10.4f}"
        )
    if len(rows) == 2:
        a, b = rows
        print(
            f"nutpie / PyMC: min bulk ESS per second {a.ess_per_second / b.ess_per_second:.2f}x, "
            f"ESS per gradient {a.ess_per_1000_gradients / b.ess_per_1000_gradients:.2f}x, "
            f"sampling time {a.sampling_seconds / b.sampling_seconds:.2f}x, "
            f"compile time {a.compile_seconds / b.compile_seconds:.2f}x"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--draws", type=int, default=1000)
    parser.add_argument("--tune", type=int, help="tuning steps (default: the spec's)")
    parser.add_argument("--chains", type=int, default=4)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--pymc-draws", type=int, help="draws of PyMC's NUTS (default --draws)")
    parser.add_argument("--pymc-tune", type=int, help="tuning of PyMC's NUTS (default --tune)")
    parser.add_argument("--skip-pymc", action="store_true")
    parser.add_argument("--skip-pathfinder", action="store_true")
    args = parser.parse_args()

    codebook = load_codebook()
    spec = load_model_spec(DEFAULT_MODEL, codebook)
    data = build_model_data(read_panel(DEFAULT_PANEL, codebook), spec, codebook)
    if args.tune is None:
        args.tune = spec.sampler.tune
    print(
        f"default model on the bundled panel: {len(data.states)} states, "
        f"{len(data.indicators)} indicators, {data.n_steps} steps, "
        f"{sum(len(o) for o in data.obs.values())} observations; "
        f"{args.chains} chains x {args.draws} draws ({args.tune} tuning), seed {args.seed}; "
        f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}",
        flush=True,
    )
    with tempfile.TemporaryDirectory() as tmp:
        nutpie, fit, predict, run = default_pipeline(args, Path(tmp) / "runs")
        print("\ndefault pipeline (fresh processes):")
        for name, child in (("forecast fit", fit), ("forecast predict", predict)):
            print(
                f"  {name:<17} wall {child.wall:7.1f} s  CPU {child.cpu:7.1f} s  "
                f"peak RSS {child.max_rss_mib:7.0f} MiB"
            )
        peak = max(fit.max_rss_mib, predict.max_rss_mib)
        print(f"  peak resident memory of the pipeline: {peak:.0f} MiB", flush=True)
        nuts_tree = xr.open_datatree(run / "posterior.nc", engine="h5netcdf").load()
    nuts = group(nuts_tree, "posterior")
    free = [
        str(k)
        for k, ref in zip(
            data.indicators, group(nuts_tree, "constant_data")["is_reference"].values, strict=True
        )
        if not ref
    ]

    if not args.skip_pathfinder:
        settings = FitSettings(
            method="pathfinder", draws=args.draws, chains=args.chains, seed=args.seed
        )
        start = time.perf_counter()
        result = fit_alignment_model(data, spec, settings, log_likelihood=False)
        seconds = time.perf_counter() - start
        nuts_seconds = nutpie.compile_seconds + nutpie.sampling_seconds
        print(
            f"\nPathfinder ({args.chains} paths, {args.chains * args.draws} draws): "
            f"{seconds:.1f} s with compilation, against nutpie's {nuts_seconds:.1f} s "
            f"(compile + sampling); time ratio NUTS / Pathfinder {nuts_seconds / seconds:.2f}"
        )
        header = (
            f"{'quantity':<24} {'cells':>5} {'|Δmean|/sd med':>15} {'max':>6} "
            f"{'sd ratio med':>13} {'min':>6} {'max':>6}"
        )
        print(header)
        print("-" * len(header))
        for name, n, z_med, z_max, r_med, r_min, r_max in pathfinder_errors(
            group(result.posterior, "posterior"), nuts, free
        ):
            print(
                f"{name:<24} {n:>5} {z_med:>15.2f} {z_max:>6.2f} "
                f"{r_med:>13.2f} {r_min:>6.2f} {r_max:>6.2f}"
            )

    rows = [nutpie]
    if not args.skip_pymc:
        settings = settings_from_spec(
            spec,
            draws=args.pymc_draws or args.draws,
            tune=args.pymc_tune if args.pymc_tune is not None else args.tune,
            chains=args.chains,
            seed=args.seed,
        )
        rows.append(pymc_nuts(replace(settings, nuts_sampler="pymc"), data, spec))
    print("\nNUTS, same model and data:")
    print_samplers(rows)
    print_step_costs(rows, data, spec, args)

    print(f"\nload average at the end: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
