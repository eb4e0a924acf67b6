"""The rule language's vocabulary, limits and error, and the guarded call to ``ast.parse``.

``ast.parse`` only builds a syntax tree: it runs nothing. Before it is called the text is
checked for size, and after it the tree for size and depth, so that no input can exhaust
memory or the interpreter's stack (:mod:`forecast.scenarios.rules` has the language itself).
"""

from __future__ import annotations

import ast
import re
from typing import Final

from forecast.errors import ForecastError
from forecast.periods import period_frequency

#: the quantities a rule can subscript, and the whitelisted functions
QUANTITIES: Final = ("alignment", "indicator")
FUNCTIONS: Final = ("count", "mean", "all", "any", "min", "max", "abs", "change", "rank")
RESERVED: Final = frozenset(QUANTITIES + FUNCTIONS)

#: limits that keep a rule small (a rule is a definition, not a program)
MAX_CHARS: Final = 2000
MAX_AST_NODES: Final = 400
MAX_DEPTH: Final = 40
MAX_EXPANDED_NODES: Final = 4000
MAX_ABS_CONSTANT: Final = 1e12
MAX_ABS_EXPONENT: Final = 4
#: years a period may name (a forecast is projected as far as the spec reads)
YEAR_RANGE: Final = (1900, 2100)

YEARS = f"{YEAR_RANGE[0]} to {YEAR_RANGE[1]}"
STATE_CODE = re.compile(r"[A-Z]{3}")
INDICATOR_KEY = re.compile(r"[a-z][a-z0-9_]{0,63}")


def is_period(text: str) -> bool:
    """Return whether ``text`` is a period (2030, 2030Q2, 2030-05) in :data:`YEAR_RANGE`.

    Examples
    --------
    >>> is_period("2030"), is_period("2030Q2"), is_period("3030"), is_period("KAZ")
    (True, True, False, False)
    """
    if period_frequency(text) is None:
        return False
    return YEAR_RANGE[0] <= int(text[:4]) <= YEAR_RANGE[1]


class RuleError(ForecastError):
    """A rule the language refuses, with the offending token.

    Examples
    --------
    >>> str(RuleError("unknown function", "open"))
    'unknown function: `open`'
    """

    def __init__(self, reason: str, token: str | None = None) -> None:
        self.reason = reason
        self.token = token
        super().__init__(f"{reason}: `{token}`" if token else reason)


def short(text: str, limit: int = 60) -> str:
    """Return ``text`` on one line, cut to ``limit`` characters."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def syntax_tree(text: str) -> ast.Expression:
    """Parse ``text`` as one expression, refusing oversized or deeply nested input first."""
    if not isinstance(text, str):
        raise RuleError(f"a rule must be text, not {type(text).__name__}")
    if not text.strip():
        raise RuleError("empty rule")
    if len(text) > MAX_CHARS:
        raise RuleError(f"rule longer than {MAX_CHARS} characters")
    try:
        tree = ast.parse(text, mode="eval")
    except SyntaxError as err:
        token = err.text.strip() if err.text else None
        raise RuleError(f"syntax error ({err.msg})", short(token) if token else None) from None
    except (ValueError, RecursionError, MemoryError, OverflowError) as err:
        # null bytes, or nesting too deep for the parser itself
        raise RuleError(f"cannot parse the rule ({type(err).__name__})") from None
    size, depth = size_and_depth(tree)
    if size > MAX_AST_NODES:
        raise RuleError(f"rule too large (over {MAX_AST_NODES} syntax nodes)")
    if depth > MAX_DEPTH:
        raise RuleError(f"rule nested too deeply (over {MAX_DEPTH} levels)")
    check_ascii_names(text, tree)
    return tree


def check_ascii_names(text: str, tree: ast.AST) -> None:
    """Refuse a name not written as the plain ASCII identifier the parser reports.

    Python's parser normalises identifiers (NFKC): a full-width ``ｍｅａｎ`` becomes the
    whitelisted ``mean``, and a rule could read as one thing and run as another. Every name
    must therefore be spelled exactly as its normalised form, in ASCII.

    Examples
    --------
    >>> check_ascii_names("\uff4d\uff45\uff41\uff4e(x)", ast.parse("\uff4d\uff45\uff41\uff4e(x)"))
    Traceback (most recent call last):
    ...
    forecast.scenarios.syntax.RuleError: names must be plain ASCII letters, digits and underscores: `ｍｅａｎ`
    """  # noqa: E501
    # not ast.walk, which imports a module while the rule is being parsed
    stack = [tree]
    while stack:
        node = stack.pop()
        stack.extend(ast.iter_child_nodes(node))
        if isinstance(node, ast.Name):
            written = ast.get_source_segment(text, node) or node.id
            if written != node.id or not written.isascii():
                raise RuleError(
                    "names must be plain ASCII letters, digits and underscores", short(written)
                )


def size_and_depth(tree: ast.AST) -> tuple[int, int]:
    """Return the number of nodes of ``tree`` and its depth."""
    # iterative, so that a pathological input cannot exhaust the interpreter's stack
    size, deepest = 0, 0
    stack = [(tree, 0)]
    while stack:
        node, depth = stack.pop()
        size += 1
        deepest = max(deepest, depth)
        stack.extend((child, depth + 1) for child in ast.iter_child_nodes(node))
    return size, deepest
