"""Numeric options with a range: a usage error naming the option and both bounds.

Typer's own ``min``/``max`` name only the bound that was crossed; a user who typed
``--seed -1`` should learn the whole accepted range at once.
"""

from __future__ import annotations

from collections.abc import Callable

import typer


def bounded(low: int, high: int) -> Callable[[int | None], int | None]:
    """Return an option callback refusing an integer outside ``[low, high]``.

    Examples
    --------
    >>> check = bounded(0, 10)
    >>> check(3), check(None)
    (3, None)
    >>> try:
    ...     check(11)
    ... except typer.BadParameter as err:
    ...     print(err.message)
    11 is out of range: expected an integer from 0 to 10
    """

    def check(value: int | None) -> int | None:
        if value is not None and not low <= value <= high:
            raise typer.BadParameter(
                f"{value} is out of range: expected an integer from {low} to {high}"
            )
        return value

    return check


def bounded_float(
    low: float, high: float, *, open_high: bool = False
) -> Callable[[float | None], float | None]:
    """Return an option callback refusing a number outside ``[low, high]`` (or ``[low, high)``).

    Examples
    --------
    >>> check = bounded_float(0.5, 1, open_high=True)
    >>> check(0.98), check(None)
    (0.98, None)
    >>> try:
    ...     check(1.0)
    ... except typer.BadParameter as err:
    ...     print(err.message)
    1.0 is out of range: expected a number from 0.5 up to (not including) 1
    """
    upto = f"up to (not including) {high}" if open_high else f"to {high}"

    def check(value: float | None) -> float | None:
        if value is not None and (value < low or value > high or (open_high and value == high)):
            raise typer.BadParameter(
                f"{value} is out of range: expected a number from {low} {upto}"
            )
        return value

    return check
