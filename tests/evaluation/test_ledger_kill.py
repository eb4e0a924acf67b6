"""A writer killed with SIGKILL in the middle of a ledger write loses nothing committed.

After every kill the whole ledger verifies: integrity check, hash chains and schema.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from forecast.evaluation.ledger.schema import open_ledger, verify_ledger

ROOT = Path(__file__).resolve().parents[2]

# records issue after issue, each one transaction of a few thousand rows, announcing each
# write before it starts and after it commits
WRITER = """
import sys
from forecast.evaluation.ledger.schema import open_ledger
from forecast.evaluation.ledger.store import indicator_cells, issue_meta, record_issue
from tests.evaluation.ledger_helpers import manifest, synthetic_forecast

path, prefix = sys.argv[1], sys.argv[2]
periods = tuple(str(y) for y in range(2019, 2420))
forecast = synthetic_forecast(periods=periods, draws=50)
cells = indicator_cells(forecast)
conn = open_ledger(path, create=True)
i = 0
while True:
    run_id = f"{prefix}-{i}"
    meta = issue_meta(forecast, manifest(run_id), "2026Q4")
    print("begin", run_id, flush=True)
    done = record_issue(conn, path, meta, cells)
    print("committed", run_id, done.indicator_forecasts, flush=True)
    i += 1
"""


def _write_then_kill(path: Path, prefix: str, rng: np.random.Generator) -> tuple[dict, str]:
    """Start a writer, let it commit a few issues, SIGKILL it during the next write."""
    committed: dict[str, int] = {}
    began: dict[str, float] = {}
    durations: list[float] = []
    with subprocess.Popen(
        [sys.executable, "-c", WRITER, str(path), prefix],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    ) as proc:
        assert proc.stdout is not None and proc.stderr is not None
        try:
            while True:
                line = proc.stdout.readline()
                assert line, f"writer died: {proc.stderr.read()}"
                word, run_id, *rest = line.split()
                if word == "committed":
                    committed[run_id] = int(rest[0])
                    durations.append(time.perf_counter() - began[run_id])
                    continue
                began[run_id] = time.perf_counter()
                if len(committed) >= 3:
                    break
            # the writer is inside this write now: kill it part of the way through
            time.sleep(rng.uniform(0.05, 0.6) * float(np.median(durations)))
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=30)
            # anything the writer reported before dying
            for rest_line in proc.stdout.read().splitlines():
                word, done_id, *count = rest_line.split()
                if word == "committed":
                    committed[done_id] = int(count[0])
        finally:
            if proc.poll() is None:
                proc.kill()
    return committed, run_id


def test_sigkill_mid_write_keeps_the_ledger_intact_and_every_committed_issue(tmp_path):
    from forecast.evaluation.ledger.store import indicator_cells, issue_meta, record_issue
    from tests.evaluation.ledger_helpers import manifest, synthetic_forecast

    rng = np.random.default_rng(7)
    path = tmp_path / "forecast.db"
    everything: dict[str, int] = {}
    interrupted = []
    for prefix in ("first", "second"):
        committed, killed_during = _write_then_kill(path, prefix, rng)
        everything |= committed
        interrupted.append((killed_during, killed_during in committed))
        conn = open_ledger(path)
        try:
            verify_ledger(conn, path)
            rows = dict(
                conn.execute(
                    "SELECT i.run_id, count(f.forecast_id) FROM issue i "
                    "JOIN indicator_forecast f USING (issue_id) GROUP BY i.run_id"
                ).fetchall()
            )
        finally:
            conn.close()
        # every committed issue is there, whole; the interrupted one is whole or absent
        for run_id, n_cells in everything.items():
            assert rows.get(run_id) == n_cells
        assert set(rows) - set(everything) <= {killed_during}
        assert rows.get(killed_during) in (None, next(iter(everything.values())))
    # at least one kill really landed inside a write (its issue is absent)
    assert any(not done for _, done in interrupted), interrupted
    # and the ledger takes new writes after the kills
    forecast = synthetic_forecast(run_id="after")
    conn = open_ledger(path)
    try:
        meta = issue_meta(forecast, manifest("after"), "2027Q1")
        assert record_issue(conn, path, meta, indicator_cells(forecast)).new
        verify_ledger(conn, path)
    finally:
        conn.close()
