"""Convergence of the sampler: ArviZ rank (or trace) plots of a handful of key parameters."""

from __future__ import annotations

import re
import textwrap
from collections.abc import Hashable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import xarray as xr

from forecast.data.codebook import Indicator
from forecast.dims import POLES, SAMPLE_DIMS, STATE_NAMES
from forecast.plots.fan import with_note
from forecast.plots.labels import indicator_label, pole_title, state_label

if TYPE_CHECKING:
    from matplotlib.figure import Figure

#: parameters shown by default, in two figures of readable size
CONVERGENCE_GROUPS: Mapping[str, tuple[str, ...]] = {
    "dynamics": ("drift_mu", "volatility_log_mu", "drift_tau", "volatility_log_tau"),
    "measurement": ("loading", "noise", "concentration"),
}

#: plain names of the model's parameters
PARAMETER_NAMES: Mapping[str, str] = {
    "drift_mu": "Mean drift",
    "drift_tau": "Spread of drifts",
    "volatility_log_mu": "Mean log volatility",
    "volatility_log_tau": "Spread of log volatilities",
    "drift": "Drift",
    "volatility": "Volatility",
    "loading": "Loading",
    "noise": "Noise",
    "persistence": "Persistence",
    "concentration": "Concentration",
    "intercept_mu": "Mean intercept",
}

_KINDS = ("rank", "trace")


def _coord_text(value: str, codebook: Mapping[str, Indicator] | None) -> str:
    # coordinate values are unambiguous (pole, state and indicator codes do not overlap), so
    # the label does not depend on which dimension holds them
    if value in POLES:
        return pole_title(value)
    if value in STATE_NAMES:
        return state_label(value)
    return indicator_label(value, codebook)


def parameter_label(
    name: str, cell: Sequence[str], codebook: Mapping[str, Indicator] | None = None
) -> str:
    """Name a parameter cell in plain words, as the rank plots title their panels.

    Examples
    --------
    >>> parameter_label("drift_tau", ("RUS",))
    'Spread of drifts, Russia'
    """
    words = [PARAMETER_NAMES.get(name, name), *(_coord_text(str(c), codebook) for c in cell)]
    return ", ".join(words)


def parameter_draws(posterior: xr.DataTree, var_names: Sequence[str]) -> xr.Dataset:
    """Return the posterior draws of ``var_names``, without the cells that never move.

    A cell that never moves (a loading fixed at 1 for identification) says nothing about
    convergence and would break a rank plot, so it is left out. Variables the posterior lacks
    are skipped. A dimension two variables subset differently is renamed for the second.

    Examples
    --------
    >>> draws = np.random.default_rng(0).normal(size=(2, 10, 3))
    >>> draws[..., 0] = 1.0
    >>> post = xr.Dataset({"loading": (("chain", "draw", "indicator"), draws)},
    ...                   coords={"indicator": ["ref", "a", "b"]})
    >>> parameter_draws(xr.DataTree.from_dict({"posterior": post}), ["loading"]).sizes["indicator"]
    2
    """
    node = posterior["posterior"]
    assert isinstance(node, xr.DataTree)
    post = node.to_dataset()
    chosen: dict[str, xr.DataArray] = {}
    coords_used: dict[Hashable, list[object]] = {}
    for name in var_names:
        if name not in post:
            continue
        da = post[name]
        extra = [d for d in da.dims if d not in SAMPLE_DIMS]
        moving = (da.max(dim=SAMPLE_DIMS) > da.min(dim=SAMPLE_DIMS)) & da.notnull().all(SAMPLE_DIMS)
        for dim in extra:
            keep = moving.any(dim=[d for d in extra if d != dim]) if len(extra) > 1 else moving
            da = da.isel({dim: np.flatnonzero(keep.values)})
            values = list(da[dim].values)
            if dim in coords_used and coords_used[dim] != values:
                da = da.rename({dim: f"{name}_{dim}"})
            else:
                coords_used[dim] = values
        if (extra and da.size == 0) or (not extra and not bool(moving)):
            continue
        chosen[name] = da
    return xr.Dataset(chosen)


