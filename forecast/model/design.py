"""From a panel and a spec to the arrays the PyMC graph needs (pure NumPy/pandas, no PyMC).

Observations are grouped by likelihood family (Gaussian on a standardised link scale,
binomial, binary). Each observation names its state, indicator and the model steps its period
covers, so a yearly value in a quarterly model observes the mean of four latent quarters.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from forecast.data.codebook import Codebook, Indicator
from forecast.dims import POLES
from forecast.errors import DataError
from forecast.model.spec import AlignmentSpec
from forecast.model.transforms import (
    GAUSSIAN_KINDS,
    link_slope,
    standardisation,
    to_link,
)
from forecast.periods import PANDAS_FREQ, format_period, parse_period, steps_covered

FAMILIES = ("gaussian", "binomial", "binary")


@dataclass(frozen=True)
class Observations:
    """Observed cells of one likelihood family.

    Attributes
    ----------
    state, indicator
        Integer positions into :attr:`ModelData.states` and :attr:`ModelData.indicators`.
    cover, weight
        ``(n_obs, max_span)``: model steps each observation averages over and their weights
        (zero-weight padding where an observation spans fewer steps).
    y
        Standardised link value (Gaussian), successes (binomial) or 0/1 (binary).
    trials
        Number of trials (binomial only; ones otherwise).
    period
        The observation's own period label.
    previous, gap
        Position of the previous observation of the same (indicator, state) series (-1 for
        the first) and the number of the indicator's own periods since it (0 for the first).
        Observations are sorted by indicator, state and period.
    se
        The published standard error on the standardised link scale (0 where none).
    """

    state: NDArray[np.int64]
    indicator: NDArray[np.int64]
    cover: NDArray[np.int64]
    weight: NDArray[np.float64]
    y: NDArray[np.float64]
    trials: NDArray[np.int64]
    period: tuple[str, ...]
    previous: NDArray[np.int64]
    gap: NDArray[np.int64]
    se: NDArray[np.float64]

    def __len__(self) -> int:
        return int(self.state.size)


@dataclass(frozen=True)
class ModelData:
    """Everything the graph and the projection need, derived from panel + spec + codebook."""

    states: tuple[str, ...]
    poles: tuple[str, ...]
    steps: tuple[str, ...]
    step: str
    indicators: tuple[str, ...]
    kind: tuple[str, ...]
    frequency: tuple[str, ...]
    pole_index: NDArray[np.int64]
    sign: NDArray[np.float64]
    is_reference: NDArray[np.bool_]
    centre: NDArray[np.float64]
    scale: NDArray[np.float64]
    offset: NDArray[np.float64]
    typical_trials: NDArray[np.int64]
    obs: dict[str, Observations]
    share_clip: float
    #: indicators of the spec left out because every observation in the window is the same
    left_out: tuple[str, ...] = ()
    #: per indicator, the standardised link value of its kind's floor and ceiling (a share's
    #: clip and one minus it, a positive indicator's zero when it has an offset; -inf and inf
    #: where none): a value there means "at or beyond" and is censored in the likelihood
    lower: NDArray[np.float64] = field(default_factory=lambda: np.zeros(0))
    upper: NDArray[np.float64] = field(default_factory=lambda: np.zeros(0))

    @property
    def n_steps(self) -> int:
        """Number of model steps (periods of the latent path)."""
        return len(self.steps)

    @property
    def last_step(self) -> pd.Period:
        """The last period of the latent path."""
        return parse_period(self.steps[-1])

    def family_indicators(self, family: str) -> NDArray[np.int64]:
        """Positions of the indicators of one likelihood family."""
        return np.array(
            [i for i, k in enumerate(self.kind) if _family(k) == family], dtype=np.int64
        )


def _family(kind: str) -> str:
    return "gaussian" if kind in GAUSSIAN_KINDS else kind


def _empty(max_span: int) -> Observations:
    z = np.zeros(0, dtype=np.int64)
    f = np.zeros(0)
    return Observations(
        z, z, np.zeros((0, max_span), np.int64), np.zeros((0, max_span)), f, z, (), z, z, f
    )


def _series_links(
    indicator: NDArray[np.int64], state: NDArray[np.int64], ordinal: NDArray[np.int64]
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Previous observation of the same series and the gap to it, for rows already sorted."""
    same = np.zeros(indicator.size, dtype=bool)
    same[1:] = (indicator[1:] == indicator[:-1]) & (state[1:] == state[:-1])
    previous = np.where(same, np.arange(indicator.size) - 1, -1)
    gap = np.zeros(indicator.size, dtype=np.int64)
    gap[1:] = np.where(same[1:], ordinal[1:] - ordinal[:-1], 0)
    return previous.astype(np.int64), gap


