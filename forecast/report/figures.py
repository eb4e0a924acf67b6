"""The report's figures: results in, PNG bytes out (through :mod:`forecast.plots`)."""

from __future__ import annotations

import io
from collections.abc import Mapping
from typing import TYPE_CHECKING

import pandas as pd
import xarray as xr

from forecast.data.codebook import Indicator
from forecast.dims import INDICATOR, STATE
from forecast.report.contracts import BacktestFacts, Figure

if TYPE_CHECKING:
    from matplotlib.figure import Figure as MplFigure

#: resolution of the embedded PNGs: sharp on screen, small enough to embed; a figure of
#: :data:`~forecast.plots.style.PAGE_WIDTH` inches is then as wide as the page's column
REPORT_DPI = 110

#: the indicator whose predictive check the report shows (the Russia pole's reference)
PPC_INDICATOR = "trade_share_rus"


def png_bytes(fig: MplFigure, *, dpi: int = REPORT_DPI) -> bytes:
    r"""Render a matplotlib figure to PNG bytes and release it.

    Examples
    --------
    >>> from matplotlib.figure import Figure as F
    >>> fig = F(figsize=(2, 1))
    >>> _ = fig.subplots().plot([0, 1])
    >>> png_bytes(fig)[:4]
    b'\x89PNG'
    """
    import matplotlib.pyplot as plt

    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi)
    plt.close(fig)
    return buffer.getvalue()


def smallest_text_points(fig: MplFigure) -> float:
    """Return the font size, in points, of the smallest visible text of a drawn figure.

    Examples
    --------
    >>> from matplotlib.figure import Figure as F
    >>> fig = F(figsize=(2, 1))
    >>> ax = fig.subplots()
    >>> _ = ax.set_title("title", fontsize=12), ax.tick_params(labelsize=7)
    >>> fig.draw_without_rendering()
    >>> smallest_text_points(fig)
    7.0
    """
    from matplotlib.text import Text

    sizes = [
        float(text.get_fontsize())
        for text in fig.findobj(Text)
        if text.get_visible() and text.get_text().strip()
    ]
    return min(sizes, default=0.0)


def _figure(key: str, title: str, caption: str, fig: MplFigure) -> Figure:
    # lay the figure out once to measure the text as saved (tick labels exist only then)
    fig.draw_without_rendering()
    smallest = smallest_text_points(fig) * REPORT_DPI / 72
    return Figure(
        key=key, title=title, caption=caption, png=png_bytes(fig), alt=title, min_text_px=smallest
    )


def report_figures(
    *,
    posterior: xr.DataTree,
    bands: xr.Dataset,
    panel: pd.DataFrame,
    codebook: Mapping[str, Indicator],
    scenarios: pd.DataFrame,
    whatifs: pd.DataFrame | None,
    horizon: str,
    backtest: BacktestFacts | None = None,
) -> tuple[Figure, ...]:
    """Render every figure the report refers to.

    Parameters
    ----------
    posterior
        The run's posterior DataTree (convergence and forest).
    bands
        The forecast's quantile bands (:func:`forecast.plots.run_figures.forecast_bands`).
    panel
        The panel the run was fitted to.
    codebook
        Indicator titles and poles.
    scenarios
        ``ScenarioResult.table()`` with a ``partition_title`` column.
    whatifs
        ``WhatIfResult.table()``, or ``None`` without what-ifs.
    horizon
        The scenarios' horizon, for titles.
    backtest
        The backtest of the issued kind of forecast, if there is one.
    """
    indicators = [str(k) for k in bands[INDICATOR].values]
    ppc_key = PPC_INDICATOR if PPC_INDICATOR in indicators else indicators[0]
    figures = _outcome_figures(bands, scenarios, whatifs, horizon)
    figures += _model_figures(posterior, bands, panel, codebook, ppc_key)
    if backtest is not None:
        figures.append(_backtest_figure(backtest))
        if backtest.pit:
            figures += [_pit_figure(backtest), _reliability_figure(backtest)]
    return tuple(figures)


def _pit_figure(facts: BacktestFacts) -> Figure:
    """Render the backtest's PIT histogram (all horizons together)."""
    from forecast.plots import plot_pit_histogram
    from forecast.report.backtest import pit_values

    return _figure(
        "pit",
        "Backtest: where the outcomes fell inside the forecasts",
        "Probability integral transform of every value scored: the share of the forecast's "
        "draws below what happened. Calibrated forecasts give a flat histogram inside the "
        "grey band; a U shape means bands too narrow, a hump too wide, a slope a bias.",
        plot_pit_histogram(pit_values(facts.pit), n_bins=len(facts.pit)),
    )


