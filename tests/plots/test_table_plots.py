"""Scenario, what-if, backtest and calibration plots on small tables and arrays."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

from forecast.plots.pit import plot_pit_histogram
from forecast.plots.reliability import RELIABILITY_COLUMNS, plot_reliability, reliability_table
from forecast.plots.scenarios import plot_scenario_probabilities
from forecast.plots.skill import plot_backtest_skill
from forecast.plots.whatif import plot_whatif_comparison
from tests.plots.conftest import drawn

SCENARIOS = pd.DataFrame(
    {
        "partition": ["leader", "leader", "leader", "trend", "trend"],
        "scenario": ["rus", "chn", "other", "down", "up"],
        "title": ["Russia leads", "China leads", "Other", "Russia lower", "Russia not lower"],
        "probability": [0.5, 0.3, 0.2, 0.7, 0.3],
        "mcse": [0.01, 0.01, 0.005, 0.01, 0.01],
    }
)


def test_scenario_bars_one_panel_per_partition(codebook):
    fig = plot_scenario_probabilities(SCENARIOS, horizon="2030")
    assert isinstance(fig, Figure)
    leader, trend = fig.axes
    assert len(leader.patches) == 3 and len(trend.patches) == 2
    widths = [p.get_width() for p in leader.patches]
    assert widths == [0.5, 0.3, 0.2]
    assert [t.get_text() for t in trend.texts] == ["70%", "30%"]
    assert "2030" in fig.get_suptitle()


def test_scenario_bars_check_columns():
    with pytest.raises(ValueError, match="mcse"):
        plot_scenario_probabilities(SCENARIOS.drop(columns="mcse"))
    with pytest.raises(ValueError, match="empty"):
        plot_scenario_probabilities(SCENARIOS.iloc[:0])


def test_whatif_one_panel_per_whatif():
    table = pd.DataFrame(
        {
            "whatif": ["sanctions", "sanctions", "pipeline", "pipeline"],
            "target": ["rus", "chn", "rus", "chn"],
            "title": ["Russia leads", "China leads"] * 2,
            "baseline": [0.5, 0.3, 0.5, 0.3],
            "probability": [0.4, 0.42, 0.5, 0.35],
        }
    )
    fig = plot_whatif_comparison(table)
    assert len(fig.axes) == 2
    assert all(drawn(ax) for ax in fig.axes)
    changes = [t.get_text() for t in fig.axes[0].texts if t.get_text()]
    assert changes == ["-10 pts", "+12 pts"]
    with pytest.raises(ValueError, match="baseline"):
        plot_whatif_comparison(table.drop(columns="baseline"))


SKILL = pd.DataFrame(
    {
        "horizon": [1, 2, 3, 1, 2, 3],
        "baseline": ["persistence"] * 3 + ["local_level"] * 3,
        "skill": [0.2, 0.1, -0.05, 0.1, 0.0, -0.1],
    }
)


def test_skill_alone_and_with_coverage():
    fig = plot_backtest_skill(SKILL)
    assert len(fig.axes) == 1
    assert len(fig.axes[0].lines) == 2 + 1  # one per baseline and the zero line
    coverage = pd.DataFrame(
        {
            "horizon": [1, 2, 3] * 2,
            "level": [0.5] * 3 + [0.9] * 3,
            "coverage": [0.45, 0.5, 0.4, 0.85, 0.9, 0.8],
        }
    )
    fig = plot_backtest_skill(SKILL, coverage)
    assert len(fig.axes) == 2
    assert all(drawn(ax) for ax in fig.axes)


def test_skill_rejects_ambiguous_rows():
    with pytest.raises(ValueError, match="more than one row"):
        plot_backtest_skill(pd.concat([SKILL, SKILL]))


def test_reliability_table_matches_a_direct_count(rng):
    prob = rng.uniform(size=500)
    hit = (rng.uniform(size=500) < prob).astype(int)
    table = reliability_table(prob, hit, n_bins=5)
    assert tuple(table.columns) == RELIABILITY_COLUMNS
    counts, _ = np.histogram(prob, bins=np.linspace(0, 1, 6))
    assert table["count"].tolist() == counts.tolist()
    events, _ = np.histogram(prob[hit == 1], bins=np.linspace(0, 1, 6))
    np.testing.assert_allclose(table["frequency"], events / counts)
    assert (table["consistency_low"] <= table["mean_forecast"]).all()
    assert (table["mean_forecast"] <= table["consistency_high"]).all()


def test_reliability_table_puts_certainty_in_the_end_bins():
    table = reliability_table([0.0, 1.0, 1.0], [0, 1, 1], n_bins=4)
    assert table[["bin_low", "frequency", "count"]].values.tolist() == [
        [0.0, 0.0, 1],
        [0.75, 1.0, 2],
    ]


@pytest.mark.parametrize(
    ("forecasts", "outcomes", "message"),
    [
        ([0.5], [1, 0], "outcomes"),
        ([1.5], [1], r"\[0, 1\]"),
        ([0.5], [2], "0 or 1"),
        ([], [], "no event"),
    ],
)
def test_reliability_table_rejects_bad_input(forecasts, outcomes, message):
    with pytest.raises(ValueError, match=message):
        reliability_table(forecasts, outcomes)


def test_reliability_diagram_has_diagram_and_histogram(rng):
    prob = rng.uniform(size=100)
    fig = plot_reliability(prob, prob > 0.5)
    assert len(fig.axes) == 2
    assert all(drawn(ax) for ax in fig.axes)
    assert sum(p.get_height() for p in fig.axes[1].patches) == 100


def test_pit_histogram_is_a_density_with_a_uniform_reference(rng):
    fig = plot_pit_histogram(rng.uniform(size=200), n_bins=8)
    (ax,) = fig.axes
    bars = [p for p in ax.patches if p.get_width() == pytest.approx(1 / 8)]
    assert len(bars) == 8
    assert sum(p.get_height() for p in bars) / 8 == pytest.approx(1.0)
    assert any(list(line.get_ydata()) == [1.0, 1.0] for line in ax.lines)
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        plot_pit_histogram([0.5, 1.2])


def test_questions_without_a_partition_get_their_own_panel():
    table = pd.concat(
        [
            SCENARIOS.assign(partition_title=lambda t: t["partition"].str.title()),
            pd.DataFrame(
                {
                    "partition": [""],
                    "scenario": ["q1"],
                    "title": ["KAZ trade with China > 25 %"],
                    "probability": [0.4],
                    "mcse": [0.01],
                    "partition_title": [""],
                }
            ),
        ],
        ignore_index=True,
    )
    fig = plot_scenario_probabilities(table)
    assert [ax.get_title(loc="left") for ax in fig.axes] == ["Leader", "Trend", "Questions"]


def test_skill_accepts_the_evaluation_layers_wide_coverage():
    wide = pd.DataFrame(
        {
            "model": "alignment",
            "horizon": [1, 2, 3],
            "cells": 10,
            "covered_50": [0.5, 0.4, 0.4],
            "covered_90": [0.9, 0.85, 0.8],
        }
    )
    fig = plot_backtest_skill(SKILL, wide)
    labels = [t.get_text() for t in fig.axes[1].get_legend().get_texts()]
    assert labels == ["50% interval", "90% interval"]
    with pytest.raises(ValueError, match="several models"):
        plot_backtest_skill(SKILL, pd.concat([wide, wide.assign(model="persistence")]))


def test_quantile_reliability_draws_the_shares_and_refuses_bad_input():
    from forecast.plots import plot_quantile_reliability

    fig = plot_quantile_reliability([0.1, 0.5, 0.9], [0.05, 0.5, 0.95], cells=100)
    (ax,) = fig.axes
    _, y = ax.lines[-1].get_data()
    assert list(y) == [0.05, 0.5, 0.95]
    with pytest.raises(ValueError, match="levels must lie"):
        plot_quantile_reliability([0.0, 0.5], [0.1, 0.5], cells=10)
    with pytest.raises(ValueError, match="2 levels but 1"):
        plot_quantile_reliability([0.2, 0.5], [0.1], cells=10)
