"""The stacked forecast in a backtest: weights from earlier origins, scored like any model.

Origins run independently (possibly on Dask workers); each returns, for the cells every
model scored, the components' draws and their mixture statistics
(:func:`origin_stack`). :func:`stack_backtest` then walks the origins in order: the weights of
origin ``Y`` come from the cells of earlier origins whose outcome was public at the end of
``Y`` (leave-future-out), and its stacked forecast, a mixture of the components' draws, is
scored on its cells with the same scores as every other model.

The mixture (a linear pool) is too wide in the middle: its 50 % intervals covered 0.65 of
outcomes. Two remedies are scored beside it on the same cells. :data:`SPREAD_ADJUSTED` is the
spread-adjusted pool (:mod:`forecast.evaluation.spread`): every component scaled about its
centre by the spread and tail shape of its indicator family, learned like the weights from
earlier, public cells only. :data:`RECALIBRATED` is the mixture
recalibrated by the PIT values of the same earlier, public cells
(:mod:`forecast.evaluation.calibration`), once there are :data:`MIN_RECALIBRATION` of them.
Both bring the 50 % intervals into line; the first gains CRPS at every horizon but its 90 %
intervals cover less than the mixture's, the second loses CRPS at longer horizons (README,
backtest), so ``forecast predict`` uses neither.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import xarray as xr
from numpy.typing import NDArray

from forecast.dims import HORIZON, INDICATOR, MODEL, ORIGIN
from forecast.evaluation.calibration import GRID, pit_quantiles, recalibrate
from forecast.evaluation.cells import CELL_COLUMNS, OBSERVED, SCALE, VINTAGE, cell_draws
from forecast.evaluation.scores import ensemble_scores
from forecast.evaluation.spread import adjusted_mixture, grid_statistics, learned_spread
from forecast.evaluation.stacking import learned_weights, mixture_crps, mixture_statistics
from forecast.evaluation.vintage import origin_date
from forecast.model.stacked import COMPONENTS, STACKED, indicator_family, mix_cells, weights_for

#: fewest earlier PIT values a recalibration is learned from (fewer: none)
MIN_RECALIBRATION = 200
#: the recalibrated mixture, scored as a variant of the stacked forecast
RECALIBRATED = f"{STACKED}:recalibration=pit"
#: the spread-adjusted mixture, scored as a variant of the stacked forecast
SPREAD_ADJUSTED = f"{STACKED}:spread=learned"
#: columns of a stack's cells holding each value's range (absent: unbounded)
LOWER, UPPER = "lower_bound", "upper_bound"


@dataclass(frozen=True)
class OriginStack:
    """One origin's cells with the components' mixture statistics, and their draws."""

    cells: pd.DataFrame
    draws: tuple[NDArray[np.float64], ...]


def origin_stack(
    forecasts: dict[str, xr.DataArray],
    cells: pd.DataFrame,
    scored: pd.DataFrame,
    bounds: Mapping[str, tuple[float, float]] | None = None,
) -> OriginStack:
    """Collect the stacking inputs of one origin: the scored cells, statistics and draws.

    Parameters
    ----------
    forecasts
        Indicator draws of each component, keyed by :data:`COMPONENTS` (``model`` is the
        Bayesian model).
    cells
        The origin's outcome cells (with ``vintage`` of the outcome).
    scored
        The origin's scores: only the cells every model scored are stacked.
    bounds
        Each indicator's value range (:func:`forecast.evaluation.spread.kind_bounds`), kept in
        the cells' :data:`LOWER` and :data:`UPPER` columns; an indicator without one is
        unbounded.
    """
    keys = list(CELL_COLUMNS)
    kept = cells.merge(scored[[*keys, SCALE]].drop_duplicates(keys), on=keys, how="inner")
    draws = tuple(np.asarray(cell_draws(forecasts[c], kept), dtype=np.float64) for c in COMPONENTS)
    stats = mixture_statistics(kept[OBSERVED].to_numpy(dtype=float), draws)
    ranges = [(bounds or {}).get(str(k), (-np.inf, np.inf)) for k in kept[INDICATOR]]
    kept[LOWER] = [r[0] for r in ranges]
    kept[UPPER] = [r[1] for r in ranges]
    return OriginStack(pd.concat([kept.reset_index(drop=True), stats], axis=1), draws)


def public_before(tables: Sequence[pd.DataFrame], origin: int) -> pd.DataFrame | None:
    """Return the rows of earlier origins' ``tables`` whose outcome was public at ``origin``.

    Leave-future-out: only origins before ``origin``, only outcomes published by its end.
    None when no earlier origin has a row.
    """
    earlier = [t for t in tables if len(t) and int(t[ORIGIN].iloc[0]) < origin]
    if not earlier:
        return None
    table = pd.concat(earlier, ignore_index=True)
    return table[table[VINTAGE] <= origin_date(origin)].reset_index(drop=True)


def training_cells(stacks: Sequence[OriginStack], origin: int) -> pd.DataFrame:
    """Cells of origins before ``origin`` whose outcome was public at its end."""
    table = public_before([s.cells for s in stacks], origin)
    return pd.DataFrame(columns=[*CELL_COLUMNS, SCALE, VINTAGE]) if table is None else table


def cell_weights(stack: OriginStack, table: pd.DataFrame) -> NDArray[np.float64]:
    """Weights of every cell of one origin, ``(cells, components)``."""
    return np.stack(
        [
            weights_for(table, str(cell[INDICATOR]), int(cell[HORIZON]))
            for cell in stack.cells.to_dict("records")
        ]
    )


def mixture_draws(stack: OriginStack, table: pd.DataFrame) -> NDArray[np.float64]:
    """Mix the components' draws of every cell of one origin: ``(cells, draws)``."""
    return mix_cells(stack.draws, cell_weights(stack, table))


