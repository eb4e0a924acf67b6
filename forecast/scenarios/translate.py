"""Translate a Python syntax tree into the typed rule tree, refusing everything else.

Only the node types with a ``visit_*`` method below pass; every other node (attribute access,
lambdas, comprehensions, f-strings, ...) is refused with a :class:`RuleError` naming it.
Types are checked on the way (:mod:`forecast.scenarios.expr`).
"""

from __future__ import annotations

import ast
import math
from collections.abc import Callable
from typing import Any

from forecast.dims import POLES
from forecast.periods import period_frequency
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
    RuleType,
    Shape,
    Unary,
    fixes_period,
)
from forecast.scenarios.syntax import (
    FUNCTIONS,
    INDICATOR_KEY,
    MAX_ABS_CONSTANT,
    MAX_ABS_EXPONENT,
    QUANTITIES,
    STATE_CODE,
    YEARS,
    RuleError,
    is_period,
    short,
)

_ARITHMETIC = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.Pow: "**"}
_COMPARISONS = {
    ast.Lt: "<",
    ast.LtE: "<=",
    ast.Gt: ">",
    ast.GtE: ">=",
    ast.Eq: "==",
    ast.NotEq: "!=",
}
#: friendly names of refused syntax
_REFUSED = {
    ast.Attribute: "attribute access is not allowed",
    ast.Lambda: "lambda is not allowed",
    ast.ListComp: "comprehensions are not allowed",
    ast.SetComp: "comprehensions are not allowed",
    ast.DictComp: "comprehensions are not allowed",
    ast.GeneratorExp: "comprehensions are not allowed",
    ast.Starred: "starred arguments are not allowed",
    ast.JoinedStr: "f-strings are not allowed",
    ast.FormattedValue: "f-strings are not allowed",
    ast.NamedExpr: "assignment expressions (:=) are not allowed",
    ast.IfExp: "conditional expressions are not allowed",
    ast.List: "lists are not allowed",
    ast.Tuple: "tuples are only allowed inside a subscript",
    ast.Set: "sets are not allowed",
    ast.Dict: "dictionaries are not allowed",
    ast.Slice: "slices are not allowed",
    ast.Await: "await is not allowed",
    ast.Yield: "yield is not allowed",
    ast.YieldFrom: "yield is not allowed",
}


def _broadcast(*types: RuleType) -> Shape:
    return max(t.shape for t in types)


