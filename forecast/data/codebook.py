"""The codebook: what each indicator measures, its pole, sign, kind, frequency and release lag."""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from forecast.data.states import KNOWN_STATES
from forecast.dims import FREQUENCIES, KINDS, POLES
from forecast.errors import SpecError
from forecast.tomlfile import check_keys, expect_type, read_toml

#: the bundled codebook
DEFAULT_CODEBOOK = Path(__file__).resolve().parents[2] / "data" / "codebook.toml"

_REQUIRED = {
    "title",
    "description",
    "pole",
    "sign",
    "kind",
    "frequency",
    "unit",
    "source",
    "release_lag_months",
}
_OPTIONAL = {"offset", "range", "max_n"}
#: the top-level key listing the states a panel may hold (every other key is an indicator)
STATES_KEY: Final = "states"

#: plausible ``(low, high)`` of a value by kind, where the indicator declares no ``range``:
#: fractions lie in [0, 1]; amounts and counts are bounded generously, so that only a
#: corrupted or mis-scaled value (1e300, a count in units instead of millions) is refused
KIND_RANGES: Final = {
    "binomial": (0.0, 1.0),
    "share": (0.0, 1.0),
    "binary": (0.0, 1.0),
    "positive": (0.0, 1e9),
    "continuous": (-1e9, 1e9),
}
#: plausible number of trials of a binomial cell, where the indicator declares no ``max_n``
#: (the UN General Assembly holds about 70 to 130 roll calls a year)
DEFAULT_MAX_N: Final = 1000


@dataclass(frozen=True)
class Indicator:
    """One codebook entry.

    Attributes
    ----------
    key
        The indicator key used in the panel.
    pole
        ``RUS``, ``CHN`` or ``WEST``.
    sign
        +1 if a higher value means closer to the pole, -1 if further.
    kind
        Measurement kind: ``binomial``, ``share``, ``positive``, ``binary`` or ``continuous``.
    frequency
        ``Y``, ``Q`` or ``M``.
    offset
        For ``positive`` indicators, the model observes ``log(value + offset)``.
    plausible
        ``(low, high)``: the values a panel may hold (the codebook's ``range``, else
        :data:`KIND_RANGES` of the kind).
    max_n
        For ``binomial`` indicators, the largest plausible number of trials.
    """

    key: str
    title: str
    description: str
    pole: str
    sign: int
    kind: str
    frequency: str
    unit: str
    source: str
    release_lag_months: int
    offset: float = 0.0
    plausible: tuple[float, float] | None = None
    max_n: int = DEFAULT_MAX_N

    def value_range(self) -> tuple[float, float, bool]:
        """Return the allowed ``(low, high, low_inclusive)`` on the natural scale.

        The bounds are the indicator's plausible range; a ``positive`` value must moreover be
        above 0 unless the indicator has an offset (the model takes its logarithm).

        Examples
        --------
        >>> Indicator("x", "", "", "RUS", 1, "positive", "Y", "", "", 0).value_range()
        (0.0, 1000000000.0, False)
        """
        low, high = self.plausible or KIND_RANGES[self.kind]
        if self.kind == "positive":
            return (low, high, low > 0 or self.offset > 0)
        return (low, high, True)


@dataclass(frozen=True)
class Codebook(Mapping[str, Indicator]):
    """An immutable mapping from indicator key to :class:`Indicator`, with its file's hash."""

    indicators: tuple[Indicator, ...]
    path: str = ""
    sha256: str = ""
    #: the states a panel may hold; empty means any ISO 3166-1 alpha-3 code
    states: tuple[str, ...] = ()

    def __getitem__(self, key: str) -> Indicator:
        for ind in self.indicators:
            if ind.key == key:
                return ind
        raise KeyError(key)

    def __iter__(self) -> Iterator[str]:
        return (ind.key for ind in self.indicators)

    def __len__(self) -> int:
        return len(self.indicators)