def value_bounds(cells: pd.DataFrame) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Each cell's value range from its :data:`LOWER` and :data:`UPPER` columns (or none)."""
    n = len(cells)
    lower = cells[LOWER].to_numpy(dtype=float) if LOWER in cells else np.full(n, -np.inf)
    upper = cells[UPPER].to_numpy(dtype=float) if UPPER in cells else np.full(n, np.inf)
    return lower, upper


def adjusted_draws(
    stack: OriginStack, weights: NDArray[np.float64], spread: pd.DataFrame
) -> NDArray[np.float64]:
    """Mix every cell spread-adjusted by its family's ``spread`` and ``shape``.

    A family without a row in ``spread`` is mixed as it is (``c = p = 1``).
    """
    lower, upper = value_bounds(stack.cells)
    family = stack.cells[INDICATOR].map(indicator_family)
    table = spread.set_index("family")
    params = np.column_stack(
        [family.map(table[key]).fillna(1.0).to_numpy(dtype=float) for key in ("spread", "shape")]
    )
    out = np.empty((len(family), stack.draws[0].shape[1]))
    for c, p in np.unique(params, axis=0):
        rows = np.flatnonzero((params[:, 0] == c) & (params[:, 1] == p))
        parts = [d[rows] for d in stack.draws]
        out[rows] = adjusted_mixture(parts, weights[rows], c, p, lower[rows], upper[rows])
    return out


def graded_cells(stack: OriginStack, weights: NDArray[np.float64]) -> pd.DataFrame:
    """One origin's cells with the CRPS and coverage of every spread and shape searched."""
    lower, upper = value_bounds(stack.cells)
    grid = grid_statistics(
        stack.cells[OBSERVED].to_numpy(dtype=float), stack.draws, weights, lower, upper
    )
    keys = stack.cells[[ORIGIN, INDICATOR, SCALE, VINTAGE]].reset_index(drop=True)
    return pd.concat([keys, grid], axis=1)


