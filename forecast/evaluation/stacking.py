"""Stacking the model with the baselines: leave-future-out weights, mixture draws.

A stacked forecast of a cell is the mixture ``sum_j w_j F_j`` of the Bayesian model's and the
baselines' predictive distributions (Yao, Vehtari, Simpson & Gelman 2018; Bürkner, Gabry &
Vehtari 2020, leave-future-out), with weights per indicator family and horizon that minimise
the summed CRPS over earlier cells. The CRPS of a mixture is a quadratic in its weights::

    CRPS(w) = sum_j w_j E|X_j - y| - 1/2 sum_jk w_j w_k E|X_j - X_k|

so each cell is summarised by ``a_j = E|X_j - y|`` and ``b_jk = E|X_j - X_k|``
(:func:`mixture_statistics`) and the weights of a group by a search over the simplex
(:func:`best_weights`). In a backtest, the weights used at origin ``Y`` come only from cells of
earlier origins whose outcome was public at the end of ``Y``
(:func:`forecast.evaluation.stacked.stack_backtest`). A
stacked forecast is a mixture of draws: each component contributes its share of the draws
(:func:`mix_draws`), so everything downstream of draws (scores, scenarios) works on it.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import combinations_with_replacement

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from forecast.dims import HORIZON, INDICATOR
from forecast.model.stacked import COMPONENTS, indicator_family

#: fewest training cells for a (family, horizon) group's own weights; fewer pool the horizon
MIN_CELLS = 40
#: spacing of the simplex grid the weights are searched on
GRID_STEP = 0.05


def mean_abs_difference(x: NDArray[np.float64], y: NDArray[np.float64]) -> NDArray[np.float64]:
    """``E|X - Y|`` for independent draws, row by row: ``x (n, m)``, ``y (n, k)`` -> ``(n,)``.

    Exact over all pairs, in ``O((m + k) log m)`` per row: with ``x`` sorted and its prefix
    sums, ``sum_i |x_i - v| = v c - S_c + (S_m - S_c) - v (m - c)`` where ``c`` counts the
    ``x`` at or below ``v``.

    Examples
    --------
    >>> mean_abs_difference(np.array([[0.0, 2.0]]), np.array([[1.0, 3.0]])).tolist()
    [1.5]
    """
    xs = np.sort(np.asarray(x, dtype=float), axis=1)
    yv = np.asarray(y, dtype=float)
    m = xs.shape[1]
    prefix = np.concatenate([np.zeros((xs.shape[0], 1)), np.cumsum(xs, axis=1)], axis=1)
    out = np.empty(xs.shape[0])
    for row in range(xs.shape[0]):
        c = np.searchsorted(xs[row], yv[row], side="right")
        below = prefix[row, c]
        total = prefix[row, m]
        sums = yv[row] * c - below + (total - below) - yv[row] * (m - c)
        out[row] = sums.mean() / m
    return out


def mixture_statistics(
    observed: NDArray[np.float64], draws: Sequence[NDArray[np.float64]]
) -> pd.DataFrame:
    """Per cell, ``a_j = E|X_j - y|`` and ``b_jk = E|X_j - X_k|`` of the components' draws.

    Parameters
    ----------
    observed
        Outcomes, ``(n,)``.
    draws
        One ``(n, m_j)`` array of draws per component, in :data:`COMPONENTS` order.

    Returns
    -------
    pandas.DataFrame
        Columns ``a_<j>`` and ``b_<j>_<k>`` (``j <= k``), one row per cell.
    """
    obs = np.asarray(observed, dtype=float)[:, None]
    columns: dict[str, NDArray[np.float64]] = {}
    for j, name in enumerate(COMPONENTS):
        columns[f"a_{name}"] = np.abs(draws[j] - obs).mean(axis=1)
    for j, k in combinations_with_replacement(range(len(COMPONENTS)), 2):
        columns[f"b_{COMPONENTS[j]}_{COMPONENTS[k]}"] = mean_abs_difference(draws[j], draws[k])
    return pd.DataFrame(columns)


def mixture_crps(stats: pd.DataFrame, weights: NDArray[np.float64]) -> NDArray[np.float64]:
    """CRPS of each cell's mixture of the components' draws, ``(cells,)``, from its statistics.

    ``sum_j w_j a_j - 1/2 sum_jk w_j w_k b_jk``: the exact CRPS of the mixture of the
    components' empirical distributions, every draw of each counted, so it does not depend
    on which of them a mixed ensemble of the same size keeps. (Scored on such an ensemble, a
    heavy-tailed cell's CRPS moves with the few extreme draws it happens to keep: Chinese
    finance at horizon 4 moved the stacked forecast's skill by 0.08.)

    Examples
    --------
    >>> obs = np.array([0.0])
    >>> draws = [np.array([[-1.0, 1.0]]), np.array([[2.0, 2.0]]), np.array([[0.0, 0.0]])]
    >>> stats = mixture_statistics(obs, draws)
    >>> float(mixture_crps(stats, np.array([[0.5, 0.5, 0.0]]))[0])
    0.875
    """
    w = np.asarray(weights, dtype=float)
    out = sum(w[:, j] * stats[f"a_{c}"].to_numpy(dtype=float) for j, c in enumerate(COMPONENTS))
    for j, k in combinations_with_replacement(range(len(COMPONENTS)), 2):
        b = stats[f"b_{COMPONENTS[j]}_{COMPONENTS[k]}"].to_numpy(dtype=float)
        out = out - (0.5 if j == k else 1.0) * w[:, j] * w[:, k] * b
    return np.asarray(out, dtype=float)


def _quadratic(stats: pd.DataFrame) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Sum ``a`` (3,) and ``b`` (3, 3) over cells, each divided by its ``scale``."""
    scale = stats["scale"].to_numpy(dtype=float)
    a = np.array([(stats[f"a_{c}"] / scale).sum() for c in COMPONENTS])
    b = np.zeros((len(COMPONENTS), len(COMPONENTS)))
    for j, k in combinations_with_replacement(range(len(COMPONENTS)), 2):
        b[j, k] = b[k, j] = (stats[f"b_{COMPONENTS[j]}_{COMPONENTS[k]}"] / scale).sum()
    return a, b


def simplex_grid(step: float = GRID_STEP) -> NDArray[np.float64]:
    """Weight vectors on the simplex of :data:`COMPONENTS`, spaced ``step`` apart.

    Examples
    --------
    >>> grid = simplex_grid(0.5)
    >>> len(grid), grid.sum(axis=1).tolist(), grid[-1].tolist()
    (6, [1.0, 1.0, 1.0, 1.0, 1.0, 1.0], [1.0, 0.0, 0.0])
    """
    n = round(1 / step)
    points = [(i, j, n - i - j) for i in range(n + 1) for j in range(n + 1 - i)]
    return np.array(points, dtype=float) / n


def best_weights(stats: pd.DataFrame) -> NDArray[np.float64]:
    """Weights minimising the summed scaled CRPS of the mixture over the cells in ``stats``.

    Ties go to the grid point found first, which favours the model.
    """
    a, b = _quadratic(stats)
    grid = simplex_grid()
    crps = grid @ a - 0.5 * np.einsum("gj,jk,gk->g", grid, b, grid)
    return grid[int(np.argmin(crps))]


def learned_weights(
    stats: pd.DataFrame,
    horizons: Sequence[int],
    families: Sequence[str],
    min_cells: int = MIN_CELLS,
) -> pd.DataFrame:
    """Weights per indicator family and horizon from the training cells ``stats``.

    A (family, horizon) group with at least ``min_cells`` cells gets its own weights;
    otherwise the horizon's pooled weights; a horizon with fewer cells than that gets equal
    weights.

    Parameters
    ----------
    stats
        Training cells with ``indicator``, ``horizon``, ``scale`` and the mixture statistics.
    horizons
        Horizons to give weights for.
    families
        Indicator families to give weights for (see :func:`indicator_family`).
    min_cells
        Fewest cells for a group's own weights (default :data:`MIN_CELLS`).

    Returns
    -------
    pandas.DataFrame
        ``family, horizon, cells, basis`` (``family``, ``horizon`` or ``equal``) and one
        column per component.
    """
    fam = stats[INDICATOR].map(indicator_family) if len(stats) else pd.Series(dtype=str)
    rows = []
    for h in horizons:
        at_h = stats[stats[HORIZON] == h] if len(stats) else stats
        pooled = best_weights(at_h) if len(at_h) >= min_cells else None
        for family in sorted(set(families)):
            mine = at_h[fam.loc[at_h.index] == family] if len(at_h) else at_h
            if len(mine) >= min_cells:
                weights, basis = best_weights(mine), "family"
            elif pooled is not None:
                weights, basis = pooled, "horizon"
            else:
                weights, basis = np.full(len(COMPONENTS), 1 / len(COMPONENTS)), "equal"
            rows.append(
                {"family": family, HORIZON: h, "cells": len(mine), "basis": basis}
                | dict(zip(COMPONENTS, weights.round(4), strict=True))
            )
    return pd.DataFrame(rows)
