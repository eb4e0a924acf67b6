"""The scenario spec: a frozen, validated view of ``models/scenarios.toml``.

Schema::

    [define]                      # optional: names usable in every rule below
    name = "expression"

    [[partition]]                 # at least one; the first gives the headline
    id = "region_2030"
    title = "..."
    at = "2030"                   # the horizon: default period of the rules
    narrative = "..."             # optional

    [[partition.scenario]]        # two or more
    id = "..."
    title = "..."
    narrative = "..."
    rule = "..."                  # or `residual = true` (no rule): every draw no rule claims

    [[question]]
    id = "..."
    title = "..."
    at = "2025"
    rule = "..."
    narrative = "..."             # optional

Every id is unique in the file. Rules are parsed when the spec is loaded
(:mod:`forecast.scenarios.rules`); names that depend on the forecast (states, indicator keys,
periods) are checked by :func:`check_spec` when a forecast is at hand.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from forecast.errors import SpecError
from forecast.scenarios.entries import (
    array_of_tables,
    check_unique,
    entry_id,
    latest_period,
    period_field,
    text,
)
from forecast.scenarios.expr import Change, Expr, Quantity, uses_latent, walk
from forecast.scenarios.rules import RESERVED, RuleError, parse_condition, parse_expression
from forecast.tomlfile import check_keys, expect_type, parse_toml, read_text

if TYPE_CHECKING:
    # evaluation needs xarray; loading a spec (the CLI does it before anything else) does not
    from forecast.scenarios.evaluate import ForecastDraws

DEFAULT_SCENARIOS = Path(__file__).resolve().parents[2] / "models" / "scenarios.toml"

#: ``kind`` coordinate values of the scenario dimension of results
KIND_SCENARIO = "scenario"
KIND_QUESTION = "question"

_NAME = re.compile(r"[a-z_][a-z0-9_]{0,63}")


@dataclass(frozen=True)
class Scenario:
    """One outcome of a partition; ``rule`` is ``None`` for the explicit residual."""

    id: str
    title: str
    narrative: str
    rule_text: str | None
    rule: Expr | None

    @property
    def residual(self) -> bool:
        """Whether this scenario takes every draw that no other scenario's rule claims."""
        return self.rule is None


@dataclass(frozen=True)
class Partition:
    """Mutually exclusive, exhaustive scenarios at one horizon."""

    id: str
    title: str
    at: str
    narrative: str
    scenarios: tuple[Scenario, ...]

    @property
    def key(self) -> str:
        """Location of the partition in the spec file, for error messages."""
        return f"partition.{self.id}"

    @property
    def resolves_on(self) -> str:
        """``"latent"`` when any scenario reads the latent (the residual follows the others)."""
        latent = any(s.rule is not None and uses_latent(s.rule) for s in self.scenarios)
        return "latent" if latent else "indicators"


@dataclass(frozen=True)
class Question:
    """A yes/no question at a stated period, resolvable when the period's data arrive."""

    id: str
    title: str
    at: str
    narrative: str
    rule_text: str
    rule: Expr

    @property
    def resolves_on(self) -> str:
        """``"indicators"`` (resolved by observed data) or ``"latent"`` (by a later model)."""
        return "latent" if uses_latent(self.rule) else "indicators"


@dataclass(frozen=True)
class ScenarioSpec:
    """A loaded scenario file: partitions, questions and the definitions their rules use."""

    path: str
    partitions: tuple[Partition, ...]
    questions: tuple[Question, ...]
    defines: tuple[tuple[str, str], ...]
    sha256: str

    @property
    def headline(self) -> Partition:
        """The partition whose entropy is the headline's outcome uncertainty (the first)."""
        return self.partitions[0]

    def periods(self) -> list[str]:
        """Return every period the spec's rules read (``at`` values and explicit periods)."""
        found: list[str] = []
        entries: list[tuple[str, Expr | None]] = [
            (p.at, s.rule) for p in self.partitions for s in p.scenarios
        ]
        entries += [(q.at, q.rule) for q in self.questions]
        for at, rule in entries:
            found.append(at)
            for node in walk(rule) if rule is not None else ():
                if isinstance(node, Quantity) and node.period is not None:
                    found.append(node.period)
                elif isinstance(node, Change):
                    found += [node.start, node.end]
        return sorted(set(found))

    @property
    def horizon(self) -> str:
        """The latest period the spec reads: a forecast must reach it."""
        return latest_period(self.periods())


