"""The run store: ``runs/<run_id>/`` with ``posterior.nc``, ``manifest.json`` and ``summary.csv``.

A run directory is written to a temporary sibling and renamed into place, then
``runs/latest`` is pointed at it; a reader never sees a half-written run. Ctrl-C is held
for the rename and the pointer together, so an interrupted fit has written its run and
moved ``latest``, or neither. Temporary directories left by a killed writer are removed by
the next run saved in the same directory (only those whose process is gone).
"""

from __future__ import annotations

import json
import platform
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import TYPE_CHECKING, Any

import xarray as xr

from forecast.atomic import atomic_directory, remove_stale_directories, replace_symlink
from forecast.defaults import DEFAULT_RUNS
from forecast.errors import ForecastError
from forecast.interrupts import sigint_deferred

if TYPE_CHECKING:
    import pandas as pd

    from forecast.model.diagnostics import Diagnostics

__all__ = ["DEFAULT_RUNS", "Run", "load_run", "new_run_id", "resolve_run", "save_run"]
LATEST = "latest"
PACKAGES = (
    "forecast",
    "pymc",
    "pytensor",
    "nutpie",
    "arviz",
    "arviz-stats",
    "numpy",
    "pandas",
    "xarray",
    "scipy",
    "statsmodels",
)


def package_versions() -> dict[str, str]:
    """Versions of Python and the packages a run's numbers depend on."""
    out = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            out[name] = "not installed"
    return out


def new_run_id(method: str, seed: int, now: datetime | None = None) -> str:
    """Return a sortable run id such as ``20261125T101500Z-nuts-s1``.

    Examples
    --------
    >>> new_run_id("nuts", 1, datetime(2026, 11, 25, 10, 15, tzinfo=UTC))
    '20261125T101500Z-nuts-s1'
    """
    now = now or datetime.now(UTC)
    return f"{now:%Y%m%dT%H%M%SZ}-{method}-s{seed}"


@dataclass(frozen=True)
class Run:
    """A stored run: its directory, manifest and (lazily opened) posterior."""

    path: Path
    manifest: dict[str, Any]

    @property
    def run_id(self) -> str:
        """The run's id (its directory name)."""
        return str(self.manifest["run_id"])

    @property
    def converged(self) -> bool:
        """Whether the run passed the convergence gates."""
        return bool(self.manifest["converged"])

    def panel_path(self, data: Path | None = None) -> Path:
        """Return ``data`` if given, else the panel the run was fitted to, else the bundled one."""
        if data is not None:
            return data
        from forecast.data.panel import DEFAULT_PANEL

        fitted = Path(str(self.manifest.get("data", {}).get("path", "")))
        return fitted if fitted.is_file() else DEFAULT_PANEL

    def posterior(self) -> xr.DataTree:
        """Open ``posterior.nc`` (loaded into memory)."""
        return xr.open_datatree(self.path / "posterior.nc", engine="h5netcdf").load()


def save_run(
    runs_dir: str | Path,
    posterior: xr.DataTree,
    manifest: dict[str, Any],
    diagnostics: Diagnostics,
    *,
    summary: pd.DataFrame | None = None,
) -> Run:
    """Write a run atomically and point ``runs/latest`` at it.

    ``manifest`` must hold ``run_id``; diagnostics, ``converged`` and package versions are
    added here. ``summary`` is the run's :func:`~forecast.model.diagnostics.convergence_summary`
    when the caller has computed it already.
    """
    from forecast.model.diagnostics import convergence_summary

    runs_dir = Path(runs_dir)
    run_id = str(manifest["run_id"])
    target = runs_dir / run_id
    if target.exists():
        raise ForecastError(f"{target}: a run with this id already exists")
    full = dict(manifest)
    full.setdefault("created", datetime.now(UTC).isoformat(timespec="seconds"))
    full["packages"] = package_versions()
    full["diagnostics"] = diagnostics.to_dict()
    full["converged"] = diagnostics.converged
    remove_stale_directories(runs_dir)
    with ExitStack() as stack:
        tmp = stack.enter_context(atomic_directory(target))
        posterior.to_netcdf(tmp / "posterior.nc", engine="h5netcdf")
        if summary is None:
            summary = convergence_summary(posterior)
        summary.to_csv(tmp / "summary.csv")
        (tmp / "manifest.json").write_text(json.dumps(full, indent=2, sort_keys=True) + "\n")
        with sigint_deferred(kept=f"run {run_id} was written to {target}"):
            stack.close()  # renames the run into place
            replace_symlink(runs_dir / LATEST, run_id)
    return Run(target, full)


def resolve_run(run: str | Path | None, runs_dir: str | Path = DEFAULT_RUNS) -> Path:
    """Directory of a run given as a path, a run id, or ``None`` for ``runs/latest``."""
    runs_dir = Path(runs_dir)
    if run is None:
        path = runs_dir / LATEST
        if not path.exists():
            raise ForecastError(f"{path}: no run yet; run `forecast fit` first")
        return path.resolve()
    path = Path(run)
    if path.is_dir():
        return path.resolve()
    if (runs_dir / str(run)).is_dir():
        return (runs_dir / str(run)).resolve()
    raise ForecastError(f"{run}: no such run directory (looked in {runs_dir})")


def load_run(run: str | Path | None, runs_dir: str | Path = DEFAULT_RUNS) -> Run:
    """Open a stored run, checking its files are there."""
    path = resolve_run(run, runs_dir)
    manifest_path = path / "manifest.json"
    if not manifest_path.is_file() or not (path / "posterior.nc").is_file():
        raise ForecastError(
            f"{path}: not a run directory (manifest.json and posterior.nc expected)"
        )
    try:
        manifest = json.loads(manifest_path.read_text())
    except json.JSONDecodeError as err:
        raise ForecastError(f"{manifest_path}: corrupt manifest ({err.msg})") from None
    return Run(path, manifest)
