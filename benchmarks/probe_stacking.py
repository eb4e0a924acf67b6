"""Probe: other ways to combine and post-process the stacked forecast, on the backtest's fits.

The stacked forecast's central intervals are too wide (PIT values pile up in the middle).
This probe refits every backtest origin once (``fit``: the default backtest's origins,
horizons, settings and seed, on a local Dask cluster; the origin results are pickled), then
scores variants of the stacked forecast on those fits (``score``), each learned only from
earlier origins' cells whose outcomes were public at the origin (leave-future-out):

- ``none``: the stacked forecast as ``forecast predict`` gives it;
- ``pooled``: recalibrated by all earlier PIT values (what the backtest scores as
  ``stacked:recalibration=pit``);
- ``family``: recalibrated per indicator family (identity below 200 earlier values);
- ``family_half``: half-way between the family's map and no recalibration;
- ``family_crps``: the strength (0, 1/4, ..., 1) that minimised the earlier cells' CRPS;
- ``spread``: draws scaled about the median per family, the factor (0.5 to 1.2) that
  minimised the earlier cells' CRPS;
- ``quantile_average``: the components' quantiles averaged (Vincentization, sharper than the
  mixture), weights per family and horizon on a 0.1 grid minimising the earlier cells' CRPS;
- ``indicator_weights``: the mixture with weights per indicator and horizon (the family's
  below :data:`~forecast.evaluation.stacking.MIN_CELLS` earlier cells).

Coverage here is read from PIT values (an outcome inside the central 50 % interval has a PIT
between 0.25 and 0.75), which counts outcomes tied with draws (exact zeros) differently from
the backtest's interval table. Prints skill against persistence and the local level and
coverage by horizon, then by indicator family.

Usage::

    python benchmarks/probe_stacking.py fit --out /tmp/origins.pkl
    python benchmarks/probe_stacking.py score /tmp/origins.pkl [VARIANT ...]
"""

from __future__ import annotations

import argparse
import pickle
from pathlib import Path

import numpy as np
import pandas as pd
import scoringrules as sr
from numpy.typing import NDArray

from forecast.data.codebook import load_codebook
from forecast.data.panel import DEFAULT_PANEL, read_panel
from forecast.evaluation.backtest import OriginResult, origin_task
from forecast.evaluation.calibration import GRID, pit_quantiles, recalibrate
from forecast.evaluation.plan import BacktestSettings, make_plan
from forecast.evaluation.scores import pit_draws
from forecast.evaluation.stacked import (
    MIN_RECALIBRATION,
    OriginStack,
    mixture_draws,
    training_cells,
)
from forecast.evaluation.stacking import MIN_CELLS, best_weights, learned_weights, simplex_grid
from forecast.evaluation.vintage import origin_date
from forecast.model.spec import DEFAULT_MODEL, load_model_spec
from forecast.model.stacked import indicator_family, mix_draws
from forecast.scaleout import dask_client, map_in_order

VARIANTS = (
    "none",
    "pooled",
    "family",
    "family_half",
    "family_crps",
    "spread",
    "quantile_average",
    "indicator_weights",
)
#: the variants that combine the components otherwise (the others move the mixture)
COMBINATIONS = ("quantile_average", "indicator_weights")
KEYS = ["origin", "horizon", "state", "indicator", "period"]


def fit(out: Path) -> None:
    """Run every origin of the default backtest and pickle the origin results."""
    codebook = load_codebook()
    spec = load_model_spec(DEFAULT_MODEL, codebook)
    settings = BacktestSettings(
        origins=tuple(range(2008, 2023)),
        horizons=(0, 1, 2, 3, 4),
        target_accept=spec.sampler.target_accept,
        adaptation=spec.sampler.adaptation,
    )
    plan = make_plan(read_panel(DEFAULT_PANEL, codebook), spec, codebook, settings)
    with dask_client(workers=2, scheduler=None, tls=None) as client:
        results = map_in_order(client, origin_task, list(settings.origins), plan)
    out.write_bytes(pickle.dumps((settings.horizons, results)))