#: how ArviZ labels a rank panel's test ("p=0.42(α=0.01) ")
_ARVIZ_P = re.compile(r"^p=([\d.]+)\(α=[\d.]+\)\s*$")


def _agreement_text(p: float) -> str:
    """Return a rank panel's verdict on its chains, with the test's p-value."""
    from forecast.rank_check import RANK_ALPHA

    return f"chains agree, p = {p:.2f}" if p >= RANK_ALPHA else f"chains DIFFER, p = {p:.3f}"


def _reword_p_values(fig: Figure, p_values: Sequence[float]) -> None:
    """Replace ArviZ's "p=0.42(α=0.01)" by a verdict a reader takes in.

    arviz-plots 1.x draws the p-value text but does not let a caller word it, so the text is
    rewritten after drawing. ``p_values`` are the same test's unrounded values in panel order
    (:func:`forecast.rank_check.rank_check` on the same draws); the rounded value in
    the panel is the fallback should the orders ever differ.
    """
    texts = [
        (text, float(match.group(1)))
        for ax in fig.axes
        for text in ax.texts
        if (match := _ARVIZ_P.match(text.get_text()))
    ]
    exact = len(texts) == len(p_values) and all(
        round(p, 2) == shown for (_, shown), p in zip(texts, p_values, strict=True)
    )
    for index, (text, shown) in enumerate(texts):
        text.set_text(_agreement_text(p_values[index] if exact else shown))
        text.set_fontsize(8)


def _every(n: int) -> str:
    """Say which draws a thinning factor keeps.

    Examples
    --------
    >>> [_every(n) for n in (1, 2, 3, 4, 11, 22)]  # doctest: +NORMALIZE_WHITESPACE
    ['every draw', 'every 2nd draw', 'every 3rd draw', 'every 4th draw', 'every 11th draw',
     'every 22nd draw']
    """
    if n == 1:
        return "every draw"
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"every {n}{suffix} draw"


def _labeller(codebook: Mapping[str, Indicator] | None) -> Any:
    """Return an ArviZ labeller writing plain names, wrapped to fit a panel."""
    from arviz_base.labels import BaseLabeller

    class PlainLabeller(BaseLabeller):
        def var_name_to_str(self, var_name):
            return PARAMETER_NAMES.get(var_name, var_name)

        def dim_coord_to_str(self, dim, coord_val, coord_idx):
            return textwrap.fill(_coord_text(str(coord_val), codebook), 28)

    return PlainLabeller()


def _panel_count(draws: xr.Dataset) -> int:
    """Return how many panels the draws fill: one per cell of each variable."""
    return sum(
        int(np.prod([da.sizes[d] for d in da.dims if d not in SAMPLE_DIMS]))
        for da in draws.data_vars.values()
    )


def _draw_rank(
    draws: xr.Dataset, labeller: Any, cols: int, figure_kwargs: Mapping[str, Any]
) -> tuple[Figure, str, str]:
    """Draw ArviZ rank plots of thinned draws; return the figure, its subtitle and its note.

    The draws are thinned to about independent ones first: on every draw, autocorrelation
    alone makes the rank test fail on chains that agree.
    """
    import arviz_plots as azp

    from forecast.rank_check import RANK_ALPHA, rank_check, thinned, thinning_factor

    factor = thinning_factor(draws)
    kept = thinned(draws, factor)
    pc = azp.plot_rank(
        xr.DataTree.from_dict({"posterior": kept}),
        backend="matplotlib",
        labeller=labeller,
        col_wrap=cols,
        envelope_prob=1 - RANK_ALPHA,
        visuals={"xlabel": False},
        figure_kwargs=figure_kwargs,
    )
    _reword_p_values(pc.get_viz("figure"), rank_check(kept, thin=1).p_values)
    note = textwrap.fill(
        "fractional rank of each draw among all chains; lines near zero and together "
        "mean the chains agree, black dots mark where they disagree; p: test that the "
        f"chains agree, on {_every(factor)} ({kept.sizes['draw']} per chain, about "
        "independent)",
        110,
    )
    return pc.get_viz("figure"), "rank plots (one line per chain)", note


