"""Forest plot of the measurement loadings and the states' drifts toward each pole."""

from __future__ import annotations

import textwrap
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np
import xarray as xr

from forecast.data.codebook import Indicator
from forecast.dims import INDICATOR, POLE, QUANTILE, STATE
from forecast.plots.bands import INTERVALS, quantile_bands
from forecast.plots.fan import with_note
from forecast.plots.labels import indicator_label, pole_title, state_label
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

_STEP_WORDS = {"Y": "year", "Q": "quarter", "M": "month"}
#: line widths of the 90 % and 50 % intervals
_WIDTHS = {0.9: 1.0, 0.5: 3.2}


def _group(tree: xr.DataTree, name: str) -> xr.Dataset | None:
    if name not in tree.children:
        return None
    node = tree[name]
    assert isinstance(node, xr.DataTree)
    return node.to_dataset()


def _interval(ax: Axes, y: float, q: xr.DataArray, color: str) -> None:
    """Draw the 90 % and 50 % intervals and the median of one parameter on row ``y``."""
    values = {float(level): float(v) for level, v in zip(q[QUANTILE].values, q.values, strict=True)}
    for prob, low, high in INTERVALS:
        ax.plot(
            [values[low], values[high]],
            [y, y],
            color=color,
            linewidth=_WIDTHS[prob],
            solid_capstyle="butt",
        )
    ax.plot(
        [values[0.5]],
        [y],
        marker="o",
        markersize=4.5,
        color="white",
        markeredgecolor=color,
        markeredgewidth=1.3,
    )


def _indicator_poles(
    keys: Sequence[str], constant: xr.Dataset | None, codebook: Mapping[str, Indicator] | None
) -> dict[str, str]:
    if constant is not None and "pole_of_indicator" in constant:
        poles = constant["pole_of_indicator"]
        return {k: str(poles.sel({INDICATOR: k}).values) for k in keys}
    return {k: codebook[k].pole if codebook and k in codebook else "" for k in keys}


def _reference(keys: Sequence[str], loading: xr.DataArray, constant: xr.Dataset | None) -> set[str]:
    if constant is not None and "is_reference" in constant:
        flags = constant["is_reference"]
        return {k for k in keys if int(flags.sel({INDICATOR: k}).values)}
    # without the design, a loading that never moves is the fixed one
    spread = loading.std(dim=[d for d in loading.dims if d != INDICATOR])
    return {k for k in keys if float(spread.sel({INDICATOR: k})) == 0.0}


def _loadings(
    ax: Axes,
    post: xr.Dataset,
    constant: xr.Dataset | None,
    codebook: Mapping[str, Indicator] | None,
) -> None:
    loading = post["loading"]
    keys = [str(k) for k in loading[INDICATOR].values]
    poles = _indicator_poles(keys, constant, codebook)
    fixed = _reference(keys, loading, constant)
    bands = quantile_bands(loading)
    for row, key in enumerate(keys):
        color = pole_color(poles[key]) if poles[key] else OTHER_COLOR
        if key in fixed:
            ax.plot(
                [1.0],
                [row],
                marker="D",
                markersize=4.5,
                color="white",
                markeredgecolor=color,
                markeredgewidth=1.3,
            )
            ax.annotate(
                "fixed at 1 (sets the scale)",
                xy=(1.0, row),
                xytext=(7, 0),
                textcoords="offset points",
                va="center",
                fontsize=7,
                color=NEUTRAL_COLOR,
            )
        else:
            _interval(ax, row, bands.sel({INDICATOR: key}), color)
    ax.set_yticks(range(len(keys)))
    ax.set_yticklabels(
        [textwrap.fill(indicator_label(k, codebook), 40) for k in keys], fontsize=7.5
    )
    for tick, key in zip(ax.get_yticklabels(), keys, strict=True):
        tick.set_color(pole_color(poles[key]) if poles[key] else OTHER_COLOR)
    ax.set_ylim(len(keys) - 0.5, -0.5)
    ax.set_xlim(left=0)
    ax.grid(axis="y", visible=False)
    # two-line titles and labels: the two panels share a page's width
    ax.set_title("Loadings: how strongly each\nindicator tracks alignment", loc="left")
    ax.set_xlabel("loading (indicator change per unit\nof alignment, model scale)")


