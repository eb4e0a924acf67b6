"""The report's headline: trend certainty against outcome uncertainty, in words and numbers.

Also the banners that qualify the whole report (convergence, approximation, stale data) and
the sentence saying how current the data are, which the data section repeats.
"""

from __future__ import annotations

from forecast.report.blocks import Banner, Block, Paragraph, Section
from forecast.report.contracts import CoverageFacts, ReportInputs
from forecast.report.wording import LATENT_GLOSS, spread_words
from forecast.rounding import percent, two_mcse_points, whole_percent


def likelihood_words(p: float) -> str:
    """Return plain words for a probability (the reader sees the number beside them).

    Examples
    --------
    >>> likelihood_words(0.95), likelihood_words(0.5), likelihood_words(0.05)
    ('almost certain', 'about as likely as not', 'very unlikely')
    """
    for bound, words in (
        (0.9, "almost certain"),
        (0.75, "likely"),
        (0.6, "more likely than not"),
        (0.4, "about as likely as not"),
        (0.25, "less likely than not"),
        (0.1, "unlikely"),
    ):
        if p >= bound:
            return words
    return "very unlikely"


def openness_words(entropy: float) -> str:
    """Return plain words for a normalised entropy.

    Examples
    --------
    >>> openness_words(0.9), openness_words(0.3)
    ('wide open', 'fairly settled')
    """
    if entropy >= 0.8:
        return "wide open"
    if entropy >= 0.5:
        return "uncertain"
    return "fairly settled"


def status_banners(inputs: ReportInputs) -> list[Banner]:
    """Return the banners that qualify the whole report (convergence, approximation, age)."""
    run = inputs.run
    banners = []
    if not run.converged:
        reasons = "; ".join(run.failures) or "the convergence gates were not checked"
        banners.append(
            Banner(
                "warning",
                f"NOT CONVERGED: run {run.run_id} did not pass the convergence gates ({reasons}). "
                "Its numbers are shown for inspection and must not be relied on.",
            )
        )
    if run.approximate:
        banners.append(
            Banner(
                "warning",
                f"APPROXIMATE: run {run.run_id} used {run.method}, an approximation of the "
                "posterior; probabilities may be over-confident.",
            )
        )
    cov = inputs.coverage
    if cov.years_stale > 0:
        banners.append(Banner("info", currency_sentence(cov)))
    return banners


def currency_sentence(cov: CoverageFacts) -> str:
    """One sentence on how current the data are, with nowcast and forecast years named."""
    origin = cov.forecast_origin or cov.data_end
    now = cov.nowcast_years
    nowcast = (
        f"{now[0]}–{now[-1]} are nowcasts (years under way or past, without data yet)"
        if len(now) > 1
        else (f"{now[0]} is a nowcast (a year without data yet)" if now else "")
    )
    parts = [
        f"The newest data are for {cov.data_end}; the model's last period (its forecast origin) "
        f"is {origin}.",
        f"{nowcast}; later years are forecasts." if nowcast else "Later years are forecasts.",
    ]
    return " ".join(parts)


def _beyond_the_data(damping: float) -> str:
    """Say what the projection assumes past the last data, by its drift damping.

    Examples
    --------
    >>> _beyond_the_data(0.0)[:40]
    'Beyond the last data the model carries n'
    """
    if damping == 0:
        return (
            "Beyond the last data the model carries no trend forward (in the backtest, trends "
            "extrapolated from past years forecast worse than no change), and the question "
            "starts at the last year with data: a path without drift is as likely to end below "
            "as above, so about 50% is what the evidence supports, not a finding of balance. "
            "The scenarios below differ in how far the poles move, not in a direction the data "
            "foresee."
        )
    if damping < 1:
        return (
            f"Beyond the last data the drift estimated from the years observed fades (its weight "
            f"is {damping:g} to the power of the years ahead)."
        )
    return "Beyond the last data it rests on the drift estimated from the years observed."


def headline_section(inputs: ReportInputs) -> Section:
    """Build the headline: trend certainty against outcome uncertainty, in words and numbers."""
    h = inputs.headline
    trend = (
        f"Trend: is the region's alignment with Russia lower in {h.horizon} than in "
        f"{h.last_observed}? {likelihood_words(h.trend_probability).capitalize()}: "
        f"probability {percent(h.trend_probability)} ({two_mcse_points(h.trend_mcse)})."
    )
    trend_gloss = (
        f"In plain words: in {whole_percent(h.trend_probability)} of every 100 futures the model "
        f"simulates, the five states' average alignment with Russia ends lower in {h.horizon} "
        f"than in {h.last_observed}. {_beyond_the_data(h.drift_damping)} Data for later years "
        "showing Russia's trade shares, UN ideal-point distance, arms supplies or remittances "
        "moving against Russia would raise it, and their holding up would lower it."
    )
    openness = openness_words(h.outcome_entropy).capitalize()
    outcome = (
        f"Outcome: where will the region stand in {h.horizon}? {openness}: outcome "
        f"uncertainty {h.outcome_entropy:.2f} over '{h.partition_title}' (normalised entropy: "
        "0 = one outcome certain, 1 = all equally likely); the most likely outcome, "
        f"'{h.leading_scenario}', has probability {percent(h.leading_probability)}."
    )
    outcome_gloss = (
        f"In plain words: {spread_words(h.outcome_entropy)} The number would fall if new data "
        "made one outcome clearly more likely than the others, and rise if they evened out the "
        "chances; the trend can be clear while the outcome stays open, because the outcomes "
        "differ in how far the other poles gain, not only in whether Russia slips."
    )
    clear = h.trend_probability >= 0.75 or h.trend_probability <= 0.25
    verdict = (
        f"The direction of travel is {'clear' if clear else 'not clear'}; the destination is "
        f"{openness_words(h.outcome_entropy)}."
    )
    blocks: list[Block] = [
        *status_banners(inputs),
        Paragraph(verdict),
        Paragraph(trend),
        Paragraph(trend_gloss),
        Paragraph(outcome),
        Paragraph(outcome_gloss),
    ]
    if h.trend_questions:
        blocks.append(
            Paragraph(
                "Relative trends (questions on the latent alignment): "
                + "; ".join(f"{title}: probability {percent(p)}" for title, p in h.trend_questions)
                + "."
            )
        )
        blocks.append(
            Paragraph(
                "In plain words: how the poles move against each other, which the model "
                f"determines better than each pole's own direction. {LATENT_GLOSS}"
            )
        )
    return Section("headline", f"Headline, {inputs.quarter}", tuple(blocks))
