"""The codebook: what each indicator measures, its pole, sign, kind, frequency and release lag."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

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
_OPTIONAL = {"offset"}


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

    def value_range(self) -> tuple[float, float, bool]:
        """Return the allowed ``(low, high, low_inclusive)`` for this kind on the natural scale."""
        inf = float("inf")
        if self.kind in ("binomial", "share", "binary"):
            return (0.0, 1.0, True)
        if self.kind == "positive":
            return (0.0, inf, self.offset > 0)
        return (-inf, inf, True)


@dataclass(frozen=True)
class Codebook(Mapping[str, Indicator]):
    """An immutable mapping from indicator key to :class:`Indicator`, with its file's hash."""

    indicators: tuple[Indicator, ...]
    path: str = ""
    sha256: str = ""

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
    if offset < 0 or (offset > 0 and kind != "positive"):
        raise SpecError(path, "offset must be >= 0 and only for kind positive", key=f"{key}.offset")
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
    )


def load_codebook(path: str | Path = DEFAULT_CODEBOOK) -> Codebook:
    """Load and validate a codebook TOML file.

    Examples
    --------
    >>> cb = load_codebook()
    >>> cb["trade_share_chn"].pole, cb["trade_share_chn"].kind
    ('CHN', 'share')
    """
    path = Path(path)
    raw = read_toml(path)
    if not raw:
        raise SpecError(path, "codebook defines no indicator")
    indicators = tuple(_indicator(path, key, table) for key, table in raw.items())
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    return Codebook(indicators=indicators, path=str(path), sha256=digest)
