"""What every command shares: readable help, bounded numbers, ``--quiet``.

Typer's help labels a flag ``<bool>`` and a bounded integer ``<int range> [x>=1]``; an analyst
reads ``--strict`` and ``--draws N  Draws per chain (at least 1)`` more easily. Commands are
registered with :class:`Command` (sub-apps with :class:`Group`), which hides the type of every
flag, including ``--help``; bounded numbers take :func:`in_range` as their callback instead of
typer's ``min``/``max``, with the bound said in the help text.
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer
from typer.core import TyperCommand, TyperGroup

#: the project's root: bundled files under it are shown relative to it in the help
PROJECT_ROOT = Path(__file__).resolve().parents[2]


def bundled_name(default: object) -> str | None:
    """How the help names a default path inside the project, or ``None`` for any other default.

    ``--help`` would otherwise print this machine's absolute path of the checkout.

    Examples
    --------
    >>> bundled_name(PROJECT_ROOT / "data" / "panel.csv")
    'the bundled data/panel.csv'
    >>> bundled_name(Path("/elsewhere/panel.csv")) is None
    True
    """
    if not isinstance(default, Path) or not default.is_absolute():
        return None
    try:
        return f"the bundled {default.relative_to(PROJECT_ROOT).as_posix()}"
    except ValueError:
        return None


def _plain_flags(params: list[Any]) -> list[Any]:
    for param in params:
        # a flag takes no value, so a type beside it only puzzles the reader
        if getattr(param, "is_flag", False) and param.metavar is None:
            param.metavar = ""
        name = bundled_name(getattr(param, "default", None))
        if name is not None and param.show_default in (None, True):
            param.show_default = name
    return params


class Command(TyperCommand):
    """A command whose help shows no type for flags (``--json``, ``--strict``, ``--help``)."""

    def get_params(self, ctx: Any) -> list[Any]:
        """Return the parameters, flags without a type label."""
        return _plain_flags(super().get_params(ctx))


class Group(TyperGroup):
    """A group of commands (``forecast``, ``forecast data``, ...) with help as in Command."""

    def get_params(self, ctx: Any) -> list[Any]:
        """Return the parameters, flags without a type label."""
        return _plain_flags(super().get_params(ctx))


def in_range(low: int, high: int | None = None) -> Callable[[Any], Any]:
    """Return a typer callback that accepts integers in ``[low, high]`` (and ``None``).

    Examples
    --------
    >>> check = in_range(1)
    >>> check(3), check(None)
    (3, None)
    >>> try:
    ...     check(0)
    ... except typer.BadParameter as err:
    ...     print(err)
    must be at least 1, not 0
    """

    def check(value: Any) -> Any:
        if value is None:
            return value
        if value < low:
            raise typer.BadParameter(f"must be at least {low}, not {value}")
        if high is not None and value > high:
            raise typer.BadParameter(f"must be at most {high}, not {value}")
        return value

    return check


def spec_default(key: str, spec: Any) -> str:
    """Return the help's default for a sampler setting that comes from the model spec.

    Reads the spec's ``[sampler]`` table without validating it (help must work even when the
    spec is broken; ``forecast fit`` reports the error).

    Examples
    --------
    >>> from forecast.model.spec import DEFAULT_MODEL
    >>> spec_default("chains", DEFAULT_MODEL)
    'from --model, 4 in alignment.toml'
    """
    try:
        with open(spec, "rb") as handle:
            value = tomllib.load(handle)["sampler"][key]
    except (OSError, KeyError, TypeError, tomllib.TOMLDecodeError):
        return "from --model"
    return f"from --model, {value} in {spec.name}"


#: ``--quiet``: no progress lines (they go to stderr; results and JSON stay on stdout)
QuietOpt = Annotated[
    bool,
    typer.Option(
        "--quiet",
        "-q",
        "--no-progress",
        help="Print no progress lines on stderr (results still go to stdout).",
    ),
]
