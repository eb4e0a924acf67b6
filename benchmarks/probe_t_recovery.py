"""Probe: recovery of the default spec with Normal or Student-t deviations, over simulations.

The default recovery tests (``tests/model/test_recovery.py``) fit one simulation at 2 x 300
draws. Under ``deviation_df = 4`` they failed (a loading at z = -3.9, the UN family's
persistence at z = +3.5). This probe tells Monte Carlo and convergence from bias: the same
truth, several simulation seeds, both deviation laws, short and long fits; it prints, per fit,
the z-score (posterior mean minus truth over posterior sd) of every free loading and of the
noise and persistence the test judges, with the fit's worst R-hat and its divergences.

Run from the repository root (it imports the tests' helpers)::

    python benchmarks/probe_t_recovery.py --df inf,4 --sims 20261125,1,2 --draws 300 --chains 2

With ``--near-one`` every persistence is 0.95 (the truth of
``tests/model/test_recovery_persistence.py``, seed 20261206 there, 20261207 in the slow t test).
"""

from __future__ import annotations

import argparse
import math
import time
from dataclasses import replace

import numpy as np
import xarray as xr

from forecast.data.codebook import load_codebook
from forecast.data.panel import DEFAULT_PANEL, read_panel
from forecast.dims import CHAIN, DRAW, INDICATOR
from forecast.model.design import build_model_data
from forecast.model.diagnostics import diagnose
from forecast.model.fit import CompiledModels, fit_alignment_model
from forecast.model.inference import FitSettings
from forecast.model.likelihoods import GAUSSIAN_INDICATOR
from forecast.model.simulate import DEFAULT_TRUTH, simulate
from forecast.model.spec import DEFAULT_MODEL, load_model_spec
from forecast.model.trees import group
from tests.model.test_recovery import exact_conditionals, interval, one_per_persistence
from tests.model.test_recovery_persistence import near_one_truth


def z_scores(draws: xr.DataArray, truth: xr.DataArray) -> xr.DataArray:
    return (draws.mean((CHAIN, DRAW)) - truth) / draws.std((CHAIN, DRAW))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--df", default="inf,4", help="deviation_df values, comma-separated")
    parser.add_argument("--sims", default="20261125", help="simulation seeds, comma-separated")
    parser.add_argument("--draws", type=int, default=300)
    parser.add_argument("--tune", type=int, default=300)
    parser.add_argument("--chains", type=int, default=2)
    parser.add_argument("--seed", type=int, default=7, help="the fit's seed")
    parser.add_argument("--target-accept", type=float, default=0.95)
    parser.add_argument(
        "--near-one",
        action="store_true",
        help="every persistence 0.95 (tests/model/test_recovery_persistence.py's truth)",
    )
    parser.add_argument(
        "--carry", default=None, help="the spec's carry (default: models/alignment.toml's)"
    )
    args = parser.parse_args()

    codebook = load_codebook()
    base = load_model_spec(DEFAULT_MODEL, codebook)
    base = replace(base, carry=args.carry or base.carry)
    panel = read_panel(DEFAULT_PANEL, codebook)
    settings = FitSettings(
        method="nuts",
        draws=args.draws,
        tune=args.tune,
        chains=args.chains,
        seed=args.seed,
        target_accept=args.target_accept,
    )
    compiled = CompiledModels()
    for df in (float(d) for d in args.df.split(",")):
        spec = replace(base, deviation_df=math.inf if math.isinf(df) else df)
        data = build_model_data(panel, spec, codebook)
        # the recovery tests' truths: their loadings, and every persistence 0.95 or the default
        near_one = near_one_truth(data)
        fixed = near_one if args.near_one else DEFAULT_TRUTH | {"loading": near_one["loading"]}
        for sim_seed in (int(s) for s in args.sims.split(",")):
            sim = simulate(data, spec, random_seed=sim_seed, fixed=fixed)
            start = time.perf_counter()
            result = fit_alignment_model(
                sim.data, spec, settings, compiled=compiled, log_likelihood=False
            )
            seconds = time.perf_counter() - start
            post = group(result.posterior, "posterior")
            free = ~sim.data.is_reference
            zl = z_scores(
                post["loading"].isel({INDICATOR: free}),
                sim.truth["loading"].isel({INDICATOR: free}),
            )
            exact = exact_conditionals(sim.data, spec)
            persist = one_per_persistence(exact, spec)
            zn = z_scores(
                post["noise"].sel({GAUSSIAN_INDICATOR: exact}),
                sim.truth["noise"].sel({GAUSSIAN_INDICATOR: exact}),
            )
            zp = z_scores(
                post["persistence"].sel({GAUSSIAN_INDICATOR: persist}),
                sim.truth["persistence"].sel({GAUSSIAN_INDICATOR: persist}),
            )
            gates = diagnose(result.posterior, method="nuts", approximate=False)
            print(
                f"\n== df={df:g} carry={spec.carry} sim={sim_seed} fit={args.chains}x{args.draws} "
                f"seed={args.seed}: {seconds:.0f} s, max R-hat {gates.max_rhat:.3f} "
                f"({gates.worst_rhat}), min bulk ESS {gates.min_ess_bulk:.0f}, "
                f"{gates.divergences} divergences",
                flush=True,
            )
            for label, z in (("loading", zl), ("noise", zn), ("persistence", zp)):
                values = " ".join(
                    f"{k}={v:+.2f}" for k, v in z.to_series().round(2).to_dict().items()
                )
                worst = float(np.abs(z).max())
                print(f"  {label} (max |z| {worst:.2f}{' FAIL' if worst >= 3 else ''}): {values}")
            draws = post["persistence"].sel({GAUSSIAN_INDICATOR: persist})
            lo, hi = interval(draws)
            medians = draws.median((CHAIN, DRAW))
            print(
                "  persistence median [90 % interval]: "
                + " ".join(
                    f"{k}={float(medians.sel({GAUSSIAN_INDICATOR: k})):.3f}"
                    f"[{float(lo.sel({GAUSSIAN_INDICATOR: k})):.3f},"
                    f"{float(hi.sel({GAUSSIAN_INDICATOR: k})):.3f}]"
                    for k in persist
                )
            )


if __name__ == "__main__":
    main()
