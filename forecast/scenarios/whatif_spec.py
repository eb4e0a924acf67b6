"""The what-if spec: a frozen, validated view of ``models/whatif.toml``.

Schema::

    baseline_weight = 0.55        # optional; with weights, see below

    [[whatif]]
    id = "sanctions_bite"
    title = "..."
    narrative = "..."
    weight = 0.2                  # optional: probability of this world, for the coherence check
    raises = ["chinese_ascendancy"]   # optional: scenario/question ids the narrative says
    lowers = ["russian_primacy"]      # become more / less likely (checked and reported)

    [[whatif.shock]]              # one or more
    start = "2023"                # first period affected: after the last fitted period
    poles = ["RUS"]
    states = ["KAZ", "UZB"]       # optional: default every state of the forecast
    level = -0.3                  # one-off shift of the latent at `start` (it persists)
    drift = -0.02                 # change of the drift per period from `start` on

``level`` and ``drift`` are in the latent's standardised units (see ``models/scenarios.toml``)
and at least one of them is non-zero. Weights, when given, are given for every what-if; with
``baseline_weight`` (default 0) they sum to 1, and the engine reports the weighted sum of the
what-ifs' probabilities against the baseline's (law of total probability: if the what-ifs are
the worlds the baseline averages over, the two agree).

States, periods and the ids in ``raises``/``lowers`` are checked when a forecast and a scenario
spec are at hand (:func:`forecast.scenarios.whatif.apply_whatif`).
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from forecast.dims import POLES
from forecast.errors import SpecError
from forecast.scenarios.entries import array_of_tables, check_unique, entry_id, period_field, text
from forecast.scenarios.spec import ScenarioSpec
from forecast.tomlfile import check_keys, expect_type, parse_toml, read_text

DEFAULT_WHATIF = Path(__file__).resolve().parents[2] / "models" / "whatif.toml"

#: largest shock accepted, in latent units (beyond a few units the model says nothing)
MAX_LEVEL = 5.0
MAX_DRIFT = 1.0
#: tolerance on the sum of the weights
WEIGHT_TOLERANCE = 1e-6


@dataclass(frozen=True)
class Shock:
    """A level shift and/or drift change of the latent from ``start`` on.

    ``states`` is ``None`` for every state of the forecast.
    """

    start: str
    poles: tuple[str, ...]
    states: tuple[str, ...] | None
    level: float
    drift: float


@dataclass(frozen=True)
class WhatIf:
    """One what-if: shocks, and the scenario ids its narrative says it raises or lowers."""

    id: str
    title: str
    narrative: str
    shocks: tuple[Shock, ...]
    weight: float | None
    raises: tuple[str, ...]
    lowers: tuple[str, ...]
    path: str

    @property
    def key(self) -> str:
        """Location of the what-if in its file, for error messages."""
        return f"whatif.{self.id}"


@dataclass(frozen=True)
class WhatIfSpec:
    """A loaded what-if file."""

    path: str
    whatifs: tuple[WhatIf, ...]
    baseline_weight: float | None
    sha256: str

    @property
    def weighted(self) -> bool:
        """Whether weights are given (so the coherence check applies)."""
        return self.baseline_weight is not None


def load_whatif_spec(path: str | Path = DEFAULT_WHATIF) -> WhatIfSpec:
    """Load and validate a what-if spec file (:func:`parse_whatif_spec` of its text).

    Examples
    --------
    >>> spec = load_whatif_spec()
    >>> [w.id for w in spec.whatifs][:2]
    ['sanctions_bite', 'reexport_boom']
    """
    return parse_whatif_spec(read_text(path), path)


def parse_whatif_spec(text: str, source: str | Path = "<what-if text>") -> WhatIfSpec:
    """Validate a what-if spec given as TOML text; ``source`` names it in errors.

    Raises
    ------
    SpecError
        Naming file and entry (``whatif.<id>.shock[0].poles``, ...): invalid TOML, missing or
        unknown keys, wrong types, duplicate ids, unknown poles, malformed periods, shocks
        that change nothing or are implausibly large, weights that do not sum to 1.
    """
    path = Path(source)
    raw = parse_toml(text, path)
    check_keys(path, raw, required={"whatif"}, optional={"baseline_weight"})
    whatifs = tuple(
        _whatif(path, table, i) for i, table in enumerate(array_of_tables(path, raw, "whatif"))
    )
    if not whatifs:
        raise SpecError(path, "at least one [[whatif]] is needed", key="whatif")
    check_unique(path, [(w.id, f"{w.key}.id") for w in whatifs])
    baseline_weight = _weights(path, raw, whatifs)
    return WhatIfSpec(
        path=str(path),
        whatifs=whatifs,
        baseline_weight=baseline_weight,
        sha256=hashlib.sha256(text.encode("utf-8")).hexdigest(),
    )


def _number(path: Path, key: str, value: Any, bound: float) -> float:
    number = float(expect_type(path, key, value, (int, float)))
    if not math.isfinite(number) or abs(number) > bound:
        raise SpecError(path, f"must be a number between -{bound:g} and {bound:g}", key=key)
    return number


def _names(path: Path, key: str, value: Any) -> tuple[str, ...]:
    items = expect_type(path, key, value, list)
    if not items:
        raise SpecError(path, "must not be empty", key=key)
    for i, item in enumerate(items):
        expect_type(path, f"{key}[{i}]", item, str)
    if len(set(items)) != len(items):
        raise SpecError(path, "a name is listed twice", key=key)
    return tuple(items)


def _shock(path: Path, table: dict[str, Any], where: str) -> Shock:
    check_keys(
        path,
        table,
        required={"start", "poles"},
        optional={"states", "level", "drift"},
        prefix=where,
    )
    poles = _names(path, f"{where}.poles", table["poles"])
    for pole in poles:
        if pole not in POLES:
            raise SpecError(
                path, f"unknown pole {pole!r} (poles: {', '.join(POLES)})", key=f"{where}.poles"
            )
    states = _names(path, f"{where}.states", table["states"]) if "states" in table else None
    level = _number(path, f"{where}.level", table.get("level", 0.0), MAX_LEVEL)
    drift = _number(path, f"{where}.drift", table.get("drift", 0.0), MAX_DRIFT)
    if level == 0.0 and drift == 0.0:
        raise SpecError(path, "a shock needs a non-zero level or drift", key=where)
    return Shock(
        start=period_field(path, table, "start", where),
        poles=poles,
        states=states,
        level=level,
        drift=drift,
    )


def _whatif(path: Path, table: dict[str, Any], index: int) -> WhatIf:
    wid = entry_id(path, table, f"whatif[{index}]")
    where = f"whatif.{wid}"
    check_keys(
        path,
        table,
        required={"id", "title", "narrative", "shock"},
        optional={"weight", "raises", "lowers"},
        prefix=where,
    )
    shocks = tuple(
        _shock(path, sub, f"{where}.shock[{i}]")
        for i, sub in enumerate(array_of_tables(path, table, "shock"))
    )
    if not shocks:
        raise SpecError(path, "at least one [[whatif.shock]] is needed", key=f"{where}.shock")
    weight = None
    if "weight" in table:
        weight = _number(path, f"{where}.weight", table["weight"], 1.0)
        if weight < 0:
            raise SpecError(path, "a weight must be in [0, 1]", key=f"{where}.weight")
    raises = _names(path, f"{where}.raises", table["raises"]) if "raises" in table else ()
    lowers = _names(path, f"{where}.lowers", table["lowers"]) if "lowers" in table else ()
    both = sorted(set(raises) & set(lowers))
    if both:
        raise SpecError(path, f"{both[0]!r} is both raised and lowered", key=f"{where}.lowers")
    return WhatIf(
        id=wid,
        title=text(path, table, "title", where),
        narrative=text(path, table, "narrative", where),
        shocks=shocks,
        weight=weight,
        raises=raises,
        lowers=lowers,
        path=str(path),
    )


def _weights(path: Path, raw: dict[str, Any], whatifs: tuple[WhatIf, ...]) -> float | None:
    given = [w.weight is not None for w in whatifs]
    if not any(given) and "baseline_weight" not in raw:
        return None
    missing = [w for w in whatifs if w.weight is None]
    if missing:
        raise SpecError(
            path,
            "weights are given for some what-ifs, so every what-if needs one",
            key=f"{missing[0].key}.weight",
        )
    baseline = _number(path, "baseline_weight", raw.get("baseline_weight", 0.0), 1.0)
    if baseline < 0:
        raise SpecError(path, "a weight must be in [0, 1]", key="baseline_weight")
    total = baseline + sum(w.weight or 0.0 for w in whatifs)
    if abs(total - 1.0) > WEIGHT_TOLERANCE:
        raise SpecError(
            path,
            f"the weights (with baseline_weight) sum to {total:.6g}, not 1",
            key="baseline_weight",
        )
    return baseline


def check_claims(whatifs: WhatIfSpec, scenarios: ScenarioSpec) -> None:
    """Refuse ``raises``/``lowers`` ids that are not scenarios or questions of the spec."""
    known = {s.id for p in scenarios.partitions for s in p.scenarios}
    known |= {q.id for q in scenarios.questions}
    for whatif in whatifs.whatifs:
        for field, ids in (("raises", whatif.raises), ("lowers", whatif.lowers)):
            for sid in ids:
                if sid not in known:
                    raise SpecError(
                        whatif.path,
                        f"{sid!r} is not a scenario or question of {scenarios.path}",
                        key=f"{whatif.key}.{field}",
                    )
