"""The headline pair: trend certainty against outcome uncertainty.

*Trend certainty* is the probability that the region's alignment with Russia is lower at the
horizon than at the last observed (fitted) period, where "region-wide" means the mean over
the forecast's states of the latent ``alignment["RUS"]``:

    mean(alignment["RUS", horizon]) < mean(alignment["RUS", last_fitted])

with the horizon the headline partition's ``at`` (the first partition of the spec). The rule
is evaluated by the rule language itself, so it means exactly what it says.

*Outcome uncertainty* is the normalised entropy of the headline partition: 0 when one named
outcome is certain, 1 when all are equally likely. The seed thesis is that the first is high
while the second is high too; the pair measures it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import numpy as np
import xarray as xr

from forecast.dims import CHAIN, DRAW
from forecast.errors import SpecError
from forecast.periods import parse_period
from forecast.scenarios.evaluate import ForecastDraws, evaluate
from forecast.scenarios.events import event_summary
from forecast.scenarios.rules import parse_condition
from forecast.scenarios.spec import Partition

#: the pole whose decline the trend measures
TREND_POLE: Final = "RUS"


@dataclass(frozen=True)
class Headline:
    """Trend certainty (with its Monte Carlo error) and outcome uncertainty."""

    trend_probability: float
    trend_mcse: float
    outcome_entropy: float
    partition: str
    horizon: str
    last_observed: str
    trend_rule: str

    def line(self) -> str:
        """Return the one-line human summary.

        Examples
        --------
        >>> Headline(0.93, 0.01, 0.81, "p", "2030", "2020", "r").line()
        'Trend certainty 0.93 vs outcome uncertainty 0.81 (normalised entropy)'
        """
        return (
            f"Trend certainty {self.trend_probability:.2f} vs outcome uncertainty "
            f"{self.outcome_entropy:.2f} (normalised entropy)"
        )

    def to_json(self) -> dict[str, float]:
        """Return the ``headline`` object of the JSON output: the pair, and nothing else.

        Examples
        --------
        >>> Headline(0.93, 0.01, 0.81, "p", "2030", "2020", "r").to_json()
        {'trend_probability': 0.93, 'outcome_entropy': 0.81}
        """
        return {
            "trend_probability": self.trend_probability,
            "outcome_entropy": self.outcome_entropy,
        }


def trend_rule(horizon: str, last_observed: str) -> str:
    """Return the trend's rule text.

    Examples
    --------
    >>> trend_rule("2030", "2020")
    'mean(alignment["RUS", "2030"]) < mean(alignment["RUS", "2020"])'
    """
    return (
        f'mean(alignment["{TREND_POLE}", "{horizon}"]) '
        f'< mean(alignment["{TREND_POLE}", "{last_observed}"])'
    )


def headline(
    draws: ForecastDraws,
    partition: Partition,
    *,
    last_fitted: str,
    entropy: float,
    path: str,
) -> Headline:
    """Compute the headline pair for ``partition`` (the spec's first).

    Parameters
    ----------
    draws
        The forecast's draws.
    partition
        The headline partition: its ``at`` is the horizon.
    last_fitted
        The forecast's last fitted period (``attrs["last_fitted"]``).
    entropy
        The partition's normalised entropy.
    path
        The spec file, for error messages.

    Raises
    ------
    SpecError
        When the horizon is not after the last fitted period.
    """
    if last_fitted not in draws.periods:
        raise SpecError(
            path,
            f"the forecast's last fitted period {last_fitted!r} is not among its periods",
            key=f"{partition.key}.at",
        )
    if parse_period(partition.at).end_time <= parse_period(last_fitted).end_time:
        raise SpecError(
            path,
            f"the headline partition's horizon {partition.at} must be after the last "
            f"fitted period {last_fitted}",
            key=f"{partition.key}.at",
        )
    text = trend_rule(partition.at, last_fitted)
    event = evaluate(parse_condition(text), partition.at, draws).astype(bool)
    summary = event_summary(xr.DataArray(event.reshape(draws.shape), dims=(CHAIN, DRAW)))
    return Headline(
        trend_probability=float(summary["probability"]),
        trend_mcse=float(summary["mcse"]),
        outcome_entropy=float(np.clip(entropy, 0.0, 1.0)),
        partition=partition.id,
        horizon=partition.at,
        last_observed=last_fitted,
        trend_rule=text,
    )
