"""The shared look of every figure: colour-blind-safe palette, type sizes, and saving.

Colours come from the Okabe-Ito palette, which stays distinguishable under the common forms of
colour blindness; each pole keeps its colour in every figure. Matplotlib is imported inside
the functions, so importing the package stays cheap.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from forecast.atomic import write_with

if TYPE_CHECKING:
    from matplotlib.figure import Figure

#: one colour per pole, the same in every figure (Okabe-Ito vermillion, bluish green, blue)
POLE_COLORS = {"RUS": "#D55E00", "CHN": "#009E73", "WEST": "#0072B2"}

#: colours for series that are not poles (baselines, interval levels, what-ifs), in order
SERIES_COLORS = (
    "#0072B2",
    "#E69F00",
    "#009E73",
    "#CC79A7",
    "#56B4E9",
    "#D55E00",
    "#000000",
)

#: observed data points
OBSERVED_COLOR = "#1A1A1A"
#: reference lines and de-emphasised marks
NEUTRAL_COLOR = "#7F7F7F"
#: background of the forecast horizon
HORIZON_SHADE = "#EFEFEF"
#: fallback colour of a pole outside the palette
OTHER_COLOR = "#555555"

#: resolution of the PNG files (the SVG twin is resolution-free)
PNG_DPI = 150

#: widest figure, in inches: a report page's column is 958 px wide, 8.7 in at the report's
#: 110 dpi, so a figure this wide is shown at its own size, its text as large as drawn
PAGE_WIDTH = 8.7

_RC: dict[str, Any] = {
    "font.size": 9,
    "axes.titlesize": 10,
    "axes.titleweight": "bold",
    "axes.labelsize": 9,
    "xtick.labelsize": 8,
    "ytick.labelsize": 8,
    "legend.fontsize": 8,
    "legend.frameon": False,
    "figure.titlesize": 12,
    "figure.titleweight": "bold",
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.color": "#E5E5E5",
    "grid.linewidth": 0.6,
    "axes.axisbelow": True,
    "svg.hashsalt": "forecast",
}


def pole_color(pole: str) -> str:
    """Return the colour of a pole (grey for a pole outside the palette).

    Examples
    --------
    >>> pole_color("CHN")
    '#009E73'
    """
    return POLE_COLORS.get(pole, OTHER_COLOR)


def series_color(position: int) -> str:
    """Return the colour of the ``position``-th non-pole series (cycling).

    Examples
    --------
    >>> series_color(0) == series_color(len(SERIES_COLORS))
    True
    """
    return SERIES_COLORS[position % len(SERIES_COLORS)]


@contextmanager
def plot_style() -> Iterator[None]:
    """Apply the house style to the figures created inside the block."""
    import matplotlib as mpl
    from cycler import cycler

    rc = dict(_RC)
    rc["axes.prop_cycle"] = cycler(color=list(SERIES_COLORS))
    # matplotlib types rc keys as literals; ours are checked against rcParams at run time
    with mpl.rc_context(cast(Any, rc)):
        yield


def new_figure(width: float, height: float) -> Figure:
    """Return a blank figure with constrained layout, outside pyplot's global figure list.

    Call it inside :func:`plot_style` so that the figure's text takes the house sizes.
    """
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), layout="constrained")


def prune_grid(fig: Figure, axes: Any, used: Any) -> None:
    """Remove the unused cells of a 2-D grid of axes, keeping x tick labels under each column.

    ``axes`` and ``used`` are 2-D arrays of the same shape (axes and booleans).
    """
    import numpy as np

    axes = np.asarray(axes)
    used = np.asarray(used, dtype=bool)
    for ax in axes[~used]:
        fig.delaxes(ax)
    # with shared x only the bottom row shows tick labels; a column whose bottom cell was
    # removed needs them on its lowest remaining panel
    for col in range(axes.shape[1]):
        rows = np.flatnonzero(used[:, col])
        if rows.size:
            axes[rows[-1], col].xaxis.set_tick_params(labelbottom=True)


def save_figure(fig: Figure, path: str | Path, *, dpi: int = PNG_DPI) -> tuple[Path, Path]:
    r"""Write ``fig`` as ``<path>.png`` and ``<path>.svg``, each atomically.

    Parameters
    ----------
    fig
        The figure.
    path
        Target path without a suffix (any suffix given is replaced).
    dpi
        Resolution of the PNG.

    Returns
    -------
    tuple of Path
        The PNG and SVG paths.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from matplotlib.figure import Figure
    >>> fig = Figure(figsize=(2, 1))
    >>> _ = fig.subplots().plot([0, 1])
    >>> png, svg = save_figure(fig, pathlib.Path(tempfile.mkdtemp()) / "line")
    >>> png.read_bytes()[:4], svg.suffix
    (b'\x89PNG', '.svg')
    """
    import matplotlib as mpl

    base = Path(path)
    png, svg = base.with_suffix(".png"), base.with_suffix(".svg")
    # a fixed salt and no date make the SVG byte-identical for identical figures
    with mpl.rc_context({"svg.hashsalt": "forecast"}):
        write_with(png, lambda tmp: fig.savefig(tmp, format="png", dpi=dpi))
        write_with(svg, lambda tmp: fig.savefig(tmp, format="svg", metadata={"Date": None}))
    return png, svg
