"""The ``forecast`` command-line interface.

Commands only parse arguments, call the package's functions and print. A
:class:`~forecast.errors.ForecastError` (bad input) is printed on one line and exits with
status 1; usage errors exit with status 2. Ctrl-C prints one line, ``interrupted:`` and what
the command had written (:class:`~forecast.interrupts.Interrupted`), and exits with 130.
"""

from __future__ import annotations

import sys
import warnings
from typing import Any

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
from forecast.interrupts import NOTHING_WRITTEN, Interrupted


def interrupted_line(err: KeyboardInterrupt) -> str:
    """Return the one line printed for a Ctrl-C: what the command had written, if anything.

    Examples
    --------
    >>> interrupted_line(KeyboardInterrupt())
    'interrupted: nothing written'
    """
    kept = err.kept if isinstance(err, Interrupted) else NOTHING_WRITTEN
    return f"interrupted: {kept}"


class InterruptibleGroup(Group):
    """The top command group: Ctrl-C ends any command with one line and exit status 130.

    Typer turns a :class:`KeyboardInterrupt` into a silent exit 130 before :func:`main`
    could see it, so the line is printed here, around every command.
    """

    def invoke(self, ctx: Any) -> Any:
        """Run the command; on Ctrl-C print :func:`interrupted_line` and exit 130."""
        try:
            return super().invoke(ctx)
        except KeyboardInterrupt as err:
            print(interrupted_line(err), file=sys.stderr, flush=True)
            raise typer.Exit(130) from None


app = typer.Typer(
    name="forecast",
    cls=InterruptibleGroup,
    help="Bayesian forecasting and scenario scoring of Central Asian geopolitical alignment.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
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
    except KeyboardInterrupt as err:
        # before a command started (Typer handles the rest in InterruptibleGroup)
        print(interrupted_line(err), file=sys.stderr, flush=True)
        sys.exit(130)