class Translator:
    """Translate a Python syntax tree into a typed rule tree, refusing anything else."""

    def __init__(self, text: str, defines: dict[str, Expr]) -> None:
        self.text = text
        self.defines = defines

    # -- helpers ----------------------------------------------------------------------------

    def token(self, node: ast.AST) -> str:
        """Return the source text of ``node``, shortened."""
        if isinstance(node, ast.Attribute):
            return f".{node.attr}"
        segment = ast.get_source_segment(self.text, node)
        return short(segment) if segment else type(node).__name__

    def refuse(self, node: ast.AST, reason: str) -> RuleError:
        """Build the error for ``node``."""
        return RuleError(reason, self.token(node))

    def number(self, node: ast.AST, what: str) -> Expr:
        """Translate ``node`` and check it is a number."""
        expr = self.visit(node)
        if expr.type.dtype != "num":
            raise self.refuse(node, f"{what} needs a number, not {expr.type.describe()}")
        return expr

    def condition(self, node: ast.AST, what: str) -> Expr:
        """Translate ``node`` and check it is a condition."""
        expr = self.visit(node)
        if expr.type.dtype != "bool":
            raise self.refuse(node, f"{what} needs a condition, not {expr.type.describe()}")
        return expr

    def text_constant(self, node: ast.AST, what: str) -> str:
        """Return the string literal ``node`` (a pole, state, indicator key or period)."""
        if not (isinstance(node, ast.Constant) and isinstance(node.value, str)):
            raise self.refuse(node, f"{what} must be a quoted name or period")
        return node.value

    def period(self, node: ast.AST, what: str) -> str:
        """Return the period literal ``node``."""
        text = self.text_constant(node, what)
        if not is_period(text):
            raise self.refuse(
                node, f"{what} is not a period (2025, 2025Q3 or 2025-07, years {YEARS})"
            )
        return text

    # -- dispatch ---------------------------------------------------------------------------

    def visit(self, node: ast.AST) -> Expr:
        """Translate one node."""
        handlers: dict[type[ast.AST], Callable[[Any], Expr]] = {
            ast.Constant: self.visit_Constant,
            ast.Name: self.visit_Name,
            ast.UnaryOp: self.visit_UnaryOp,
            ast.BinOp: self.visit_BinOp,
            ast.Compare: self.visit_Compare,
            ast.BoolOp: self.visit_BoolOp,
            ast.Subscript: self.visit_Subscript,
            ast.Call: self.visit_Call,
        }
        handler = handlers.get(type(node))
        if handler is None:
            reason = _REFUSED.get(type(node), f"{type(node).__name__} is not allowed")
            raise self.refuse(node, reason)
        return handler(node)

    def visit_Constant(self, node: ast.Constant) -> Expr:
        """Translate a number; refuse booleans, and text outside subscripts and periods."""
        value = node.value
        if isinstance(value, str):
            raise self.refuse(node, "text is only allowed as a subscript or a period argument")
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.refuse(node, "only numbers are allowed as constants")
        return self.constant(node, value)

    def constant(self, node: ast.AST, value: float) -> Const:
        """Check that a (possibly folded) constant is finite and not oversized."""
        try:
            number = float(value)
        except OverflowError:
            raise self.refuse(node, "constant too large") from None
        if not math.isfinite(number) or abs(number) > MAX_ABS_CONSTANT:
            raise self.refuse(node, f"constant too large (at most {MAX_ABS_CONSTANT:g})")
        return Const(number)

    def visit_Name(self, node: ast.Name) -> Expr:
        """Translate a defined name; refuse the quantities and functions used bare."""
        if node.id in self.defines:
            return self.defines[node.id]
        if node.id in QUANTITIES:
            raise self.refuse(node, f'{node.id} must be subscripted, e.g. {node.id}["RUS"]')
        if node.id in FUNCTIONS:
            raise self.refuse(node, "a function must be called")
        raise self.refuse(node, "unknown name")

    def visit_UnaryOp(self, node: ast.UnaryOp) -> Expr:
        """Translate ``-x``, ``+x`` and ``not c``."""
        if isinstance(node.op, ast.Not):
            operand = self.condition(node.operand, "not")
            return Unary("not", operand, operand.type)
        if not isinstance(node.op, ast.USub | ast.UAdd):
            raise self.refuse(node, "bitwise operators are not allowed")
        operand = self.number(node.operand, "a sign")
        negate = isinstance(node.op, ast.USub)
        if isinstance(operand, Const):
            return Const(-operand.value if negate else operand.value)
        return Unary("neg" if negate else "pos", operand, operand.type)

    def visit_BinOp(self, node: ast.BinOp) -> Expr:
        """Translate ``+ - * /`` and ``**`` with a small constant exponent."""
        op = _ARITHMETIC.get(type(node.op))
        if op is None:
            raise self.refuse(node, "operator not allowed (use + - * / **)")
        left = self.number(node.left, f"'{op}'")
        right = self.number(node.right, f"'{op}'")
        if op == "**" and not (isinstance(right, Const) and abs(right.value) <= MAX_ABS_EXPONENT):
            raise self.refuse(node, f"an exponent must be a constant of at most {MAX_ABS_EXPONENT}")
        if isinstance(left, Const) and isinstance(right, Const):
            return self.fold(node, op, left.value, right.value)
        if op == "/" and isinstance(right, Const) and right.value == 0:
            # the quotient would be undefined in every draw: a mistake, not a scenario
            raise self.refuse(node, "division by zero")
        return Binary(op, left, right, RuleType(_broadcast(left.type, right.type), "num"))

    def fold(self, node: ast.AST, op: str, a: float, b: float) -> Const:
        """Compute arithmetic on two constants now, refusing overflow and division by zero."""
        try:
            if op == "+":
                value = a + b
            elif op == "-":
                value = a - b
            elif op == "*":
                value = a * b
            elif op == "/":
                value = a / b
            else:
                value = a**b
        except ZeroDivisionError:
            raise self.refuse(node, "division by zero") from None
        except OverflowError:
            raise self.refuse(node, "constant too large") from None
        if isinstance(value, complex):
            raise self.refuse(node, "not a real number")
        return self.constant(node, value)

    def visit_Compare(self, node: ast.Compare) -> Expr:
        """Translate ``a < b``, and chains ``a < b < c`` as ``a < b and b < c``."""
        ops = [_COMPARISONS.get(type(op_node)) for op_node in node.ops]
        if None in ops:
            raise self.refuse(node, "comparison not allowed (use < <= > >= == !=)")
        operands = [self.number(node.left, "a comparison")]
        operands += [self.number(c, "a comparison") for c in node.comparators]
        parts: list[Expr] = []
        for i, op in enumerate(ops):
            assert op is not None  # checked above
            left, right = operands[i], operands[i + 1]
            kind = RuleType(_broadcast(left.type, right.type), "bool")
            parts.append(Compare(op, left, right, kind))
        if len(parts) == 1:
            return parts[0]
        return Logical("and", tuple(parts), RuleType(_broadcast(*(p.type for p in parts)), "bool"))

    def visit_BoolOp(self, node: ast.BoolOp) -> Expr:
        """Translate ``and`` / ``or``."""
        op = "and" if isinstance(node.op, ast.And) else "or"
        operands = tuple(self.condition(v, f"'{op}'") for v in node.values)
        return Logical(op, operands, RuleType(_broadcast(*(o.type for o in operands)), "bool"))

    def visit_Subscript(self, node: ast.Subscript) -> Expr:
        """Translate ``alignment[pole, state?, period?]`` and ``indicator[key, ...]``."""
        if not (isinstance(node.value, ast.Name) and node.value.id in QUANTITIES):
            raise self.refuse(node, "only alignment[...] and indicator[...] can be subscripted")
        var = node.value.id
        items = node.slice.elts if isinstance(node.slice, ast.Tuple) else [node.slice]
        if not 1 <= len(items) <= 3:
            raise self.refuse(node, f"{var}[...] takes one to three items")
        names = [self.text_constant(item, f"an item of {var}[...]") for item in items]
        key = names[0]
        if var == "alignment" and key not in POLES:
            raise self.refuse(items[0], f"unknown pole (poles: {', '.join(POLES)})")
        if var == "indicator" and not INDICATOR_KEY.fullmatch(key):
            raise self.refuse(items[0], "not an indicator key (e.g. trade_share_chn)")
        state: str | None = None
        period: str | None = None
        for item, name in zip(items[1:], names[1:], strict=True):
            if period_frequency(name) is not None and not is_period(name):
                raise self.refuse(item, f"period out of range (years {YEARS})")
            if period_frequency(name) is not None and period is None:
                period = name
            elif STATE_CODE.fullmatch(name) and state is None:
                state = name
            else:
                raise self.refuse(item, "unknown state or period (e.g. KAZ, 2030)")
        shape = Shape.DRAW if state is not None else Shape.STATE
        return Quantity(var, key, state, period, RuleType(shape, "num"))

    def visit_Call(self, node: ast.Call) -> Expr:
        """Translate a whitelisted function call (no keywords, no starred arguments)."""
        if isinstance(node.func, ast.Attribute):
            raise self.refuse(node.func, _REFUSED[ast.Attribute])
        if not isinstance(node.func, ast.Name):
            raise self.refuse(node.func, "only the rule language's functions can be called")
        name = node.func.id
        if name not in FUNCTIONS:
            raise self.refuse(node.func, f"unknown function (allowed: {', '.join(FUNCTIONS)})")
        if node.keywords:
            raise self.refuse(node, "keyword arguments are not allowed")
        for arg in node.args:
            if isinstance(arg, ast.Starred):
                raise self.refuse(arg, _REFUSED[ast.Starred])
        if name == "change":
            return self.change(node)
        if name == "rank":
            return self.rank(node)
        return self.reduction(node, name)

    def arity(self, node: ast.Call, name: str, low: int, high: int | None) -> None:
        """Check the number of arguments of a call."""
        n = len(node.args)
        if n < low or (high is not None and n > high):
            if high == low:
                expected = f"{low}"
            elif high is None:
                expected = f"at least {low}"
            else:
                expected = f"{low} to {high}"
            raise self.refuse(node, f"{name}() takes {expected} argument(s), got {n}")

    def per_state(self, node: ast.AST, name: str, expr: Expr, dtype: str) -> None:
        """Check that a reduction's argument has one value per state of the right kind."""
        if expr.type.shape is not Shape.STATE or (dtype != "any" and expr.type.dtype != dtype):
            wanted = {"bool": "condition", "num": "number", "any": "value"}[dtype]
            raise self.refuse(
                node, f"{name}() needs one {wanted} per state, not {expr.type.describe()}"
            )

    def reduction(self, node: ast.Call, name: str) -> Expr:
        """Translate ``count all any mean``, ``min max`` (over states or elementwise), ``abs``."""
        if name in ("count", "all", "any", "mean", "abs"):
            self.arity(node, name, 1, 1)
        else:
            self.arity(node, name, 1, None)
        args = tuple(self.visit(a) for a in node.args)
        if name in ("count", "all", "any"):
            self.per_state(node.args[0], name, args[0], "bool")
            dtype = "num" if name == "count" else "bool"
            return Call(name, args, RuleType(Shape.DRAW, dtype))  # type: ignore[arg-type]
        if name == "mean":
            self.per_state(node.args[0], name, args[0], "any")
            return Call(name, args, RuleType(Shape.DRAW, "num"))
        for arg_node, arg in zip(node.args, args, strict=True):
            if arg.type.dtype != "num":
                raise self.refuse(arg_node, f"{name}() needs numbers, not {arg.type.describe()}")
        if name == "abs":
            return Call(name, args, args[0].type)
        if len(args) == 1:
            self.per_state(node.args[0], name, args[0], "num")
            return Call(name, args, RuleType(Shape.DRAW, "num"))
        return Call(name, args, RuleType(_broadcast(*(a.type for a in args)), "num"))

    def change(self, node: ast.Call) -> Expr:
        """Translate ``change(x, start, end)``."""
        self.arity(node, "change", 3, 3)
        operand = self.number(node.args[0], "change()")
        if operand.type.shape is Shape.CONST:
            raise self.refuse(node.args[0], "change() needs a forecast quantity")
        if fixes_period(operand):
            raise self.refuse(
                node.args[0], "change() moves the period itself; its first argument must name none"
            )
        start = self.period(node.args[1], "change()'s second argument")
        end = self.period(node.args[2], "change()'s third argument")
        return Change(operand, start, end, operand.type)

    def rank(self, node: ast.Call) -> Expr:
        """Translate ``rank(x)`` and ``rank(x, state)``."""
        self.arity(node, "rank", 1, 2)
        operand = self.visit(node.args[0])
        self.per_state(node.args[0], "rank", operand, "num")
        if len(node.args) == 1:
            return Rank(operand, None, RuleType(Shape.STATE, "num"))
        state = self.text_constant(node.args[1], "rank()'s state")
        if not STATE_CODE.fullmatch(state):
            raise self.refuse(node.args[1], "rank()'s second argument must be a state (e.g. KAZ)")
        return Rank(operand, state, RuleType(Shape.DRAW, "num"))