def _reliability_figure(facts: BacktestFacts) -> Figure:
    """Render the backtest's reliability curve of quantile forecasts (all horizons together)."""
    from forecast.plots import plot_quantile_reliability
    from forecast.report.backtest import pit_reliability

    levels, below = pit_reliability(facts.pit)
    return _figure(
        "reliability",
        "Backtest: how often outcomes fell below each forecast quantile",
        "Each point: the forecasts' quantile at one level (10 %, 20 %, ...) and the share of "
        "outcomes that fell below it. Calibrated forecasts lie on the diagonal, inside the "
        "grey bars; points under it at low levels and over it at high levels mean bands "
        "wider than the outcomes needed.",
        plot_quantile_reliability(
            levels,
            below,
            cells=sum(facts.pit),
            title="Reliability of the backtest's quantile forecasts",
        ),
    )


def _backtest_figure(facts: BacktestFacts) -> Figure:
    """Render the backtest's skill and interval coverage by horizon."""
    from forecast.plots import plot_backtest_skill
    from forecast.report.backtest import figure_tables

    skill, coverage = figure_tables(facts)
    return _figure(
        "backtest",
        "Backtest: skill and interval coverage by horizon",
        "Left: CRPS skill against each baseline (above zero: better than the baseline). "
        "Right: share of later values inside the 50 % and 90 % intervals, against the "
        "nominal levels (dashed).",
        plot_backtest_skill(skill, None if coverage.empty else coverage),
    )


def _outcome_figures(
    bands: xr.Dataset, scenarios: pd.DataFrame, whatifs: pd.DataFrame | None, horizon: str
) -> list[Figure]:
    """Render the figures of what the forecast says: scenarios, fans and what-ifs (if any)."""
    from forecast.plots import (
        plot_alignment_fans,
        plot_scenario_probabilities,
        plot_whatif_comparison,
    )

    figures = [
        _figure(
            "scenarios",
            f"Scenario probabilities, {horizon}",
            "Bars: share of the simulated futures in which the scenario holds, most likely "
            "first; whiskers: ± two Monte Carlo standard errors (simulation noise).",
            plot_scenario_probabilities(scenarios, horizon=horizon),
        ),
        _figure(
            "alignment_fan",
            "Alignment by state and pole: history and forecast",
            "Line: posterior median; dark band 50 %, light band 90 % interval; the dashed line "
            "marks the last year with data, and the shaded years after it are projection.",
            plot_alignment_fans(bands),
        ),
    ]
    if whatifs is not None and not whatifs.empty:
        figures.append(
            _figure(
                "whatifs",
                "Probabilities under each what-if",
                "Open circle: probability in the baseline; filled circle and arrow head: under "
                "the what-if; label: the change in percentage points (the difference of the "
                "whole percentages). Outcomes from the most likely in the baseline down.",
                plot_whatif_comparison(whatifs),
            )
        )
    return figures


def _model_figures(
    posterior: xr.DataTree,
    bands: xr.Dataset,
    panel: pd.DataFrame,
    codebook: Mapping[str, Indicator],
    ppc_key: str,
) -> list[Figure]:
    """Render the figures of how far to trust the model: convergence, forest, check, data."""
    from forecast.plots import plot_convergence, plot_data_coverage, plot_forest, plot_ppc

    states = [str(s) for s in bands[STATE].values]
    indicators = [str(k) for k in bands[INDICATOR].values]
    ppc_title = codebook[ppc_key].title if ppc_key in codebook else ppc_key
    return [
        _figure(
            "convergence",
            "Rank plots of the dynamics' hyperparameters",
            "Each line is one chain: how far the distribution of its draws' ranks among all "
            "chains departs from uniform. Lines near zero and together mean the chains agree; "
            "black dots mark ranks where they disagree; each panel's p tests agreement on "
            "draws thinned to about independent ones (see the text below).",
            plot_convergence(posterior, codebook=codebook),
        ),
        _figure(
            "forest",
            "Loadings by indicator and drifts by state and pole",
            "Points: posterior medians; thick bars 50 %, thin bars 90 % intervals.",
            plot_forest(posterior, codebook=codebook),
        ),
        _figure(
            "ppc",
            f"Posterior predictive check: {ppc_title}",
            "Observed values (points) against the model's 50 % and 90 % predictive bands.",
            plot_ppc(bands, panel, ppc_key, codebook=codebook),
        ),
        _figure(
            "coverage",
            "Data coverage by state, indicator and year",
            "Coloured cells have a value (the colour is the indicator's pole); pale grey "
            "cells have none.",
            plot_data_coverage(panel, codebook=codebook, states=states, indicators=indicators),
        ),
    ]
