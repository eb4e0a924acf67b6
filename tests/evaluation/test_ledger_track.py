"""The report's read API: the track record and the previous issue, read-only."""

from __future__ import annotations

import sqlite3

import pytest

from forecast.dims import SCENARIO
from forecast.errors import ForecastError
from forecast.evaluation.ledger.questions import question_issue
from forecast.evaluation.ledger.schema import APPLICATION_ID, MIGRATIONS, open_ledger
from forecast.evaluation.ledger.store import indicator_cells, issue_meta, record_issue
from forecast.evaluation.ledger.track import load_track_record, previous_issue
from forecast.scenarios.probabilities import scenario_probabilities
from forecast.scenarios.spec import load_scenario_spec
from forecast.scenarios.synthetic import synthetic_forecast
from tests.evaluation.ledger_helpers import manifest


def _issue(path, run_id, quarter, seed, *, with_questions=True):
    forecast = synthetic_forecast(random_seed=seed)
    forecast.attrs.update({"until": "2030", "random_seed": seed})
    spec = load_scenario_spec()
    result = scenario_probabilities(forecast, spec)
    questions = question_issue(result, spec) if with_questions else None
    conn = open_ledger(path, create=True)
    try:
        meta = issue_meta(forecast, manifest(run_id), quarter)
        record_issue(conn, path, meta, indicator_cells(forecast), questions)
    finally:
        conn.close()
    return result.table()


def test_previous_issue_is_the_latest_one_before_the_quarter(tmp_path):
    path = tmp_path / "forecast.db"
    _issue(path, "q2", "2026Q2", 1)
    first_q3 = _issue(path, "q3-a", "2026Q3", 2)
    latest_q3 = _issue(path, "q3-b", "2026Q3", 3)
    _issue(path, "q4", "2026Q4", 4)
    before = path.read_bytes()

    previous = previous_issue(path, "2026Q4")
    assert previous is not None
    assert (previous.quarter, previous.run_id) == ("2026Q3", "q3-b")
    table = previous.probabilities
    assert list(table.columns) == [
        SCENARIO,
        "kind",
        "partition",
        "title",
        "at",
        "resolves_on",
        "probability",
        "mcse",
    ]
    assert table[SCENARIO].tolist() == latest_q3[SCENARIO].tolist()
    assert table["probability"].tolist() == pytest.approx(latest_q3["probability"].tolist())
    assert table["probability"].tolist() != pytest.approx(first_q3["probability"].tolist())
    assert previous.probability_of()[table[SCENARIO].iloc[0]] == table["probability"].iloc[0]
    assert previous_issue(path, "2026Q3").run_id == "q2"
    assert previous_issue(path, "2026Q2") is None
    # a pure read: the ledger file is unchanged
    assert path.read_bytes() == before


def test_an_issue_without_scenarios_has_an_empty_table(tmp_path):
    path = tmp_path / "forecast.db"
    _issue(path, "bare", "2026Q3", 1, with_questions=False)
    previous = previous_issue(path, "2026Q4")
    assert previous is not None and previous.run_id == "bare"
    assert previous.probabilities.empty and "probability" in previous.probabilities


def test_track_record_by_quarter(tmp_path):
    path = tmp_path / "forecast.db"
    _issue(path, "a", "2026Q3", 1)
    _issue(path, "b", "2026Q4", 2)
    record = load_track_record(path)
    by_quarter = record.by_quarter
    assert by_quarter["quarter"].tolist() == ["2026Q3", "2026Q4"]
    assert (by_quarter["forecasts"] > 0).all() and (by_quarter["resolved"] == 0).all()
    assert (by_quarter["questions"] > 0).all()
    assert record.issues["run_id"].tolist() == ["a", "b"]


def test_a_missing_ledger_is_an_empty_record(tmp_path):
    record = load_track_record(tmp_path / "none.db")
    assert record.by_quarter.empty and "covered_90" in record.by_quarter
    assert record.by_indicator.empty and record.issues.empty
    assert previous_issue(tmp_path / "none.db", "2026Q4") is None
    assert not (tmp_path / "none.db").exists()


def test_old_newer_and_corrupted_ledgers_give_one_line_and_are_not_changed(tmp_path):
    old = tmp_path / "old.db"
    conn = sqlite3.connect(old, isolation_level=None)
    conn.executescript(MIGRATIONS[0])
    conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
    conn.execute("PRAGMA user_version = 1")
    conn.close()
    with pytest.raises(ForecastError, match="older than this program") as err:
        load_track_record(old)
    assert "\n" not in str(err.value)
    # not migrated by a read
    assert sqlite3.connect(old).execute("PRAGMA user_version").fetchone()[0] == 1
    newer = tmp_path / "newer.db"
    open_ledger(newer, create=True).execute("PRAGMA user_version = 99")
    with pytest.raises(ForecastError, match="newer than this program"):
        previous_issue(newer, "2026Q4")
    garbage = tmp_path / "garbage.db"
    garbage.write_bytes(b"not a database at all" * 500)
    with pytest.raises(ForecastError, match="corrupted or not a ledger"):
        load_track_record(garbage)
    with pytest.raises(ForecastError, match="expected a quarter"):
        previous_issue(tmp_path / "none.db", "2026")
