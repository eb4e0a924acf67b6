"""Ledger: recording, idempotence, append-only rows, migrations and clear errors."""

from __future__ import annotations

import sqlite3

import numpy as np
import pandas as pd
import pytest

from forecast.dims import HORIZON, INDICATOR, PERIOD, STATE
from forecast.errors import ForecastError
from forecast.evaluation.ledger import schema
from forecast.evaluation.ledger.resolve import resolve_outcomes
from forecast.evaluation.ledger.schema import (
    APPLICATION_ID,
    MIGRATIONS,
    SCHEMA_VERSION,
    check_integrity,
    open_ledger,
)
from forecast.evaluation.ledger.scoring import score_ledger
from forecast.evaluation.ledger.store import (
    decode_ensemble,
    encode_ensemble,
    indicator_cells,
    issue_meta,
    record_issue,
)
from forecast.evaluation.ledger.track import indicator_record, track_record
from tests.evaluation.ledger_helpers import manifest, synthetic_forecast


def _record(path, run_id="run-a", quarter="2026Q4", seed=0):
    forecast = synthetic_forecast(seed, run_id=run_id)
    conn = open_ledger(path, create=True)
    try:
        meta = issue_meta(forecast, manifest(run_id), quarter)
        return record_issue(conn, path, meta, indicator_cells(forecast))
    finally:
        conn.close()


def test_cells_are_the_future_periods_with_summaries():
    cells = indicator_cells(synthetic_forecast())
    assert set(cells[PERIOD]) == {"2021", "2022"}
    assert dict(zip(cells[PERIOD], cells[HORIZON], strict=True)) == {"2021": 1, "2022": 2}
    assert len(cells) == 2 * 2 * 2
    row = cells.iloc[0]
    assert row["lower_95"] < row["lower_50"] < row["median"] < row["upper_50"] < row["upper_95"]
    assert len(row["ensemble"]) == 100
    assert np.all(np.diff(row["ensemble"]) >= 0)


def test_ensemble_round_trips_through_json():
    values = np.random.default_rng(1).normal(size=100)
    np.testing.assert_allclose(decode_ensemble(encode_ensemble(values)), values, rtol=1e-8)


def test_record_is_idempotent_per_run_and_refused_for_another_quarter(tmp_path):
    path = tmp_path / "forecast.db"
    first = _record(path)
    assert first.new and first.indicator_forecasts == 8
    again = _record(path)
    assert not again.new and again.issue_id == first.issue_id
    with pytest.raises(ForecastError, match="already issued for 2026Q4"):
        _record(path, quarter="2027Q1")
    second = _record(path, run_id="run-b", seed=1)
    assert second.new and second.issue_id != first.issue_id
    conn = open_ledger(path)
    assert conn.execute("SELECT count(*) FROM indicator_forecast").fetchone()[0] == 16
    assert conn.execute("SELECT count(*) FROM issue").fetchone()[0] == 2


def test_bad_quarter_is_refused(tmp_path):
    with pytest.raises(ForecastError, match="expected a quarter"):
        _record(tmp_path / "l.db", quarter="2026")


def test_issued_rows_are_append_only(tmp_path):
    path = tmp_path / "forecast.db"
    _record(path)
    conn = open_ledger(path)
    for statement in (
        "UPDATE issue SET quarter = '2030Q1'",
        "DELETE FROM indicator_forecast",
        "UPDATE indicator_forecast SET mean = 0",
    ):
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            conn.execute(statement)
    assert conn.execute("SELECT quarter FROM issue").fetchone()[0] == "2026Q4"


def _outcomes(value=0.3):
    return pd.DataFrame(
        {
            STATE: ["KAZ", "UZB"],
            INDICATOR: ["trade_share_chn", "trade_share_chn"],
            PERIOD: ["2021", "2021"],
            "value": [value, 0.9],
            "n": np.nan,
            "source": "test",
            "vintage": "2022-06-30",
        }
    )


def test_resolve_score_and_track_record(tmp_path):
    path = tmp_path / "forecast.db"
    _record(path)
    _record(path, run_id="run-b", quarter="2027Q1", seed=1)
    conn = open_ledger(path)
    done = resolve_outcomes(conn, path, _outcomes(), "h" * 64)
    # two cells, forecast by both issues: outcomes are stored once per cell
    assert (done.new, done.already, done.pending) == (2, 0, 6)
    assert conn.execute("SELECT count(*) FROM outcome").fetchone()[0] == 2
    assert score_ledger(conn, path) == (4, 0)
    assert score_ledger(conn, path) == (0, 0)
    record = track_record(conn)
    assert record["quarter"].tolist() == ["2026Q4", "2027Q1"]
    assert record["scored"].tolist() == [2, 2]
    # 0.3 sits in the middle of the forecast, 0.9 far in its upper tail
    assert record["covered_90"].tolist() == [0.5, 0.5]
    by_indicator = indicator_record(conn)
    assert set(by_indicator[INDICATOR]) == {"trade_share_chn"}
    # a revised value is reported, never written over
    again = resolve_outcomes(conn, path, _outcomes(0.31), "i" * 64)
    assert (again.new, again.already, again.revised) == (0, 2, 1)
    assert conn.execute("SELECT value FROM outcome WHERE state = 'KAZ'").fetchone()[0] == 0.3


