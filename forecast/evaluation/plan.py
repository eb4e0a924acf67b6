"""What a backtest runs: its settings, and the plan every origin shares.

A plan fixes the states and yearly indicators every origin fits and scores and each
indicator's scale for aggregating CRPS across units. Each origin's
random streams are derived from the backtest's seed and the origin alone
(:func:`origin_seed`), so an origin's scores do not depend on which other origins run, nor
where.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from forecast.baselines import BASELINES
from forecast.data.codebook import Codebook
from forecast.data.levels import levels_only
from forecast.dims import INDICATOR, PERIOD, STATE
from forecast.errors import ForecastError
from forecast.model.inference import BACKTEST_SAMPLER, FitSettings, SamplerSettings, fit_settings
from forecast.model.spec import AlignmentSpec
from forecast.seeds import stream_seed

#: inference methods a backtest may use (ADVI is too crude to be worth scoring)
BACKTEST_METHODS = ("nuts", "pathfinder")


@dataclass(frozen=True)
class BacktestSettings:
    """Origins, horizons and the (deliberately modest) inference settings of a backtest.

    The fit of origin ``Y`` uses the seed :func:`origin_seed` derives from ``seed`` and
    ``Y``, so an origin's scores do not depend on which other origins run, nor where.
    """

    origins: tuple[int, ...]
    horizons: tuple[int, ...]
    method: str = BACKTEST_SAMPLER.method
    draws: int = BACKTEST_SAMPLER.draws
    tune: int = BACKTEST_SAMPLER.tune
    chains: int = BACKTEST_SAMPLER.chains
    seed: int = 1
    target_accept: float = BACKTEST_SAMPLER.target_accept
    adaptation: str = BACKTEST_SAMPLER.adaptation
    baselines: tuple[str, ...] = BASELINES
    #: drift dampings scored beside the spec's own, on the same fits (projection variants)
    drift_dampings: tuple[float, ...] = ()

    def __post_init__(self) -> None:
        if not self.origins or not self.horizons:
            raise ForecastError("a backtest needs at least one origin and one horizon")
        if min(self.horizons) < 0:
            raise ForecastError("horizons must be at least 0 (the origin's own year)")
        if self.method not in BACKTEST_METHODS:
            raise ForecastError(
                f"backtest method must be one of {', '.join(BACKTEST_METHODS)}, got {self.method!r}"
            )
        if min(self.draws, self.chains) < 1 or self.tune < 0 or self.seed < 0:
            raise ForecastError("draws and chains must be positive, tune and seed non-negative")
        if any(not 0 <= d <= 1 for d in self.drift_dampings):
            raise ForecastError("drift dampings must be in [0, 1]")
        unknown = set(self.baselines) - set(BASELINES)
        if unknown:
            raise ForecastError(f"unknown baselines: {', '.join(sorted(unknown))}")

    @property
    def approximate(self) -> bool:
        """True when the model's draws come from Pathfinder."""
        return self.method == "pathfinder"

    @property
    def label(self) -> str:
        """How the model was fitted, for every table that shows its scores."""
        if self.approximate:
            return (
                f"pathfinder (APPROXIMATE), {self.chains} paths, {self.draws * self.chains} draws"
            )
        return (
            f"nuts, {self.chains} chains x {self.draws} draws ({self.tune} tuning, "
            f"target acceptance {self.target_accept:g})"
        )

    def fit_settings(self, origin: int, cores: int | None = None) -> FitSettings:
        """Fit settings of one origin, with its own seed.

        ``cores`` caps the threads that run the chains (``None``: one per chain, up to the
        machine's cores); nutpie seeds each chain on its own, so the draws do not depend on it.
        """
        sampler = SamplerSettings(
            method=self.method,
            draws=self.draws,
            tune=self.tune,
            chains=self.chains,
            target_accept=self.target_accept,
            adaptation=self.adaptation,
        )
        return fit_settings(sampler, seed=origin_seed(self.seed, origin), cores=cores)


def origin_seed(seed: int, origin: int, stream: int = 0) -> int:
    """Seed of one origin's random stream, derived from the backtest's seed.

    Streams: 0 the fit (whose seed the projection uses too, as for a stored run), 2 onwards
    the baselines in order.

    Examples
    --------
    >>> origin_seed(1, 2012) == origin_seed(1, 2012), origin_seed(1, 2012) == origin_seed(1, 2013)
    (True, False)
    """
    return stream_seed(seed, "origin", origin, stream)


@dataclass(frozen=True, eq=False)
class BacktestPlan:
    """Everything a backtest origin needs: the full panel, the model, what to score.

    Build it with :func:`make_plan`. ``scales`` holds each indicator's mean absolute
    year-on-year change (over every state of the full panel), the unit in which CRPS is
    aggregated across indicators (see :mod:`forecast.evaluation.skill`).
    """

    panel: pd.DataFrame
    spec: AlignmentSpec
    codebook: Codebook
    states: tuple[str, ...]
    indicators: tuple[str, ...]
    settings: BacktestSettings
    scales: dict[str, float] = field(default_factory=dict)


def indicator_scales(panel: pd.DataFrame, indicators: tuple[str, ...]) -> dict[str, float]:
    """Mean absolute change between consecutive years of each indicator, over all states.

    Examples
    --------
    >>> panel = pd.DataFrame({"state": "KAZ", "indicator": "x", "period": ["2001", "2002", "2004"],
    ...                       "value": [1.0, 3.0, 2.0]})
    >>> indicator_scales(panel, ("x",))
    {'x': 2.0}
    """
    out = {}
    for key in indicators:
        rows = panel[panel[INDICATOR] == key]
        changes = []
        for _, series in rows.groupby(STATE):
            ordered = series.assign(_year=series[PERIOD].astype(int)).sort_values("_year")
            years = ordered["_year"].to_numpy()
            values = ordered["value"].to_numpy(dtype=float)
            consecutive = np.diff(years) == 1
            changes.append(np.abs(np.diff(values))[consecutive])
        pooled = np.concatenate(changes) if changes else np.zeros(0)
        scale = float(pooled.mean()) if pooled.size else np.nan
        # a constant indicator would make every scaled score infinite; weight it as 1
        out[key] = scale if np.isfinite(scale) and scale > 0 else 1.0
    return out


def make_plan(
    panel: pd.DataFrame,
    spec: AlignmentSpec,
    codebook: Codebook,
    settings: BacktestSettings,
) -> BacktestPlan:
    """Fix the states and yearly indicators every origin shares.

    Only yearly indicators are scored (an origin is a year end and horizons count years).
    Each origin's latent path runs from the first to the last period with data public at
    the origin.
    """
    used = panel[panel[INDICATOR].isin(spec.indicators)]
    if used.empty:
        raise ForecastError("the panel holds no indicator the model uses")
    states = tuple(sorted(used[STATE].unique()))
    present = set(used[INDICATOR])
    indicators = tuple(k for k in spec.indicators if k in present and codebook[k].frequency == "Y")
    return BacktestPlan(
        panel=panel,
        spec=spec,
        codebook=codebook,
        states=states,
        indicators=indicators,
        settings=settings,
        scales=indicator_scales(levels_only(used), indicators),
    )
