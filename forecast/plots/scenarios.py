"""Scenario probabilities with their Monte Carlo uncertainty, one panel per partition."""

from __future__ import annotations

import textwrap
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from forecast.dims import PARTITION, SCENARIO
from forecast.plots.fan import percent_text
from forecast.plots.style import NEUTRAL_COLOR, OBSERVED_COLOR, new_figure, plot_style
from forecast.plots.tables import check_columns

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

#: columns :func:`plot_scenario_probabilities` reads
SCENARIO_COLUMNS = (PARTITION, SCENARIO, "title", "probability", "mcse")

#: bar colour (not a pole colour: scenarios are not poles)
BAR_COLOR = "#56B4E9"


def _draw_partition(ax: Axes, rows: pd.DataFrame) -> None:
    """Draw one partition's bars, ±2 MCSE whiskers and percentages, first row on top."""
    prob = rows["probability"].to_numpy(float)
    err = 2 * rows["mcse"].to_numpy(float)
    y = np.arange(len(rows))
    ax.barh(y, prob, height=0.62, color=BAR_COLOR)
    ax.errorbar(prob, y, xerr=err, fmt="none", ecolor=OBSERVED_COLOR, elinewidth=1.0, capsize=2.5)
    for yi, p, e in zip(y, prob, err, strict=True):
        # the label sits past the whisker, so that it never covers it
        ax.annotate(
            percent_text(round(p, 2)),
            xy=(min(p + e, 1.0), yi),
            xytext=(4, 0),
            textcoords="offset points",
            va="center",
            fontsize=8,
        )
    ax.set_yticks(y)
    ax.set_yticklabels([textwrap.fill(str(t), 46) for t in rows["title"]])
    ax.set_ylim(len(rows) - 0.5, -0.5)
    ax.tick_params(axis="y", length=0)
    ax.grid(axis="y", visible=False)


def _set_probability_axis(ax: Axes) -> None:
    """Label the shared probability axis in percent, with room right of 100 % for a label."""
    from matplotlib.ticker import FixedLocator, FuncFormatter

    ax.set_xlim(0, 1.08)
    ax.xaxis.set_major_locator(FixedLocator(np.linspace(0, 1, 6).tolist()))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: percent_text(v)))
    ax.set_xlabel("probability (bars: estimate; whiskers: ±2 Monte Carlo standard errors)")


def plot_scenario_probabilities(
    table: pd.DataFrame, *, title: str | None = None, horizon: str | None = None
) -> Figure:
    """Horizontal bars of scenario probabilities with ±2 Monte Carlo standard errors.

    Parameters
    ----------
    table
        One row per scenario with columns ``partition`` (the group of mutually exclusive
        scenarios; empty for a question outside any partition), ``scenario`` (id),
        ``title`` (plain words), ``probability`` and ``mcse`` (both in [0, 1]); an optional
        ``partition_title`` names the partitions in plain words. Partitions and scenarios
        are drawn in table order (the scenario layer's ``ScenarioResult.table()`` fits).
    title
        Figure title.
    horizon
        The period the scenarios describe, for the default title.

    Returns
    -------
    matplotlib.figure.Figure
        One panel per partition.

    Examples
    --------
    >>> t = pd.DataFrame({"partition": ["p", "p"], "scenario": ["a", "b"],
    ...                   "title": ["A rises", "A falls"], "probability": [0.7, 0.3],
    ...                   "mcse": [0.01, 0.01]})
    >>> len(plot_scenario_probabilities(t).axes)
    1
    """
    check_columns(table, SCENARIO_COLUMNS, "scenario")
    # questions belong to no partition (an empty or missing id)
    groups = table[PARTITION].fillna("").astype(str)
    partitions = list(dict.fromkeys(groups))
    sizes = [int((groups == p).sum()) for p in partitions]
    names = (
        dict(zip(groups, table["partition_title"].fillna("").astype(str), strict=True))
        if "partition_title" in table.columns
        else {}
    )
    with plot_style():
        fig = new_figure(8.0, 0.36 * sum(sizes) + 0.55 * len(partitions) + 1.0)
        axes = fig.subplots(
            len(partitions), 1, sharex=True, squeeze=False, height_ratios=[s + 0.6 for s in sizes]
        )[:, 0]
        for ax, partition in zip(axes, partitions, strict=True):
            _draw_partition(ax, table[(groups == partition).to_numpy()])
            name = names.get(partition) or partition.replace("_", " ") or "Questions"
            ax.set_title(name, loc="left")
        _set_probability_axis(axes[-1])
        when = f" by {horizon}" if horizon else ""
        fig.suptitle(title or f"How likely is each scenario{when}?")
        for ax in axes:
            ax.axvline(0, color=NEUTRAL_COLOR, linewidth=0.6)
    return fig
