"""A run's record: the typed, validated contents of ``runs/<run_id>/manifest.json``.

The fit writes a :class:`RunManifest` beside the posterior; every reader gets one back from
:func:`read_manifest`, which refuses a damaged or foreign manifest on one line naming the
file, the run and the key. Nothing downstream reads the JSON itself, so no reader has to
guess a default for a missing key.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields
from datetime import datetime
from pathlib import Path
from typing import Any

from forecast.defaults import MAX_SEED
from forecast.errors import ForecastError
from forecast.model.diagnostics import Diagnostics
from forecast.periods import period_frequency

__all__ = ["SCHEMA_VERSION", "FileRecord", "ModelRecord", "RunManifest", "read_manifest"]

#: the manifest layout this code writes; a manifest without the key predates it and has the
#: same layout (version 1 only added the key)
SCHEMA_VERSION = 1

_NUMBER = (int, float)
#: what a manifest must hold: dotted key -> (type, what it is)
KEYS: dict[str, tuple[type | tuple[type, ...], str]] = {
    "run_id": (str, "the run's id"),
    "created": (str, "the time the run was written"),
    "method": (str, "the inference method"),
    "approximate": (bool, "whether the method is approximate, true or false"),
    "seed": (int, f"the run's seed, an integer from 0 to {MAX_SEED}"),
    "converged": (bool, "whether the run passed the convergence gates, true or false"),
    "sampler": (dict, "a table of sampler settings"),
    "data": (dict, "a table describing the panel"),
    "data.path": (str, "the panel's path"),
    "data.sha256": (str, "the panel's SHA-256"),
    "spec": (dict, "a table describing the model spec"),
    "spec.path": (str, "the spec's path"),
    "spec.sha256": (str, "the spec's SHA-256"),
    "spec.content": (dict, "the spec's contents, a table"),
    "codebook": (dict, "a table describing the codebook"),
    "codebook.path": (str, "the codebook's path"),
    "codebook.sha256": (str, "the codebook's SHA-256"),
    "model": (dict, "a table describing the fitted model"),
    "model.states": (list, "a list of state codes"),
    "model.indicators": (list, "a list of indicators"),
    "model.left_out_without_variation": (list, "a list of indicators"),
    "model.first_period": (str, "the first fitted period"),
    "model.last_period": (str, "the last fitted period"),
    "model.observations": (dict, "a table of observation counts"),
    "timing": (dict, "a table of timings in seconds"),
    "diagnostics": (dict, "a table of diagnostics"),
    "diagnostics.method": (str, "the inference method"),
    "diagnostics.approximate": (bool, "true or false"),
    "diagnostics.chains": (int, "the number of chains"),
    "diagnostics.draws": (int, "the number of draws"),
    "diagnostics.max_rhat": (_NUMBER, "a number"),
    "diagnostics.worst_rhat": (str, "a parameter's label"),
    "diagnostics.min_ess_bulk": (_NUMBER, "a number"),
    "diagnostics.worst_ess_bulk": (str, "a parameter's label"),
    "diagnostics.min_ess_tail": (_NUMBER, "a number"),
    "diagnostics.divergences": (int, "the number of divergent transitions"),
    "diagnostics.converged": (bool, "true or false"),
    "diagnostics.failures": (list, "a list of the gates' failures"),
    "packages": (dict, "a table of package versions"),
}
#: keys a manifest may lack: a run written before its posterior's hash was recorded has none
OPTIONAL_KEYS: dict[str, tuple[type | tuple[type, ...], str]] = {
    "posterior_sha256": (str, "the SHA-256 of posterior.nc"),
    "schema_version": (int, f"a schema version from 1 to {SCHEMA_VERSION}"),
}


@dataclass(frozen=True)
class FileRecord:
    """An input file of the fit: where it was and what it held (its SHA-256)."""

    path: str
    sha256: str


@dataclass(frozen=True)
class ModelRecord:
    """What was fitted: states, indicators and the fitted periods."""

    states: tuple[str, ...]
    indicators: tuple[str, ...]
    left_out_without_variation: tuple[str, ...]
    first_period: str
    last_period: str
    observations: Mapping[str, int]


@dataclass(frozen=True)
class RunManifest:
    """Everything a run records besides its draws: provenance, settings and diagnostics.

    ``spec_content`` is the model spec as fitted (:meth:`AlignmentSpec.to_dict`), so a run
    can be told apart from another spec's even when the spec file has changed since.
    ``posterior_sha256`` is None for a run written before the hash was recorded (its
    posterior is then checked by HDF5 alone).
    """

    run_id: str
    created: str
    method: str
    approximate: bool
    seed: int
    converged: bool
    sampler: Mapping[str, Any]
    data: FileRecord
    spec: FileRecord
    spec_content: Mapping[str, Any]
    codebook: FileRecord
    model: ModelRecord
    timing: Mapping[str, float]
    diagnostics: Diagnostics
    packages: Mapping[str, str]
    posterior_sha256: str | None
    schema_version: int = field(default=SCHEMA_VERSION)

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON form of ``manifest.json`` (read back by :func:`read_manifest`)."""
        out = asdict(self)
        out["spec"]["content"] = out.pop("spec_content")
        out["model"] = {k: list(v) if isinstance(v, tuple) else v for k, v in out["model"].items()}
        out["diagnostics"]["failures"] = list(self.diagnostics.failures)
        return out


