"""Classical baselines that every evaluation scores the Bayesian model against (DESIGN.md 3, 5).

Three per-series forecasts on each indicator's link scale: persistence, random walk with
drift, and statsmodels' local level. Each gives a Gaussian predictive whose variance grows
with the horizon; :func:`baseline_forecast` turns it into draws on the natural scale, labelled
like the model's forecast, so that scores (CRPS from an ensemble) treat every model alike.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import xarray as xr
from numpy.typing import NDArray

from forecast.baselines.common import (
    BINARY_STAY,
    Predictive,
    Series,
    chronological,
    horizon,
    link_kind,
    panel_series,
    parse_until,
    pooled_change_variance,
)
from forecast.baselines.drift import drift_predictive
from forecast.baselines.local_level import local_level_predictive
from forecast.baselines.persistence import persistence_predictive
from forecast.data.codebook import Codebook
from forecast.dims import CHAIN, DRAW, INDICATOR, INDICATOR_VAR, PERIOD, STATE
from forecast.errors import ForecastError
from forecast.model.transforms import from_link
from forecast.periods import format_period, format_periods
from forecast.seeds import generator

BASELINES: tuple[str, ...] = ("persistence", "drift", "local_level")

#: per (state, indicator): the baseline that produced its forecast ("" when none did)
METHOD_USED = "method_used"

__all__ = ["BASELINES", "METHOD_USED", "baseline_forecast"]


def _predictive(method: str, series: Series, steps: int, pooled: float) -> Predictive | None:
    if method == "persistence":
        return persistence_predictive(series, steps, pooled)
    if method == "drift":
        return drift_predictive(series, steps, pooled)
    return local_level_predictive(series, steps, pooled)


def _series_rng(random_seed: int, series: Series) -> np.random.Generator:
    # one stream per series, keyed by its names: a series' draws do not depend on which other
    # series are forecast, and every method uses the same normals (common random numbers, so
    # differences in scores between baselines are not Monte Carlo noise)
    names = (series.state, series.indicator.key)
    return generator(random_seed, "baseline", *names)


def _draws(
    method: str, series: Series, steps: int, pooled: float, draws: int, rng: np.random.Generator
) -> tuple[NDArray[np.float64] | None, str, str]:
    """Natural-scale draws ``(draws, steps)``, the method used and a note."""
    ind = series.indicator
    kind = link_kind(ind.kind)
    if kind is None:
        # a binary series keeps its last value with probability 0.9 at every horizon; drift
        # and local level have nothing to add to a 0/1 series, so all three use this rule
        p = BINARY_STAY if series.link[-1] == 1.0 else 1.0 - BINARY_STAY
        note = "" if method == "persistence" else "binary indicator: persistence rule"
        return (rng.random((draws, steps)) < p).astype(float), "persistence", note
    pred = _predictive(method, series, steps, pooled)
    if pred is None:
        return None, "", "no change variance: no series of the indicator has two changes"
    z = rng.standard_normal((draws, steps))
    link = pred.mean + np.sqrt(pred.var) * z
    return from_link(link, kind, offset=ind.offset), pred.method, pred.note


def _origin(series: Sequence[Series]) -> str:
    return chronological(format_period(s.last) for s in series)[-1]


def baseline_forecast(
    panel: pd.DataFrame,
    codebook: Codebook,
    *,
    method: str,
    until: str,
    indicators: Sequence[str] | None = None,
    states: Sequence[str] | None = None,
    draws: int = 1000,
    random_seed: int = 0,
) -> xr.Dataset:
    """Forecast draws of a classical baseline for every (state, indicator) series.

    Each series is forecast on its indicator's link scale (logit for shares and binomial
    shares, ``log(value + offset)`` for positive amounts, identity for continuous ones) with
    a Gaussian predictive whose variance grows with the horizon, and returned as draws on the
    natural scale. Binary indicators keep their last value with probability 0.9 under every
    method. A series is forecast for every period of its indicator's frequency after its own
    last observation up to ``until``.

    Parameters
    ----------
    panel
        Tidy panel with at least ``state``, ``indicator``, ``period`` and ``value`` (as read
        by :func:`forecast.data.panel.read_panel`); rows without a value are ignored.
    codebook
        Kinds, frequencies and offsets of the indicators.
    method
        ``persistence``, ``drift`` or ``local_level`` (see :data:`BASELINES`). Drift and local
        level need three observations and fall back to persistence below that.
    until
        Last forecast period, e.g. ``"2030"`` or ``"2030Q4"``.
    indicators, states
        Forecast only these (default: all in the panel). Variances pooled over states use the
        whole panel, so a selection does not change the forecast of what it keeps.
    draws
        Draws per cell.
    random_seed
        Seed; the draws of a series depend only on it and the series' state and indicator.

    Returns
    -------
    xarray.Dataset
        ``indicators`` (:data:`forecast.dims.INDICATOR_VAR`; chain, draw, state, indicator,
        period) with one chain, NaN where a cell has no forecast, period labels in
        chronological order; ``method_used`` (state, indicator) names the baseline that made
        each series' forecast (persistence where another fell back to it). ``attrs``:
        ``method``, ``until``, ``random_seed``, ``origin`` (last period of the panel),
        ``draws`` and ``notes`` (every fallback, and why). Works with
        :func:`forecast.model.summaries.indicator_table` (the ``indicators.csv`` format).

    Raises
    ------
    ForecastError
        For an unknown method, an unparseable ``until``, an indicator not in the codebook,
        a malformed panel, or when no selected series has a period to forecast.

    Examples
    --------
    >>> from forecast.data.codebook import load_codebook
    >>> panel = pd.DataFrame({"state": "KAZ", "indicator": "trade_share_chn",
    ...     "period": ["2016", "2017", "2018", "2019", "2020"],
    ...     "value": [0.15, 0.17, 0.16, 0.18, 0.2]})
    >>> ds = baseline_forecast(panel, load_codebook(), method="drift", until="2022", draws=400)
    >>> ds["indicators"].dims
    ('chain', 'draw', 'state', 'indicator', 'period')
    >>> ds["period"].values.tolist(), ds.attrs["origin"]
    (['2021', '2022'], '2020')
    >>> cell = ds["indicators"].sel(state="KAZ", indicator="trade_share_chn")
    >>> bool(cell.min() >= 0.0), bool(cell.std("draw").diff("period").item() > 0)
    (True, True)
    """
    end = _check_arguments(codebook, method, until, indicators, draws, random_seed)
    selection = _select(panel, codebook, indicators, states)
    cells, used, notes = _forecast_cells(selection, method, end, draws, random_seed)
    if not cells:
        raise ForecastError(f"nothing to forecast: no selected series ends before {until}")
    ds = _dataset(cells, used, selection, draws)
    ds.attrs.update(_attributes(method, until, random_seed, selection, draws, notes))
    return ds


def _check_arguments(
    codebook: Codebook,
    method: str,
    until: str,
    indicators: Sequence[str] | None,
    draws: int,
    random_seed: int,
) -> pd.Period:
    """Refuse an unknown method or indicator, an unparseable ``until``, a bad draw count or seed.

    Returns
    -------
    pandas.Period
        ``until`` parsed.
    """
    if method not in BASELINES:
        raise ForecastError(f"unknown baseline {method!r}: expected one of {', '.join(BASELINES)}")
    end = parse_until(until)
    if draws < 1 or random_seed < 0:
        raise ForecastError("draws must be at least 1 and random_seed non-negative")
    unknown = sorted(set(indicators or ()) - set(codebook))
    if unknown:
        raise ForecastError(f"indicators not in the codebook: {', '.join(unknown)}")
    return end


@dataclass(frozen=True)
class _Selection:
    """Every series of the panel, their pooled change variances, and what is forecast.

    Attributes
    ----------
    series
        Every series of the panel (the pooled variances use them all).
    pooled
        Change variance pooled over states, by indicator key.
    states, indicators
        The states and indicators forecast, in output order.
    """

    series: list[Series]
    pooled: dict[str, float]
    states: list[str]
    indicators: list[str]


def _select(
    panel: pd.DataFrame,
    codebook: Codebook,
    indicators: Sequence[str] | None,
    states: Sequence[str] | None,
) -> _Selection:
    """Read the panel's series and choose the states and indicators to forecast."""
    everything = panel_series(panel, codebook)
    if not everything:
        raise ForecastError("the panel holds no value to forecast from")
    pooled = pooled_change_variance(everything)
    present = {s.indicator.key for s in everything}
    keep_ind = list(indicators) if indicators is not None else [k for k in codebook if k in present]
    keep_state = list(states) if states is not None else sorted({s.state for s in everything})
    return _Selection(everything, pooled, keep_state, keep_ind)