def load_scenario_spec(path: str | Path = DEFAULT_SCENARIOS) -> ScenarioSpec:
    """Load and validate a scenario spec file (:func:`parse_scenario_spec` of its text).

    Examples
    --------
    >>> spec = load_scenario_spec()
    >>> spec.headline.at, len(spec.questions) >= 6
    ('2030', True)
    """
    return parse_scenario_spec(read_text(path), path)


def parse_scenario_spec(text: str, source: str | Path = "<scenario text>") -> ScenarioSpec:
    """Validate a scenario spec given as TOML text; ``source`` names it in errors.

    Raises
    ------
    SpecError
        Naming the file and the entry (``partition.<id>.scenario.<id>.rule``,
        ``question.<id>.at``, ...), for invalid TOML, a missing or unknown key, a wrong
        type, a duplicate id, or a rule the language refuses.

    Examples
    --------
    >>> spec = parse_scenario_spec(DEFAULT_SCENARIOS.read_text(encoding="utf-8"))
    >>> spec.sha256 == load_scenario_spec().sha256
    True
    """
    path = Path(source)
    raw = parse_toml(text, path)
    check_keys(path, raw, required={"partition"}, optional={"define", "question"})
    defines = _defines(path, raw.get("define", {}))
    parsed = {name: expr for name, (_, expr) in defines.items()}
    partitions = tuple(
        _partition(path, table, i, parsed)
        for i, table in enumerate(array_of_tables(path, raw, "partition"))
    )
    if not partitions:
        raise SpecError(path, "at least one [[partition]] is needed", key="partition")
    questions = tuple(
        _question(path, table, i, parsed)
        for i, table in enumerate(array_of_tables(path, raw, "question"))
    )
    ids = [(p.id, f"partition.{p.id}.id") for p in partitions]
    ids += [(s.id, f"partition.{p.id}.scenario.{s.id}.id") for p in partitions for s in p.scenarios]
    ids += [(q.id, f"question.{q.id}.id") for q in questions]
    check_unique(path, ids)
    return ScenarioSpec(
        path=str(path),
        partitions=partitions,
        questions=questions,
        defines=tuple((name, source) for name, (source, _) in defines.items()),
        sha256=hashlib.sha256(text.encode("utf-8")).hexdigest(),
    )


def _rule_error(path: Path, key: str, err: RuleError) -> SpecError:
    return SpecError(path, f"rule refused: {err}", key=key)


def _defines(path: Path, table: Any) -> dict[str, tuple[str, Expr]]:
    if not isinstance(table, dict):
        raise SpecError(path, "expected a table of name = expression", key="define")
    out: dict[str, tuple[str, Expr]] = {}
    for name, source in table.items():
        key = f"define.{name}"
        if not _NAME.fullmatch(name) or name in RESERVED:
            raise SpecError(
                path,
                "a defined name must be lower-case letters, digits and underscores, "
                "and not a quantity or function of the rule language",
                key=key,
            )
        expect_type(path, key, source, str)
        try:
            expr = parse_expression(source, {n: e for n, (_, e) in out.items()})
        except RuleError as err:
            raise _rule_error(path, key, err) from None
        out[name] = (source, expr)
    return out


