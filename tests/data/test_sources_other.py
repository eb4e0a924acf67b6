"""Loaders of WDI, SIPRI, AidData, COW IGO and ATOP files, checked against the raw files.

Spot values are recomputed here from the raw CSVs with the csv module, independently of the
loaders' pandas code; file-layout errors are provoked on copies in ``tmp_path``.
"""

from __future__ import annotations

import csv
import math
import re
import shutil
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest

from forecast.data.institution_facts import DEFAULT_FACTS, load_institution_facts
from forecast.data.sources.aiddata import COMMITMENTS_FILE, load_china_finance
from forecast.data.sources.institutions import (
    ALLIANCE_FILE,
    MEMBERSHIP_FILE,
    SHARED_IGOS_FILE,
    load_defense_pacts,
    load_memberships,
    load_shared_igos,
)
from forecast.data.sources.rawfile import LOADER_COLUMNS
from forecast.data.sources.sipri import REGISTER_FILE, load_arms_shares
from forecast.data.sources.wdi import REMITTANCES_FILE, US_AID_FILE, load_remittances, load_us_aid
from forecast.errors import DataError, SpecError

Loader = Callable[[Path], pd.DataFrame]
LOADERS: dict[str, Loader] = {
    "remittances": load_remittances,
    "us_aid": load_us_aid,
    "arms": load_arms_shares,
    "china_finance": load_china_finance,
    "memberships": load_memberships,
    "defense_pacts": load_defense_pacts,
    "shared_igos": load_shared_igos,
}
#: loader -> (raw file, a column it needs)
FILES = {
    "remittances": (REMITTANCES_FILE, "bx_trf_pwkr_dt_gd_zs"),
    "us_aid": (US_AID_FILE, "dc_dac_usal_cd"),
    "arms": (REGISTER_FILE, "Year(s) of delivery"),
    "china_finance": (COMMITMENTS_FILE, "oda_adj"),
    "memberships": (MEMBERSHIP_FILE, "uzbekistan"),
    "defense_pacts": (ALLIANCE_FILE, "atop_defense"),
    "shared_igos": (SHARED_IGOS_FILE, "dyadigos"),
}
SIPRI_NAMES = {"KAZ": "Kazakhstan", "KGZ": "Kyrgyzstan", "TKM": "Turkmenistan", "UZB": "Uzbekistan"}
COW = {"KAZ": 705, "KGZ": 703, "TJK": 702, "TKM": 701, "UZB": 704}


@pytest.fixture(scope="module")
def loaded(raw_dir: Path) -> dict[str, pd.DataFrame]:
    return {name: loader(raw_dir) for name, loader in LOADERS.items()}


def value(rows: pd.DataFrame, state: str, indicator: str, period: int) -> float | None:
    hit = rows[(rows["state"] == state) & (rows["indicator"] == indicator)]
    hit = hit[hit["period"] == str(period)]
    assert len(hit) <= 1
    return None if hit.empty else float(hit["value"].iloc[0])


def read_rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def copy_raw(raw_dir: Path, tmp_path: Path, relpath: str) -> Path:
    """Copy one raw file into a fresh raw directory and return the copy."""
    target = tmp_path / relpath
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(raw_dir / relpath, target)
    return target


def rewrite(path: Path, rows: list[dict[str, str]], drop: str | None = None) -> None:
    fields = [f for f in rows[0] if f != drop]
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=fields, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)


# --- every loader: schema, ranges per kind ----------------------------------------------------


@pytest.mark.parametrize("name", list(LOADERS))
def test_schema_and_ranges(loaded, codebook, name):
    rows = loaded[name]
    assert tuple(rows.columns) == LOADER_COLUMNS
    assert not rows.empty
    assert not rows.duplicated(["state", "indicator", "period"]).any()
    assert set(rows["state"]) <= set(COW)
    assert rows["period"].str.fullmatch(r"\d{4}").all()
    assert rows["n"].isna().all()
    assert rows["value"].map(math.isfinite).all()
    for key, block in rows.groupby("indicator"):
        ind = codebook[key]
        assert set(block["source"]) == {ind.source}
        low, high, low_inclusive = ind.value_range()
        assert (block["value"] <= high).all()
        assert (block["value"] >= low).all() if low_inclusive else (block["value"] > low).all()
        if ind.kind == "binary":
            assert set(block["value"]) <= {0.0, 1.0}


