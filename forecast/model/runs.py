"""The run store: ``runs/<run_id>/`` with ``posterior.nc``, ``manifest.json`` and ``summary.csv``.

A run directory is written to a temporary sibling and renamed into place, then
``runs/latest`` is pointed at it; a reader never sees a half-written run. Ctrl-C is held
for the rename and the pointer together, so an interrupted fit has written its run and
moved ``latest``, or neither. Temporary directories left by a killed writer are removed by
the next run saved in the same directory (only those whose process is gone).
"""

from __future__ import annotations

import hashlib
import json
import platform
from contextlib import ExitStack
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import TYPE_CHECKING, Any

import xarray as xr

from forecast.atomic import (
    atomic_directory,
    atomic_paths,
    remove_stale_directories,
    replace_symlink,
)
from forecast.defaults import DEFAULT_HORIZON, DEFAULT_RUNS
from forecast.dims import PERIOD
from forecast.errors import ForecastError
from forecast.interrupts import sigint_deferred
from forecast.model.manifest import RunManifest, read_manifest
from forecast.periods import parse_period

if TYPE_CHECKING:
    import pandas as pd


__all__ = [
    "DEFAULT_RUNS",
    "Run",
    "load_run",
    "new_run_id",
    "resolve_run",
    "save_run",
    "through",
    "write_forecast",
]
LATEST = "latest"
#: a run's forecast draws, beside its posterior (``forecast predict`` writes it)
FORECAST_FILE = "forecast.nc"
#: the first bytes of every HDF5 file, hence of every netCDF-4 file a run holds
HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"
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
    manifest: RunManifest

    @property
    def run_id(self) -> str:
        """The run's id (its directory name)."""
        return self.manifest.run_id

    @property
    def converged(self) -> bool:
        """Whether the run passed the convergence gates."""
        return self.manifest.converged

    def panel_path(self, data: Path | None = None) -> Path:
        """Return ``data`` if given, else the panel the run was fitted to, else the bundled one."""
        if data is not None:
            return data
        from forecast.data.panel import DEFAULT_PANEL

        fitted = Path(self.manifest.data.path)
        return fitted if fitted.is_file() else DEFAULT_PANEL

    def posterior(self) -> xr.DataTree:
        """Open ``posterior.nc`` (loaded into memory).

        Raises
        ------
        ForecastError
            Naming the run and the file when it cannot be read or holds no posterior.
        """
        path = self.path / "posterior.nc"
        recorded = self.manifest.posterior_sha256
        # before HDF5 reads a byte: a damaged file can make the library fail obscurely or
        # even loop for ever (a scribbled global heap did); runs written before the hash
        # was recorded go straight to the reader
        if recorded is not None and _sha256(path) != recorded:
            raise ForecastError(
                f"{path}: run {self.run_id}: the file differs from the one written (its SHA-256 "
                "is not the one recorded in manifest.json): it is damaged or was changed"
            )
        tree = _read_netcdf(self, path, xr.open_datatree)
        if "posterior" not in tree.children:
            raise ForecastError(f"{path}: run {self.run_id}: no posterior group: not a run's file")
        return tree

    def stored_forecast(self) -> xr.Dataset | None:
        """Return the run's stored forecast (``forecast.nc``), or None when it has none.

        Raises
        ------
        ForecastError
            Naming the run and the file when it cannot be read.
        """
        path = self.path / FORECAST_FILE
        return _read_netcdf(self, path, xr.open_dataset) if path.is_file() else None

    def forecast(
        self,
        until: str = DEFAULT_HORIZON,
        *,
        kind: str = "stacked",
        seed: int | None = None,
        store: bool = False,
    ) -> xr.Dataset:
        """Return the run's forecast draws through ``until``: the one way to a run's forecast.

        The stored ``forecast.nc`` is the answer when it was made from this run (run id and
        spec hash), with this seed, of this kind, by this version of the package and of its
        model code, with the present stacking weights
        (:func:`forecast.model.forecasting.forecast_fingerprint`), and reaches ``until``; it
        is returned through ``until``. Otherwise the run is projected afresh
        (:func:`forecast.model.forecasting.project_run`) and, with ``store``, written to the
        run directory with its tables (:func:`write_forecast`).

        Parameters
        ----------
        until
            Last forecast period.
        kind
            ``stacked`` (the backtested mixture with the baselines, when it applies) or
            ``model`` (the model's own forecast).
        seed
            Seed of the projection's streams; default the run's own, so that a run's
            forecast is reproducible.
        store
            Write a fresh forecast to the run directory (``forecast predict`` and the report).
        """
        from forecast.model.forecasting import project_run

        seed = self.manifest.seed if seed is None else seed
        stored = self.stored_forecast()
        if stored is not None and self._reusable(stored, until, kind, seed):
            return through(stored, until)
        fresh = project_run(self.manifest, self.posterior(), until, random_seed=seed, forecast=kind)
        if store:
            write_forecast(fresh, self.path)
        return fresh

    def _reusable(self, stored: xr.Dataset, until: str, kind: str, seed: int) -> bool:
        """Whether a stored forecast answers :meth:`forecast` (the one reuse rule)."""
        from forecast.model.forecasting import forecast_fingerprint

        attrs = stored.attrs
        made = (attrs.get("run_id"), attrs.get("spec_sha256"), attrs.get("random_seed"))
        fingerprint = forecast_fingerprint()
        return (
            made == (self.run_id, self.manifest.spec.sha256, seed)
            and attrs.get("forecast_asked") == kind
            and all(attrs.get(k) == v for k, v in fingerprint.items())
            and _end(str(stored[PERIOD].values[-1])) >= _end(until)
        )

    def dataset(self, name: str) -> xr.Dataset:
        """Open the run's netCDF file ``name`` (e.g. ``forecast.nc``), loaded into memory.

        Raises
        ------
        ForecastError
            Naming the run and the file when it cannot be read.
        """
        return _read_netcdf(self, self.path / name, xr.open_dataset)


