"""The convergence gates on synthetic draws (no fit): what passes, what fails and why."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from forecast.model.diagnostics import MAX_RHAT, MIN_ESS_BULK, diagnose


def tree(draws: np.ndarray, *, diverging: int = 0) -> xr.DataTree:
    """A posterior of one vector variable ``drift`` (chain, draw, 3) with sampler stats."""
    n_chain, n_draw = draws.shape[:2]
    post = xr.Dataset({"drift": (("chain", "draw", "pole"), draws)})
    flags = np.zeros((n_chain, n_draw), dtype=bool)
    flags.flat[:diverging] = True
    stats = xr.Dataset({"diverging": (("chain", "draw"), flags)})
    return xr.DataTree.from_dict({"posterior": post, "sample_stats": stats})


def test_independent_draws_pass_the_gates(rng: np.random.Generator) -> None:
    d = diagnose(tree(rng.normal(size=(4, 1000, 3))), method="nuts", approximate=False)
    assert d.converged and d.failures == ()
    assert d.max_rhat <= MAX_RHAT and d.min_ess_bulk >= MIN_ESS_BULK
    assert d.lines()[-1].startswith("converged: ")


def test_each_gate_names_its_failure(rng: np.random.Generator) -> None:
    draws = rng.normal(size=(4, 1000, 3))
    draws[0, :, 1] += 3.0  # one chain stuck elsewhere
    d = diagnose(tree(draws, diverging=2), method="nuts", approximate=False)
    assert not d.converged
    assert d.worst_rhat == "drift[1]"
    reasons = d.lines()[-1]
    assert reasons.startswith("NOT CONVERGED: max R-hat ")
    assert "(drift[1])" in reasons and "2 divergent transitions" in reasons
    few = diagnose(tree(rng.normal(size=(2, 100, 3))), method="nuts", approximate=False)
    assert few.failures == (
        f"min bulk ESS {few.min_ess_bulk:.0f} < {MIN_ESS_BULK} ({few.worst_ess_bulk})",
    )


@pytest.mark.parametrize("approximate", [True, False])
def test_one_chain_has_no_rhat(rng: np.random.Generator, approximate: bool) -> None:
    # Pathfinder and ADVI return one chain of (resampled) draws; so does --chains 1
    d = diagnose(
        tree(rng.normal(size=(1, 800, 3))),
        method="advi" if approximate else "nuts",
        approximate=approximate,
    )
    assert np.isnan(d.max_rhat) and d.worst_rhat == "n/a"
    assert not d.converged
    if approximate:
        assert d.failures == ("advi is an approximate method; the gates apply to NUTS only",)
        assert d.lines()[0].startswith("method: advi (APPROXIMATE)")
    else:
        assert d.failures == ("R-hat undefined (it needs at least two chains)",)
    assert all("\n" not in line for line in d.lines())
