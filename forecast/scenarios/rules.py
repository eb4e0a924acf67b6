"""The scenario rule language: a rule's text parsed with :mod:`ast` against a whitelist.

A rule is a small expression over forecast draws, for example::

    count(alignment["CHN", "2030"] > alignment["CHN", "2020"]) >= 3
    indicator["trade_share_chn", "KAZ", "2025"] > indicator["trade_share_rus", "KAZ", "2025"]
    mean(change(alignment["RUS"], "2020", "2030")) < 0

The text is only *parsed* (``ast.parse``, which builds a syntax tree and runs nothing); the
tree is then translated node by node into the typed tree of :mod:`forecast.scenarios.expr`,
and every node type, name, function and operator not listed below is refused with a
:class:`RuleError` naming the offending token. Nothing is ever compiled or executed.

The language
------------
- ``alignment[pole]``, ``alignment[pole, state]``, ``alignment[pole, state, period]`` and
  ``alignment[pole, period]``: the latent alignment with a pole (``RUS``, ``CHN``, ``WEST``).
  Without a state the value is one number per state; without a period the period is the
  entry's ``at`` (or the periods of an enclosing ``change``).
- ``indicator[key, ...]`` the same for an indicator's predicted value on its natural scale
  (shares as fractions), observation noise included, so it is what the data will show.
- ``change(x, "2020", "2030")``: ``x`` at 2030 minus ``x`` at 2020 (``x`` names no period).
- ``rank(x)``: each state's rank on ``x`` (1 = largest; ties share the best rank);
  ``rank(x, "KAZ")``: one state's rank.
- ``count(c)``, ``all(c)``, ``any(c)`` over one condition per state; ``mean(x)``, ``min(x)``,
  ``max(x)`` over states; ``min(a, b, ...)``, ``max(a, b, ...)`` elementwise; ``abs(x)``.
- numbers, ``+ - * /``, ``**`` with a small constant exponent, comparisons
  ``< <= > >= == !=`` (chains allowed), ``and``, ``or``, ``not``, parentheses.
- names given in the spec's ``[define]`` table stand for their expressions.

A rule must be one condition per draw; the scenario's probability is the share of draws in
which it holds.
"""

from __future__ import annotations

from collections.abc import Mapping

from forecast.scenarios.expr import Expr, Shape, children
from forecast.scenarios.syntax import (
    FUNCTIONS,
    MAX_EXPANDED_NODES,
    QUANTITIES,
    RESERVED,
    YEAR_RANGE,
    RuleError,
    is_period,
    short,
    syntax_tree,
)
from forecast.scenarios.translate import Translator

__all__ = [
    "FUNCTIONS",
    "QUANTITIES",
    "RESERVED",
    "YEAR_RANGE",
    "RuleError",
    "is_period",
    "parse_condition",
    "parse_expression",
]


def parse_expression(text: str, defines: Mapping[str, Expr] | None = None) -> Expr:
    """Parse a rule or definition into a typed expression tree.

    Parameters
    ----------
    text
        The expression.
    defines
        Names already defined (``[define]`` in the spec) and their expressions.

    Raises
    ------
    RuleError
        Whatever the language does not allow, naming the offending token.

    Examples
    --------
    >>> parse_expression('mean(alignment["RUS"])').type.describe()
    'one number per draw'
    >>> parse_expression('alignment.__class__')
    Traceback (most recent call last):
    ...
    forecast.scenarios.syntax.RuleError: attribute access is not allowed: `.__class__`
    """
    tree = syntax_tree(text)
    expr = Translator(text, dict(defines or {})).visit(tree.body)
    if _expanded_size(expr) > MAX_EXPANDED_NODES:
        raise RuleError(f"rule too large once definitions are expanded (over {MAX_EXPANDED_NODES})")
    return expr


def parse_condition(text: str, defines: Mapping[str, Expr] | None = None) -> Expr:
    """Parse a rule that must be one condition per draw.

    Examples
    --------
    >>> parse_condition('count(alignment["CHN"] > alignment["RUS"]) >= 3').type.describe()
    'one condition per draw'
    >>> parse_condition('alignment["CHN"] > 0')
    Traceback (most recent call last):
    ...
    forecast.scenarios.syntax.RuleError: the rule gives one condition per state; reduce it with all(), any() or count(): `alignment["CHN"] > 0`
    """  # noqa: E501
    expr = parse_expression(text, defines)
    kind = expr.type
    token = short(text)
    if kind.dtype != "bool":
        reason = f"the rule must be a condition (a comparison), not {kind.describe()}"
        raise RuleError(reason, token)
    if kind.shape is Shape.STATE:
        raise RuleError(
            "the rule gives one condition per state; reduce it with all(), any() or count()", token
        )
    if kind.shape is Shape.CONST:
        raise RuleError("the rule does not depend on the forecast", token)
    return expr


def _expanded_size(expr: Expr) -> int:
    # definitions are shared sub-trees; count them once per use, as evaluation would
    memo: dict[int, int] = {}

    def size(node: Expr) -> int:
        key = id(node)
        if key not in memo:
            memo[key] = 1 + sum(size(c) for c in children(node))
        return memo[key]

    return size(expr)