def _indicator(path: Path, key: str, table: object) -> Indicator:
    if not isinstance(table, dict):
        raise SpecError(path, "expected a table of indicator fields", key=key)
    check_keys(path, table, required=_REQUIRED, optional=_OPTIONAL, prefix=key)
    for field in ("title", "description", "unit", "source"):
        expect_type(path, f"{key}.{field}", table[field], str)
    pole = expect_type(path, f"{key}.pole", table["pole"], str)
    if pole not in POLES:
        raise SpecError(
            path, f"pole must be one of {', '.join(POLES)}, got {pole!r}", key=f"{key}.pole"
        )
    sign = expect_type(path, f"{key}.sign", table["sign"], int)
    if sign not in (1, -1):
        raise SpecError(path, f"sign must be 1 or -1, got {sign}", key=f"{key}.sign")
    kind = expect_type(path, f"{key}.kind", table["kind"], str)
    if kind not in KINDS:
        raise SpecError(
            path, f"kind must be one of {', '.join(KINDS)}, got {kind!r}", key=f"{key}.kind"
        )
    freq = expect_type(path, f"{key}.frequency", table["frequency"], str)
    if freq not in FREQUENCIES:
        raise SpecError(path, f"frequency must be Y, Q or M, got {freq!r}", key=f"{key}.frequency")
    lag = expect_type(path, f"{key}.release_lag_months", table["release_lag_months"], int)
    if lag < 0:
        raise SpecError(path, "release lag must be >= 0", key=f"{key}.release_lag_months")
    offset = float(expect_type(path, f"{key}.offset", table.get("offset", 0.0), (int, float)))
    if not math.isfinite(offset) or offset < 0 or (offset > 0 and kind != "positive"):
        raise SpecError(path, "offset must be >= 0 and only for kind positive", key=f"{key}.offset")
    plausible = _plausible(path, key, kind, table.get("range"))
    max_n = expect_type(path, f"{key}.max_n", table.get("max_n", DEFAULT_MAX_N), int)
    if max_n < 1 or ("max_n" in table and kind != "binomial"):
        raise SpecError(
            path, "max_n must be a positive integer, for kind binomial only", key=f"{key}.max_n"
        )
    return Indicator(
        key=key,
        title=table["title"],
        description=table["description"],
        pole=pole,
        sign=sign,
        kind=kind,
        frequency=freq,
        unit=table["unit"],
        source=table["source"],
        release_lag_months=lag,
        offset=offset,
        plausible=plausible,
        max_n=max_n,
    )


def _plausible(path: Path, key: str, kind: str, value: Any) -> tuple[float, float] | None:
    """Check a declared ``range = [low, high]`` against the kind's own limits."""
    if value is None:
        return None
    where = f"{key}.range"
    expect_type(path, where, value, list)
    if len(value) != 2:
        raise SpecError(path, "expected [low, high]", key=where)
    low, high = (float(expect_type(path, where, v, (int, float))) for v in value)
    if not (math.isfinite(low) and math.isfinite(high) and low < high):
        raise SpecError(path, "expected [low, high]: two finite numbers, low < high", key=where)
    kind_low, kind_high = KIND_RANGES[kind]
    if kind in ("binomial", "share", "binary") and not kind_low <= low < high <= kind_high:
        raise SpecError(path, f"a {kind} indicator's range must lie within [0, 1]", key=where)
    if kind == "positive" and low < 0:
        raise SpecError(path, "a positive indicator's range must start at 0 or above", key=where)
    return (low, high)


def _states(path: Path, value: Any) -> tuple[str, ...]:
    """Check the declared states: a non-empty list of distinct ISO 3166-1 alpha-3 codes."""
    codes = expect_type(path, STATES_KEY, value, list)
    if not codes:
        raise SpecError(path, "no state listed", key=STATES_KEY)
    for i, code in enumerate(codes):
        expect_type(path, f"{STATES_KEY}[{i}]", code, str)
        if code not in KNOWN_STATES:
            raise SpecError(
                path,
                f"{code!r} is not an ISO 3166-1 alpha-3 state code (such as KAZ)",
                key=f"{STATES_KEY}[{i}]",
            )
    if len(set(codes)) != len(codes):
        raise SpecError(path, "a state is listed twice", key=STATES_KEY)
    return tuple(codes)


def load_codebook(path: str | Path = DEFAULT_CODEBOOK) -> Codebook:
    """Load and validate a codebook TOML file.

    Examples
    --------
    >>> cb = load_codebook()
    >>> cb["trade_share_chn"].pole, cb["trade_share_chn"].kind
    ('CHN', 'share')
    >>> cb.states
    ('KAZ', 'KGZ', 'TJK', 'TKM', 'UZB')
    """
    path = Path(path)
    raw = read_toml(path)
    if STATES_KEY not in raw:
        raise SpecError(
            path,
            "missing required key: the list of states a panel may hold (ISO 3166-1 alpha-3)",
            key=STATES_KEY,
        )
    states = _states(path, raw.pop(STATES_KEY))
    if not raw:
        raise SpecError(path, "codebook defines no indicator")
    indicators = tuple(_indicator(path, key, table) for key, table in raw.items())
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    return Codebook(indicators=indicators, path=str(path), sha256=digest, states=states)