def _end(period: str) -> pd.Timestamp:
    return parse_period(period).end_time


def through(forecast: xr.Dataset, until: str) -> xr.Dataset:
    """Return ``forecast`` without the periods that end after ``until``.

    Raises
    ------
    ForecastError
        When every period of the forecast ends after ``until``.
    """
    keep = [p for p in (str(v) for v in forecast[PERIOD].values) if _end(p) <= _end(until)]
    if not keep:
        raise ForecastError(f"--until {until}: the forecast starts after it")
    if len(keep) == forecast.sizes[PERIOD]:
        return forecast
    # a new attrs dict: selecting shares the caller's
    out = forecast.sel({PERIOD: keep})
    out.attrs = {**forecast.attrs, "until": until}
    return out


def write_forecast(forecast: xr.Dataset, out_dir: str | Path) -> dict[str, Path]:
    """Write ``forecast.nc``, ``alignment.csv`` and ``indicators.csv`` atomically, together.

    The three are renamed into place together (:func:`forecast.atomic.atomic_paths`): a
    Ctrl-C never leaves a new forecast beside old tables.
    """
    from forecast.model.summaries import alignment_table, indicator_table

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {
        "forecast": out_dir / FORECAST_FILE,
        "alignment": out_dir / "alignment.csv",
        "indicators": out_dir / "indicators.csv",
    }
    with atomic_paths(list(paths.values())) as tmps:
        tmp = dict(zip(paths, tmps, strict=True))
        forecast.to_netcdf(tmp["forecast"], engine="h5netcdf")
        for key, table in (
            ("alignment", alignment_table(forecast)),
            ("indicators", indicator_table(forecast)),
        ):
            table.to_csv(tmp[key], index=False, float_format="%.6g", lineterminator="\n")
    return paths


#: what a truncated or overwritten file raises in h5py (OSError), in the netCDF layer
#: (ValueError, KeyError, TypeError) or in xarray's decoding: none of it is a bug of this program
_DAMAGED = (OSError, ValueError, KeyError, TypeError, IndexError, AttributeError, RuntimeError)


