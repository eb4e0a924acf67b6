"""Turn results (run, forecast, scenario and what-if results, panel) into the report contracts.

Pure functions: everything the section builders print is computed here, once, from results;
nothing here fits, projects or reads files.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime

import numpy as np
import pandas as pd
import xarray as xr

from forecast.data.codebook import Indicator
from forecast.data.levels import levels_only
from forecast.dims import (
    ALIGNMENT_VAR,
    INDICATOR,
    PARTITION,
    PERIOD,
    POLE,
    SCENARIO,
    STATE,
    WHATIF,
)
from forecast.model.manifest import RunManifest
from forecast.model.spec import AlignmentSpec, ProjectionSettings
from forecast.periods import parse_period
from forecast.rank_check import RankCheck
from forecast.report.contracts import (
    Attribution,
    BacktestFacts,
    CoverageFacts,
    CurrencyRow,
    Figure,
    HeadlineFacts,
    ProbabilityRow,
    RankFacts,
    ReportInputs,
    RunFacts,
    TrackRecordRow,
    TrajectoryRow,
    WhatIfRow,
)
from forecast.scenarios.probabilities import ScenarioResult
from forecast.scenarios.spec import ScenarioSpec
from forecast.scenarios.whatif import WhatIfResult


def run_facts(manifest: RunManifest) -> RunFacts:
    """Provenance and diagnostics of a run, as the report shows them."""
    diag = manifest.diagnostics
    spec = manifest.spec_content
    return RunFacts(
        run_id=manifest.run_id,
        created=manifest.created,
        method=manifest.method,
        approximate=manifest.approximate,
        converged=manifest.converged,
        chains=diag.chains,
        draws=diag.draws,
        seed=manifest.seed,
        max_rhat=diag.max_rhat,
        min_ess_bulk=diag.min_ess_bulk,
        min_ess_tail=diag.min_ess_tail,
        divergences=diag.divergences,
        failures=diag.failures,
        data_sha256=manifest.data.sha256,
        spec_sha256=manifest.spec.sha256,
        packages=tuple(sorted(manifest.packages.items())),
        # a spec written before an option existed fits with the option's default
        carry=str(spec.get("carry", AlignmentSpec.carry)),
        persistence_by=str(spec.get("persistence_by", AlignmentSpec.persistence_by)),
        deviation_df=float(spec.get("deviation_df", AlignmentSpec.deviation_df)),
        log_link_deviation=str(spec.get("log_link_deviation", AlignmentSpec.log_link_deviation)),
        drift_damping=float(
            spec.get("projection", {}).get("drift_damping", ProjectionSettings.drift_damping)
        ),
    )


def headline_facts(result: ScenarioResult) -> HeadlineFacts:
    """Combine the headline pair with the headline partition's most likely scenario."""
    h = result.headline
    probs = result.probabilities
    mine = probs[SCENARIO].values[probs[PARTITION].values == h.partition]
    values = probs["probability"].sel({SCENARIO: mine})
    best = str(mine[int(np.argmax(values.values))])
    title = str(result.partitions["title"].sel({PARTITION: h.partition}).values)
    return HeadlineFacts(
        trend_probability=h.trend_probability,
        trend_mcse=h.trend_mcse,
        outcome_entropy=h.outcome_entropy,
        horizon=h.horizon,
        last_observed=h.last_observed,
        partition_title=title,
        leading_scenario=str(probs["title"].sel({SCENARIO: best}).values),
        leading_probability=float(probs["probability"].sel({SCENARIO: best})),
        trend_questions=tuple(
            (
                str(probs["title"].sel({SCENARIO: q}).values),
                float(probs["probability"].sel({SCENARIO: q})),
            )
            for q in probs[SCENARIO].values
            if str(probs["kind"].sel({SCENARIO: q}).values) == "question"
            and str(probs["resolves_on"].sel({SCENARIO: q}).values) == "latent"
        ),
    )


def _narratives(spec: ScenarioSpec) -> dict[str, str]:
    out = {s.id: s.narrative for p in spec.partitions for s in p.scenarios}
    out.update({q.id: q.narrative for q in spec.questions})
    return out


