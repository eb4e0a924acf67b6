"""Do the chains sample the same distribution? The rank test behind the rank plots, made honest.

ArviZ's rank plot tests, at every fractional rank, whether each chain holds its share of the
draws (a hypergeometric test, combined over ranks into one p-value per parameter). The test
treats draws as exchangeable; MCMC draws are autocorrelated, so on a long run a parameter
whose chains agree (R-hat 1.003, bulk ESS of several hundred) can still get p = 0.00. Here the
draws are first thinned to about independent ones (every k-th draw, k = draws per effective
draw of the worst parameter shown), which makes the p-values mean what they say; the plot and
the report use the same thinned draws, so they show the same numbers.

Thinning costs the test power (fewer draws), not validity: a flag on thinned draws is a real
disagreement between chains, or the one-in-a-hundred false alarm the level allows per cell.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import xarray as xr

#: a parameter is flagged when its rank test's p-value falls below this (ArviZ's default)
RANK_ALPHA = 0.01


def thinning_factor(draws: xr.Dataset) -> int:
    """Return k such that every k-th draw of a chain is about independent, for every cell.

    ``k = round(draws per chain / min ESS)``, the ESS of each chain on its own (the smaller
    of bulk and tail ESS, over every cell and chain); at least 1. Each chain's own ESS measures
    its autocorrelation alone: the ESS of all chains together also falls when chains disagree,
    and thinning by it would take away the test's power to say so.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> white = rng.normal(size=(4, 400))
    >>> walk = np.cumsum(rng.normal(size=(4, 400)), axis=1)  # strongly autocorrelated
    >>> thinning_factor(xr.Dataset({"a": (("chain", "draw"), white)}))
    1
    >>> thinning_factor(xr.Dataset({"a": (("chain", "draw"), walk)})) > 20
    True
    """
    import arviz_stats  # noqa: F401  (registers the azstats accessor)

    bulk = draws.azstats.ess(sample_dims="draw", method="bulk").to_array()
    tail = draws.azstats.ess(sample_dims="draw", method="tail").to_array()
    ess = float(np.nanmin(np.minimum(bulk.values, tail.values)))
    if not math.isfinite(ess) or ess <= 0:
        return 1
    return max(1, round(draws.sizes["draw"] / ess))


def thinned(draws: xr.Dataset, factor: int) -> xr.Dataset:
    """Keep every ``factor``-th draw of each chain."""
    return draws.isel(draw=slice(None, None, factor))


@dataclass(frozen=True)
class RankFlag:
    """A parameter cell whose chains the rank test says disagree."""

    parameter: str
    cell: tuple[str, ...]
    p_value: float


@dataclass(frozen=True)
class RankCheck:
    """The rank test of the parameters a rank plot shows, on thinned draws.

    ``p_values`` holds every cell's p-value in the order of the variables and their cells
    (the order of a rank plot's panels); ``flags`` the cells below ``alpha``.
    """

    thin: int
    draws_kept: int
    tested: int
    alpha: float
    flags: tuple[RankFlag, ...]
    p_values: tuple[float, ...] = ()


def rank_check(
    draws: xr.Dataset, *, alpha: float = RANK_ALPHA, thin: int | None = None
) -> RankCheck:
    """Test each parameter cell's chains for agreement on draws thinned to independence.

    Parameters
    ----------
    draws
        Posterior draws with dims ``chain``, ``draw`` and any others (one test per cell).
    alpha
        Level below which a cell is flagged.
    thin
        Keep every ``thin``-th draw (default :func:`thinning_factor`; 1 for draws thinned
        already).

    Returns
    -------
    RankCheck
        The thinning factor, the draws kept per chain, how many cells were tested and the
        flagged ones (with their p-values).

    Examples
    --------
    >>> rng = np.random.default_rng(1)
    >>> same = rng.normal(size=(4, 500))
    >>> apart = same + np.array([[0.0], [0.0], [0.0], [1.5]])  # one chain elsewhere
    >>> rank_check(xr.Dataset({"a": (("chain", "draw"), same)})).flags
    ()
    >>> rank_check(xr.Dataset({"a": (("chain", "draw"), apart)})).flags[0].parameter
    'a'
    """
    import arviz_stats  # noqa: F401  (registers the azstats accessor)

    factor = thinning_factor(draws) if thin is None else thin
    kept = thinned(draws, factor)
    ranks = kept.azstats.compute_ranks(dim=("chain", "draw"), relative=True)
    p_values = ranks.azstats.mchain_uniformity_test(dim=("chain", "draw"))[0]
    flags = []
    every: list[float] = []
    for name, da in p_values.data_vars.items():
        values = np.asarray(da.values, dtype=float)
        for index in np.ndindex(values.shape):
            every.append(float(values[index]))
            if values[index] < alpha:
                cell = tuple(str(da[dim].values[i]) for dim, i in zip(da.dims, index, strict=True))
                flags.append(RankFlag(str(name), cell, float(values[index])))
    return RankCheck(factor, kept.sizes["draw"], len(every), alpha, tuple(flags), tuple(every))
