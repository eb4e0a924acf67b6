"""Probabilities, Monte Carlo errors, entropy, partition checks and the headline pair."""

from __future__ import annotations

from pathlib import Path

import arviz as az
import numpy as np
import pytest
import scipy.stats
import xarray as xr
from hypothesis import given
from hypothesis import strategies as st

from forecast.errors import SpecError
from forecast.scenarios.events import event_summary, normalised_entropy
from forecast.scenarios.probabilities import scenario_probabilities
from forecast.scenarios.spec import DEFAULT_SCENARIOS, load_scenario_spec
from forecast.scenarios.synthetic import synthetic_forecast
from tests.scenarios.helpers import MINIMAL_SPEC, assert_names, spec_with_rule, write


@pytest.fixture(scope="module")
def forecast() -> xr.Dataset:
    return synthetic_forecast(chains=4, draws=250, random_seed=7)


def region_shift(forecast: xr.Dataset, pole: str, start: str, end: str) -> np.ndarray:
    align = forecast["alignment"].sel(pole=pole)
    return (align.sel(period=end) - align.sel(period=start)).mean("state").values


def test_minimal_spec_matches_direct_computation(tmp_path: Path, forecast: xr.Dataset) -> None:
    spec = load_scenario_spec(write(tmp_path, MINIMAL_SPEC))
    result = scenario_probabilities(forecast, spec)
    down = region_shift(forecast, "RUS", "2020", "2030") < 0
    probs = result.probabilities["probability"]
    assert float(probs.sel(scenario="rus_down")) == pytest.approx(down.mean(), abs=1e-12)
    assert float(probs.sel(scenario="rus_up")) == pytest.approx(1 - down.mean(), abs=1e-12)
    ind = forecast["indicators"].sel(state="KAZ", period="2025")
    question = (ind.sel(indicator="trade_share_chn") > ind.sel(indicator="trade_share_rus")).values
    assert float(probs.sel(scenario="kaz_china_trade")) == pytest.approx(question.mean())
    assert result.events.dims == ("chain", "draw", "scenario")
    np.testing.assert_array_equal(result.events.sel(scenario="rus_down").values, down)


def test_mcse_agrees_with_arviz(tmp_path: Path, forecast: xr.Dataset) -> None:
    spec = load_scenario_spec(write(tmp_path, MINIMAL_SPEC))
    result = scenario_probabilities(forecast, spec)
    reference = az.mcse(result.events.astype(float), sample_dims=["chain", "draw"], method="mean")
    np.testing.assert_allclose(result.probabilities["mcse"].values, reference.values, rtol=1e-6)


def test_mcse_of_independent_draws_is_binomial() -> None:
    rng = np.random.default_rng(1)
    events = xr.DataArray(rng.random((4, 2000)) < 0.2, dims=("chain", "draw"))
    out = event_summary(events)
    p = float(out["probability"])
    assert float(out["mcse"]) == pytest.approx(np.sqrt(p * (1 - p) / 8000), rel=0.15)


def test_constant_event_has_no_error() -> None:
    out = event_summary(xr.DataArray(np.zeros((2, 30), dtype=bool), dims=("chain", "draw")))
    assert (float(out["probability"]), float(out["mcse"])) == (0.0, 0.0)


@given(st.lists(st.floats(0.0, 1.0), min_size=2, max_size=8).filter(lambda v: sum(v) > 0))
def test_entropy_agrees_with_scipy(weights: list[float]) -> None:
    p = np.asarray(weights) / sum(weights)
    value = normalised_entropy(p)
    assert 0.0 <= value <= 1.0
    assert value == pytest.approx(scipy.stats.entropy(p) / np.log(p.size), abs=1e-9)


def test_entropy_extremes() -> None:
    assert normalised_entropy([0.0, 1.0, 0.0]) == 0.0
    assert normalised_entropy([0.2] * 5) == pytest.approx(1.0)


