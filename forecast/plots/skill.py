"""Backtest skill by horizon against each baseline, and interval coverage by horizon."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from forecast.dims import HORIZON
from forecast.plots.fan import percent_text
from forecast.plots.style import NEUTRAL_COLOR, PAGE_WIDTH, new_figure, plot_style, series_color
from forecast.plots.tables import check_columns

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

#: columns of the skill table
SKILL_COLUMNS = (HORIZON, "baseline", "skill")
#: columns of the optional coverage table
COVERAGE_COLUMNS = (HORIZON, "level", "coverage")

_MARKERS = ("o", "s", "^", "D", "v", "P")


def coverage_long(coverage: pd.DataFrame) -> pd.DataFrame:
    """Return coverage as rows ``horizon, level, coverage``, from the long or the wide layout.

    The wide layout is the evaluation layer's: ``covered_50, covered_90, ...`` columns (one
    per level, in per cent) and, optionally, a ``model`` column holding a single model.

    Examples
    --------
    >>> wide = pd.DataFrame({"model": "m", "horizon": [1, 2], "covered_50": [0.4, 0.5],
    ...                      "covered_90": [0.8, 0.9]})
    >>> print(coverage_long(wide).to_string(index=False))
     horizon  level  coverage
           1    0.5       0.4
           2    0.5       0.5
           1    0.9       0.8
           2    0.9       0.9
    """
    if set(COVERAGE_COLUMNS) <= set(coverage.columns):
        return coverage
    wide = [c for c in coverage.columns if re.fullmatch(r"covered_[0-9]+", str(c))]
    if not wide or HORIZON not in coverage.columns:
        raise ValueError(
            f"the coverage table needs the columns {COVERAGE_COLUMNS} or horizon and covered_NN"
        )
    if "model" in coverage.columns and coverage["model"].nunique() > 1:
        raise ValueError("the coverage table holds several models: keep the rows of one")
    long = coverage.melt(
        id_vars=[HORIZON], value_vars=wide, var_name="level", value_name="coverage"
    )
    long["level"] = [int(str(c).split("_")[1]) / 100 for c in long["level"]]
    return long.loc[:, list(COVERAGE_COLUMNS)]


def _unique(table: pd.DataFrame, keys: list[str], what: str) -> None:
    if table.duplicated(subset=keys).any():
        raise ValueError(f"the {what} table has more than one row per {' and '.join(keys)}")


def _percent_axis(ax: Axes) -> None:
    from matplotlib.ticker import FuncFormatter

    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: percent_text(v)))


def _skill_panel(ax: Axes, skill: pd.DataFrame, step: str) -> None:
    for i, (baseline, rows) in enumerate(skill.groupby("baseline", sort=False)):
        rows = rows.sort_values(HORIZON)
        ax.plot(
            rows[HORIZON],
            rows["skill"],
            marker=_MARKERS[i % len(_MARKERS)],
            color=series_color(i),
            linewidth=1.6,
            markersize=5,
            label=f"against {str(baseline).replace('_', ' ')}",
        )
    ax.axhline(0, color=NEUTRAL_COLOR, linewidth=1.0)
    _percent_axis(ax)
    ax.set_title("Skill: CRPS improvement over each baseline", loc="left")
    ax.set_ylabel("CRPS skill (above 0: the model is better)")
    ax.set_xlabel(f"horizon ({step}s ahead)")
    ax.legend(loc="best")


def _coverage_panel(ax: Axes, coverage: pd.DataFrame, step: str) -> None:
    levels = np.unique(coverage["level"].to_numpy(dtype=float))
    for i, level in enumerate(levels.tolist()):
        rows = coverage[coverage["level"].to_numpy(dtype=float) == level].sort_values(HORIZON)
        color = series_color(i)
        ax.axhline(level, color=color, linewidth=0.9, linestyle="--")
        ax.plot(
            rows[HORIZON],
            rows["coverage"],
            marker=_MARKERS[i % len(_MARKERS)],
            color=color,
            linewidth=1.6,
            markersize=5,
            label=f"{percent_text(level)} interval",
        )
    _percent_axis(ax)
    ax.set_ylim(0, 1.02)
    ax.set_title("Coverage: outcomes inside each interval", loc="left")
    ax.set_ylabel("observed coverage (dashed: nominal)")
    ax.set_xlabel(f"horizon ({step}s ahead)")
    ax.legend(loc="lower left")


def plot_backtest_skill(
    skill: pd.DataFrame,
    coverage: pd.DataFrame | None = None,
    *,
    step: str = "year",
    title: str | None = None,
) -> Figure:
    """Backtest skill by horizon (and, optionally, interval coverage by horizon).

    Parameters
    ----------
    skill
        One row per (horizon, baseline) with columns ``horizon`` (periods ahead),
        ``baseline`` (name) and ``skill`` (CRPS skill score ``1 - CRPS_model /
        CRPS_baseline``; above zero the model beats the baseline).
    coverage
        Optional, one row per (horizon, level) with columns ``horizon``, ``level`` (nominal
        probability of the central interval, e.g. 0.5) and ``coverage`` (observed share of
        outcomes inside it); the wide layout of :func:`coverage_long` is accepted too.
    step
        The unit of the horizon, for the axis label.
    title
        Figure title.

    Returns
    -------
    matplotlib.figure.Figure
        One panel, or two with ``coverage``.

    Examples
    --------
    >>> s = pd.DataFrame({"horizon": [1, 2], "baseline": ["persistence"] * 2,
    ...                   "skill": [0.2, 0.1]})
    >>> c = pd.DataFrame({"horizon": [1, 2], "level": [0.5, 0.5], "coverage": [0.4, 0.5]})
    >>> len(plot_backtest_skill(s, c).axes)
    2
    """
    check_columns(skill, SKILL_COLUMNS, "skill")
    _unique(skill, [HORIZON, "baseline"], "skill")
    if coverage is not None:
        coverage = coverage_long(coverage)
        check_columns(coverage, COVERAGE_COLUMNS, "coverage")
        _unique(coverage, [HORIZON, "level"], "coverage")
    panels = 1 if coverage is None else 2
    with plot_style():
        fig = new_figure(min(PAGE_WIDTH, 4.6 * panels + 0.4), 3.8)
        axes = fig.subplots(1, panels, squeeze=False)[0]
        _skill_panel(axes[0], skill, step)
        if coverage is not None:
            _coverage_panel(axes[1], coverage, step)
        horizons = np.unique(skill[HORIZON].to_numpy())
        for ax in axes:
            ax.set_xticks(horizons)
        fig.suptitle(title or "Backtest: how the forecasts fared by horizon")
    return fig