def build_model_data(
    panel: pd.DataFrame,
    spec: AlignmentSpec,
    codebook: Codebook,
    *,
    states: tuple[str, ...] | None = None,
    until: str | None = None,
) -> ModelData:
    """Arrange a validated panel for the model.

    Parameters
    ----------
    panel
        Validated panel (see :func:`forecast.data.panel.read_panel`).
    spec
        The model spec (which indicators, which step).
    codebook
        Kinds, poles and signs of the indicators.
    states
        States to model; by default every state with an observation of a used indicator.
    until
        Last period of the latent path; by default the last observed period.

    Returns
    -------
    ModelData
    """
    used, states, indicators = _used_rows(panel, spec, states)
    used, obs_periods, steps = _in_window(used, spec, until)
    # A series with no variation makes the likelihood unbounded (its noise and loading can
    # shrink to zero): before the 2015 vintages every Chinese arms share is 0, and the
    # chains of such a fit froze. It carries no information on the latent either: leave it out.
    left_out = without_variation(used, indicators, codebook, spec)
    if left_out:
        lost = used["indicator"].isin(left_out).to_numpy()
        used = used[~lost]
        obs_periods = [p for p, gone in zip(obs_periods, lost, strict=True) if not gone]
        indicators = tuple(k for k in indicators if k not in left_out)
    cb = [codebook[k] for k in indicators]
    ind_idx = np.asarray(
        used["indicator"].map({k: i for i, k in enumerate(indicators)}), dtype=np.int64
    )
    st_idx = np.asarray(used["state"].map({s: i for i, s in enumerate(states)}), dtype=np.int64)
    resp = _responses(used, cb, spec, ind_idx, st_idx, len(states))
    obs = _observations(used, obs_periods, steps, spec.step, cb, ind_idx, st_idx, resp)
    return ModelData(
        states=states,
        poles=POLES,
        steps=tuple(format_period(p) for p in steps),
        step=spec.step,
        indicators=indicators,
        kind=tuple(c.kind for c in cb),
        frequency=tuple(c.frequency for c in cb),
        pole_index=np.array([POLES.index(c.pole) for c in cb], dtype=np.int64),
        sign=np.array([float(c.sign) for c in cb]),
        is_reference=np.array([k in dict(spec.reference).values() for k in indicators]),
        centre=resp.centre,
        scale=resp.scale,
        offset=np.array([c.offset for c in cb]),
        typical_trials=resp.typical,
        lower=(floor_link(cb, spec.share_clip, low=True) - resp.centre) / resp.scale,
        upper=(floor_link(cb, spec.share_clip, low=False) - resp.centre) / resp.scale,
        obs=obs,
        share_clip=spec.share_clip,
        left_out=left_out,
    )


def _used_rows(
    panel: pd.DataFrame, spec: AlignmentSpec, states: tuple[str, ...] | None
) -> tuple[pd.DataFrame, tuple[str, ...], tuple[str, ...]]:
    """Rows of the spec's indicators and the chosen states; the states and indicators.

    Raises
    ------
    DataError
        When no row is left, or a pole's reference indicator has none.
    """
    used = panel[panel["indicator"].isin(spec.indicators)]
    if states is not None:
        used = used[used["state"].isin(states)]
    if used.empty:
        raise DataError("panel", "no observation of any indicator the model uses")
    states = tuple(sorted(used["state"].unique())) if states is None else tuple(states)
    indicators = tuple(k for k in spec.indicators if k in set(used["indicator"]))
    missing_refs = [spec.reference_of(p) for p in POLES if spec.reference_of(p) not in indicators]
    if missing_refs:
        raise DataError("panel", f"reference indicator {missing_refs[0]} has no observation")
    return used, states, indicators