def _drifts(ax: Axes, post: xr.Dataset, step: str) -> list[str]:
    drift = quantile_bands(post["drift"])
    states = [str(s) for s in drift[STATE].values]
    poles = [str(p) for p in drift[POLE].values]
    groups: list[tuple[str, xr.DataArray]] = []
    if "drift_mu" in post:
        groups.append(("Regional mean", quantile_bands(post["drift_mu"])))
    groups.extend((state_label(s), drift.sel({STATE: s})) for s in states)
    offsets = np.linspace(-0.25, 0.25, len(poles)) if len(poles) > 1 else np.zeros(1)
    for row, (_, q) in enumerate(groups):
        for offset, pole in zip(offsets, poles, strict=True):
            _interval(ax, row + offset, q.sel({POLE: pole}), pole_color(pole))
        if row:
            ax.axhline(row - 0.5, color="#E5E5E5", linewidth=0.6)
    ax.axvline(0, color=NEUTRAL_COLOR, linewidth=0.8, zorder=1)
    ax.set_yticks(range(len(groups)))
    ax.set_yticklabels([name for name, _ in groups])
    ax.set_ylim(len(groups) - 0.5, -0.5)
    ax.grid(axis="y", visible=False)
    ax.set_title("Drifts: trend of alignment\ntoward each pole", loc="left")
    ax.set_xlabel(f"drift (alignment units per {_STEP_WORDS.get(step, step)})")
    return poles


def plot_forest(
    posterior: xr.DataTree,
    *,
    codebook: Mapping[str, Indicator] | None = None,
    title: str | None = None,
) -> Figure:
    """Forest plot: loadings by indicator (left) and drifts by state and pole (right).

    Points are posterior medians, thick bars 50 % and thin bars 90 % equal-tailed intervals.

    Parameters
    ----------
    posterior
        A run's posterior DataTree: group ``posterior`` with ``loading (chain, draw,
        indicator)`` and ``drift (chain, draw, state, pole)`` (``drift_mu (chain, draw,
        pole)`` adds a row for the regional mean); group ``constant_data``, when present,
        gives each indicator's pole (``pole_of_indicator``), the fixed reference loadings
        (``is_reference``) and the model step (attribute ``step``).
    codebook
        Indicator titles (and poles when the posterior lacks them).
    title
        Figure title.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> post = xr.Dataset({
    ...     "loading": (("chain", "draw", "indicator"), rng.gamma(2.0, size=(1, 20, 2))),
    ...     "drift": (("chain", "draw", "state", "pole"), rng.normal(size=(1, 20, 1, 1)))},
    ...     coords={"indicator": ["a", "b"], "state": ["KAZ"], "pole": ["RUS"]})
    >>> len(plot_forest(xr.DataTree.from_dict({"posterior": post})).axes)
    2
    """
    post = _group(posterior, "posterior")
    if post is None or "loading" not in post or "drift" not in post:
        raise ValueError("the posterior needs variables 'loading' and 'drift'")
    constant = _group(posterior, "constant_data")
    step = str(constant.attrs.get("step", "Y")) if constant is not None else "Y"
    n_rows = max(post.sizes[INDICATOR], (post.sizes[STATE] + 1) * 1.5)
    with plot_style():
        fig = new_figure(PAGE_WIDTH, 0.3 * n_rows + 1.8)
        left, right = fig.subplots(1, 2, width_ratios=[1.15, 1.0])
        _loadings(left, post, constant, codebook)
        poles = _drifts(right, post, step)
        from matplotlib.lines import Line2D

        handles = [
            Line2D([], [], color=pole_color(p), linewidth=3, label=pole_title(p)) for p in poles
        ]
        handles += [
            Line2D([], [], color=OTHER_COLOR, linewidth=3.2, label="50 % interval"),
            Line2D([], [], color=OTHER_COLOR, linewidth=1.0, label="90 % interval"),
            Line2D(
                [],
                [],
                color="white",
                marker="o",
                markeredgecolor=OTHER_COLOR,
                linewidth=0,
                label="median",
            ),
        ]
        fig.legend(handles=handles, loc="outside lower center", ncols=len(handles))
        fig.suptitle(
            with_note(title or "What the model estimated: loadings and drifts", post.attrs)
        )
    return fig
