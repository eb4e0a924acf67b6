"""The ``forecast`` command-line interface.

Commands only parse arguments, call the package's functions and print. A
:class:`~forecast.errors.ForecastError` (bad input) is printed on one line and exits with
status 1; usage errors exit with status 2.
"""

from __future__ import annotations

import sys
import warnings

import typer

from forecast.cli.backtest import backtest
from forecast.cli.baselines import baselines
from forecast.cli.data import data_app
from forecast.cli.ledger import ledger_app
from forecast.cli.model import fit, predict
from forecast.cli.options import Command, Group
from forecast.cli.plot import plot
from forecast.cli.report import report
from forecast.cli.scenarios import scenarios, whatif
from forecast.errors import ForecastError

app = typer.Typer(
    name="forecast",
    help="Bayesian forecasting and scenario scoring of Central Asian geopolitical alignment.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    cls=Group,
)
app.add_typer(data_app, name="data")
app.command("fit", cls=Command)(fit)
app.command("scenarios", cls=Command)(scenarios)
app.command("whatif", cls=Command)(whatif)
app.command("predict", cls=Command)(predict)
app.command("plot", cls=Command)(plot)
app.command("report", cls=Command)(report)
app.command("baselines", cls=Command)(baselines)
app.command("backtest", cls=Command)(backtest)
app.add_typer(ledger_app, name="ledger")


def main() -> None:
    """Entry point of the ``forecast`` console script."""
    # the application (not the library) decides what users see: PyTensor's notice about
    # BLAS concerns its C backend, which the numba-compiled model does not use
    warnings.filterwarnings("ignore", message="PyTensor could not link to a BLAS")
    try:
        app()
    except ForecastError as err:
        print(f"error: {err}", file=sys.stderr)
        sys.exit(1)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        sys.exit(130)
