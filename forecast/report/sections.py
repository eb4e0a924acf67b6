"""Pure section builders: :class:`~forecast.report.contracts.ReportInputs` in, sections out.

Every sentence that states a number is written from the contracts, so the report cannot
disagree with the results it summarises.
"""

from __future__ import annotations

import math

from forecast.dims import POLE_NAMES, STATE_NAMES
from forecast.model.spec import FILTERED_CARRIES
from forecast.report.backtest import backtest_section
from forecast.report.blocks import (
    Block,
    Bullets,
    Equations,
    FigureRef,
    Paragraph,
    Section,
    Table,
)
from forecast.report.contracts import ProbabilityRow, ReportInputs, RunFacts
from forecast.report.headline import currency_sentence, headline_section, status_banners
from forecast.report.wording import LATENT_GLOSS, rank_words
from forecast.rounding import (
    PLUS_MINUS_MEANS,
    percent,
    points_change,
    two_mcse_points,
)


def _pct(p: float | None) -> str:
    return "–" if p is None else percent(p)


def _change(now: float, before: float | None) -> str:
    # the difference of the percentages shown beside it, so that the row adds up
    return "new" if before is None else points_change(before, now)


def _probability_rows(rows: list[ProbabilityRow]) -> tuple[tuple[str, ...], ...]:
    return tuple(
        (
            r.title,
            f"{percent(r.probability)} {two_mcse_points(r.mcse)}",
            _pct(r.previous),
            _change(r.probability, r.previous),
        )
        for r in rows
    )


def scenarios_section(inputs: ReportInputs) -> Section:
    """Build scenario probabilities with changes since the previous issue, and the questions."""
    scenarios = [r for r in inputs.probabilities if r.kind == "scenario"]
    questions = [r for r in inputs.probabilities if r.kind == "question"]
    columns = ("", "probability (± 2 MC s.e.)", "previous issue", "change")
    numeric = (False, True, True, True)
    blocks: list[Block] = []
    for group in dict.fromkeys(r.group for r in scenarios):
        rows = [r for r in scenarios if r.group == group]
        blocks.append(Table(group, columns, _probability_rows(rows), numeric))
        blocks.append(Bullets(tuple(f"{r.title}: {r.narrative}" for r in rows if r.narrative)))
    blocks.append(FigureRef("scenarios"))
    if questions:
        blocks.append(
            Table(
                "Resolvable questions (scored against the data when they arrive)",
                columns,
                _probability_rows(questions),
                numeric,
            )
        )
    blocks.append(
        Paragraph(
            "Probabilities are shares of the posterior's simulated futures, most likely "
            f"outcome first; {PLUS_MINUS_MEANS}. Changes are in percentage points, the "
            "difference of the percentages shown."
            + (f" {LATENT_GLOSS}" if any("(latent)" in r.title for r in questions) else "")
        )
    )
    if all(r.previous is None for r in inputs.probabilities):
        blocks.append(
            Paragraph(
                "No earlier issue is recorded in the ledger, so there are no changes to show."
            )
        )
    return Section("scenarios", "Scenarios and questions", tuple(blocks))


def trajectories_section(inputs: ReportInputs) -> Section:
    """Build each state's alignment toward each pole: last fitted period and horizon."""
    h = inputs.headline
    rows = tuple(
        (
            STATE_NAMES.get(t.state, t.state),
            POLE_NAMES.get(t.pole, t.pole),
            f"{t.last_median:+.2f} [{t.last_low:+.2f}, {t.last_high:+.2f}]",
            f"{t.horizon_median:+.2f} [{t.horizon_low:+.2f}, {t.horizon_high:+.2f}]",
            percent(t.probability_up),
        )
        for t in inputs.trajectories
    )
    return Section(
        "trajectories",
        "State trajectories",
        (
            Paragraph(
                "Alignment is not observed directly: the model estimates it from the indicators "
                "(it is latent). Each pole has its own scale: 0 is the five states' average in "
                "the first year, and one unit is about one standard deviation of the pole's "
                "reference trade share on the logit scale, so +0.5 is a large move, half the "
                "typical spread of that trade share. Compare a state with itself over time, or "
                "states toward the same pole, not levels toward different poles. Bands and "
                "brackets are 50 % and 90 % intervals around the posterior median."
            ),
            FigureRef("alignment_fan"),
            Table(
                f"Alignment in {h.last_observed} and {h.horizon} (posterior median [90 % "
                f"interval]); last column: probability that it is higher in {h.horizon} than in "
                f"{h.last_observed}",
                ("state", "toward", h.last_observed, h.horizon, f"P(higher in {h.horizon})"),
                rows,
                (False, False, True, True, True),
            ),
        ),
    )