# --- WDI ----------------------------------------------------------------------------------------


def test_wdi_spot_values(loaded, raw_dir):
    remit = {
        (r["economy"], r["year"]): r["bx_trf_pwkr_dt_gd_zs"]
        for r in read_rows(raw_dir / REMITTANCES_FILE)
    }
    for state, year in [("KGZ", 2019), ("TJK", 2008), ("TKM", 1996), ("KAZ", 1996)]:
        expected = float(remit[(state.lower(), str(year))]) / 100
        assert value(loaded["remittances"], state, "remittances_gdp", year) == pytest.approx(
            expected
        )
    aid = {(r["economy"], r["year"]): r["dc_dac_usal_cd"] for r in read_rows(raw_dir / US_AID_FILE)}
    for state, year in [("TKM", 2008), ("KAZ", 2008), ("UZB", 2018)]:
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
    rows.append({"economy": "kgz", "year": "2023", "bx_trf_pwkr_dt_gd_zs": "19.5"})
    rewrite(path, rows)
    assert value(load_remittances(tmp_path), "KGZ", "remittances_gdp", 2023) == pytest.approx(0.195)


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
    ("state", "year"), [("KAZ", 2010), ("KGZ", 2006), ("TKM", 2020), ("UZB", 2017), ("TKM", 2012)]
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
    extra = dict(
        rows[-1],
        Recipient="Kazakhstan",
        Supplier="Turkey",
        **{"Year(s) of delivery": "2025; 2026", "SIPRI TIV of delivered weapons": "10"},
    )
    rewrite(path, [*rows, extra])
    out = load_arms_shares(tmp_path)
    # the release's last delivery year bounds every state, not only Kazakhstan
    assert out["period"].astype(int).max() == 2026
    assert value(out, "KAZ", "arms_share_west", 2026) == pytest.approx(1.0)  # 'Turkey' is West
    # Uzbekistan's last delivery is in 2020: its windows run on to 2024 and then stop
    assert value(out, "UZB", "arms_share_rus", 2024) is not None
    assert value(out, "UZB", "arms_share_rus", 2025) is None


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
    for state, year in [("TKM", 2011), ("TKM", 2015), ("KGZ", 2002), ("KAZ", 2008), ("TJK", 2020)]:
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
    extra = dict(rows[0], iso3c="UZB", year="2021", oof_adj="2000000", oda_adj="0", vof_adj="0")
    rewrite(path, [*rows, extra])
    out = load_china_finance(tmp_path)
    assert set(out.loc[out["period"] == "2021", "state"]) == set(COW)
    flows = ("oof_adj", "oda_adj", "vof_adj")
    earlier = sum(
        float(r[c])
        for r in rows
        if r["iso3c"] == "UZB" and r["year"] in ("2019", "2020")
        for c in flows
    )
    assert value(out, "UZB", "china_finance", 2021) == pytest.approx((earlier + 2e6) / 1e6)
    assert value(out, "KAZ", "china_finance", 2021) is not None  # no 2021 row: zero that year


# --- COW IGO memberships and the dated facts ----------------------------------------------------


def cow_status(raw_dir: Path, ioname: str, state: str, year: int) -> float:
    column = {
        "KAZ": "kazakhstan",
        "KGZ": "kyrgyzstan",
        "TJK": "tajikistan",
        "TKM": "turkmenistan",
        "UZB": "uzbekistan",
    }[state]
    for r in read_rows(raw_dir / MEMBERSHIP_FILE):
        if r["ioname"] == ioname and float(r["year"]) == year:
            return float(r[column])
    raise LookupError((ioname, year))


@pytest.mark.parametrize(
    ("ioname", "indicator", "state", "year"),
    [
        ("CIS", "cis_member", "TKM", 2010),
        ("CIS", "cis_member", "TKM", 2004),
        ("CSTO", "csto_member", "UZB", 2011),
        ("CSTO", "csto_member", "UZB", 2012),
        ("EAEC", "eaeu_member", "UZB", 2006),
        ("SCO", "sco_member", "UZB", 2000),
        ("SCO", "sco_member", "KAZ", 2014),
    ],
)
def test_memberships_from_cow(loaded, raw_dir, ioname, indicator, state, year):
    status = cow_status(raw_dir, ioname, state, year)
    expected = 1.0 if status == 1 else 0.0
    assert value(loaded["memberships"], state, indicator, year) == expected


