"""Posterior predictive check of one indicator: observed values against predictive bands."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import xarray as xr

from forecast.data.codebook import Indicator
from forecast.dims import INDICATOR, INDICATOR_VAR, PERIOD, STATE
from forecast.plots.fan import (
    draw_fan,
    draw_observed,
    last_fitted,
    legend_handles,
    mark_horizon,
    set_value_axis,
    variable_bands,
    with_note,
)
from forecast.plots.labels import (
    indicator_label,
    indicator_unit,
    period_x,
    state_label,
    value_scale,
)
from forecast.plots.observed import observed_series, outside_band
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


def _fitted_bands(forecast: xr.Dataset, indicator: str) -> tuple[xr.DataArray, str | None]:
    """Return one indicator's predictive bands over the fitted history, and its last period.

    Without ``attrs["last_fitted"]`` every period counts as fitted.
    """
    bands = variable_bands(forecast, INDICATOR_VAR)
    if indicator not in bands[INDICATOR].values:
        raise ValueError(f"no indicator {indicator!r} in the forecast")
    bands = bands.sel({INDICATOR: indicator})
    last = last_fitted(forecast)
    if last is not None:
        history = [str(p) for p in bands[PERIOD].values if period_x(str(p)) <= period_x(last)]
        bands = bands.sel({PERIOD: history})
    return bands, last


def _draw_state(
    ax: Axes,
    series: xr.DataArray,
    observed: pd.DataFrame,
    color: str,
    last: str | None,
    scale: str,
) -> None:
    """Draw one state's band and the observations it covers, counting those inside it.

    Observations outside the 90 % band are drawn as open circles.
    """
    covered = {str(p) for p in series[PERIOD].values}
    observed = observed[observed[PERIOD].isin(covered)]
    flags = outside_band(series, observed)
    draw_fan(ax, series, color)
    draw_observed(ax, observed[PERIOD].tolist(), observed["value"].to_numpy(), outside=flags)
    mark_horizon(ax, last, None, label=False)
    set_value_axis(ax, scale)
    inside = len(observed) - int(flags.sum())
    ax.set_title(
        f"{inside} of {len(observed)} inside 90 % interval" if len(observed) else "no observations",
        loc="right",
        fontsize=7.5,
        fontweight="normal",
    )


def plot_ppc(
    forecast: xr.Dataset,
    panel: pd.DataFrame,
    indicator: str,
    *,
    states: Sequence[str] | None = None,
    codebook: Mapping[str, Indicator] | None = None,
    ncols: int = 3,
) -> Figure:
    """Observed values of one indicator against the model's predictive bands, one panel per state.

    Only the fitted history is shown (periods up to ``attrs["last_fitted"]``). Observations
    outside the 90 % band are drawn as open circles, and each panel counts them.

    Parameters
    ----------
    forecast
        A forecast Dataset whose ``indicators`` variable holds draws
        ``(chain, draw, state, indicator, period)`` on the natural scale, or precomputed
        quantiles (a ``quantile`` dimension with levels 0.05, 0.25, 0.5, 0.75, 0.95).
    panel
        The tidy panel (columns ``state``, ``indicator``, ``period``, ``value``).
    indicator
        The indicator key.
    states
        States to show, in order (default: those of the forecast).
    codebook
        Titles, units and poles of the indicators (default: keys only, grey bands).
    ncols
        Panels per row.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import numpy as np
    >>> da = xr.DataArray(np.full((1, 4, 1, 1, 2), 0.5), dims=("chain", "draw", "state",
    ...     "indicator", "period"), coords={"state": ["KAZ"], "indicator": ["x_share"],
    ...     "period": ["2019", "2020"]})
    >>> p = pd.DataFrame({"state": ["KAZ"], "indicator": ["x_share"], "period": ["2020"],
    ...                   "value": [0.4]})
    >>> len(plot_ppc(xr.Dataset({"indicators": da}), p, "x_share").axes)
    1
    """
    bands, last = _fitted_bands(forecast, indicator)
    shown = [str(s) for s in bands[STATE].values] if states is None else list(states)
    color = (
        pole_color(codebook[indicator].pole)
        if codebook and indicator in codebook
        else (OTHER_COLOR)
    )
    scale = value_scale(indicator, codebook)
    ncols = max(1, min(ncols, len(shown)))
    nrows = math.ceil(len(shown) / ncols)
    with plot_style():
        fig = new_figure(min(PAGE_WIDTH, 3.0 * ncols + 0.5), 2.3 * nrows + 1.2)
        grid = fig.subplots(nrows, ncols, sharex=True, sharey=True, squeeze=False)
        prune_grid(fig, grid, np.arange(grid.size).reshape(grid.shape) < len(shown))
        for ax, state in zip(grid.ravel(), shown, strict=False):
            observed = observed_series(panel, state, indicator)
            _draw_state(ax, bands.sel({STATE: state}), observed, color, last, scale)
            ax.set_title(state_label(state), loc="left")
        fig.supylabel(indicator_unit(indicator, codebook), fontsize=9)
        fig.suptitle(
            with_note(
                f"{indicator_label(indicator, codebook)}: observed against predicted",
                forecast.attrs,
            )
        )
        fig.legend(
            handles=legend_handles(color, last, observed=True, outside=True),
            loc="outside lower center",
            ncols=3,
        )
    return fig