def attribution_section(inputs: ReportInputs) -> Section:
    """Build the section on what moved the estimates since the previous issue."""
    att = inputs.attribution
    blocks: list[Block] = [Paragraph(att.note)]
    if att.rows:
        blocks.append(
            Table(
                f"Change since run {att.previous_run}, by indicator (news decomposition)",
                ("indicator", "pole", "new or revised values", "contribution"),
                tuple(
                    (r.title, POLE_NAMES.get(r.pole, r.pole), str(r.news), f"{r.contribution:+.3f}")
                    for r in att.rows
                ),
                (False, False, True, True),
            )
        )
    blocks.append(
        Paragraph(
            "Method: the revision of each pole's region-wide latent mean between two issues is "
            "split by indicator as in nowcasting news decompositions: every new or revised "
            "observation contributes its news (observed minus the previous issue's predictive "
            "mean) times its one-at-a-time gain, the previous issue's posterior covariance between "
            "the latent and that observation over its predictive variance; what the sum does not "
            "explain (re-estimated parameters, interactions) is reported as a residual."
        )
    )
    return Section("attribution", "What moved the estimates", tuple(blocks))


def whatif_section(inputs: ReportInputs) -> Section:
    """Build scenario and question probabilities under each what-if beside the baseline."""
    if not inputs.whatifs:
        return Section("whatifs", "What-ifs", (Paragraph("No what-ifs were specified."),))
    rows = tuple(
        (
            w.whatif_title,
            w.target_title,
            _pct(w.baseline),
            _pct(w.probability),
            points_change(w.baseline, w.probability),
        )
        for w in inputs.whatifs
    )
    return Section(
        "whatifs",
        "What-ifs",
        (
            Paragraph(
                "Each what-if shifts the latent paths (a shock from a given year, or a changed "
                "drift) and re-propagates the same posterior draws with the same random numbers, "
                "so differences are due to the what-if alone. Outcomes are listed from the most "
                "likely in the baseline down; changes are in percentage points, the difference "
                "of the percentages shown."
            ),
            FigureRef("whatifs"),
            Table(
                "Probabilities under each what-if",
                ("what-if", "outcome", "baseline", "what-if", "change"),
                rows,
                (False, False, True, True, True),
            ),
        ),
    )


def track_record_section(inputs: ReportInputs) -> Section:
    """Build the ledger's track record by issued quarter."""
    if not inputs.track_record:
        return Section(
            "track_record",
            "Track record",
            (Paragraph("The ledger holds no issued forecasts yet."),),
        )
    rows = tuple(
        (
            t.quarter,
            str(t.issued),
            str(t.resolved),
            str(t.scored),
            _pct(t.coverage_50),
            _pct(t.coverage_90),
            str(t.questions),
            "–" if t.brier is None else f"{t.brier:.3f}",
        )
        for t in inputs.track_record
    )
    unresolved = all(t.resolved == 0 for t in inputs.track_record)
    blocks: list[Block] = [
        Table(
            f"Issued forecasts by quarter (ledger {inputs.ledger_path})",
            (
                "quarter",
                "indicator forecasts",
                "resolved",
                "scored",
                "50 % coverage",
                "90 % coverage",
                "questions",
                "Brier",
            ),
            rows,
            (False, True, True, True, True, True, True, True),
        )
    ]
    if unresolved:
        blocks.append(
            Paragraph(
                f"No forecast has been resolved yet: the data end in {inputs.coverage.data_end} "
                "and the forecasts concern later years. They will be scored as new data arrive."
            )
        )
    return Section("track_record", "Track record", tuple(blocks))