def _draw_trace(
    posterior: xr.DataTree,
    draws: xr.Dataset,
    labeller: Any,
    cols: int,
    figure_kwargs: Mapping[str, Any],
) -> tuple[Figure, str, str]:
    """Draw ArviZ trace plots of the draws; return the figure, its subtitle and its note."""
    import arviz_plots as azp

    groups = {"posterior": draws}
    if "sample_stats" in posterior.children:
        # the trace plot marks divergent transitions from it
        stats = posterior["sample_stats"]
        assert isinstance(stats, xr.DataTree)
        groups["sample_stats"] = stats.to_dataset()
    pc = azp.plot_trace(
        xr.DataTree.from_dict(groups),
        backend="matplotlib",
        labeller=labeller,
        col_wrap=cols,
        visuals={"xlabel": False, "trace": {"linewidth": 0.5, "alpha": 0.8}},
        figure_kwargs=figure_kwargs,
    )
    note = (
        "draw number; chains should overlap and look like noise around a stable level, "
        "ticks at the bottom mark divergent transitions"
    )
    return pc.get_viz("figure"), "trace plots (one line per chain)", note


def plot_convergence(
    posterior: xr.DataTree,
    var_names: Sequence[str] = CONVERGENCE_GROUPS["dynamics"],
    *,
    kind: str = "rank",
    codebook: Mapping[str, Indicator] | None = None,
    title: str | None = None,
    ncols: int = 3,
) -> Figure:
    """Rank plots (default) or trace plots of key parameters, drawn by ArviZ.

    In a rank plot each line is one chain; lines close to zero and to each other mean the
    chains explore the same distribution, and black dots mark ranks where they disagree.
    Each panel names the p-value of ArviZ's test that the chains agree, computed on draws
    thinned to about independent ones (:mod:`forecast.rank_check`): on every draw,
    autocorrelation alone makes the test fail on chains that agree.

    Parameters
    ----------
    posterior
        A run's posterior DataTree (group ``posterior`` with dims ``chain`` and ``draw``).
    var_names
        Parameters to show; every non-constant cell of each gets a panel (see
        :data:`CONVERGENCE_GROUPS`).
    kind
        ``rank`` or ``trace``.
    codebook
        Indicator titles for indicator-indexed parameters.
    title
        Figure title.
    ncols
        Panels per row (three fit a page).

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> post = xr.Dataset({"drift_mu": (("chain", "draw"), np.random.default_rng(0)
    ...     .normal(size=(2, 50)))})
    >>> fig = plot_convergence(xr.DataTree.from_dict({"posterior": post}), ["drift_mu"])
    >>> len(fig.axes) >= 1
    True
    """
    import matplotlib.pyplot as plt

    from forecast.plots.style import plot_style

    if kind not in _KINDS:
        raise ValueError(f"kind must be one of {_KINDS}, got {kind!r}")
    draws = parameter_draws(posterior, var_names)
    if not draws.data_vars:
        raise ValueError(f"the posterior has no non-constant parameters among {list(var_names)}")
    labeller = _labeller(codebook)
    n = _panel_count(draws)
    cols = min(ncols, n)
    rows = -(-n // cols)
    figure_kwargs = {"figsize": (2.85 * cols, 1.9 * rows + 1.0), "layout": "constrained"}
    with plot_style():
        if kind == "rank":
            fig, subtitle, note = _draw_rank(draws, labeller, cols, figure_kwargs)
        else:
            fig, subtitle, note = _draw_trace(posterior, draws, labeller, cols, figure_kwargs)
        # arviz draws through pyplot; detach the figure so that no global state remains
        plt.close(fig)
        attrs = dict(getattr(posterior["posterior"], "attrs", {}))
        fig.suptitle(with_note(title or f"Sampler convergence: {subtitle}", attrs))
        fig.supxlabel(note, fontsize=8.5)
    return fig
