"""Damaged run directories are refused on one line naming the run and the file.

A run is ``manifest.json`` and ``posterior.nc`` (DESIGN.md section 2). A manifest that is not
JSON, not an object or lacks a key a command needs, and a posterior that is garbage or cut
short, end every command that reads the run with status 1 and one line, never a traceback.
No fit is needed: the runs here hold a small posterior written directly.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import xarray as xr

from forecast.errors import ForecastError
from forecast.model.runs import load_run
from tests.data.panel_fixtures import run_cli
from tests.manifests import run_manifest, write_manifest

RUN_ID = "20261206T000000Z-nuts-s1"
MANIFEST: dict[str, Any] = run_manifest(RUN_ID).to_dict()


def _write_run(root: Path, *, with_hash: bool) -> Path:
    run = root / RUN_ID
    run.mkdir()
    draws = np.random.default_rng(1).normal(size=(2, 500, 5))
    posterior = xr.Dataset({"drift": (("chain", "draw", "state"), draws)})
    xr.DataTree.from_dict({"posterior": posterior}).to_netcdf(
        run / "posterior.nc", engine="h5netcdf"
    )
    if with_hash:
        write_manifest(run, MANIFEST)
    else:
        legacy = {k: v for k, v in MANIFEST.items() if k != "posterior_sha256"}
        (run / "manifest.json").write_text(json.dumps(legacy))
    return run


@pytest.fixture(scope="module")
def good_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A run directory whose files are intact (its posterior is small, not a real fit)."""
    return _write_run(tmp_path_factory.mktemp("runs"), with_hash=True)


@pytest.fixture(scope="module")
def legacy_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The same, written before runs recorded their posterior's SHA-256."""
    return _write_run(tmp_path_factory.mktemp("legacy"), with_hash=False)


def _damaged(good: Path, tmp_path: Path, name: str, damage: Callable[[Path], None]) -> Path:
    run = tmp_path / RUN_ID
    shutil.copytree(good, run)
    damage(run / name)
    return run


def _manifest(value: Any) -> Callable[[Path], None]:
    return lambda path: path.write_text(json.dumps(value))


def _without(key: str) -> Callable[[Path], None]:
    return _manifest({k: v for k, v in MANIFEST.items() if k != key})


def _with(**changes: Any) -> Callable[[Path], None]:
    return _manifest(MANIFEST | changes)


