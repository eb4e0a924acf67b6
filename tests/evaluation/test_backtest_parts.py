"""Backtest building blocks on small synthetic inputs (no model fit)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from forecast.dims import CHAIN, DRAW, HORIZON, INDICATOR, MODEL, ORIGIN, PERIOD, STATE
from forecast.errors import ForecastError
from forecast.evaluation.cells import (
    OBSERVED,
    cell_draws,
    common_cells,
    outcome_cells,
    score_cells,
)
from forecast.evaluation.plan import BacktestSettings, indicator_scales, make_plan, origin_seed


@pytest.fixture(scope="module")
def plan(codebook):
    from forecast.data.panel import DEFAULT_PANEL, read_panel
    from forecast.model.spec import DEFAULT_MODEL, load_model_spec

    spec = load_model_spec(DEFAULT_MODEL, codebook)
    settings = BacktestSettings(origins=(2012, 2019), horizons=(1, 2))
    return make_plan(read_panel(DEFAULT_PANEL, codebook), spec, codebook, settings)


def test_plan_fixes_states_indicators_and_scales(plan):
    assert plan.states == ("KAZ", "KGZ", "TJK", "TKM", "UZB")
    assert plan.indicators == plan.spec.indicators
    assert set(plan.scales) == set(plan.indicators)
    assert all(s > 0 for s in plan.scales.values())
    # shares change by hundredths a year, US aid by millions of dollars
    assert plan.scales["trade_share_rus"] < 0.1 < plan.scales["us_aid"]


def test_outcome_cells_are_the_panel_values_at_origin_plus_horizon(plan):
    cells = outcome_cells(plan, 2012)
    assert set(cells[HORIZON]) == {1, 2}
    assert set(cells[PERIOD]) == {"2013", "2014"}
    row = cells[(cells[STATE] == "KAZ") & (cells[INDICATOR] == "trade_share_chn")]
    row = row[row[PERIOD] == "2013"]
    panel = plan.panel
    value = panel[
        (panel[STATE] == "KAZ")
        & (panel[INDICATOR] == "trade_share_chn")
        & (panel[PERIOD] == "2013")
    ]["value"]
    assert row[OBSERVED].item() == value.item()
    # the panel ends in 2024: origin 2023 has horizon 1 only
    assert set(outcome_cells(plan, 2023)[HORIZON]) == {1}


def _forecast(values: np.ndarray) -> xr.DataArray:
    return xr.DataArray(
        values,
        dims=(CHAIN, DRAW, STATE, INDICATOR, PERIOD),
        coords={STATE: ["KAZ", "UZB"], INDICATOR: ["a"], PERIOD: ["2013", "2014"]},
    )


def test_cell_draws_picks_each_cell_and_fills_missing_with_nan(rng):
    values = rng.normal(size=(2, 5, 2, 1, 2))
    cells = pd.DataFrame(
        {STATE: ["UZB", "KAZ", "TJK"], INDICATOR: "a", PERIOD: ["2014", "2013", "2013"]}
    )
    draws = cell_draws(_forecast(values), cells)
    assert draws.shape == (3, 10)
    np.testing.assert_array_equal(draws[0], values[:, :, 1, 0, 1].ravel())
    np.testing.assert_array_equal(draws[1], values[:, :, 0, 0, 0].ravel())
    assert np.isnan(draws[2]).all()


def test_score_cells_and_common_cells(rng):
    values = rng.normal(size=(1, 50, 2, 1, 2))
    cells = pd.DataFrame(
        {
            ORIGIN: 2012,
            HORIZON: [1, 2, 1],
            STATE: ["KAZ", "KAZ", "TJK"],
            INDICATOR: "a",
            PERIOD: ["2013", "2014", "2013"],
            OBSERVED: [0.0, 0.1, 0.2],
        }
    )
    model = score_cells(_forecast(values), cells, "alignment")
    assert len(model) == 2  # TJK is not forecast
    assert list(model.columns[:7]) == [ORIGIN, HORIZON, STATE, INDICATOR, PERIOD, MODEL, OBSERVED]
    only_one = score_cells(_forecast(values).isel({PERIOD: [0]}), cells, "drift")
    both = common_cells(pd.concat([model, only_one], ignore_index=True))
    assert set(both[PERIOD]) == {"2013"} and len(both) == 2


def test_origin_seeds_are_distinct_and_stable():
    seeds = {origin_seed(1, o, s) for o in range(2008, 2020) for s in range(5)}
    assert len(seeds) == 60
    assert origin_seed(1, 2012) == origin_seed(1, 2012)
    assert all(0 <= s < 2**31 for s in seeds)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"origins": ()}, "at least one origin"),
        ({"horizons": (-1, 1)}, "at least 0"),
        ({"method": "advi"}, "nuts, pathfinder"),
        ({"draws": 0}, "positive"),
        ({"baselines": ("oracle",)}, "unknown baselines"),
    ],
)
def test_settings_are_validated(changes, message):
    base = {"origins": (2010,), "horizons": (1,)}
    with pytest.raises(ForecastError, match=message):
        BacktestSettings(**(base | changes))


def test_settings_label_the_method():
    assert "APPROXIMATE" in BacktestSettings((2010,), (1,), method="pathfinder").label
    assert BacktestSettings((2010,), (1,)).label.startswith("nuts, 2 chains x 300 draws")


def test_indicator_scales_ignore_gaps_and_guard_constants():
    panel = pd.DataFrame(
        {
            STATE: ["KAZ"] * 4 + ["UZB"] * 2,
            INDICATOR: ["x"] * 4 + ["flat"] * 2,
            PERIOD: ["2001", "2002", "2005", "2006", "2001", "2002"],
            "value": [1.0, 2.0, 10.0, 13.0, 0.0, 0.0],
        }
    )
    assert indicator_scales(panel, ("x", "flat")) == {"x": 2.0, "flat": 1.0}


def test_origins_with_nothing_to_score_fit_nothing(plan):
    from dataclasses import replace

    from forecast.evaluation.backtest import run_backtest

    late = replace(plan, settings=BacktestSettings(origins=(2025, 2026), horizons=(1,)))
    result = run_backtest(late)
    assert result.scores.empty
    assert result.fits[ORIGIN].tolist() == [2025, 2026]
    assert set(result.fits["note"]) == {"no outcome to score"}
