"""Scenario and question probabilities in the ledger: recorded, resolved from data, scored."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from forecast.dims import INDICATOR, PERIOD, STATE
from forecast.evaluation.ledger.questions import (
    observed_draws,
    question_issue,
    resolve_spec,
)
from forecast.evaluation.ledger.resolve import resolve_outcomes
from forecast.evaluation.ledger.schema import open_ledger
from forecast.evaluation.ledger.scoring import score_ledger
from forecast.evaluation.ledger.store import indicator_cells, issue_meta, record_issue
from forecast.evaluation.ledger.track import track_record
from forecast.scenarios.probabilities import scenario_probabilities
from forecast.scenarios.spec import load_scenario_spec
from forecast.scenarios.synthetic import synthetic_forecast
from tests.evaluation.ledger_helpers import manifest


@pytest.fixture(scope="module")
def issued():
    forecast = synthetic_forecast()
    forecast.attrs.update({"until": "2030", "random_seed": 0})
    spec = load_scenario_spec()
    return forecast, spec, question_issue(scenario_probabilities(forecast, spec), spec)


def _panel(rows):
    return pd.DataFrame(
        [
            {
                STATE: s,
                INDICATOR: i,
                PERIOD: p,
                "value": v,
                "n": np.nan,
                "source": "t",
                "vintage": f"{int(p) + 1}-06-30",
            }
            for s, i, p, v in rows
        ]
    )


def test_question_table_has_every_entry_with_its_rule(issued):
    _, spec, questions = issued
    table = questions.table
    n_entries = sum(len(p.scenarios) for p in spec.partitions) + len(spec.questions)
    assert len(table) == n_entries
    assert set(table["kind"]) == {"scenario", "question"}
    q = table.set_index("name").loc["kaz_china_trade_2025"]
    assert q["period"] == "2025" and q["resolves_on"] == "indicators"
    assert "trade_share_chn" in q["rule"]
    assert questions.spec_text.startswith("#")


def test_resolve_spec_settles_only_entries_whose_cells_are_observed(issued):
    _, spec, _ = issued
    panel = _panel(
        [
            ("KAZ", "trade_share_chn", "2025", 0.30),
            ("KAZ", "trade_share_rus", "2025", 0.20),
            ("KAZ", "trade_share_eu", "2025", 0.20),
            ("TJK", "remittances_gdp", "2025", 0.30),  # KGZ missing: still pending
        ]
    )
    outcomes = resolve_spec(spec, observed_draws(panel))
    assert outcomes == {
        ("question", "kaz_china_trade_2025"): True,
        ("question", "kaz_eu_trade_2025"): False,
    }


def test_questions_are_recorded_resolved_and_scored(issued, tmp_path):
    forecast, _, questions = issued
    path = tmp_path / "forecast.db"
    conn = open_ledger(path, create=True)
    meta = issue_meta(forecast, manifest("q-run"), "2026Q4")
    done = record_issue(conn, path, meta, indicator_cells(forecast), questions)
    assert done.questions == len(questions.table)
    panel = _panel(
        [("KAZ", "trade_share_chn", "2025", 0.30), ("KAZ", "trade_share_rus", "2025", 0.2)]
    )
    resolution = resolve_outcomes(conn, path, panel, "h" * 64)
    assert resolution.questions_new == 1
    assert resolution.questions_pending == len(questions.table) - 1
    assert score_ledger(conn, path) == (2, 1)  # two indicator cells, one question
    p = questions.table.set_index("name").loc["kaz_china_trade_2025", "probability"]
    brier, log = conn.execute("SELECT brier, log_score FROM question_score").fetchone()
    assert brier == pytest.approx((1 - p) ** 2)
    assert np.isfinite(log)
    record = track_record(conn)
    assert record.loc[0, "questions"] == len(questions.table)
    assert record.loc[0, "questions_resolved"] == 1
    # recording the same run again changes nothing
    assert not record_issue(conn, path, meta, indicator_cells(forecast), questions).new
    assert conn.execute("SELECT count(*) FROM scenario_spec").fetchone()[0] == 1
