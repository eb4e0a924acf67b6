"""Ctrl-C during ``forecast report``: one line naming what the pipeline had written."""

from __future__ import annotations

import importlib

import pytest

from tests.data.panel_fixtures import run_cli
from tests.signals import ctrl_c


@pytest.fixture
def fresh_pipeline(monkeypatch, bundled_fit):
    """``forecast report`` without --run, its fit the session's and its forecast unwritten."""
    import forecast.model.workflow as workflow

    monkeypatch.setattr(workflow, "fit_panel", lambda *args, **kwargs: bundled_fit)
    monkeypatch.setattr(workflow, "forecast_run", lambda run, until: None)
    monkeypatch.setattr(workflow, "write_forecast", lambda forecast, out: {})
    return bundled_fit.run


def _report(tmp_path, capsys):
    ledger = tmp_path / "forecast.db"
    args = ["report", "--quarter", "2026Q4", "--ledger", str(ledger)]
    args += ["--runs", str(tmp_path / "runs"), "--out", str(tmp_path / "out")]
    return run_cli(args, capsys), ledger


def test_sigint_while_recording_names_the_run_and_its_forecast(
    tmp_path, capsys, monkeypatch, fresh_pipeline, sigint_default
):
    report = importlib.import_module("forecast.cli.report")  # the package re-exports a function
    monkeypatch.setattr(report, "_record", lambda *args: ctrl_c())
    result, _ = _report(tmp_path, capsys)
    run = fresh_pipeline
    assert result.code == 130
    assert result.err == (
        f"interrupted: run {run.run_id} was written to {run.path}; "
        f"its forecast was written to {run.path}\n"
    )
    assert not (tmp_path / "out").exists()


def test_sigint_while_building_the_report_names_the_recorded_issue(
    tmp_path, capsys, monkeypatch, fresh_pipeline, sigint_default
):
    import forecast.report.pipeline as pipeline

    report = importlib.import_module("forecast.cli.report")

    monkeypatch.setattr(report, "_record", lambda *args: None)
    monkeypatch.setattr(pipeline, "build_report", lambda *args, **kwargs: ctrl_c())
    result, ledger = _report(tmp_path, capsys)
    assert result.code == 130
    assert result.err.count("\n") == 1
    assert result.err.endswith(f"; the 2026Q4 issue was recorded in {ledger}\n")
