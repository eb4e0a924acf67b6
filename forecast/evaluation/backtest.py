"""Rolling-origin, pseudo-real-time backtests of the model beside the baselines.

At each origin ``Y`` the panel is cut to what was public at the end of ``Y``
(:mod:`forecast.evaluation.vintage`), the model is refitted and every baseline re-run on the
cut, and each forecasts periods ``Y + h``. Every forecast is scored (CRPS, interval scores,
coverage, PIT) against the value the full panel holds for that cell, on exactly the same
cells for every model.

An origin's model is the one ``forecast fit`` would fit on the data public then: its latent
path ends at the last period with data (usually ``Y - 1``: most sources publish a year's
values in the following year), and it forecasts through
:func:`forecast.model.project.project` with the fit's own seed, exactly as ``forecast
predict`` forecasts a stored run. So the backtest scores the forecasts users get. Origins
whose data end in the same period share a compiled model.

The plan every origin shares is :mod:`forecast.evaluation.plan`; the cells an origin scores
and the scoring of draws on them are :mod:`forecast.evaluation.cells`. :func:`run_origin` is
a pure function of the plan and the origin (the compiled-model cache only saves time),
which is what lets :func:`run_backtest` fan origins out over Dask workers with results
identical to the serial path.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd
import xarray as xr

from forecast.atomic import atomic_paths
from forecast.baselines import baseline_forecast
from forecast.dims import HORIZON, INDICATOR, INDICATOR_VAR, ORIGIN
from forecast.evaluation.cells import (
    OBSERVED,
    SCALE,
    common_cells,
    outcome_cells,
    score_cells,
    sort_scores,
)
from forecast.evaluation.plan import BacktestPlan, BacktestSettings, make_plan, origin_seed
from forecast.evaluation.spread import kind_bounds
from forecast.evaluation.stacked import OriginStack, final_weights, origin_stack, stack_backtest
from forecast.evaluation.vintage import origin_date, public_at, target_period
from forecast.model.design import ModelData, build_model_data
from forecast.model.diagnostics import diagnose
from forecast.model.fit import CompiledModels, FitResult, fit_alignment_model
from forecast.model.inference import FitSettings
from forecast.model.project import project
from forecast.model.stacked import COMPONENTS, indicator_family

if TYPE_CHECKING:
    from distributed import Client

# the user path in one import: settings and plan (from forecast.evaluation.plan), then run
__all__ = [
    "BacktestPlan",
    "BacktestResult",
    "BacktestSettings",
    "OriginFit",
    "OriginResult",
    "backtest_tables",
    "fit_origin",
    "make_plan",
    "origin_forecast",
    "origin_task",
    "run_backtest",
    "run_origin",
    "write_tables",
]


@dataclass(frozen=True)
class OriginResult:
    """Scores of one origin (every model), the model fit's diagnostics, stacking inputs."""

    scores: pd.DataFrame
    fit: dict[str, object]
    stack: OriginStack | None = None


@dataclass(frozen=True)
class OriginFit:
    """The model fitted at one origin, as ``forecast fit`` would have fitted it then."""

    origin: int
    data: ModelData
    result: FitResult
    settings: FitSettings
    seconds: float


def fit_origin(
    plan: BacktestPlan,
    origin: int,
    *,
    compiled: CompiledModels | None = None,
    cores: int | None = None,
) -> OriginFit:
    """Fit the model to the data public at the end of ``origin`` (its own seed)."""
    started = time.perf_counter()
    cut = public_at(plan.panel, origin_date(origin))
    data = build_model_data(cut, plan.spec, plan.codebook, states=plan.states)
    settings = plan.settings.fit_settings(origin, cores)
    result = fit_alignment_model(data, plan.spec, settings, compiled=compiled, log_likelihood=False)
    return OriginFit(origin, data, result, settings, time.perf_counter() - started)


def origin_forecast(plan: BacktestPlan, fitted: OriginFit) -> xr.Dataset:
    """Forecast an origin fit through its longest horizon, as ``forecast predict`` would.

    :func:`forecast.model.project.project` with the fit's own seed: what
    :func:`forecast.model.workflow.forecast_run` does with a stored run.
    """
    until = target_period(fitted.origin, max(plan.settings.horizons))
    return project(fitted.result.posterior, until, random_seed=fitted.settings.seed)


def variant_name(model: str, setting: str, value: float) -> str:
    """Name of a projection variant of ``model`` in score tables.

    Examples
    --------
    >>> variant_name("alignment", "drift_damping", 1.0)
    'alignment:drift_damping=1'
    """
    return f"{model}:{setting}={value:g}"


