"""Data coverage map: which state and indicator series have values in which years."""

from __future__ import annotations

import textwrap
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from forecast.data.codebook import Indicator
from forecast.dims import INDICATOR, PERIOD, POLES, STATE
from forecast.periods import PER_YEAR, frequency_of, parse_period
from forecast.plots.labels import indicator_label, state_label
from forecast.plots.observed import check_panel
from forecast.plots.style import (
    NEUTRAL_COLOR,
    OTHER_COLOR,
    PAGE_WIDTH,
    new_figure,
    plot_style,
    pole_color,
)

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

#: colour of a year without any value
MISSING_COLOR = "#F0F0F0"


def coverage_grid(panel: pd.DataFrame) -> pd.DataFrame:
    """Share of each year's periods that have a value, per state and indicator series.

    A yearly value fills its year (1.0); three quarters of a quarterly series fill 0.75.

    Returns
    -------
    pandas.DataFrame
        Index ``(state, indicator)``, one integer column per year from the first to the last
        year of the panel, values in [0, 1].

    Examples
    --------
    >>> p = pd.DataFrame({"state": ["KAZ"] * 3, "indicator": ["a", "a", "q"],
    ...                   "period": ["2000", "2002", "2001Q3"], "value": [1.0, 2.0, 3.0]})
    >>> print(coverage_grid(p))  # doctest: +NORMALIZE_WHITESPACE
                     2000  2001  2002
    state indicator
    KAZ   a           1.0  0.00   1.0
          q           0.0  0.25   0.0
    """
    check_panel(panel)
    rows = panel[panel["value"].notna()]
    periods = [parse_period(str(p)) for p in rows[PERIOD]]
    frame = pd.DataFrame(
        {
            STATE: rows[STATE].astype(str).to_numpy(),
            INDICATOR: rows[INDICATOR].astype(str).to_numpy(),
            "year": [p.year for p in periods],
            "weight": [1.0 / PER_YEAR[frequency_of(p)] for p in periods],
        }
    )
    grid = frame.pivot_table(
        index=[STATE, INDICATOR], columns="year", values="weight", aggfunc="sum", fill_value=0.0
    )
    years = range(int(frame["year"].min()), int(frame["year"].max()) + 1)
    grid = grid.reindex(columns=list(years), fill_value=0.0).clip(upper=1.0)
    grid.columns.name = None
    return grid.astype(float)


def _blend(color: str, share: np.ndarray) -> np.ndarray:
    """RGBA cells fading from the missing colour (share 0) to ``color`` (share 1)."""
    from matplotlib.colors import to_rgba

    full = np.array(to_rgba(color))
    empty = np.array(to_rgba(MISSING_COLOR))
    return empty + (full - empty) * share[..., None]


def _subset(
    panel: pd.DataFrame, states: Sequence[str] | None, indicators: Sequence[str] | None
) -> pd.DataFrame:
    """Return the panel rows of the requested states and indicators (all by default)."""
    if indicators is not None:
        panel = panel[panel[INDICATOR].isin(list(indicators))]
    if states is not None:
        panel = panel[panel[STATE].isin(list(states))]
    if panel.empty:
        raise ValueError("no panel rows for the requested states and indicators")
    return panel


def _row_keys(
    grid: pd.DataFrame,
    codebook: Mapping[str, Indicator] | None,
    indicators: Sequence[str] | None,
) -> list[str]:
    """Return the indicator rows of each block: as requested, else codebook order then the rest."""
    if indicators is not None:
        return list(indicators)
    present = set(grid.index.get_level_values(INDICATOR))
    known = [k for k in (codebook or {}) if k in present]
    return known + sorted(present - set(known))


def _row_colors(keys: Sequence[str], codebook: Mapping[str, Indicator] | None) -> list[str]:
    """Return each row's colour: its indicator's pole, or grey when the pole is unknown."""
    return [
        pole_color(codebook[k].pole)
        if codebook and k in codebook and codebook[k].pole in POLES
        else OTHER_COLOR
        for k in keys
    ]


def _state_shares(grid: pd.DataFrame, state: str, keys: Sequence[str], n_years: int) -> np.ndarray:
    """Return one state's coverage shares, ``(len(keys), n_years)``, zero where it has no series."""
    shares = np.zeros((len(keys), n_years))
    for row, key in enumerate(keys):
        if (state, key) in grid.index:
            # a full (state, indicator) key selects one row of the grid
            values = grid.loc[(state, key)]
            assert isinstance(values, pd.Series)
            shares[row] = values.to_numpy()
    return shares


def _draw_cells(ax: Axes, shares: np.ndarray, colors: Sequence[str], years: Sequence[int]) -> None:
    """Draw one state's block of cells, a row per indicator and a column per year."""
    cells = np.stack([_blend(c, shares[i]) for i, c in enumerate(colors)])
    n_rows = len(colors)
    ax.imshow(
        cells,
        aspect="auto",
        interpolation="nearest",
        extent=(years[0] - 0.5, years[-1] + 0.5, n_rows - 0.5, -0.5),
    )
    # thin white rules keep the rows of one pole apart
    ax.hlines(
        np.arange(0.5, n_rows - 1),
        years[0] - 0.5,
        years[-1] + 0.5,
        colors="white",
        linewidth=0.6,
    )


