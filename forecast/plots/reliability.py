"""Reliability diagram of event forecasts: forecast probability against observed frequency."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from forecast.plots.fan import percent_text
from forecast.plots.style import (
    NEUTRAL_COLOR,
    OBSERVED_COLOR,
    new_figure,
    plot_style,
    series_color,
)

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

#: columns of :func:`reliability_table`
RELIABILITY_COLUMNS = (
    "bin_low",
    "bin_high",
    "mean_forecast",
    "frequency",
    "count",
    "consistency_low",
    "consistency_high",
)

#: z value of the 95 % consistency band
_Z95 = 1.959964


def _events(forecasts: ArrayLike, outcomes: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    prob = np.asarray(forecasts, dtype=float).ravel()
    hit = np.asarray(outcomes, dtype=float).ravel()
    if prob.shape != hit.shape:
        raise ValueError(f"{prob.size} forecasts but {hit.size} outcomes")
    if prob.size == 0:
        raise ValueError("no event forecasts")
    if not np.all((prob >= 0) & (prob <= 1)):
        raise ValueError("forecast probabilities must lie in [0, 1]")
    if not np.all((hit == 0) | (hit == 1)):
        raise ValueError("outcomes must be 0 or 1")
    return prob, hit


def reliability_table(
    forecasts: ArrayLike, outcomes: ArrayLike, *, n_bins: int = 10
) -> pd.DataFrame:
    """Bin event forecasts by probability and compare with how often the events happened.

    Bins are equal-width on [0, 1] (the last includes 1); empty bins are dropped. The
    consistency band is where the observed frequency falls 95 % of the time if the forecasts
    are reliable (normal approximation to the binomial).

    Parameters
    ----------
    forecasts
        Forecast probabilities in [0, 1].
    outcomes
        What happened: 1 (the event occurred) or 0.
    n_bins
        Number of bins.

    Returns
    -------
    pandas.DataFrame
        Columns ``bin_low, bin_high, mean_forecast, frequency, count, consistency_low,
        consistency_high``, one row per non-empty bin.

    Examples
    --------
    >>> t = reliability_table([0.1, 0.15, 0.9, 1.0], [0, 1, 1, 1], n_bins=2)
    >>> print(t[["bin_low", "mean_forecast", "frequency", "count"]].to_string(index=False))
     bin_low  mean_forecast  frequency  count
         0.0          0.125        0.5      2
         0.5          0.950        1.0      2
    """
    if n_bins < 1:
        raise ValueError("n_bins must be at least 1")
    prob, hit = _events(forecasts, outcomes)
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    index = np.clip(np.searchsorted(edges, prob, side="right") - 1, 0, n_bins - 1)
    records = []
    for b in range(n_bins):
        inside = index == b
        n = int(inside.sum())
        if n == 0:
            continue
        p = float(prob[inside].mean())
        half = _Z95 * np.sqrt(p * (1 - p) / n)
        records.append(
            (
                float(edges[b]),
                float(edges[b + 1]),
                p,
                float(hit[inside].mean()),
                n,
                max(0.0, p - half),
                min(1.0, p + half),
            )
        )
    return pd.DataFrame.from_records(records, columns=list(RELIABILITY_COLUMNS))


def _draw_diagram(ax: Axes, table: pd.DataFrame, color: str) -> None:
    """Draw the observed frequency per bin over the diagonal and the 95 % consistency band."""
    ax.plot(
        [0, 1],
        [0, 1],
        color=NEUTRAL_COLOR,
        linewidth=0.9,
        linestyle="--",
        label="perfectly reliable",
    )
    ax.vlines(
        table["mean_forecast"],
        table["consistency_low"],
        table["consistency_high"],
        color="#BBBBBB",
        linewidth=5,
        label="95 % range if reliable",
    )
    ax.plot(
        table["mean_forecast"],
        table["frequency"],
        marker="o",
        color=color,
        markeredgecolor=OBSERVED_COLOR,
        markeredgewidth=0.6,
        linewidth=1.4,
        label="forecasts",
    )
    ax.set_xlim(0, 1)
    ax.set_ylim(-0.02, 1.02)
    ax.set_ylabel("how often the event happened")
    ax.legend(loc="upper left")


def _draw_counts(ax: Axes, table: pd.DataFrame, color: str) -> None:
    """Draw how many forecasts fall in each bin, a bar over each bin's probability range."""
    widths = table["bin_high"] - table["bin_low"]
    ax.bar(
        table["bin_low"],
        table["count"],
        width=widths * 0.9,
        align="edge",
        color=color,
        alpha=0.6,
    )
    ax.set_ylabel("forecasts")
    ax.set_xlabel("forecast probability")


def plot_reliability(
    forecasts: ArrayLike,
    outcomes: ArrayLike,
    *,
    n_bins: int = 10,
    title: str | None = None,
    ticks: Sequence[float] = (0.0, 0.25, 0.5, 0.75, 1.0),
) -> Figure:
    """Reliability diagram with a histogram of how many forecasts fall in each bin.

    Parameters
    ----------
    forecasts, outcomes, n_bins
        As for :func:`reliability_table`.
    title
        Figure title.
    ticks
        Probability ticks on both axes.

    Returns
    -------
    matplotlib.figure.Figure
        Two panels: the diagram and, below it, the forecasts per bin.

    Examples
    --------
    >>> len(plot_reliability([0.1, 0.4, 0.8], [0, 1, 1], n_bins=5).axes)
    2
    """
    table = reliability_table(forecasts, outcomes, n_bins=n_bins)
    color = series_color(0)
    with plot_style():
        fig = new_figure(4.6, 5.4)
        top, bottom = fig.subplots(2, 1, sharex=True, height_ratios=[3.2, 1])
        _draw_diagram(top, table, color)
        _draw_counts(bottom, table, color)
        for ax in (top, bottom):
            ax.set_xticks(list(ticks))
            ax.set_xticklabels([percent_text(t) for t in ticks])
        top.set_yticks(list(ticks))
        top.set_yticklabels([percent_text(t) for t in ticks])
        fig.suptitle(title or f"Reliability of {int(table['count'].sum())} event forecasts")
    return fig
