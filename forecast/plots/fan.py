"""Drawing primitives shared by the fan charts: bands, the forecast horizon, the legend, notes.

Fan charts show the median and the 50 % and 90 % equal-tailed intervals of draws over
periods; the horizon (periods after the last fitted one) is shaded and labelled.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import xarray as xr
from numpy.typing import NDArray

from forecast.dims import PERIOD, QUANTILE
from forecast.plots.bands import BAND_LEVELS, INTERVALS, quantile_bands
from forecast.plots.labels import period_x
from forecast.plots.style import HORIZON_SHADE, NEUTRAL_COLOR, OBSERVED_COLOR

if TYPE_CHECKING:
    from matplotlib.artist import Artist
    from matplotlib.axes import Axes

#: opacity of the 90 % and 50 % bands
BAND_ALPHA = {0.9: 0.2, 0.5: 0.42}


def variable_bands(forecast: xr.Dataset, name: str) -> xr.DataArray:
    """Quantile bands of variable ``name`` of a forecast (draws or precomputed quantiles).

    Examples
    --------
    >>> ds = xr.Dataset({"x": (("chain", "draw"), np.arange(101.0)[None, :])})
    >>> variable_bands(ds, "x").sizes["quantile"]
    5
    """
    if name not in forecast:
        raise ValueError(f"the forecast has no variable {name!r} (has {list(forecast)})")
    return quantile_bands(forecast[name], BAND_LEVELS)


def last_fitted(forecast: xr.Dataset) -> str | None:
    """Return the last fitted period recorded in a forecast's attributes, if any."""
    value = forecast.attrs.get("last_fitted")
    return None if value is None else str(value)


def run_note(attrs: Mapping[str, Any]) -> str:
    """Return a caveat line for a figure: approximate inference or a run that did not converge.

    Examples
    --------
    >>> run_note({"converged": 0, "run_id": "r1"})
    'Run r1. NOT CONVERGED: treat these estimates with caution.'
    >>> run_note({"converged": 1, "approximate": 0})
    ''
    """
    parts = []
    # a run's forecast always says whether the run converged; one that does not is not a
    # run's (a synthetic or simulated forecast) and has no run to caution about
    failed = "converged" in attrs and not int(attrs["converged"])
    if "run_id" in attrs and (failed or attrs.get("approximate")):
        parts.append(f"Run {attrs['run_id']}.")
    if int(attrs.get("approximate", 0)):
        parts.append("APPROXIMATE inference (fast path).")
    if failed:
        parts.append("NOT CONVERGED: treat these estimates with caution.")
    return " ".join(parts)


def with_note(title: str, attrs: Mapping[str, Any]) -> str:
    r"""Return ``title`` followed, on a second line, by the run's caveat if it has one.

    Examples
    --------
    >>> with_note("Fans", {"converged": 0})
    'Fans\nNOT CONVERGED: treat these estimates with caution.'
    """
    note = run_note(attrs)
    return f"{title}\n{note}" if note else title


