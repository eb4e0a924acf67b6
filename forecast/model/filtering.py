"""The exact carry of a series observed with standard errors: a scalar Kalman filter.

A Gaussian series' value is ``eta + u + e``: the latent-implied level, an AR(1) deviation
``u`` and, where the value is published with a standard error ``se`` (the UN ideal points),
a Normal error ``e ~ N(0, se^2)``. Given the latent, a series' residuals ``y - eta`` are then
jointly Normal, and the filter writes their density exactly as a product of one-step
predictives (the prediction-error decomposition): each value's mean is the deviation's
expectation given *all* of the series' earlier values, carried ``phi^d`` forward, and its
variance that expectation's uncertainty plus the deviation's conditional variance and
``se^2``.

``carry = "filtered_se"`` conditions on the last value only (its gain ``v / (v + se^2)``),
which is exact for a series without standard errors and loses what the earlier values say
for a series with them: with a persistence near 1 and standard errors as large as the
deviations, the UN ideal points' persistence was recovered too low (missed at 5 of 7
simulations at a true 0.95, ``benchmarks/results/probe_t_recovery.txt``). ``carry =
"kalman"`` filters those series exactly; every other series is as under ``"filtered_se"``,
whose formulas are this filter's with ``se = 0``.

The recursion is written once, in plain arithmetic, and runs on NumPy arrays (the
projection, vectorised over draws) and on PyTensor tensors (the likelihood, vectorised over
series, one scan over positions).

Not the default: on the real UN series the exact filter puts their persistence at 0.83
where ``"filtered_se"`` gives 0.98, and forecasts them worse in the backtest
(``benchmarks/results/backtest_2026-12-08_kalman/``).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytensor
import pytensor.tensor as pt
from numpy.typing import ArrayLike, NDArray


def filter_step(
    mean: Any, var: Any, resid: Any, se: Any, phi_d: Any, q: Any, has_prev: Any
) -> tuple[Any, Any, Any, Any]:
    """One step of the deviation's filter: predict a value, then update on it.

    Parameters
    ----------
    mean, var
        The deviation's filtered mean and variance at the series' previous value.
    resid
        This value's residual ``y - eta``.
    se
        Its standard error (0: none, and the update returns the residual itself).
    phi_d
        ``phi^d``, ``d`` periods after the previous value.
    q
        The deviation's variance given the previous deviation (for a series' first value,
        its marginal variance).
    has_prev
        0 for a series' first value (the filtered state is then ignored), else 1.

    Returns
    -------
    tuple
        The predicted deviation's mean and variance (the value's predictive variance is
        that plus ``se^2``), then the filtered mean and variance after this value.

    Examples
    --------
    A first value with ``se^2`` equal to the deviation's variance is half deviation:

    >>> filter_step(0.0, 0.0, 2.0, 1.0, 0.9, 1.0, 0)
    (0.0, 1.0, 1.0, 0.5)

    Without a standard error the filter carries the residual itself, like the observed carry:

    >>> [round(v, 6) for v in filter_step(1.0, 0.5, 2.0, 0.0, 0.9, 0.19, 1)]
    [0.9, 0.595, 2.0, 0.0]
    """
    pred_mean = has_prev * phi_d * mean
    pred_var = has_prev * phi_d**2 * var + q
    gain = pred_var / (pred_var + se**2)
    return pred_mean, pred_var, pred_mean + gain * (resid - pred_mean), (1.0 - gain) * pred_var


def filtered_series(
    indicator: ArrayLike, state: ArrayLike, se: ArrayLike, width: int
) -> NDArray[np.int64]:
    """Rows of each series whose indicator has a published standard error, padded with -1.

    Rows must be sorted by series and, within one, by period (as the model's observations
    are). A series is one (indicator, state) pair; only indicators any of whose values has a
    standard error are filtered (the others' filter is their one-step carry).

    Parameters
    ----------
    indicator, state, se
        Per row: indicator position, state position, standard error (0: none).
    width
        Columns of the result (at least the longest series: the model's number of steps).

    Returns
    -------
    numpy.ndarray
        ``(series, width)`` row indices, each series' rows in order, then -1.

    Examples
    --------
    >>> filtered_series([0, 0, 1, 1, 1], [0, 1, 0, 0, 1], [0, 0, 0.2, 0.3, 0.1], 3).tolist()
    [[2, 3, -1], [4, -1, -1]]
    """
    indicator = np.asarray(indicator, dtype=np.int64)
    state = np.asarray(state, dtype=np.int64)
    with_se = np.unique(indicator[np.asarray(se, dtype=float) > 0])
    keys = list(dict.fromkeys(zip(indicator.tolist(), state.tolist(), strict=True)))
    series = [key for key in keys if key[0] in with_se]
    rows = np.full((len(series), width), -1, dtype=np.int64)
    for s, (i, st) in enumerate(series):
        members = np.flatnonzero((indicator == i) & (state == st))
        if members.size > width:
            raise ValueError(f"a series has {members.size} values, more than width {width}")
        rows[s, : members.size] = members
    return rows


def filter_arrays(rows: NDArray[np.int64]) -> dict[str, NDArray[np.int64]]:
    """Return the graph's index arrays for :func:`exact_carry`, from :func:`filtered_series`.

    ``rows`` with its padding pointed at row 0 (gathered, never scattered back), the flat
    positions of its real entries, and the rows they are.
    """
    valid = np.flatnonzero(rows.ravel() >= 0)
    return {
        "gaussian_filter_rows": np.where(rows >= 0, rows, 0),
        "gaussian_filter_valid": valid,
        "gaussian_filter_target": rows.ravel()[valid],
    }


def exact_carry(
    arrays: dict[str, Any],
    resid: Any,
    phi_d: Any,
    q: Any,
    has_prev: Any,
    carry: Any,
    variance: Any,
) -> tuple[Any, Any]:
    """Replace the filtered series' one-step carry and variance by the filter's, in the graph.

    Per Gaussian row: ``resid``, ``phi_d``, ``q`` (the deviation's conditional variance) and
    ``has_prev`` as :func:`filter_step` reads them; ``carry`` and ``variance`` are the one-step
    mean and deviation variance of every row, returned with the filtered series' rows
    replaced (their variance still without ``se^2``). The filter runs over the columns of
    ``arrays["gaussian_filter_rows"]``, all series at once.
    """
    rows = arrays["gaussian_filter_rows"]
    n_series, width = rows.get_value().shape
    # one gather per input, (position, series), and a scan over the positions: unrolled
    # over them, the default model compiled in 412 s (beside other work), with the scan 182 s
    by_position = rows.T
    inputs = [v[by_position] for v in (resid, arrays["gaussian_obs_se"], phi_d, q, has_prev)]

    def step(*args: Any) -> list[Any]:
        *row, mean, var = args
        return list(filter_step(mean, var, *row))

    start = pt.zeros((n_series,))
    means, variances, _, _ = pytensor.scan(
        step,
        sequences=inputs,
        outputs_info=[None, None, start, start],
        n_steps=width,
        return_updates=False,
    )
    valid, target = arrays["gaussian_filter_valid"], arrays["gaussian_filter_target"]
    # flat positions of (series, position): the steps as columns
    flat_mean = means.T.ravel()[valid]
    flat_var = variances.T.ravel()[valid]
    return pt.set_subtensor(carry[target], flat_mean), pt.set_subtensor(variance[target], flat_var)
