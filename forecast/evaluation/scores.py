"""Proper scores of forecasts against outcomes, as thin wrappers over ``scoringrules``.

Continuous forecasts come as draws (an ensemble, the last axis): CRPS, the interval score of
central intervals and their coverage, and PIT values. Event forecasts come as probabilities:
Brier and log score; ordered partitions as category probabilities: RPS. ``scoringrules``
computes every score; this module only fixes conventions (which intervals, which column
names) and computes the two things the library does not offer, the central interval bounds
of an ensemble and its PIT value.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

if TYPE_CHECKING:
    from types import ModuleType

#: central prediction intervals scored and checked for coverage
INTERVAL_LEVELS: Final = (0.5, 0.8, 0.9, 0.95)


def _scoringrules() -> ModuleType:
    # imported on first use: scoringrules compiles numba kernels at import (seconds), which
    # commands that only record or list forecasts should not pay for
    import scoringrules

    return scoringrules


def level_label(level: float) -> str:
    """Column suffix of an interval level: ``0.9`` -> ``"90"``.

    Examples
    --------
    >>> level_label(0.5), level_label(0.95)
    ('50', '95')
    """
    return f"{round(level * 100):d}"


def crps_draws(obs: ArrayLike, draws: ArrayLike) -> NDArray[np.float64]:
    """CRPS of an ensemble forecast (draws on the last axis); NaN where ``obs`` is NaN.

    The empirical distribution of the draws is scored exactly (``scoringrules``' default
    quantile-decomposition estimator), as for any ensemble.

    Examples
    --------
    >>> float(crps_draws(0.0, [-1.0, 1.0]))
    0.5
    """
    return np.asarray(_scoringrules().crps_ensemble(obs, np.asarray(draws, dtype=float), m_axis=-1))


def interval_bounds(
    draws: ArrayLike, level: float
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Equal-tailed central interval of an ensemble (draws on the last axis).

    Examples
    --------
    >>> lower, upper = interval_bounds(np.arange(101.0), 0.9)
    >>> round(float(lower), 6), round(float(upper), 6)
    (5.0, 95.0)
    """
    tail = (1.0 - level) / 2.0
    lower, upper = np.quantile(np.asarray(draws, dtype=float), [tail, 1.0 - tail], axis=-1)
    return lower, upper


def interval_score(
    obs: ArrayLike, lower: ArrayLike, upper: ArrayLike, level: float
) -> NDArray[np.float64]:
    """Interval (Winkler) score of the central ``level`` interval ``[lower, upper]``.

    Examples
    --------
    >>> float(interval_score(0.5, 0.0, 1.0, 0.9)), float(interval_score(2.0, 0.0, 1.0, 0.5))
    (1.0, 5.0)
    """
    return np.asarray(_scoringrules().interval_score(obs, lower, upper, 1.0 - level), dtype=float)


def covered(obs: ArrayLike, lower: ArrayLike, upper: ArrayLike) -> NDArray[np.float64]:
    """1.0 where ``lower <= obs <= upper``, 0.0 where not, NaN where ``obs`` is NaN.

    Examples
    --------
    >>> covered([0.5, 2.0, np.nan], 0.0, 1.0).tolist()
    [1.0, 0.0, nan]
    """
    obs = np.asarray(obs, dtype=float)
    inside = (np.asarray(lower) <= obs) & (obs <= np.asarray(upper))
    return np.where(np.isnan(obs), np.nan, inside.astype(float))


def pit_draws(obs: ArrayLike, draws: ArrayLike) -> NDArray[np.float64]:
    """PIT value of ``obs`` under an ensemble: the share of draws below it, ties counted half.

    Counting ties half (the mid-rank PIT) keeps the value deterministic for discrete
    forecasts such as vote shares out of a fixed number of roll calls; a calibrated forecast
    gives PIT values centred on 0.5 with the spread of a uniform distribution.
    ``scoringrules`` offers no PIT, hence this one line of arithmetic.

    Examples
    --------
    >>> pit_draws([0.0, 1.0, 2.5], [0.0, 1.0, 2.0, 3.0]).tolist()
    [0.125, 0.375, 0.75]
    """
    obs = np.asarray(obs, dtype=float)
    draws = np.asarray(draws, dtype=float)
    below = (draws < obs[..., None]).mean(axis=-1)
    tied = (draws == obs[..., None]).mean(axis=-1)
    return np.where(np.isnan(obs), np.nan, below + 0.5 * tied)


