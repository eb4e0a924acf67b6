"""The model's user path as plain functions: fit a panel and store a run; forecast a run.

Imitates Prophet's ``fit -> predict`` path; the CLI and the report pipeline call these.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

import xarray as xr

from forecast.data.codebook import Codebook, load_codebook
from forecast.data.panel import panel_sha256, read_panel
from forecast.defaults import DEFAULT_HORIZON
from forecast.errors import ForecastError
from forecast.model.design import build_model_data
from forecast.model.diagnostics import Diagnostics, convergence_summary, diagnose
from forecast.model.fit import CompiledModels, fit_alignment_model
from forecast.model.inference import FitSettings, fit_settings
from forecast.model.manifest import FileRecord, ModelRecord, RunManifest
from forecast.model.project import project
from forecast.model.runs import Run, new_run_id, package_versions, save_run
from forecast.model.spec import AlignmentSpec, load_model_spec
from forecast.model.stacked import DEFAULT_STACKING, FORECASTS, read_weights, stack_forecast
from forecast.progress import SILENT, Progress
from forecast.seeds import stream_seed

__all__ = ["DEFAULT_HORIZON", "FitOutcome", "fit_panel", "project_run", "settings_from_spec"]


@dataclass(frozen=True)
class FitOutcome:
    """A stored run and its diagnostics."""

    run: Run
    diagnostics: Diagnostics
    compile_seconds: float
    sampling_seconds: float


def settings_from_spec(spec: AlignmentSpec, **overrides: object) -> FitSettings:
    """Return fit settings: defaults, the spec's ``[sampler]``, then flags (None = keep).

    Merged by :func:`forecast.model.inference.fit_settings`, the one place that does it.
    """
    return fit_settings(spec.sampler, **overrides)


def fit_panel(
    panel_path: str | Path,
    spec_path: str | Path,
    settings: FitSettings,
    *,
    runs_dir: str | Path = "runs",
    codebook: Codebook | None = None,
    compiled: CompiledModels | None = None,
    progress: Progress = SILENT,
) -> FitOutcome:
    """Read panel and spec, fit, diagnose, and store the run under ``runs_dir``.

    The run's manifest records the data and spec hashes, the seed, the sampler settings,
    package versions, diagnostics and whether the run converged. ``progress`` hears of
    the compile, the sampling, the diagnostics and the storage.
    """
    codebook = codebook or load_codebook()
    spec = load_model_spec(spec_path, codebook)
    panel = read_panel(panel_path, codebook)
    data = build_model_data(panel, spec, codebook)
    result = fit_alignment_model(data, spec, settings, compiled=compiled, progress=progress)
    with progress.step("computing convergence diagnostics (R-hat, ESS)"):
        summary = convergence_summary(result.posterior)
        diagnostics = diagnose(
            result.posterior,
            method=settings.method,
            approximate=settings.approximate,
            table=summary,
        )
    run_id = new_run_id(settings.method, settings.seed)
    data_sha256 = panel_sha256(panel_path)
    manifest = RunManifest(
        run_id=run_id,
        created=datetime.now(UTC).isoformat(timespec="seconds"),
        method=settings.method,
        approximate=settings.approximate,
        seed=settings.seed,
        converged=diagnostics.converged,
        sampler=asdict(settings),
        data=FileRecord(str(panel_path), data_sha256),
        spec=FileRecord(str(spec_path), spec.sha256),
        spec_content=spec.to_dict(),
        codebook=FileRecord(str(codebook.path), codebook.sha256),
        model=ModelRecord(
            states=tuple(data.states),
            indicators=tuple(data.indicators),
            left_out_without_variation=tuple(data.left_out),
            first_period=data.steps[0],
            last_period=data.steps[-1],
            observations={k: len(v) for k, v in data.obs.items()},
        ),
        timing={
            "compile_seconds": round(result.compile_seconds, 2),
            "sampling_seconds": round(result.sampling_seconds, 2),
        },
        diagnostics=diagnostics,
        packages=package_versions(),
        posterior_sha256="",  # filled in by save_run from the file as written
    )
    posterior = result.posterior
    posterior["posterior"].attrs.update(
        {"run_id": run_id, "data_sha256": data_sha256, "spec_sha256": spec.sha256}
    )
    with progress.step(f"storing the run in {runs_dir}"):
        run = save_run(runs_dir, posterior, manifest, summary=summary)
    return FitOutcome(run, diagnostics, result.compile_seconds, result.sampling_seconds)


def project_run(
    run: Run,
    until: str = DEFAULT_HORIZON,
    *,
    random_seed: int | None = None,
    forecast: str = "stacked",
    weights_path: str | Path = DEFAULT_STACKING,
) -> xr.Dataset:
    """Project a stored run through ``until``: latent and indicator draws.

    Callers go through :meth:`Run.forecast <forecast.model.runs.Run.forecast>`, which reuses
    the run's stored forecast when it answers the question.

    Parameters
    ----------
    run
        A stored run.
    until
        Last forecast period.
    random_seed
        Defaults to the run's own seed, so a run's forecast is reproducible.
    forecast
        ``stacked`` (default): the indicator draws of future cells are the backtested
        mixture of the model with the persistence and local-level baselines
        (:mod:`forecast.model.stacked`), when weights learned for the run's spec exist and
        the run's panel is at hand unchanged; otherwise, and with ``model``, the model's
        own forecast. ``attrs["forecast"]`` says which, ``attrs["forecast_note"]`` why.
    weights_path
        The stacking weights (``models/stacking.toml`` by default).
    """
    if forecast not in FORECASTS:
        raise ForecastError(f"--forecast must be one of {', '.join(FORECASTS)}, got {forecast!r}")
    seed = run.manifest.seed if random_seed is None else random_seed
    draws = project(run.posterior(), until, random_seed=seed)
    draws.attrs.update(
        {
            "run_id": run.run_id,
            "spec_sha256": run.manifest.spec.sha256,
            "converged": int(run.converged),
            "forecast_asked": forecast,
        }
    )
    # periods after the data up to this year are nowcasts (plots label them so)
    draws.attrs["nowcast_until"] = str(datetime.now(UTC).year)
    draws.attrs.update({"forecast": "model", "forecast_note": "asked for the model's forecast"})
    if forecast == "model":
        return draws
    why = _no_stacking(run, Path(weights_path))
    if why:
        draws.attrs["forecast_note"] = why
        return draws
    codebook = load_codebook()
    panel = read_panel(run.manifest.data.path, codebook)
    stacked = stack_forecast(
        draws,
        panel,
        codebook,
        read_weights(weights_path),
        random_seed=stream_seed(seed, "stacking"),
    )
    stacked.attrs["forecast_note"] = (
        "the backtested mixture of the model with the persistence and local-level baselines"
    )
    return stacked


def _no_stacking(run: Run, weights_path: Path) -> str:
    """Why a run's forecast cannot be stacked ("" when it can)."""
    if not weights_path.is_file():
        return f"no stacking weights at {weights_path}: the model's own forecast"
    weights = read_weights(weights_path)
    if not weights.fits(run.manifest.spec_content, run.manifest.spec.sha256):
        return (
            f"the stacking weights in {weights_path} were learned for another model spec: "
            "the model's own forecast"
        )
    data = Path(run.manifest.data.path)
    if not data.is_file() or panel_sha256(data) != run.manifest.data.sha256:
        return f"the run's panel {data} is not at hand unchanged: the model's own forecast"
    return ""
