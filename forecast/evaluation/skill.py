"""Skill and calibration tables from tidy backtest scores.

CRPS skill of the model against a baseline is ``1 - CRPS_model / CRPS_baseline``, both
summed over exactly the same cells: positive means the model is better, 0.2 means 20 % lower
CRPS. Indicators have different units (shares, per cent of GDP, millions of dollars), so
before summing across indicators each cell's CRPS is divided by its indicator's ``scale``
(mean absolute year-on-year change in the panel, the MASE convention): the scale cancels
within an indicator and only sets how much each indicator weighs in the aggregate.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from forecast.baselines import BASELINES
from forecast.dims import HORIZON, INDICATOR, MODEL, ORIGIN, PERIOD, STATE
from forecast.evaluation.scores import INTERVAL_LEVELS, level_label
from forecast.model.stacked import STACKED

_CELL = [ORIGIN, HORIZON, STATE, INDICATOR, PERIOD]


def model_name(scores: pd.DataFrame) -> str:
    """Return the one Bayesian model in ``scores`` (neither a baseline nor the stacked forecast).

    Examples
    --------
    >>> model_name(pd.DataFrame({MODEL: ["drift", "alignment", "persistence", "stacked"]}))
    'alignment'
    """
    names = sorted(
        m for m in set(scores[MODEL]) - set(BASELINES) - {STACKED} if VARIANT_MARK not in m
    )
    if len(names) != 1:
        raise ValueError(f"expected exactly one non-baseline model, found {names}")
    return names[0]


def crps_skill(
    scores: pd.DataFrame,
    *,
    model: str | None = None,
    baselines: Sequence[str] | None = None,
    by: Sequence[str] = (HORIZON,),
) -> pd.DataFrame:
    """CRPS skill of ``model`` against each baseline, by the columns in ``by``.

    Parameters
    ----------
    scores
        Tidy backtest scores with ``model``, ``crps`` and ``scale`` columns.
    model
        The model to judge (default: the one that is not a baseline).
    baselines
        Baselines to compare against (default: every baseline in ``scores``).
    by
        Grouping columns (``horizon``; ``indicator, horizon`` to see where the model loses).

    Returns
    -------
    pandas.DataFrame
        ``*by, baseline, cells, crps_model, crps_baseline, skill``; the CRPS columns are
        means of the scaled CRPS over the cells both forecast.

    Examples
    --------
    >>> cells = dict(origin=2010, state="KAZ", indicator="x", period="2011", horizon=1, scale=1.0)
    >>> scores = pd.DataFrame([cells | {"model": "m", "crps": 0.8},
    ...                        cells | {"model": "drift", "crps": 1.0}])
    >>> crps_skill(scores)[["horizon", "baseline", "skill"]].round(3).to_dict("records")
    [{'horizon': 1, 'baseline': 'drift', 'skill': 0.2}]
    """
    model = model or model_name(scores)
    present = [b for b in BASELINES if b in set(scores[MODEL])]
    baselines = list(baselines) if baselines is not None else present
    scaled = scores.assign(_scaled=scores["crps"] / scores["scale"])
    mine = scaled[scaled[MODEL] == model][[*_CELL, "_scaled"]]
    rows = []
    for baseline in baselines:
        theirs = scaled[scaled[MODEL] == baseline][[*_CELL, "_scaled"]]
        paired = mine.merge(theirs, on=_CELL, suffixes=("_model", "_baseline"))
        for key, group in paired.groupby(list(by), sort=True):
            keys = key if isinstance(key, tuple) else (key,)
            m = float(group["_scaled_model"].mean())
            b = float(group["_scaled_baseline"].mean())
            rows.append(
                dict(zip(by, keys, strict=True))
                | {
                    "baseline": baseline,
                    "cells": len(group),
                    "crps_model": m,
                    "crps_baseline": b,
                    "skill": 1.0 - m / b if b > 0 else np.nan,
                }
            )
    columns = [*by, "baseline", "cells", "crps_model", "crps_baseline", "skill"]
    return pd.DataFrame(rows, columns=columns)


#: what marks a projection variant's name (``alignment:drift_damping=1``)
VARIANT_MARK = ":"


def _present_baselines(scores: pd.DataFrame) -> list[str]:
    return [b for b in BASELINES if b in set(scores[MODEL])]


def skill_table(scores: pd.DataFrame, *, by: Sequence[str] = (HORIZON,)) -> pd.DataFrame:
    """Tabulate :func:`crps_skill` of the model and of the stacked forecast (``model`` column).

    Projection variants (``alignment:drift_damping=1``) and the stacked forecast are each
    compared with the baselines.
    """
    main = model_name(scores)
    others = sorted(m for m in set(scores[MODEL]) if VARIANT_MARK in m)
    if STACKED in set(scores[MODEL]):
        others.append(STACKED)
    tables = [
        crps_skill(scores, model=name, baselines=_present_baselines(scores), by=by).assign(
            **{MODEL: name}
        )
        for name in [main, *others]
    ]
    table = pd.concat(tables, ignore_index=True)
    return table[[MODEL, *(c for c in table.columns if c != MODEL)]]


def coverage_table(
    scores: pd.DataFrame,
    *,
    levels: Sequence[float] = INTERVAL_LEVELS,
    by: Sequence[str] = (HORIZON,),
) -> pd.DataFrame:
    """Empirical coverage of the central intervals, per model and group.

    A calibrated forecaster's 90 % intervals hold about 90 % of outcomes.

    Returns
    -------
    pandas.DataFrame
        ``model, *by, cells, covered_50, ...`` (shares between 0 and 1).

    Examples
    --------
    >>> scores = pd.DataFrame({"model": "m", "horizon": [1, 1], "covered_50": [1.0, 0.0],
    ...                        "covered_90": [1.0, 1.0]})
    >>> coverage_table(scores, levels=(0.5, 0.9)).to_dict("records")
    [{'model': 'm', 'horizon': 1, 'cells': 2, 'covered_50': 0.5, 'covered_90': 1.0}]
    """
    columns = [f"covered_{level_label(level)}" for level in levels]
    grouped = scores.groupby([MODEL, *by], sort=True)
    table = grouped[columns].mean()
    table.insert(0, "cells", grouped.size())
    return table.reset_index()


def losses(skill: pd.DataFrame) -> pd.DataFrame:
    """Rows of a skill table where the model does worse than the baseline (skill < 0)."""
    return skill[skill["skill"] < 0].sort_values("skill").reset_index(drop=True)


#: the columns of a backtest's evidence table (:func:`backtest_evidence`)
EVIDENCE_COLUMNS = (
    MODEL,
    HORIZON,
    "cells",
    "skill_persistence",
    "skill_local_level",
    "covered_50",
    "covered_90",
)


def backtest_evidence(skill: pd.DataFrame, coverage: pd.DataFrame) -> pd.DataFrame:
    """Summarise a backtest for readers: skill and coverage of the model and the stacked forecast.

    One row per forecast (``model``: the model alone; ``stacked``) and horizon: CRPS skill
    against persistence and the local level, and the share of outcomes inside the central
    50 % and 90 % intervals. Projection variants are left out.

    Examples
    --------
    >>> skill = pd.DataFrame({"model": ["m", "m", "stacked", "stacked"], "horizon": [1] * 4,
    ...     "baseline": ["persistence", "local_level"] * 2, "cells": [10] * 4,
    ...     "skill": [0.1, 0.05, 0.2, 0.1]})
    >>> coverage = pd.DataFrame({"model": ["m", "stacked"], "horizon": [1, 1],
    ...     "cells": [10, 10], "covered_50": [0.4, 0.5], "covered_90": [0.8, 0.9]})
    >>> backtest_evidence(skill, coverage)[["model", "skill_persistence", "covered_90"]]
         model  skill_persistence  covered_90
    0    model                0.1         0.8
    1  stacked                0.2         0.9
    """
    kept = skill[~skill[MODEL].str.contains(VARIANT_MARK, regex=False)]
    wide = kept.pivot_table(index=[MODEL, HORIZON], columns="baseline", values="skill")
    wide = wide.rename(columns=lambda b: f"skill_{b}").reset_index()
    cells = kept.groupby([MODEL, HORIZON], as_index=False)["cells"].max()
    cov = coverage[[MODEL, HORIZON, "covered_50", "covered_90"]]
    out = cells.merge(wide, on=[MODEL, HORIZON]).merge(cov, on=[MODEL, HORIZON], how="left")
    # the model alone is named by its spec; readers know it as "model"
    out[MODEL] = [m if m == STACKED else "model" for m in out[MODEL]]
    for column in EVIDENCE_COLUMNS:
        if column not in out:
            out[column] = np.nan
    return out[list(EVIDENCE_COLUMNS)].sort_values([MODEL, HORIZON], ignore_index=True)


#: equal-width bins of a backtest's PIT histogram
PIT_BINS = 10


def pit_counts(scores: pd.DataFrame, bins: int = PIT_BINS) -> pd.DataFrame:
    """Count the PIT values of the model and the stacked forecast in equal-width bins.

    One row per forecast (``model``: the model alone; ``stacked``) and bin (0 is the lowest
    tenth with the default 10 bins): where the outcomes fell inside the predictive
    distributions. Baselines and projection variants are left out.

    Examples
    --------
    >>> scores = pd.DataFrame({"model": ["m", "m", "stacked", "persistence"],
    ...                        "pit": [0.05, 0.95, 0.5, 0.5]})
    >>> pit_counts(scores, bins=2).to_dict("list")
    {'model': ['model', 'model', 'stacked', 'stacked'], 'bin': [0, 1, 0, 1], 'count': [1, 1, 0, 1]}
    """
    main = model_name(scores)
    rows = []
    for name, label in ((main, "model"), (STACKED, STACKED)):
        pit = scores.loc[scores[MODEL] == name, "pit"].to_numpy(dtype=float)
        pit = pit[np.isfinite(pit)]
        if not pit.size:
            continue
        counts, _ = np.histogram(pit, bins=np.linspace(0.0, 1.0, bins + 1))
        rows += [{MODEL: label, "bin": b, "count": int(c)} for b, c in enumerate(counts)]
    return pd.DataFrame(rows, columns=[MODEL, "bin", "count"])


#: quantile levels of a backtest's reliability table (0.05, 0.10, ..., 0.95)
RELIABILITY_LEVELS = tuple(round(0.05 * k, 2) for k in range(1, 20))


def quantile_reliability(
    scores: pd.DataFrame,
    *,
    levels: Sequence[float] = RELIABILITY_LEVELS,
    by: Sequence[str] = (HORIZON,),
) -> pd.DataFrame:
    """Share of outcomes at or below each forecast's quantile at ``level``, per model and group.

    The forecast's quantile at level ``tau`` is a forecast that the outcome falls below it
    with probability ``tau``; a calibrated forecaster's outcomes do so a share ``tau`` of the
    time (the reliability curve of quantile forecasts: ``below`` against ``level`` lies on
    the diagonal). Read from the PIT values: an outcome is below the ``tau`` quantile when its
    PIT is at most ``tau``.

    Returns
    -------
    pandas.DataFrame
        ``model, *by, level, cells, below``.

    Examples
    --------
    >>> scores = pd.DataFrame({"model": "m", "horizon": 1, "pit": [0.1, 0.4, 0.6, 0.9]})
    >>> quantile_reliability(scores, levels=(0.25, 0.5)).to_dict("list")["below"]
    [0.25, 0.5]
    """
    rows = []
    for key, group in scores.groupby([MODEL, *by], sort=True):
        keys = key if isinstance(key, tuple) else (key,)
        pit = group["pit"].to_numpy(dtype=float)
        pit = pit[np.isfinite(pit)]
        for level in levels:
            rows.append(
                dict(zip([MODEL, *by], keys, strict=True))
                | {"level": level, "cells": pit.size, "below": float(np.mean(pit <= level))}
            )
    return pd.DataFrame(rows, columns=[MODEL, *by, "level", "cells", "below"])