def most_likely_first(table: pd.DataFrame, group: str, probability: str) -> pd.DataFrame:
    """Sort scenario rows by falling ``probability`` within each ``group``; questions last.

    Groups keep the order they first appear in, and questions (``kind`` "question") keep
    theirs: a list of questions reads in the spec's order, a partition's outcomes from the
    most likely down.

    Examples
    --------
    >>> t = pd.DataFrame({"g": ["a", "a", "b", "a"], "kind": ["scenario"] * 3 + ["question"],
    ...                   "p": [0.2, 0.8, 0.5, 0.9]})
    >>> most_likely_first(t, "g", "p")["p"].tolist()
    [0.8, 0.2, 0.5, 0.9]
    """
    order = {g: i for i, g in enumerate(dict.fromkeys(table[group].astype(str)))}
    question = (table["kind"] == "question").to_numpy()
    key = pd.DataFrame(
        {
            "question": question,
            "group": table[group].astype(str).map(order).to_numpy(),
            # questions keep their place: sort them by position, scenarios by probability
            "rank": np.where(question, np.arange(len(table)), -table[probability].to_numpy()),
        },
        index=table.index,
    )
    return table.loc[key.sort_values(["question", "group", "rank"], kind="stable").index]


def scenario_table(result: ScenarioResult) -> pd.DataFrame:
    """Return ``result.table()``, most likely scenario first, with each ``partition_title``.

    Questions (empty ``partition_title``) follow the scenarios in the spec's order.
    """
    table = result.table()
    titles = dict(
        zip(
            result.partitions[PARTITION].values.astype(str),
            result.partitions["title"].values.astype(str),
            strict=True,
        )
    )
    table["partition_title"] = table[PARTITION].astype(str).map(titles).fillna("")
    return most_likely_first(table, PARTITION, "probability").reset_index(drop=True)


def whatif_table(result: WhatIfResult) -> pd.DataFrame:
    """Return the what-ifs' scenario rows (no questions), most likely at baseline first."""
    table = result.table()
    table = table[table["kind"] == "scenario"]
    return most_likely_first(table, WHATIF, "baseline").reset_index(drop=True)


def probability_rows(
    result: ScenarioResult, spec: ScenarioSpec, previous: Mapping[str, float]
) -> tuple[ProbabilityRow, ...]:
    """Return every scenario and question with its probability at the previous issue."""
    narratives = _narratives(spec)
    return tuple(
        ProbabilityRow(
            kind=str(r["kind"]),
            group=str(r["partition_title"]),
            id=str(r[SCENARIO]),
            title=str(r["title"]),
            narrative=narratives.get(str(r[SCENARIO]), ""),
            at=str(r["at"]),
            probability=float(r["probability"]),
            mcse=float(r["mcse"]),
            previous=previous.get(str(r[SCENARIO])),
        )
        for _, r in scenario_table(result).iterrows()
    )


def trajectory_rows(forecast: xr.Dataset, horizon: str) -> tuple[TrajectoryRow, ...]:
    """Return each state's alignment toward each pole at the last fitted period and horizon."""
    last = str(forecast.attrs["last_fitted"])
    draws = forecast[ALIGNMENT_VAR].stack(sample=("chain", "draw"))
    at_last, at_end = draws.sel({PERIOD: last}), draws.sel({PERIOD: horizon})
    rows = []
    for state in forecast[STATE].values.astype(str):
        for pole in forecast[POLE].values.astype(str):
            a = np.asarray(at_last.sel({STATE: state, POLE: pole}).values, float)
            b = np.asarray(at_end.sel({STATE: state, POLE: pole}).values, float)
            rows.append(
                TrajectoryRow(
                    state=state,
                    pole=pole,
                    last_median=float(np.median(a)),
                    last_low=float(np.quantile(a, 0.05)),
                    last_high=float(np.quantile(a, 0.95)),
                    horizon_median=float(np.median(b)),
                    horizon_low=float(np.quantile(b, 0.05)),
                    horizon_high=float(np.quantile(b, 0.95)),
                    probability_up=float((b > a).mean()),
                )
            )
    return tuple(rows)


def whatif_rows(result: WhatIfResult | None) -> tuple[WhatIfRow, ...]:
    """Return each what-if's scenario probabilities beside the baseline (questions left out)."""
    if result is None:
        return ()
    table = whatif_table(result)
    return tuple(
        WhatIfRow(
            whatif=str(r[WHATIF]),
            whatif_title=str(r["whatif_title"]),
            target=str(r["target"]),
            target_title=str(r["title"]),
            baseline=float(r["baseline"]),
            probability=float(r["probability"]),
        )
        for _, r in table.iterrows()
    )


def rank_facts(check: RankCheck, codebook: Mapping[str, Indicator]) -> RankFacts:
    """Name the parameters the rank test flags in plain words (as the figure's panels do)."""
    from forecast.plots.convergence import parameter_label

    return RankFacts(
        thin=check.thin,
        draws_kept=check.draws_kept,
        tested=check.tested,
        alpha=check.alpha,
        flags=tuple(
            (parameter_label(flag.parameter, flag.cell, codebook), flag.p_value)
            for flag in check.flags
        ),
    )