def _truncate(path: Path) -> None:
    os.truncate(path, path.stat().st_size // 2)


def _garbage(path: Path) -> None:
    path.write_bytes(np.random.default_rng(2).bytes(5000))


def _empty(path: Path) -> None:
    path.write_bytes(b"")


def _scribble(path: Path) -> None:
    # the HDF5 signature survives; the metadata after it does not
    data = bytearray(path.read_bytes())
    rng = np.random.default_rng(3)
    for i in rng.integers(8, len(data), size=2000):
        data[i] = rng.integers(256)
    path.write_bytes(bytes(data))


def _zero_block(path: Path) -> None:
    # 4 KiB of zeros near the end, where the attributes' strings are: h5py then looped
    data = bytearray(path.read_bytes())
    start = len(data) - 6000
    data[start : start + 4096] = bytes(4096)
    path.write_bytes(bytes(data))


def _no_posterior_group(path: Path) -> None:
    xr.Dataset({"x": ("draw", np.zeros(3))}).to_netcdf(path, engine="h5netcdf")


#: (file, damage, fragment of the message); the run's id and the file are always named
MANIFEST_DAMAGE = [
    pytest.param(_without("seed"), "key seed missing", id="no-seed"),
    pytest.param(_without("data"), "key data missing", id="no-data"),
    pytest.param(_with(data={"path": "x"}), "key data.sha256 missing", id="no-data-hash"),
    pytest.param(_with(seed="1"), "key seed is '1': expected the run's seed", id="seed-text"),
    pytest.param(_with(seed=True), "key seed is True", id="seed-bool"),
    pytest.param(_with(seed=-1), "an integer from 0 to 4294967295", id="seed-negative"),
    pytest.param(_with(seed=2**70), "an integer from 0 to", id="seed-huge"),
    pytest.param(_with(converged="yes"), "key converged is 'yes'", id="converged-text"),
    pytest.param(_with(model=[]), "key model is []", id="model-list"),
    pytest.param(_manifest([1, 2]), "expected a JSON object, not a list", id="json-list"),
    pytest.param(_manifest("run"), "expected a JSON object, not a string", id="json-string"),
    pytest.param(lambda p: p.write_text('{"run_id": '), "corrupt manifest", id="not-json"),
    pytest.param(lambda p: p.write_bytes(b'{"run_id": "\xff"}'), "not UTF-8", id="not-utf8"),
    pytest.param(lambda p: p.write_text("[" * 100_000), "corrupt manifest", id="deep"),
]
POSTERIOR_DAMAGE = [
    pytest.param(_truncate, "the file is damaged or truncated", id="truncated"),
    pytest.param(_garbage, "not a netCDF-4 (HDF5) file", id="garbage"),
    pytest.param(_empty, "not a netCDF-4 (HDF5) file", id="empty"),
    pytest.param(_scribble, "the file is damaged or truncated", id="scribbled"),
    pytest.param(_no_posterior_group, "no posterior group", id="no-posterior-group"),
]


@pytest.mark.parametrize("which", ["good_run", "legacy_run"])
def test_intact_run_loads(which: str, request: pytest.FixtureRequest) -> None:
    run = load_run(request.getfixturevalue(which))
    assert run.run_id == RUN_ID
    assert run.posterior()["posterior"]["drift"].shape == (2, 500, 5)


@pytest.mark.parametrize(("damage", "fragment"), MANIFEST_DAMAGE)
def test_damaged_manifest_is_refused_on_load(
    good_run: Path, tmp_path: Path, damage: Callable[[Path], None], fragment: str
) -> None:
    run = _damaged(good_run, tmp_path, "manifest.json", damage)
    with pytest.raises(ForecastError) as err:
        load_run(run)
    message = str(err.value)
    assert message.startswith(f"{run / 'manifest.json'}: run {RUN_ID}: "), message
    assert fragment in message, message


def _refused_posterior(run: Path, fragment: str) -> None:
    with pytest.raises(ForecastError) as err:
        load_run(run).posterior()
    message = str(err.value)
    assert message.startswith(f"{run / 'posterior.nc'}: run {RUN_ID}: "), message
    assert fragment in message, message
    assert "\n" not in message


@pytest.mark.parametrize(("damage", "fragment"), POSTERIOR_DAMAGE)
def test_damaged_posterior_of_an_old_run_is_refused(
    legacy_run: Path, tmp_path: Path, damage: Callable[[Path], None], fragment: str
) -> None:
    # without a recorded hash, HDF5 itself finds the damage
    _refused_posterior(_damaged(legacy_run, tmp_path, "posterior.nc", damage), fragment)


@pytest.mark.parametrize(
    "damage", [p.values[0] for p in POSTERIOR_DAMAGE] + [_zero_block], ids=lambda f: f.__name__
)
def test_damaged_posterior_is_refused_by_its_hash(
    good_run: Path, tmp_path: Path, damage: Callable[[Path], None]
) -> None:
    run = _damaged(good_run, tmp_path, "posterior.nc", damage)
    if damage in (_garbage, _empty):
        # not even HDF5: refused when the run is loaded
        with pytest.raises(ForecastError, match="not a netCDF-4"):
            load_run(run)
        return
    _refused_posterior(run, "is not the one recorded in manifest.json")


#: commands that read a run, with what they need besides it
READERS = {
    "predict": lambda run, tmp: ["predict", str(run), "--out", str(tmp / "out")],
    "plot": lambda run, tmp: ["plot", str(run), "--out", str(tmp / "figures")],
    "scenarios": lambda run, tmp: ["scenarios", str(run)],
    "whatif": lambda run, tmp: ["whatif", str(run)],
    "ledger record": lambda run, tmp: [
        "ledger",
        "record",
        "--quarter",
        "2026Q4",
        str(run),
        "--ledger",
        str(tmp / "l.db"),
    ],
    "report": lambda run, tmp: [
        "report",
        "--quarter",
        "2026Q4",
        "--run",
        str(run),
        "--out",
        str(tmp / "report"),
        "--ledger",
        str(tmp / "l.db"),
    ],
}
CLI_DAMAGE = [
    ("manifest.json", _without("seed"), "key seed missing"),
    ("manifest.json", _manifest([1]), "not a list"),
    ("posterior.nc", _truncate, "is not the one recorded in manifest.json"),
    ("posterior.nc", _zero_block, "is not the one recorded in manifest.json"),
]


@pytest.mark.parametrize("command", list(READERS))
@pytest.mark.parametrize(("name", "damage", "fragment"), CLI_DAMAGE)
def test_commands_refuse_a_damaged_run(
    command: str,
    name: str,
    damage: Callable[[Path], None],
    fragment: str,
    good_run: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(tmp_path)
    runs = tmp_path / "runs"
    runs.mkdir()
    run = _damaged(good_run, runs, name, damage)
    before = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*"))
    result = run_cli(READERS[command](run, tmp_path), capsys)
    assert result.code == 1, result
    assert "Traceback" not in result.err and "Exception ignored" not in result.err
    lines = result.err.splitlines()
    assert len(lines) == 1, result.err
    assert lines[0].startswith(f"error: {run / name}: run "), lines[0]
    assert fragment in lines[0]
    assert sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*")) == before


@pytest.mark.parametrize("damage", [_truncate, _scribble], ids=lambda f: f.__name__)
def test_predict_refuses_a_damaged_old_run(
    damage: Callable[[Path], None],
    legacy_run: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    run = _damaged(legacy_run, tmp_path, "posterior.nc", damage)
    result = run_cli(["predict", str(run), "--out", str(tmp_path / "out")], capsys)
    assert result.code == 1, result
    # h5netcdf's half-built file object once printed a traceback when collected at exit
    assert "Traceback" not in result.err and "Exception ignored" not in result.err
    assert result.err.startswith(f"error: {run / 'posterior.nc'}: run {RUN_ID}: cannot read")
    assert not (tmp_path / "out").exists()
