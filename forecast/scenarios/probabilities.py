"""Scenario and question probabilities from forecast draws.

Each scenario and question becomes an *event*: a boolean per draw, ``(chain, draw)``, whose
probability and Monte Carlo standard error come from :mod:`forecast.scenarios.events`. The
scenarios of a partition must exclude each other and cover every draw; a residual scenario,
when declared, takes the draws no rule claims. The partition's uncertainty is the normalised
entropy ``-sum p log p / log K`` of its ``K`` scenarios: 0 when one scenario is certain, 1
when all are equally likely.

A rule that divides by zero in some draws is false in those draws (its quotient is
undefined) and the result carries a note giving the share of such draws; a rule whose
denominator is zero in every draw is refused with an error naming its entry.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr
from numpy.typing import NDArray

from forecast.dims import CHAIN, DRAW, PARTITION, SCENARIO
from forecast.errors import SpecError
from forecast.scenarios.evaluate import ForecastDraws, evaluate_rule
from forecast.scenarios.events import event_summary, normalised_entropy
from forecast.scenarios.expr import Expr
from forecast.scenarios.headline import Headline, headline
from forecast.scenarios.spec import (
    KIND_QUESTION,
    KIND_SCENARIO,
    Partition,
    ScenarioSpec,
    check_spec,
)


@dataclass(frozen=True)
class ScenarioResult:
    """Probabilities of a spec's scenarios and questions under one forecast.

    Attributes
    ----------
    probabilities
        Dim ``scenario`` (every scenario of every partition, then every question, in file
        order): ``probability``, ``mcse``, ``ess``; coordinates ``kind`` (``scenario`` or
        ``question``), ``partition`` (the partition's id, ``""`` for a question), ``title``,
        ``at`` and ``resolves_on`` (``indicators`` or ``latent``).
    partitions
        Dim ``partition``: ``entropy`` (normalised), coordinates ``title`` and ``at``.
    events
        The events themselves, ``(chain, draw, scenario)`` booleans, for plots and what-ifs.
    headline
        Trend certainty against outcome uncertainty.
    converged, approximate
        From the forecast's attributes: whether the run passed the convergence gates, and
        whether it came from an approximate method.
    notes
        One line per rule whose denominator was zero in some draws (the rule is false there),
        naming the entry and the share of draws.
    """

    run_id: str
    probabilities: xr.Dataset
    partitions: xr.Dataset
    events: xr.DataArray
    headline: Headline
    converged: bool = True
    approximate: bool = False
    notes: tuple[str, ...] = ()

    def table(self) -> pd.DataFrame:
        """Return one row per scenario and question.

        Columns: ``scenario kind partition title at resolves_on probability mcse ess``.
        """
        frame = self.probabilities.to_dataframe().reset_index()
        columns = [SCENARIO, "kind", PARTITION, "title", "at", "resolves_on"]
        return frame.loc[:, [*columns, "probability", "mcse", "ess"]]

    def to_json(self) -> dict[str, Any]:
        """Return the ``forecast scenarios --json`` document.

        Exactly ``{"run_id", "headline": {"trend_probability", "outcome_entropy"},
        "partitions": [{"id", "entropy", "scenarios": [{"id", "title", "probability",
        "mcse"}]}], "questions": [{"id", "title", "probability", "mcse"}]}``; everything
        else (titles of partitions, periods, ESS, convergence) is in the labelled results.
        """
        probs = self.probabilities
        partitions = [
            {
                "id": str(pid),
                "entropy": float(self.partitions["entropy"].sel({PARTITION: pid})),
                "scenarios": [
                    _entry(probs, sid)
                    for sid in probs[SCENARIO].values[probs[PARTITION].values == pid]
                ],
            }
            for pid in self.partitions[PARTITION].values
        ]
        questions = probs[SCENARIO].values[probs["kind"].values == KIND_QUESTION]
        return {
            "run_id": self.run_id,
            "headline": self.headline.to_json(),
            "partitions": partitions,
            "questions": [_entry(probs, qid) for qid in questions],
        }


def _entry(probs: xr.Dataset, sid: Any) -> dict[str, Any]:
    row = probs.sel({SCENARIO: sid})
    return {
        "id": str(sid),
        "title": str(row["title"].values),
        "probability": float(row["probability"]),
        "mcse": float(row["mcse"]),
    }


def rule_event(
    rule: Expr, at: str, draws: ForecastDraws, path: str, key: str, notes: list[str] | None
) -> NDArray[np.bool_]:
    """Return where ``rule`` holds, ``(sample,)``; note (in ``notes``) draws that divide by 0.

    With ``notes`` None the rule is only evaluated: the ledger resolves an entry on the one
    draw of observed data, where an undefined quotient simply makes the rule false.

    Raises
    ------
    SpecError
        Naming the entry ``key``, when a denominator is zero in every draw: the rule is
        undefined, so no probability is given.
    """
    result = evaluate_rule(rule, at, draws)
    if notes is None:
        return result.values.astype(bool)
    n = result.zero_denominator.size
    zeros = int(result.zero_denominator.sum())
    if zeros == n:
        raise SpecError(
            path,
            f"rule refused: a denominator is zero in every one of the {n} draws, so the rule "
            "is undefined: divide by something that is not zero",
            key=key,
        )
    if zeros:
        notes.append(
            f"{key}: a denominator is zero in {zeros} of {n} draws ({zeros / n:.1%}); the "
            "rule counts as false in those draws"
        )
    return result.values.astype(bool)


def partition_events(
    partition: Partition, draws: ForecastDraws, path: str, notes: list[str] | None = None
) -> NDArray[np.bool_]:
    """Return the partition's events ``(sample, scenario)``, checked to partition the draws.

    Draws in which a scenario's rule divides by zero are noted in ``notes`` when it is given
    (see :func:`rule_event`).

    Raises
    ------
    SpecError
        When two scenarios claim the same draw, when some draws fall in no scenario and
        no residual scenario is declared, or when a rule divides by zero in every draw.
    """
    n = draws.alignment.shape[0]
    columns = [
        rule_event(
            s.rule, partition.at, draws, path, f"{partition.key}.scenario.{s.id}.rule", notes
        )
        if s.rule is not None
        else None
        for s in partition.scenarios
    ]
    claimed = np.zeros(n, dtype=int)
    for col in columns:
        if col is not None:
            claimed += col
    if (claimed > 1).any():
        i, j, overlap = _first_overlap(partition, columns)
        raise SpecError(
            path,
            f"scenarios {i} and {j} overlap in {overlap} of {n} draws; the scenarios of a "
            "partition must exclude each other",
            key=partition.key,
        )
    unclaimed = claimed == 0
    residual = [k for k, s in enumerate(partition.scenarios) if s.residual]
    if not residual and unclaimed.any():
        raise SpecError(
            path,
            f"{int(unclaimed.sum())} of {n} draws ({unclaimed.mean():.1%}) fall in no scenario; "
            "widen the rules or declare a residual scenario (residual = true)",
            key=partition.key,
        )
    if residual:
        columns[residual[0]] = unclaimed
    return np.stack([c for c in columns if c is not None], axis=1)


def _first_overlap(
    partition: Partition, columns: list[NDArray[np.bool_] | None]
) -> tuple[str, str, int]:
    ids = [s.id for s in partition.scenarios]
    for a in range(len(columns)):
        for b in range(a + 1, len(columns)):
            ca, cb = columns[a], columns[b]
            if ca is not None and cb is not None and (ca & cb).any():
                return ids[a], ids[b], int((ca & cb).sum())
    raise AssertionError("no overlap found")  # unreachable: the caller saw one


def _events(
    forecast: xr.Dataset, spec: ScenarioSpec, draws: ForecastDraws, notes: list[str]
) -> xr.DataArray:
    """Whether each draw is in each scenario and answers each question yes, labelled.

    Dims ``(chain, draw, scenario)``; the scenario dimension carries each entry's kind,
    partition, title, date and resolution source as coordinates.
    """
    columns: list[NDArray[np.bool_]] = []
    # one label row per scenario and question: id, kind, partition, title, at, resolves_on
    labels: list[tuple[str, str, str, str, str, str]] = []
    for partition in spec.partitions:
        columns.append(partition_events(partition, draws, spec.path, notes))
        labels += [
            (s.id, KIND_SCENARIO, partition.id, s.title, partition.at, partition.resolves_on)
            for s in partition.scenarios
        ]
    for question in spec.questions:
        key = f"question.{question.id}.rule"
        event = rule_event(question.rule, question.at, draws, spec.path, key, notes)
        columns.append(event[:, None])
        labels.append(
            (question.id, KIND_QUESTION, "", question.title, question.at, question.resolves_on)
        )
    names = (SCENARIO, "kind", PARTITION, "title", "at", "resolves_on")
    columns_of = zip(*labels, strict=True)
    coords = {name: list(values) for name, values in zip(names, columns_of, strict=True)}
    matrix = np.concatenate(columns, axis=1).reshape(*draws.shape, -1)
    return xr.DataArray(
        matrix,
        dims=(CHAIN, DRAW, SCENARIO),
        coords={
            CHAIN: forecast[CHAIN].values,
            DRAW: forecast[DRAW].values,
            SCENARIO: coords[SCENARIO],
            **{k: (SCENARIO, v) for k, v in coords.items() if k != SCENARIO},
        },
    )


def scenario_probabilities(forecast: xr.Dataset, spec: ScenarioSpec) -> ScenarioResult:
    """Compute every scenario's and question's probability under a forecast.

    Parameters
    ----------
    forecast
        Forecast draws (:meth:`forecast.model.runs.Run.forecast`), covering every period
        the spec reads.
    spec
        A loaded scenario spec (:func:`forecast.scenarios.spec.load_scenario_spec`).

    Raises
    ------
    SpecError
        Naming file and entry: a state, indicator or period the forecast lacks; a partition
        whose scenarios overlap or leave draws uncovered; a rule whose denominator is zero
        in every draw (one zero in some draws only is noted in the result's ``notes``).

    Examples
    --------
    >>> from forecast.scenarios.spec import load_scenario_spec
    >>> from forecast.scenarios.synthetic import synthetic_forecast
    >>> result = scenario_probabilities(synthetic_forecast(), load_scenario_spec())
    >>> first = result.probabilities.where(result.probabilities["partition"] == "region_2030",
    ...                                    drop=True)
    >>> round(float(first["probability"].sum()), 9)
    1.0
    """
    draws = ForecastDraws.from_forecast(forecast)
    check_spec(spec, draws)
    notes: list[str] = []
    events = _events(forecast, spec, draws, notes)
    probabilities = event_summary(events)
    entropy = [
        normalised_entropy(probabilities["probability"].values[events[PARTITION].values == p.id])
        for p in spec.partitions
    ]
    partitions = xr.Dataset(
        {"entropy": (PARTITION, entropy)},
        coords={
            PARTITION: [p.id for p in spec.partitions],
            "title": (PARTITION, [p.title for p in spec.partitions]),
            "at": (PARTITION, [p.at for p in spec.partitions]),
        },
    )
    top = headline(
        draws,
        spec.headline,
        last_fitted=str(forecast.attrs.get("last_fitted", "")),
        entropy=entropy[0],
        path=spec.path,
    )
    return ScenarioResult(
        run_id=str(forecast.attrs.get("run_id", "")),
        probabilities=probabilities,
        partitions=partitions,
        events=events,
        headline=top,
        # a forecast that does not say its run converged is not taken to have converged
        converged=bool(int(forecast.attrs.get("converged", 0))),
        approximate=bool(int(forecast.attrs.get("approximate", 0))),
        notes=tuple(notes),
    )
