"""What-if comparison: each target's probability under a what-if against the baseline."""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from forecast.dims import WHATIF
from forecast.plots.fan import percent_text
from forecast.plots.style import (
    NEUTRAL_COLOR,
    OBSERVED_COLOR,
    PAGE_WIDTH,
    new_figure,
    plot_style,
    prune_grid,
)
from forecast.plots.tables import check_columns
from forecast.rounding import points_change

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D

#: columns :func:`plot_whatif_comparison` reads (``whatif_title`` is optional)
WHATIF_COLUMNS = (WHATIF, "target", "title", "baseline", "probability")

#: marker colour of the probability under the what-if (not a pole colour)
WHATIF_COLOR = "#CC79A7"


def plot_whatif_comparison(
    table: pd.DataFrame, *, title: str | None = None, ncols: int = 2
) -> Figure:
    """Dot-and-arrow chart: baseline probability to probability under each what-if.

    Small multiples, one panel per what-if, ``ncols`` to a row, so that the figure keeps the
    width of a page (:data:`~forecast.plots.style.PAGE_WIDTH`) however many what-ifs there
    are: rows are added, not columns. Each arrow is labelled with its change in percentage
    points, the difference of the whole percentages (:func:`forecast.rounding.points_change`).

    Parameters
    ----------
    table
        One row per (what-if, target) with columns ``whatif`` (id), ``target`` (a scenario
        or question id), ``title`` (the target in plain words), ``baseline`` and
        ``probability`` (both in [0, 1]); an optional ``whatif_title`` names the what-if in
        plain words. Targets are drawn in order of first appearance.
    title
        Figure title.
    ncols
        Panels per row.

    Returns
    -------
    matplotlib.figure.Figure
        One panel per what-if, sharing the target axis.

    Examples
    --------
    >>> t = pd.DataFrame({"whatif": ["sanctions"] * 2, "target": ["a", "b"],
    ...                   "title": ["A rises", "B falls"], "baseline": [0.4, 0.5],
    ...                   "probability": [0.6, 0.45]})
    >>> len(plot_whatif_comparison(t).axes)
    1
    """
    check_columns(table, WHATIF_COLUMNS, "what-if")
    whatifs = list(dict.fromkeys(table[WHATIF].astype(str)))
    targets = list(dict.fromkeys(table["target"].astype(str)))
    titles = dict(zip(table["target"].astype(str), table["title"].astype(str), strict=False))
    names = (
        dict(zip(table[WHATIF].astype(str), table["whatif_title"].astype(str), strict=False))
        if "whatif_title" in table.columns
        else {}
    )
    cols = max(1, min(ncols, len(whatifs)))
    rows = -(-len(whatifs) // cols)
    with plot_style():
        fig = new_figure(PAGE_WIDTH, rows * (0.34 * len(targets) + 1.0) + 0.9)
        grid = fig.subplots(rows, cols, sharex=True, sharey=True, squeeze=False)
        used = np.zeros(grid.shape, dtype=bool)
        for position, whatif in enumerate(whatifs):
            ax = grid.flat[position]
            used.flat[position] = True
            pairs = _target_pairs(table, whatif)
            for y, target in enumerate(targets):
                if target in pairs:
                    _arrow(ax, y, *pairs[target])
            ax.set_title(textwrap.fill(names.get(whatif, whatif.replace("_", " ")), 42), loc="left")
            ax.grid(axis="y", visible=False)
        prune_grid(fig, grid, used)
        _set_axes(grid, [textwrap.fill(titles[t], 24) for t in targets])
        fig.legend(handles=_legend_handles(), loc="outside lower center", ncols=2)
        fig.suptitle(title or "How each what-if changes the probabilities")
    return fig


def _target_pairs(table: pd.DataFrame, whatif: str) -> dict[str, tuple[float, float]]:
    """Return each target's (baseline, probability under the what-if) for one what-if."""
    rows_of = table[table[WHATIF].astype(str) == whatif]
    return {
        str(t): (float(b), float(p))
        for t, b, p in zip(
            rows_of["target"], rows_of["baseline"], rows_of["probability"], strict=True
        )
    }


def _set_axes(grid: np.ndarray, labels: Sequence[str]) -> None:
    """Set the shared axes: percent ticks across, one row per target label, top first.

    The panels share both axes, so setting the first panel's limits and ticks sets all.
    """
    first = grid[0, 0]
    first.set_xlim(-0.03, 1.03)
    first.set_xticks(np.linspace(0, 1, 5))
    first.set_xticklabels([percent_text(v) for v in np.linspace(0, 1, 5)])
    first.set_yticks(range(len(labels)))
    first.set_yticklabels(list(labels))
    first.set_ylim(len(labels) - 0.5, -0.5)
    for ax in grid[:, 0]:
        ax.tick_params(axis="y", length=0)
    for ax in grid[-1]:
        ax.set_xlabel("probability")


def _legend_handles() -> list[Line2D]:
    """Return the legend's two markers: open for the baseline, filled under the what-if."""
    from matplotlib.lines import Line2D

    return [
        Line2D(
            [],
            [],
            marker="o",
            color="white",
            markeredgecolor=OBSERVED_COLOR,
            linewidth=0,
            label="baseline",
        ),
        Line2D([], [], marker="o", color=WHATIF_COLOR, linewidth=0, label="under the what-if"),
    ]


def _arrow(ax: Axes, y: float, base: float, new: float) -> None:
    """Draw one target's move from ``base`` to ``new`` on row ``y``, labelled in points."""
    ax.annotate(
        "",
        xy=(new, y),
        xytext=(base, y),
        arrowprops={
            "arrowstyle": "->",
            "color": NEUTRAL_COLOR,
            "lw": 1.1,
            "shrinkA": 3,
            "shrinkB": 4,
        },
    )
    ax.plot([base], [y], "o", color="white", markeredgecolor=OBSERVED_COLOR, markersize=6)
    ax.plot([new], [y], "o", color=WHATIF_COLOR, markersize=6)
    # the label sits beyond the arrow, on the side with room
    right = max(base, new) < 0.72
    ax.annotate(
        points_change(base, new),
        xy=(max(base, new) if right else min(base, new), y),
        xytext=(7 if right else -7, 0),
        textcoords="offset points",
        ha="left" if right else "right",
        va="center",
        fontsize=8,
        color=OBSERVED_COLOR,
    )
