"""A tampered ledger is refused: REPLACE blocked, changed rows found, damaged files refused."""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from forecast.dims import INDICATOR, PERIOD, STATE
from forecast.errors import ForecastError
from forecast.evaluation.ledger.chain import CHAINED, canonical_row, seal_new_rows
from forecast.evaluation.ledger.export import export_issue, read_export
from forecast.evaluation.ledger.questions import question_issue
from forecast.evaluation.ledger.resolve import resolve_outcomes
from forecast.evaluation.ledger.schema import (
    APPLICATION_ID,
    MIGRATIONS,
    SCHEMA_VERSION,
    LedgerBroken,
    open_ledger,
    verify_ledger,
)
from forecast.evaluation.ledger.scoring import score_ledger
from forecast.evaluation.ledger.store import indicator_cells, issue_meta, record_issue
from forecast.evaluation.ledger.tables import UNIQUE_KEYS
from forecast.scenarios.probabilities import scenario_probabilities
from forecast.scenarios.spec import load_scenario_spec
from forecast.scenarios.synthetic import synthetic_forecast
from tests.data.panel_fixtures import run_cli
from tests.evaluation.ledger_helpers import manifest

PANEL = Path(__file__).resolve().parents[2] / "data" / "panel.csv"


@pytest.fixture(scope="module")
def full_ledger(tmp_path_factory) -> Path:
    """A ledger with rows in every table: an issue with questions, resolved and scored."""
    path = tmp_path_factory.mktemp("ledger") / "forecast.db"
    forecast = synthetic_forecast()
    forecast.attrs.update({"until": "2030", "random_seed": 0})
    spec = load_scenario_spec()
    questions = question_issue(scenario_probabilities(forecast, spec), spec)
    panel = pd.DataFrame(
        {
            STATE: ["KAZ", "KAZ"],
            INDICATOR: ["trade_share_chn", "trade_share_rus"],
            PERIOD: ["2025", "2025"],
            "value": [0.30, 0.20],
            "n": np.nan,
            "source": "t",
            "vintage": "2026-06-30",
        }
    )
    conn = open_ledger(path, create=True)
    try:
        meta = issue_meta(forecast, manifest("run-a"), "2026Q4")
        record_issue(conn, path, meta, indicator_cells(forecast), questions)
        resolve_outcomes(conn, path, panel, "h" * 64)
        score_ledger(conn, path)
        for table in UNIQUE_KEYS:
            assert conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0] > 0, table
    finally:
        conn.close()
    return path


@pytest.fixture
def ledger(full_ledger, tmp_path) -> Path:
    """A fresh copy of the full ledger for one test to damage."""
    path = tmp_path / "forecast.db"
    shutil.copy(full_ledger, path)
    return path


def _contents(path: Path) -> dict[str, list[tuple]]:
    conn = sqlite3.connect(path)
    try:
        return {
            t: conn.execute(f"SELECT * FROM {t} ORDER BY rowid").fetchall() for t in UNIQUE_KEYS
        }
    finally:
        conn.close()


def _columns(conn: sqlite3.Connection, table: str) -> list[str]:
    return [row[1] for row in conn.execute(f"PRAGMA table_info({table})")]


def test_replace_is_refused_on_every_table(ledger):
    before = _contents(ledger)
    # another program's connection, with SQLite's defaults (recursive triggers off)
    conn = sqlite3.connect(ledger, isolation_level=None)
    try:
        for table, keys in UNIQUE_KEYS.items():
            columns = _columns(conn, table)
            # the whole row again (conflict on the primary key) ...
            statements = [
                f"INSERT OR REPLACE INTO {table} SELECT * FROM {table}",
                f"REPLACE INTO {table} SELECT * FROM {table}",
                f"INSERT OR IGNORE INTO {table} SELECT * FROM {table}",
            ]
            # ... and without the primary key, so that only a unique key conflicts
            if len(keys) > 1:
                rest = ", ".join(c for c in columns if c not in keys[0])
                statements.append(
                    f"INSERT OR REPLACE INTO {table} ({rest}) SELECT {rest} FROM {table}"
                )
            for statement in statements:
                with pytest.raises(sqlite3.IntegrityError, match="append-only"):
                    conn.execute(statement)
        # the issue's own example: rewrite recorded outcomes through REPLACE
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            conn.execute(
                "INSERT OR REPLACE INTO outcome (state, indicator, period, value, vintage, "
                "source, data_sha256, resolved_at) SELECT state, indicator, period, 0.5, "
                "vintage, source, data_sha256, resolved_at FROM outcome WHERE state = 'KAZ'"
            )
    finally:
        conn.close()
    assert _contents(ledger) == before
    conn = open_ledger(ledger)
    try:
        verify_ledger(conn, ledger)
    finally:
        conn.close()


