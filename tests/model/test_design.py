"""From panel to model arrays (pure NumPy): ordering, AR links, mixed frequency, scaling."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from forecast.data.codebook import Codebook
from forecast.data.panel import DEFAULT_PANEL, read_panel
from forecast.errors import DataError
from forecast.model.design import FAMILIES, build_model_data
from forecast.model.spec import DEFAULT_MODEL, load_model_spec
from forecast.model.transforms import to_link
from tests.model.panels import Row, small_panel, small_spec

REFS = ("trade_share_rus", "trade_share_chn", "trade_share_eu")

#: references for two years, then a KAZ series with a gap and a shorter KGZ series, in an
#: order the design must sort
ROWS: list[Row] = [
    *[
        (s, k, y, round(v + 0.05 * j + 0.01 * t, 2), None)
        for j, s in enumerate(("KAZ", "KGZ"))
        for k, v in zip(REFS, (0.4, 0.1, 0.2), strict=True)
        for t, y in enumerate(("2000", "2001"))
    ],
    ("KGZ", "arms_share_rus", "2002", 0.9, None),
    ("KAZ", "arms_share_rus", "2003", 1.0, None),
    ("KAZ", "arms_share_rus", "2000", 0.5, None),
    ("KGZ", "arms_share_rus", "2000", 0.0, None),
    ("KAZ", "arms_share_rus", "2001", 0.7, None),
    ("KAZ", "unga_agree_rus", "2001", 0.5, 60),
    ("KAZ", "unga_agree_rus", "2000", 0.25, 80),
    ("KGZ", "unga_agree_rus", "2000", 0.75, 40),
    ("KAZ", "cis_member", "2000", 1.0, None),
    ("KAZ", "china_finance", "2000", 0.0, None),
    ("KAZ", "china_finance", "2001", 99.0, None),
    ("KGZ", "china_finance", "2001", 9.0, None),
]
USED = (*REFS, "arms_share_rus", "unga_agree_rus", "cis_member", "china_finance")


@pytest.fixture
def data(tmp_path: Path, codebook: Codebook):
    panel = small_panel(tmp_path, ROWS, codebook)
    return build_model_data(panel, small_spec(USED), codebook)


def rows_of(data, family: str, indicator: str) -> np.ndarray:
    obs = data.obs[family]
    return np.flatnonzero(obs.indicator == data.indicators.index(indicator))


def test_observations_sorted_by_series_with_previous_and_gap(data) -> None:
    obs = data.obs["gaussian"]
    keys = list(zip(obs.indicator, obs.state, obs.period, strict=True))
    assert keys == sorted(keys)
    arms = rows_of(data, "gaussian", "arms_share_rus")
    assert [(data.states[obs.state[r]], obs.period[r]) for r in arms] == [
        ("KAZ", "2000"),
        ("KAZ", "2001"),
        ("KAZ", "2003"),
        ("KGZ", "2000"),
        ("KGZ", "2002"),
    ]
    # previous is the row above within a series; the gap counts the indicator's own periods
    first = arms[0]
    assert obs.previous[arms].tolist() == [-1, first, first + 1, -1, first + 3]
    assert obs.gap[arms].tolist() == [0, 1, 2, 0, 2]
    # every series starts without a previous observation, across all indicators
    for r in range(len(obs)):
        if obs.previous[r] >= 0:
            assert obs.previous[r] == r - 1
            assert (obs.indicator[r], obs.state[r]) == (obs.indicator[r - 1], obs.state[r - 1])
        else:
            assert r == 0 or (obs.indicator[r], obs.state[r]) != (
                obs.indicator[r - 1],
                obs.state[r - 1],
            )


def test_families_and_values(data) -> None:
    assert data.kind == ("share",) * 4 + ("binomial", "binary", "positive")
    binom = data.obs["binomial"]
    assert [data.indicators[i] for i in set(binom.indicator)] == ["unga_agree_rus"]
    # successes are value * n, sorted by state then period
    assert binom.y.tolist() == [20, 30, 30]
    assert binom.trials.tolist() == [80, 60, 40]
    binary = data.obs["binary"]
    assert (binary.y.tolist(), binary.trials.tolist()) == ([1.0], [1])
    assert (data.pole_index.tolist(), data.sign.tolist()) == ([0, 1, 2, 0, 0, 0, 1], [1.0] * 7)
    assert data.is_reference.tolist() == [True] * 3 + [False] * 4


def test_only_observed_cells_enter(data) -> None:
    cells = {(s, k, p) for s, k, p, _, _ in ROWS}
    entered = [
        (data.states[s], data.indicators[i], p)
        for family in FAMILIES
        for s, i, p in zip(
            data.obs[family].state,
            data.obs[family].indicator,
            data.obs[family].period,
            strict=True,
        )
    ]
    assert len(entered) == len(set(entered)) == len(cells)
    assert set(entered) == cells
    assert data.steps == ("2000", "2001", "2002", "2003")
    assert all(np.isfinite(data.obs[f].y).all() for f in FAMILIES)


def test_unused_indicators_and_states_are_left_out(tmp_path: Path, codebook: Codebook) -> None:
    panel = small_panel(tmp_path, ROWS, codebook)
    data = build_model_data(panel, small_spec((*REFS, "unga_agree_rus")), codebook, states=("KAZ",))
    assert data.states == ("KAZ",)
    assert data.indicators == (*REFS, "unga_agree_rus")
    assert len(data.obs["binary"]) == 0
    assert data.obs["gaussian"].cover.shape == (6, 1)
    assert len(data.obs["binomial"]) == 2


def test_gaussian_kinds_are_standardised_on_their_link_scale(data) -> None:
    obs = data.obs["gaussian"]
    values = {(s, k, p): v for s, k, p, v, _ in ROWS}
    for name in ("trade_share_rus", "arms_share_rus", "china_finance"):
        i = data.indicators.index(name)
        rows = rows_of(data, "gaussian", name)
        y = obs.y[rows]
        assert y.mean() == pytest.approx(0.0, abs=1e-12)
        assert y.std(ddof=1) == pytest.approx(1.0)
        natural = [values[data.states[obs.state[r]], name, obs.period[r]] for r in rows]
        link = to_link(natural, data.kind[i], offset=data.offset[i], clip=data.share_clip)
        np.testing.assert_allclose(y * data.scale[i] + data.centre[i], link)
    # exact 0 and 1 are clipped before the logit, so they stay finite
    arms = obs.y[rows_of(data, "gaussian", "arms_share_rus")]
    assert np.isfinite(arms).all()
    # china_finance has offset 1: log(0 + 1) = 0 for the zero commitment
    assert data.offset[data.indicators.index("china_finance")] == 1.0


def test_reference_without_variation_is_a_data_error(tmp_path: Path, codebook: Codebook) -> None:
    rows = [(s, k, y, 0.3, None) for s in ("KAZ", "KGZ") for k in REFS for y in ("2000", "2001")]
    panel = small_panel(tmp_path, rows, codebook)
    with pytest.raises(DataError, match="reference indicator trade_share_rus has the same value"):
        build_model_data(panel, small_spec(REFS), codebook)


def test_indicator_without_variation_is_left_out(tmp_path: Path, codebook: Codebook) -> None:
    # every Chinese arms share 0 or below the clip (as before the 2015 vintages): the same
    # value to the model; one UN-vote observation alone is not "without variation"
    zero = [
        (s, "arms_share_chn", y, v, None)
        for s, v in (("KAZ", 0.0), ("KGZ", 0.001))
        for y in ("2000", "2001")
    ]
    panel = small_panel(
        tmp_path, [*ROWS, *zero, ("KGZ", "unga_agree_chn", "2001", 0.5, 50)], codebook
    )
    used = (*USED, "arms_share_chn", "unga_agree_chn")
    data = build_model_data(panel, small_spec(used), codebook)
    assert data.left_out == ("arms_share_chn",)
    assert data.indicators == tuple(k for k in used if k != "arms_share_chn")
    assert sum(len(data.obs[f]) for f in FAMILIES) == len(ROWS) + 1
    # nothing is left out when every series varies
    full = build_model_data(small_panel(tmp_path, ROWS, codebook), small_spec(USED), codebook)
    assert full.left_out == ()


def test_typical_trials_per_series_and_indicator(data) -> None:
    i = data.indicators.index("unga_agree_rus")
    # KAZ: median of 80 and 60; KGZ: its single 40
    assert data.typical_trials[i].tolist() == [70, 40]
    # indicators without trials keep one
    assert data.typical_trials[data.indicators.index("trade_share_rus")].tolist() == [1, 1]


def test_typical_trials_fall_back_to_the_indicator_median(
    tmp_path: Path, codebook: Codebook
) -> None:
    rows = [r for r in ROWS if not (r[0] == "KGZ" and r[1] == "unga_agree_rus")]
    data = build_model_data(small_panel(tmp_path, rows, codebook), small_spec(USED), codebook)
    i = data.indicators.index("unga_agree_rus")
    assert data.typical_trials[i].tolist() == [70, 70]


def test_yearly_indicator_in_a_quarterly_model_covers_four_steps(
    tmp_path: Path, codebook: Codebook
) -> None:
    rows: list[Row] = [
        *[("KAZ", k, y, v, None) for k in REFS for y, v in (("2019", 0.3), ("2020", 0.4))],
        ("KAZ", "eu_exports", "2019Q3", 1200.0, None),
        ("KAZ", "eu_exports", "2020Q1", 900.0, None),
        ("KAZ", "eu_exports", "2020Q2", 1000.0, None),
    ]
    spec = small_spec((*REFS, "eu_exports"), step="Q")
    data = build_model_data(small_panel(tmp_path, rows, codebook), spec, codebook)
    assert data.step == "Q"
    assert data.steps == tuple(f"{y}Q{q}" for y in (2019, 2020) for q in (1, 2, 3, 4))
    obs = data.obs["gaussian"]
    assert obs.cover.shape == (9, 4)
    yearly = np.flatnonzero(obs.indicator < 3)
    for r in yearly:
        start = 0 if obs.period[r] == "2019" else 4
        assert obs.cover[r].tolist() == [start, start + 1, start + 2, start + 3]
        assert obs.weight[r].tolist() == [0.25] * 4
    quarterly = np.flatnonzero(obs.indicator == 3)
    assert [obs.period[r] for r in quarterly] == ["2019Q3", "2020Q1", "2020Q2"]
    assert obs.cover[quarterly, 0].tolist() == [2, 4, 5]
    # the padding of a one-step observation carries no weight
    assert obs.weight[quarterly].tolist() == [[1.0, 0.0, 0.0, 0.0]] * 3
    # gaps of the quarterly series count quarters (2019Q3 -> 2020Q1 is two)
    assert obs.gap[quarterly].tolist() == [0, 2, 1]


def test_until_extends_the_latent_path_only(tmp_path: Path, codebook: Codebook) -> None:
    panel = small_panel(tmp_path, ROWS, codebook)
    spec = small_spec(USED)
    base = build_model_data(panel, spec, codebook)
    longer = build_model_data(panel, spec, codebook, until="2006")
    assert longer.steps == (*base.steps, "2004", "2005", "2006")
    for family in FAMILIES:
        np.testing.assert_array_equal(longer.obs[family].y, base.obs[family].y)
        np.testing.assert_array_equal(longer.obs[family].cover, base.obs[family].cover)


def test_cut_until_drops_later_observations(tmp_path: Path, codebook: Codebook) -> None:
    panel = small_panel(tmp_path, ROWS, codebook)
    data = build_model_data(panel, small_spec(USED), codebook, until="2001")
    assert data.steps == ("2000", "2001")
    assert all(p in ("2000", "2001") for f in FAMILIES for p in data.obs[f].period)


def test_explicit_start_drops_earlier_observations(tmp_path: Path, codebook: Codebook) -> None:
    panel = small_panel(tmp_path, ROWS, codebook)
    data = build_model_data(panel, small_spec(USED, start="2001"), codebook)
    assert data.steps[0] == "2001"
    assert "2000" not in {p for f in FAMILIES for p in data.obs[f].period}


def test_missing_reference_is_a_data_error(tmp_path: Path, codebook: Codebook) -> None:
    rows = [r for r in ROWS if r[1] != "trade_share_chn"]
    panel = small_panel(tmp_path, rows, codebook)
    with pytest.raises(DataError, match="reference indicator trade_share_chn has no observation"):
        build_model_data(panel, small_spec(USED), codebook)


def test_bundled_panel_design(codebook: Codebook) -> None:
    spec = load_model_spec(DEFAULT_MODEL, codebook)
    panel = read_panel(DEFAULT_PANEL, codebook)
    data = build_model_data(panel, spec, codebook)
    used = panel[panel["indicator"].isin(spec.indicators)]
    assert sum(len(data.obs[f]) for f in FAMILIES) == len(used)
    assert data.states == ("KAZ", "KGZ", "TJK", "TKM", "UZB")
    assert data.indicators == spec.indicators
    assert data.left_out == ()
    # the ragged edge: the path runs to the last year with any data (remittances, arms shares
    # and UN ideal points reach 2024; trade shares stop earlier in some states)
    assert (data.steps[0], data.steps[-1], data.n_steps) == ("1992", "2024", 33)
    assert len(data.obs["binary"]) == 0
    assert (len(data.obs["gaussian"]), len(data.obs["binomial"])) == (
        int(used["n"].isna().sum()),
        int(used["n"].notna().sum()),
    )
    g = data.obs["gaussian"]
    for i in data.family_indicators("gaussian"):
        y = g.y[g.indicator == i]
        assert (y.mean(), y.std(ddof=1)) == (pytest.approx(0.0, abs=1e-9), pytest.approx(1.0))
