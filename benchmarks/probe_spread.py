"""Probe: rules for learning the spread-adjusted pool's spread and shape, on the backtest's fits.

Reads the origin results ``benchmarks/probe_stacking.py fit`` pickles (the default backtest's
15 origin fits), grades every cell of every origin at every ``(c, p)`` of the search grid
(:func:`forecast.evaluation.stacked.graded_cells`, each origin's mixture with its own
leave-future-out weights), then scores one rule per row, each choosing ``(c, p)`` at an
origin from earlier origins' cells whose outcomes were public then:

- ``crps``: the lowest summed scaled CRPS (no coverage condition);
- ``floor=F``: the lowest CRPS among ``(c, p)`` whose 90 % intervals cover at least ``F``
  of the training cells, the identity where none does (what the backtest scores as
  ``stacked:spread=learned``, with ``F`` = 0.92);
- ``floor=F,widest``: the same, the widest grid point where none reaches ``F``;
- ``floor=F,keep``: the floor lowered to the plain mixture's own training coverage where
  that is below ``F``;

- ``floor=F,min=N``: ``floor=F`` with ``N`` earlier cells (not 40) needed before a group's
  own ``(c, p)`` (the pooled one below that);

each per family (``by=family``) or per family and horizon (``by=family,horizon``), with or
without the shape (``p`` = 1 only: ``shape=no``). Prints skill against persistence and the
local level and the interval table's 50 % and 90 % coverage by horizon, then coverage by
family.

Usage::

    python benchmarks/probe_stacking.py fit --out /tmp/origins.pkl
    python benchmarks/probe_spread.py /tmp/origins.pkl
"""

from __future__ import annotations

import argparse
import pickle
from pathlib import Path

import numpy as np
import pandas as pd

from forecast.data.codebook import load_codebook
from forecast.evaluation.backtest import OriginResult
from forecast.evaluation.skill import crps_skill
from forecast.evaluation.spread import GRID, IDENTITY, SHAPES, kind_bounds
from forecast.evaluation.stacked import (
    LOWER,
    UPPER,
    cell_weights,
    graded_cells,
    public_before,
    training_cells,
)
from forecast.evaluation.stacking import learned_weights
from forecast.model.stacked import indicator_family

KEYS = ["origin", "horizon", "state", "indicator", "period"]
COLUMNS = (("crps", "crps"), ("covered50", "covered_50"), ("covered90", "covered_90"))
RULES = [
    ("crps", "family,horizon", True),
    ("crps", "family,horizon", False),
    ("crps", "family", False),
    ("floor=0.87", "family,horizon", False),
    ("floor=0.87", "family", True),
    ("floor=0.90", "family", True),
    ("floor=0.92", "family", True),
    ("floor=0.92,widest", "family", True),
    ("floor=0.92,keep", "family", True),
    ("floor=0.93", "family", True),
    ("floor=0.95", "family", True),
    ("floor=0.92,min=100", "family", True),
    ("floor=0.92,min=200", "family", True),
    ("floor=0.92,min=300", "family", True),
]


def _choose(train: pd.DataFrame, rule: str, allowed: list[int]) -> int:
    scaled = train[[f"crps_{g}" for g in allowed]].div(train["scale"], axis=0).sum().to_numpy()
    coverage = train[[f"covered90_{g}" for g in allowed]].mean().to_numpy()
    if rule == "crps":
        return allowed[int(np.argmin(scaled))]
    floor = float(rule.split(",")[0].removeprefix("floor="))
    rule = rule.split(",min=")[0]
    if rule.endswith(",keep"):
        floor = min(floor, coverage[allowed.index(GRID.index(IDENTITY))])
    ok = coverage >= floor
    if not ok.any():
        return (
            allowed[int(np.argmax(coverage))] if rule.endswith(",widest") else GRID.index(IDENTITY)
        )
    return allowed[int(np.flatnonzero(ok)[np.argmin(scaled[ok])])]


def _score(graded: list[pd.DataFrame], rule: str, by: list[str], shape: bool) -> pd.DataFrame:
    allowed = [g for g, (_, p) in enumerate(GRID) if shape or p == SHAPES[0]]
    least = int(rule.split(",min=")[1]) if ",min=" in rule else 40
    chosen = []
    for cells in graded:
        origin = int(cells["origin"].iloc[0])
        train = public_before(graded, origin)
        pick = np.full(len(cells), GRID.index(IDENTITY))
        if train is not None and len(train) >= least:
            pick[:] = _choose(train, rule, allowed)
            for key, group in train.groupby(by):
                if len(group) >= least:
                    values = key if isinstance(key, tuple) else (key,)
                    mine = np.logical_and.reduce(
                        [(cells[b] == v).to_numpy() for b, v in zip(by, values, strict=True)]
                    )
                    pick[mine] = _choose(group, rule, allowed)
        rows = np.arange(len(cells))
        out = cells[[*KEYS, "scale", "family"]].copy()
        for kind, column in (
            ("crps", "crps"),
            ("covered50", "covered_50"),
            ("covered90", "covered_90"),
        ):
            table = cells[[f"{kind}_{g}" for g in range(len(GRID))]].to_numpy()
            out[column] = table[rows, pick]
        chosen.append(out)
    return pd.concat(chosen, ignore_index=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("results", type=Path)
    args = parser.parse_args()
    horizons, results = pickle.loads(args.results.read_bytes())
    results = [r for r in results if isinstance(r, OriginResult) and r.stack is not None]
    codebook = load_codebook()
    stacks = sorted((r.stack for r in results), key=lambda s: int(s.cells["origin"].iloc[0]))
    families = sorted({indicator_family(k) for s in stacks for k in s.cells["indicator"]})
    graded = []
    for stack in stacks:
        if LOWER not in stack.cells:  # results pickled before the cells kept their ranges
            ranges = [kind_bounds(codebook[k].kind) for k in stack.cells["indicator"]]
            stack.cells[LOWER], stack.cells[UPPER] = zip(*ranges, strict=True)
        origin = int(stack.cells["origin"].iloc[0])
        weights = cell_weights(
            stack, learned_weights(training_cells(stacks, origin), horizons, families)
        )
        cells = graded_cells(stack, weights)
        cells[KEYS] = stack.cells[KEYS].to_numpy()
        cells["family"] = cells["indicator"].map(indicator_family)
        graded.append(cells)
    scores = pd.concat([r.scores for r in results], ignore_index=True)
    base = scores[scores["model"].isin(["persistence", "local_level"])]
    for rule, by, shape in RULES:
        name = f"{rule} by={by} shape={'yes' if shape else 'no'}"
        chosen = _score(graded, rule, by.split(","), shape)
        skill = crps_skill(
            pd.concat([base, chosen.assign(model=name)], ignore_index=True),
            model=name,
            baselines=["persistence", "local_level"],
        ).pivot_table(index="baseline", columns="horizon", values="skill")
        print(f"\n{name}")
        coverage = chosen.groupby("horizon")[["covered_50", "covered_90"]].mean().T
        print(pd.concat([skill, coverage]).round(3).to_string())
        print(chosen.groupby("family")[["covered_50", "covered_90"]].mean().round(2).T.to_string())


if __name__ == "__main__":
    main()
