"""Frozen contracts between the results and the report's section builders.

Everything a section shows is here, already computed: sections format, they do not compute
statistics, and they never see a model.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Figure:
    """A rendered figure: PNG bytes embedded in the HTML, and a file name for the Markdown twin.

    ``min_text_px`` is the height of the figure's smallest text in the PNG's own pixels (its
    font size in points x dpi / 72): a browser showing the PNG at a fraction of its width
    shows that text at the same fraction of this size.
    """

    key: str
    title: str
    caption: str
    png: bytes
    alt: str
    min_text_px: float = 0.0


@dataclass(frozen=True)
class RunFacts:
    """Provenance and diagnostics of the run behind the report."""

    run_id: str
    created: str
    method: str
    approximate: bool
    converged: bool
    chains: int
    draws: int
    seed: int
    max_rhat: float
    min_ess_bulk: float
    min_ess_tail: float
    divergences: int
    failures: tuple[str, ...]
    data_sha256: str
    spec_sha256: str
    packages: tuple[tuple[str, str], ...]
    #: the spec's options the methods section states (``[model]`` and ``[projection]``)
    carry: str
    persistence_by: str
    drift_damping: float
    #: the deviations' Student-t degrees of freedom (inf: Normal)
    deviation_df: float = math.inf
    #: the log-link kinds' own scaling of their deviations ("same": as every other's)
    log_link_deviation: str = "same"


@dataclass(frozen=True)
class HeadlineFacts:
    """Trend certainty against outcome uncertainty."""

    trend_probability: float
    trend_mcse: float
    outcome_entropy: float
    horizon: str
    last_observed: str
    partition_title: str
    leading_scenario: str
    leading_probability: float
    #: questions on the latent trend (title, probability): the relative side of the trend
    trend_questions: tuple[tuple[str, float], ...] = ()
    #: the projection's drift damping: 0 carries no fitted trend past the last data
    drift_damping: float = 1.0

    def line(self) -> str:
        """Return the headline pair on one line (the CLI prints it)."""
        return (
            f"trend certainty {self.trend_probability:.2f} (P(alignment with Russia lower in "
            f"{self.horizon} than in {self.last_observed})) against outcome uncertainty "
            f"{self.outcome_entropy:.2f} (normalised entropy); most likely: "
            f"{self.leading_scenario} ({self.leading_probability:.2f})"
        )


@dataclass(frozen=True)
class ProbabilityRow:
    """A scenario or question with its probability now and at the previous issue."""

    kind: str
    group: str
    id: str
    title: str
    narrative: str
    at: str
    probability: float
    mcse: float
    previous: float | None


@dataclass(frozen=True)
class TrajectoryRow:
    """A state's alignment toward a pole: median and 90 % interval, then and at the horizon."""

    state: str
    pole: str
    last_median: float
    last_low: float
    last_high: float
    horizon_median: float
    horizon_low: float
    horizon_high: float
    probability_up: float


@dataclass(frozen=True)
class AttributionRow:
    """How much of the change in a pole's region-wide alignment one indicator's news explains."""

    indicator: str
    title: str
    pole: str
    news: int
    contribution: float


@dataclass(frozen=True)
class Attribution:
    """What moved the estimates since the previous issue (or why nothing can be said)."""

    previous_run: str | None
    note: str
    rows: tuple[AttributionRow, ...] = ()
    total_change: tuple[tuple[str, float], ...] = ()


@dataclass(frozen=True)
class WhatIfRow:
    """One target's probability under a what-if beside the baseline."""

    whatif: str
    whatif_title: str
    target: str
    target_title: str
    baseline: float
    probability: float


@dataclass(frozen=True)
class TrackRecordRow:
    """The ledger's record for one issued quarter."""

    quarter: str
    issued: int
    resolved: int
    scored: int
    coverage_50: float | None
    coverage_90: float | None
    questions: int
    brier: float | None


@dataclass(frozen=True)
class BacktestRow:
    """How the issued kind of forecast fared at one horizon of the pseudo-real-time backtest."""

    horizon: int
    cells: int
    skill_persistence: float
    skill_local_level: float
    covered_50: float | None
    covered_90: float | None


@dataclass(frozen=True)
class BacktestFacts:
    """The backtest behind the issued forecast (from ``models/stacking.toml``).

    ``forecast`` is the kind issued (``stacked`` or ``model``); ``origins`` and ``fits`` say
    what was refitted, ``created`` when.
    """

    forecast: str
    rows: tuple[BacktestRow, ...]
    origins: str
    fits: str
    created: str
    #: PIT histogram of every scored value (equal-width bins, lowest first); empty if none
    pit: tuple[int, ...] = ()


@dataclass(frozen=True)
class CurrencyRow:
    """How current one indicator the model uses is: its last observed period in each state."""

    indicator: str
    title: str
    source: str
    lag_months: int
    last: tuple[str, ...]


@dataclass(frozen=True)
class CoverageFacts:
    """What the data cover and how current they are.

    ``forecast_origin`` is the model's last period (the last year with any data); periods
    after it up to the report's year are nowcasts, later ones forecasts.
    """

    data_end: str
    report_quarter: str
    years_stale: int
    series: int
    indicators: int
    states: tuple[str, ...] = ()
    currency: tuple[CurrencyRow, ...] = ()
    forecast_origin: str = ""

    @property
    def nowcast_years(self) -> tuple[str, ...]:
        """Years after the forecast origin up to the report's year."""
        if not self.forecast_origin:
            return ()
        first, last = int(self.forecast_origin[:4]) + 1, int(self.report_quarter[:4])
        return tuple(str(y) for y in range(first, last + 1))


@dataclass(frozen=True)
class RankFacts:
    """The rank test behind the convergence figure, on draws thinned to about independence.

    ``flags`` are the parameters (in plain words) whose chains the test says disagree, with
    their p-values.
    """

    thin: int
    draws_kept: int
    tested: int
    alpha: float
    flags: tuple[tuple[str, float], ...] = ()


@dataclass(frozen=True)
class ReportInputs:
    """Everything the report shows."""

    quarter: str
    generated: str
    run: RunFacts
    headline: HeadlineFacts
    probabilities: tuple[ProbabilityRow, ...]
    trajectories: tuple[TrajectoryRow, ...]
    attribution: Attribution
    whatifs: tuple[WhatIfRow, ...]
    track_record: tuple[TrackRecordRow, ...]
    coverage: CoverageFacts
    figures: tuple[Figure, ...] = field(default_factory=tuple)
    ledger_path: str | None = None
    rank_check: RankFacts | None = None
    backtest: BacktestFacts | None = None

    def figure(self, key: str) -> Figure | None:
        """Return the figure with ``key``, if rendered."""
        return next((f for f in self.figures if f.key == key), None)