def _crps(obs: NDArray[np.float64], draws: NDArray[np.float64]) -> NDArray[np.float64]:
    return np.asarray(sr.crps_ensemble(obs, draws, estimator="pwm"), dtype=float)


def _moved(
    name: str, draws: NDArray[np.float64], q: NDArray[np.float64], s: float
) -> NDArray[np.float64]:
    if name == "spread":
        median = np.median(draws, axis=1, keepdims=True)
        return np.asarray(median + s * (draws - median), dtype=float)
    return recalibrate(draws, s * q + (1 - s) * GRID)


def _strength(
    name: str, cells: pd.DataFrame, draws: NDArray[np.float64], q: NDArray[np.float64]
) -> float:
    """Strength of the move: fixed, or the one with the least CRPS on the training cells."""
    if name in ("pooled", "family"):
        return 1.0
    if name == "family_half":
        return 0.5
    options = np.linspace(0.5, 1.2, 8) if name == "spread" else np.linspace(0, 1, 5)
    obs, scale = cells["observed"].to_numpy(), cells["scale"].to_numpy()
    losses = [(_crps(obs, _moved(name, draws, q, s)) / scale).mean() for s in options]
    return float(options[int(np.argmin(losses))])


def score(path: Path, variants: list[str]) -> None:
    """Score each variant on the pickled origin results."""
    horizons, results = pickle.loads(path.read_bytes())
    results = [r for r in results if isinstance(r, OriginResult) and r.stack is not None]
    stacks = sorted((r.stack for r in results), key=lambda s: int(s.cells["origin"].iloc[0]))
    families = sorted({indicator_family(k) for s in stacks for k in s.cells["indicator"]})
    scores = pd.concat([r.scores for r in results])
    base = scores[scores["model"].isin(["persistence", "local_level"])]
    base = base.pivot_table(index=KEYS, columns="model", values="crps").reset_index()
    history: History = []
    for stack in stacks:
        origin = int(stack.cells["origin"].iloc[0])
        mixed = mixture_draws(
            stack, learned_weights(training_cells(stacks, origin), horizons, families)
        )
        cells = stack.cells[[*KEYS, "observed", "scale", "vintage"]].reset_index(drop=True)
        cells["family"] = cells["indicator"].map(indicator_family)
        cells["pit"] = pit_draws(cells["observed"].to_numpy(), mixed)
        history.append((origin, cells, mixed))
    for name in variants:
        if name in COMBINATIONS:
            scored = [
                _combined(name, stack, stacks, cells)
                for stack, (_, cells, _) in zip(stacks, history, strict=True)
            ]
        else:
            scored = [_variant(name, o, cells, mixed, history) for o, cells, mixed in history]
        _print(name, pd.concat(scored).merge(base, on=KEYS))


def _group_weights(
    name: str, train: pd.DataFrame, sorted_draws: NDArray[np.float64]
) -> NDArray[np.float64]:
    if name == "indicator_weights":
        return best_weights(train)
    obs, scale = train["observed"].to_numpy(), train["scale"].to_numpy()
    grid = simplex_grid(0.1)
    losses = [(_crps(obs, np.tensordot(w, sorted_draws, axes=1)) / scale).sum() for w in grid]
    return grid[int(np.argmin(losses))]