def _rule(path: Path, table: dict[str, Any], where: str, defines: dict[str, Expr]) -> Expr:
    source = expect_type(path, f"{where}.rule", table.get("rule"), str)
    try:
        return parse_condition(source, defines)
    except RuleError as err:
        raise _rule_error(path, f"{where}.rule", err) from None


def _partition(
    path: Path, table: dict[str, Any], index: int, defines: dict[str, Expr]
) -> Partition:
    pid = entry_id(path, table, f"partition[{index}]")
    where = f"partition.{pid}"
    check_keys(
        path,
        table,
        required={"id", "title", "at", "scenario"},
        optional={"narrative"},
        prefix=where,
    )
    at = period_field(path, table, "at", where)
    scenarios = []
    for i, sub in enumerate(array_of_tables(path, table, "scenario")):
        sid = entry_id(path, sub, f"{where}.scenario[{i}]")
        swhere = f"{where}.scenario.{sid}"
        residual = expect_type(path, f"{swhere}.residual", sub.get("residual", False), bool)
        if residual and "rule" in sub:
            raise SpecError(path, "a residual scenario has no rule", key=f"{swhere}.rule")
        required = {"id", "title", "narrative"} | (set() if residual else {"rule"})
        check_keys(path, sub, required=required, optional={"residual"}, prefix=swhere)
        scenarios.append(
            Scenario(
                id=sid,
                title=text(path, sub, "title", swhere),
                narrative=text(path, sub, "narrative", swhere),
                rule_text=None if residual else sub["rule"],
                rule=None if residual else _rule(path, sub, swhere, defines),
            )
        )
    if len(scenarios) < 2:
        raise SpecError(path, "a partition needs at least two scenarios", key=f"{where}.scenario")
    if sum(s.residual for s in scenarios) > 1:
        raise SpecError(path, "at most one residual scenario", key=f"{where}.scenario")
    return Partition(
        id=pid,
        title=text(path, table, "title", where),
        at=at,
        narrative=text(path, table, "narrative", where, default=""),
        scenarios=tuple(scenarios),
    )


def _question(path: Path, table: dict[str, Any], index: int, defines: dict[str, Expr]) -> Question:
    qid = entry_id(path, table, f"question[{index}]")
    where = f"question.{qid}"
    check_keys(
        path, table, required={"id", "title", "at", "rule"}, optional={"narrative"}, prefix=where
    )
    return Question(
        id=qid,
        title=text(path, table, "title", where),
        at=period_field(path, table, "at", where),
        narrative=text(path, table, "narrative", where, default=""),
        rule_text=table["rule"],
        rule=_rule(path, table, where, defines),
    )


def check_spec(spec: ScenarioSpec, draws: ForecastDraws) -> None:
    """Refuse states, indicators and periods the forecast lacks, naming file and entry.

    Raises
    ------
    SpecError
        E.g. ``models/scenarios.toml, key question.q1.rule: rule refused: unknown state ...``.
    """
    for partition in spec.partitions:
        _check_at(spec.path, partition.key, partition.at, draws)
        for scenario in partition.scenarios:
            if scenario.rule is not None:
                key = f"{partition.key}.scenario.{scenario.id}.rule"
                _check_rule(spec.path, key, scenario.rule, partition.at, draws)
    for question in spec.questions:
        key = f"question.{question.id}"
        _check_at(spec.path, key, question.at, draws)
        _check_rule(spec.path, f"{key}.rule", question.rule, question.at, draws)


def _check_at(path: str, key: str, at: str, draws: ForecastDraws) -> None:
    if not draws.has_period(at):
        raise SpecError(
            path, f"period {at} is not in the forecast ({draws.span()})", key=f"{key}.at"
        )


def _check_rule(path: str, key: str, rule: Expr, at: str, draws: ForecastDraws) -> None:
    from forecast.scenarios.evaluate import check_names

    try:
        check_names(rule, at, draws)
    except RuleError as err:
        raise SpecError(path, f"rule refused: {err}", key=key) from None
