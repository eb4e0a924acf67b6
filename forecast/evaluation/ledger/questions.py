"""Scenario and question probabilities in the ledger: what is stored, and how they resolve.

At record time every scenario and question probability of the run's forecast is stored with
the scenario file it came from (its text, by hash), so a question is later resolved exactly
as it was asked, whatever the file says by then.

Entries stated on observable indicators resolve from data: the panel is read as a forecast
with a single draw and the same rule is evaluated on it. An entry resolves only once every
cell its rule reads is in the panel; a partition resolves as a whole (its residual scenario
happens when no other does). Entries stated on the latent stay pending: they need a later
model's smoothed estimate, not data.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from forecast.dims import (
    ALIGNMENT_VAR,
    CHAIN,
    DRAW,
    INDICATOR,
    INDICATOR_VAR,
    PERIOD,
    POLE,
    POLES,
    SCENARIO,
    STATE,
)
from forecast.evaluation.ledger.store import QUESTION_COLUMNS, QuestionIssue
from forecast.periods import parse_period
from forecast.scenarios.evaluate import ForecastDraws, check_names, evaluate
from forecast.scenarios.expr import Expr
from forecast.scenarios.probabilities import ScenarioResult, partition_events
from forecast.scenarios.rules import RuleError
from forecast.scenarios.spec import (
    KIND_QUESTION,
    KIND_SCENARIO,
    ScenarioSpec,
    parse_scenario_spec,
)

#: resolvable from data (the other value, ``latent``, needs a later model)
ON_INDICATORS = "indicators"


def question_issue(result: ScenarioResult, spec: ScenarioSpec) -> QuestionIssue:
    """Arrange a run's scenario probabilities for the ledger (one row per entry)."""
    rules = {s.id: s.rule_text or "(residual)" for p in spec.partitions for s in p.scenarios}
    rules |= {q.id: q.rule_text for q in spec.questions}
    frame = result.table()
    table = pd.DataFrame(
        {
            "kind": frame["kind"].astype(str),
            "name": frame[SCENARIO].astype(str),
            "partition": frame["partition"].astype(str),
            "period": frame["at"].astype(str),
            "resolves_on": frame["resolves_on"].astype(str),
            "title": frame["title"].astype(str),
            "rule": frame[SCENARIO].map(rules).astype(str),
            "probability": frame["probability"].astype(float),
            "mcse": frame["mcse"].astype(float),
        }
    )
    text = Path(spec.path).read_text(encoding="utf-8")
    return QuestionIssue(table[list(QUESTION_COLUMNS)], spec.sha256, spec.path, text)


def observed_draws(panel: pd.DataFrame) -> ForecastDraws:
    """Read the panel's values as a forecast with one draw (the latent is all NaN).

    Examples
    --------
    >>> panel = pd.DataFrame({"state": ["KAZ", "UZB"], "indicator": "trade_share_chn",
    ...                       "period": "2021", "value": [0.2, 0.3]})
    >>> observed_draws(panel).indicators.shape
    (1, 2, 1, 1)
    """
    values = panel.dropna(subset=["value"])
    periods = sorted(set(values[PERIOD]), key=lambda p: parse_period(p).start_time)
    cube = (
        values.set_index([STATE, INDICATOR, PERIOD])["value"]
        .to_xarray()
        .reindex({PERIOD: periods})
        .transpose(STATE, INDICATOR, PERIOD)
    )
    latent = xr.DataArray(
        np.full((cube.sizes[STATE], len(POLES), len(periods)), np.nan),
        dims=(STATE, POLE, PERIOD),
        coords={STATE: cube[STATE].values, POLE: list(POLES), PERIOD: periods},
    )
    forecast = xr.Dataset({INDICATOR_VAR: cube, ALIGNMENT_VAR: latent})
    return ForecastDraws.from_forecast(forecast.expand_dims({CHAIN: [0], DRAW: [0]}))


def _settled(draws: ForecastDraws, rules: list[tuple[Expr, str]]) -> bool:
    """Whether the data hold every cell the rules read (else the entry is still pending)."""
    try:
        for rule, at in rules:
            check_names(rule, at, draws)
    except RuleError:
        return False
    return True


def resolve_spec(spec: ScenarioSpec, draws: ForecastDraws) -> dict[tuple[str, str], bool]:
    """Outcomes ``{(kind, name): happened}`` of every entry that the data settle."""
    out: dict[tuple[str, str], bool] = {}
    for question in spec.questions:
        if question.resolves_on != ON_INDICATORS:
            continue
        if _settled(draws, [(question.rule, question.at)]):
            out[(KIND_QUESTION, question.id)] = bool(evaluate(question.rule, question.at, draws)[0])
    for partition in spec.partitions:
        if partition.resolves_on != ON_INDICATORS:
            continue
        rules = [(s.rule, partition.at) for s in partition.scenarios if s.rule is not None]
        if not _settled(draws, rules):
            continue
        events = partition_events(partition, draws, spec.path)[0]
        for scenario, happened in zip(partition.scenarios, events, strict=True):
            out[(KIND_SCENARIO, scenario.id)] = bool(happened)
    return out


def load_stored_spec(text: str) -> ScenarioSpec:
    """Load a scenario file from the text the ledger stored."""
    return parse_scenario_spec(text, "the ledger's stored scenario file")


def resolve_questions(
    conn: sqlite3.Connection, panel: pd.DataFrame, data_sha256: str, stamp: str
) -> tuple[int, int]:
    """Record the outcomes of pending entries that ``panel`` settles (inside a transaction).

    Returns
    -------
    tuple of int
        Entries newly resolved, entries still pending.
    """
    pending = conn.execute(
        "SELECT q.question_id, q.kind, q.name, s.text FROM question_forecast q "
        "JOIN scenario_spec s ON s.sha256 = q.spec_sha256 "
        "LEFT JOIN question_outcome o USING (question_id) WHERE o.question_id IS NULL"
    ).fetchall()
    if not pending:
        return 0, 0
    draws = observed_draws(panel)
    outcomes: dict[str, dict[tuple[str, str], bool]] = {}
    rows = []
    for question_id, kind, name, text in pending:
        if text not in outcomes:
            outcomes[text] = resolve_spec(load_stored_spec(text), draws)
        happened = outcomes[text].get((kind, name))
        if happened is not None:
            rows.append((question_id, int(happened), data_sha256, stamp))
    conn.executemany(
        "INSERT INTO question_outcome (question_id, happened, data_sha256, resolved_at) "
        "VALUES (?, ?, ?, ?)",
        rows,
    )
    return len(rows), len(pending) - len(rows)
