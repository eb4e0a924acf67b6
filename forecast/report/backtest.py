"""The report's backtest: how the issued kind of forecast fared in pseudo-real time.

The evidence is the backtest summary stored with the stacking weights
(``models/stacking.toml``, written by ``forecast backtest --write-weights``): it is shown
only when those weights were learned for the run's model spec.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from forecast.dims import HORIZON
from forecast.model.stacked import StackingWeights
from forecast.report.blocks import Block, FigureRef, Paragraph, Section, Table
from forecast.report.contracts import BacktestFacts, BacktestRow, ReportInputs

#: what each kind of forecast is called in the report
FORECAST_LABELS = {
    "stacked": "stacked forecast (the model mixed with persistence and the local level)",
    "model": "model's own forecast",
}


def _number(value: object) -> float | None:
    number = float(value)  # type: ignore[arg-type]
    return None if math.isnan(number) else number


def backtest_facts(weights: StackingWeights | None, kind: str) -> BacktestFacts | None:
    """Return the backtest rows of the issued kind of forecast (None without evidence).

    Examples
    --------
    >>> table = pd.DataFrame({"family": ["x"], "horizon": [0], "model": [1.0]})
    >>> evidence = pd.DataFrame({"model": ["stacked"], "horizon": [1], "cells": [10],
    ...     "skill_persistence": [0.1], "skill_local_level": [0.05], "covered_50": [0.5],
    ...     "covered_90": [0.9]})
    >>> facts = backtest_facts(StackingWeights(table, {"origins": "2008:2022"}, evidence),
    ...                        "stacked")
    >>> facts.rows[0].skill_persistence, facts.origins
    (0.1, '2008:2022')
    """
    if weights is None or weights.evidence.empty:
        return None
    mine = weights.evidence[weights.evidence["model"] == kind].sort_values(HORIZON)
    if mine.empty:
        return None
    rows = tuple(
        BacktestRow(
            horizon=int(r[HORIZON]),
            cells=int(r["cells"]),
            skill_persistence=float(r["skill_persistence"]),
            skill_local_level=float(r["skill_local_level"]),
            covered_50=_number(r.get("covered_50", math.nan)),
            covered_90=_number(r.get("covered_90", math.nan)),
        )
        for r in mine.to_dict("records")
    )
    provenance = weights.provenance
    pit = weights.pit
    counts = () if pit.empty else tuple(pit[pit["model"] == kind].sort_values("bin")["count"])
    return BacktestFacts(
        forecast=kind,
        rows=rows,
        origins=str(provenance.get("origins", "")),
        fits=str(provenance.get("fits", "")),
        created=str(provenance.get("created", "")),
        pit=tuple(int(c) for c in counts),
    )


def pit_values(counts: tuple[int, ...]) -> np.ndarray:
    """Stand-in PIT values with the histogram ``counts`` (each bin's centre, repeated).

    Examples
    --------
    >>> pit_values((1, 2)).tolist()
    [0.25, 0.75, 0.75]
    """
    n = len(counts)
    centres = (np.arange(n) + 0.5) / n
    return np.repeat(centres, counts)


def pit_reliability(counts: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray]:
    """Quantile levels ``k/n`` and the share of outcomes below them, from PIT histogram counts.

    With ``n`` equal-width bins, an outcome fell below the forecast's ``k/n`` quantile when
    its PIT fell in the first ``k`` bins.

    Examples
    --------
    >>> levels, below = pit_reliability((1, 1, 2))
    >>> levels.round(3).tolist(), below.tolist()
    ([0.333, 0.667], [0.25, 0.5])
    """
    n, total = len(counts), sum(counts)
    return np.arange(1, n) / n, np.cumsum(counts)[:-1] / total


def _pit_words(counts: tuple[int, ...]) -> str:
    """One sentence on where outcomes fell inside the predictive distributions."""
    total = sum(counts)
    if not total or len(counts) < 4:
        return ""
    n = len(counts)
    expected = 2 / n
    outer = (counts[0] + counts[-1]) / total
    middle = (counts[n // 2 - 1] + counts[n // 2]) / total
    if outer > expected * 1.25:
        shape = "more often than a calibrated forecast would: surprises beyond the bands"
    elif outer < expected * 0.75:
        shape = "less often than a calibrated forecast would: the distributions are too wide"
    else:
        shape = "about as often as a calibrated forecast would"
    text = (
        f"Of {total} values scored, {100 * outer:.0f} % fell in the outer tenth of their "
        f"predictive distribution on either side ({100 * expected:.0f} % if calibrated), "
        f"{shape}"
    )
    if middle > expected * 1.25:
        text += (
            f"; {100 * middle:.0f} % fell in the central fifth ({100 * expected:.0f} % if "
            "calibrated): outcomes cluster near the median, so the middle of each "
            "distribution is wider than it needs to be"
        )
    return text + "."


def figure_tables(facts: BacktestFacts) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Skill (horizon, baseline, skill) and coverage (horizon, level, coverage) for the figure."""
    skill = pd.DataFrame(
        [
            {HORIZON: r.horizon, "baseline": name, "skill": value}
            for r in facts.rows
            for name, value in (
                ("persistence", r.skill_persistence),
                ("local level", r.skill_local_level),
            )
        ]
    )
    coverage = pd.DataFrame(
        [
            {HORIZON: r.horizon, "level": level, "coverage": value}
            for r in facts.rows
            for level, value in ((0.5, r.covered_50), (0.9, r.covered_90))
            if value is not None
        ]
    )
    return skill, coverage


def _signed(x: float) -> str:
    return f"{x:+.2f}"


def _span(values: list[float]) -> str:
    low, high = round(100 * min(values)), round(100 * max(values))
    return f"{low} %" if low == high else f"{low} to {high} %"


def _calibration(facts: BacktestFacts) -> str:
    """One sentence on the intervals' coverage against their nominal levels."""
    c50 = [r.covered_50 for r in facts.rows if r.covered_50 is not None]
    c90 = [r.covered_90 for r in facts.rows if r.covered_90 is not None]
    if not c50 or not c90:
        return ""
    verdict = []
    if min(c50) > 0.55:
        verdict.append("the central half of the fan is somewhat too wide")
    elif max(c50) < 0.45:
        verdict.append("the central half of the fan is too narrow")
    if max(c90) < 0.87:
        verdict.append("the 90 % band is too narrow: surprises come more often than it says")
    elif min(c90) > 0.93:
        verdict.append("the 90 % band is wider than it needs to be")
    tail = "; ".join(verdict) if verdict else "both close to their nominal levels"
    return (
        f"Their 50 % intervals held {_span(c50)} of what happened and their 90 % intervals "
        f"{_span(c90)}: {tail}."
    )


def backtest_section(inputs: ReportInputs) -> Section:
    """Build the section on how the issued kind of forecast fared in the backtest."""
    title = "How such forecasts have fared"
    facts = inputs.backtest
    if facts is None:
        return Section(
            "backtest",
            title,
            (
                Paragraph(
                    "No backtest of this model spec is at hand (models/stacking.toml holds "
                    "none for it), so the forecast's past accuracy cannot be shown."
                ),
            ),
        )
    rows = tuple(
        (
            str(r.horizon),
            str(r.cells),
            _signed(r.skill_persistence),
            _signed(r.skill_local_level),
            "–" if r.covered_50 is None else f"{100 * r.covered_50:.0f} %",
            "–" if r.covered_90 is None else f"{100 * r.covered_90:.0f} %",
        )
        for r in facts.rows
    )
    blocks: list[Block] = [
        Paragraph(
            f"The forecasts above are the {FORECAST_LABELS.get(facts.forecast, facts.forecast)}. "
            "Forecasts made the same way, refitted at the end of each year "
            f"{facts.origins.replace(':', '–')} on the data public at the time and scored "
            "against the values published later, did as follows. Horizon 0 is the year after "
            "the last data (a nowcast); skill is the share by which their CRPS (the error of a "
            "whole predictive distribution) is smaller than the baseline's: +0.10 is 10 % "
            "smaller, below zero the baseline did better. Persistence says nothing changes; "
            "the local level follows a smoothed trend."
        ),
        Table(
            f"Pseudo-real-time backtest ({facts.fits}; {facts.created})",
            (
                "horizon (years)",
                "values scored",
                "skill vs persistence",
                "skill vs local level",
                "50 % interval coverage",
                "90 % interval coverage",
            ),
            rows,
            (True, True, True, True, True, True),
        ),
    ]
    calibration = _calibration(facts)
    if calibration:
        blocks.append(Paragraph(calibration))
    blocks.append(FigureRef("backtest"))
    pit = _pit_words(facts.pit)
    if pit:
        blocks += [Paragraph(pit), FigureRef("pit"), FigureRef("reliability")]
    return Section("backtest", title, tuple(blocks))