def _check_keys(manifest: Mapping[str, Any], where: str) -> None:
    """Raise on the first key of :data:`KEYS` missing, or of either table of the wrong type."""
    for key, (typ, what) in (KEYS | OPTIONAL_KEYS).items():
        parent, _, leaf = key.rpartition(".")
        holder = manifest[parent] if parent else manifest
        if not isinstance(holder, dict) or leaf not in holder:
            if key in OPTIONAL_KEYS:
                continue
            raise ForecastError(f"{where}: key {key} missing: expected {what}")
        value = holder[leaf]
        # JSON's true is a Python bool, which is also an int: keep the two apart
        if not isinstance(value, typ) or (typ is not bool and isinstance(value, bool)):
            raise ForecastError(f"{where}: key {key} is {value!r:.40}: expected {what}")


def _check_values(manifest: Mapping[str, Any], where: str) -> None:
    """Raise on a value of the right type but outside its domain."""
    version = _optional(manifest, "schema_version", SCHEMA_VERSION)
    if version < 1:
        raise ForecastError(f"{where}: key schema_version is {version}: expected 1")
    if version > SCHEMA_VERSION:
        raise ForecastError(
            f"{where}: schema_version {version} was written by a newer forecast "
            f"(this one reads up to {SCHEMA_VERSION}): upgrade forecast"
        )
    try:
        datetime.fromisoformat(manifest["created"])
    except ValueError:
        raise ForecastError(
            f"{where}: key created is {manifest['created']!r:.40}: expected an ISO 8601 time "
            "such as 2026-12-06T10:00:00+00:00"
        ) from None
    if not 0 <= manifest["seed"] <= MAX_SEED:
        raise ForecastError(f"{where}: key seed is {manifest['seed']}: expected {KEYS['seed'][1]}")
    for key in ("first_period", "last_period"):
        value = manifest["model"][key]
        if period_frequency(value) is None:
            raise ForecastError(
                f"{where}: key model.{key} is {value!r:.40}: expected a period such as 2020"
            )


def _optional(manifest: Mapping[str, Any], key: str, absent: Any) -> Any:
    """Return an optional key's value, or what its absence means (:data:`OPTIONAL_KEYS`)."""
    return manifest[key] if key in manifest else absent


def read_manifest(manifest: Any, path: Path | str, run_id: str) -> RunManifest:
    """Check the parsed ``manifest.json`` and return it as a :class:`RunManifest`.

    Parameters
    ----------
    manifest
        The parsed JSON.
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
    >>> read_manifest([1], "runs/r/manifest.json", "r")
    Traceback (most recent call last):
    ...
    forecast.errors.ForecastError: runs/r/manifest.json: run r: expected a JSON object, not a list
    """
    where = f"{path}: run {run_id}"
    if not isinstance(manifest, dict):
        names: dict[type, str] = {list: "a list", str: "a string"}
        kind = names.get(type(manifest), type(manifest).__name__)
        raise ForecastError(f"{where}: expected a JSON object, not {kind}")
    _check_keys(manifest, where)
    _check_values(manifest, where)
    model, diag = manifest["model"], manifest["diagnostics"]
    return RunManifest(
        run_id=manifest["run_id"],
        created=manifest["created"],
        method=manifest["method"],
        approximate=manifest["approximate"],
        seed=manifest["seed"],
        converged=manifest["converged"],
        sampler=dict(manifest["sampler"]),
        data=FileRecord(manifest["data"]["path"], manifest["data"]["sha256"]),
        spec=FileRecord(manifest["spec"]["path"], manifest["spec"]["sha256"]),
        spec_content=dict(manifest["spec"]["content"]),
        codebook=FileRecord(manifest["codebook"]["path"], manifest["codebook"]["sha256"]),
        model=ModelRecord(
            states=tuple(map(str, model["states"])),
            indicators=tuple(map(str, model["indicators"])),
            left_out_without_variation=tuple(map(str, model["left_out_without_variation"])),
            first_period=model["first_period"],
            last_period=model["last_period"],
            observations={str(k): int(v) for k, v in model["observations"].items()},
        ),
        timing={str(k): float(v) for k, v in manifest["timing"].items()},
        diagnostics=Diagnostics(
            **{f.name: diag[f.name] for f in fields(Diagnostics) if f.name != "failures"},
            failures=tuple(map(str, diag["failures"])),
        ),
        packages={str(k): str(v) for k, v in manifest["packages"].items()},
        posterior_sha256=_optional(manifest, "posterior_sha256", None),
        schema_version=_optional(manifest, "schema_version", SCHEMA_VERSION),
    )
