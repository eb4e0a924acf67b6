"""One real report of the bundled run, shared by the end-to-end and browser tests."""

from __future__ import annotations

import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.data.panel_fixtures import Result


@dataclass(frozen=True)
class Written:
    """A report written by ``forecast report`` and what the command printed."""

    result: Result
    html: Path
    markdown: Path
    runs: Path


@pytest.fixture(scope="session")
def bundled_report(bundled_run, bundled_forecast, tmp_path_factory) -> Written:
    """``forecast report --run`` on a copy of the bundled run with its forecast stored."""
    from forecast.model.runs import write_forecast

    base = tmp_path_factory.mktemp("report")
    runs = base / "runs"
    copy = runs / bundled_run.run_id
    shutil.copytree(bundled_run.path, copy)
    write_forecast(bundled_forecast, copy)
    out = base / "reports" / "2026Q4"
    args = ["report", "--quarter", "2026Q4", "--run", str(copy), "--runs", str(runs)]
    args += ["--ledger", str(base / "forecast.db"), "--out", str(out)]
    # the real console entry point, in its own process, as an analyst runs it
    done = subprocess.run(
        [sys.executable, "-m", "forecast", *args], capture_output=True, text=True, check=False
    )
    result = Result(done.returncode, done.stdout, done.stderr)
    return Written(result, out / "report.html", out / "report.md", runs)
