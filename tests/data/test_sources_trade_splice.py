"""DOTS trade shares extended past 2020 with the national series, spliced on the logit scale.

The real spot value is recomputed from the raw files with the ``csv`` module (DOTS reporter
file and the Kyrgyz national file), independently of both loaders; the unit cases pin down
which series are extended and from which anchor year.
"""

from __future__ import annotations

import csv
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from forecast.data.build import build_panel
from forecast.data.sources.dots import REPORTER_FILE, load_trade_shares
from forecast.data.sources.national import KGZ_FILE, load_national_trade_shares
from forecast.data.sources.rawfile import LOADER_COLUMNS
from forecast.data.sources.trade_splice import (
    EXTENDS,
    SOURCE,
    load_spliced_trade_shares,
    splice_extension,
)

DOTS_KEYS = ("trade_share_rus", "trade_share_chn", "trade_share_eu", "trade_share_usa")


def logit(p: float) -> float:
    return math.log(p / (1 - p))


def _frame(state: str, key: str, values: dict[int, float]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "state": state,
            "indicator": key,
            "period": [str(y) for y in values],
            "value": list(values.values()),
        }
    )


@pytest.fixture(scope="module")
def spliced(raw_dir: Path) -> pd.DataFrame:
    return load_spliced_trade_shares(raw_dir)


@pytest.fixture(scope="module")
def imf(raw_dir: Path) -> pd.DataFrame:
    return load_trade_shares(raw_dir)


@pytest.fixture(scope="module")
def nat(raw_dir: Path) -> pd.DataFrame:
    return load_national_trade_shares(raw_dir)


def _series(rows: pd.DataFrame, state: str, key: str) -> pd.Series:
    block = rows[(rows["state"] == state) & (rows["indicator"] == key)]
    return block.set_index(block["period"].astype(int))["value"].sort_index()


def nat_value(nat: pd.DataFrame, year: int) -> float:
    return float(nat.loc[nat["period"] == str(year), "value"].iloc[0])


# --- the unit: which series, from which anchor -------------------------------------------------


def test_docstring_example_and_formula() -> None:
    dots = _frame("KAZ", "trade_share_chn", {2019: 0.15, 2020: 0.18})
    nat = _frame("KAZ", "trade_share_chn_nat", {2019: 0.1, 2020: 0.16, 2021: 0.2, 2022: 0.25})
    out = splice_extension(dots, nat)
    assert out["period"].tolist() == ["2021", "2022"]
    assert set(out["indicator"]) == {"trade_share_chn"}
    for year, share in zip((2021, 2022), out["value"], strict=True):
        # the national change since 2020 on the logit scale, from DOTS's own 2020 level
        assert logit(share) == pytest.approx(
            logit(0.18) + logit(nat_value(nat, year)) - logit(0.16)
        )


def test_anchor_is_the_last_dots_year_not_the_mean_of_the_overlap() -> None:
    # overlaps before the last DOTS year do not move the level
    dots = _frame("KGZ", "trade_share_eu", {2018: 0.05, 2019: 0.05, 2020: 0.2})
    nat = _frame("KGZ", "trade_share_eu_nat", {2018: 0.9, 2019: 0.9, 2020: 0.2, 2021: 0.3})
    (share,) = splice_extension(dots, nat)["value"]
    assert share == pytest.approx(0.3)


def test_a_dots_series_ending_earlier_anchors_earlier() -> None:
    dots = _frame("UZB", "trade_share_rus", {2017: 0.2, 2018: 0.25})
    nat = _frame("UZB", "trade_share_rus_nat", {2018: 0.2, 2019: 0.2, 2020: 0.3})
    out = splice_extension(dots, nat)
    assert out["period"].tolist() == ["2019", "2020"]
    assert out["value"].iloc[0] == pytest.approx(0.25)  # no national change 2018-2019


@pytest.mark.parametrize(
    ("dots_values", "nat_values"),
    [
        ({2019: 0.2, 2020: 0.2}, {2019: 0.2, 2021: 0.3}),  # no national value in 2020
        ({2019: 0.2, 2020: 0.2}, {2018: 0.1, 2019: 0.2, 2020: 0.2}),  # nothing after 2020
        ({2019: 0.2, 2020: 0.2}, {2020: 0.0, 2021: 0.1}),  # a national anchor of 0
        ({2019: 0.2, 2020: 1.0}, {2020: 0.5, 2021: 0.6}),  # a DOTS anchor of 1
    ],
)
def test_not_extended(dots_values, nat_values) -> None:
    dots = _frame("KAZ", "trade_share_usa", dots_values)
    nat = _frame("KAZ", "trade_share_usa_nat", nat_values)
    out = splice_extension(dots, nat)
    assert out.empty and list(out.columns) == ["state", "indicator", "period", "value"]


def test_a_national_series_without_a_dots_series_is_not_extended() -> None:
    dots = _frame("KAZ", "trade_share_rus", {2020: 0.2})
    nat = _frame("TJK", "trade_share_rus_nat", {2020: 0.3, 2021: 0.3})
    assert splice_extension(dots, nat).empty


def test_every_national_indicator_extends_its_dots_twin() -> None:
    assert EXTENDS == {f"{key}_nat": key for key in DOTS_KEYS}


