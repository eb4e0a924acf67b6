"""Recalibration of the stacked forecast by earlier PIT values (no model fit)."""

from __future__ import annotations

import numpy as np
import pytest

from forecast.dims import ORIGIN
from forecast.evaluation.calibration import GRID, pit_quantiles, recalibrate
from forecast.evaluation.scores import pit_draws
from forecast.evaluation.stacked import (
    MIN_RECALIBRATION,
    RECALIBRATED,
    stack_backtest,
)
from tests.evaluation.stack_helpers import origin_stack


def _heavy_tailed(rng, n, df=2.5):
    """Outcomes with Student-t changes forecast by a Gaussian of the same variance."""
    return rng.standard_t(df, size=n) * np.sqrt((df - 2) / df)


def test_recalibration_flattens_a_central_hump(rng):
    """Gaussian forecasts of heavy-tailed outcomes: PIT humped; recalibrated: uniform."""
    past = pit_draws(_heavy_tailed(rng, 4000), rng.standard_normal((4000, 400)))
    central = ((past > 0.25) & (past < 0.75)).mean()
    assert central > 0.56  # too many outcomes in the central 50 % interval
    q = pit_quantiles(past)
    new_obs = _heavy_tailed(rng, 4000)
    draws = rng.standard_normal((4000, 400))
    after = pit_draws(new_obs, recalibrate(draws, q))
    counts = np.histogram(after, bins=10, range=(0, 1))[0] / len(after)
    assert np.abs(counts - 0.1).max() < 0.02
    assert abs(((after > 0.25) & (after < 0.75)).mean() - 0.5) < 0.02


def test_recalibration_keeps_every_draws_rank(rng):
    """A monotone move within a cell: the draws' joint structure across cells survives."""
    draws = rng.normal(size=(6, 300)).cumsum(axis=0)  # rows strongly dependent
    q = pit_quantiles(rng.beta(3, 3, size=500))
    moved = recalibrate(draws, q)
    np.testing.assert_array_equal(np.argsort(moved, axis=1), np.argsort(draws, axis=1))
    before = np.corrcoef(draws[0], draws[1])[0, 1]
    assert np.corrcoef(moved[0], moved[1])[0, 1] == pytest.approx(before, abs=0.05)
    np.testing.assert_array_equal(recalibrate(draws, GRID), draws)


def test_a_row_with_nan_is_left_alone():
    row = np.array([[1.0, np.nan, 0.0], [3.0, 1.0, 2.0]])
    out = recalibrate(row, pit_quantiles(np.full(10, 0.5)))
    assert np.isnan(out[0, 1]) and out[0, 0] == 1.0
    np.testing.assert_allclose(out[1], 2.0)


def test_bad_quantiles_are_refused():
    with pytest.raises(ValueError, match="non-decreasing"):
        recalibrate(np.zeros((1, 3)), GRID[::-1])
    with pytest.raises(ValueError, match="no finite PIT"):
        pit_quantiles([np.nan])


def _stack(rng, origin, n=150):
    """An origin whose three components are Gaussian forecasts of heavy-tailed outcomes."""
    obs = _heavy_tailed(rng, n)
    draws = tuple(rng.standard_normal((n, 200)) for _ in range(3))
    return origin_stack(origin, obs, draws, f"{origin + 2}-06-30")


def test_backtest_recalibrates_by_public_earlier_pit_only(rng):
    """Leave-future-out: an origin recalibrates by mixtures whose outcomes were public then."""
    stacks = [_stack(rng, origin) for origin in range(2008, 2016)]
    scores, weights = stack_backtest(stacks, [1], ["trade_share"])
    used = weights.groupby(ORIGIN)["recalibration_cells"].first()
    # outcomes of origin Y (period Y + 1) are public in mid Y + 2: origin 2011 sees 2008-2009
    assert used.loc[2008:2010].eq(0).all()  # fewer than MIN_RECALIBRATION public values
    assert used.loc[2011] == 2 * 150 >= MIN_RECALIBRATION
    assert used.loc[2015] == 6 * 150
    late = scores[scores[ORIGIN] >= 2011]

    def central(model):
        pit = late.loc[late["model"] == model, "pit"]
        return ((pit > 0.25) & (pit < 0.75)).mean()

    assert central("stacked") > 0.56
    assert abs(central(RECALIBRATED) - 0.5) < abs(central("stacked") - 0.5)
    crps = late.groupby("model")["crps"].mean()
    assert crps[RECALIBRATED] <= crps["stacked"]
