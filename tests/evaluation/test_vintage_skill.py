"""Vintage cuts and the skill and coverage tables."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from forecast.dims import HORIZON, INDICATOR, MODEL, ORIGIN, PERIOD, STATE
from forecast.errors import ForecastError
from forecast.evaluation.skill import coverage_table, crps_skill, losses, model_name
from forecast.evaluation.vintage import origin_date, public_at, target_period


def test_public_at_keeps_rows_published_by_the_date():
    panel = pd.DataFrame(
        {
            PERIOD: ["2010", "2011", "2011"],
            "vintage": ["2011-06-30", "2012-12-31", "2013-01-01"],
        }
    )
    cut = public_at(panel, origin_date(2012))
    assert cut["vintage"].tolist() == ["2011-06-30", "2012-12-31"]
    with pytest.raises(ForecastError, match="no panel value was public"):
        public_at(panel, "2000-12-31")


def test_public_at_on_the_bundled_panel_ends_the_year_before_the_origin():
    from forecast.data.panel import DEFAULT_PANEL, read_panel

    panel = read_panel(DEFAULT_PANEL)
    cut = public_at(panel, origin_date(2012))
    years = cut[PERIOD].str[:4].astype(int)
    assert years.max() == 2011
    assert (cut["vintage"] <= "2012-12-31").all()
    assert target_period(2012, 1) == "2013"


@pytest.mark.parametrize(("origin", "left_out"), [(2014, ("arms_share_chn",)), (2015, ())])
def test_an_origin_fits_without_the_indicators_it_sees_no_variation_in(origin, left_out):
    # every Chinese arms share published before the 2015 vintages is 0: a constant series
    # whose likelihood is unbounded, so the origin's fit leaves it out (and its cells go
    # unscored, as the model does not forecast them)
    from forecast.data.codebook import load_codebook
    from forecast.data.panel import DEFAULT_PANEL, read_panel
    from forecast.model.design import build_model_data
    from forecast.model.spec import DEFAULT_MODEL, load_model_spec

    codebook = load_codebook()
    spec = load_model_spec(DEFAULT_MODEL, codebook)
    cut = public_at(read_panel(DEFAULT_PANEL, codebook), origin_date(origin))
    data = build_model_data(cut, spec, codebook)
    assert data.left_out == left_out
    assert data.indicators == tuple(k for k in spec.indicators if k not in left_out)


def _scores(rng, n_cells=40):
    rows = []
    for cell in range(n_cells):
        base = {
            ORIGIN: 2010 + cell % 4,
            HORIZON: 1 + cell % 2,
            STATE: "KAZ",
            INDICATOR: "big" if cell % 2 else "small",
            PERIOD: str(2011 + cell),
            "scale": 1000.0 if cell % 2 else 0.01,
        }
        unit = base["scale"]
        for model, crps in (("alignment", 0.8), ("drift", 1.0), ("persistence", 0.5)):
            rows.append(
                base
                | {
                    MODEL: model,
                    "crps": crps * unit * rng.uniform(0.9, 1.1),
                    "covered_50": float(rng.random() < 0.5),
                    "covered_90": float(rng.random() < 0.9),
                }
            )
    return pd.DataFrame(rows)


def test_skill_weighs_indicators_by_their_scale_not_their_unit(rng):
    scores = _scores(rng)
    table = crps_skill(scores)
    vs_drift = table[table["baseline"] == "drift"]
    vs_persistence = table[table["baseline"] == "persistence"]
    # 0.8 against 1.0 and against 0.5 in every cell, whatever the unit of the indicator
    assert vs_drift["skill"].to_numpy() == pytest.approx(0.2, abs=0.05)
    assert vs_persistence["skill"].to_numpy() == pytest.approx(-0.6, abs=0.1)
    assert set(table[HORIZON]) == {1, 2}
    assert (table["cells"] == 20).all()


def test_skill_uses_only_cells_both_models_forecast(rng):
    scores = _scores(rng)
    # the baseline misses half the cells, where the model did badly
    drop = (scores[MODEL] == "drift") & (scores[ORIGIN] % 2 == 0)
    scores.loc[(scores[MODEL] == "alignment") & (scores[ORIGIN] % 2 == 0), "crps"] *= 100
    table = crps_skill(scores[~drop], baselines=["drift"])
    assert table["skill"].to_numpy() == pytest.approx(0.2, abs=0.05)


def test_losses_and_model_name(rng):
    table = crps_skill(_scores(rng), by=(INDICATOR, HORIZON))
    worse = losses(table)
    assert set(worse["baseline"]) == {"persistence"}
    assert worse["skill"].is_monotonic_increasing
    assert model_name(_scores(rng)) == "alignment"
    with pytest.raises(ValueError, match="exactly one"):
        model_name(pd.DataFrame({MODEL: ["drift"]}))


def test_coverage_table_by_model_and_horizon(rng):
    table = coverage_table(_scores(rng, 400), levels=(0.5, 0.9))
    assert list(table.columns) == [MODEL, HORIZON, "cells", "covered_50", "covered_90"]
    assert table["covered_50"].to_numpy() == pytest.approx(0.5, abs=0.1)
    assert table["covered_90"].to_numpy() == pytest.approx(0.9, abs=0.06)
    assert np.all(table["cells"] == 200)