def test_residual_takes_the_rest(tmp_path: Path, forecast: xr.Dataset) -> None:
    text = MINIMAL_SPEC.replace('rule = "rus_shift >= 0"', "residual = true").replace(
        'rule = "rus_shift < 0"', 'rule = "rus_shift < -0.1"'
    )
    result = scenario_probabilities(forecast, load_scenario_spec(write(tmp_path, text)))
    shift = region_shift(forecast, "RUS", "2020", "2030")
    probs = result.probabilities["probability"]
    assert float(probs.sel(scenario="rus_up")) == pytest.approx((shift >= -0.1).mean())
    assert float(probs.sel(scenario=["rus_down", "rus_up"]).sum()) == pytest.approx(1.0)


def test_overlapping_scenarios_are_refused(tmp_path: Path, forecast: xr.Dataset) -> None:
    text = MINIMAL_SPEC.replace('rule = "rus_shift >= 0"', 'rule = "rus_shift >= -0.1"')
    path = write(tmp_path, text)
    with pytest.raises(SpecError) as err:
        scenario_probabilities(forecast, load_scenario_spec(path))
    assert_names(err, path, "key partition.rus", "rus_down and rus_up overlap", "exclude")


def test_uncovered_draws_are_refused(tmp_path: Path, forecast: xr.Dataset) -> None:
    text = MINIMAL_SPEC.replace('rule = "rus_shift >= 0"', 'rule = "rus_shift >= 0.1"')
    path = write(tmp_path, text)
    with pytest.raises(SpecError) as err:
        scenario_probabilities(forecast, load_scenario_spec(path))
    assert_names(err, path, "key partition.rus", "fall in no scenario", "residual = true")


@pytest.mark.parametrize(
    ("rule", "fragment"),
    [
        ('alignment["RUS", "XYZ"] > 0', "unknown state"),
        ('indicator["trade_share_mars", "KAZ"] > 0', "not an indicator of the forecast"),
        ('alignment["RUS", "KAZ", "2045"] > 0', "`2045`"),
        ('change(alignment["RUS", "KAZ"], "1990", "2030") > 0', "`1990`"),
    ],
)
def test_names_the_forecast_lacks(
    tmp_path: Path, forecast: xr.Dataset, rule: str, fragment: str
) -> None:
    path = write(tmp_path, spec_with_rule(rule))
    with pytest.raises(SpecError) as err:
        scenario_probabilities(forecast, load_scenario_spec(path))
    message = assert_names(err, path, "question.kaz_china_trade.rule")
    assert fragment in message


def test_at_beyond_the_forecast(tmp_path: Path, forecast: xr.Dataset) -> None:
    path = write(tmp_path, MINIMAL_SPEC.replace('at = "2025"', 'at = "2040"'))
    with pytest.raises(SpecError) as err:
        scenario_probabilities(forecast, load_scenario_spec(path))
    assert_names(err, path, "question.kaz_china_trade.at", "2040")


def test_headline_needs_a_future_horizon(tmp_path: Path, forecast: xr.Dataset) -> None:
    text = MINIMAL_SPEC.replace('at = "2030"', 'at = "2019"')
    path = write(tmp_path, text)
    with pytest.raises(SpecError) as err:
        scenario_probabilities(forecast, load_scenario_spec(path))
    assert_names(err, path, "partition.rus.at", "after the last fitted period 2020")


def test_headline(tmp_path: Path, forecast: xr.Dataset) -> None:
    result = scenario_probabilities(forecast, load_scenario_spec(write(tmp_path, MINIMAL_SPEC)))
    head = result.headline
    rus = forecast["alignment"].sel(pole="RUS").mean("state")
    lower = (rus.sel(period="2030") < rus.sel(period="2020")).values
    assert head.trend_probability == pytest.approx(lower.mean())
    probs = result.probabilities["probability"].sel(scenario=["rus_down", "rus_up"]).values
    assert head.outcome_entropy == pytest.approx(normalised_entropy(probs))
    assert (head.horizon, head.last_observed, head.partition) == ("2030", "2020", "rus")
    assert head.line().startswith("Trend certainty ")