def test_scores_from_the_ledger_match_scores_from_the_summary(tmp_path):
    from forecast.evaluation.scores import crps_draws

    path = tmp_path / "forecast.db"
    forecast = synthetic_forecast()
    _record(path)
    conn = open_ledger(path)
    resolve_outcomes(conn, path, _outcomes(), "h" * 64)
    score_ledger(conn, path)
    stored = conn.execute(
        "SELECT s.crps FROM indicator_score s JOIN indicator_forecast f USING (forecast_id) "
        "WHERE f.state = 'KAZ'"
    ).fetchone()[0]
    draws = forecast["indicators"].sel(state="KAZ", indicator="trade_share_chn", period="2021")
    full = float(crps_draws(0.3, draws.values.ravel()))
    assert stored == pytest.approx(full, rel=0.01)


def test_new_ledger_has_the_current_schema_and_wal(tmp_path):
    conn = open_ledger(tmp_path / "l.db", create=True)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert conn.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    check_integrity(conn, tmp_path / "l.db")


def test_a_version_1_ledger_is_migrated_and_keeps_its_rows(tmp_path):
    path = tmp_path / "old.db"
    conn = sqlite3.connect(path, isolation_level=None)
    conn.executescript(MIGRATIONS[0])
    conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
    conn.execute("PRAGMA user_version = 1")
    conn.execute(
        "INSERT INTO issue (run_id, quarter, issued_at, data_sha256, spec_sha256, method, "
        "approximate, converged, random_seed, last_fitted, until, draws) "
        "VALUES ('old', '2025Q4', 'x', 'd', 's', 'nuts', 0, 1, 1, '2020', '2030', 10)"
    )
    conn.close()
    conn = open_ledger(path)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert conn.execute("SELECT run_id FROM issue").fetchall() == [("old",)]
    assert conn.execute("SELECT count(*) FROM question_forecast").fetchone()[0] == 0


def test_missing_newer_foreign_and_corrupted_ledgers_give_one_line(tmp_path):
    with pytest.raises(ForecastError, match="no ledger here"):
        open_ledger(tmp_path / "missing.db")
    newer = tmp_path / "newer.db"
    open_ledger(newer, create=True).execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    with pytest.raises(ForecastError, match="newer than this program"):
        open_ledger(newer)
    foreign = tmp_path / "foreign.db"
    sqlite3.connect(foreign).execute("CREATE TABLE birds (name TEXT)")
    with pytest.raises(ForecastError, match="not a forecast ledger"):
        open_ledger(foreign)
    garbage = tmp_path / "garbage.db"
    garbage.write_bytes(np.random.default_rng(0).bytes(8192))
    with pytest.raises(ForecastError, match="corrupted or not a ledger") as err:
        open_ledger(garbage)
    assert "\n" not in str(err.value)


def test_a_locked_ledger_gives_one_line_after_the_timeout(tmp_path):
    path = tmp_path / "forecast.db"
    _record(path)
    holder = open_ledger(path)
    holder.execute("BEGIN IMMEDIATE")
    try:
        conn = open_ledger(path, timeout=0.2)
        forecast = synthetic_forecast(run_id="run-b")
        meta = issue_meta(forecast, manifest("run-b"), "2026Q4")
        with pytest.raises(ForecastError, match="locked by another process"):
            record_issue(conn, path, meta, indicator_cells(forecast))
        assert not conn.in_transaction
    finally:
        holder.execute("ROLLBACK")


def test_the_cli_reports_a_corrupted_ledger_on_one_line(tmp_path, capsys, monkeypatch):
    from tests.data.panel_fixtures import run_cli

    path = tmp_path / "forecast.db"
    _record(path)
    # overwrite everything after the header page: the schema page survives, the data do not
    raw = bytearray(path.read_bytes())
    raw[4096:] = b"\xff" * (len(raw) - 4096)
    path.write_bytes(bytes(raw))
    for suffix in ("-wal", "-shm"):
        (tmp_path / f"forecast.db{suffix}").unlink(missing_ok=True)
    result = run_cli(["ledger", "show", "--ledger", str(path)], capsys)
    assert result.code == 1
    assert result.err.count("\n") == 1 and "corrupted" in result.err
    assert "Traceback" not in result.err
    monkeypatch.setattr(schema, "BUSY_TIMEOUT", 0.1)
    newer = tmp_path / "newer.db"
    open_ledger(newer, create=True).execute("PRAGMA user_version = 99")
    result = run_cli(["ledger", "score", "--ledger", str(newer)], capsys)
    assert result.code == 1 and result.err.startswith("error: ") and "newer" in result.err


def test_record_through_until_keeps_only_the_periods_up_to_it():
    from forecast.evaluation.ledger.workflow import through

    forecast = synthetic_forecast()
    trimmed = through(forecast, "2021")
    assert trimmed.attrs["until"] == "2021" and forecast.attrs["until"] == "2022"
    assert set(indicator_cells(trimmed)[PERIOD]) == {"2021"}
    with pytest.raises(ForecastError, match="starts after it"):
        through(forecast, "2000")
