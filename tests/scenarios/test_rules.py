"""The rule language: what it accepts, the types it infers, and what evaluation computes."""

from __future__ import annotations

import numpy as np
import pytest

from forecast.scenarios.evaluate import ForecastDraws, check_names, evaluate
from forecast.scenarios.expr import Shape
from forecast.scenarios.rules import RuleError, parse_condition, parse_expression
from forecast.scenarios.synthetic import synthetic_forecast


@pytest.fixture(scope="module")
def draws() -> ForecastDraws:
    return ForecastDraws.from_forecast(synthetic_forecast(chains=2, draws=50, random_seed=3))


def cell(draws: ForecastDraws, pole: str, state: str, period: str) -> np.ndarray:
    return draws.alignment[
        :, draws.states.index(state), draws.poles.index(pole), draws.periods.index(period)
    ]


def vector(draws: ForecastDraws, pole: str, period: str) -> np.ndarray:
    return draws.alignment[:, :, draws.poles.index(pole), draws.periods.index(period)]


def ind(draws: ForecastDraws, key: str, state: str, period: str) -> np.ndarray:
    return draws.indicators[
        :,
        draws.states.index(state),
        draws.indicator_keys.index(key),
        draws.indicator_periods.index(period),
    ]


@pytest.mark.parametrize(
    ("text", "shape", "dtype"),
    [
        ('alignment["RUS"]', Shape.STATE, "num"),
        ('alignment["RUS", "KAZ"]', Shape.DRAW, "num"),
        ('alignment["RUS", "2025"]', Shape.STATE, "num"),
        ('alignment["RUS", "KAZ", "2025"]', Shape.DRAW, "num"),
        ('alignment["RUS", "2025", "KAZ"]', Shape.DRAW, "num"),
        ('indicator["trade_share_chn", "KAZ"]', Shape.DRAW, "num"),
        ('count(alignment["CHN"] > alignment["RUS"])', Shape.DRAW, "num"),
        ('all(alignment["CHN"] > 0)', Shape.DRAW, "bool"),
        ('mean(alignment["CHN"] > 0)', Shape.DRAW, "num"),
        ('rank(alignment["CHN"])', Shape.STATE, "num"),
        ('rank(alignment["CHN"], "KAZ")', Shape.DRAW, "num"),
        ('max(alignment["CHN"])', Shape.DRAW, "num"),
        ('max(alignment["CHN"], alignment["RUS", "KAZ"])', Shape.STATE, "num"),
        ('abs(change(alignment["RUS"], "2020", "2030"))', Shape.STATE, "num"),
        ("-2 * 3 + 1", Shape.CONST, "num"),
        ('alignment["RUS", "KAZ"] > 0 and not alignment["CHN", "KAZ"] > 0', Shape.DRAW, "bool"),
        ('0 < alignment["RUS", "KAZ"] < 1', Shape.DRAW, "bool"),
    ],
)
def test_types(text: str, shape: Shape, dtype: str) -> None:
    expr = parse_expression(text)
    assert (expr.type.shape, expr.type.dtype) == (shape, dtype)


def test_constants_are_folded() -> None:
    expr = parse_expression("2 ** 3 - 1 / 4")
    assert expr.type.shape is Shape.CONST
    assert expr.value == pytest.approx(7.75)  # type: ignore[union-attr]


def test_state_and_period_subscripts(draws: ForecastDraws) -> None:
    rule = parse_condition('alignment["CHN", "KAZ", "2030"] > alignment["CHN", "KAZ", "2020"]')
    got = evaluate(rule, "2025", draws)
    want = cell(draws, "CHN", "KAZ", "2030") > cell(draws, "CHN", "KAZ", "2020")
    np.testing.assert_array_equal(got, want)


def test_default_period_is_at(draws: ForecastDraws) -> None:
    rule = parse_condition('alignment["WEST", "UZB"] > 0.1')
    np.testing.assert_array_equal(
        evaluate(rule, "2027", draws), cell(draws, "WEST", "UZB", "2027") > 0.1
    )


def test_count_over_states(draws: ForecastDraws) -> None:
    rule = parse_condition('count(alignment["CHN"] > alignment["RUS"]) >= 3')
    want = (vector(draws, "CHN", "2030") > vector(draws, "RUS", "2030")).sum(axis=1) >= 3
    np.testing.assert_array_equal(evaluate(rule, "2030", draws), want)


