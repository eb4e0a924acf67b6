"""Plain words for the report's numbers: what a statistic means and what would change it.

The section builders (:mod:`forecast.report.sections`) call these for the sentences that
explain a number to a reader; they format, they do not compute.
"""

from __future__ import annotations

from forecast.report.contracts import RankFacts
from forecast.rounding import whole_percent

#: how the report reads a question marked "(latent)"
LATENT_GLOSS = (
    "“(latent)” marks a question about the model's estimated alignment rather than a "
    "published statistic: it is resolved against a later fit of the model to the data of "
    "those years."
)


def spread_words(entropy: float) -> str:
    """Say in words how evenly the probability is spread over the outcomes.

    Examples
    --------
    >>> spread_words(0.85)
    'the probability is spread almost as evenly over the outcomes as it could be.'
    """
    if entropy >= 0.8:
        return "the probability is spread almost as evenly over the outcomes as it could be."
    if entropy >= 0.5:
        return "one or two outcomes lead, but the others keep real chances."
    return "one outcome takes most of the probability."


def rank_words(check: RankFacts, *, converged: bool) -> str:
    """Explain the rank plots' test, and any parameter it flags, beside the gates' verdict.

    Examples
    --------
    >>> print(rank_words(RankFacts(7, 143, 12, 0.01, ()), converged=True))
    ... # doctest: +NORMALIZE_WHITESPACE
    The p in each rank panel tests whether the chains sample the same distribution, on
    every 7th draw (143 per chain) so that the draws are about independent: on all draws,
    autocorrelation alone makes the test fail on chains that agree. No panel falls below
    the 1 % level.
    """
    every = "every draw" if check.thin == 1 else f"every {_ordinal(check.thin)} draw"
    text = (
        "The p in each rank panel tests whether the chains sample the same distribution, on "
        f"{every} ({check.draws_kept} per chain) so that the draws are about independent: "
        "on all draws, autocorrelation alone makes the test fail on chains that agree."
    )
    level = f"{100 * check.alpha:g} %"
    if not check.flags:
        return f"{text} No panel falls below the {level} level."
    named = "; ".join(f"{label} (p = {p:.3f})" for label, p in check.flags)
    chance = 1 - (1 - check.alpha) ** check.tested
    text += (
        f" It flags {named}: below the {level} level, the chains' ranks differ more than "
        f"chance makes them. With {check.tested} panels, a report shows such a flag by chance "
        f"alone {whole_percent(chance)} times in 100 even when every chain agrees."
    )
    if converged:
        return text + (
            " R-hat and the effective sample sizes, the gates above, found no problem: the "
            "flag is chance, or a difference between chains too small to move R-hat above "
            "1.01; a longer run (more draws) would tell them apart."
        )
    return text + " It agrees with the gates above, which this run failed."


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"