@pytest.mark.parametrize(
    ("state", "indicator", "year", "expected"),
    [
        ("KAZ", "eaeu_member", 2015, 1.0),
        ("KGZ", "eaeu_member", 2015, 1.0),  # accession 12 August 2015: in force on 31 December
        ("TJK", "eaeu_member", 2015, 0.0),
        ("UZB", "eaeu_member", 2020, 0.0),  # observer from December 2020
        ("TKM", "cis_member", 2020, 0.0),  # associate member
        ("UZB", "cis_member", 2020, 1.0),
        ("UZB", "csto_member", 2018, 0.0),  # suspended since June 2012
        ("TJK", "csto_member", 2020, 1.0),
        ("TKM", "sco_member", 2017, 0.0),
        ("UZB", "sco_member", 2020, 1.0),
    ],
)
def test_memberships_extended_with_facts(loaded, state, indicator, year, expected):
    assert value(loaded["memberships"], state, indicator, year) == expected


def test_memberships_stop_at_checked_through(loaded):
    facts = load_institution_facts()
    for key in ("memberships", "defense_pacts"):
        assert loaded[key]["period"].astype(int).max() == facts.checked_through
    # every state has every membership indicator in every extended year
    ext = loaded["memberships"][loaded["memberships"]["period"].astype(int) > 2014]
    assert len(ext) == 5 * 4 * (facts.checked_through - 2014)


def test_facts_agree_with_cow_where_both_speak(raw_dir):
    # the year-end rule and the facts reproduce COW's coding in every year both cover
    facts = load_institution_facts()
    orgs = {"CIS": ["CIS"], "CSTO": ["CSTO"], "EAEC": ["EAEC"], "SCO": ["SCO"]}
    compared = 0
    for r in read_rows(raw_dir / MEMBERSHIP_FILE):
        if r["ioname"] not in orgs:
            continue
        for state in COW:
            fact = facts.year_value(state, orgs[r["ioname"]], int(float(r["year"])))
            status = float(
                r[
                    {
                        "KAZ": "kazakhstan",
                        "KGZ": "kyrgyzstan",
                        "TJK": "tajikistan",
                        "TKM": "turkmenistan",
                        "UZB": "uzbekistan",
                    }[state]
                ]
            )
            if fact is None or status < 0:
                continue
            # COW's Uzbekistan CSTO 2002-2011 and EurAsEC 2005-2014 are not among the facts
            assert fact == (1 if status == 1 else 0), (r["ioname"], r["year"], state)
            compared += 1
    assert compared > 200


def test_checked_through_limits_extension(raw_dir, tmp_path):
    text = DEFAULT_FACTS.read_text(encoding="utf-8")
    # facts starting after the checked years are refused, so drop the one from December 2020
    observer = text.index('[[fact]]\nstate = "UZB"\norganisation = "EAEU"\nstatus = "observer"')
    text = text[:observer] + text[text.index("[[fact]]", observer + 1) :]
    text = text.replace("checked_through = 2020", "checked_through = 2016")
    path = tmp_path / "facts.toml"
    path.write_text(text, encoding="utf-8")
    rows = load_memberships(raw_dir, facts=path)
    assert rows["period"].astype(int).max() == 2016
    pacts = load_defense_pacts(raw_dir, facts=path)  # ATOP runs to 2018 already
    assert pacts["period"].astype(int).max() == 2018


# --- ATOP defence pacts -------------------------------------------------------------------------


def atop_defense(raw_dir: Path, state: str, year: int) -> set[float]:
    pair = {COW[state], 365}
    return {
        float(r["atop_defense"])
        for r in read_rows(raw_dir / ALLIANCE_FILE)
        if {int(r["ccode1"]), int(r["ccode2"])} == pair and int(r["year"]) == year
    }


@pytest.mark.parametrize(
    ("state", "year"), [("TKM", 2002), ("TKM", 2003), ("TKM", 2018), ("UZB", 2018), ("KAZ", 1995)]
)
def test_defense_pacts_from_atop(loaded, raw_dir, state, year):
    (expected,) = atop_defense(raw_dir, state, year)  # both dyad orders agree
    assert value(loaded["defense_pacts"], state, "defense_pact_rus", year) == expected


