"""Writers recording at the same time: every issue is kept whole and the chains verify."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from forecast.evaluation.ledger.schema import open_ledger, verify_ledger

ROOT = Path(__file__).resolve().parents[2]

# each writer opens the ledger once and records its issues one transaction at a time,
# starting together with the others at the line "go" on its standard input
WRITER = """
import sys
from forecast.evaluation.ledger.schema import open_ledger
from forecast.evaluation.ledger.store import indicator_cells, issue_meta, record_issue
from tests.evaluation.ledger_helpers import manifest, synthetic_forecast

path, prefix, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
forecast = synthetic_forecast(periods=tuple(str(y) for y in range(2019, 2060)), draws=20)
cells = indicator_cells(forecast)
conn = open_ledger(path, create=True, timeout=60)
print("ready", flush=True)
sys.stdin.readline()
for i in range(count):
    record_issue(conn, path, issue_meta(forecast, manifest(f"{prefix}-{i}"), "2026Q4"), cells)
conn.close()
print("done", flush=True)
"""


def test_concurrent_writers_keep_every_issue_and_the_chains(tmp_path):
    path = tmp_path / "forecast.db"
    open_ledger(path, create=True).close()
    writers = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, str(path), f"w{k}", "8"],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for k in range(2)
    ]
    try:
        for proc in writers:
            assert proc.stdout is not None and proc.stdout.readline() == "ready\n"
        for proc in writers:
            assert proc.stdin is not None
            proc.stdin.write("go\n")
            proc.stdin.flush()
        for proc in writers:
            out, err = proc.communicate(timeout=120)
            assert proc.returncode == 0, err
            assert out == "done\n"
    finally:
        for proc in writers:
            if proc.poll() is None:
                proc.kill()
    conn = open_ledger(path)
    try:
        report = verify_ledger(conn, path)
        counts = dict(
            conn.execute(
                "SELECT i.run_id, count(f.forecast_id) FROM issue i "
                "JOIN indicator_forecast f USING (issue_id) GROUP BY i.run_id"
            ).fetchall()
        )
    finally:
        conn.close()
    assert len(counts) == 16 and len(set(counts.values())) == 1
    assert report.rows["issue"] == 16
    assert report.rows["indicator_forecast"] == sum(counts.values())