def _mark_data_end(ax: Axes, first_year: int, data_end: int, last_year: int) -> None:
    """Dash the end of the data and hatch the years after it, up to ``last_year``."""
    if last_year > data_end:
        ax.axvspan(
            data_end + 0.5,
            last_year + 0.5,
            facecolor="white",
            edgecolor="#BBBBBB",
            hatch="///",
            linewidth=0,
        )
    ax.axvline(data_end + 0.5, color=NEUTRAL_COLOR, linestyle="--", linewidth=1.0)
    ax.set_xlim(first_year - 0.5, last_year + 0.5)


def _label_rows(
    ax: Axes,
    keys: Sequence[str],
    colors: Sequence[str],
    codebook: Mapping[str, Indicator] | None,
) -> None:
    """Name each row by its indicator, in its row's colour, without tick marks or grid."""
    ax.set_yticks(range(len(keys)))
    ax.set_yticklabels(
        [textwrap.shorten(indicator_label(k, codebook), 48) for k in keys], fontsize=7
    )
    for tick, color in zip(ax.get_yticklabels(), colors, strict=True):
        tick.set_color(color)
    ax.tick_params(axis="y", length=0)
    ax.grid(False)


def _annotate_data_end(top: Axes, data_end: int, last_year: int) -> None:
    """Name the data end, and the hatched years after it, above the top panel."""
    later = last_year > data_end
    top.annotate(
        f"data end ({data_end})",
        xy=(data_end + 0.5, 1.0),
        xycoords=("data", "axes fraction"),
        xytext=(0, 4),
        textcoords="offset points",
        ha="right" if later else "center",
        va="bottom",
        fontsize=8,
        color=NEUTRAL_COLOR,
    )
    if later:
        top.annotate(
            "no data yet",
            xy=((data_end + last_year + 1) / 2, 1.0),
            xycoords=("data", "axes fraction"),
            xytext=(0, 4),
            textcoords="offset points",
            ha="center",
            va="bottom",
            fontsize=8,
            color=NEUTRAL_COLOR,
            style="italic",
        )


def plot_data_coverage(
    panel: pd.DataFrame,
    *,
    codebook: Mapping[str, Indicator] | None = None,
    states: Sequence[str] | None = None,
    indicators: Sequence[str] | None = None,
    as_of: int | None = None,
    title: str | None = None,
) -> Figure:
    """Heat map of the panel: one block of indicator rows per state, one column per year.

    Filled cells have a value (coloured by the indicator's pole); pale cells have none. A
    dashed line marks the end of the data, and with ``as_of`` the years since then are
    hatched as "no data yet", so stale data are obvious.

    Parameters
    ----------
    panel
        The tidy panel (columns ``state``, ``indicator``, ``period``, ``value``).
    codebook
        Indicator titles and poles (default: keys, grey cells).
    states, indicators
        Subsets to show, in order (default: all in the panel; indicators in codebook order).
    as_of
        The current year: the axis extends to it.
    title
        Figure title.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> p = pd.DataFrame({"state": ["KAZ", "UZB"], "indicator": ["a", "a"],
    ...                   "period": ["2000", "2001"], "value": [1.0, 2.0]})
    >>> len(plot_data_coverage(p, as_of=2003).axes)
    2
    """
    check_panel(panel)
    panel = _subset(panel, states, indicators)
    grid = coverage_grid(panel)
    present_states = list(dict.fromkeys(grid.index.get_level_values(STATE)))
    shown_states = present_states if states is None else list(states)
    keys = _row_keys(grid, codebook, indicators)
    years = [int(y) for y in grid.columns]
    data_end = max(years)
    last_year = max(data_end, as_of or data_end)
    colors = _row_colors(keys, codebook)
    with plot_style():
        fig = new_figure(
            PAGE_WIDTH, 0.17 * len(keys) * len(shown_states) + 0.45 * len(shown_states) + 1.2
        )
        axes = fig.subplots(len(shown_states), 1, sharex=True, squeeze=False)[:, 0]
        for ax, state in zip(axes, shown_states, strict=True):
            _draw_cells(ax, _state_shares(grid, state, keys, len(years)), colors, years)
            _mark_data_end(ax, years[0], data_end, last_year)
            _label_rows(ax, keys, colors, codebook)
            ax.set_title(state_label(state), loc="left")
        _annotate_data_end(axes[0], data_end, last_year)
        fig.suptitle(title or f"Data coverage by state, indicator and year ({years[0]}–{data_end})")
        fig.supxlabel("filled cell: a value is available; pale cell: none", fontsize=8.5)
    return fig
