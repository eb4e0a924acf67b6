"""The report's backtest section: the issued kind's skill and coverage, or why there is none."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd

from forecast.evaluation.skill import backtest_evidence
from forecast.model.stacked import read_weights, write_weights
from forecast.report.backtest import backtest_facts, backtest_section
from forecast.report.exporters import render_markdown
from forecast.report.sections import build_sections
from tests.report.helpers import make_inputs


def _evidence() -> pd.DataFrame:
    skill = pd.DataFrame(
        {
            "model": ["alignment"] * 4 + ["stacked"] * 4 + ["alignment:drift_damping=1"] * 2,
            "horizon": [1, 1, 2, 2] * 2 + [1, 1],
            "baseline": ["persistence", "local_level"] * 5,
            "cells": [100] * 10,
            "skill": [-0.06, -0.08, 0.0, -0.05, 0.03, 0.01, 0.07, 0.03, -0.3, -0.3],
        }
    )
    coverage = pd.DataFrame(
        {
            "model": ["alignment", "alignment", "stacked", "stacked"],
            "horizon": [1, 2, 1, 2],
            "cells": [100] * 4,
            "covered_50": [0.64, 0.62, 0.64, 0.62],
            "covered_90": [0.89, 0.88, 0.88, 0.875],
        }
    )
    return backtest_evidence(skill, coverage)


def _weights() -> pd.DataFrame:
    """One (family, horizon) row of stacking weights, all on the model."""
    return pd.DataFrame(
        {
            "family": ["x"],
            "horizon": [0],
            "model": [1.0],
            "persistence": [0.0],
            "local_level": [0.0],
            "cells": [1],
            "basis": ["family"],
        }
    )


def test_evidence_round_trips_through_the_weights_file(tmp_path):
    weights = pd.DataFrame(
        {
            "family": ["trade_share"],
            "horizon": [0],
            "model": [0.5],
            "persistence": [0.5],
            "local_level": [0.0],
            "cells": [10],
            "basis": ["family"],
        }
    )
    path = tmp_path / "stacking.toml"
    write_weights(path, weights, {"origins": "2008:2022", "fits": "nuts"}, _evidence())
    read = read_weights(path)
    assert list(read.evidence["model"]) == ["model", "model", "stacked", "stacked"]
    facts = backtest_facts(read, "stacked")
    assert facts is not None
    assert [r.skill_persistence for r in facts.rows] == [0.03, 0.07]
    assert facts.rows[1].covered_90 == 0.875
    # the variants are left out; the model alone is labelled "model" whatever its spec name
    assert backtest_facts(read, "model").rows[0].skill_local_level == -0.08


def test_section_states_skill_and_calibration_in_words(tmp_path):
    path = tmp_path / "stacking.toml"
    table = _weights()
    write_weights(path, table, {"origins": "2008:2022", "fits": "nuts"}, _evidence())
    inputs = replace(make_inputs(), backtest=backtest_facts(read_weights(path), "stacked"))
    section = backtest_section(inputs)
    text = render_markdown(inputs, (section,))
    assert "| 2 | 100 | +0.07 | +0.03 | 62 % | 88 % |" in text
    assert "2008–2022" in text and "stacked forecast" in text
    assert "50 % intervals held 62 to 64 %" in text and "somewhat too wide" in text


def test_without_evidence_the_section_says_so():
    inputs = make_inputs()
    assert inputs.backtest is None
    sections = build_sections(inputs)
    (section,) = [s for s in sections if s.id == "backtest"]
    assert "cannot be shown" in render_markdown(inputs, (section,))


def test_pit_histogram_round_trips_and_is_read_in_words(tmp_path):
    table = _weights()
    counts = [30, 10, 10, 10, 10, 10, 10, 10, 10, 30]
    pit = pd.DataFrame({"model": ["stacked"] * 10, "bin": range(10), "count": counts})
    path = tmp_path / "stacking.toml"
    write_weights(path, table, {"origins": "2008:2022"}, _evidence(), pit)
    facts = backtest_facts(read_weights(path), "stacked")
    assert facts is not None and facts.pit == tuple(counts)
    text = render_markdown(
        make_inputs(), (backtest_section(replace(make_inputs(), backtest=facts)),)
    )
    assert "Of 140 values scored, 43 % fell in the outer tenth" in text
    assert "surprises beyond the bands" in text


def test_reliability_curve_is_the_pit_histogram_cumulated():
    """The report's reliability figure: outcomes below each decile, from the PIT counts."""
    from forecast.report.backtest import pit_reliability
    from forecast.report.figures import _reliability_figure

    counts = (5, 15, 20, 20, 20, 10, 5, 3, 1, 1)
    levels, below = pit_reliability(counts)
    np.testing.assert_allclose(levels, np.arange(1, 10) / 10)
    assert below[0] == 0.05 and below[4] == 0.8 and below[-1] == 0.99
    facts = backtest_facts(_facts_weights(counts), "stacked")
    figure = _reliability_figure(facts)
    assert figure.key == "reliability"
    section = backtest_section(replace(make_inputs(), backtest=facts))
    assert [getattr(b, "key", None) for b in section.blocks][-2:] == ["pit", "reliability"]


def _facts_weights(counts):
    from forecast.model.stacked import StackingWeights

    pit = pd.DataFrame(
        {"model": ["stacked"] * len(counts), "bin": range(len(counts)), "count": counts}
    )
    return StackingWeights(_weights(), {"origins": "2008:2022"}, _evidence(), pit)
