"""Fuzzing the command line's file inputs: damaged files end in exit 0 or 1, never a traceback.

The inputs: a panel and the codebook (``forecast data validate``), the model spec, the
scenario and what-if specs, and a run directory's ``manifest.json`` and ``posterior.nc``.

Each input starts from a valid file and is damaged by a few random byte edits (flips,
deletions, insertions, truncation) or, for TOML specs, by swapping one value for a hostile one
(``nan``, ``inf``, a huge integer, the wrong type). The command runs in this process through
the console script's entry point, and must end with status 0 (the file was still valid) or 1
with one ``error:`` line, and never print a traceback.

No model is fitted or compiled: the model spec goes through ``forecast fit`` with the fit
itself replaced by a clean exit; scenario and what-if specs and run directories go through
``forecast scenarios``, ``whatif`` and ``predict`` on a synthetic run whose stored forecast
answers the scenarios and whose posterior file holds no posterior (``whatif`` and ``predict``
stop there, after every check of their inputs). Example counts are fixed and the examples
derandomised (the suite's hypothesis profile), so the file takes about half a minute.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
import typer
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

# imported before any example runs: PyTensor raises the recursion limit when imported, which
# hypothesis reports as an error if it happens inside an example
import forecast.model.workflow  # noqa: F401
from forecast.data.codebook import DEFAULT_CODEBOOK
from forecast.model.spec import DEFAULT_MODEL
from forecast.scenarios.spec import DEFAULT_SCENARIOS
from forecast.scenarios.whatif_spec import DEFAULT_WHATIF
from tests.data.panel_fixtures import Result, run_cli, valid_text
from tests.scenarios.helpers import MINIMAL_SPEC, synthetic_run

FUZZ = settings(
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# -- damage ----------------------------------------------------------------------------------


@st.composite
def damaged(draw: st.DrawFn, base: bytes) -> bytes:
    """``base`` after one to four random byte edits."""
    data = bytearray(base)
    for _ in range(draw(st.integers(1, 4))):
        size = len(data)
        pos = draw(st.integers(0, max(size - 1, 0)))
        edit = draw(st.sampled_from(["flip", "delete", "insert", "truncate", "repeat"]))
        if edit == "flip" and size:
            data[pos] = draw(st.integers(0, 255))
        elif edit == "delete":
            del data[pos : pos + draw(st.integers(1, 64))]
        elif edit == "insert":
            data[pos:pos] = draw(st.binary(min_size=1, max_size=16))
        elif edit == "truncate":
            del data[pos:]
        else:
            data[pos:pos] = data[pos : pos + draw(st.integers(1, 64))]
    return bytes(data)


#: values that a spec must refuse cleanly wherever they stand
HOSTILE_VALUES = [
    "nan", "inf", "-inf", "0", "-1", "1e400", "1e308", "99999999999999999", "1000000000",
    "-9223372036854775808", '""', '"x"', '"\\u0000"', "true", "[]", "[nan]", "{}",
    '"\\uff4d\\uff45\\uff41\\uff4e"', '"mean(alignment[\\"RUS\\"]) / 0 > 0"', '"2030Q5"',
]  # fmt: skip
#: a ``key = value`` line whose value is on the same line
_ASSIGNMENT = re.compile(r"^(\s*[A-Za-z0-9_.\"-]+\s*=\s*)(\S.*)$", re.MULTILINE)


@st.composite
def swapped(draw: st.DrawFn, base: bytes) -> bytes:
    """``base`` (a TOML file) with one single-line value replaced by a hostile one."""
    text = base.decode("utf-8")
    lines = list(_ASSIGNMENT.finditer(text))
    match = lines[draw(st.integers(0, len(lines) - 1))]
    value = draw(st.sampled_from(HOSTILE_VALUES))
    return (text[: match.start(2)] + value + text[match.end(2) :]).encode("utf-8")


def variants(base: bytes, toml: bool = True) -> st.SearchStrategy[bytes]:
    strategies = [damaged(base)]
    if toml:
        strategies.append(swapped(base))
    return st.one_of(*strategies)


def assert_clean(result: Result) -> None:
    """Exit 0, or 1 with one ``error:`` line; no traceback either way."""
    assert result.code in (0, 1), result
    for stream in (result.out, result.err):
        assert "Traceback" not in stream, stream
        assert "Exception ignored" not in stream, stream
    if result.code == 1:
        lines = result.err.splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: "), result.err


# -- inputs ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def work(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("fuzz")


@pytest.fixture(scope="module")
def run(work: Path) -> Path:
    """A synthetic run whose manifest records its (empty) posterior's hash, as fits do."""
    path = synthetic_run(work / "runs", chains=2, draws=50, random_seed=3)
    manifest = json.loads((path / "manifest.json").read_text())
    posterior = (path / "posterior.nc").read_bytes()
    manifest["posterior_sha256"] = hashlib.sha256(posterior).hexdigest()
    (path / "manifest.json").write_text(json.dumps(manifest))
    return path


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


