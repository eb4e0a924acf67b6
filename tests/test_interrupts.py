"""Ctrl-C handling: held over renames, noticed when a library swallows it, one line at the CLI."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from forecast import atomic
from forecast.atomic import atomic_paths, remove_stale_directories
from forecast.interrupts import (
    Interrupted,
    Kept,
    kept_on_interrupt,
    sigint_deferred,
    sigint_noticed,
)
from tests.data.panel_fixtures import run_cli
from tests.signals import ctrl_c

ROOT = Path(__file__).resolve().parents[1]


def test_sigint_noticed_sees_an_interrupt_a_library_swallowed(sigint_default):
    with sigint_noticed() as interrupted:
        assert not interrupted()
        try:  # what nutpie and PyMC's samplers do: keep what they have and return
            ctrl_c()
            for _ in range(10**6):
                pass
        except KeyboardInterrupt:
            pass
    assert interrupted()
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_sigint_deferred_holds_ctrl_c_until_the_block_ends(sigint_default):
    done = []
    with pytest.raises(KeyboardInterrupt):
        with sigint_deferred():
            ctrl_c()
            for _ in range(10**5):
                pass
            done.append("rest of the block")
    assert done == ["rest of the block"]
    with pytest.raises(Interrupted, match="the files") as err:
        with sigint_deferred(kept="the files"):
            ctrl_c()
    assert err.value.kept == "the files"
    # a failure after Ctrl-C is the interrupt's consequence
    with pytest.raises(KeyboardInterrupt):
        with sigint_deferred():
            ctrl_c()
            raise RuntimeError("worker failed to start")
    with pytest.raises(RuntimeError):
        with sigint_deferred():
            raise RuntimeError("a real error")
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_kept_lists_what_was_written_before_the_interrupt():
    with pytest.raises(Interrupted) as err:
        with Kept() as kept:
            kept.add("run 1 was written")
            with kept_on_interrupt("a.csv written"):
                raise KeyboardInterrupt
    assert err.value.kept == "run 1 was written; a.csv written"
    with pytest.raises(Interrupted) as err:
        with Kept():
            raise KeyboardInterrupt
    assert err.value.kept == "nothing written"


def test_atomic_paths_write_all_files_or_none(tmp_path, monkeypatch, sigint_default):
    targets = [tmp_path / "a.csv", tmp_path / "b.csv", tmp_path / "c.csv"]
    for path in targets:
        path.write_text("old")
    # Ctrl-C while the files are being written: nothing is replaced, no temporary is left
    with pytest.raises(KeyboardInterrupt):
        with atomic_paths(targets) as tmps:
            tmps[0].write_text("new")
            ctrl_c()
            tmps[1].write_text("new")
    assert [p.read_text() for p in targets] == ["old"] * 3
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.csv", "b.csv", "c.csv"]
    # Ctrl-C after the first rename: the others still happen, then the interrupt says so
    real_replace = os.replace
    calls = []

    def replace(src, dst):
        real_replace(src, dst)
        calls.append(dst)
        if len(calls) == 1:
            ctrl_c()

    monkeypatch.setattr(atomic.os, "replace", replace)
    with pytest.raises(Interrupted, match=r"a\.csv, b\.csv, c\.csv written to") as err:
        with atomic_paths(targets) as tmps:
            for tmp in tmps:
                tmp.write_text("new")
    assert str(tmp_path) in err.value.kept
    assert [p.read_text() for p in targets] == ["new"] * 3


def _writer(runs: Path) -> subprocess.Popen[str]:
    """A process that opens a temporary run directory and waits inside it."""
    code = (
        "import sys, time\n"
        "from forecast.atomic import atomic_directory\n"
        "with atomic_directory(sys.argv[1]) as tmp:\n"
        "    print(tmp, flush=True)\n"
        "    time.sleep(120)\n"
    )
    return subprocess.Popen(
        [sys.executable, "-c", code, str(runs / "run-x")],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )


def test_stale_temporary_directories_of_dead_writers_are_removed(tmp_path):
    runs = tmp_path / "runs"
    killed, alive = _writer(runs), _writer(runs)
    try:
        assert killed.stdout is not None and alive.stdout is not None
        stale = Path(killed.stdout.readline().strip())
        live = Path(alive.stdout.readline().strip())
        killed.kill()
        killed.wait(timeout=30)
        # a writer on another host sharing the directory: never touched
        other = runs / f".run-y.elsewhere-{os.getpid()}.abc123.tmp"
        other.mkdir()
        assert stale.is_dir() and live.is_dir()
        # the writer's host and process id are in the name
        assert f"-{killed.pid}." in stale.name and stale.name.startswith(".run-x.")
        assert remove_stale_directories(runs) == [stale]
        assert not stale.exists() and live.is_dir() and other.is_dir()
        # and a finished run directory is never a candidate
        (runs / "run-z").mkdir()
        assert remove_stale_directories(runs) == []
    finally:
        for proc in (killed, alive):
            if proc.poll() is None:
                proc.kill()
            proc.wait(timeout=30)
            assert proc.stdout is not None
            proc.stdout.close()


def test_the_cli_prints_one_line_and_exits_130_on_ctrl_c(tmp_path, capsys, monkeypatch):
    import forecast.model.runs as runs

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(runs, "load_run", interrupted)
    result = run_cli(["predict", "--runs", str(tmp_path)], capsys)
    assert result.code == 130
    assert result.err == "interrupted: nothing written\n"


# the console script, interrupted part-way through importing the command-line interface
WHILE_LOADING = """
import importlib.abc, os, signal, sys

signal.signal(signal.SIGINT, signal.default_int_handler)


class CtrlC(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name == "forecast.cli.model":
            os.kill(os.getpid(), signal.SIGINT)
        return None


sys.meta_path.insert(0, CtrlC())
from forecast.__main__ import main

sys.argv = ["forecast", "ledger", "show"]
main()
"""


def test_ctrl_c_while_the_cli_loads_is_one_line_too(tmp_path):
    done = subprocess.run(
        [sys.executable, "-c", WHILE_LOADING],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        check=False,
    )
    assert (done.returncode, done.stderr) == (130, "interrupted: nothing written\n")
