"""Ctrl-C during ``forecast backtest``: its tables all or none, its Dask cluster shut down."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pandas as pd
import psutil
import pytest

from forecast.evaluation.backtest import write_tables
from forecast.interrupts import Interrupted
from tests.model.panels import TINY_SPEC, tiny_panel_csv
from tests.signals import ctrl_c

ROOT = Path(__file__).resolve().parents[2]


def test_backtest_tables_are_written_together(tmp_path, monkeypatch, sigint_default):
    import forecast.atomic as atomic

    tables = {name: pd.DataFrame({"x": [1.5, 2.5]}) for name in ("scores", "fits", "skill")}
    out = tmp_path / "backtest"
    out.mkdir()
    (out / "scores.csv").write_text("old")
    real = atomic.os.replace

    def replace(src, dst):
        real(src, dst)
        ctrl_c()  # after the first table: held until the others are in place

    monkeypatch.setattr(atomic.os, "replace", replace)
    with pytest.raises(Interrupted, match=r"scores\.csv, fits\.csv, skill\.csv written to"):
        write_tables(out, tables)
    assert sorted(p.name for p in out.iterdir()) == ["fits.csv", "scores.csv", "skill.csv"]
    assert (out / "scores.csv").read_text().startswith("x\n")


# ``forecast backtest`` in a fresh interpreter, announcing when the origins are handed to the
# Dask cluster (its workers are up by then)
CHILD = """
import signal, sys

signal.signal(signal.SIGINT, signal.default_int_handler)

if __name__ == "__main__":
    import forecast.scaleout as scaleout

    real = scaleout.map_in_order

    def map_in_order(*args, **kwargs):
        print("@@ map", flush=True)
        return real(*args, **kwargs)

    scaleout.map_in_order = map_in_order
    sys.argv = ["forecast", *sys.argv[1:]]
    from forecast.cli import main

    main()
"""


@pytest.mark.slow
@pytest.mark.parametrize(
    "group",
    [
        pytest.param(False, id="to-the-command"),
        # as a terminal's Ctrl-C: to the command and its worker processes
        pytest.param(True, id="to-the-process-group"),
    ],
)
def test_sigint_with_dask_workers_shuts_the_cluster_down(tmp_path, group):
    panel = tiny_panel_csv(tmp_path / "panel.csv")
    spec = tmp_path / "tiny.toml"
    spec.write_text(TINY_SPEC)
    args = ["backtest", "--data", str(panel), "--model", str(spec), "--origins", "2010:2012"]
    args += ["--horizon", "1:2", "--draws", "20", "--tune", "20", "--workers", "2"]
    args += ["--no-progress", "--out", str(tmp_path / "out")]
    proc = subprocess.Popen(
        [sys.executable, "-c", CHILD, *args],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=group,
    )
    try:
        assert proc.stdout is not None
        for line in proc.stdout:
            if line.startswith("@@ map"):
                break
        else:
            pytest.fail(f"the backtest ended before its origins were mapped: {proc.communicate()}")
        workers = psutil.Process(proc.pid).children(recursive=True)
        assert workers, "no worker process"
        if group:
            os.killpg(proc.pid, signal.SIGINT)
        else:
            proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 130, err
    assert err == "interrupted: nothing written\n"
    assert not (tmp_path / "out").exists()
    # every worker process went with the command
    _, alive = psutil.wait_procs(workers, timeout=10)
    assert not alive