@pytest.mark.skipif(shutil.which("sqlite3") is None, reason="no sqlite3 command-line shell")
def test_the_sqlite3_shell_cannot_replace_rows(ledger):
    before = _contents(ledger)
    for statement in (
        "INSERT OR REPLACE INTO outcome (outcome_id, state, indicator, period, value, vintage, "
        "source, data_sha256, resolved_at) SELECT outcome_id, state, indicator, period, 0.5, "
        "vintage, source, data_sha256, resolved_at FROM outcome",
        "REPLACE INTO issue SELECT * FROM issue",
        "PRAGMA recursive_triggers = OFF; REPLACE INTO question_score SELECT * FROM question_score",
    ):
        done = subprocess.run(
            ["sqlite3", str(ledger), statement], capture_output=True, text=True, check=False
        )
        assert done.returncode != 0 and "append-only" in done.stderr, statement
    assert _contents(ledger) == before


def _tamper(path: Path, *statements: str) -> None:
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        for statement in statements:
            conn.execute(statement)
    finally:
        conn.close()


def _one_line_error(result) -> str:
    assert result.code == 1, (result.out, result.err)
    assert result.err.count("\n") == 1 and result.err.startswith("error: "), result.err
    assert "Traceback" not in result.err
    return result.err


def test_a_dropped_trigger_and_an_update_are_found_and_refused(ledger, capsys):
    _tamper(
        ledger,
        "DROP TRIGGER outcome_no_update",
        "UPDATE outcome SET value = 0.5 WHERE state = 'KAZ' AND indicator = 'trade_share_chn'",
    )
    changed = [row for row in _contents(ledger)["outcome"] if row[4] == 0.5]
    assert len(changed) == 1
    outcome_id = changed[0][0]
    err = _one_line_error(run_cli(["ledger", "verify", "--ledger", str(ledger)], capsys))
    assert f"table outcome, outcome_id {outcome_id}: content does not match" in err
    for command in (["ledger", "show"], ["ledger", "score"], ["ledger", "export"]):
        err = _one_line_error(run_cli([*command, "--ledger", str(ledger)], capsys))
        assert "does not verify" in err and "table outcome" in err
    # the report reads the ledger read-only, and refuses it the same way
    from forecast.report.ledger_view import read_ledger_view

    with pytest.raises(LedgerBroken, match="table outcome"):
        read_ledger_view(ledger, "2027Q1")


def test_a_dropped_trigger_alone_is_reported(ledger, capsys):
    _tamper(ledger, "DROP TRIGGER issue_no_replace")
    err = _one_line_error(run_cli(["ledger", "verify", "--ledger", str(ledger)], capsys))
    assert "trigger issue_no_replace is missing" in err


def test_rows_written_by_another_program_are_refused(ledger, capsys):
    _tamper(
        ledger,
        "INSERT INTO outcome (state, indicator, period, value, vintage, source, data_sha256, "
        "resolved_at) VALUES ('UZB', 'trade_share_chn', '2025', 0.9, 'x', 'x', 'x', 'x')",
    )
    err = _one_line_error(run_cli(["ledger", "verify", "--ledger", str(ledger)], capsys))
    assert "table outcome" in err and "not in the hash chain" in err
    # a writer that skipped verification still refuses to chain the stranger's row
    conn = open_ledger(ledger, verify=False)
    try:
        with pytest.raises(LedgerBroken, match="not in the hash chain"):
            score_ledger(conn, ledger)
    finally:
        conn.close()


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_random_bytes_in_the_file_are_refused(ledger, capsys, seed):
    rng = np.random.default_rng(seed)
    size = ledger.stat().st_size
    offset = int(rng.integers(0, size - 4096))
    with open(ledger, "r+b") as fh:
        fh.seek(offset)
        fh.write(rng.bytes(4096))
    for command in (
        ["ledger", "verify"],
        ["ledger", "show"],
        ["ledger", "resolve", "--data", str(PANEL)],
    ):
        err = _one_line_error(run_cli([*command, "--ledger", str(ledger)], capsys))
        assert "integrity" in err or "corrupted" in err or "does not verify" in err, err


