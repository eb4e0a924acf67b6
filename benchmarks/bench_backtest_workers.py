"""Benchmark: a 12-origin backtest on a local Dask cluster of 1 and of 2 worker processes.

Each worker compiles the model once and reuses it for every origin it runs, so the
comparison includes one compile per worker; each worker process has one thread and runs its
fits' chains one after the other on it (so 2 workers use the machine's 2 cores). The scores
of every run must be identical (checked byte for byte on the CSV). Prints a table with the
wall time of each run and the ratio to one worker.

Usage::

    python benchmarks/bench_backtest_workers.py [--origins 2008:2019] [--draws 100] [--tune 200]

The machine's other load changes the numbers; run it on a quiet machine.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

from forecast.cli.backtest import parse_range
from forecast.data.codebook import load_codebook
from forecast.data.panel import DEFAULT_PANEL, read_panel
from forecast.evaluation.backtest import run_backtest, write_tables
from forecast.evaluation.plan import BacktestSettings, make_plan
from forecast.model.spec import DEFAULT_MODEL, load_model_spec
from forecast.scaleout import dask_client


def _load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--origins", default="2008:2019")
    parser.add_argument("--horizon", default="1:2")
    parser.add_argument("--method", default="nuts")
    parser.add_argument("--draws", type=int, default=100)
    parser.add_argument("--tune", type=int, default=200)
    parser.add_argument("--chains", type=int, default=2)
    parser.add_argument("--workers", default="1,2", help="comma-separated worker counts")
    args = parser.parse_args()

    codebook = load_codebook()
    spec = load_model_spec(DEFAULT_MODEL, codebook)
    settings = BacktestSettings(
        origins=parse_range(args.origins, "--origins"),
        horizons=parse_range(args.horizon, "--horizon"),
        method=args.method,
        draws=args.draws,
        tune=args.tune,
        chains=args.chains,
        seed=1,
        adaptation=spec.sampler.adaptation,
    )
    plan = make_plan(read_panel(DEFAULT_PANEL, codebook), spec, codebook, settings)
    print(f"{len(settings.origins)} origins, horizons {args.horizon}, {settings.label}")
    # other jobs on the machine slow both runs; report the load so a reader can judge
    print(f"load average before: {_load()}", flush=True)

    rows = []
    csvs = []
    with tempfile.TemporaryDirectory() as tmp:
        for n in (int(w) for w in args.workers.split(",")):
            start = time.perf_counter()
            with dask_client(workers=n) as client:
                ready = time.perf_counter()
                result = run_backtest(plan, client=client)
            total = time.perf_counter() - start
            path = write_tables(Path(tmp) / f"w{n}", {"scores": result.scores})["scores"]
            csvs.append(path.read_bytes())
            compile_s = float(result.fits["compile_seconds"].sum())
            rows.append((n, total, ready - start, compile_s))
            print(f"  {n} worker(s): {total:.0f} s (load average after: {_load()})", flush=True)
    identical = all(c == csvs[0] for c in csvs)

    base = rows[0][1]
    print()
    # speedup: wall time of the first worker count (1) over this one's
    print(f"{'workers':>7} {'wall s':>8} {'cluster s':>9} {'compile s':>9} {'speedup':>7}")
    for n, total, cluster, compile_s in rows:
        print(f"{n:>7} {total:>8.0f} {cluster:>9.1f} {compile_s:>9.0f} {base / total:>7.2f}")
    print(f"scores identical across worker counts: {identical}")


if __name__ == "__main__":
    main()
