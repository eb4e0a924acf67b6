"""The data coverage map and the grid it draws."""

from __future__ import annotations

import pytest

from forecast.plots.coverage_map import coverage_grid, plot_data_coverage
from tests.plots.conftest import STATES, drawn


def test_grid_counts_years_and_quarter_shares(panel):
    grid = coverage_grid(panel)
    # the row without a value (2014) does not count
    assert list(grid.columns) == list(range(2015, 2021))
    assert grid.loc[("KAZ", "eu_exports"), 2020] == pytest.approx(0.75)
    assert grid.loc[("KAZ", "eu_exports"), 2019] == 0.0
    assert grid.loc[("UZB", "us_aid")].tolist() == [1.0] * 6


def test_map_has_one_panel_per_state_and_marks_the_data_end(panel, codebook):
    fig = plot_data_coverage(panel, codebook=codebook, as_of=2026)
    assert len(fig.axes) == len(STATES)
    assert all(drawn(ax) for ax in fig.axes)
    notes = [t.get_text() for t in fig.axes[0].texts]
    assert "data end (2020)" in notes and "no data yet" in notes
    assert fig.axes[0].get_xlim()[1] == 2026.5


def test_map_subsets(panel):
    fig = plot_data_coverage(panel, states=["UZB"], indicators=["us_aid"])
    assert len(fig.axes) == 1
    assert [t.get_text() for t in fig.axes[0].get_yticklabels()] == ["us_aid"]
    with pytest.raises(ValueError, match="no panel rows"):
        plot_data_coverage(panel, indicators=["nothing"])
