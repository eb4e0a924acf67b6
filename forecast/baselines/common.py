"""What every classical baseline shares: series on the link scale, horizons, change variances.

A baseline sees one (state, indicator) series at a time, laid out on the regular grid of the
indicator's frequency from its first to its last observation (NaN in the gaps), on the
indicator's link scale (:func:`forecast.model.transforms.to_link`). It returns a
:class:`Predictive`: a Gaussian mean and variance per horizon step on that scale.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from forecast.data.codebook import Codebook, Indicator
from forecast.data.levels import is_level
from forecast.dims import INDICATOR, PERIOD, STATE
from forecast.errors import ForecastError
from forecast.model.transforms import to_link
from forecast.periods import PANDAS_FREQ, PER_YEAR, frequency_of, parse_period, period_frequency

#: fewest observations for the drift and local-level baselines (two changes: one to estimate
#: a drift or level, one left over for the variance)
MIN_POINTS = 3

#: fewest changes from which a series' own change variance is used; one change is a
#: one-degree-of-freedom estimate, too noisy to stand as a predictive variance
MIN_CHANGES = 2

#: probability that a binary indicator keeps its last value, every period ahead
BINARY_STAY = 0.9

#: a variance at or below this comes from a constant series: no usable predictive variance
TINY = 1e-12

_VALUE = "value"


@dataclass(frozen=True)
class Series:
    """One (state, indicator) series on its frequency grid.

    Attributes
    ----------
    state
        ISO3 code.
    indicator
        The codebook entry.
    first
        Period of the first observation.
    link
        Link-scale values from ``first`` to the last observation, NaN in gaps (for binary
        indicators the 0/1 values themselves).
    """

    state: str
    indicator: Indicator
    first: pd.Period
    link: NDArray[np.float64]

    @property
    def last(self) -> pd.Period:
        """Period of the last observation."""
        return self.first + (len(self.link) - 1)

    @property
    def n_obs(self) -> int:
        """Number of observed periods."""
        return int(np.count_nonzero(~np.isnan(self.link)))

    def changes(self) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Return the changes between consecutive observations and the steps each spans."""
        pos = np.flatnonzero(~np.isnan(self.link))
        return np.diff(self.link[pos]), np.diff(pos).astype(float)


@dataclass(frozen=True)
class Predictive:
    """A Gaussian predictive on the link scale, one entry per horizon step (1, 2, ...).

    ``method`` is the baseline that produced it (a fallback to persistence says so) and
    ``note`` why, when it is not the one asked for.
    """

    mean: NDArray[np.float64]
    var: NDArray[np.float64]
    method: str
    note: str = ""


def link_kind(kind: str) -> str | None:
    """Kind whose link scale a baseline uses (binomial shares as shares; None for binary)."""
    if kind == "binary":
        return None
    return "share" if kind == "binomial" else kind


def parse_until(until: str) -> pd.Period:
    """Parse the last forecast period, raising :class:`ForecastError` when it does not parse."""
    try:
        return parse_period(str(until))
    except ValueError:
        raise ForecastError(
            f"until {until!r} is not a period: expected 2030, 2030Q4 or 2030-12"
        ) from None


def horizon(last: pd.Period, until: pd.Period) -> list[pd.Period]:
    """Periods of ``last``'s frequency after ``last`` that end by the end of ``until``.

    Examples
    --------
    >>> [str(p) for p in horizon(parse_period("2018"), parse_period("2020Q3"))]
    ['2019']
    >>> len(horizon(parse_period("2020Q4"), parse_period("2022")))
    8
    """
    end = until.asfreq(last.freqstr, how="end")
    # a period that ends after ``until`` (the year 2030 when until is 2030Q2) is not in it
    if end.end_time > until.end_time:
        end = end - 1
    if end <= last:
        return []
    return list(pd.period_range(last + 1, end, freq=last.freqstr))


def chronological(labels: Iterable[str]) -> list[str]:
    """Sort period labels by end date, the finer of two periods that end together first.

    Examples
    --------
    >>> chronological(["2021", "2020Q4", "2021Q1", "2020"])
    ['2020Q4', '2020', '2021Q1', '2021']
    """

    def key(label: str) -> tuple[pd.Timestamp, int]:
        period = parse_period(label)
        return period.end_time, -PER_YEAR[frequency_of(period)]

    return sorted(set(labels), key=key)


