"""Scores: each cross-checked against a direct computation, plus properties."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from forecast.evaluation.scores import (
    INTERVAL_LEVELS,
    bounded_probability,
    brier,
    covered,
    crps_draws,
    ensemble_scores,
    interval_bounds,
    interval_score,
    log_score,
    pit_draws,
    rps,
)


def test_crps_matches_the_energy_form(rng):
    draws = rng.normal(size=200)
    y = 0.3
    direct = np.abs(draws - y).mean() - 0.5 * np.abs(draws[:, None] - draws[None, :]).mean()
    assert float(crps_draws(y, draws)) == pytest.approx(direct, rel=1e-10)


def test_crps_of_a_large_normal_ensemble_matches_the_closed_form(rng):
    from scipy.stats import norm

    y, draws = 0.7, rng.normal(size=200_000)
    z = y
    closed = z * (2 * norm.cdf(z) - 1) + 2 * norm.pdf(z) - 1 / np.sqrt(np.pi)
    assert float(crps_draws(y, draws)) == pytest.approx(closed, rel=0.01)


def test_interval_score_matches_its_definition():
    lower, upper, level = 1.0, 3.0, 0.8
    alpha = 1 - level
    for y, expected in ((2.0, 2.0), (0.5, 2.0 + 2 / alpha * 0.5), (4.0, 2.0 + 2 / alpha * 1.0)):
        assert float(interval_score(y, lower, upper, level)) == pytest.approx(expected)


def test_brier_and_log_score_match_their_definitions():
    p = np.array([0.1, 0.7, 0.95])
    y = np.array([0, 1, 0])
    np.testing.assert_allclose(brier(y, p), (p - y) ** 2)
    np.testing.assert_allclose(log_score(y, p), -np.log(np.where(y == 1, p, 1 - p)))


def test_rps_matches_the_cumulative_form():
    probs = np.array([0.2, 0.5, 0.3])
    happened = 2  # 1-based
    onehot = np.array([0, 1, 0])
    direct = np.sum((np.cumsum(probs) - np.cumsum(onehot)) ** 2)
    assert float(rps(happened, probs)) == pytest.approx(direct)


def test_pit_is_the_share_below_with_ties_halved():
    draws = np.array([1.0, 2.0, 2.0, 3.0])
    assert pit_draws(2.0, draws) == pytest.approx((1 + 0.5 * 2) / 4)
    assert pit_draws(0.0, draws) == 0.0
    assert pit_draws(9.0, draws) == 1.0


def test_pit_of_a_calibrated_forecast_is_uniform(rng):
    n = 4000
    obs = rng.normal(size=n)
    draws = rng.normal(size=(n, 200))
    pit = pit_draws(obs, draws)
    counts, _ = np.histogram(pit, bins=10, range=(0, 1))
    assert counts.min() > 0.8 * n / 10 and counts.max() < 1.2 * n / 10


def test_intervals_of_a_calibrated_forecast_cover_their_level(rng):
    obs = rng.normal(size=3000)
    table = ensemble_scores(obs, rng.normal(size=(3000, 400)))
    for level in INTERVAL_LEVELS:
        label = f"{round(level * 100)}"
        assert table[f"covered_{label}"].mean() == pytest.approx(level, abs=0.03)


def test_ensemble_scores_columns_and_nan_outcomes(rng):
    table = ensemble_scores(np.array([0.0, np.nan]), rng.normal(size=(2, 50)))
    assert {"mean", "median", "crps", "pit", "lower_90", "upper_90", "interval_90"} <= set(
        table.columns
    )
    assert table.loc[1, ["crps", "pit", "covered_50"]].isna().all()
    assert table.loc[0, ["crps", "pit", "covered_50"]].notna().all()


def test_covered_and_bounds_agree():
    draws = np.arange(1.0, 101.0)
    lower, upper = interval_bounds(draws, 0.5)
    assert covered(50.0, lower, upper) == 1.0
    assert covered(90.0, lower, upper) == 0.0


def test_bounded_probability_keeps_log_score_finite():
    p = bounded_probability(np.array([0.0, 1.0]), 1000)
    assert np.isfinite(log_score(np.array([1, 0]), p)).all()


finite = st.floats(-1e3, 1e3, allow_nan=False)


@settings(max_examples=60, deadline=None)
@given(obs=finite, draws=arrays(np.float64, st.integers(1, 30), elements=finite))
def test_crps_is_non_negative_and_zero_for_a_point_mass_at_the_outcome(obs, draws):
    assert float(crps_draws(obs, draws)) >= -1e-9
    assert float(crps_draws(obs, np.full(5, obs))) == pytest.approx(0.0, abs=1e-9)


@settings(max_examples=30, deadline=None)
@given(
    obs=arrays(np.float64, 3, elements=finite),
    draws=arrays(np.float64, (3, 8), elements=finite),
)
def test_scores_do_not_change_with_a_leading_axis(obs, draws):
    flat = ensemble_scores(obs, draws)
    stacked = crps_draws(obs[None, :], draws[None, :, :])[0]
    np.testing.assert_allclose(stacked, flat["crps"].to_numpy())
    np.testing.assert_allclose(pit_draws(obs[None], draws[None])[0], flat["pit"].to_numpy())


@settings(max_examples=40, deadline=None)
@given(
    lower=finite,
    width=st.floats(0, 100),
    obs=finite,
    level=st.sampled_from(INTERVAL_LEVELS),
)
def test_interval_score_is_at_least_the_width(lower, width, obs, level):
    upper = lower + width
    score = float(interval_score(obs, lower, upper, level))
    if lower <= obs <= upper:
        assert score == pytest.approx(upper - lower)
    else:
        assert score >= upper - lower


def test_no_cells_give_an_empty_table_with_every_column(rng):
    empty = ensemble_scores(np.zeros(0), np.zeros((0, 10)))
    full = ensemble_scores(np.zeros(1), rng.normal(size=(1, 10)))
    assert empty.empty and list(empty.columns) == list(full.columns)
