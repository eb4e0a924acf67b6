"""Recalibrating forecast draws by the PIT values a backtest saw (probabilistic recalibration).

A forecast ``F`` whose PIT values ``U = F(Y)`` are not uniform is miscalibrated in a way a
backtest measures: the stacked forecast's PIT values pile up in the middle (its central
intervals are too wide). If ``G`` is the distribution of those PIT values, ``G(F(y))`` is calibrated
(Kuleshov, Fenner & Ermon 2018; the beta-transformed linear pool of Gneiting & Ranjan 2013
is the parametric form, too smooth here: a beta cannot narrow the centre without thinning
the tails). A draw-based forecast is recalibrated cell by cell: the draw of rank ``r`` out of
``n`` stands at level ``u = (r + 1/2) / n`` and moves to the forecast's own quantile at level
``G^{-1}(u)``. The move is monotone within a cell, so every draw keeps its rank and draws of
different cells keep their joint structure (what scenarios and what-ifs read).

The backtest scores the recalibrated stacked forecast as a variant
(:mod:`forecast.evaluation.stacked`); it calibrates the central intervals but loses CRPS at
longer horizons, so the forecast users get is not recalibrated. ``G^{-1}`` is kept as the
quantiles of the PIT values on a grid of :data:`GRID` levels (:func:`pit_quantiles`), linear
in between, 0 and 1 at the ends.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

#: levels 0, 0.01, ..., 1 at which the PIT quantiles are stored
GRID = np.linspace(0.0, 1.0, 101)


def pit_quantiles(pit: ArrayLike) -> NDArray[np.float64]:
    """Quantiles of PIT values at :data:`GRID`: the recalibration map ``G^{-1}``.

    Examples
    --------
    >>> q = pit_quantiles(np.linspace(0.0, 1.0, 1001))
    >>> bool(np.allclose(q, GRID)), q[0].item(), q[-1].item()
    (True, 0.0, 1.0)
    >>> central = pit_quantiles(np.linspace(0.25, 0.75, 1001))
    >>> central[25].round(3).item(), central[75].round(3).item()
    (0.375, 0.625)
    """
    values = np.asarray(pit, dtype=float)
    values = values[np.isfinite(values)]
    if values.size == 0:
        raise ValueError("no finite PIT value to learn a recalibration from")
    q = np.quantile(np.clip(values, 0.0, 1.0), GRID)
    # the ends stay the forecast's own: a draw outside every PIT seen is not clipped away
    q[0], q[-1] = 0.0, 1.0
    return np.maximum.accumulate(q)


def recalibrate(draws: ArrayLike, quantiles: ArrayLike) -> NDArray[np.float64]:
    """Move each row's draws to the row's own quantiles at the recalibrated levels.

    Parameters
    ----------
    draws
        ``(..., n)``: the draws of each cell along the last axis (rows with a NaN are
        returned unchanged).
    quantiles
        ``G^{-1}`` at :data:`GRID` (:func:`pit_quantiles`).

    Returns
    -------
    numpy.ndarray
        Same shape; draw ``i`` of a row keeps its rank within the row. With the identity
        map (``quantiles = GRID``) every draw stays where it is.

    Examples
    --------
    >>> row = np.array([[4.0, 0.0, 2.0, 1.0, 3.0]])
    >>> recalibrate(row, GRID).tolist()
    [[4.0, 0.0, 2.0, 1.0, 3.0]]
    >>> narrower = recalibrate(row, pit_quantiles(np.linspace(0.3, 0.7, 101)))
    >>> narrower.round(2).tolist(), bool((np.argsort(narrower) == np.argsort(row)).all())
    ([[2.8, 1.2, 2.0, 1.6, 2.4]], True)
    """
    values = np.asarray(draws, dtype=float)
    q = np.asarray(quantiles, dtype=float)
    if q.shape != GRID.shape or np.any(np.diff(q) < 0) or q[0] < 0 or q[-1] > 1:
        raise ValueError(f"expected {GRID.size} non-decreasing PIT quantiles in [0, 1]")
    n = values.shape[-1]
    flat = values.reshape(-1, n)
    out = flat.copy()
    order = np.argsort(flat, axis=1, kind="stable")
    ranks = np.empty_like(order)
    np.put_along_axis(ranks, order, np.arange(n)[None, :].repeat(len(flat), axis=0), axis=1)
    # the level of the draw of rank r is (r + 1/2) / n; it moves to G^{-1} of it, which is a
    # position (level * n - 1/2) among the row's sorted draws
    level = np.interp((ranks + 0.5) / n, GRID, q)
    position = np.clip(level * n - 0.5, 0.0, n - 1.0)
    # rounding in the level must not move a draw the map leaves in place (identity map)
    nearest = np.rint(position)
    position = np.where(np.abs(position - nearest) < 1e-9, nearest, position)
    below = np.floor(position).astype(int)
    above = np.minimum(below + 1, n - 1)
    frac = position - below
    ordered = np.take_along_axis(flat, order, axis=1)
    moved = (1 - frac) * np.take_along_axis(ordered, below, axis=1) + frac * np.take_along_axis(
        ordered, above, axis=1
    )
    ok = np.isfinite(flat).all(axis=1)
    out[ok] = moved[ok]
    return out.reshape(values.shape)