def diagnostics_section(inputs: ReportInputs) -> Section:
    """Build sampler diagnostics and the convergence gates."""
    run = inputs.run
    verdict = (
        "passed the convergence gates (R-hat ≤ 1.01, bulk ESS ≥ 400, no divergences)"
        if run.converged
        else "did NOT pass the convergence gates: " + "; ".join(run.failures)
    )
    facts = (
        ("run", run.run_id),
        ("created", run.created),
        ("method", run.method + (" (approximate)" if run.approximate else "")),
        ("chains × draws", f"{run.chains} × {run.draws}"),
        ("seed", str(run.seed)),
        ("max R-hat", f"{run.max_rhat:.4f}"),
        ("min bulk / tail ESS", f"{run.min_ess_bulk:.0f} / {run.min_ess_tail:.0f}"),
        ("divergences", str(run.divergences)),
        ("panel sha256", run.data_sha256[:16] + "…"),
        ("spec sha256", run.spec_sha256[:16] + "…"),
    )
    blocks: list[Block] = [
        *(b for b in status_banners(inputs) if b.level == "warning"),
        Paragraph(f"The run {verdict}."),
        Table("Run", ("", ""), facts, (False, False)),
        FigureRef("convergence"),
    ]
    if inputs.rank_check is not None:
        blocks.append(Paragraph(rank_words(inputs.rank_check, converged=run.converged)))
    blocks += [FigureRef("forest"), FigureRef("ppc")]
    return Section("diagnostics", "Diagnostics", tuple(blocks))


def data_section(inputs: ReportInputs) -> Section:
    """Build how current the data are, coverage, and where they come from."""
    cov = inputs.coverage
    header = ("indicator", "source", "lag (months)", *cov.states)
    rows = tuple((row.title, row.source, str(row.lag_months), *row.last) for row in cov.currency)
    return Section(
        "data",
        "Data currency and coverage",
        (
            Paragraph(currency_sentence(cov)),
            Paragraph(
                "Each indicator ends where its source ends: the table gives the last period "
                "observed in each state (– for none) and the source's publication lag, the "
                "months after a period's end until its value is public. A UN year resting on "
                "fewer than 10 roll calls is not counted as observed."
            ),
            Table(
                "Data currency: last observed period by indicator and state",
                header,
                rows,
                (False, False, True, *(True for _ in cov.states)),
            ),
            FigureRef("coverage"),
            Paragraph(
                f"{cov.series} state-indicator series of {cov.indicators} indicators. Origins, "
                "licences and caveats of every source are in data/SOURCES.md; the command "
                "forecast data build --raw ../shared/data rebuilds the panel byte for byte."
            ),
        ),
    )


def _projection_words(damping: float) -> str:
    """How the run's forecasts carry the fitted drift, in words."""
    if damping == 0:
        return (
            "forecasts propagate posterior draws of the dynamics without the drift (a random "
            "walk from the last fitted level, the backtest's choice)"
        )
    if damping == 1:
        return "forecasts propagate posterior draws of the dynamics, drift included"
    return (
        "forecasts propagate posterior draws of the dynamics, the drift's weight in the h-th "
        f"future year {damping:g}^h"
    )


