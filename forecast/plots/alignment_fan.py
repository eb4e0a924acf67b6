"""Fan charts of latent alignment per state and pole, over history and the forecast horizon."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import xarray as xr

from forecast.dims import ALIGNMENT_VAR, POLE, STATE
from forecast.plots.fan import (
    draw_fan,
    last_fitted,
    legend_handles,
    mark_horizon,
    nowcast_until,
    period_span,
    variable_bands,
    with_note,
)
from forecast.plots.labels import ALIGNMENT_UNIT, pole_label, state_label
from forecast.plots.style import (
    NEUTRAL_COLOR,
    OTHER_COLOR,
    PAGE_WIDTH,
    new_figure,
    plot_style,
    pole_color,
)

if TYPE_CHECKING:
    from matplotlib.figure import Figure


def _selection(bands: xr.DataArray, dim: str, wanted: Sequence[str] | None) -> list[str]:
    present = [str(v) for v in bands[dim].values]
    if wanted is None:
        return present
    unknown = [w for w in wanted if w not in present]
    if unknown:
        raise ValueError(f"no {dim} {', '.join(unknown)} in the forecast (has {present})")
    return list(wanted)


def plot_alignment_fans(
    forecast: xr.Dataset,
    *,
    states: Sequence[str] | None = None,
    poles: Sequence[str] | None = None,
    title: str | None = None,
) -> Figure:
    """Grid of fan charts: one row per state, one column per pole.

    Parameters
    ----------
    forecast
        A forecast Dataset whose ``alignment`` variable holds draws
        ``(chain, draw, state, pole, period)`` or precomputed quantiles (a ``quantile``
        dimension with levels 0.05, 0.25, 0.5, 0.75, 0.95). ``attrs["last_fitted"]`` marks
        where history ends.
    states, poles
        Subsets to show, in order (default: all).
    title
        Figure title (default: a plain description).

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import numpy as np
    >>> da = xr.DataArray(np.zeros((1, 4, 1, 1, 3)), dims=("chain", "draw", "state", "pole",
    ...     "period"), coords={"state": ["KAZ"], "pole": ["RUS"], "period": ["2019", "2020",
    ...     "2021"]})
    >>> fig = plot_alignment_fans(xr.Dataset({"alignment": da}, attrs={"last_fitted": "2020"}))
    >>> len(fig.axes)
    1
    """
    bands = variable_bands(forecast, ALIGNMENT_VAR)
    rows = _selection(bands, STATE, states)
    cols = _selection(bands, POLE, poles)
    last = last_fitted(forecast)
    first, end = period_span(bands)
    with plot_style():
        fig = new_figure(min(PAGE_WIDTH, 2.9 * len(cols) + 0.6), 1.75 * len(rows) + 1.3)
        axes = fig.subplots(len(rows), len(cols), sharex=True, sharey=True, squeeze=False)
        for i, state in enumerate(rows):
            for j, pole in enumerate(cols):
                ax = axes[i, j]
                mark_horizon(ax, last, end, label=i == 0, nowcast=nowcast_until(forecast))
                draw_fan(ax, bands.sel({STATE: state, POLE: pole}), pole_color(pole))
                ax.axhline(0, color=NEUTRAL_COLOR, linewidth=0.5, zorder=1)
                if i == 0:
                    ax.set_title(f"Alignment with {pole_label(pole)}", color=pole_color(pole))
                if j == 0:
                    ax.set_ylabel(state_label(state), fontweight="bold")
        fig.supylabel(ALIGNMENT_UNIT, fontsize=9)
        fig.suptitle(
            with_note(
                title or f"Alignment of each state with each pole, {first}–{end}", forecast.attrs
            )
        )
        fig.legend(
            handles=legend_handles(OTHER_COLOR, last, observed=False),
            loc="outside lower center",
            ncols=4,
        )
    return fig


def plot_alignment_fan(
    forecast: xr.Dataset,
    state: str,
    *,
    poles: Sequence[str] | None = None,
    title: str | None = None,
) -> Figure:
    """Fan charts of one state's alignment with each pole, side by side on a shared scale.

    Parameters
    ----------
    forecast
        As for :func:`plot_alignment_fans`.
    state
        The state's code (e.g. ``"KAZ"``).
    poles
        Poles to show, in order (default: all).
    title
        Figure title (default: the state's name).

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import numpy as np
    >>> da = xr.DataArray(np.zeros((1, 4, 1, 2, 2)), dims=("chain", "draw", "state", "pole",
    ...     "period"), coords={"state": ["KAZ"], "pole": ["RUS", "CHN"], "period": ["2020",
    ...     "2021"]})
    >>> len(plot_alignment_fan(xr.Dataset({"alignment": da}), "KAZ").axes)
    2
    """
    bands = variable_bands(forecast, ALIGNMENT_VAR)
    _selection(bands, STATE, [state])
    cols = _selection(bands, POLE, poles)
    last = last_fitted(forecast)
    first, end = period_span(bands)
    with plot_style():
        fig = new_figure(min(PAGE_WIDTH, 2.6 * len(cols) + 0.6), 3.1)
        axes = fig.subplots(1, len(cols), sharex=True, sharey=True, squeeze=False)[0]
        for j, pole in enumerate(cols):
            ax = axes[j]
            mark_horizon(ax, last, end, label=True, nowcast=nowcast_until(forecast))
            draw_fan(ax, bands.sel({STATE: state, POLE: pole}), pole_color(pole))
            ax.axhline(0, color=NEUTRAL_COLOR, linewidth=0.5, zorder=1)
            ax.set_title(f"with {pole_label(pole)}", color=pole_color(pole))
        axes[0].set_ylabel(ALIGNMENT_UNIT)
        fig.suptitle(
            with_note(
                title or f"{state_label(state)}: alignment with each pole, {first}–{end}",
                forecast.attrs,
            )
        )
        fig.legend(
            handles=legend_handles(OTHER_COLOR, last, observed=False),
            loc="outside lower center",
            ncols=4,
        )
    return fig
