"""Classical baselines: analytic checks, statsmodels cross-check, properties, bundled panel, CLI."""

from __future__ import annotations

import sys
import warnings

import numpy as np
import pandas as pd
import pytest
from scipy.stats import norm
from statsmodels.tools.sm_exceptions import ConvergenceWarning
from statsmodels.tsa.statespace.structural import UnobservedComponents

from forecast.baselines import BASELINES, METHOD_USED, baseline_forecast
from forecast.baselines.common import panel_series
from forecast.baselines.drift import drift_predictive
from forecast.baselines.local_level import local_level_predictive
from forecast.baselines.persistence import persistence_predictive
from forecast.data.levels import levels_only
from forecast.data.panel import DEFAULT_PANEL, read_panel, write_panel
from forecast.dims import INDICATOR, INDICATOR_VAR, PERIOD, STATE
from forecast.errors import ForecastError
from forecast.model.summaries import INDICATOR_COLUMNS, indicator_table
from forecast.model.transforms import to_link
from forecast.periods import parse_period

DRAWS = 20_000  # Monte Carlo error of a 5 % quantile: about 0.015 predictive sd
Z95 = norm.ppf(0.95)


def make_panel(values, *, indicator="us_aid", state="KAZ", start=2001, skip=()):
    """A one-series panel of yearly values from ``start``; ``skip`` drops years (gaps)."""
    years = [start + i for i in range(len(values))]
    rows = [(y, v) for y, v in zip(years, values, strict=True) if y not in skip]
    return pd.DataFrame(
        {
            STATE: state,
            INDICATOR: indicator,
            PERIOD: [str(y) for y, _ in rows],
            "value": [v for _, v in rows],
        }
    )


@pytest.fixture(scope="module")
def walk() -> np.ndarray:
    # a random walk with drift on the identity link (us_aid is continuous), 16 years
    gen = np.random.default_rng(7)
    return 20.0 + np.cumsum(gen.normal(0.8, 2.0, size=16))


def cell(ds, state="KAZ", indicator="us_aid"):
    """Draws (draw, period) of one series over its forecast periods."""
    da = ds[INDICATOR_VAR].sel({STATE: state, INDICATOR: indicator}).isel(chain=0)
    return da.dropna(PERIOD, how="all")


def check_gaussian(draws, mean, var):
    """Draw mean and 5/95 % quantiles within Monte Carlo error of N(mean, var) per period."""
    sd = np.sqrt(var)
    assert np.all(np.abs(draws.mean(axis=0) - mean) < 4 * sd / np.sqrt(draws.shape[0]))
    for q, z in ((0.05, -Z95), (0.95, Z95)):
        assert np.all(np.abs(np.quantile(draws, q, axis=0) - (mean + z * sd)) < 0.08 * sd)


def test_persistence_matches_direct_computation(codebook, walk):
    ds = baseline_forecast(
        make_panel(walk), codebook, method="persistence", until="2026", draws=DRAWS
    )
    draws = cell(ds).values
    h = np.arange(1, 11)
    sigma2 = np.mean(np.diff(walk) ** 2)  # about zero: persistence forecasts no change
    assert cell(ds)[PERIOD].values.tolist() == [str(y) for y in range(2017, 2027)]
    check_gaussian(draws, walk[-1], sigma2 * h)


def test_drift_matches_direct_computation(codebook, walk):
    ds = baseline_forecast(make_panel(walk), codebook, method="drift", until="2026", draws=DRAWS)
    diffs = np.diff(walk)
    mu, sigma2 = diffs.mean(), diffs.var(ddof=1)
    h = np.arange(1, 11)
    check_gaussian(cell(ds).values, walk[-1] + mu * h, sigma2 * h + sigma2 / diffs.size * h**2)


def statsmodels_forecast(y, steps, **fit):
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)  # the reference must converge
        res = UnobservedComponents(y, level="local level").fit(disp=False, **fit)
    fc = res.get_forecast(steps)
    return np.asarray(fc.predicted_mean), np.asarray(fc.var_pred_mean)


def test_local_level_matches_statsmodels(codebook, walk):
    panel = make_panel(walk, skip=(2005, 2006))
    y = walk.copy()
    y[[4, 5]] = np.nan  # statsmodels sees the gaps as missing values
    ref_mean, ref_var = statsmodels_forecast(y, 6)
    # the same model with statsmodels' default optimiser: the same optimum
    (series,) = panel_series(panel, codebook)
    pred = local_level_predictive(series, 6, np.nan)
    assert pred is not None and pred.method == "local_level"
    np.testing.assert_allclose(pred.mean, ref_mean, rtol=0, atol=0.01 * np.sqrt(ref_var[0]))
    np.testing.assert_allclose(pred.var, ref_var, rtol=0.01)
    # and the draws carry exactly that predictive
    exact_mean, exact_var = statsmodels_forecast(y, 6, method="nm", maxiter=2000)
    ds = baseline_forecast(panel, codebook, method="local_level", until="2022", draws=DRAWS)
    check_gaussian(cell(ds).values, exact_mean, exact_var)