def brier(obs: ArrayLike, prob: ArrayLike) -> NDArray[np.float64]:
    """Brier score of event probabilities against 0/1 outcomes.

    Examples
    --------
    >>> round(float(brier(1, 0.8)), 6)
    0.04
    """
    return np.asarray(_scoringrules().brier_score(obs, prob), dtype=float)


def log_score(obs: ArrayLike, prob: ArrayLike) -> NDArray[np.float64]:
    """Logarithmic score (negative log probability of what happened) of event probabilities.

    Infinite when an outcome had probability 0: callers scoring Monte Carlo probabilities
    bound them away from 0 and 1 first (see :func:`bounded_probability`).

    Examples
    --------
    >>> round(float(log_score(1, 0.5)), 6)
    0.693147
    """
    return np.asarray(_scoringrules().log_score(obs, prob), dtype=float)


def bounded_probability(prob: ArrayLike, n_draws: ArrayLike) -> NDArray[np.float64]:
    """Bound a Monte Carlo probability from ``n_draws`` draws to ``[1/(2n), 1 - 1/(2n)]``.

    A probability estimated as 0 from ``n`` draws means "below about 1/n", not "impossible";
    the bound keeps the log score finite without changing any estimate that is not 0 or 1.

    Examples
    --------
    >>> bounded_probability([0.0, 0.3, 1.0], 100).tolist()
    [0.005, 0.3, 0.995]
    """
    eps = 0.5 / np.asarray(n_draws, dtype=float)
    return np.clip(np.asarray(prob, dtype=float), eps, 1.0 - eps)


def rps(obs: ArrayLike, probs: ArrayLike) -> NDArray[np.float64]:
    """Ranked probability score of an ordered partition.

    Parameters
    ----------
    obs
        Category that occurred, 1-based (``scoringrules``' convention).
    probs
        Category probabilities on the last axis, in the partition's order.

    Examples
    --------
    >>> round(float(rps(3, [0.1, 0.2, 0.3, 0.4])), 6)
    0.26
    """
    return np.asarray(_scoringrules().rps_score(obs, np.asarray(probs, dtype=float)), dtype=float)


def ensemble_scores(
    obs: ArrayLike, draws: ArrayLike, levels: tuple[float, ...] = INTERVAL_LEVELS
) -> pd.DataFrame:
    """Every score of an ensemble forecast per cell, as a tidy table.

    Parameters
    ----------
    obs
        Outcomes, shape ``(n,)``.
    draws
        Forecast draws, shape ``(n, m)``.
    levels
        Central interval levels.

    Returns
    -------
    pandas.DataFrame
        One row per cell: ``mean``, ``median``, ``crps``, ``pit``, and per level ``lower_L``,
        ``upper_L``, ``interval_L`` (interval score) and ``covered_L`` (0/1), with ``L`` the
        level in percent (``covered_90``).

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> table = ensemble_scores([0.0, 3.0], rng.normal(size=(2, 4000)))
    >>> table[["covered_50", "covered_95"]].to_numpy().tolist()
    [[1.0, 1.0], [0.0, 0.0]]
    """
    obs = np.asarray(obs, dtype=float)
    draws = np.asarray(draws, dtype=float)
    if obs.size == 0:
        names = ["mean", "median", "crps", "pit"] + [
            f"{kind}_{level_label(level)}"
            for level in levels
            for kind in ("lower", "upper", "interval", "covered")
        ]
        return pd.DataFrame({name: np.zeros(0) for name in names})
    columns: dict[str, NDArray[np.float64]] = {
        "mean": draws.mean(axis=-1),
        "median": np.median(draws, axis=-1),
        "crps": crps_draws(obs, draws),
        "pit": pit_draws(obs, draws),
    }
    for level in levels:
        label = level_label(level)
        lower, upper = interval_bounds(draws, level)
        columns[f"lower_{label}"] = lower
        columns[f"upper_{label}"] = upper
        columns[f"interval_{label}"] = interval_score(obs, lower, upper, level)
        columns[f"covered_{label}"] = covered(obs, lower, upper)
    return pd.DataFrame({k: np.atleast_1d(v) for k, v in columns.items()})
