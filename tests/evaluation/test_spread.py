"""The spread-adjusted pool: the transform, its learning, and its place in the backtest."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from forecast.dims import INDICATOR, ORIGIN
from forecast.evaluation import spread as spread_module
from forecast.evaluation.scores import covered, crps_draws, interval_bounds
from forecast.evaluation.spread import (
    GRID,
    IDENTITY,
    adjust_spread,
    adjusted_mixture,
    grid_statistics,
    kind_bounds,
    learned_spread,
)
from forecast.evaluation.stacked import RECALIBRATED, SPREAD_ADJUSTED, stack_backtest
from tests.evaluation.stack_helpers import origin_stack

UNBOUNDED = (np.array([-np.inf]), np.array([np.inf]))


def test_identity_leaves_every_draw_in_place(rng):
    draws = rng.normal(size=(4, 200))
    np.testing.assert_array_equal(adjust_spread(draws, *IDENTITY), draws)


def test_adjustment_keeps_ranks_and_centre(rng):
    draws = rng.normal(2.0, 3.0, size=(5, 301))
    for spread, shape in [(0.5, 1.0), (1.3, 1.5)]:
        moved = adjust_spread(draws, spread, shape)
        np.testing.assert_array_equal(np.argsort(moved, axis=1), np.argsort(draws, axis=1))
        np.testing.assert_allclose(np.median(moved, axis=1), np.median(draws, axis=1))
    narrow = adjust_spread(draws, 0.5)
    np.testing.assert_allclose(narrow.std(axis=1), 0.5 * draws.std(axis=1))


def test_a_shape_above_one_narrows_the_centre_and_stretches_the_tails(rng):
    draws = rng.standard_normal((1, 20000))
    moved = adjust_spread(draws, 1.0, 1.5)
    q = np.quantile(np.abs(moved), [0.25, 0.99])
    base = np.quantile(np.abs(draws), [0.25, 0.99])
    assert q[0] < base[0] and q[1] > base[1]


def test_draws_beyond_a_bound_become_the_bound(rng):
    """A widened share forecast near 0 puts mass on the exact 0 the data can hold."""
    draws = np.clip(rng.normal(0.05, 0.04, size=(1, 1000)), 0.0, 1.0)
    lower, upper = kind_bounds("share")
    moved = adjust_spread(draws, 1.8, 1.0, lower, upper)
    assert moved.min() == 0.0 and (moved == 0.0).mean() > 0.05
    assert moved.max() <= 1.0
    assert kind_bounds("positive") == (0.0, np.inf)


def test_constant_and_nan_rows_are_left_alone():
    rows = np.array([[1.0, 1.0, 1.0], [0.0, np.nan, 2.0]])
    out = adjust_spread(rows, 0.5)
    np.testing.assert_array_equal(out[0], rows[0])
    assert np.isnan(out[1, 1])


def test_bad_parameters_are_refused():
    with pytest.raises(ValueError, match="positive"):
        adjust_spread(np.zeros((1, 3)), 0.0)
    with pytest.raises(ValueError, match="positive"):
        adjust_spread(np.zeros((1, 3)), 1.0, -1.0)


def test_grid_statistics_score_what_adjusted_mixture_draws(rng):
    n = 30
    obs = rng.normal(size=n)
    comps = [obs[:, None] + rng.normal(j, 1.0 + j, size=(n, 120)) for j in range(3)]
    weights = np.tile([0.5, 0.3, 0.2], (n, 1))
    lower, upper = np.full(n, -1.0), np.full(n, np.inf)
    stats = grid_statistics(obs, comps, weights, lower, upper)
    assert stats.shape == (n, 3 * len(GRID))
    for g in (0, GRID.index(IDENTITY), len(GRID) - 1):
        mixed = adjusted_mixture(comps, weights, *GRID[g], lower, upper)
        np.testing.assert_allclose(stats[f"crps_{g}"], crps_draws(obs, mixed))
        for level in (50, 90):
            low, high = interval_bounds(mixed, level / 100)
            np.testing.assert_array_equal(stats[f"covered{level}_{g}"], covered(obs, low, high))


def _graded(rng, n, sd, centre=0.0, indicator="us_aid"):
    """Outcomes N(0, 1) forecast by three identical components N(centre, sd^2)."""
    obs = rng.standard_normal(n)
    comps = [centre + sd * rng.standard_normal((n, 400)) for _ in range(3)]
    weights = np.tile([1.0, 0.0, 0.0], (n, 1))
    stats = grid_statistics(obs, comps, weights, *(np.full(n, b) for b in (-np.inf, np.inf)))
    keys = pd.DataFrame({INDICATOR: indicator, "scale": 1.0}, index=range(n))
    return pd.concat([keys, stats], axis=1)


def test_learning_recovers_the_spread_of_a_too_wide_forecast(rng, monkeypatch):
    """Parameter recovery: a forecast twice too wide needs c = 0.5, p = 1."""
    stats = _graded(rng, 1500, 2.0)
    monkeypatch.setattr(spread_module, "COVERAGE_FLOOR", 0.0)  # the CRPS alone decides
    (row,) = learned_spread(stats, ["us_aid"]).to_dict("records")
    assert (row["spread"], row["shape"]) == (0.5, 1.0)
    assert row["spread_basis"] == "family"


def test_the_floor_keeps_the_ninety_percent_intervals_wide_enough(rng):
    """With the floor, c is the narrowest whose 90 % intervals cover >= 0.92: 0.6, not 0.5."""
    stats = _graded(rng, 1500, 2.0)
    (row,) = learned_spread(stats, ["us_aid"]).to_dict("records")
    g = GRID.index((row["spread"], row["shape"]))
    assert stats[f"covered90_{g}"].mean() >= spread_module.COVERAGE_FLOOR
    assert row["spread"] < 1.0
    narrow = GRID.index((0.5, 1.0))
    assert stats[f"covered90_{narrow}"].mean() < spread_module.COVERAGE_FLOOR


def test_an_unreachable_floor_leaves_the_components_alone(rng):
    """A forecast centred far from every outcome covers nothing at any spread: identity."""
    stats = _graded(rng, 200, 1.0, centre=6.0)
    (row,) = learned_spread(stats, ["us_aid"]).to_dict("records")
    assert (row["spread"], row["shape"]) == IDENTITY


def test_few_cells_pool_or_fall_back_to_identity(rng):
    stats = _graded(rng, 60, 2.0)
    table = learned_spread(stats, ["us_aid", "remittances_gdp"]).set_index("family")
    assert table.loc["remittances_gdp", "spread_basis"] == "pooled"
    assert table.loc["remittances_gdp", "spread"] == table.loc["us_aid", "spread"]
    empty = learned_spread(pd.DataFrame(), ["us_aid"])
    assert empty["spread_basis"].tolist() == ["identity"]


def test_backtest_learns_the_spread_from_earlier_public_cells_only(rng):
    """Too-wide components: the variant narrows them once earlier outcomes are public."""

    def stack(origin, n=120):
        obs = rng.standard_normal(n)
        draws = tuple(2.0 * rng.standard_normal((n, 300)) for _ in range(3))
        return origin_stack(origin, obs, draws, f"{origin + 2}-06-30")

    stacks = [stack(origin) for origin in range(2008, 2013)]
    scores, weights = stack_backtest(stacks, [1], ["trade_share"])
    used = weights.set_index(ORIGIN)
    # outcomes of origin Y are public in mid Y + 2: 2008 and 2009 see none
    assert (used.loc[[2008, 2009], "spread_basis"] == "identity").all()
    assert (used.loc[[2011, 2012], "spread"] < 1.0).all()
    late = scores[scores[ORIGIN] >= 2011].groupby("model")["crps"].mean()
    assert late[SPREAD_ADJUSTED] < late["stacked"]
    assert set(scores["model"]) == {"stacked", SPREAD_ADJUSTED, RECALIBRATED}
    # with nothing learned yet the adjusted mixture is the mixture, draw for draw (the
    # stacked forecast's CRPS is its mixture's over every component draw, the adjusted one's
    # over the mixed draws: equal up to Monte Carlo error)
    first = {
        m: scores[(scores[ORIGIN] == 2008) & (scores["model"] == m)].reset_index(drop=True)
        for m in ("stacked", SPREAD_ADJUSTED)
    }
    for column in ("pit", "lower_90", "upper_90", "median"):
        np.testing.assert_allclose(first["stacked"][column], first[SPREAD_ADJUSTED][column])
    np.testing.assert_allclose(
        first["stacked"]["crps"].mean(), first[SPREAD_ADJUSTED]["crps"].mean(), rtol=0.05
    )