def test_change_mean_and_broadcast(draws: ForecastDraws) -> None:
    rule = parse_condition(
        'mean(change(alignment["RUS"], "2020", "2030")) < change(alignment["RUS", "KAZ"], '
        '"2020", "2030")'
    )
    region = (vector(draws, "RUS", "2030") - vector(draws, "RUS", "2020")).mean(axis=1)
    kaz = cell(draws, "RUS", "KAZ", "2030") - cell(draws, "RUS", "KAZ", "2020")
    np.testing.assert_array_equal(evaluate(rule, "2030", draws), region < kaz)


def test_per_draw_value_meets_per_state_value(draws: ForecastDraws) -> None:
    rule = parse_condition('all(alignment["CHN"] > alignment["CHN", "KAZ"] - 1)')
    want = (vector(draws, "CHN", "2030") > cell(draws, "CHN", "KAZ", "2030")[:, None] - 1).all(1)
    np.testing.assert_array_equal(evaluate(rule, "2030", draws), want)


def test_rank(draws: ForecastDraws) -> None:
    rule = parse_condition('rank(alignment["CHN"], "UZB") == 1')
    values = vector(draws, "CHN", "2030")
    want = values.argmax(axis=1) == draws.states.index("UZB")
    np.testing.assert_array_equal(evaluate(rule, "2030", draws), want)
    ranks = evaluate(parse_expression('rank(alignment["CHN"])'), "2030", draws)
    assert sorted(ranks[0].tolist()) == [1.0, 2.0, 3.0, 4.0, 5.0]


def test_min_max_abs_and_arithmetic(draws: ForecastDraws) -> None:
    rule = parse_condition(
        'max(alignment["RUS", "KAZ"], alignment["CHN", "KAZ"]) - min(alignment["WEST"]) '
        '> abs(alignment["RUS", "TJK"]) ** 2 / 2'
    )
    kaz = np.maximum(cell(draws, "RUS", "KAZ", "2030"), cell(draws, "CHN", "KAZ", "2030"))
    want = (
        kaz - vector(draws, "WEST", "2030").min(axis=1)
        > np.abs(cell(draws, "RUS", "TJK", "2030")) ** 2 / 2
    )
    np.testing.assert_array_equal(evaluate(rule, "2030", draws), want)


def test_or_and_not(draws: ForecastDraws) -> None:
    rule = parse_condition('not alignment["RUS", "KAZ"] > 0 or any(alignment["CHN"] > 1)')
    want = ~(cell(draws, "RUS", "KAZ", "2030") > 0) | (vector(draws, "CHN", "2030") > 1).any(1)
    np.testing.assert_array_equal(evaluate(rule, "2030", draws), want)


def test_indicator_values(draws: ForecastDraws) -> None:
    rule = parse_condition('indicator["trade_share_chn", "KAZ", "2025"] > 0.2')
    want = ind(draws, "trade_share_chn", "KAZ", "2025") > 0.2
    np.testing.assert_array_equal(evaluate(rule, "2030", draws), want)


def test_defines_are_substituted_with_the_entry_period(draws: ForecastDraws) -> None:
    defines = {"kz": parse_expression('alignment["RUS", "KAZ"]')}
    rule = parse_condition("kz > 0", defines)
    np.testing.assert_array_equal(
        evaluate(rule, "2024", draws), cell(draws, "RUS", "KAZ", "2024") > 0
    )


def test_division_by_a_zero_draw_is_nan_and_false(draws: ForecastDraws) -> None:
    rule = parse_condition('alignment["RUS", "KAZ"] / (alignment["RUS", "KAZ"] * 0) > 0')
    # 0/0 and x/0 give NaN or inf without a warning (warnings are errors in this suite)
    out = evaluate(rule, "2030", draws)
    assert out.dtype == bool and out.shape == (100,)


def test_check_names_accepts_known_names(draws: ForecastDraws) -> None:
    rule = parse_condition(
        'indicator["trade_share_eu", "UZB"] > 0 and rank(alignment["CHN"], "TKM") == 1'
    )
    check_names(rule, "2030", draws)


@pytest.mark.parametrize(
    ("text", "token"),
    [
        ('alignment["RUS", "XYZ"] > 0', "XYZ"),
        ('rank(alignment["CHN"], "XYZ") == 1', "XYZ"),
        ('indicator["trade_share_mars", "KAZ"] > 0', "trade_share_mars"),
        ('alignment["RUS", "KAZ", "2045"] > 0', "2045"),
        ('change(alignment["RUS", "KAZ"], "1990", "2030") > 0', "1990"),
        ('alignment["RUS", "KAZ", "2030Q1"] > 0', "2030Q1"),
    ],
)
def test_check_names_refuses_unknown_names(draws: ForecastDraws, text: str, token: str) -> None:
    with pytest.raises(RuleError) as err:
        check_names(parse_condition(text), "2030", draws)
    assert err.value.token == token
