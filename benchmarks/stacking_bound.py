"""Probe: how far a linear pool of these components can go, from a backtest's stacked cells.

Reads ``stacking_cells.csv`` of a ``forecast backtest --out DIR`` (each stacked cell with its
components' mixture statistics, :func:`forecast.evaluation.stacking.mixture_statistics`) and
prints, by horizon, the scaled-CRPS skill against persistence and the local level of:

- ``model``: the Bayesian model alone;
- ``stacked``: the mixture with leave-future-out weights per indicator family and horizon,
  recomputed from the cells as the backtest does (it must equal the backtest's table);
- ``stacked min_cells=N``: the same with another threshold for a family's own weights
  (fewer earlier cells: the horizon's pooled weights), for each ``--min-cells``;
- ``hindsight_family``: the mixture with the weights per family and horizon that minimise
  the summed CRPS of *all* cells, later origins included. No forecaster could have used
  them: an upper bound on what weights per family and horizon can give;
- ``hindsight_indicator``: the same per indicator and horizon.

Where the hindsight skill falls short of a target, no weighting of these three components
reaches it; only better components can. Each table is followed by the same skill over the
origins' first and second halves (a threshold chosen on the whole backtest should win in
both).

Usage::

    python benchmarks/stacking_bound.py DIR [--min-cells 20,80]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from forecast.dims import HORIZON, INDICATOR, ORIGIN
from forecast.evaluation.cells import SCALE, VINTAGE
from forecast.evaluation.stacking import MIN_CELLS, best_weights, learned_weights, mixture_crps
from forecast.evaluation.vintage import origin_date
from forecast.model.stacked import COMPONENTS, indicator_family


def alone(cells: pd.DataFrame, component: str) -> NDArray[np.float64]:
    """Scaled CRPS of one component in every cell."""
    weights = np.zeros((len(cells), len(COMPONENTS)))
    weights[:, COMPONENTS.index(component)] = 1.0
    return np.asarray(mixture_crps(cells, weights) / cells[SCALE].to_numpy(float))


def leave_future_out(cells: pd.DataFrame, min_cells: int = MIN_CELLS) -> NDArray[np.float64]:
    """Weights of each cell learned from earlier origins' public cells, as the backtest does."""
    horizons = sorted(cells[HORIZON].unique())
    families = sorted(cells[INDICATOR].map(indicator_family).unique())
    weights = np.zeros((len(cells), len(COMPONENTS)))
    for origin, rows in cells.groupby(ORIGIN):
        seen = cells[(cells[ORIGIN] < origin) & (cells[VINTAGE] <= origin_date(int(origin)))]
        table = learned_weights(seen.reset_index(drop=True), horizons, families, min_cells)
        table = table.set_index(["family", HORIZON])
        for i, row in rows.iterrows():
            key = (indicator_family(str(row[INDICATOR])), int(row[HORIZON]))
            weights[i] = table.loc[key, list(COMPONENTS)].to_numpy(float)
    return weights


def hindsight(cells: pd.DataFrame, by: str) -> NDArray[np.float64]:
    """Weights per ``by`` and horizon minimising the CRPS of every cell (all origins)."""
    weights = np.zeros((len(cells), len(COMPONENTS)))
    for _, group in cells.groupby([by, HORIZON]):
        weights[group.index] = best_weights(group)
    return weights


def skill(cells: pd.DataFrame, crps: NDArray[np.float64]) -> pd.DataFrame:
    """Skill against persistence and the local level by horizon."""
    table = (
        pd.DataFrame(
            {
                HORIZON: cells[HORIZON],
                "x": crps,
                "persistence": alone(cells, "persistence"),
                "local_level": alone(cells, "local_level"),
            }
        )
        .groupby(HORIZON)[["x", "persistence", "local_level"]]
        .sum()
    )
    return pd.DataFrame(
        {f"vs_{b}": 1 - table["x"] / table[b] for b in ("persistence", "local_level")}
    ).T


def halves(cells: pd.DataFrame, crps: NDArray[np.float64]) -> str:
    """Skill against the local level over the first and second half of the origins."""
    origins = np.sort(cells[ORIGIN].unique())
    middle = origins[len(origins) // 2]
    lines = []
    for name, part in (("first", cells[ORIGIN] < middle), ("second", cells[ORIGIN] >= middle)):
        keep = part.to_numpy()
        table = skill(cells[keep], crps[keep]).loc["vs_local_level"]
        shown = " ".join(f"{v:+.3f}" for v in table)
        lines.append(f"  vs_local_level, {name} half of the origins: {shown}")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path, help="a backtest's output directory")
    parser.add_argument("--min-cells", default="", help="other thresholds, comma-separated")
    args = parser.parse_args()
    cells = pd.read_csv(args.out / "stacking_cells.csv", dtype={"period": str, VINTAGE: str})
    cells["family"] = cells[INDICATOR].map(indicator_family)
    scale = cells[SCALE].to_numpy(float)
    rows = {
        "model": alone(cells, "model"),
        "stacked": mixture_crps(cells, leave_future_out(cells)) / scale,
    }
    for text in filter(None, args.min_cells.split(",")):
        weights = leave_future_out(cells, int(text))
        rows[f"stacked min_cells={int(text)}"] = mixture_crps(cells, weights) / scale
    rows["hindsight_family"] = mixture_crps(cells, hindsight(cells, "family")) / scale
    rows["hindsight_indicator"] = mixture_crps(cells, hindsight(cells, INDICATOR)) / scale
    with pd.option_context("display.float_format", "{:+.3f}".format):
        for name, crps in rows.items():
            crps = np.asarray(crps)
            print(f"{name}\n{skill(cells, crps).to_string()}\n{halves(cells, crps)}\n")


if __name__ == "__main__":
    main()