def _in_window(
    used: pd.DataFrame, spec: AlignmentSpec, until: str | None
) -> tuple[pd.DataFrame, list[pd.Period], pd.PeriodIndex]:
    """Rows whose period lies within the latent path, their periods, and the path's steps.

    The path runs from the first observed step (or the spec's ``start``) to the last
    observed one (or ``until``).
    """
    freq = PANDAS_FREQ[spec.step]
    obs_periods = [parse_period(p) for p in used["period"]]
    first = min(p.asfreq(freq, how="start") for p in obs_periods)
    last = max(p.asfreq(freq, how="end") for p in obs_periods)
    if spec.start != "auto":
        first = parse_period(spec.start)
    if until is not None:
        last = parse_period(until).asfreq(freq, how="end")
    keep = [
        first <= p.asfreq(freq, how="start") and p.asfreq(freq, how="end") <= last
        for p in obs_periods
    ]
    used = used[np.array(keep, dtype=bool)]
    obs_periods = [p for p, k in zip(obs_periods, keep, strict=True) if k]
    return used, obs_periods, pd.period_range(first, last, freq=freq)


@dataclass(frozen=True)
class _Responses:
    """Observed values on the model's scales, per row, with each indicator's standardisation."""

    y: NDArray[np.float64]
    se: NDArray[np.float64]
    centre: NDArray[np.float64]
    scale: NDArray[np.float64]
    typical: NDArray[np.int64]


def _responses(
    used: pd.DataFrame,
    cb: list[Indicator],
    spec: AlignmentSpec,
    ind_idx: NDArray[np.int64],
    st_idx: NDArray[np.int64],
    n_states: int,
) -> _Responses:
    """Standardised link values (Gaussian kinds), successes (binomial) or 0/1 (binary).

    Published standard errors are carried to the standardised link scale; ``typical`` holds
    the trials used to draw future binomial values: the series' median, else the
    indicator's.
    """
    values = used["value"].to_numpy(dtype=float)
    n_trials = used["n"].to_numpy(dtype=float)
    published_se = used["se"].to_numpy(dtype=float) if "se" in used else np.full(len(used), np.nan)
    centre = np.zeros(len(cb))
    scale = np.ones(len(cb))
    y = np.zeros(len(used))
    se = np.zeros(len(used))
    typical = np.ones((len(cb), n_states), dtype=np.int64)
    for i, c in enumerate(cb):
        rows = ind_idx == i
        if c.kind in GAUSSIAN_KINDS:
            link = to_link(values[rows], c.kind, offset=c.offset, clip=spec.share_clip)
            centre[i], scale[i] = standardisation(link)
            y[rows] = (link - centre[i]) / scale[i]
            slope = link_slope(values[rows], c.kind, offset=c.offset, clip=spec.share_clip)
            se[rows] = np.nan_to_num(published_se[rows]) * slope / scale[i]
        elif c.kind == "binomial":
            y[rows] = np.round(values[rows] * n_trials[rows])
            typical[i, :] = max(int(np.median(n_trials[rows])), 1)
            for s_pos in range(n_states):
                series = rows & (st_idx == s_pos)
                if series.any():
                    typical[i, s_pos] = max(int(np.median(n_trials[series])), 1)
        else:
            y[rows] = values[rows]
    return _Responses(y, se, centre, scale, typical)


