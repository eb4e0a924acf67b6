"""Ctrl-C at any moment of ``forecast fit`` (and ``predict``): exit 130, one line, nothing
half-written.

Two kinds of test. Subprocess tests run the command in a fresh interpreter on a tiny panel
and send it SIGINT at a moment it announces (a line on its standard output, printed by a
wrapper around the library call that starts the moment), so the moment is deterministic,
not a guess about timing; the moments after the compilation need one (tens of seconds in a
fresh process) and are marked ``slow``. In-process tests use the session's compiled model
and deliver a real SIGINT to this process from inside the same library calls.
"""

from __future__ import annotations

import functools
import json
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from tests.data.panel_fixtures import run_cli
from tests.manifests import run_manifest
from tests.model.panels import TINY_SPEC, tiny_panel_csv
from tests.signals import ctrl_c

ROOT = Path(__file__).resolve().parents[2]


# ``forecast fit`` in a fresh interpreter, announcing on stdout ("@@ <moment>") when the
# compilation starts, when sampling starts and when the run's posterior is being written
# (then pausing there, so that the interrupt lands inside the write)
CHILD = """
import signal, sys, time

# Ctrl-C as a terminal delivers it, whatever the test runner's own disposition
signal.signal(signal.SIGINT, signal.default_int_handler)


def announce(owner, name, moment, pause=0.0):
    real = getattr(owner, name)

    def wrapper(*args, **kwargs):
        print(f"@@ {moment}", flush=True)
        time.sleep(pause)
        return real(*args, **kwargs)

    setattr(owner, name, wrapper)


if __name__ == "__main__":
    import nutpie
    import xarray

    announce(nutpie, "compile_pymc_model", "compile")
    announce(nutpie, "sample", "sample")
    announce(xarray.DataTree, "to_netcdf", "write", pause=120)
    sys.argv = ["forecast", *sys.argv[1:]]
    from forecast.cli import main

    main()
"""


def _runs_with_an_earlier_run(runs: Path) -> dict[str, object]:
    """A runs directory holding one earlier run, ``latest`` pointing at it; its listing."""
    (runs / "earlier").mkdir(parents=True)
    (runs / "earlier" / "manifest.json").write_text(json.dumps({"run_id": "earlier"}))
    (runs / "latest").symlink_to("earlier")
    return _listing(runs)


def _listing(runs: Path) -> dict[str, object]:
    return {
        p.name: os.readlink(p) if p.is_symlink() else sorted(q.name for q in p.iterdir())
        for p in runs.iterdir()
    }


def _assert_interrupted(code: int, err: str, kept: str = "nothing written") -> None:
    assert code == 130, err
    assert err == f"interrupted: {kept}\n", err


def _interrupt_fit(tmp_path: Path, moment: str, *, draws: int, delay: float = 0.0):
    """Run ``forecast fit`` and send SIGINT ``delay`` seconds after it announces ``moment``."""
    panel = tiny_panel_csv(tmp_path / "panel.csv")
    spec = tmp_path / "tiny.toml"
    spec.write_text(TINY_SPEC)
    runs = tmp_path / "runs"
    before = _runs_with_an_earlier_run(runs)
    args = ["fit", "--data", str(panel), "--model", str(spec), "--draws", str(draws)]
    args += ["--tune", "50", "--chains", "2", "--runs", str(runs), "--no-progress"]
    proc = subprocess.Popen(
        [sys.executable, "-c", CHILD, *args],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        for line in proc.stdout:
            if line.startswith(moment):
                break
        else:
            pytest.fail(f"the fit ended before {moment!r}: {proc.communicate()}")
        if delay:
            threading.Event().wait(delay)
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=300)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    return proc.returncode, err, before, _listing(runs)


@pytest.mark.parametrize(
    ("moment", "delay"),
    [
        # the first line: before the panel is read and the model built
        pytest.param("fitting ", 0.0, id="before-compile"),
        # half a second into the compilation of the sampler (nutpie and numba)
        pytest.param("@@ compile", 0.5, id="during-compile"),
    ],
)
def test_sigint_before_sampling_ends_the_fit_with_one_line(tmp_path, moment, delay):
    code, err, before, after = _interrupt_fit(tmp_path, moment, draws=20, delay=delay)
    _assert_interrupted(code, err)
    # no run, no temporary directory, runs/latest as it was
    assert after == before


@pytest.mark.slow
@pytest.mark.parametrize(
    ("moment", "delay", "draws"),
    [
        # nutpie returns the draws made so far on Ctrl-C; the fit must not finish with them
        pytest.param("@@ sample", 1.0, 5000, id="during-sampling"),
        pytest.param("@@ write", 0.0, 20, id="while-writing"),
    ],
)
def test_sigint_after_the_compilation_ends_the_fit_with_one_line(tmp_path, moment, delay, draws):
    code, err, before, after = _interrupt_fit(tmp_path, moment, draws=draws, delay=delay)
    _assert_interrupted(code, err)
    assert after == before


# -- in this process, with the session's compiled model ---------------------------------------


@pytest.fixture
def cached_compile(monkeypatch: pytest.MonkeyPatch, compiled_models) -> None:
    """Let ``forecast fit`` reuse the session's compiled model."""
    import forecast.model.workflow as workflow

    fit_panel = functools.partial(workflow.fit_panel, compiled=compiled_models)
    monkeypatch.setattr(workflow, "fit_panel", fit_panel)