def _combined(
    name: str, stack: OriginStack, stacks: list[OriginStack], cells: pd.DataFrame
) -> pd.DataFrame:
    """Score one origin's cells combined by ``name``, learned from earlier public cells."""
    origin = int(stack.cells["origin"].iloc[0])
    train = training_cells(stacks, origin)
    by = "indicator" if name == "indicator_weights" else "family"
    train_sorted = np.empty((len(stack.draws), 0, 0))
    if name == "quantile_average" and len(train):
        earlier = [s for s in stacks if int(s.cells["origin"].iloc[0]) < origin]
        full = pd.concat([s.cells for s in earlier], ignore_index=True)
        draws = [np.concatenate([s.draws[j] for s in earlier]) for j in range(len(stack.draws))]
        public = (full["vintage"] <= origin_date(origin)).to_numpy()
        train_sorted = np.stack([np.sort(d[public], axis=1) for d in draws])
    family = train["indicator"].map(indicator_family) if len(train) else pd.Series(dtype=str)
    out = np.empty_like(stack.draws[0])
    chosen: dict[tuple[str, int], NDArray[np.float64]] = {}
    for row, cell in enumerate(cells.to_dict("records")):
        key = (str(cell[by]), int(cell["horizon"]))
        if key not in chosen:
            at_h = (train["horizon"] == key[1]).to_numpy() if len(train) else np.zeros(0, bool)
            mine = at_h & (train[by] if by == "indicator" else family).eq(key[0]).to_numpy()
            if by == "indicator" and mine.sum() < MIN_CELLS:
                mine = at_h & family.eq(str(cell["family"])).to_numpy()
            weights = np.full(len(stack.draws), 1 / len(stack.draws))
            if mine.sum() >= MIN_CELLS:
                ranked = train_sorted[:, mine] if name == "quantile_average" else train_sorted
                weights = _group_weights(name, train[mine], ranked)
            chosen[key] = weights
        parts = [d[row] for d in stack.draws]
        if name == "quantile_average":
            out[row] = chosen[key] @ np.sort(np.stack(parts), axis=1)
        else:
            out[row] = mix_draws(parts, chosen[key])
    obs = cells["observed"].to_numpy()
    return cells.assign(crps=_crps(obs, out), pit=pit_draws(obs, out))


#: per origin: its cells (with the mixture's PIT values) and the mixture's draws
History = list[tuple[int, pd.DataFrame, NDArray[np.float64]]]


def _variant(
    name: str, origin: int, cells: pd.DataFrame, mixed: NDArray[np.float64], history: History
) -> pd.DataFrame:
    earlier = [(c, m) for o, c, m in history if o < origin]
    out = mixed.copy()
    if name != "none" and earlier:
        train = pd.concat([c for c, _ in earlier], ignore_index=True)
        train_draws = np.concatenate([m for _, m in earlier])
        public = (train["vintage"] <= origin_date(origin)).to_numpy()
        train, train_draws = train[public].reset_index(drop=True), train_draws[public]
        groups = [None] if name == "pooled" else sorted(set(cells["family"]))
        for group in groups:
            rows = np.ones(len(cells), bool) if group is None else (cells["family"] == group)
            mine = np.ones(len(train), bool) if group is None else (train["family"] == group)
            rows, mine = np.asarray(rows), np.asarray(mine)
            if mine.sum() < MIN_RECALIBRATION:
                continue
            q = pit_quantiles(train.loc[mine, "pit"])
            s = _strength(name, train[mine], train_draws[mine], q)
            out[rows] = _moved(name, mixed[rows], q, s)
    obs = cells["observed"].to_numpy()
    return cells.assign(crps=_crps(obs, out), pit=pit_draws(obs, out))


def _table(scored: pd.DataFrame, by: str) -> pd.DataFrame:
    rows = []
    for key, g in scored.groupby(by):
        crps = (g["crps"] / g["scale"]).mean()
        pit = g["pit"]
        rows.append(
            {
                by: key,
                "vs_persistence": 1 - crps / (g["persistence"] / g["scale"]).mean(),
                "vs_local_level": 1 - crps / (g["local_level"] / g["scale"]).mean(),
                "covered_50": ((pit > 0.25) & (pit < 0.75)).mean(),
                "covered_90": ((pit > 0.05) & (pit < 0.95)).mean(),
            }
        )
    return pd.DataFrame(rows)


def _print(name: str, scored: pd.DataFrame) -> None:
    print(f"\n{name}")
    print(_table(scored, "horizon").round(3).to_string(index=False))
    print(_table(scored, "family").round(3).to_string(index=False))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    fit_p = sub.add_parser("fit")
    fit_p.add_argument("--out", type=Path, required=True)
    score_p = sub.add_parser("score")
    score_p.add_argument("results", type=Path)
    score_p.add_argument("variants", nargs="*", choices=[*VARIANTS, []])
    args = parser.parse_args()
    if args.command == "fit":
        fit(args.out)
    else:
        score(args.results, args.variants or list(VARIANTS))


if __name__ == "__main__":
    main()