def test_json_schema(tmp_path: Path, forecast: xr.Dataset) -> None:
    doc = scenario_probabilities(
        forecast, load_scenario_spec(write(tmp_path, MINIMAL_SPEC))
    ).to_json()
    # exactly the schema of the issue, nothing more
    assert doc.keys() == {"run_id", "headline", "partitions", "questions"}
    assert doc["headline"].keys() == {"trend_probability", "outcome_entropy"}
    (part,) = doc["partitions"]
    assert part.keys() == {"id", "entropy", "scenarios"}
    for entry in [*part["scenarios"], *doc["questions"]]:
        assert entry.keys() == {"id", "title", "probability", "mcse"}
        assert all(isinstance(entry[k], float) for k in ("probability", "mcse"))
    assert sum(s["probability"] for s in part["scenarios"]) == pytest.approx(1.0, abs=1e-9)


def test_table_columns(tmp_path: Path, forecast: xr.Dataset) -> None:
    table = scenario_probabilities(
        forecast, load_scenario_spec(write(tmp_path, MINIMAL_SPEC))
    ).table()
    assert list(table.columns) == [
        "scenario",
        "kind",
        "partition",
        "title",
        "at",
        "resolves_on",
        "probability",
        "mcse",
        "ess",
    ]
    assert table["kind"].tolist() == ["scenario", "scenario", "question"]


def test_default_spec_on_a_synthetic_forecast(forecast: xr.Dataset) -> None:
    result = scenario_probabilities(forecast, load_scenario_spec(DEFAULT_SCENARIOS))
    probs = result.probabilities
    part = probs["probability"].where(probs["partition"] == "region_2030", drop=True)
    assert part.sizes["scenario"] == 5
    assert abs(float(part.sum()) - 1.0) < 1e-9


# -- denominators that are zero in some draws, or in all -------------------------------------

#: the number of states aligned above average with Russia (at the question's 2025): zero in
#: 41 % of the draws of the module's forecast
RUS_ABOVE = 'count(alignment["RUS"] > 0)'


def test_zero_denominator_in_some_draws_is_noted_and_false(
    tmp_path: Path, forecast: xr.Dataset
) -> None:
    # true wherever the quotient is defined: its probability is the share of draws where it is
    rule = f'mean(alignment["RUS"]) / {RUS_ABOVE} > -1e6'
    spec = load_scenario_spec(write(tmp_path, spec_with_rule(rule)))
    result = scenario_probabilities(forecast, spec)
    zero = (forecast["alignment"].sel(pole="RUS", period="2025") > 0).sum("state").values == 0
    n, k = zero.size, int(zero.sum())
    assert 0 < k < n
    prob = float(result.probabilities["probability"].sel(scenario="kaz_china_trade"))
    assert prob == pytest.approx(1 - k / n, abs=1e-12)
    assert result.notes == (
        f"question.kaz_china_trade.rule: a denominator is zero in {k} of {n} draws "
        f"({k / n:.1%}); the rule counts as false in those draws",
    )


def test_zero_denominator_is_undefined_not_infinite(tmp_path: Path, forecast: xr.Dataset) -> None:
    # IEEE arithmetic gives x / 0 = inf, and inf > 0 would be true whenever x > 0
    rule = f"1 / {RUS_ABOVE} > 0 or 1 / {RUS_ABOVE} <= 0"
    spec = load_scenario_spec(write(tmp_path, spec_with_rule(rule)))
    result = scenario_probabilities(forecast, spec)
    zero = (forecast["alignment"].sel(pole="RUS", period="2025") > 0).sum("state").values == 0
    events = result.events.sel(scenario="kaz_china_trade").values
    np.testing.assert_array_equal(events, ~zero)


def test_zero_denominator_in_every_draw_is_refused(tmp_path: Path, forecast: xr.Dataset) -> None:
    rule = 'mean(alignment["RUS"]) / count(alignment["RUS"] > 1e6) > 0'
    path = write(tmp_path, spec_with_rule(rule, entry="scenario"))
    spec = load_scenario_spec(path)
    with pytest.raises(SpecError) as err:
        scenario_probabilities(forecast, spec)
    assert_names(err, path, "partition.rus.scenario.rus_down.rule", "zero in every one of")


def test_no_note_without_division_by_zero(tmp_path: Path, forecast: xr.Dataset) -> None:
    rule = 'mean(alignment["RUS"]) / (1 + count(alignment["RUS"] > 0)) > 0'
    spec = load_scenario_spec(write(tmp_path, spec_with_rule(rule)))
    assert scenario_probabilities(forecast, spec).notes == ()