def _fit(tmp_path, capsys, *, draws: int):
    runs = tmp_path / "runs"
    before = _runs_with_an_earlier_run(runs)
    args = ["fit", "--draws", str(draws), "--tune", "20", "--chains", "2", "--seed", "3"]
    result = run_cli([*args, "--runs", str(runs), "--no-progress"], capsys)
    return result, before, _listing(runs), runs


def test_sigint_during_sampling_in_process(
    tmp_path, capsys, monkeypatch, cached_compile, sigint_default
):
    import nutpie

    real = nutpie.sample
    timers = []

    def sample(*args, **kwargs):
        # Ctrl-C half a second into sampling: 20 000 draws take far longer
        timer = threading.Timer(0.5, ctrl_c)
        timers.append(timer)
        timer.start()
        return real(*args, **kwargs)

    monkeypatch.setattr(nutpie, "sample", sample)
    result, before, after, _ = _fit(tmp_path, capsys, draws=20_000)
    for timer in timers:
        timer.join()
    _assert_interrupted(result.code, result.err)
    assert after == before


def test_sigint_while_saving_a_run_leaves_nothing(
    tmp_path, monkeypatch, bundled_fit, sigint_default
):
    import xarray as xr

    from forecast.model.runs import save_run

    runs = tmp_path / "runs"
    before = _runs_with_an_earlier_run(runs)
    posterior = bundled_fit.run.posterior()
    real = xr.DataTree.to_netcdf

    def to_netcdf(self, *args, **kwargs):
        ctrl_c()
        return real(self, *args, **kwargs)

    monkeypatch.setattr(xr.DataTree, "to_netcdf", to_netcdf)
    with pytest.raises(KeyboardInterrupt):
        save_run(runs, posterior, run_manifest("new"))
    # the temporary run directory was removed, runs/latest untouched
    assert _listing(runs) == before


def test_sigint_as_a_run_is_renamed_into_place_keeps_it_whole(
    tmp_path, monkeypatch, bundled_fit, sigint_default
):
    import forecast.atomic as atomic
    from forecast.interrupts import Interrupted
    from forecast.model.runs import save_run

    runs = tmp_path / "runs"
    _runs_with_an_earlier_run(runs)
    real = atomic.os.rename

    def rename(src, dst):
        ctrl_c()  # held until runs/latest points at the new run too
        return real(src, dst)

    monkeypatch.setattr(atomic.os, "rename", rename)
    with pytest.raises(Interrupted, match="run new was written to") as err:
        save_run(runs, bundled_fit.run.posterior(), run_manifest("new"))
    assert err.value.kept == f"run new was written to {runs / 'new'}"
    assert os.readlink(runs / "latest") == "new"
    assert sorted((runs / "new").iterdir()) == sorted(
        runs / "new" / name for name in ("manifest.json", "posterior.nc", "summary.csv")
    )


def test_sigint_after_the_run_was_written_says_so(
    tmp_path, capsys, monkeypatch, bundled_fit, sigint_default
):
    import forecast.model.workflow as workflow
    from forecast.model.diagnostics import Diagnostics

    # the fit itself is the session's: this test is about what the command says
    monkeypatch.setattr(workflow, "fit_panel", lambda *args, **kwargs: bundled_fit)
    real = Diagnostics.lines

    def lines(self):
        ctrl_c()
        return real(self)

    monkeypatch.setattr(Diagnostics, "lines", lines)
    result = run_cli(["fit", "--runs", str(tmp_path / "runs"), "--no-progress"], capsys)
    run = bundled_fit.run
    _assert_interrupted(result.code, result.err, f"run {run.run_id} was written to {run.path}")


# -- forecast predict: its three files are replaced together or not at all --------------------


def _old_outputs(out: Path) -> dict[str, str]:
    out.mkdir()
    for name in ("forecast.nc", "alignment.csv", "indicators.csv"):
        (out / name).write_text("old")
    return {p.name: p.read_text() for p in out.iterdir()}


def test_sigint_while_predict_writes_leaves_the_old_files(
    tmp_path, capsys, monkeypatch, bundled_run, sigint_default
):
    import forecast.model.summaries as summaries

    out = tmp_path / "out"
    before = _old_outputs(out)
    real = summaries.indicator_table

    def indicator_table(forecast):
        ctrl_c()  # forecast.nc is in its temporary file by now
        return real(forecast)

    monkeypatch.setattr(summaries, "indicator_table", indicator_table)
    # no progress lines: a busy machine takes long enough to print them
    result = run_cli(["predict", str(bundled_run.path), "--out", str(out), "--no-progress"], capsys)
    _assert_interrupted(result.code, result.err)
    assert {p.name: p.read_text() for p in out.iterdir()} == before


def test_sigint_as_predict_renames_keeps_all_three_new_files(
    tmp_path, capsys, monkeypatch, bundled_run, sigint_default
):
    import forecast.atomic as atomic

    out = tmp_path / "out"
    _old_outputs(out)
    real = atomic.os.replace

    def replace(src, dst):
        real(src, dst)
        ctrl_c()  # after the first rename: held until the other two are done

    monkeypatch.setattr(atomic.os, "replace", replace)
    # no progress lines: a busy machine takes long enough to print them
    result = run_cli(["predict", str(bundled_run.path), "--out", str(out), "--no-progress"], capsys)
    _assert_interrupted(
        result.code,
        result.err,
        f"forecast.nc, alignment.csv, indicators.csv written to {out}",
    )
    assert sorted(p.name for p in out.iterdir()) == [
        "alignment.csv",
        "forecast.nc",
        "indicators.csv",
    ]
    assert all(p.read_bytes() != b"old" for p in out.iterdir())
