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
        for note in _notes(result.baseline):
            typer.echo(note, err=True)
        typer.echo(json.dumps(result.to_json(), indent=2))
        return
    _print_whatifs(result)


def _notes(result: ScenarioResult) -> list[str]:
    notes = []
    if not result.converged:
        notes.append(f"NOT CONVERGED: run {result.run_id} did not pass the convergence gates")
    if result.approximate:
        notes.append("APPROXIMATE: the run used an approximate inference method")
    return notes


def _status(result: ScenarioResult) -> str:
    return "\n".join([f"run {result.run_id}", *_notes(result)])


def _console() -> Console:
    return Console(width=120)


#: columns holding numbers, right-aligned so that their decimal points line up
_NUMERIC = frozenset({"P", "MCSE", "baseline", "what-if", "difference"})


def _table(title: str, columns: tuple[str, ...], caption: str | None = None) -> Table:
    table = Table(title=title, caption=caption)
    for col in columns:
        table.add_column(col, justify="right" if col in _NUMERIC else "left")
    return table


def _print_scenarios(result: ScenarioResult) -> None:
    console = _console()
    console.print(_status(result), highlight=False)
    probs = result.probabilities
    for pid in result.partitions[PARTITION].values:
        part = result.partitions.sel({PARTITION: pid})
        table = _table(
            f"{part['title'].values} ({part['at'].values})",
            ("scenario", "title", "P", "MCSE"),
            caption=f"normalised entropy {float(part['entropy']):.2f}",
        )
        for sid in probs[SCENARIO].values[probs[PARTITION].values == pid]:
            row = probs.sel({SCENARIO: sid})
            table.add_row(
                str(sid),
                str(row["title"].values),
                f"{float(row['probability']):.3f}",
                f"{float(row['mcse']):.3f}",
            )
        console.print(table)
    questions = probs[SCENARIO].values[probs["kind"].values == KIND_QUESTION]
    if len(questions):
        table = _table("Questions", ("question", "title", "at", "P", "MCSE", "resolves on"))
        for qid in questions:
            row = probs.sel({SCENARIO: qid})
            table.add_row(
                str(qid),
                str(row["title"].values),
                str(row["at"].values),
                f"{float(row['probability']):.3f}",
                f"{float(row['mcse']):.3f}",
                str(row["resolves_on"].values),
            )
        console.print(table)
    head = result.headline
    console.print(head.line(), highlight=False)
    console.print(
        f"  trend certainty: P({head.trend_rule}) = {head.trend_probability:.3f} "
        f"± {head.trend_mcse:.3f}",
        highlight=False,
        markup=False,
    )
    console.print(
        f"  outcome uncertainty: normalised entropy of partition {head.partition}",
        highlight=False,
    )


def _print_whatifs(result: WhatIfResult) -> None:
    console = _console()
    base = result.baseline.probabilities
    console.print(_status(result.baseline), highlight=False)
    console.print("what-ifs beside the baseline (paired draws: the same random numbers)")
    for wid in result.probabilities[WHATIF].values:
        mine = result.probabilities.sel({WHATIF: wid})
        claims = result.claims[result.claims[WHATIF] == wid]
        claim_of: dict[str, Any] = {row[SCENARIO]: row for _, row in claims.iterrows()}
        table = _table(
            f"{wid}: {mine['whatif_title'].values}",
            ("scenario", "baseline", "what-if", "difference", "claim"),
            caption=(
                f"trend certainty {result.baseline.headline.trend_probability:.2f} -> "
                f"{float(mine['trend_probability']):.2f}"
            ),
        )
        for sid in base[SCENARIO].values:
            kind = str(base["kind"].sel({SCENARIO: sid}).values)
            label = f"{sid} (q)" if kind == KIND_QUESTION else str(sid)
            claim = claim_of.get(str(sid))
            note = ""
            if claim is not None:
                note = f"{claim['claim']}: {'shown' if claim['shown'] else 'NOT SHOWN'}"
            table.add_row(
                label,
                f"{float(base['probability'].sel({SCENARIO: sid})):.3f}",
                f"{float(mine['probability'].sel({SCENARIO: sid})):.3f}",
                f"{float(mine['difference'].sel({SCENARIO: sid})):+.3f} "
                f"± {float(mine['difference_mcse'].sel({SCENARIO: sid})):.3f}",
                note,
            )
        console.print(table)
    if result.coherence is not None:
        coherence = result.to_json()["coherence"]
        worst = coherence["worst"]
        row = next(s for s in coherence["scenarios"] if s["id"] == worst)
        console.print(
            f"Coherence: weighted sum of P(A | what-if) against P(A): max |gap| "
            f"{coherence['max_abs_gap']:.3f} on {worst} ({row['mixture']:.3f} vs "
            f"{row['baseline']:.3f})",
            highlight=False,
        )
