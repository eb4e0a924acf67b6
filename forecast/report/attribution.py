"""What moved the estimates between two issues: a news decomposition over posterior draws.

Between two issues the region-wide latent mean of each pole moves because new observations
arrived (and because the parameters were re-estimated on them). As in nowcasting news
decompositions, each observation that the previous issue had not seen contributes its
*news*, observed value minus the previous issue's predictive mean, times its one-at-a-time
*gain*: the previous issue's posterior covariance between the target and the predicted
observation over the predicted observation's variance, both estimated from the previous
forecast's draws. What the sum does not explain (re-estimated parameters, interactions between
correlated news, revised values) is the residual.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
import xarray as xr

from forecast.data.codebook import Indicator
from forecast.dims import ALIGNMENT_VAR, INDICATOR, INDICATOR_VAR, PERIOD, POLE, STATE
from forecast.report.contracts import Attribution, AttributionRow

#: how many (indicator, pole) rows the report lists, largest contributions first
MAX_ROWS = 12


def region_mean(forecast: xr.Dataset, period: str) -> xr.DataArray:
    """Return draws ``(sample, pole)`` of the five states' mean alignment at ``period``."""
    draws = forecast[ALIGNMENT_VAR].sel({PERIOD: period}).mean(STATE)
    return draws.stack(sample=("chain", "draw")).transpose("sample", POLE)


def new_observations(panel: pd.DataFrame, previous: xr.Dataset) -> pd.DataFrame:
    """Return the panel rows of the previous forecast's indicators after its last fitted period.

    Those are the observations the previous issue forecast but had not seen.
    """
    last = int(str(previous.attrs["last_fitted"])[:4])
    known = set(previous[INDICATOR].values.astype(str))
    periods = set(previous[PERIOD].values.astype(str))
    rows = panel[panel[INDICATOR].astype(str).isin(known)]
    year = rows[PERIOD].astype(str).str[:4].astype(int)
    rows = rows[(year > last) & rows[PERIOD].astype(str).isin(periods)]
    return rows.reset_index(drop=True)


def news_contributions(
    panel: pd.DataFrame, previous: xr.Dataset, target_period: str
) -> pd.DataFrame:
    """Return one row per new observation and pole: ``news``, ``gain`` and ``contribution``.

    Parameters
    ----------
    panel
        The current panel (tidy: state, indicator, period, value).
    previous
        The previous issue's forecast draws (``alignment`` and ``indicators``), reaching
        ``target_period``.
    target_period
        The period whose region-wide alignment is decomposed.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> latent = rng.normal(size=(1, 400, 1, 1, 2))
    >>> obs = latent[:, :, :, 0, :][:, :, :, None, :] + 0.1 * rng.normal(size=(1, 400, 1, 1, 2))
    >>> prev = xr.Dataset(
    ...     {"alignment": (("chain", "draw", "state", "pole", "period"), latent),
    ...      "indicators": (("chain", "draw", "state", "indicator", "period"), obs)},
    ...     coords={"state": ["KAZ"], "pole": ["RUS"], "indicator": ["x"],
    ...             "period": ["2020", "2021"]}, attrs={"last_fitted": "2020"})
    >>> panel = pd.DataFrame({"state": ["KAZ"], "indicator": ["x"], "period": ["2021"],
    ...                       "value": [1.0]})
    >>> row = news_contributions(panel, prev, "2021").iloc[0]
    >>> bool(row["contribution"] > 0.8)
    True
    """
    rows = new_observations(panel, previous)
    columns = [STATE, INDICATOR, PERIOD, POLE, "news", "gain", "contribution"]
    if rows.empty:
        return pd.DataFrame(columns=columns)
    target = region_mean(previous, target_period)
    centred_target = target.values - target.values.mean(axis=0)
    out = []
    for state, indicator, period, value in rows[[STATE, INDICATOR, PERIOD, "value"]].itertuples(
        index=False
    ):
        pred = previous[INDICATOR_VAR].sel({STATE: state, INDICATOR: indicator, PERIOD: period})
        y = np.asarray(pred.stack(sample=("chain", "draw")).transpose("sample").values, float)
        if not np.isfinite(y).all() or y.var() == 0:
            continue
        news = float(value) - y.mean()
        gains = centred_target.T @ (y - y.mean()) / len(y) / y.var()
        for pole, gain in zip(target[POLE].values.astype(str), gains, strict=True):
            out.append((state, indicator, period, pole, news, float(gain), float(gain * news)))
    return pd.DataFrame(out, columns=columns)


def attribute(
    panel: pd.DataFrame,
    current: xr.Dataset,
    previous: xr.Dataset | None,
    *,
    codebook: Mapping[str, Indicator],
) -> Attribution:
    """Decompose the change in region-wide alignment since the previous issue by indicator.

    The target period is the current forecast's last fitted period. Without a previous
    forecast the result says so and has no rows.
    """
    if previous is None:
        return Attribution(
            previous_run=None,
            note=(
                "No earlier issue with a stored forecast is recorded in the ledger, so there is "
                "nothing to compare with: this is the first issue."
            ),
        )
    prev_id = str(previous.attrs.get("run_id", "?"))
    target_period = str(current.attrs["last_fitted"])
    if target_period not in previous[PERIOD].values.astype(str):
        return Attribution(
            previous_run=prev_id,
            note=f"The previous issue (run {prev_id}) does not reach {target_period}.",
        )
    now = region_mean(current, target_period).mean("sample")
    before = region_mean(previous, target_period).mean("sample")
    change = now - before
    total = tuple((str(p), float(change.sel({POLE: p}))) for p in change[POLE].values)
    parts = news_contributions(panel, previous, target_period)
    if parts.empty:
        note = (
            f"No observation arrived since the previous issue (run {prev_id}); the change in "
            f"region-wide alignment in {target_period} ("
            + ", ".join(f"{p} {v:+.3f}" for p, v in total)
            + ") comes from re-estimation alone."
        )
        return Attribution(previous_run=prev_id, note=note, total_change=total)
    grouped = (
        parts.groupby([INDICATOR, POLE], sort=False)
        .agg(news=("news", "size"), contribution=("contribution", "sum"))
        .reset_index()
    )
    grouped = grouped.reindex(grouped["contribution"].abs().sort_values(ascending=False).index)
    rows = tuple(
        AttributionRow(
            indicator=str(r[INDICATOR]),
            title=codebook[str(r[INDICATOR])].title if str(r[INDICATOR]) in codebook else "",
            pole=str(r[POLE]),
            news=int(r["news"]),
            contribution=float(r["contribution"]),
        )
        for _, r in grouped.head(MAX_ROWS).iterrows()
    )
    explained = parts.groupby(POLE)["contribution"].sum()
    residual = ", ".join(f"{p} {v - float(explained.get(p, 0.0)):+.3f}" for p, v in total)
    note = (
        f"{len(parts) // max(len(total), 1)} observations arrived since the previous issue "
        f"(run {prev_id}). Change in region-wide alignment in {target_period}: "
        + ", ".join(f"{p} {v:+.3f}" for p, v in total)
        + f"; not explained by the news (residual): {residual}."
    )
    return Attribution(previous_run=prev_id, note=note, rows=rows, total_change=total)