def coverage_facts(
    panel: pd.DataFrame,
    codebook: Mapping[str, Indicator],
    quarter: str,
    *,
    indicators: Sequence[str] | None = None,
    forecast_origin: str = "",
) -> CoverageFacts:
    """Summarise what the panel covers and how current it is at the report's quarter.

    Parameters
    ----------
    panel, codebook, quarter
        The panel, its codebook and the report's quarter.
    indicators
        The indicators the run uses: the data-currency table lists these (default: all).
    forecast_origin
        The run's last period (its latent path ends there).

    Examples
    --------
    >>> from forecast.data.codebook import load_codebook
    >>> p = pd.DataFrame({"state": ["KAZ", "KGZ"], "indicator": ["trade_share_rus"] * 2,
    ...                   "period": ["2019", "2020"], "value": [0.2, 0.3]})
    >>> c = coverage_facts(p, load_codebook(), "2026Q4", forecast_origin="2020")
    >>> c.data_end, c.years_stale, c.series, c.currency[0].last, c.nowcast_years[:2]
    ('2020', 6, 2, ('2019', '2020'), ('2021', '2022'))
    """
    periods = panel[PERIOD].astype(str)
    data_end = str(periods.str[:4].astype(int).max())
    states = tuple(sorted(panel[STATE].astype(str).unique()))
    keys = [
        str(k)
        for k in (indicators if indicators is not None else sorted(panel[INDICATOR].unique()))
    ]
    last = (
        levels_only(panel)
        .groupby([INDICATOR, STATE])[PERIOD]
        .agg(lambda p: max(p, key=lambda x: parse_period(str(x)).end_time))
    )
    rows = []
    for key in keys:
        mine = last[key] if key in last.index.get_level_values(0) else pd.Series(dtype=str)
        rows.append(
            CurrencyRow(
                indicator=key,
                title=codebook[key].title if key in codebook else key,
                source=codebook[key].source if key in codebook else "",
                lag_months=codebook[key].release_lag_months if key in codebook else 0,
                last=tuple(str(mine[s]) if s in mine.index else "–" for s in states),
            )
        )
    return CoverageFacts(
        data_end=data_end,
        report_quarter=quarter,
        years_stale=max(int(quarter[:4]) - int(data_end), 0),
        series=int(panel[[STATE, INDICATOR]].drop_duplicates().shape[0]),
        indicators=int(panel[INDICATOR].nunique()),
        states=states,
        currency=tuple(rows),
        forecast_origin=forecast_origin,
    )


def gather(
    *,
    quarter: str,
    manifest: RunManifest,
    forecast: xr.Dataset,
    scenarios: ScenarioResult,
    spec: ScenarioSpec,
    whatifs: WhatIfResult | None,
    panel: pd.DataFrame,
    codebook: Mapping[str, Indicator],
    attribution: Attribution,
    previous: Mapping[str, float] | None = None,
    track_record: Sequence[TrackRecordRow] = (),
    figures: Sequence[Figure] = (),
    ledger_path: str | None = None,
    generated: str | None = None,
    rank_check: RankCheck | None = None,
    backtest: BacktestFacts | None = None,
) -> ReportInputs:
    """Assemble the report's inputs from results.

    ``previous`` maps scenario and question ids to the probabilities issued for the previous
    quarter (from the ledger); ``generated`` defaults to now (UTC); ``rank_check`` is the
    rank test of the convergence figure's parameters.
    """
    headline = replace(
        headline_facts(scenarios),
        drift_damping=float(forecast.attrs.get("drift_damping", 1.0)),
    )
    return ReportInputs(
        quarter=quarter,
        generated=generated or datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        run=run_facts(manifest),
        headline=headline,
        probabilities=probability_rows(scenarios, spec, previous or {}),
        trajectories=trajectory_rows(forecast, headline.horizon),
        attribution=attribution,
        whatifs=whatif_rows(whatifs),
        track_record=tuple(track_record),
        coverage=coverage_facts(
            panel,
            codebook,
            quarter,
            indicators=list(manifest.model.indicators) or None,
            forecast_origin=str(forecast.attrs.get("last_fitted", "")),
        ),
        figures=tuple(figures),
        ledger_path=ledger_path,
        rank_check=None if rank_check is None else rank_facts(rank_check, codebook),
        backtest=backtest,
    )