# --- the real release ----------------------------------------------------------------------------


def test_which_series_reach_2023(spliced: pd.DataFrame) -> None:
    assert tuple(spliced.columns) == LOADER_COLUMNS
    assert spliced["source"].eq(SOURCE).all()
    assert spliced["n"].isna().all() and spliced["se"].isna().all()
    span = spliced.assign(year=spliced["period"].astype(int)).groupby(["state", "indicator"])
    years = span["year"].agg(["min", "max", "count"])
    # KAZ, KGZ and UZB from 2021 to 2023 (DOTS ends in 2020), every year
    assert (years["min"] == 2021).all() and (years["max"] == 2023).all()
    assert (years["count"] == 3).all()
    assert sorted(years.index) == sorted(
        [(s, k) for s in ("KAZ", "KGZ") for k in DOTS_KEYS]
        # Uzbekistan's office publishes no EU aggregate: its EU share stops in 2020
        + [("UZB", k) for k in DOTS_KEYS if k != "trade_share_eu"]
    )
    # no national data for Tajikistan or Turkmenistan: their shares stop in 2020
    assert not spliced["state"].isin(["TJK", "TKM"]).any()


def test_spliced_changes_equal_the_national_changes_on_the_logit_scale(spliced, imf, nat) -> None:
    checked = 0
    for (state, key), block in spliced.groupby(["state", "indicator"]):
        dots = _series(imf, state, key)
        national = _series(nat, state, f"{key}_nat")
        anchor = int(dots.index.max())
        assert anchor == 2020
        mine = _series(spliced, state, key)
        # the step from DOTS's last value into the splice is the national step 2020 -> 2021
        step = logit(mine[2021]) - logit(dots[2020])
        assert step == pytest.approx(logit(national[2021]) - logit(national[2020]), abs=1e-12)
        # and every later step is the national one
        for year in (2022, 2023):
            got = logit(mine[year]) - logit(mine[year - 1])
            assert got == pytest.approx(logit(national[year]) - logit(national[year - 1]))
        checked += len(block)
    assert checked == 33


def _csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def test_kgz_russia_2023_by_hand(spliced: pd.DataFrame, raw_dir: Path) -> None:
    # DOTS 2020: Kyrgyzstan's turnover with Russia over its turnover with the World
    flows = {
        (r["partner"], r["flow"]): float(r["value_musd"])
        for r in _csv(raw_dir / REPORTER_FILE)
        if r["reporter_iso"] == "KGZ" and r["year"] == "2020"
    }
    dots_2020 = sum(flows["Russian Federation", f] for f in ("exports_fob", "imports_cif")) / sum(
        flows["World", f] for f in ("exports_fob", "imports_cif")
    )
    # national statistics 2020 and 2023 (2023 imports preliminary, "2023 1"): Russia over Total
    turnover: dict[tuple[str, str], float] = {}
    for r in _csv(raw_dir / KGZ_FILE):
        if r["partner_en"] in ("Russia", "Total") and r["year"] in ("2020", "2023"):
            key = (r["partner_en"], r["year"])
            turnover[key] = turnover.get(key, 0.0) + float(r["value_thousand_usd"])
    nat = {y: turnover["Russia", y] / turnover["Total", y] for y in ("2020", "2023")}
    expected = 1 / (1 + math.exp(-(logit(dots_2020) + logit(nat["2023"]) - logit(nat["2020"]))))
    got = spliced[
        (spliced["state"] == "KGZ")
        & (spliced["indicator"] == "trade_share_rus")
        & (spliced["period"] == "2023")
    ]["value"]
    assert float(got.iloc[0]) == pytest.approx(expected, rel=1e-12)
    assert 0 < expected < 1


def test_spliced_rows_follow_dots_rows_in_the_panel(raw_dir: Path, codebook) -> None:
    panel = build_panel(raw_dir, codebook, [load_trade_shares, load_spliced_trade_shares])
    assert not panel.duplicated(["state", "indicator", "period"]).any()
    kaz = panel[(panel["state"] == "KAZ") & (panel["indicator"] == "trade_share_chn")]
    by_year = kaz.set_index(kaz["period"].astype(int))
    assert by_year.loc[2020, "source"] == "IMF DOTS"
    assert by_year.loc[2021, "source"] == SOURCE
    # the vintage follows the DOTS indicator's release lag (6 months)
    assert by_year.loc[2023, "vintage"] == "2024-06-30"
    assert np.isfinite(by_year["value"]).all()


def test_a_release_cut_at_2020_has_no_splice(raw_dir: Path, tmp_path: Path) -> None:
    # the national files of a release that ends with DOTS (2020) give nothing after it
    folder = tmp_path / "national_stats_trade_by_country"
    folder.mkdir()
    for src in (raw_dir / "national_stats_trade_by_country").glob("*.csv"):
        rows = _csv(src)
        kept = [r for r in rows if int(r["year"][:4]) <= 2020]
        with (folder / src.name).open("w", newline="", encoding="utf-8") as fh:
            writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(kept)
    (tmp_path / "imf_dots").symlink_to(raw_dir / "imf_dots", target_is_directory=True)
    assert load_spliced_trade_shares(tmp_path).empty
