"""Loaders of WDI, SIPRI and AidData files (money and arms flows), checked against the raw files.

Spot values are recomputed here from the raw CSVs with the csv module, independently of the
loaders' pandas code; file-layout errors are provoked on copies in ``tmp_path``.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import pandas as pd
import pytest

from forecast.data.sources.aiddata import COMMITMENTS_FILE, load_china_finance
from forecast.data.sources.sipri import REGISTER_FILE, load_arms_shares
from forecast.data.sources.wdi import REMITTANCES_FILE, US_AID_FILE, load_remittances, load_us_aid
from forecast.errors import DataError
from tests.data.source_checks import (
    COW,
    Loader,
    assert_loader_schema,
    assert_missing_file_refused,
    assert_removed_column_refused,
    copy_raw,
    read_rows,
    rewrite,
    value,
)

LOADERS: dict[str, Loader] = {
    "remittances": load_remittances,
    "us_aid": load_us_aid,
    "arms": load_arms_shares,
    "china_finance": load_china_finance,
}
#: loader -> (raw file, a column it needs)
FILES = {
    "remittances": (REMITTANCES_FILE, "bx_trf_pwkr_dt_gd_zs"),
    "us_aid": (US_AID_FILE, "dc_dac_usal_cd"),
    "arms": (REGISTER_FILE, "Year(s) of delivery"),
    "china_finance": (COMMITMENTS_FILE, "oda_adj"),
}
SIPRI_NAMES = {"KAZ": "Kazakhstan", "KGZ": "Kyrgyzstan", "TKM": "Turkmenistan", "UZB": "Uzbekistan"}


@pytest.fixture(scope="module")
def loaded(raw_dir: Path) -> dict[str, pd.DataFrame]:
    return {name: loader(raw_dir) for name, loader in LOADERS.items()}


# --- every loader: schema, ranges per kind; missing file, removed column ------------------------


@pytest.mark.parametrize("name", list(LOADERS))
def test_schema_and_ranges(loaded, codebook, name):
    assert_loader_schema(loaded[name], codebook)


@pytest.mark.parametrize("name", list(LOADERS))
def test_missing_file(raw_dir, tmp_path, name):
    relpath, _ = FILES[name]
    files = [f for f, _col in FILES.values()]
    assert_missing_file_refused(raw_dir, tmp_path, LOADERS[name], relpath, files)


@pytest.mark.parametrize("name", list(LOADERS))
def test_removed_column(raw_dir, tmp_path, name):
    relpath, column = FILES[name]
    assert_removed_column_refused(raw_dir, tmp_path, LOADERS[name], relpath, column)


# --- WDI ----------------------------------------------------------------------------------------


def test_wdi_spot_values(loaded, raw_dir):
    remit = {
        (r["economy"], r["year"]): r["bx_trf_pwkr_dt_gd_zs"]
        for r in read_rows(raw_dir / REMITTANCES_FILE)
    }
    for state, year in [("KGZ", 2019), ("TJK", 2008), ("TKM", 1996), ("KAZ", 1996), ("KGZ", 2024)]:
        expected = float(remit[(state.lower(), str(year))]) / 100
        assert value(loaded["remittances"], state, "remittances_gdp", year) == pytest.approx(
            expected
        )
    aid = {(r["economy"], r["year"]): r["dc_dac_usal_cd"] for r in read_rows(raw_dir / US_AID_FILE)}
    for state, year in [("TKM", 2008), ("KAZ", 2008), ("UZB", 2018), ("TJK", 2021)]:
        expected = float(aid[(state.lower(), str(year))]) / 1e6
        assert value(loaded["us_aid"], state, "us_aid", year) == pytest.approx(expected)
    assert value(loaded["us_aid"], "TKM", "us_aid", 2008) < 0  # net repayments are kept
    assert value(loaded["us_aid"], "TKM", "us_aid", 1997) is None  # no row in the file


def test_wdi_row_counts(loaded, raw_dir):
    assert len(loaded["remittances"]) == len(read_rows(raw_dir / REMITTANCES_FILE))
    assert len(loaded["us_aid"]) == len(read_rows(raw_dir / US_AID_FILE))


def test_zero_remittances_refused(raw_dir, tmp_path):
    path = copy_raw(raw_dir, tmp_path, REMITTANCES_FILE)
    rows = read_rows(path)
    rows[3]["bx_trf_pwkr_dt_gd_zs"] = "0"
    rewrite(path, rows)
    with pytest.raises(
        DataError, match=r"wdi_BX\.TRF.*row 5, column bx_trf_pwkr_dt_gd_zs.*positive"
    ):
        load_remittances(tmp_path)


def test_newer_wdi_release_loads(raw_dir, tmp_path):
    path = copy_raw(raw_dir, tmp_path, REMITTANCES_FILE)
    rows = read_rows(path)
    # the complete release ends in 2024: a newer one adds 2025
    assert max(int(r["year"]) for r in rows) == 2024
    rows.append({"economy": "kgz", "year": "2025", "bx_trf_pwkr_dt_gd_zs": "19.5"})
    rewrite(path, rows)
    assert value(load_remittances(tmp_path), "KGZ", "remittances_gdp", 2025) == pytest.approx(0.195)


# --- SIPRI --------------------------------------------------------------------------------------

WEST_IN_FILE = {
    "United States",
    "Turkiye",
    "Italy",
    "Israel",
    "France",
    "Canada",
    "Spain",
    "Germany",
    "Netherlands",
    "South Korea",
    "Bulgaria",
    "Czechia",
    "Austria",
}


def sipri_by_year(raw_dir: Path, recipient: str) -> dict[int, dict[str, float]]:
    """Delivered TIV by year and supplier, spread evenly over delivery years (csv route)."""
    out: dict[int, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for r in read_rows(raw_dir / REGISTER_FILE):
        if r["Recipient"] != recipient or not r["Year(s) of delivery"].strip():
            continue
        years = [int(y) for y in r["Year(s) of delivery"].split(";")]
        for y in years:
            out[y][r["Supplier"]] += float(r["SIPRI TIV of delivered weapons"]) / len(years)
    return out


@pytest.mark.parametrize(
    ("state", "year"),
    [("KAZ", 2010), ("KGZ", 2006), ("TKM", 2020), ("UZB", 2017), ("TKM", 2012), ("KAZ", 2024)],
)
def test_arms_spot_values(loaded, raw_dir, state, year):
    by_year = sipri_by_year(raw_dir, SIPRI_NAMES[state])
    window = defaultdict(float)
    for y in range(year - 4, year + 1):
        for supplier, tiv in by_year.get(y, {}).items():
            window[supplier] += tiv
    total = sum(window.values())
    west = sum(tiv for s, tiv in window.items() if s in WEST_IN_FILE)
    rows = loaded["arms"]
    assert value(rows, state, "arms_share_rus", year) == pytest.approx(window["Russia"] / total)
    assert value(rows, state, "arms_share_chn", year) == pytest.approx(window["China"] / total)
    assert value(rows, state, "arms_share_west", year) == pytest.approx(west / total)


def test_arms_kgz_2006_counts_unknown_and_kazakh_supplier(loaded):
    # 2002-2006 deliveries to KGZ include Kazakhstan (2004) and an unknown supplier (2006): both
    # are in the denominator and in no group, so the three shares sum to less than 1
    shares = [value(loaded["arms"], "KGZ", f"arms_share_{g}", 2006) for g in ("rus", "chn", "west")]
    assert sum(s for s in shares if s is not None) < 1


def test_arms_years_run_to_last_delivery_and_skip_empty_windows(loaded, raw_dir):
    rows = loaded["arms"]
    last = max(
        int(y)
        for r in read_rows(raw_dir / REGISTER_FILE)
        for y in r["Year(s) of delivery"].split(";")
        if y.strip()
    )
    assert rows["period"].astype(int).max() == last
    by_year = sipri_by_year(raw_dir, "Kyrgyzstan")
    first = min(y for y, s in by_year.items() if sum(s.values()) > 0)
    kgz = rows[(rows["state"] == "KGZ") & (rows["indicator"] == "arms_share_rus")]
    assert kgz["period"].astype(int).min() == first
    for year in range(first, last + 1):
        delivered = sum(sum(by_year.get(y, {}).values()) for y in range(year - 4, year + 1))
        assert (value(rows, "KGZ", "arms_share_rus", year) is not None) == (delivered > 0)


def test_arms_newer_release_extends_years(raw_dir, tmp_path):
    path = copy_raw(raw_dir, tmp_path, REGISTER_FILE)
    rows = read_rows(path)
    # the complete release's last delivery is in 2024 (KAZ); a newer one adds a Turkish
    # delivery to Kazakhstan in 2031-2032, after a gap
    assert max(sipri_by_year(raw_dir, "Kazakhstan")) == 2024
    extra = dict(
        rows[-1],
        Recipient="Kazakhstan",
        Supplier="Turkey",
        **{"Year(s) of delivery": "2031; 2032", "SIPRI TIV of delivered weapons": "10"},
    )
    rewrite(path, [*rows, extra])
    out = load_arms_shares(tmp_path)
    # the release's last delivery year bounds every state, not only Kazakhstan
    assert out["period"].astype(int).max() == 2032
    # the window 2028-2032 holds only the new row: 'Turkey' (SIPRI's old spelling) is West
    assert value(out, "KAZ", "arms_share_west", 2032) == pytest.approx(1.0)
    assert value(out, "KAZ", "arms_share_rus", 2032) == 0.0
    # Kazakhstan's 2024 deliveries keep its windows to 2028; 2029 and 2030 hold nothing
    assert value(out, "KAZ", "arms_share_rus", 2028) is not None
    assert value(out, "KAZ", "arms_share_rus", 2029) is None
    assert value(out, "KAZ", "arms_share_rus", 2031) is not None
    # Tajikistan's last delivery is in 2022: its windows run on to 2026 and then stop
    assert max(sipri_by_year(raw_dir, "Tajikistan")) == 2022
    assert value(out, "TJK", "arms_share_rus", 2026) is not None
    assert value(out, "TJK", "arms_share_rus", 2027) is None


def test_arms_malformed_delivery_years(raw_dir, tmp_path):
    path = copy_raw(raw_dir, tmp_path, REGISTER_FILE)
    rows = read_rows(path)
    rows[4]["Year(s) of delivery"] = "2017-2019"
    rewrite(path, rows)
    with pytest.raises(DataError, match=r"trade_register.*row 6, column Year\(s\) of delivery"):
        load_arms_shares(tmp_path)


# --- AidData ------------------------------------------------------------------------------------


def test_china_finance_spot_values(loaded, raw_dir):
    amounts = {
        (r["iso3c"], int(r["year"])): sum(float(r[c]) for c in ("oof_adj", "oda_adj", "vof_adj"))
        for r in read_rows(raw_dir / COMMITMENTS_FILE)
    }
    rows = loaded["china_finance"]
    for state, year in [("TKM", 2011), ("TKM", 2015), ("KGZ", 2002), ("KAZ", 2008), ("TJK", 2021)]:
        expected = sum(amounts.get((state, y), 0.0) for y in range(year - 2, year + 1)) / 1e6
        assert value(rows, state, "china_finance", year) == pytest.approx(expected)
    assert value(rows, "TKM", "china_finance", 2015) == 0.0  # no row 2013-2015 counts as zero


def test_china_finance_years(loaded, raw_dir):
    years = [int(r["year"]) for r in read_rows(raw_dir / COMMITMENTS_FILE)]
    rows = loaded["china_finance"]
    for _, block in rows.groupby("state"):
        assert sorted(block["period"].astype(int)) == list(range(min(years) + 2, max(years) + 1))


def test_china_finance_adjusted_and_plain_amounts_agree(raw_dir):
    # the loader uses *_adj; in this extract the plain amounts are the same to within a cent
    for r in read_rows(raw_dir / COMMITMENTS_FILE):
        for flow in ("oof", "oda", "vof"):
            assert float(r[f"{flow}_adj"]) == pytest.approx(float(r[f"{flow}_amt"]), abs=0.01)


def test_china_finance_newer_release(raw_dir, tmp_path):
    path = copy_raw(raw_dir, tmp_path, COMMITMENTS_FILE)
    rows = read_rows(path)
    # GCDF 3.0 ends in 2021; a newer release adds 2022, here one Uzbek commitment only
    assert max(int(r["year"]) for r in rows) == 2021
    extra = dict(rows[0], iso3c="UZB", year="2022", oof_adj="2000000", oda_adj="0", vof_adj="0")
    rewrite(path, [*rows, extra])
    out = load_china_finance(tmp_path)
    assert set(out.loc[out["period"] == "2022", "state"]) == set(COW)
    flows = ("oof_adj", "oda_adj", "vof_adj")
    earlier = sum(
        float(r[c])
        for r in rows
        if r["iso3c"] == "UZB" and r["year"] in ("2020", "2021")
        for c in flows
    )
    assert value(out, "UZB", "china_finance", 2022) == pytest.approx((earlier + 2e6) / 1e6)
    # no 2022 row for Kazakhstan: that year counts as zero, so the sum is its 2020-2021 total
    kaz = sum(
        float(r[c])
        for r in rows
        if r["iso3c"] == "KAZ" and r["year"] in ("2020", "2021")
        for c in flows
    )
    assert value(out, "KAZ", "china_finance", 2022) == pytest.approx(kaz / 1e6)
