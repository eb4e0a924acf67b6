"""A stored run's forecast: the model's projection, stacked with the baselines when it can be.

:meth:`Run.forecast <forecast.model.runs.Run.forecast>` is the one way to a run's forecast;
it reads the stored one or calls :func:`project_run` here.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from pathlib import Path

import xarray as xr

from forecast.data.codebook import load_codebook
from forecast.data.panel import panel_sha256, read_panel
from forecast.defaults import DEFAULT_HORIZON
from forecast.errors import ForecastError
from forecast.model.manifest import RunManifest
from forecast.model.project import project
from forecast.model.stacked import (
    DEFAULT_STACKING,
    FORECASTS,
    StackingWeights,
    read_weights,
    stack_forecast,
)
from forecast.seeds import stream_seed

__all__ = ["forecast_fingerprint", "project_run", "weights_for_run"]


def model_code_sha256() -> str:
    """Hash of the source of :mod:`forecast.model`, the code a run's forecast is made by.

    A code change within one package version (the way a stacked forecast's draws are laid
    out, say) changes it, so a forecast stored before the change is not reused. It covers
    the fitting code too: more recomputation than needed, never a stale forecast.

    Examples
    --------
    >>> len(model_code_sha256())
    64
    """
    digest = hashlib.sha256()
    for source in sorted(Path(__file__).parent.glob("*.py")):
        digest.update(source.name.encode())
        digest.update(source.read_bytes())
    return digest.hexdigest()


def forecast_fingerprint(weights_path: str | Path = DEFAULT_STACKING) -> dict[str, str]:
    """Return what a forecast is made with besides its run and seed.

    The package version, the hash of the model code (:func:`model_code_sha256`) and the
    stacking weights' file hash (empty without one): a stored forecast made by other code,
    or stacked with other weights, is not reused.

    Examples
    --------
    >>> forecast_fingerprint("no-such-file.toml")["stacking_sha256"]
    ''
    """
    from forecast import __version__

    path = Path(weights_path)
    digest = hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else ""
    return {
        "forecast_version": __version__,
        "model_code_sha256": model_code_sha256(),
        "stacking_sha256": digest,
    }


def project_run(
    manifest: RunManifest,
    posterior: xr.DataTree,
    until: str = DEFAULT_HORIZON,
    *,
    random_seed: int | None = None,
    forecast: str = "stacked",
    weights_path: str | Path = DEFAULT_STACKING,
) -> xr.Dataset:
    """Project a stored run (its manifest and posterior) through ``until``.

    Callers go through :meth:`Run.forecast <forecast.model.runs.Run.forecast>`, which reuses
    the run's stored forecast when it answers the question.

    Parameters
    ----------
    manifest, posterior
        The run's record and fitted posterior.
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
    seed = manifest.seed if random_seed is None else random_seed
    draws = project(posterior, until, random_seed=seed)
    draws.attrs.update(
        {
            "run_id": manifest.run_id,
            "spec_sha256": manifest.spec.sha256,
            "converged": int(manifest.converged),
            "forecast_asked": forecast,
            **forecast_fingerprint(weights_path),
        }
    )
    # periods after the data up to this year are nowcasts (plots label them so)
    draws.attrs["nowcast_until"] = str(datetime.now(UTC).year)
    draws.attrs.update({"forecast": "model", "forecast_note": "asked for the model's forecast"})
    if forecast == "model":
        return draws
    why = _no_stacking(manifest, Path(weights_path))
    if why:
        draws.attrs["forecast_note"] = why
        return draws
    codebook = load_codebook()
    panel = read_panel(manifest.data.path, codebook)
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


def weights_for_run(
    manifest: RunManifest, weights_path: str | Path = DEFAULT_STACKING
) -> StackingWeights | None:
    """Return the stacking weights (with their backtest) if learned for the run's spec."""
    path = Path(weights_path)
    if not path.is_file():
        return None
    weights = read_weights(path)
    return weights if weights.fits(manifest.spec_content, manifest.spec.sha256) else None


def _no_stacking(manifest: RunManifest, weights_path: Path) -> str:
    """Say why a run's forecast cannot be stacked ("" when it can)."""
    if not weights_path.is_file():
        return f"no stacking weights at {weights_path}: the model's own forecast"
    if weights_for_run(manifest, weights_path) is None:
        return (
            f"the stacking weights in {weights_path} were learned for another model spec: "
            "the model's own forecast"
        )
    data = Path(manifest.data.path)
    if not data.is_file() or panel_sha256(data) != manifest.data.sha256:
        return f"the run's panel {data} is not at hand unchanged: the model's own forecast"
    return ""
