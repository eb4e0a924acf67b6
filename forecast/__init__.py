"""forecast: Bayesian forecasting and scenario scoring of Central Asian geopolitical alignment.

The package is organised along the flow of the analysis:

- :mod:`forecast.data` builds and validates the indicator panel from raw public files;
- :mod:`forecast.model` specifies, fits and projects the dynamic alignment model;
- :mod:`forecast.baselines` holds the classical benchmarks;
- :mod:`forecast.scenarios` turns forecast draws into scenario probabilities;
- :mod:`forecast.evaluation` scores forecasts, runs backtests and keeps the ledger;
- :mod:`forecast.plots` and :mod:`forecast.report` present results;
- :mod:`forecast.cli` is the command-line interface.
"""

__version__ = "0.1.0"
