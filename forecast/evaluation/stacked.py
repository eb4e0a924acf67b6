"""The stacked forecast in a backtest: weights from earlier origins, scored like any model.

Origins run independently (possibly on Dask workers); each returns, for the cells every
model scored, the components' draws and their mixture statistics
(:func:`origin_stack`). :func:`stack_backtest` then walks the origins in order: the weights of
origin ``Y`` come from the cells of earlier origins whose outcome was public at the end of
``Y`` (leave-future-out), and its stacked forecast, a mixture of the components' draws, is
scored on its cells with the same scores as every other model.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import xarray as xr
from numpy.typing import NDArray

from forecast.dims import HORIZON, INDICATOR, MODEL, ORIGIN
from forecast.evaluation.cells import CELL_COLUMNS, OBSERVED, SCALE, VINTAGE, cell_draws
from forecast.evaluation.scores import ensemble_scores
from forecast.evaluation.stacking import learned_weights, mixture_statistics
from forecast.evaluation.vintage import origin_date
from forecast.model.stacked import COMPONENTS, STACKED, mix_draws, weights_for


@dataclass(frozen=True)
class OriginStack:
    """One origin's cells with the components' mixture statistics, and their draws."""

    cells: pd.DataFrame
    draws: tuple[NDArray[np.float64], ...]


def origin_stack(
    forecasts: dict[str, xr.DataArray], cells: pd.DataFrame, scored: pd.DataFrame
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
    """
    keys = list(CELL_COLUMNS)
    kept = cells.merge(scored[[*keys, SCALE]].drop_duplicates(keys), on=keys, how="inner")
    draws = tuple(np.asarray(cell_draws(forecasts[c], kept), dtype=np.float64) for c in COMPONENTS)
    stats = mixture_statistics(kept[OBSERVED].to_numpy(dtype=float), draws)
    return OriginStack(pd.concat([kept.reset_index(drop=True), stats], axis=1), draws)


def training_cells(stacks: Sequence[OriginStack], origin: int) -> pd.DataFrame:
    """Cells of origins before ``origin`` whose outcome was public at its end."""
    date = origin_date(origin)
    earlier = [s.cells for s in stacks if len(s.cells) and int(s.cells[ORIGIN].iloc[0]) < origin]
    if not earlier:
        return pd.DataFrame(columns=[*CELL_COLUMNS, SCALE, VINTAGE])
    table = pd.concat(earlier, ignore_index=True)
    return table[table[VINTAGE] <= date].reset_index(drop=True)


def stack_backtest(
    stacks: Sequence[OriginStack], horizons: Sequence[int], families: Sequence[str]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Score the stacked forecast of every origin with leave-future-out weights.

    Returns
    -------
    tuple of pandas.DataFrame
        The stacked model's scores (the columns of every model's scores, ``model`` =
        :data:`forecast.evaluation.stacking.STACKED`) and the weights each origin used
        (``origin, family, horizon, cells, basis`` and one column per component).
    """
    scores, weights = [], []
    for stack in sorted(stacks, key=lambda s: int(s.cells[ORIGIN].iloc[0]) if len(s.cells) else 0):
        if not len(stack.cells):
            continue
        origin = int(stack.cells[ORIGIN].iloc[0])
        table = learned_weights(training_cells(stacks, origin), horizons, families)
        weights.append(table.assign(**{ORIGIN: origin}))
        mixed = np.stack(
            [
                mix_draws(
                    [d[row] for d in stack.draws],
                    weights_for(table, str(cell[INDICATOR]), int(cell[HORIZON])),
                )
                for row, cell in enumerate(stack.cells.to_dict("records"))
            ]
        )
        cells = stack.cells[[*CELL_COLUMNS, OBSERVED, SCALE]].copy()
        cells.insert(len(CELL_COLUMNS), MODEL, STACKED)
        scored = ensemble_scores(cells[OBSERVED].to_numpy(dtype=float), mixed)
        scores.append(pd.concat([cells.reset_index(drop=True), scored], axis=1))
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