def _deviation_lines(run: RunFacts) -> tuple[str, ...]:
    """Return the AR(1) deviations' equations under the run's carry and persistence options."""
    rho = "ρ[f(i)], one per indicator family" if run.persistence_by == "family" else "ρ[i]"
    if math.isinf(run.deviation_df):
        lines = [f"    u AR(1): persistence {rho}, sd ν[i]"]
    else:
        lines = [
            f"    u AR(1): persistence {rho}, scale ν[i],",
            f"    Student-t innovations with {run.deviation_df:g} degrees of freedom",
            "    (Normal for positive amounts, as exp of a t has no mean, and for",
            "    values published with a standard error, whose Normal error it adds to)",
        ]
    if run.log_link_deviation == "innovation":
        lines.append("    positive amounts: ν[i] the innovation sd (ρ = 1 a random walk),")
        lines.append("    the first value's variance ν²/(1 − ρ²), capped")
    if run.carry == "kalman":
        lines.append("    u[t−1] carried as its expectation given y[t−1], y[t−2], … and their")
        lines.append("    standard errors se (a Kalman filter; r[t−1] itself where no se)")
    elif run.carry in FILTERED_CARRIES:
        lines.append("    u[t−1] carried as its expectation given y[t−1]'s standard error se:")
        lines.append("    k·r[t−1], k = ν² / (ν² + se²), r the residual")
    if run.carry == "filtered":
        lines.append("    (a fresh start after a value at its bound)")
    return tuple(lines)


def methods_section(inputs: ReportInputs) -> Section:
    """Build the methods section: the model's equations and the inference."""
    run = inputs.run
    return Section(
        "methods",
        "Methods",
        (
            Paragraph(
                "A Bayesian dynamic measurement model: each state's latent alignment toward "
                "Russia, China and the West follows a random walk with drift; indicators observe "
                "it with noise. Fitted with NUTS (nutpie) in PyMC; "
                f"{_projection_words(run.drift_damping)}, and add observation noise."
            ),
            Equations(
                (
                    "θ[s,k,t] = θ[s,k,t−1] + δ[s,k] + σ[s,k]·(L·z[s,t])[k],   z ~ N(0, I)",
                    "δ[s,k] ~ N(μδ[k], τδ[k]),   log σ[s,k] ~ N(μσ[k], τσ[k]),   L L' ~ LKJ(2)",
                    "Σ_s θ[s,k,first] = 0  (location);  λ[ref(k)] = 1  (scale);  λ > 0  (sign)",
                    "η[i,s,t] = α[i,s] + sign[i]·λ[i]·mean of θ[s,k(i),·] over period t",
                    "α[i,s] = a[i,s] − sign[i]·λ[i]·θ̄[i,s],   a[i,s] ~ N(μa[i], τa[i])",
                    "    θ̄[i,s]: mean of θ over the series' observed periods",
                    "shares, positive, continuous:  y* = (link(y) − c[i]) / d[i] = η + u",
                    *_deviation_lines(run),
                    "UN votes:  agreements ~ BetaBinomial(n, logistic(η)·κ[i], logistic(−η)·κ[i])",
                    "binary:  y ~ Bernoulli(logistic(η))",
                )
            ),
            Paragraph(
                "link is the logit for shares (clipped to [0.01, 0.99]), log(y + offset) for "
                "positive amounts, the identity otherwise; c and d standardise each indicator. "
                "Priors are weakly informative on the standardised scale (models/alignment.toml). "
                "A run counts as converged when every parameter has R-hat ≤ 1.01 and bulk ESS ≥ "
                "400 and no transition diverged. Estimates are posterior medians with equal-tailed "
                "intervals. Scenario probabilities are shares of posterior draws; "
                f"{PLUS_MINUS_MEANS}, from the draws' effective sample size."
            ),
        ),
    )


def build_sections(inputs: ReportInputs) -> tuple[Section, ...]:
    """Build all sections, in reading order."""
    return (
        headline_section(inputs),
        scenarios_section(inputs),
        trajectories_section(inputs),
        attribution_section(inputs),
        whatif_section(inputs),
        track_record_section(inputs),
        backtest_section(inputs),
        diagnostics_section(inputs),
        data_section(inputs),
        methods_section(inputs),
    )