@settings(FUZZ, max_examples=80)
@given(data=damaged(valid_text().encode()))
def test_panel(data: bytes, work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert_clean(run_cli(["data", "validate", str(_write(work / "panel.csv", data))], capsys))


@settings(FUZZ, max_examples=60)
@given(data=variants(DEFAULT_CODEBOOK.read_bytes()))
def test_codebook(data: bytes, work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    codebook = _write(work / "codebook.toml", data)
    panel = _write(work / "valid.csv", valid_text().encode())
    assert_clean(run_cli(["data", "validate", str(panel), "--codebook", str(codebook)], capsys))


def _no_fit(*args: Any, **kwargs: Any) -> None:
    raise typer.Exit(0)


@settings(FUZZ, max_examples=80)
@given(data=variants(DEFAULT_MODEL.read_bytes()))
def test_model_spec(data: bytes, work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec = _write(work / "model.toml", data)
    # everything `forecast fit` does before fitting: the spec, codebook and settings
    with mock.patch("forecast.model.workflow.fit_panel", _no_fit):
        result = run_cli(["fit", "--model", str(spec), "--runs", str(work / "no-runs")], capsys)
    assert_clean(result)
    assert not (work / "no-runs").exists()


@settings(FUZZ, max_examples=60)
@given(data=variants(DEFAULT_SCENARIOS.read_bytes()) | variants(MINIMAL_SPEC.encode()))
def test_scenario_spec(
    data: bytes, run: Path, work: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = _write(work / "scenarios.toml", data)
    assert_clean(run_cli(["scenarios", str(run), "--spec", str(spec), "--json"], capsys))


@settings(FUZZ, max_examples=50)
@given(data=variants(DEFAULT_WHATIF.read_bytes()))
def test_whatif_spec(
    data: bytes, run: Path, work: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    whatifs = _write(work / "whatif.toml", data)
    assert_clean(run_cli(["whatif", str(run), "--whatif", str(whatifs)], capsys))


def _copy(run: Path, work: Path) -> Path:
    copy = work / "copies" / run.name
    shutil.rmtree(copy.parent, ignore_errors=True)
    shutil.copytree(run, copy)
    return copy


@settings(FUZZ, max_examples=60)
@given(data=st.data())
def test_run_manifest(
    data: st.DataObject, run: Path, work: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from forecast.model.manifest import read_manifest

    copy = _copy(run, work)
    manifest = copy / "manifest.json"
    manifest.write_bytes(data.draw(damaged(manifest.read_bytes())))
    assert_clean(run_cli(["scenarios", str(copy), "--spec", str(DEFAULT_SCENARIOS)], capsys))
    out = work / "forecast"
    shutil.rmtree(out, ignore_errors=True)  # each example's predict writes afresh
    result = run_cli(["predict", str(copy), "--out", str(out)], capsys)
    assert_clean(result)
    if result.code == 0:
        # an edit that leaves a valid record with the run's id, spec and seed (a space
        # dropped, a timing changed) reuses the stored forecast, which answers for the run
        def record(path: Path) -> tuple[object, ...]:
            m = read_manifest(json.loads(path.read_text()), path, "synthetic")
            return m.run_id, m.spec.sha256, m.seed

        assert record(manifest) == record(run / "manifest.json")
    else:
        # refused, or the synthetic posterior holds nothing to project: cleanly either way
        assert result.code == 1


@settings(FUZZ, max_examples=30)
@given(data=st.data())
def test_run_posterior(
    data: st.DataObject, run: Path, work: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    copy = _copy(run, work)
    # without a stored forecast that answers, predict must read the posterior
    (copy / "forecast.nc").unlink()
    posterior = copy / "posterior.nc"
    posterior.write_bytes(data.draw(damaged(posterior.read_bytes())))
    result = run_cli(["predict", str(copy), "--out", str(work / "forecast")], capsys)
    assert_clean(result)
    assert result.code == 1