def series_xy(bands: xr.DataArray) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Time positions and the (quantile, period) values of a one-series band, missing dropped."""
    values = np.asarray(bands.transpose(QUANTILE, PERIOD).values, dtype=float)
    x = np.array([period_x(str(p)) for p in bands[PERIOD].values])
    # indicators of mixed frequencies share one period coordinate, not in time order
    order = np.argsort(x, kind="stable")
    x, values = x[order], values[:, order]
    keep = np.all(np.isfinite(values), axis=0)
    return x[keep], values[:, keep]


def draw_fan(ax: Axes, bands: xr.DataArray, color: str, *, scale: float = 1.0) -> None:
    """Draw the 90 % and 50 % bands and the median of one series (dims quantile, period)."""
    x, values = series_xy(bands)
    if x.size == 0:
        return
    rows = {q: i for i, q in enumerate(BAND_LEVELS)}
    for prob, low, high in INTERVALS:
        ax.fill_between(
            x,
            values[rows[low]] * scale,
            values[rows[high]] * scale,
            color=color,
            alpha=BAND_ALPHA[prob],
            linewidth=0,
        )
    ax.plot(x, values[rows[0.5]] * scale, color=color, linewidth=1.6)


def draw_observed(
    ax: Axes,
    periods: Sequence[str],
    values: Sequence[float] | NDArray[np.float64],
    *,
    scale: float = 1.0,
    outside: NDArray[np.bool_] | None = None,
) -> None:
    """Draw observed values as dots; those flagged ``outside`` as open circles."""
    x = np.array([period_x(str(p)) for p in periods])
    y = np.asarray(values, dtype=float) * scale
    out = np.zeros(x.size, dtype=bool) if outside is None else np.asarray(outside, dtype=bool)
    ax.scatter(x[~out], y[~out], s=9, color=OBSERVED_COLOR, zorder=3, linewidths=0)
    if out.any():
        ax.scatter(
            x[out],
            y[out],
            s=16,
            facecolors="white",
            edgecolors=OBSERVED_COLOR,
            linewidths=0.9,
            zorder=3,
        )


def nowcast_until(forecast: xr.Dataset) -> str | None:
    """Return the last period a forecast counts as a nowcast (``attrs["nowcast_until"]``), if any.

    Periods after the last fitted one up to it are already under way or past but have no data
    yet (nowcasts); later periods are forecasts.
    """
    value = forecast.attrs.get("nowcast_until")
    return None if value is None else str(value)


def _label(ax: Axes, x0: float, x1: float, text: str) -> None:
    ax.text(
        (x0 + x1) / 2,
        0.97,
        text,
        transform=ax.get_xaxis_transform(),
        ha="center",
        va="top",
        fontsize=7.5,
        color=NEUTRAL_COLOR,
        style="italic",
    )


def mark_horizon(
    ax: Axes, last: str | None, end: str | None, *, label: bool, nowcast: str | None = None
) -> None:
    """Shade the periods after ``last`` up to ``end`` and draw a line at the last fitted period.

    With ``nowcast``, the periods up to it are shaded lighter and labelled "nowcast", the rest
    "forecast"; the observed history (up to ``last``) is left white.
    """
    if last is None:
        return
    x_last = period_x(last)
    if end is not None and period_x(end) > x_last:
        x_end = period_x(end)
        x_now = min(max(period_x(nowcast), x_last), x_end) if nowcast is not None else x_last
        if x_now > x_last:
            ax.axvspan(x_last, x_now, color=HORIZON_SHADE, alpha=0.45, zorder=0.2, linewidth=0)
            if label:
                _label(ax, x_last, x_now, "nowcast")
        if x_end > x_now:
            ax.axvspan(x_now, x_end, color=HORIZON_SHADE, zorder=0.2, linewidth=0)
            if label:
                _label(ax, x_now, x_end, "forecast")
    ax.axvline(x_last, color=NEUTRAL_COLOR, linewidth=0.8, linestyle="--", zorder=1)


def legend_handles(
    color: str, last: str | None, *, observed: bool, outside: bool = False
) -> list[Artist]:
    """Proxy artists explaining a fan chart: median, 50 % and 90 % bands, observations."""
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    handles: list[Artist] = [
        Line2D([], [], color=color, linewidth=1.6, label="median"),
        Patch(color=color, alpha=BAND_ALPHA[0.5], linewidth=0, label="50 % interval"),
        Patch(color=color, alpha=BAND_ALPHA[0.9], linewidth=0, label="90 % interval"),
    ]
    if observed:
        handles.append(
            Line2D(
                [],
                [],
                color=OBSERVED_COLOR,
                marker="o",
                markersize=3.5,
                linewidth=0,
                label="observed",
            )
        )
    if outside:
        handles.append(
            Line2D(
                [],
                [],
                marker="o",
                markersize=4,
                markerfacecolor="white",
                markeredgecolor=OBSERVED_COLOR,
                linewidth=0,
                label="observed, outside the 90 % interval",
            )
        )
    if last is not None:
        handles.append(
            Line2D(
                [],
                [],
                color=NEUTRAL_COLOR,
                linewidth=0.8,
                linestyle="--",
                label=f"last fitted period ({last})",
            )
        )
    return handles


def set_value_axis(ax: Axes, scale: str) -> None:
    """Show an indicator's natural scale (see :func:`forecast.plots.labels.value_scale`)."""
    from matplotlib.ticker import FuncFormatter

    if scale == "percent":
        ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: percent_text(v)))
        return
    if scale == "log":
        # symmetric log: linear near zero, so that years without any amount stay on the axis
        ax.set_yscale("symlog", linthresh=1.0, linscale=0.5)
    ax.yaxis.set_major_formatter(
        FuncFormatter(lambda v, _: f"{v:,.0f}" if abs(v) >= 1 else f"{v:g}")
    )


def percent_text(fraction: float) -> str:
    """Format a fraction as a tick label in per cent, with a decimal only where needed.

    Examples
    --------
    >>> percent_text(0.4), percent_text(0.025), percent_text(-0.1)
    ('40%', '2.5%', '-10%')
    """
    value = round(fraction * 100, 6)
    return f"{value:.0f}%" if value == round(value) else f"{value:.1f}%"


def period_span(bands: xr.DataArray) -> tuple[str, str]:
    """First and last period label of a band's ``period`` coordinate."""
    periods = [str(p) for p in bands[PERIOD].values]
    return periods[0], periods[-1]
