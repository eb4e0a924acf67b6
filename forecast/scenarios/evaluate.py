"""Evaluate typed rule trees over forecast draws, vectorised with NumPy.

The forecast's draws are flattened to one *sample* axis (chains times draws). A value of
shape ``DRAW`` is an array ``(sample,)``, of shape ``STATE`` an array ``(sample, state)`` over
the forecast's states in their order, and a constant a Python float; NumPy broadcasting does
the rest (a ``(sample,)`` array is lifted to ``(sample, 1)`` before meeting a per-state one).

Names (poles, states, indicators, periods) are checked against the forecast by
:func:`check_names` before evaluation, so evaluation itself only indexes arrays. Arithmetic
that leaves the reals (``0 / 0``, a negative number to a fractional power) gives NaN, and
every comparison with NaN is false.

A division by zero (``x / 0``, or ``0 ** -1``) is undefined too: the quotient is NaN (never
the infinity IEEE arithmetic gives, which would make ``x / 0 > 0`` true whenever ``x > 0``),
and :func:`evaluate_rule` reports in which draws a denominator was zero, so that the caller
can say so (:mod:`forecast.scenarios.probabilities` notes the share of such draws, and
refuses a rule whose denominator is zero in every draw). A constant zero denominator never
gets this far: the parser refuses it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import xarray as xr
from numpy.typing import NDArray

from forecast.dims import (
    ALIGNMENT_VAR,
    CHAIN,
    DRAW,
    INDICATOR,
    INDICATOR_VAR,
    PERIOD,
    POLE,
    STATE,
)
from forecast.scenarios.expr import (
    Binary,
    Call,
    Change,
    Compare,
    Const,
    Expr,
    Logical,
    Quantity,
    Rank,
    Shape,
    Unary,
    children,
    walk,
)
from forecast.scenarios.rules import RuleError

Value = Any  # a float, or an ndarray of shape (sample,) or (sample, state)


@dataclass(frozen=True)
class Evaluation:
    """A rule's values over the draws, and where a denominator was zero.

    Attributes
    ----------
    values
        ``(sample,)`` for a per-draw expression, ``(sample, state)`` for a per-state one.
    zero_denominator
        ``(sample,)`` booleans: the draws in which some division (in any state) had a zero
        denominator, so that its quotient is undefined (NaN).
    """

    values: NDArray
    zero_denominator: NDArray[np.bool_]

    @property
    def zero_share(self) -> float:
        """The share of draws in which a denominator was zero."""
        return float(self.zero_denominator.mean())


@dataclass(frozen=True)
class ForecastDraws:
    """A forecast's draws as flat NumPy arrays with label lookups.

    Attributes
    ----------
    alignment
        ``(sample, state, pole, period)`` over the latent's periods (the model's steps).
    indicators
        ``(sample, state, indicator, indicator_period)``: each indicator at the periods of
        its own frequency (NaN where it has none).
    shape
        ``(chain, draw)``: the sample axis unflattened.
    """

    alignment: NDArray[np.float64]
    indicators: NDArray[np.float64]
    states: tuple[str, ...]
    poles: tuple[str, ...]
    indicator_keys: tuple[str, ...]
    periods: tuple[str, ...]
    indicator_periods: tuple[str, ...]
    shape: tuple[int, int]

    @classmethod
    def from_forecast(cls, forecast: xr.Dataset) -> ForecastDraws:
        """Flatten a forecast Dataset (see :mod:`forecast.model.project`).

        Examples
        --------
        >>> from forecast.scenarios.synthetic import synthetic_forecast
        >>> ForecastDraws.from_forecast(synthetic_forecast()).alignment.shape
        (200, 5, 3, 15)
        """
        align = forecast[ALIGNMENT_VAR].transpose(CHAIN, DRAW, STATE, POLE, PERIOD)
        inds = forecast[INDICATOR_VAR].transpose(CHAIN, DRAW, STATE, INDICATOR, PERIOD)
        n_chain, n_draw = align.sizes[CHAIN], align.sizes[DRAW]
        return cls(
            alignment=align.values.reshape(n_chain * n_draw, *align.shape[2:]),
            indicators=inds.values.reshape(n_chain * n_draw, *inds.shape[2:]),
            states=tuple(str(s) for s in align[STATE].values),
            poles=tuple(str(p) for p in align[POLE].values),
            indicator_keys=tuple(str(k) for k in inds[INDICATOR].values),
            periods=tuple(str(p) for p in align[PERIOD].values),
            indicator_periods=tuple(str(p) for p in inds[PERIOD].values),
            shape=(n_chain, n_draw),
        )

    def periods_of(self, var: str) -> tuple[str, ...]:
        """Return the periods of ``alignment`` or ``indicator``."""
        return self.periods if var == "alignment" else self.indicator_periods

    def has_period(self, period: str) -> bool:
        """Return whether the latent or any indicator has ``period``."""
        return period in self.periods or period in self.indicator_periods

    def span(self, var: str = "alignment") -> str:
        """Describe the periods of ``var``, e.g. ``1992 to 2030``."""
        periods = self.periods_of(var)
        return f"{periods[0]} to {periods[-1]}"


def _periods_used(expr: Expr, at: str) -> Iterator[tuple[Quantity, str]]:
    """Yield every quantity of ``expr`` with the period it will be read at."""

    def visit(node: Expr, default: str) -> Iterator[tuple[Quantity, str]]:
        if isinstance(node, Quantity):
            yield node, node.period or default
        elif isinstance(node, Change):
            yield from visit(node.operand, node.start)
            yield from visit(node.operand, node.end)
        else:
            for child in children(node):
                yield from visit(child, default)

    yield from visit(expr, at)


def check_names(expr: Expr, at: str, draws: ForecastDraws) -> None:
    """Refuse states, indicators and periods the forecast does not have.

    Raises
    ------
    RuleError
        Naming the unknown name.
    """
    states = set(draws.states)
    for node in walk(expr):
        if isinstance(node, Rank) and node.state is not None and node.state not in states:
            raise RuleError(
                f"unknown state (the forecast has {', '.join(draws.states)})", node.state
            )
    for quantity, period in _periods_used(expr, at):
        if quantity.state is not None and quantity.state not in states:
            raise RuleError(
                f"unknown state (the forecast has {', '.join(draws.states)})", quantity.state
            )
        if quantity.var == "indicator" and quantity.key not in draws.indicator_keys:
            raise RuleError("not an indicator of the forecast", quantity.key)
        if period not in draws.periods_of(quantity.var):
            raise RuleError(
                f"period not in the forecast's {quantity.var} ({draws.span(quantity.var)})",
                period,
            )
        if quantity.var == "indicator":
            cells = _quantity(quantity, period, draws)
            if np.isnan(cells).all(axis=0).any():
                raise RuleError(
                    f"the forecast has no value of {quantity.key} for this period", period
                )


def evaluate(expr: Expr, at: str, draws: ForecastDraws) -> NDArray:
    """Evaluate a rule tree over every draw; ``at`` is the default period.

    Returns an array of shape ``(sample,)`` for a per-draw expression, ``(sample, state)`` for
    a per-state one (a constant is broadcast to ``(sample,)``); a quotient whose denominator
    is zero is NaN (:func:`evaluate_rule` also says in which draws).

    Examples
    --------
    >>> from forecast.scenarios.rules import parse_condition
    >>> from forecast.scenarios.synthetic import synthetic_forecast
    >>> draws = ForecastDraws.from_forecast(synthetic_forecast())
    >>> rule = parse_condition('alignment["CHN", "KAZ"] > alignment["CHN", "KAZ", "2020"]')
    >>> evaluate(rule, "2030", draws).shape
    (200,)
    """
    return evaluate_rule(expr, at, draws).values


def evaluate_rule(expr: Expr, at: str, draws: ForecastDraws) -> Evaluation:
    """Evaluate a rule tree like :func:`evaluate`, recording zero denominators.

    Examples
    --------
    >>> from forecast.scenarios.rules import parse_condition
    >>> from forecast.scenarios.synthetic import synthetic_forecast
    >>> draws = ForecastDraws.from_forecast(synthetic_forecast())
    >>> rule = parse_condition('mean(alignment["RUS"]) / (count(alignment["RUS"] > 9)) > 0')
    >>> result = evaluate_rule(rule, "2030", draws)
    >>> result.zero_share, bool(result.values.any())
    (1.0, False)
    """
    n = draws.alignment.shape[0]
    zero = np.zeros(n, dtype=bool)
    with np.errstate(all="ignore"):
        value = _compute(expr, at, draws, zero)
    if np.ndim(value) == 0:
        dtype = bool if isinstance(value, bool | np.bool_) else float
        return Evaluation(np.full(n, value, dtype=dtype), zero)
    return Evaluation(np.asarray(value), zero)


def _quantity(node: Quantity, period: str, draws: ForecastDraws) -> NDArray:
    t = draws.periods_of(node.var).index(period)
    if node.var == "alignment":
        block = draws.alignment[:, :, draws.poles.index(node.key), t]
    else:
        block = draws.indicators[:, :, draws.indicator_keys.index(node.key), t]
    if node.state is None:
        return block
    return block[:, draws.states.index(node.state)]


def _lift(value: Value, shape: Shape) -> Value:
    # a per-draw array meets a per-state one: (sample,) -> (sample, 1)
    if shape is Shape.STATE and np.ndim(value) == 1:
        return value[:, None]
    return value


def _divisor_zero(denominator: Value, zero: NDArray[np.bool_]) -> Value:
    """Mark in ``zero`` the draws where ``denominator`` is 0 (in any state); return the mask."""
    is_zero = np.asarray(denominator) == 0
    per_draw = is_zero.reshape(is_zero.shape[0], -1).any(axis=1) if is_zero.ndim else is_zero
    zero |= per_draw
    return is_zero


def _arithmetic(node: Binary, left: Value, right: Value, zero: NDArray[np.bool_]) -> Value:
    value = _BINARY[node.op](left, right)
    if node.op == "/":
        undefined = _divisor_zero(right, zero)
    elif node.op == "**" and isinstance(right, float) and right < 0:
        # a negative power divides by the base
        undefined = _divisor_zero(left, zero)
    else:
        return value
    return np.where(undefined, np.nan, value)


def _compute(node: Expr, at: str, draws: ForecastDraws, zero: NDArray[np.bool_]) -> Value:
    if isinstance(node, Const):
        return node.value
    if isinstance(node, Quantity):
        return _quantity(node, node.period or at, draws)
    if isinstance(node, Change):
        end = _compute(node.operand, node.end, draws, zero)
        return end - _compute(node.operand, node.start, draws, zero)
    if isinstance(node, Unary):
        value = _compute(node.operand, at, draws, zero)
        return {"neg": np.negative, "pos": np.positive, "not": np.logical_not}[node.op](value)
    if isinstance(node, Binary | Compare):
        left = _lift(_compute(node.left, at, draws, zero), node.type.shape)
        right = _lift(_compute(node.right, at, draws, zero), node.type.shape)
        if isinstance(node, Binary):
            return _arithmetic(node, left, right, zero)
        return _BINARY[node.op](left, right)
    if isinstance(node, Logical):
        values = [_lift(_compute(v, at, draws, zero), node.type.shape) for v in node.operands]
        combine = np.logical_and if node.op == "and" else np.logical_or
        out = values[0]
        for value in values[1:]:
            out = combine(out, value)
        return out
    if isinstance(node, Rank):
        values = _compute(node.operand, at, draws, zero)
        # competition ranking: 1 + the number of states strictly larger (NaN ranks last)
        filled = np.where(np.isnan(values), -np.inf, values)
        ranks = 1.0 + (filled[:, None, :] > filled[:, :, None]).sum(axis=2)
        return ranks if node.state is None else ranks[:, draws.states.index(node.state)]
    return _call(node, at, draws, zero)


def _call(node: Call, at: str, draws: ForecastDraws, zero: NDArray[np.bool_]) -> Value:
    args = [_compute(a, at, draws, zero) for a in node.args]
    if node.func == "count":
        return np.sum(args[0], axis=1).astype(float)
    if node.func == "all":
        return np.all(args[0], axis=1)
    if node.func == "any":
        return np.any(args[0], axis=1)
    if node.func == "mean":
        return np.mean(args[0], axis=1)
    if node.func == "abs":
        return np.abs(args[0])
    reduce = np.min if node.func == "min" else np.max
    if len(args) == 1:
        return reduce(args[0], axis=1)
    pairwise = np.minimum if node.func == "min" else np.maximum
    out = _lift(args[0], node.type.shape)
    for arg in args[1:]:
        out = pairwise(out, _lift(arg, node.type.shape))
    return out


_BINARY = {
    "+": np.add,
    "-": np.subtract,
    "*": np.multiply,
    "/": np.divide,
    "**": np.power,
    "<": np.less,
    "<=": np.less_equal,
    ">": np.greater,
    ">=": np.greater_equal,
    "==": np.equal,
    "!=": np.not_equal,
}