def _sha256(path: Path) -> str:
    with open(path, "rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


def _check_hdf5(path: Path) -> None:
    """Open every group, variable and attribute of an HDF5 file with h5py, which fails cleanly.

    h5netcdf, given a file whose metadata is damaged, fails half-way through building its file
    object, whose finaliser then fails again and prints a traceback when the object is
    collected; h5py reads the same metadata first and leaves nothing behind.
    """
    import h5py

    def touch(_: str, obj: Any) -> None:
        for key in obj.attrs:
            obj.attrs[key]

    with h5py.File(path, "r") as handle:
        touch("/", handle)
        handle.visititems(touch)


def _read_netcdf(run: Run, path: Path, opener: Any) -> Any:
    """Open and load a netCDF file of ``run``, refusing a damaged one on one line."""
    try:
        _check_hdf5(path)
        with opener(path, engine="h5netcdf") as handle:
            return handle.load()
    except _DAMAGED as err:
        reason = " ".join(str(err).split())[:200] or type(err).__name__
        raise ForecastError(
            f"{path}: run {run.run_id}: cannot read ({reason}): the file is damaged or truncated"
        ) from None


def save_run(
    runs_dir: str | Path,
    posterior: xr.DataTree,
    manifest: RunManifest,
    *,
    summary: pd.DataFrame | None = None,
) -> Run:
    """Write a run atomically and point ``runs/latest`` at it.

    ``manifest.posterior_sha256`` is filled in here, from the file as written. ``summary``
    is the run's :func:`~forecast.model.diagnostics.convergence_summary` when the caller has
    computed it already.
    """
    from forecast.model.diagnostics import convergence_summary

    runs_dir = Path(runs_dir)
    run_id = manifest.run_id
    target = runs_dir / run_id
    if target.exists():
        raise ForecastError(f"{target}: a run with this id already exists")
    remove_stale_directories(runs_dir)
    with ExitStack() as stack:
        tmp = stack.enter_context(atomic_directory(target))
        posterior.to_netcdf(tmp / "posterior.nc", engine="h5netcdf")
        manifest = replace(manifest, posterior_sha256=_sha256(tmp / "posterior.nc"))
        if summary is None:
            summary = convergence_summary(posterior)
        summary.to_csv(tmp / "summary.csv")
        text = json.dumps(manifest.to_dict(), indent=2, sort_keys=True) + "\n"
        (tmp / "manifest.json").write_text(text)
        with sigint_deferred(kept=f"run {run_id} was written to {target}"):
            stack.close()  # renames the run into place
            replace_symlink(runs_dir / LATEST, run_id)
    return Run(target, manifest)


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
    """Open a stored run, checking its files are there and its manifest is complete.

    The posterior itself is read when needed (:meth:`Run.posterior`); here only its first
    bytes are checked, which catches a file overwritten with anything but HDF5.

    Raises
    ------
    ForecastError
        Naming the run and the file: no such run, a missing file, a manifest that is not JSON,
        not an object, or lacks a key (:func:`~forecast.model.manifest.read_manifest`), a
        posterior that is not HDF5.
    """
    path = resolve_run(run, runs_dir)
    manifest_path = path / "manifest.json"
    posterior_path = path / "posterior.nc"
    if not manifest_path.is_file() or not posterior_path.is_file():
        raise ForecastError(
            f"{path}: not a run directory (manifest.json and posterior.nc expected)"
        )
    try:
        manifest = json.loads(manifest_path.read_bytes())
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError) as err:
        if isinstance(err, json.JSONDecodeError):
            reason = err.msg
        elif isinstance(err, UnicodeDecodeError):
            reason = "not UTF-8 text"
        else:
            reason = "nested too deeply"
        raise ForecastError(
            f"{manifest_path}: run {path.name}: corrupt manifest ({reason}): expected JSON"
        ) from None
    except OSError as err:
        raise ForecastError(f"{manifest_path}: run {path.name}: cannot read ({err})") from None
    record = read_manifest(manifest, manifest_path, path.name)
    with open(posterior_path, "rb") as fh:
        head = fh.read(len(HDF5_SIGNATURE))
    if head != HDF5_SIGNATURE:
        raise ForecastError(
            f"{posterior_path}: run {record.run_id}: not a netCDF-4 (HDF5) file: "
            "the posterior is damaged or was overwritten"
        )
    return Run(path, record)
