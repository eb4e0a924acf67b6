"""The model's user path as plain functions: fit a panel and store a run; forecast a run.

Imitates Prophet's ``fit -> predict`` path; the CLI and the report pipeline call these.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

from forecast.data.codebook import Codebook, load_codebook
from forecast.data.panel import panel_sha256, read_panel
from forecast.model.design import build_model_data
from forecast.model.diagnostics import Diagnostics, convergence_summary, diagnose
from forecast.model.fit import CompiledModels, fit_alignment_model
from forecast.model.inference import FitSettings, fit_settings
from forecast.model.manifest import FileRecord, ModelRecord, RunManifest
from forecast.model.runs import Run, new_run_id, package_versions, save_run
from forecast.model.spec import AlignmentSpec, load_model_spec
from forecast.progress import SILENT, Progress

__all__ = ["FitOutcome", "fit_panel", "settings_from_spec"]


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
