"""Figures of results: every function takes results (draws, tables), never models.

One plot per module, each returning a :class:`matplotlib.figure.Figure` (never shown);
matplotlib and ArviZ's plots are imported inside the functions, so importing this package
is cheap. :func:`forecast.plots.style.save_figure` writes a figure as PNG and SVG.

- :mod:`~forecast.plots.convergence`: rank or trace plots of key parameters (ArviZ).
- :mod:`~forecast.plots.forest`: loadings by indicator and drifts by state and pole.
- :mod:`~forecast.plots.ppc`: observed values against predictive bands, per indicator.
- :mod:`~forecast.plots.alignment_fan`: fan charts of alignment per state and pole.
- :mod:`~forecast.plots.indicator_fan`: fan charts of a state's indicators with data.
- :mod:`~forecast.plots.scenarios`: scenario probabilities with Monte Carlo intervals.
- :mod:`~forecast.plots.whatif`: what-if probabilities against the baseline.
- :mod:`~forecast.plots.skill`: backtest skill and coverage by horizon.
- :mod:`~forecast.plots.reliability` and :mod:`~forecast.plots.pit`: calibration.
- :mod:`~forecast.plots.coverage_map`: which series have data in which years.
- :mod:`~forecast.plots.run_figures`: all figures of a stored run (``forecast plot``).
"""

from forecast.plots.alignment_fan import plot_alignment_fan, plot_alignment_fans
from forecast.plots.convergence import plot_convergence
from forecast.plots.coverage_map import plot_data_coverage
from forecast.plots.forest import plot_forest
from forecast.plots.indicator_fan import plot_indicator_fans
from forecast.plots.pit import plot_pit_histogram, plot_quantile_reliability
from forecast.plots.ppc import plot_ppc
from forecast.plots.reliability import plot_reliability, reliability_table
from forecast.plots.scenarios import plot_scenario_probabilities
from forecast.plots.skill import plot_backtest_skill
from forecast.plots.style import save_figure
from forecast.plots.whatif import plot_whatif_comparison

__all__ = [
    "plot_alignment_fan",
    "plot_alignment_fans",
    "plot_backtest_skill",
    "plot_convergence",
    "plot_data_coverage",
    "plot_forest",
    "plot_indicator_fans",
    "plot_pit_histogram",
    "plot_ppc",
    "plot_quantile_reliability",
    "plot_reliability",
    "plot_scenario_probabilities",
    "plot_whatif_comparison",
    "reliability_table",
    "save_figure",
]
