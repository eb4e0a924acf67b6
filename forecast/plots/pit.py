"""PIT histogram: where outcomes fell inside their predictive distributions."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import ArrayLike

from forecast.plots.fan import percent_text
from forecast.plots.style import NEUTRAL_COLOR, new_figure, plot_style, series_color

if TYPE_CHECKING:
    from matplotlib.figure import Figure

#: z value of the 95 % band of a flat histogram
_Z95 = 1.959964


def plot_pit_histogram(pit: ArrayLike, *, n_bins: int = 10, title: str | None = None) -> Figure:
    """Histogram of probability integral transform values with the flat reference.

    If the predictive distributions are calibrated, PIT values are uniform and the bars sit
    inside the grey band (95 % range of a flat histogram, normal approximation). A U shape
    means intervals too narrow; a hump, too wide; a slope, a bias.

    Parameters
    ----------
    pit
        PIT values in [0, 1] (NaNs are dropped).
    n_bins
        Number of equal-width bins.
    title
        Figure title.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> len(plot_pit_histogram(np.linspace(0, 1, 50)).axes)
    1
    """
    values = np.asarray(pit, dtype=float).ravel()
    values = values[np.isfinite(values)]
    if values.size == 0:
        raise ValueError("no PIT values")
    if np.any((values < 0) | (values > 1)):
        raise ValueError("PIT values must lie in [0, 1]")
    if n_bins < 1:
        raise ValueError("n_bins must be at least 1")
    half = _Z95 * np.sqrt((n_bins - 1) / values.size)
    with plot_style():
        fig = new_figure(5.2, 3.6)
        ax = fig.subplots()
        heights, _, _ = ax.hist(
            values,
            bins=np.linspace(0, 1, n_bins + 1).tolist(),
            density=True,
            color=series_color(0),
            alpha=0.55,
            edgecolor="white",
            linewidth=0.8,
            label="outcomes",
        )
        # the band is drawn over the bars so that it stays visible where they reach it
        low, high = max(0.0, 1 - half), 1 + half
        ax.axhspan(
            low,
            high,
            color="#7F7F7F",
            alpha=0.22,
            linewidth=0,
            zorder=3,
            label="95 % range if calibrated",
        )
        ax.axhline(
            1.0, color=NEUTRAL_COLOR, linestyle="--", linewidth=1.0, zorder=4, label="uniform"
        )
        ax.set_ylim(0, max(float(np.max(heights)), high) * 1.12)
        ax.set_xlim(0, 1)
        ax.set_xlabel("PIT: predictive probability of a value below the outcome")
        ax.set_ylabel("density")
        fig.legend(loc="outside lower center", ncols=3)
        fig.suptitle(title or f"Calibration of {values.size} predictive distributions (PIT)")
    return fig


def plot_quantile_reliability(
    levels: ArrayLike, below: ArrayLike, *, cells: int, title: str | None = None
) -> Figure:
    """Reliability curve of quantile forecasts: the share of outcomes below each quantile.

    A forecast's quantile at level ``tau`` says the outcome falls below it with probability
    ``tau``; for calibrated forecasts the share of outcomes that did lies on the diagonal,
    inside the grey bars (95 % range of a binomial share over ``cells`` outcomes). Points
    under the diagonal at low levels and over it at high levels mean intervals wider than
    the outcomes needed; the reverse, too narrow.

    Parameters
    ----------
    levels
        Quantile levels in (0, 1).
    below
        Share of outcomes at or below the forecasts' quantile at each level.
    cells
        Number of outcomes each share is taken over.
    title
        Figure title.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> fig = plot_quantile_reliability([0.1, 0.5, 0.9], [0.08, 0.5, 0.93], cells=200)
    >>> len(fig.axes)
    1
    """
    x = np.asarray(levels, dtype=float).ravel()
    y = np.asarray(below, dtype=float).ravel()
    if x.shape != y.shape or x.size == 0:
        raise ValueError(f"{x.size} levels but {y.size} shares")
    if np.any((x <= 0) | (x >= 1)) or np.any((y < 0) | (y > 1)):
        raise ValueError("levels must lie in (0, 1) and shares in [0, 1]")
    if cells < 1:
        raise ValueError("cells must be at least 1")
    half = _Z95 * np.sqrt(x * (1 - x) / cells)
    with plot_style():
        fig = new_figure(4.8, 4.4)
        ax = fig.subplots()
        ax.plot(
            [0, 1], [0, 1], color=NEUTRAL_COLOR, linestyle="--", linewidth=0.9, label="calibrated"
        )
        ax.vlines(
            x, x - half, x + half, color="#BBBBBB", linewidth=6, label="95 % range if calibrated"
        )
        ax.plot(x, y, marker="o", color=series_color(0), linewidth=1.4, label="forecasts")
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1)
        ticks = [0.0, 0.25, 0.5, 0.75, 1.0]
        ax.set_xticks(ticks, [percent_text(t) for t in ticks])
        ax.set_yticks(ticks, [percent_text(t) for t in ticks])
        ax.set_xlabel("quantile level of the forecast")
        ax.set_ylabel("share of outcomes below that quantile")
        ax.legend(loc="upper left")
        fig.suptitle(title or f"Reliability of quantile forecasts ({cells} outcomes)")
    return fig
