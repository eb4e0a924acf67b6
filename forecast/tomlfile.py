"""Reading TOML specs with errors that name the file."""

from __future__ import annotations

import math
import tomllib
from pathlib import Path
from typing import Any

from forecast.errors import SpecError


def read_toml(path: str | Path) -> dict[str, Any]:
    """Read a TOML file, turning I/O and syntax problems into a :class:`SpecError`.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "bad.toml"
    >>> _ = p.write_text("a = ")
    >>> try:
    ...     read_toml(p)
    ... except SpecError as err:
    ...     print(str(err).split(":")[1].strip())
    invalid TOML (Invalid value (at end of document))
    """
    return parse_toml(read_text(path), path)


def read_text(path: str | Path) -> str:
    """Read a spec file's text, turning I/O and encoding problems into a :class:`SpecError`."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise SpecError(path, "file not found") from None
    except OSError as err:
        raise SpecError(path, f"cannot read file ({err.strerror})") from None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise SpecError(path, "not UTF-8 encoded text") from None


def parse_toml(text: str, source: str | Path) -> dict[str, Any]:
    """Parse TOML text; ``source`` (a path or a label) names it in a syntax error.

    Examples
    --------
    >>> parse_toml("a = 1", "<text>")
    {'a': 1}
    """
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise SpecError(source, f"invalid TOML ({err})") from None


def check_finite(path: str | Path, table: dict[str, Any], prefix: str = "") -> None:
    """Refuse ``nan`` and ``inf`` anywhere in a TOML document (TOML allows both spellings).

    Raises
    ------
    SpecError
        Naming the first key (``priors.noise_sd``, ``indicators.use[2]``) that holds one.

    Examples
    --------
    >>> check_finite("m.toml", {"priors": {"noise_sd": float("nan")}})
    Traceback (most recent call last):
    ...
    forecast.errors.SpecError: m.toml, key priors.noise_sd: nan is not allowed: expected a finite number
    """  # noqa: E501
    stack: list[tuple[str, Any]] = [(f"{prefix}.{k}" if prefix else k, v) for k, v in table.items()]
    while stack:
        key, value = stack.pop(0)
        if isinstance(value, float) and not math.isfinite(value):
            raise SpecError(path, f"{value} is not allowed: expected a finite number", key=key)
        if isinstance(value, dict):
            stack += [(f"{key}.{k}", v) for k, v in value.items()]
        elif isinstance(value, list):
            stack += [(f"{key}[{i}]", v) for i, v in enumerate(value)]


def check_keys(
    path: str | Path,
    table: dict[str, Any],
    *,
    required: set[str],
    optional: set[str] = frozenset(),  # type: ignore[assignment]
    prefix: str = "",
) -> None:
    """Refuse missing or unknown keys in one TOML table."""
    where = f"{prefix}." if prefix else ""
    missing = sorted(required - table.keys())
    if missing:
        raise SpecError(path, "missing required key", key=f"{where}{missing[0]}")
    unknown = sorted(table.keys() - required - optional)
    if unknown:
        allowed = ", ".join(sorted(required | optional))
        raise SpecError(path, f"unknown key (allowed: {allowed})", key=f"{where}{unknown[0]}")


def expect_type(path: str | Path, key: str, value: Any, types: type | tuple[type, ...]) -> Any:
    """Return ``value`` if it has one of ``types`` (bool is never accepted as a number)."""
    names = types.__name__ if isinstance(types, type) else " or ".join(t.__name__ for t in types)
    numeric = types in (int, float) or (isinstance(types, tuple) and set(types) <= {int, float})
    if (isinstance(value, bool) and numeric) or not isinstance(value, types):
        raise SpecError(path, f"expected {names}, got {type(value).__name__} {value!r}", key=key)
    return value