def _fit_record(plan: BacktestPlan, fitted: OriginFit, seconds: float) -> dict[str, object]:
    settings = plan.settings
    with warnings.catch_warnings():
        # R-hat and ESS of quantities fixed by identification (reference loadings of 1)
        # divide 0 by 0; the gates skip them, and a worker would print one warning per origin
        warnings.filterwarnings("ignore", category=RuntimeWarning, module="arviz_stats")
        diagnostics = diagnose(
            fitted.result.posterior, method=settings.method, approximate=settings.approximate
        )
    return {
        ORIGIN: fitted.origin,
        "method": settings.method,
        "approximate": int(settings.approximate),
        "seed": fitted.settings.seed,
        "observations": sum(len(o) for o in fitted.data.obs.values()),
        "last_period": fitted.data.steps[-1],
        # indicators without variation at this origin are not fitted, so not scored
        "left_out": " ".join(fitted.data.left_out),
        "divergences": diagnostics.divergences,
        "max_rhat": round(diagnostics.max_rhat, 4),
        "worst_rhat": diagnostics.worst_rhat,
        "min_ess_bulk": round(diagnostics.min_ess_bulk, 1),
        "worst_ess_bulk": diagnostics.worst_ess_bulk,
        "converged": int(diagnostics.converged),
        "compile_seconds": round(fitted.result.compile_seconds, 1),
        "sampling_seconds": round(fitted.result.sampling_seconds, 1),
        "seconds": round(seconds, 1),
    }


def run_origin(
    plan: BacktestPlan,
    origin: int,
    *,
    compiled: CompiledModels | None = None,
    cores: int | None = None,
) -> OriginResult:
    """Refit, forecast and score one origin (the model and every baseline).

    Parameters
    ----------
    plan
        From :func:`make_plan`.
    origin
        The year whose end the forecast is made at.
    compiled
        Compiled models to reuse (origins whose data end in the same period share one).
    cores
        Threads the sampler may run chains on (a Dask worker passes its own thread count,
        so that workers sharing a machine do not oversubscribe it); results do not depend
        on it.

    Returns
    -------
    OriginResult
        ``scores``: tidy, one row per (cell, model), columns ``origin, horizon, state,
        indicator, period, model, observed, scale`` and the scores of
        :func:`forecast.evaluation.scores.ensemble_scores`; only cells every model covers.
        ``fit``: divergences, R-hat, ESS and timings of the model fit.
    """
    settings = plan.settings
    cells = outcome_cells(plan, origin)
    if cells.empty:
        # nothing later in the panel to score this origin against: no fit to pay for
        return OriginResult(pd.DataFrame(), {ORIGIN: origin, "note": "no outcome to score"})
    started = time.perf_counter()
    fitted = fit_origin(plan, origin, compiled=compiled, cores=cores)
    forecast = origin_forecast(plan, fitted)
    frames = [score_cells(forecast[INDICATOR_VAR], cells, plan.spec.name)]
    until = target_period(origin, max(settings.horizons))
    for damping in settings.drift_dampings:
        variant = project(
            fitted.result.posterior, until, random_seed=fitted.settings.seed, drift_damping=damping
        )
        name = variant_name(plan.spec.name, "drift_damping", damping)
        frames.append(score_cells(variant[INDICATOR_VAR], cells, name))
    components = {COMPONENTS[0]: forecast[INDICATOR_VAR]}
    cut = public_at(plan.panel, origin_date(origin))
    for stream, method in enumerate(settings.baselines, start=2):
        baseline = baseline_forecast(
            cut,
            plan.codebook,
            method=method,
            until=until,
            indicators=plan.indicators,
            states=plan.states,
            draws=settings.draws * settings.chains,
            random_seed=origin_seed(settings.seed, origin, stream),
        )
        frames.append(score_cells(baseline[INDICATOR_VAR], cells, method))
        components[method] = baseline[INDICATOR_VAR]
    scores = sort_scores(common_cells(pd.concat(frames, ignore_index=True)))
    scores.insert(
        list(scores.columns).index(OBSERVED) + 1, SCALE, scores[INDICATOR].map(plan.scales)
    )
    bounds = {k: kind_bounds(plan.codebook[k].kind) for k in plan.indicators}
    stack = (
        origin_stack(components, cells, scores, bounds)
        if set(COMPONENTS) <= set(components)
        else None
    )
    record = _fit_record(plan, fitted, time.perf_counter() - started)
    return OriginResult(scores, record, stack)


@dataclass(frozen=True)
class BacktestResult:
    """Scores of every origin (the stacked forecast's included), fits, stacking weights.

    ``weights`` holds the weights each origin's stacked forecast used (learned from earlier
    origins only); ``final_weights`` those learned from every scored cell, which
    ``forecast predict`` uses; ``stack_cells`` the evidence they were learned from, each
    stacked cell with its components' mixture statistics
    (:func:`~forecast.evaluation.stacking.mixture_statistics`), so that other ways of
    combining the components can be scored without refitting.
    """

    scores: pd.DataFrame
    fits: pd.DataFrame
    weights: pd.DataFrame
    final_weights: pd.DataFrame
    stack_cells: pd.DataFrame = field(default_factory=pd.DataFrame)