@pytest.mark.parametrize("method", BASELINES)
def test_variance_grows_with_horizon(codebook, walk, method):
    ds = baseline_forecast(make_panel(walk), codebook, method=method, until="2030", draws=4000)
    sd = cell(ds).std("draw").values
    assert sd.size == 14
    assert np.all(np.diff(sd[::3]) > 0)  # every third step: far beyond Monte Carlo noise
    (series,) = panel_series(make_panel(walk), codebook)
    predictive = {
        "persistence": persistence_predictive,
        "drift": drift_predictive,
        "local_level": local_level_predictive,
    }[method]
    pred = predictive(series, 14, np.nan)
    assert pred is not None and np.all(np.diff(pred.var) > 0)


def test_gaps_count_as_steps(codebook):
    # 2003 and 2004 missing: the change from 2002 to 2005 spans three steps
    values = [1.0, 2.0, 0.0, 0.0, 5.0, 4.0, 6.0]
    panel = make_panel(values, skip=(2003, 2004))
    (series,) = panel_series(panel, codebook)
    changes, steps = series.changes()
    assert changes.tolist() == [1.0, 3.0, -1.0, 2.0] and steps.tolist() == [1, 3, 1, 1]
    sigma2 = np.mean(np.array([1.0, 9.0 / 3, 1.0, 4.0]))
    pers = persistence_predictive(series, 2, np.nan)
    assert pers is not None
    np.testing.assert_allclose(pers.var, sigma2 * np.array([1.0, 2.0]))
    drift = drift_predictive(series, 1, np.nan)
    assert drift is not None and drift.method == "drift"
    np.testing.assert_allclose(drift.mean, [6.0 + (6.0 - 1.0) / 6])  # total change over span
    ds = baseline_forecast(panel, codebook, method="local_level", until="2009", draws=100)
    assert cell(ds)[PERIOD].values.tolist() == ["2008", "2009"]


@pytest.mark.parametrize("method", BASELINES)
def test_natural_scale_ranges(codebook, method):
    share = make_panel([0.0, 0.4, 1.0, 0.2, 0.9, 0.0, 0.5], indicator="arms_share_rus")
    positive = make_panel([0.02, 0.3, 0.05, 0.4, 0.01, 0.2], indicator="remittances_gdp")
    binary = make_panel([0.0, 1.0, 1.0, 1.0], indicator="csto_member")
    panel = pd.concat([share, positive, binary])
    ds = baseline_forecast(panel, codebook, method=method, until="2030", draws=4000)
    s = cell(ds, indicator="arms_share_rus").values
    p = cell(ds, indicator="remittances_gdp").values
    b = cell(ds, indicator="csto_member").values
    assert s.min() >= 0.0 and s.max() <= 1.0
    assert p.min() >= 0.0
    assert set(np.unique(b)) == {0.0, 1.0}
    assert abs(b.mean() - 0.9) < 0.02  # last value 1: kept with probability 0.9
    assert ds[METHOD_USED].sel({STATE: "KAZ", INDICATOR: "csto_member"}) == "persistence"


def test_seed_reproducible(codebook, walk):
    panel = make_panel(walk)
    a, b, c = (
        baseline_forecast(panel, codebook, method="drift", until="2020", random_seed=s)
        for s in (3, 3, 4)
    )
    assert a.identical(b)
    assert not np.array_equal(a[INDICATOR_VAR].values, c[INDICATOR_VAR].values)


def test_short_series_fall_back_to_persistence(codebook, walk):
    long = make_panel(walk)
    short = make_panel([3.0, 4.0], state="UZB", start=2015)
    single = make_panel([9.0], state="TJK", start=2016)
    panel = pd.concat([long, short, single])
    for method in ("drift", "local_level"):
        ds = baseline_forecast(panel, codebook, method=method, until="2020", draws=10)
        used = ds[METHOD_USED].sel({INDICATOR: "us_aid"})
        assert used.sel({STATE: "KAZ"}) == method
        assert used.sel({STATE: "UZB"}) == used.sel({STATE: "TJK"}) == "persistence"
        assert "UZB us_aid: fewer than 3 observations" in ds.attrs["notes"]
    # one point has no own variance: the indicator's pooled change variance stands in
    ds = baseline_forecast(panel, codebook, method="persistence", until="2020", draws=DRAWS)
    pooled = np.concatenate([np.diff(walk), [1.0]])
    tjk = cell(ds, state="TJK").values
    np.testing.assert_allclose(
        tjk.std(axis=0), np.sqrt(np.mean(pooled**2) * np.arange(1, 5)), rtol=0.03
    )


