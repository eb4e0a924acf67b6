"""The cells a backtest origin scores, and scoring a forecast's draws on them.

A cell is (origin, horizon, state, indicator, period): a value the full panel holds for a
period after the origin. Every model is scored on exactly the same cells
(:func:`common_cells`), so skill compares like with like.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr

from forecast.data.levels import is_level
from forecast.dims import HORIZON, INDICATOR, MODEL, ORIGIN, PERIOD, STATE
from forecast.evaluation.plan import BacktestPlan
from forecast.evaluation.scores import ensemble_scores
from forecast.evaluation.vintage import target_period

#: columns that identify a scored cell (the rest are scores)
CELL_COLUMNS = (ORIGIN, HORIZON, STATE, INDICATOR, PERIOD)

#: column of the value the full panel holds for a cell, and of its scale for aggregation
OBSERVED = "observed"
SCALE = "scale"
#: column of the date the cell's outcome became public (stacking trains on public outcomes)
VINTAGE = "vintage"


def outcome_cells(plan: BacktestPlan, origin: int) -> pd.DataFrame:
    """Cells an origin forecasts that the full panel settles: one row per cell.

    Binomial values resting on fewer than :data:`forecast.data.levels.MIN_TRIALS` trials
    settle nothing (see :mod:`forecast.data.levels`).

    Columns: ``origin, horizon, state, indicator, period, observed, vintage`` (when the
    outcome became public).
    """
    targets = {target_period(origin, h): h for h in plan.settings.horizons}
    # a UN year resting on a handful of roll calls is no outcome to score a level against
    rows = plan.panel[
        plan.panel[PERIOD].isin(targets)
        & plan.panel[STATE].isin(plan.states)
        & plan.panel[INDICATOR].isin(plan.indicators)
        & is_level(plan.panel)
    ]
    cells = pd.DataFrame(
        {
            ORIGIN: origin,
            HORIZON: rows[PERIOD].map(targets).astype(int).to_numpy(),
            STATE: rows[STATE].to_numpy(),
            INDICATOR: rows[INDICATOR].to_numpy(),
            PERIOD: rows[PERIOD].to_numpy(),
            OBSERVED: rows["value"].to_numpy(dtype=float),
            VINTAGE: rows["vintage"].astype(str).to_numpy(),
        }
    )
    return cells.sort_values([HORIZON, STATE, INDICATOR], ignore_index=True)


def cell_draws(forecast: xr.DataArray, cells: pd.DataFrame) -> np.ndarray:
    """Draws of ``forecast`` at each cell's (state, indicator, period): ``(n_cells, n_draws)``.

    Every dimension other than state, indicator and period counts as a sample dimension.
    A cell the forecast does not cover gets NaN draws.
    """
    sample = [d for d in forecast.dims if d not in (STATE, INDICATOR, PERIOD)]
    stacked = forecast.stack(_sample=sample).transpose(STATE, INDICATOR, PERIOD, "_sample")
    wanted = {dim: sorted(set(cells[dim])) for dim in (STATE, INDICATOR, PERIOD)}
    full = stacked.reindex(wanted)
    picked = full.sel(
        {dim: xr.DataArray(cells[dim].to_numpy(), dims="cell") for dim in wanted}
    ).transpose("cell", "_sample")
    return np.asarray(picked.values, dtype=float)


def score_cells(forecast: xr.DataArray, cells: pd.DataFrame, model: str) -> pd.DataFrame:
    """Score one model's forecast on ``cells``; cells it does not cover are dropped."""
    draws = cell_draws(forecast, cells)
    ok = np.isfinite(draws).all(axis=1)
    scores = ensemble_scores(cells[OBSERVED].to_numpy()[ok], draws[ok])
    kept = cells[ok].drop(columns=[VINTAGE], errors="ignore").reset_index(drop=True)
    kept.insert(len(CELL_COLUMNS), MODEL, model)
    return pd.concat([kept, scores], axis=1)


def sort_scores(scores: pd.DataFrame) -> pd.DataFrame:
    """Put scores in their canonical order: origin, horizon, state, indicator, model."""
    return scores.sort_values([ORIGIN, HORIZON, STATE, INDICATOR, MODEL], ignore_index=True)


def common_cells(scores: pd.DataFrame) -> pd.DataFrame:
    """Keep only the cells that every model in ``scores`` forecast."""
    n_models = scores[MODEL].nunique()
    counts = scores.groupby(list(CELL_COLUMNS))[MODEL].transform("nunique")
    return scores[counts == n_models].reset_index(drop=True)