def _combine(plan: BacktestPlan, results: list[OriginResult]) -> BacktestResult:
    stacks = [r.stack for r in results if r.stack is not None]
    families = sorted({indicator_family(k) for k in plan.indicators})
    horizons = plan.settings.horizons
    stacked, weights = stack_backtest(stacks, horizons, families)
    scored = [r.scores for r in results if not r.scores.empty]
    if not stacked.empty:
        scored.append(stacked)
    # origins with nothing to score add no rows (and no columns) to the table
    scores = sort_scores(pd.concat(scored, ignore_index=True)) if scored else pd.DataFrame()
    fits = pd.DataFrame([r.fit for r in results]).sort_values(ORIGIN, ignore_index=True)
    cells = [s.cells for s in stacks if len(s.cells)]
    stack_cells = pd.concat(cells, ignore_index=True) if cells else pd.DataFrame()
    final = final_weights(stacks, horizons, families)
    return BacktestResult(scores, fits, weights, final, stack_cells)


def run_backtest(
    plan: BacktestPlan,
    *,
    compiled: CompiledModels | None = None,
    client: Client | None = None,
    on_origin: Callable[[int], None] | None = None,
) -> BacktestResult:
    """Run every origin of ``plan``, serially or on a Dask cluster.

    Parameters
    ----------
    plan
        From :func:`make_plan`.
    compiled
        Compiled models for the serial path (a new cache when ``None``).
    client
        A ``distributed.Client`` (see :func:`forecast.scaleout.dask_client`): origins run as
        tasks, each worker process reusing its own compiled model. The results equal the
        serial path's for the same seeds.
    on_origin
        Called with each origin as it finishes (progress bars).
    """
    origins = list(plan.settings.origins)
    if client is None:
        cache = compiled if compiled is not None else CompiledModels()
        results = []
        for origin in origins:
            results.append(run_origin(plan, origin, compiled=cache))
            if on_origin is not None:
                on_origin(origin)
        return _combine(plan, results)
    from forecast.scaleout import map_in_order

    results = map_in_order(client, origin_task, origins, plan, on_done=on_origin)
    return _combine(plan, results)


def origin_task(origin: int, plan: BacktestPlan) -> OriginResult:
    """Dask task: :func:`run_origin` with the worker's own compiled models and threads."""
    from forecast.scaleout import worker_compiled_models, worker_threads

    return run_origin(plan, origin, compiled=worker_compiled_models(), cores=worker_threads())


def backtest_tables(result: BacktestResult) -> dict[str, pd.DataFrame]:
    """Every table a backtest writes: scores, fits, skill, coverage and stacking weights.

    Skill (:func:`~forecast.evaluation.skill.skill_table`) by horizon and by (indicator,
    horizon), interval coverage by horizon and by indicator, the PIT histogram of the model
    and the stacked forecast, every model's reliability curve by horizon
    (:func:`~forecast.evaluation.skill.quantile_reliability`), the weights each origin's
    stacked forecast used and those learned from every cell, and the stacked cells' mixture
    statistics. Empty when nothing could be scored.
    """
    from forecast.evaluation.skill import (
        coverage_table,
        pit_counts,
        quantile_reliability,
        skill_table,
    )

    if result.scores.empty:
        return {}
    return {
        "scores": result.scores,
        "fits": result.fits,
        "skill": skill_table(result.scores),
        "skill_by_indicator": skill_table(result.scores, by=(INDICATOR, HORIZON)),
        "coverage": coverage_table(result.scores),
        "coverage_by_indicator": coverage_table(result.scores, by=(INDICATOR,)),
        "pit_histogram": pit_counts(result.scores),
        "reliability": quantile_reliability(result.scores),
        "stacking_weights_by_origin": result.weights,
        "stacking_weights": result.final_weights,
        "stacking_cells": result.stack_cells,
    }


def write_tables(out_dir: str | Path, tables: dict[str, pd.DataFrame]) -> dict[str, Path]:
    """Write each table to ``out_dir/<name>.csv`` atomically; return the paths by name.

    The files are renamed into place together (:func:`forecast.atomic.atomic_paths`): a
    Ctrl-C leaves every new table or none.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {name: out_dir / f"{name}.csv" for name in tables}
    with atomic_paths(list(paths.values())) as tmps:
        for table, tmp in zip(tables.values(), tmps, strict=True):
            table.to_csv(tmp, index=False, float_format="%.8g", lineterminator="\n")
    return paths
