"""Periods as the panel writes them: ``2019`` (year), ``2019Q3`` (quarter), ``2019-07`` (month).

Parsing is strict (a regular expression per frequency) so that a malformed period is reported
rather than silently coerced by pandas.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

import pandas as pd

# ASCII digits only and matched in full: ``\d`` would also accept other scripts' digits and
# ``$`` a trailing newline, neither of which pandas (or a reader of the file) takes as a year;
# year 0000 does not exist in the proleptic Gregorian calendar pandas uses
_YEAR = r"(?!0000)([0-9]{4})"
_PATTERNS = {
    "Y": re.compile(_YEAR),
    "Q": re.compile(_YEAR + r"Q([1-4])"),
    "M": re.compile(_YEAR + r"-(0[1-9]|1[0-2])"),
}

#: pandas frequency alias for each panel frequency
PANDAS_FREQ = {"Y": "Y-DEC", "Q": "Q-DEC", "M": "M"}

#: number of periods of each frequency in one year
PER_YEAR = {"Y": 1, "Q": 4, "M": 12}


def period_frequency(text: str) -> str | None:
    r"""Return the frequency code of a period string, or ``None`` when it does not parse.

    Examples
    --------
    >>> period_frequency("2019"), period_frequency("2019Q3"), period_frequency("2019-07")
    ('Y', 'Q', 'M')
    >>> period_frequency("2019Q5") is None, period_frequency("2019\n") is None
    (True, True)
    """
    for freq, pattern in _PATTERNS.items():
        if pattern.fullmatch(text):
            return freq
    return None


def parse_period(text: str) -> pd.Period:
    """Parse one period string.

    Raises
    ------
    ValueError
        When ``text`` is not a year, quarter or month in the panel's notation.

    Examples
    --------
    >>> parse_period("2021Q3")
    Period('2021Q3', 'Q-DEC')
    """
    freq = period_frequency(text)
    if freq is None:
        raise ValueError(f"unparseable period {text!r}: expected 2019, 2019Q3 or 2019-07")
    return pd.Period(text, freq=PANDAS_FREQ[freq])


def format_period(period: pd.Period) -> str:
    """Write a period in the panel's notation.

    Examples
    --------
    >>> format_period(pd.Period("2021", freq="Y")), format_period(pd.Period("2021-07", freq="M"))
    ('2021', '2021-07')
    """
    code = frequency_of(period)
    if code == "Y":
        return f"{period.year:04d}"
    if code == "Q":
        return f"{period.year:04d}Q{period.quarter}"
    return f"{period.year:04d}-{period.month:02d}"


def frequency_of(period: pd.Period) -> str:
    """Return the panel frequency code (``Y``, ``Q`` or ``M``) of a pandas Period."""
    name = period.freqstr.upper()
    if name.startswith(("Y", "A")):
        return "Y"
    if name.startswith("Q"):
        return "Q"
    if name.startswith("M"):
        return "M"
    raise ValueError(f"unsupported period frequency {period.freqstr!r}")


def period_range(start: pd.Period, end: pd.Period) -> list[pd.Period]:
    """Return all periods from ``start`` to ``end`` inclusive, at ``start``'s frequency.

    Examples
    --------
    >>> format_periods(period_range(parse_period("2019Q3"), parse_period("2020")))
    ['2019Q3', '2019Q4', '2020Q1', '2020Q2', '2020Q3', '2020Q4']
    """
    return list(pd.period_range(start=start, end=end.asfreq(start.freqstr, how="end")))


def format_periods(periods: Iterable[pd.Period]) -> list[str]:
    """Vectorised :func:`format_period`."""
    return [format_period(p) for p in periods]


def steps_covered(period: pd.Period, step: str) -> Sequence[pd.Period]:
    """Return the model steps a (coarser or equal) observation period spans.

    Examples
    --------
    >>> [format_period(p) for p in steps_covered(parse_period("2019"), "Q")]
    ['2019Q1', '2019Q2', '2019Q3', '2019Q4']
    """
    first = period.asfreq(PANDAS_FREQ[step], how="start")
    last = period.asfreq(PANDAS_FREQ[step], how="end")
    return list(pd.period_range(first, last))


def period_end_date(period: pd.Period) -> pd.Timestamp:
    """Last calendar day of a period (midnight)."""
    return period.end_time.normalize()


def coarser_or_equal(freq: str, step: str) -> bool:
    """Return whether an observation at ``freq`` can be mapped onto a model at ``step``.

    Examples
    --------
    >>> coarser_or_equal("Y", "Q"), coarser_or_equal("M", "Y")
    (True, False)
    """
    return PER_YEAR[freq] <= PER_YEAR[step]
