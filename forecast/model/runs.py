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
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import TYPE_CHECKING, Any

import xarray as xr

from forecast.atomic import atomic_directory, remove_stale_directories, replace_symlink
from forecast.defaults import DEFAULT_RUNS, MAX_SEED
from forecast.errors import ForecastError
from forecast.interrupts import sigint_deferred
from forecast.periods import period_frequency

if TYPE_CHECKING:
    import pandas as pd

    from forecast.model.diagnostics import Diagnostics

__all__ = [
    "DEFAULT_RUNS",
    "Run",
    "check_manifest",
    "load_run",
    "new_run_id",
    "resolve_run",
    "save_run",
]
LATEST = "latest"
#: a run's forecast draws, beside its posterior (``forecast predict`` writes it)
FORECAST_FILE = "forecast.nc"
#: the first bytes of every HDF5 file, hence of every netCDF-4 file a run holds
HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"
#: what a loaded manifest must hold: key -> (type, what it is), nested tables by dotted key
MANIFEST_KEYS: dict[str, tuple[type | tuple[type, ...], str]] = {
    "run_id": (str, "the run's id"),
    "seed": (int, f"the run's seed, an integer from 0 to {MAX_SEED}"),
    "converged": (bool, "whether the run passed the convergence gates, true or false"),
    "data": (dict, "a table describing the panel"),
    "data.sha256": (str, "the panel's SHA-256"),
    "spec": (dict, "a table describing the model spec"),
    "spec.sha256": (str, "the spec's SHA-256"),
    "model": (dict, "a table describing the fitted model"),
}
_NUMBER = (int, float)
#: keys a manifest may lack, checked for their type when present (the report reads the
#: diagnostics and package versions)
MANIFEST_OPTIONAL: dict[str, tuple[type | tuple[type, ...], str]] = {
    "method": (str, "the inference method"),
    "approximate": (bool, "whether the method is approximate, true or false"),
    "created": (str, "the time the run was written"),
    "sampler": (dict, "a table of sampler settings"),
    "sampler.seed": (int, "the sampler's seed, an integer"),
    "diagnostics": (dict, "a table of diagnostics"),
    "diagnostics.chains": (int, "the number of chains"),
    "diagnostics.draws": (int, "the number of draws"),
    "diagnostics.divergences": (int, "the number of divergent transitions"),
    "diagnostics.max_rhat": (_NUMBER, "a number"),
    "diagnostics.min_ess_bulk": (_NUMBER, "a number"),
    "diagnostics.min_ess_tail": (_NUMBER, "a number"),
    "diagnostics.failures": (list, "a list of the gates' failures"),
    "packages": (dict, "a table of package versions"),
    "model.last_period": (str, "the last fitted period"),
    "posterior_sha256": (str, "the SHA-256 of posterior.nc"),
}
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
        """Open ``posterior.nc`` (loaded into memory).

        Raises
        ------
        ForecastError
            Naming the run and the file when it cannot be read or holds no posterior.
        """
        path = self.path / "posterior.nc"
        recorded = self.manifest.get("posterior_sha256")
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

    def dataset(self, name: str) -> xr.Dataset:
        """Open the run's netCDF file ``name`` (e.g. ``forecast.nc``), loaded into memory.

        Raises
        ------
        ForecastError
            Naming the run and the file when it cannot be read.
        """
        return _read_netcdf(self, self.path / name, xr.open_dataset)


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


def check_manifest(manifest: Any, path: Path, run_id: str) -> dict[str, Any]:
    """Return ``manifest`` if it holds every key a run needs, with the right types.

    Parameters
    ----------
    manifest
        The parsed ``manifest.json``.
    path
        The file, for messages.
    run_id
        The run's id as its directory names it (the manifest's own may be missing).

    Raises
    ------
    ForecastError
        Naming the file, the run and the first missing or mistyped key.

    Examples
    --------
    >>> check_manifest([1], Path("runs/r/manifest.json"), "r")
    Traceback (most recent call last):
    ...
    forecast.errors.ForecastError: runs/r/manifest.json: run r: expected a JSON object, not a list
    """
    where = f"{path}: run {run_id}"
    if not isinstance(manifest, dict):
        names: dict[type, str] = {list: "a list", str: "a string"}
        kind = names.get(type(manifest), type(manifest).__name__)
        raise ForecastError(f"{where}: expected a JSON object, not {kind}")
    for table, required in ((MANIFEST_KEYS, True), (MANIFEST_OPTIONAL, False)):
        for key, (typ, what) in table.items():
            parent, _, leaf = key.rpartition(".")
            holder = manifest.get(parent) if parent else manifest
            if not isinstance(holder, dict) or leaf not in holder:
                if required:
                    raise ForecastError(f"{where}: key {key} missing: expected {what}")
                continue
            value = holder[leaf]
            # JSON's true is a Python bool, which is also an int: keep the two apart
            if not isinstance(value, typ) or (typ is not bool and isinstance(value, bool)):
                raise ForecastError(f"{where}: key {key} is {value!r:.40}: expected {what}")
    if not 0 <= manifest["seed"] <= MAX_SEED:
        raise ForecastError(
            f"{where}: key seed is {manifest['seed']}: expected {MANIFEST_KEYS['seed'][1]}"
        )
    last = manifest["model"].get("last_period")
    if last is not None and period_frequency(last) is None:
        raise ForecastError(
            f"{where}: key model.last_period is {last!r:.40}: expected a period such as 2020"
        )
    return manifest


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
        full["posterior_sha256"] = _sha256(tmp / "posterior.nc")
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
    """Open a stored run, checking its files are there and its manifest is complete.

    The posterior itself is read when needed (:meth:`Run.posterior`); here only its first
    bytes are checked, which catches a file overwritten with anything but HDF5.

    Raises
    ------
    ForecastError
        Naming the run and the file: no such run, a missing file, a manifest that is not JSON,
        not an object, or lacks a key (:func:`check_manifest`), a posterior that is not HDF5.
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
    manifest = check_manifest(manifest, manifest_path, path.name)
    with open(posterior_path, "rb") as fh:
        head = fh.read(len(HDF5_SIGNATURE))
    if head != HDF5_SIGNATURE:
        raise ForecastError(
            f"{posterior_path}: run {manifest['run_id']}: not a netCDF-4 (HDF5) file: "
            "the posterior is damaged or was overwritten"
        )
    return Run(path, manifest)
