"""What-if comparison: each target's probability under a what-if against the baseline."""

from __future__ import annotations

import textwrap
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from forecast.dims import WHATIF
from forecast.plots.fan import percent_text
from forecast.plots.style import NEUTRAL_COLOR, OBSERVED_COLOR, new_figure, plot_style
from forecast.plots.tables import check_columns

if TYPE_CHECKING:
    from matplotlib.figure import Figure

#: columns :func:`plot_whatif_comparison` reads (``whatif_title`` is optional)
WHATIF_COLUMNS = (WHATIF, "target", "title", "baseline", "probability")

#: marker colour of the probability under the what-if (not a pole colour)
WHATIF_COLOR = "#CC79A7"


def plot_whatif_comparison(table: pd.DataFrame, *, title: str | None = None) -> Figure:
    """Dot-and-arrow chart: baseline probability to probability under each what-if.

    Parameters
    ----------
    table
        One row per (what-if, target) with columns ``whatif`` (id), ``target`` (a scenario
        or question id), ``title`` (the target in plain words), ``baseline`` and
        ``probability`` (both in [0, 1]); an optional ``whatif_title`` names the what-if in
        plain words. Targets are drawn in order of first appearance.
    title
        Figure title.

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
    from matplotlib.lines import Line2D

    check_columns(table, WHATIF_COLUMNS, "what-if")
    whatifs = list(dict.fromkeys(table[WHATIF].astype(str)))
    targets = list(dict.fromkeys(table["target"].astype(str)))
    titles = dict(zip(table["target"].astype(str), table["title"].astype(str), strict=False))
    names = (
        dict(zip(table[WHATIF].astype(str), table["whatif_title"].astype(str), strict=False))
        if "whatif_title" in table.columns
        else {}
    )
    with plot_style():
        fig = new_figure(3.4 * len(whatifs) + 3.0, 0.42 * len(targets) + 1.7)
        axes = fig.subplots(1, len(whatifs), sharey=True, squeeze=False)[0]
        for ax, whatif in zip(axes, whatifs, strict=True):
            rows = table[table[WHATIF].astype(str) == whatif]
            pairs = dict(
                zip(
                    rows["target"].astype(str),
                    zip(
                        rows["baseline"].to_numpy(float),
                        rows["probability"].to_numpy(float),
                        strict=True,
                    ),
                    strict=True,
                )
            )
            for y, target in enumerate(targets):
                if target not in pairs:
                    continue
                base, new = (float(v) for v in pairs[target])
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
                ax.plot(
                    [base], [y], "o", color="white", markeredgecolor=OBSERVED_COLOR, markersize=6
                )
                ax.plot([new], [y], "o", color=WHATIF_COLOR, markersize=6)
                change = round((new - base) * 100)
                ax.annotate(
                    f"{change:+d} pts",
                    xy=(max(base, new), y),
                    xytext=(7, 0),
                    textcoords="offset points",
                    va="center",
                    fontsize=7.5,
                    color=NEUTRAL_COLOR,
                )
            ax.set_xlim(-0.02, 1.12)
            ax.set_xticks(np.linspace(0, 1, 5))
            ax.set_xticklabels([percent_text(v) for v in np.linspace(0, 1, 5)])
            ax.set_title(textwrap.fill(names.get(whatif, whatif.replace("_", " ")), 34), loc="left")
            ax.grid(axis="y", visible=False)
            ax.set_xlabel("probability")
        axes[0].set_yticks(range(len(targets)))
        axes[0].set_yticklabels([textwrap.fill(titles[t], 44) for t in targets])
        axes[0].set_ylim(len(targets) - 0.5, -0.5)
        axes[0].tick_params(axis="y", length=0)
        fig.legend(
            handles=[
                Line2D(
                    [],
                    [],
                    marker="o",
                    color="white",
                    markeredgecolor=OBSERVED_COLOR,
                    linewidth=0,
                    label="baseline",
                ),
                Line2D(
                    [], [], marker="o", color=WHATIF_COLOR, linewidth=0, label="under the what-if"
                ),
            ],
            loc="outside lower center",
            ncols=2,
        )
        fig.suptitle(title or "How each what-if changes the probabilities")
    return fig
