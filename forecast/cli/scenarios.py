"""``forecast scenarios`` and ``forecast whatif``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from forecast.cli.options import QuietOpt
from forecast.defaults import DEFAULT_RUNS
from forecast.dims import PARTITION, SCENARIO, WHATIF
from forecast.rounding import PLUS_MINUS_MEANS
from forecast.scenarios.spec import DEFAULT_SCENARIOS, KIND_QUESTION, load_scenario_spec
from forecast.scenarios.whatif_spec import DEFAULT_WHATIF, check_claims, load_whatif_spec

if TYPE_CHECKING:
    from forecast.scenarios.probabilities import ScenarioResult
    from forecast.scenarios.whatif import WhatIfResult

# the model's modules import PyMC, which is slow to import: commands import them when run

RunArg = Annotated[str | None, typer.Argument(help="Run directory or id (default runs/latest).")]
SpecOpt = Annotated[Path, typer.Option("--spec", help="Scenario spec TOML.")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON.")]
RunsOpt = Annotated[Path, typer.Option("--runs", help="Runs directory.")]


def scenarios(
    run: RunArg = None,
    spec: SpecOpt = DEFAULT_SCENARIOS,
    as_json: JsonOpt = False,
    runs: RunsOpt = DEFAULT_RUNS,
    quiet: QuietOpt = False,
) -> None:
    """Probabilities of named scenarios and questions, and the headline pair."""
    from forecast.model.runs import load_run
    from forecast.progress import progress_for
    from forecast.scenarios.workflow import run_scenarios

    loaded = load_scenario_spec(spec)
    stored = load_run(run, runs)
    with progress_for(quiet=quiet) as progress:
        with progress.step(f"forecasting run {stored.run_id} and scoring {spec.name}"):
            result = run_scenarios(stored, loaded)
    if as_json:
        # the JSON document has a fixed schema: the run's status goes to stderr beside it
        for note in _notes(result):
            typer.echo(note, err=True)
        typer.echo(json.dumps(result.to_json(), indent=2))
        return
    _print_scenarios(result)


def whatif(
    run: RunArg = None,
    spec: SpecOpt = DEFAULT_SCENARIOS,
    whatifs: Annotated[Path, typer.Option("--whatif", help="What-if spec TOML.")] = DEFAULT_WHATIF,
    as_json: JsonOpt = False,
    runs: RunsOpt = DEFAULT_RUNS,
    quiet: QuietOpt = False,
) -> None:
    """Scenario and question probabilities under each what-if, beside the baseline."""
    from forecast.model.runs import load_run
    from forecast.progress import progress_for
    from forecast.scenarios.workflow import run_whatifs

    scenario_spec = load_scenario_spec(spec)
    whatif_spec = load_whatif_spec(whatifs)
    check_claims(whatif_spec, scenario_spec)
    stored = load_run(run, runs)
    with progress_for(quiet=quiet) as progress:
        with progress.step(
            f"forecasting run {stored.run_id} under {len(whatif_spec.whatifs)} what-ifs "
            "and the baseline, and scoring them"
        ):
            result = run_whatifs(stored, scenario_spec, whatif_spec)
    if as_json:
        for note in [*_notes(result.baseline), *_zero_notes(result.notes)]:
            typer.echo(note, err=True)
        typer.echo(json.dumps(result.to_json(), indent=2))
        return
    _print_whatifs(result, whatif_spec.baseline_weight)


def _notes(result: ScenarioResult) -> list[str]:
    notes = []
    if not result.converged:
        notes.append(f"NOT CONVERGED: run {result.run_id} did not pass the convergence gates")
    if result.approximate:
        notes.append("APPROXIMATE: the run used an approximate inference method")
    return notes + _zero_notes(result.notes)


def _zero_notes(notes: tuple[str, ...]) -> list[str]:
    """Rules that divided by zero in some draws (false there): one line each."""
    return [f"DIVISION BY ZERO: {note}" for note in notes]


def _status(result: ScenarioResult) -> str:
    return "\n".join([f"run {result.run_id}", *_notes(result)])


def _console() -> Console:
    return Console(width=120)


#: columns holding numbers, right-aligned so that their decimal points line up
_NUMERIC = frozenset({"P", "± 2 MCSE", "baseline", "what-if", "change"})

#: what a narrative's claim about a target says, in words
_CLAIM_WORDS = {"raises": "makes it more likely", "lowers": "makes it less likely"}


def _table(title: str, columns: tuple[str, ...], caption: str | None = None) -> Table:
    table = Table(title=title, caption=caption)
    for col in columns:
        table.add_column(col, justify="right" if col in _NUMERIC else "left")
    return table


def partition_heading(title: str, at: str) -> str:
    """Return a partition's heading: its title, with the period only if the title lacks it.

    Examples
    --------
    >>> partition_heading("Where the region stands in 2030", "2030")
    'Where the region stands in 2030'
    >>> partition_heading("Russia's standing", "2030")
    "Russia's standing (2030)"
    """
    return title if at in title else f"{title} ({at})"


def _print_scenarios(result: ScenarioResult) -> None:
    console = _console()
    console.print(_status(result), highlight=False)
    probs = result.probabilities
    for pid in result.partitions[PARTITION].values:
        part = result.partitions.sel({PARTITION: pid})
        table = _table(
            partition_heading(str(part["title"].values), str(part["at"].values)),
            ("scenario", "title", "P", "± 2 MCSE"),
            caption=(
                f"outcome uncertainty {float(part['entropy']):.2f} (normalised entropy: "
                "0 = one outcome certain, 1 = all equally likely)"
            ),
        )
        mine = probs[SCENARIO].values[probs[PARTITION].values == pid]
        # most likely first, as in the report
        for sid in sorted(mine, key=lambda s: -float(probs["probability"].sel({SCENARIO: s}))):
            row = probs.sel({SCENARIO: sid})
            table.add_row(
                str(sid),
                str(row["title"].values),
                f"{float(row['probability']):.3f}",
                f"{2 * float(row['mcse']):.3f}",
            )
        console.print(table)
    questions = probs[SCENARIO].values[probs["kind"].values == KIND_QUESTION]
    if len(questions):
        table = _table("Questions", ("question", "title", "at", "P", "± 2 MCSE", "resolves on"))
        for qid in questions:
            row = probs.sel({SCENARIO: qid})
            table.add_row(
                str(qid),
                str(row["title"].values),
                str(row["at"].values),
                f"{float(row['probability']):.3f}",
                f"{2 * float(row['mcse']):.3f}",
                str(row["resolves_on"].values),
            )
        console.print(table)
    head = result.headline
    console.print(head.line(), highlight=False)
    console.print(
        f"  trend certainty: P({head.trend_rule}) = {head.trend_probability:.3f} "
        f"± {2 * head.trend_mcse:.3f}",
        highlight=False,
        markup=False,
    )
    console.print(
        f"  outcome uncertainty: normalised entropy of partition {head.partition}",
        highlight=False,
    )
    console.print(PLUS_MINUS_MEANS, highlight=False)


def claim_words(claim: str, shown: bool) -> str:
    """Say what a what-if's narrative claims about a target and whether the draws bear it out.

    Examples
    --------
    >>> claim_words("raises", True), claim_words("lowers", False)
    ('makes it more likely: yes', 'makes it less likely: NOT borne out')
    """
    return f"{_CLAIM_WORDS.get(claim, claim)}: {'yes' if shown else 'NOT borne out'}"


def coherence_words(coherence: dict[str, Any], baseline_weight: float | None) -> str:
    """Explain the coherence check of the what-ifs' weights in one sentence.

    Examples
    --------
    >>> doc = {"max_abs_gap": 0.13, "worst": "balance", "scenarios": [
    ...     {"id": "balance", "mixture": 0.29, "baseline": 0.16}]}
    >>> print(coherence_words(doc, 0.4))  # doctest: +NORMALIZE_WHITESPACE
    Coherence of the weights: the what-ifs' probabilities weighted by their weights (0.4 on
    the baseline) should give back the baseline's (law of total probability); the largest
    gap is 0.130, on balance (0.290 weighted, 0.160 in the baseline): the weights make it
    more likely than the model does.
    """
    worst = coherence["worst"]
    row = next(s for s in coherence["scenarios"] if s["id"] == worst)
    side = "more" if row["mixture"] > row["baseline"] else "less"
    base = "" if baseline_weight is None else f" ({baseline_weight:g} on the baseline)"
    return (
        f"Coherence of the weights: the what-ifs' probabilities weighted by their "
        f"weights{base} should give back the baseline's (law of total probability); the "
        f"largest gap is {coherence['max_abs_gap']:.3f}, on {worst} ({row['mixture']:.3f} "
        f"weighted, {row['baseline']:.3f} in the baseline): the weights make it {side} likely "
        "than the model does."
    )


def _print_whatifs(result: WhatIfResult, baseline_weight: float | None) -> None:
    console = _console()
    base = result.baseline.probabilities
    console.print(_status(result.baseline), highlight=False)
    for note in _zero_notes(result.notes):
        console.print(note, highlight=False, markup=False)
    console.print("what-ifs beside the baseline (paired draws: the same random numbers)")
    order = sorted(base[SCENARIO].values, key=lambda s: _order_key(base, s))
    for wid in result.probabilities[WHATIF].values:
        mine = result.probabilities.sel({WHATIF: wid})
        claims = result.claims[result.claims[WHATIF] == wid]
        claim_of: dict[str, Any] = {row[SCENARIO]: row for _, row in claims.iterrows()}
        table = _table(
            f"{wid}: {mine['whatif_title'].values}",
            ("scenario", "baseline", "what-if", "change", "the narrative says it"),
            caption=(
                f"trend certainty {result.baseline.headline.trend_probability:.2f} -> "
                f"{float(mine['trend_probability']):.2f}; (q) marks a question"
            ),
        )
        for sid in order:
            kind = str(base["kind"].sel({SCENARIO: sid}).values)
            label = f"{sid} (q)" if kind == KIND_QUESTION else str(sid)
            claim = claim_of.get(str(sid))
            note = "" if claim is None else claim_words(str(claim["claim"]), bool(claim["shown"]))
            table.add_row(
                label,
                f"{float(base['probability'].sel({SCENARIO: sid})):.3f}",
                f"{float(mine['probability'].sel({SCENARIO: sid})):.3f}",
                f"{float(mine['difference'].sel({SCENARIO: sid})):+.3f} "
                f"± {2 * float(mine['difference_mcse'].sel({SCENARIO: sid})):.3f}",
                note,
            )
        console.print(table)
    if result.coherence is not None:
        text = coherence_words(result.to_json()["coherence"], baseline_weight)
        console.print(text, highlight=False)
    console.print(PLUS_MINUS_MEANS, highlight=False)


def _order_key(probs: Any, sid: str) -> tuple[int, float]:
    # scenarios first, most likely first; questions after them in the spec's order
    if str(probs["kind"].sel({SCENARIO: sid}).values) == KIND_QUESTION:
        return (1, 0.0)
    return (0, -float(probs["probability"].sel({SCENARIO: sid})))