def _scored(stack: OriginStack, name: str, draws: NDArray[np.float64]) -> pd.DataFrame:
    cells = stack.cells[[*CELL_COLUMNS, OBSERVED, SCALE]].copy()
    cells.insert(len(CELL_COLUMNS), MODEL, name)
    scored = ensemble_scores(cells[OBSERVED].to_numpy(dtype=float), draws)
    return pd.concat([cells.reset_index(drop=True), scored], axis=1)


def stack_backtest(
    stacks: Sequence[OriginStack], horizons: Sequence[int], families: Sequence[str]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Score the stacked forecast of every origin with leave-future-out weights.

    Returns
    -------
    tuple of pandas.DataFrame
        The scores (the columns of every model's scores) of the stacked forecast
        (``model`` = :data:`~forecast.model.stacked.STACKED`) and of its variants
        :data:`SPREAD_ADJUSTED` and :data:`RECALIBRATED`; the weights each origin used
        (``origin, family, horizon, cells, basis``, one column per component, the spread
        variant's ``spread, shape, spread_cells, spread_basis``, and ``recalibration_cells``,
        the PIT values its recalibration was learned from, 0 for none).
    """
    scores: list[pd.DataFrame] = []
    weights: list[pd.DataFrame] = []
    mixtures: list[pd.DataFrame] = []  # each origin's scored mixture, with outcome vintages
    graded: list[pd.DataFrame] = []  # each origin's cells at every spread and shape
    ordered = sorted(
        (s for s in stacks if len(s.cells)), key=lambda s: int(s.cells[ORIGIN].iloc[0])
    )
    for stack in ordered:
        origin = int(stack.cells[ORIGIN].iloc[0])
        table = learned_weights(training_cells(stacks, origin), horizons, families)
        cell_w = cell_weights(stack, table)
        earlier = public_before(graded, origin)
        spread = learned_spread(earlier if earlier is not None else pd.DataFrame(), families)
        graded.append(graded_cells(stack, cell_w))
        mixed = mixture_draws(stack, table)
        # the mixture's CRPS over every component draw, not over the mixed ensemble's share
        raw = _scored(stack, STACKED, mixed).assign(crps=mixture_crps(stack.cells, cell_w))
        public = public_before(mixtures, origin)
        pit = np.empty(0) if public is None else public["pit"].to_numpy(dtype=float)
        recalibrated = len(pit) >= MIN_RECALIBRATION
        quantiles = pit_quantiles(pit) if recalibrated else GRID
        recal = _scored(stack, RECALIBRATED, recalibrate(mixed, quantiles))
        if not recalibrated:  # the mixture itself
            recal["crps"] = raw["crps"].to_numpy()
        scores += [
            raw,
            _scored(stack, SPREAD_ADJUSTED, adjusted_draws(stack, cell_w, spread)),
            recal,
        ]
        mixtures.append(raw.assign(**{VINTAGE: stack.cells[VINTAGE].to_numpy()}))
        weights.append(
            table.merge(spread, on="family", how="left").assign(
                **{ORIGIN: origin, "recalibration_cells": len(pit) if recalibrated else 0}
            )
        )
    if not scores:
        return pd.DataFrame(), pd.DataFrame()
    order = [ORIGIN, "family", HORIZON]
    weight_table = pd.concat(weights, ignore_index=True)
    weight_table = weight_table[[*order, *(c for c in weight_table.columns if c not in order)]]
    return pd.concat(scores, ignore_index=True), weight_table


def final_weights(
    stacks: Sequence[OriginStack], horizons: Sequence[int], families: Sequence[str]
) -> pd.DataFrame:
    """Weights learned from every scored cell: what ``forecast predict`` uses after the backtest."""
    cells = [s.cells for s in stacks if len(s.cells)]
    table = pd.concat(cells, ignore_index=True) if cells else pd.DataFrame()
    return learned_weights(table, horizons, families)