def _series_of(state: str, ind: Indicator, rows: pd.DataFrame) -> Series:
    freqs = {period_frequency(p) for p in rows[PERIOD]}
    if freqs != {ind.frequency}:
        raise ForecastError(
            f"{state} {ind.key}: periods must all have the codebook frequency {ind.frequency}"
        )
    ordinals = pd.PeriodIndex(rows[PERIOD], freq=PANDAS_FREQ[ind.frequency]).asi8
    start = int(ordinals.min())
    grid = np.full(int(ordinals.max()) - start + 1, np.nan)
    grid[ordinals - start] = rows[_VALUE].to_numpy(dtype=float)
    first = pd.Period(ordinal=start, freq=PANDAS_FREQ[ind.frequency])
    kind = link_kind(ind.kind)
    if kind is not None:
        with np.errstate(divide="ignore", invalid="ignore"):
            grid = to_link(grid, kind, offset=ind.offset)
    elif not np.all(np.isin(grid[~np.isnan(grid)], (0.0, 1.0))):
        raise ForecastError(f"{state} {ind.key}: a binary indicator takes only 0 and 1")
    if np.any(np.isinf(grid)):
        raise ForecastError(f"{state} {ind.key}: a value has no finite {kind} link")
    return Series(state=state, indicator=ind, first=first, link=grid)


def panel_series(panel: pd.DataFrame, codebook: Codebook) -> list[Series]:
    """Every (state, indicator) series of the panel with at least one value, on its link scale.

    Binomial values resting on fewer than :data:`forecast.data.levels.MIN_TRIALS` trials are
    left out: a baseline would carry them forward as levels.

    Raises
    ------
    ForecastError
        For a missing column, an indicator not in the codebook, a period of the wrong
        frequency, a duplicated (state, indicator, period) or a value without a finite link.
    """
    missing = [c for c in (STATE, INDICATOR, PERIOD, _VALUE) if c not in panel.columns]
    if missing:
        raise ForecastError(f"the panel has no column {', '.join(missing)}")
    # a UN year resting on a handful of roll calls is not a level to carry forward
    usable = panel[_VALUE].notna().to_numpy() & is_level(panel)
    frame = panel.loc[usable, [STATE, INDICATOR, PERIOD, _VALUE]].astype(
        {STATE: str, INDICATOR: str, PERIOD: str, _VALUE: float}
    )
    unknown = sorted(set(frame[INDICATOR]) - set(codebook))
    if unknown:
        raise ForecastError(f"indicators not in the codebook: {', '.join(unknown)}")
    dup = frame.duplicated([STATE, INDICATOR, PERIOD])
    if dup.any():
        row = frame[dup].iloc[0]
        raise ForecastError(
            f"{row[STATE]} {row[INDICATOR]} {row[PERIOD]}: more than one value for the period"
        )
    return [
        _series_of(str(state), codebook[str(key)], rows)
        for (state, key), rows in frame.groupby([STATE, INDICATOR], sort=True)
    ]


def change_variance(changes: NDArray[np.float64], steps: NDArray[np.float64]) -> float:
    """Random-walk variance per step from changes over ``steps`` periods (NaN if unusable).

    Each change over ``g`` steps has variance ``sigma^2 * g`` under a driftless random walk,
    so the maximum-likelihood estimate is the mean of ``change^2 / g``; it is taken about zero,
    not about the mean change, because persistence forecasts no change.

    Examples
    --------
    >>> change_variance(np.array([1.0, -1.0, 2.0]), np.array([1.0, 1.0, 4.0]))
    1.0
    """
    if changes.size < MIN_CHANGES:
        return float("nan")
    sigma2 = float(np.mean(changes**2 / steps))
    return sigma2 if sigma2 > TINY else float("nan")


def pooled_change_variance(series: Iterable[Series]) -> dict[str, float]:
    """Per indicator, :func:`change_variance` of all its series' changes pooled together."""
    pooled: dict[str, tuple[list[NDArray[np.float64]], list[NDArray[np.float64]]]] = {}
    for s in series:
        changes, steps = s.changes()
        acc = pooled.setdefault(s.indicator.key, ([], []))
        acc[0].append(changes)
        acc[1].append(steps)
    return {
        key: change_variance(np.concatenate(changes), np.concatenate(steps))
        for key, (changes, steps) in pooled.items()
    }


def is_constant(series: Series) -> bool:
    """Whether every observation of the series has the same link value."""
    observed = series.link[~np.isnan(series.link)]
    return bool(np.ptp(observed) <= TINY * (1.0 + np.max(np.abs(observed))))
