"""Ctrl-C during ``forecast report``: one line naming what the pipeline had written."""

from __future__ import annotations

import pytest

from tests.data.panel_fixtures import run_cli
from tests.signals import ctrl_c


@pytest.fixture
def fresh_pipeline(monkeypatch, bundled_fit):
    """``forecast report`` without --run, its fit the session's and its forecast unwritten."""
    import forecast.model.workflow as workflow
    import forecast.report.pipeline as pipeline

    monkeypatch.setattr(workflow, "fit_panel", lambda *args, **kwargs: bundled_fit)
    # the forecast is the session's, not written into the shared run
    forecast = bundled_fit.run.forecast("2030")
    monkeypatch.setattr(pipeline.Run, "forecast", lambda self, until, **kwargs: forecast)
    return bundled_fit.run


def _report(tmp_path, capsys):
    ledger = tmp_path / "forecast.db"
    args = ["report", "--quarter", "2026Q4", "--ledger", str(ledger)]
    args += ["--runs", str(tmp_path / "runs"), "--out", str(tmp_path / "out")]
    return run_cli(args, capsys), ledger


def test_sigint_while_recording_names_the_run_and_its_forecast(
    tmp_path, capsys, monkeypatch, fresh_pipeline, sigint_default
):
    monkeypatch.setattr(
        "forecast.evaluation.ledger.workflow.record_forecast", lambda *args, **kwargs: ctrl_c()
    )
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

    monkeypatch.setattr(
        "forecast.evaluation.ledger.workflow.record_forecast", lambda *args, **kwargs: None
    )
    monkeypatch.setattr(pipeline, "render_report", lambda *args, **kwargs: ctrl_c())
    result, ledger = _report(tmp_path, capsys)
    assert result.code == 130
    assert result.err.count("\n") == 1
    assert result.err.endswith(f"; the 2026Q4 issue was recorded in {ledger}\n")