def _observations(
    used: pd.DataFrame,
    obs_periods: list[pd.Period],
    steps: pd.PeriodIndex,
    step: str,
    cb: list[Indicator],
    ind_idx: NDArray[np.int64],
    st_idx: NDArray[np.int64],
    resp: _Responses,
) -> dict[str, Observations]:
    """Rows grouped by likelihood family, each sorted by series and then in time order."""
    step_pos = {p: i for i, p in enumerate(steps)}
    spans = [steps_covered(p, step) for p in obs_periods]
    max_span = max((len(s) for s in spans), default=1)
    cover = np.zeros((len(used), max_span), dtype=np.int64)
    weight = np.zeros((len(used), max_span))
    for row, span in enumerate(spans):
        cover[row, : len(span)] = [step_pos[p] for p in span]
        weight[row, : len(span)] = 1.0 / len(span)
    n_trials = used["n"].to_numpy(dtype=float)
    fam = np.array([_family(cb[i].kind) for i in ind_idx])
    labels = [format_period(p) for p in obs_periods]
    ordinal = np.array([p.ordinal for p in obs_periods], dtype=np.int64)
    obs = {}
    for family in FAMILIES:
        rows = np.flatnonzero(fam == family)
        if rows.size == 0:
            obs[family] = _empty(max_span)
            continue
        rows = rows[np.lexsort((ordinal[rows], st_idx[rows], ind_idx[rows]))]
        previous, gap = _series_links(ind_idx[rows], st_idx[rows], ordinal[rows])
        trials = np.where(family == "binomial", n_trials[rows], 1.0).astype(np.int64)
        obs[family] = Observations(
            state=st_idx[rows],
            indicator=ind_idx[rows],
            cover=cover[rows],
            weight=weight[rows],
            y=resp.y[rows],
            trials=trials,
            period=tuple(labels[r] for r in rows),
            previous=previous,
            gap=gap,
            se=resp.se[rows],
        )
    return obs


def floor_link(cb: list[Indicator], clip: float, *, low: bool) -> NDArray[np.float64]:
    """Link value of each indicator's floor (``low``) or ceiling; -inf or inf where none.

    A share is clipped to ``[clip, 1 - clip]`` before its logit, so its floor and ceiling are
    the clip's logits; a positive indicator with an offset observes ``log(value + offset)``,
    whose floor ``log(offset)`` is a true zero.

    Examples
    --------
    >>> from forecast.data.codebook import load_codebook
    >>> cb = load_codebook()
    >>> floor_link([cb["trade_share_rus"], cb["china_finance"], cb["us_aid"]], 0.01,
    ...            low=True).round(3).tolist()
    [-4.595, 0.0, -inf]
    """
    out: list[float] = []
    for c in cb:
        if c.kind == "share":
            out.append(float(to_link(clip if low else 1.0 - clip, "share", clip=clip)))
        elif c.kind == "positive" and c.offset > 0 and low:
            out.append(float(np.log(c.offset)))
        else:
            out.append(-np.inf if low else np.inf)
    return np.asarray(out, dtype=float)


def without_variation(
    used: pd.DataFrame, indicators: tuple[str, ...], codebook: Codebook, spec: AlignmentSpec
) -> tuple[str, ...]:
    """Return the indicators whose two or more observations in ``used`` are all equal.

    Values are compared on the model's scale: shares after clipping (0 and 0.001 are the
    same value to the model). A pole's reference cannot be left out: it fixes the latent's
    scale.

    Raises
    ------
    DataError
        When a reference indicator has no variation.
    """
    out = []
    for k in indicators:
        natural = used.loc[used["indicator"] == k, "value"].to_numpy(dtype=float)
        kind = codebook[k].kind
        values = natural
        if kind in GAUSSIAN_KINDS:
            values = to_link(natural, kind, offset=codebook[k].offset, clip=spec.share_clip)
        if values.size < 2 or np.ptp(values) > 1e-12 * max(1.0, float(np.abs(values).max())):
            continue
        if k in dict(spec.reference).values():
            raise DataError(
                "panel",
                f"reference indicator {k} has the same value (on the model's scale) in all "
                f"{values.size} observations, from {natural.min():g} to {natural.max():g}; "
                "it cannot fix the scale of its pole's latent",
                column="value",
            )
        out.append(k)
    return tuple(out)