def test_a_ledger_rewritten_whole_is_caught_only_by_a_published_copy(ledger, tmp_path, capsys):
    published = tmp_path / "issue.json"
    result = run_cli(["ledger", "export", "--ledger", str(ledger), "--out", str(published)], capsys)
    assert result.code == 0 and "root sha256" in result.out
    assert read_export(published)["run_id"] == "run-a"
    # an attacker who knows the encoding: change a forecast, recompute its table's chain,
    # restore the triggers exactly
    conn = sqlite3.connect(ledger, isolation_level=None)
    triggers = conn.execute(
        "SELECT sql FROM sqlite_master WHERE type = 'trigger' "
        "AND name IN ('indicator_forecast_no_update', 'row_chain_no_delete')"
    ).fetchall()
    conn.execute("DROP TRIGGER indicator_forecast_no_update")
    conn.execute("DROP TRIGGER row_chain_no_delete")
    conn.execute("UPDATE indicator_forecast SET mean = mean + 0.1 WHERE forecast_id = 3")
    conn.execute("DELETE FROM row_chain WHERE tbl = 'indicator_forecast'")
    seal_new_rows(conn)
    for (sql,) in triggers:
        conn.execute(sql)
    conn.close()
    result = run_cli(["ledger", "verify", "--ledger", str(ledger)], capsys)
    assert result.code == 0, result.err
    err = _one_line_error(
        run_cli(["ledger", "verify", "--ledger", str(ledger), "--against", str(published)], capsys)
    )
    assert "differs from the published copy" in err
    assert "table indicator_forecast, forecast_id 3 differs" in err


def test_an_exported_issue_carries_a_root_its_rows_give(ledger, tmp_path):
    conn = open_ledger(ledger)
    try:
        payload = export_issue(conn)
    finally:
        conn.close()
    assert set(payload["rows"]) == {
        "issue",
        "indicator_forecast",
        "question_forecast",
        "scenario_spec",
    }
    path = tmp_path / "issue.json"
    path.write_text(json.dumps(payload))
    assert read_export(path)["root"] == payload["root"]
    payload["rows"]["question_forecast"][0]["probability"] += 1e-9
    path.write_text(json.dumps(payload))
    with pytest.raises(ForecastError, match="do not give the root hash"):
        read_export(path)
    path.write_text("{not json")
    with pytest.raises(ForecastError, match="not an exported ledger issue"):
        read_export(path)


def test_the_canonical_encoding_is_exact_and_independent_of_column_order():
    row = {"b": 0.1, "a": "KAZ", "c": 3, "d": None}
    assert canonical_row("t", row) == canonical_row("t", dict(reversed(row.items())))
    assert canonical_row("t", row) == (
        b'["t",[["a","text","KAZ"],["b","real","0x1.999999999999ap-4"],'
        b'["c","integer",3],["d","null",null]]]'
    )
    # NumPy scalars and Python numbers of the same value encode alike
    assert canonical_row("t", {"x": np.float64(0.1), "y": np.int64(3)}) == canonical_row(
        "t", {"x": 0.1, "y": 3}
    )
    # the nearest different double is a different row
    assert canonical_row("t", {"x": 0.1}) != canonical_row("t", {"x": np.nextafter(0.1, 1)})
    assert canonical_row("t", {"x": 1}) != canonical_row("t", {"x": 1.0})


def test_a_version_2_ledger_is_migrated_with_its_rows_chained(tmp_path, capsys):
    path = tmp_path / "old.db"
    conn = sqlite3.connect(path, isolation_level=None)
    for script in MIGRATIONS[:2]:
        assert isinstance(script, str)
        conn.executescript(script)
    conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
    conn.execute("PRAGMA user_version = 2")
    conn.execute(
        "INSERT INTO issue (run_id, quarter, issued_at, data_sha256, spec_sha256, method, "
        "approximate, converged, random_seed, last_fitted, until, draws) "
        "VALUES ('old', '2025Q4', 'x', 'd', 's', 'nuts', 0, 1, 1, '2020', '2030', 10)"
    )
    conn.close()
    conn = open_ledger(path)
    try:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        report = verify_ledger(conn, path)
        assert report.rows == {table: int(table == "issue") for table in CHAINED}
        # migrated rows are append-only like new ones
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            conn.execute("REPLACE INTO issue SELECT * FROM issue")
    finally:
        conn.close()
    result = run_cli(["ledger", "verify", "--ledger", str(path)], capsys)
    assert result.code == 0 and "1 rows in 8 tables" in result.out
