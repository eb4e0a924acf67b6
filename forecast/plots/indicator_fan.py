"""Fan charts of one state's indicators on their natural scale, history and horizon, with data."""

from __future__ import annotations

import textwrap
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import xarray as xr

from forecast.data.codebook import Indicator
from forecast.dims import INDICATOR, INDICATOR_VAR, POLES, STATE
from forecast.plots.fan import (
    draw_fan,
    draw_observed,
    last_fitted,
    legend_handles,
    mark_horizon,
    nowcast_until,
    period_span,
    set_value_axis,
    variable_bands,
    with_note,
)
from forecast.plots.labels import indicator_label, pole_title, state_label, value_scale
from forecast.plots.observed import observed_series
from forecast.plots.style import (
    OTHER_COLOR,
    PAGE_WIDTH,
    new_figure,
    plot_style,
    pole_color,
    prune_grid,
)

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

#: column of indicators whose pole the codebook does not give
OTHER = "other"


def _columns(
    indicators: Sequence[str], codebook: Mapping[str, Indicator] | None
) -> dict[str, list[str]]:
    """Group indicators by pole (columns in the order of ``POLES``, then ``other``)."""
    pole_of = {k: codebook[k].pole if codebook and k in codebook else OTHER for k in indicators}
    order = [*POLES, *sorted({p for p in pole_of.values() if p not in POLES})]
    groups = {p: [k for k in indicators if pole_of[k] == p] for p in order}
    return {p: keys for p, keys in groups.items() if keys}


def _head_column(ax: Axes, pole: str, color: str) -> None:
    """Name a column's pole above its top panel (above that panel's own title)."""
    ax.annotate(
        pole_title(pole),
        xy=(0.5, 1),
        xycoords="axes fraction",
        xytext=(0, 24),
        textcoords="offset points",
        ha="center",
        va="bottom",
        fontsize=11,
        fontweight="bold",
        color=color,
    )


def plot_indicator_fans(
    forecast: xr.Dataset,
    state: str,
    *,
    panel: pd.DataFrame | None = None,
    indicators: Sequence[str] | None = None,
    codebook: Mapping[str, Indicator] | None = None,
) -> Figure:
    """Fan charts of one state's indicators, one column per pole, with observed values.

    Parameters
    ----------
    forecast
        A forecast Dataset whose ``indicators`` variable holds draws
        ``(chain, draw, state, indicator, period)`` on the natural scale, or precomputed
        quantiles (a ``quantile`` dimension with levels 0.05, 0.25, 0.5, 0.75, 0.95).
    state
        The state's code.
    panel
        The tidy panel (``state``, ``indicator``, ``period``, ``value``) whose values are
        drawn as points (default: none).
    indicators
        Indicators to show (default: all of the forecast's).
    codebook
        Titles, units and poles of the indicators (default: keys, one grey column).

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> da = xr.DataArray(np.full((1, 4, 1, 2, 2), 0.5), dims=("chain", "draw", "state",
    ...     "indicator", "period"), coords={"state": ["KAZ"], "indicator": ["a", "b"],
    ...     "period": ["2020", "2021"]})
    >>> len(plot_indicator_fans(xr.Dataset({"indicators": da}), "KAZ").axes)
    2
    """
    bands = variable_bands(forecast, INDICATOR_VAR)
    if state not in bands[STATE].values:
        raise ValueError(f"no state {state!r} in the forecast")
    keys = [str(k) for k in bands[INDICATOR].values] if indicators is None else list(indicators)
    columns = _columns(keys, codebook)
    nrows = max(len(v) for v in columns.values())
    ncols = len(columns)
    last = last_fitted(forecast)
    first, end = period_span(bands)
    with plot_style():
        fig = new_figure(min(PAGE_WIDTH, 3.0 * ncols + 0.3), 1.85 * nrows + 1.2)
        grid = fig.subplots(nrows, ncols, sharex=True, squeeze=False)
        used = np.zeros(grid.shape, dtype=bool)
        for j, (pole, members) in enumerate(columns.items()):
            color = pole_color(pole) if pole in POLES else OTHER_COLOR
            for i, key in enumerate(members):
                used[i, j] = True
                ax = grid[i, j]
                mark_horizon(ax, last, end, label=i == 0, nowcast=nowcast_until(forecast))
                draw_fan(ax, bands.sel({STATE: state, INDICATOR: key}), color)
                if panel is not None:
                    observed = observed_series(panel, state, key)
                    draw_observed(ax, observed["period"].tolist(), observed["value"].to_numpy())
                set_value_axis(ax, value_scale(key, codebook))
                ax.set_title(
                    textwrap.fill(indicator_label(key, codebook), 38), fontsize=8.5, color=color
                )
            if pole in POLES:
                _head_column(grid[0, j], pole, color)
        prune_grid(fig, grid, used)
        fig.suptitle(with_note(f"{state_label(state)}: indicators, {first}–{end}", forecast.attrs))
        fig.legend(
            handles=legend_handles(OTHER_COLOR, last, observed=panel is not None),
            loc="outside lower center",
            ncols=5,
        )
    return fig
