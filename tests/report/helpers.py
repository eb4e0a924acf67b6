"""Synthetic report inputs: every field filled, small, and easy to poison with markup."""

from __future__ import annotations

from dataclasses import replace

from forecast.report.contracts import (
    Attribution,
    AttributionRow,
    CoverageFacts,
    CurrencyRow,
    Figure,
    HeadlineFacts,
    ProbabilityRow,
    ReportInputs,
    RunFacts,
    TrackRecordRow,
    TrajectoryRow,
    WhatIfRow,
)
from forecast.report.figures import png_bytes


def tiny_png() -> bytes:
    from matplotlib.figure import Figure as MplFigure

    fig = MplFigure(figsize=(1, 1))
    fig.subplots().plot([0, 1], [1, 0])
    return png_bytes(fig, dpi=20)


def make_inputs(*, converged: bool = True, text: str = "", **overrides: object) -> ReportInputs:
    """Report inputs whose user-controlled strings all end with ``text``."""
    png = tiny_png()
    run = RunFacts(
        run_id="r1",
        created="2026-11-25T00:00:00+00:00",
        method="nuts",
        approximate=False,
        converged=converged,
        chains=4,
        draws=1000,
        seed=1,
        max_rhat=1.004 if converged else 1.2,
        min_ess_bulk=620.0,
        min_ess_tail=800.0,
        divergences=0 if converged else 7,
        failures=() if converged else ("max R-hat 1.200 > 1.01", "7 divergent transitions"),
        data_sha256="a" * 64,
        spec_sha256="b" * 64,
        packages=(("pymc", "6.0"),),
        carry="observed",
        persistence_by="indicator",
        drift_damping=1.0,
    )
    headline = HeadlineFacts(
        trend_probability=0.83,
        trend_mcse=0.01,
        outcome_entropy=0.91,
        horizon="2030",
        last_observed="2020",
        partition_title="Where the region stands" + text,
        leading_scenario="Balance" + text,
        leading_probability=0.31,
        trend_questions=(("China gains on Russia" + text, 0.97),),
    )
    probabilities = (
        ProbabilityRow(
            "scenario",
            "Where" + text,
            "a",
            "Balance" + text,
            "Story" + text,
            "2030",
            0.31,
            0.01,
            0.25,
        ),
        ProbabilityRow(
            "scenario", "Where" + text, "b", "Primacy" + text, "", "2030", 0.69, 0.01, None
        ),
        ProbabilityRow("question", "", "q", "Question" + text, "", "2025", 0.4, 0.02, None),
    )
    trajectories = (TrajectoryRow("KAZ", "RUS", 0.2, -0.1, 0.5, 0.0, -0.8, 0.9, 0.4),)
    attribution = Attribution(
        previous_run="r0",
        note="Two observations arrived" + text,
        rows=(AttributionRow("trade_share_rus", "Trade" + text, "RUS", 2, -0.05),),
        total_change=(("RUS", -0.06),),
    )
    whatifs = (WhatIfRow("w", "Sanctions" + text, "a", "Balance" + text, 0.31, 0.45),)
    track = (TrackRecordRow("2026Q3", 650, 0, 0, None, None, 15, None),)
    coverage = CoverageFacts(
        data_end="2024",
        report_quarter="2026Q4",
        years_stale=2,
        series=65,
        indicators=13,
        states=("KAZ", "TJK"),
        currency=(CurrencyRow("trade_share_rus", "Trade" + text, "IMF DOTS", 6, ("2023", "2020")),),
        forecast_origin="2024",
    )
    figures = tuple(
        Figure(key, "Figure " + key + text, "Caption" + text, png, "alt " + key + text)
        for key in (
            "scenarios",
            "alignment_fan",
            "whatifs",
            "convergence",
            "forest",
            "ppc",
            "coverage",
        )
    )
    inputs = ReportInputs(
        quarter="2026Q4",
        generated="2026-11-25 00:00 UTC",
        run=run,
        headline=headline,
        probabilities=probabilities,
        trajectories=trajectories,
        attribution=attribution,
        whatifs=whatifs,
        track_record=track,
        coverage=coverage,
        figures=figures,
        ledger_path="forecast.db",
    )
    return replace(inputs, **overrides)  # type: ignore[arg-type]
