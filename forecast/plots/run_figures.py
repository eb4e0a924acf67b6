"""The figures of a stored run, made one at a time, and writing them to a directory."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd
import xarray as xr

from forecast.data.codebook import Indicator
from forecast.dims import INDICATOR, STATE
from forecast.plots.alignment_fan import plot_alignment_fans
from forecast.plots.bands import quantile_bands
from forecast.plots.convergence import CONVERGENCE_GROUPS, plot_convergence
from forecast.plots.coverage_map import plot_data_coverage
from forecast.plots.forest import plot_forest
from forecast.plots.indicator_fan import plot_indicator_fans
from forecast.plots.ppc import plot_ppc
from forecast.plots.style import save_figure

if TYPE_CHECKING:
    from matplotlib.figure import Figure


def forecast_bands(forecast: xr.Dataset) -> xr.Dataset:
    """Compute a forecast's quantile bands once for all its figures (attributes kept)."""
    out = forecast.map(quantile_bands)
    out.attrs = dict(forecast.attrs)
    return out


def run_figures(
    posterior: xr.DataTree,
    forecast: xr.Dataset,
    panel: pd.DataFrame,
    *,
    codebook: Mapping[str, Indicator] | None = None,
) -> Iterator[tuple[str, Figure]]:
    """Yield ``(file name, figure)`` for every figure of a run, one figure at a time.

    Convergence (rank plots), forest of loadings and drifts, the alignment fan grid, a
    predictive check per indicator, indicator fans per state, and the data coverage map
    (restricted to the forecast's states and indicators). The one-state alignment fans
    (:func:`~forecast.plots.alignment_fan.plot_alignment_fan`) are left to the report.

    Parameters
    ----------
    posterior
        The run's posterior DataTree.
    forecast
        Its forecast (draws or precomputed quantile bands).
    panel
        The tidy panel the run was fitted to.
    codebook
        Indicator titles, units and poles.
    """
    bands = forecast_bands(forecast)
    states = [str(s) for s in bands[STATE].values]
    indicators = [str(k) for k in bands[INDICATOR].values]
    for group, var_names in CONVERGENCE_GROUPS.items():
        yield f"convergence_{group}", plot_convergence(posterior, var_names, codebook=codebook)
    yield "forest", plot_forest(posterior, codebook=codebook)
    yield "alignment_fans", plot_alignment_fans(bands)
    for key in indicators:
        yield f"ppc_{key}", plot_ppc(bands, panel, key, codebook=codebook)
    for state in states:
        yield (
            f"indicators_{state}",
            plot_indicator_fans(bands, state, panel=panel, codebook=codebook),
        )
    yield (
        "data_coverage",
        plot_data_coverage(panel, codebook=codebook, states=states, indicators=indicators),
    )


def write_figures(figures: Iterable[tuple[str, Figure]], out_dir: str | Path) -> Iterator[Path]:
    """Write each figure as ``<out_dir>/<name>.png`` and ``.svg``, yielding the paths written."""
    out = Path(out_dir)
    for name, fig in figures:
        yield from save_figure(fig, out / name)