#: forecast draws of one series: its period labels and the draws ``(draws, periods)``
_Cells = dict[tuple[str, str], tuple[list[str], NDArray[np.float64]]]


def _forecast_cells(
    selection: _Selection, method: str, end: pd.Period, draws: int, random_seed: int
) -> tuple[_Cells, NDArray[np.object_], list[str]]:
    """Draw every selected series that has a period to forecast.

    Returns
    -------
    tuple
        The draws by (state, indicator); the method used per (state, indicator) ("" for
        none); the notes on fallbacks, "state indicator: why".
    """
    keep_state, keep_ind = selection.states, selection.indicators
    cells: _Cells = {}
    used = np.full((len(keep_state), len(keep_ind)), "", dtype=object)
    notes = []
    for s in selection.series:
        key = s.indicator.key
        if s.state not in keep_state or key not in keep_ind:
            continue
        periods = horizon(s.last, end)
        if not periods:
            continue
        rng = _series_rng(random_seed, s)
        values, by, note = _draws(method, s, len(periods), selection.pooled[key], draws, rng)
        used[keep_state.index(s.state), keep_ind.index(key)] = by
        if note:
            notes.append(f"{s.state} {key}: {note}")
        if values is not None:
            cells[(s.state, key)] = (format_periods(periods), values)
    return cells, used, notes


