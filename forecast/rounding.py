"""How probabilities and their uncertainty are rounded for readers, in one place.

The report, the figures and the command line print probabilities as whole percentages and
changes as differences of the percentages shown, so that a reader's arithmetic works:
"46% -> 88%" reads "+42 pts", never "+41 pts" (the unrounded change, 41.0 points, rounds
otherwise). "±" always means two Monte Carlo standard errors: the simulation noise of a
share of posterior draws, not model uncertainty.
"""

from __future__ import annotations

import math

#: what "±" means wherever a probability carries one
PLUS_MINUS_MEANS = "± is two Monte Carlo standard errors (simulation noise, not model uncertainty)"


def whole_percent(probability: float) -> int:
    """Return a probability in whole per cent, halves rounded up.

    Examples
    --------
    >>> whole_percent(0.465), whole_percent(0.8751), whole_percent(0.002)
    (47, 88, 0)
    """
    return math.floor(100 * probability + 0.5)


def percent(probability: float) -> str:
    """Return a probability as a whole percentage; "<1%" and ">99%" keep the extremes honest.

    Examples
    --------
    >>> percent(0.4649), percent(0.002), percent(0.0), percent(0.9972), percent(1.0)
    ('46%', '<1%', '0%', '>99%', '100%')
    """
    if 0 < probability < 0.005:
        return "<1%"
    if 0.995 <= probability < 1:
        return ">99%"
    return f"{whole_percent(probability)}%"


def points_change(before: float, now: float) -> str:
    """Return the change between two probabilities in percentage points, as printed.

    The difference of the whole percentages a reader sees beside it.

    Examples
    --------
    >>> points_change(0.4649, 0.8751), points_change(0.2449, 0.2151), points_change(0.5, 0.501)
    ('+42 pts', '-2 pts', '0 pts')
    """
    change = whole_percent(now) - whole_percent(before)
    return f"{change:+d} pts" if change else "0 pts"


def two_mcse_points(mcse: float) -> str:
    """Return two Monte Carlo standard errors of a probability in percentage points.

    Examples
    --------
    >>> two_mcse_points(0.0081), two_mcse_points(0.0004)
    ('± 1.6 pts', '± 0.1 pts')
    """
    return f"± {200 * mcse:.1f} pts"
