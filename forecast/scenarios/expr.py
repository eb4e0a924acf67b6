"""The typed expression tree of scenario rules.

:mod:`forecast.scenarios.rules` builds these nodes from a rule's text; the evaluator in
:mod:`forecast.scenarios.evaluate` computes them over forecast draws. Every node carries its
static :class:`RuleType`, so type errors (``count(1)``, a rule that gives one value per state)
are found when the spec is loaded, before any forecast is read.

A value is a constant, one number per draw, or one number per draw and state (the states of
the forecast, in its order); numbers and conditions (booleans) are kept apart.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from enum import IntEnum
from typing import Literal


class Shape(IntEnum):
    """How many values an expression has per draw; combining two shapes broadcasts to the larger."""

    CONST = 0
    DRAW = 1
    STATE = 2


Dtype = Literal["num", "bool"]


@dataclass(frozen=True)
class RuleType:
    """Static type of an expression: its shape and whether it is a number or a condition."""

    shape: Shape
    dtype: Dtype

    def describe(self) -> str:
        """Say what the value is, for error messages.

        Examples
        --------
        >>> RuleType(Shape.STATE, "bool").describe()
        'one condition per state'
        """
        what = "condition" if self.dtype == "bool" else "number"
        if self.shape is Shape.CONST:
            return f"a constant {what}"
        if self.shape is Shape.DRAW:
            return f"one {what} per draw"
        return f"one {what} per state"


@dataclass(frozen=True)
class Const:
    """A numeric literal."""

    value: float
    type: RuleType = RuleType(Shape.CONST, "num")


@dataclass(frozen=True)
class Quantity:
    """``alignment[pole, state?, period?]`` or ``indicator[key, state?, period?]``.

    ``var`` is ``"alignment"`` or ``"indicator"``; ``key`` the pole or indicator key; a
    missing ``state`` means every state (one value per state); a missing ``period`` means the
    entry's ``at`` (or the periods of an enclosing ``change``).
    """

    var: str
    key: str
    state: str | None
    period: str | None
    type: RuleType


@dataclass(frozen=True)
class Unary:
    """``-x`` (``op="neg"``), ``+x`` (``"pos"``) or ``not x`` (``"not"``)."""

    op: str
    operand: Expr
    type: RuleType


@dataclass(frozen=True)
class Binary:
    """Arithmetic: ``op`` in ``+ - * / **``."""

    op: str
    left: Expr
    right: Expr
    type: RuleType


@dataclass(frozen=True)
class Compare:
    """``left op right`` with ``op`` in ``< <= > >= == !=`` (chains are split into ``and``)."""

    op: str
    left: Expr
    right: Expr
    type: RuleType


@dataclass(frozen=True)
class Logical:
    """``and`` / ``or`` over two or more conditions."""

    op: str
    operands: tuple[Expr, ...]
    type: RuleType


@dataclass(frozen=True)
class Call:
    """A whitelisted function: ``count mean all any min max abs``."""

    func: str
    args: tuple[Expr, ...]
    type: RuleType


@dataclass(frozen=True)
class Change:
    """``change(x, start, end)``: ``x`` at period ``end`` minus ``x`` at period ``start``."""

    operand: Expr
    start: str
    end: str
    type: RuleType


@dataclass(frozen=True)
class Rank:
    """``rank(x)`` (each state's rank, 1 = largest) or ``rank(x, state)`` (one state's rank)."""

    operand: Expr
    state: str | None
    type: RuleType


Expr = Const | Quantity | Unary | Binary | Compare | Logical | Call | Change | Rank


def children(node: Expr) -> tuple[Expr, ...]:
    """Return the direct sub-expressions of ``node``.

    Examples
    --------
    >>> [c.value for c in children(Binary("+", Const(1.0), Const(2.0), Const(0.0).type))]
    [1.0, 2.0]
    """
    if isinstance(node, Const | Quantity):
        return ()
    if isinstance(node, Unary | Change | Rank):
        return (node.operand,)
    if isinstance(node, Binary | Compare):
        return (node.left, node.right)
    if isinstance(node, Logical):
        return node.operands
    return node.args


def walk(node: Expr) -> Iterator[Expr]:
    """Yield ``node`` and every node below it (depth first)."""
    yield node
    for child in children(node):
        yield from walk(child)


def fixes_period(node: Expr) -> bool:
    """Return whether ``node`` names a period anywhere (so ``change`` cannot move it)."""
    return any(
        (isinstance(n, Quantity) and n.period is not None) or isinstance(n, Change)
        for n in walk(node)
    )


def uses_latent(node: Expr) -> bool:
    """Return whether ``node`` reads the latent ``alignment`` (rather than only indicators)."""
    return any(isinstance(n, Quantity) and n.var == "alignment" for n in walk(node))