def _dataset(
    cells: _Cells, used: NDArray[np.object_], selection: _Selection, draws: int
) -> xr.Dataset:
    """Lay the series' draws on one chronological period axis (NaN where a series has none)."""
    keep_state, keep_ind = selection.states, selection.indicators
    labels = chronological(lab for labs, _ in cells.values() for lab in labs)
    column = {lab: i for i, lab in enumerate(labels)}
    out = np.full((1, draws, len(keep_state), len(keep_ind), len(labels)), np.nan)
    for (state, key), (labs, values) in cells.items():
        view = out[0, :, keep_state.index(state), keep_ind.index(key)]
        view[:, [column[lab] for lab in labs]] = values
    coords = {CHAIN: [0], DRAW: np.arange(draws), STATE: keep_state, INDICATOR: keep_ind}
    return xr.Dataset(
        {
            INDICATOR_VAR: ((CHAIN, DRAW, STATE, INDICATOR, PERIOD), out),
            METHOD_USED: ((STATE, INDICATOR), used.astype(str)),
        },
        coords={**coords, PERIOD: labels},
    )


def _attributes(
    method: str, until: str, random_seed: int, selection: _Selection, draws: int, notes: list[str]
) -> dict[str, object]:
    """Return the forecast's ``attrs``: its arguments, the panel's last period, the notes."""
    return {
        "method": method,
        "until": str(until),
        "random_seed": random_seed,
        "origin": _origin(selection.series),
        "draws": draws,
        "notes": "; ".join(notes),
    }