def test_selection_and_until(codebook, walk):
    yearly = make_panel(walk)
    quarterly = pd.DataFrame(
        {
            STATE: "KAZ",
            INDICATOR: "eu_exports",
            PERIOD: ["2020Q1", "2020Q2", "2020Q3"],
            "value": [100.0, 120.0, 110.0],
        }
    )
    panel = pd.concat([yearly, quarterly])
    ds = baseline_forecast(panel, codebook, method="persistence", until="2018Q2", draws=50)
    # 2018 does not end by 2018Q2; the quarterly series ends after until: nothing for it
    assert ds[PERIOD].values.tolist() == ["2017"]
    ds = baseline_forecast(panel, codebook, method="persistence", until="2021", draws=50)
    assert ds[PERIOD].values.tolist() == [
        "2017",
        "2018",
        "2019",
        "2020Q4",
        "2020",
        "2021Q1",
        "2021Q2",
        "2021Q3",
        "2021Q4",
        "2021",
    ]
    assert ds.attrs["origin"] == "2020Q3"
    alone = baseline_forecast(
        panel, codebook, method="persistence", until="2021", draws=50, indicators=["us_aid"]
    )
    np.testing.assert_array_equal(cell(alone).values, cell(ds).values)  # per-series streams


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"method": "arima", "until": "2030"}, "unknown baseline 'arima'"),
        ({"method": "drift", "until": "2030Q5"}, "until '2030Q5' is not a period"),
        ({"method": "drift", "until": "soon"}, "until 'soon' is not a period"),
        ({"method": "drift", "until": "2030", "indicators": ["gdp"]}, "not in the codebook: gdp"),
        ({"method": "drift", "until": "2010"}, "nothing to forecast"),
    ],
)
def test_bad_input(codebook, walk, kwargs, message):
    with pytest.raises(ForecastError, match=message) as err:
        baseline_forecast(make_panel(walk), codebook, **kwargs)
    assert "\n" not in str(err.value)


@pytest.fixture(scope="module")
def bundled(codebook):
    return read_panel(DEFAULT_PANEL, codebook)


@pytest.mark.parametrize("method", BASELINES)
def test_bundled_panel_covers_every_series(codebook, bundled, method):
    ds = baseline_forecast(bundled, codebook, method=method, until="2030", draws=50)
    assert ds.attrs["origin"] == "2024" and ds.attrs["method"] == method
    values = ds[INDICATOR_VAR].isel(chain=0).transpose(STATE, INDICATOR, PERIOD, "draw")
    array = values.values
    states, keys = values[STATE].values.tolist(), values[INDICATOR].values.tolist()
    periods = values[PERIOD].values.tolist()
    # a UN year resting on a handful of roll calls is no level to start from
    for (state, key), rows in levels_only(bundled).groupby([STATE, INDICATOR]):
        draws = array[states.index(state), keys.index(key)]  # (period, draw)
        filled = ~np.isnan(draws).all(axis=1)
        last = max(parse_period(p) for p in rows[PERIOD])
        first = periods.index(str(last + 1))
        assert filled[first] and not filled[:first].any(), (state, key)
        assert not np.isnan(draws[filled]).any(), (state, key)
        if codebook[key].kind == "share":
            assert draws[filled].min() >= 0.0 and draws[filled].max() <= 1.0
    table = indicator_table(ds)  # the indicators.csv format, unchanged from the model's
    assert tuple(table.columns) == INDICATOR_COLUMNS and table.notna().all().all()
    assert len(table) == int((~np.isnan(array).all(axis=-1)).sum())


def test_link_scale_clip_matches_transforms(codebook):
    (series,) = panel_series(make_panel([0.0, 1.0], indicator="trade_share_eu"), codebook)
    np.testing.assert_allclose(series.link, to_link([0.0, 1.0], "share", clip=0.01))


def test_cli_writes_three_tables(tmp_path, monkeypatch, codebook, bundled):
    from forecast.cli import main

    data = tmp_path / "panel.csv"
    write_panel(bundled[bundled[STATE] == "KGZ"], data, codebook)  # one state keeps it fast
    out = tmp_path / "baselines"
    argv = ["forecast", "baselines", "--data", str(data), "--until", "2023", "--out", str(out)]
    monkeypatch.setattr(sys, "argv", [*argv, "--seed", "5", "--draws", "200"])
    with pytest.raises(SystemExit) as done:
        main()
    assert done.value.code == 0
    for method in BASELINES:
        table = pd.read_csv(out / method / "indicators.csv", dtype={PERIOD: str})
        assert tuple(table.columns) == INDICATOR_COLUMNS
        assert set(table[STATE]) == {"KGZ"}
        assert (table["q05"] <= table["q95"]).all()
    assert sorted(p.name for p in out.iterdir()) == sorted(BASELINES)