def test_defense_pacts_extension(loaded):
    rows = loaded["defense_pacts"]
    for state in ("KAZ", "KGZ", "TJK", "UZB"):
        assert value(rows, state, "defense_pact_rus", 2020) == 1.0
    # ATOP codes no pact since 2003 and no treaty fact supports one: not extended
    assert value(rows, "TKM", "defense_pact_rus", 2019) is None


# --- shared IGOs --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("state", "partner", "indicator", "year"),
    [
        ("KAZ", 365, "shared_igos_rus", 2014),
        ("UZB", 2, "shared_igos_usa", 2000),
        ("TKM", 710, "shared_igos_chn", 1991),
    ],
)
def test_shared_igos_spot_values(loaded, raw_dir, state, partner, indicator, year):
    pair = {COW[state], partner}
    (expected,) = {
        float(r["dyadigos"])
        for r in read_rows(raw_dir / SHARED_IGOS_FILE)
        if {int(r["ccode1"]), int(r["ccode2"])} == pair and int(r["year"]) == year
    }
    assert value(loaded["shared_igos"], state, indicator, year) == expected


def test_shared_igos_cover_every_state_partner_year(loaded):
    assert len(loaded["shared_igos"]) == 5 * 3 * (2014 - 1991 + 1)
    assert (loaded["shared_igos"]["value"] > 0).all()  # so the codebook needs no offset


# --- errors: missing file, removed column, malformed facts --------------------------------------


@pytest.mark.parametrize("name", list(LOADERS))
def test_missing_file(raw_dir, tmp_path, name):
    relpath, _ = FILES[name]
    for other, _col in FILES.values():  # every other file present: only this one is missing
        if other != relpath:
            copy_raw(raw_dir, tmp_path, other)
    with pytest.raises(DataError, match="missing raw file") as err:
        LOADERS[name](tmp_path)
    assert Path(relpath).name in str(err.value)


@pytest.mark.parametrize("name", list(LOADERS))
def test_removed_column(raw_dir, tmp_path, name):
    relpath, column = FILES[name]
    path = copy_raw(raw_dir, tmp_path, relpath)
    rewrite(path, read_rows(path), drop=column)
    with pytest.raises(DataError, match="changed column layout") as err:
        LOADERS[name](tmp_path)
    assert Path(relpath).name in str(err.value)
    assert column in str(err.value)


FACT = """
[[fact]]
state = "KAZ"
organisation = "EAEU"
status = "member"
from = 2015-01-01
citation = "Treaty on the Eurasian Economic Union"
"""


@pytest.mark.parametrize(
    ("text", "key", "message"),
    [
        (
            "checked_through = 2020\n" + FACT.replace('"member"', '"full"'),
            "fact[1].status",
            "unknown status",
        ),
        (
            "checked_through = 2020\n" + FACT.replace("2015-01-01", '"2015-01-01"'),
            "fact[1].from",
            "expected a date",
        ),
        (
            "checked_through = 2020\n"
            + FACT.replace('citation = "Treaty on the Eurasian Economic Union"\n', ""),
            "fact[1].citation",
            "missing required key",
        ),
        (
            "checked_through = 2020\n" + FACT + FACT.replace("2015-01-01", "2016-01-01"),
            "fact[2]",
            "overlaps fact[1]",
        ),
        (
            "checked_through = 2020\n"
            + FACT.replace("from = 2015-01-01", "from = 2015-01-01\nto = 2014-01-01"),
            "fact[1].to",
            "not after",
        ),
        ("checked_through = 2014\n" + FACT, "fact[1].from", "after checked_through"),
        (
            "checked_through = 2020\n" + FACT.replace('"EAEU"', '"NATO"'),
            "fact[1].organisation",
            "unknown organisation",
        ),
        ('checked_through = "2020"\n' + FACT, "checked_through", "expected int"),
        (FACT, "checked_through", "missing required key"),
    ],
)
def test_malformed_facts(raw_dir, tmp_path, text, key, message):
    path = tmp_path / "bad_facts.toml"
    path.write_text(text, encoding="utf-8")
    for loader in (load_memberships, load_defense_pacts):
        with pytest.raises(SpecError, match=re.escape(message)) as err:
            loader(raw_dir, facts=path)
        assert "bad_facts.toml" in str(err.value)
        assert f"key {key}" in str(err.value)


def test_missing_facts_file(raw_dir, tmp_path):
    with pytest.raises(SpecError, match=r"nowhere\.toml: file not found"):
        load_memberships(raw_dir, facts=tmp_path / "nowhere.toml")
