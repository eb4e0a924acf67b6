"""Loaders of COW IGO and ATOP files and the dated institution facts, checked against the raw files.

Spot values are recomputed here from the raw CSVs with the csv module, independently of the
loaders' pandas code; file-layout and fact-file errors are provoked on copies in ``tmp_path``.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest

from forecast.data.institution_facts import DEFAULT_FACTS, load_institution_facts
from forecast.data.sources.institutions import (
    ALLIANCE_FILE,
    MEMBERSHIP_FILE,
    SHARED_IGOS_FILE,
    load_defense_pacts,
    load_memberships,
    load_shared_igos,
)
from forecast.errors import SpecError
from tests.data.source_checks import (
    COW,
    Loader,
    assert_loader_schema,
    assert_missing_file_refused,
    assert_removed_column_refused,
    read_rows,
    value,
)

LOADERS: dict[str, Loader] = {
    "memberships": load_memberships,
    "defense_pacts": load_defense_pacts,
    "shared_igos": load_shared_igos,
}
#: loader -> (raw file, a column it needs)
FILES = {
    "memberships": (MEMBERSHIP_FILE, "uzbekistan"),
    "defense_pacts": (ALLIANCE_FILE, "atop_defense"),
    "shared_igos": (SHARED_IGOS_FILE, "dyadigos"),
}


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
        # checked through 2024: no status changed in 2021-2024
        ("UZB", "eaeu_member", 2024, 0.0),  # still an observer
        ("KGZ", "eaeu_member", 2024, 1.0),
        ("TJK", "eaeu_member", 2024, 0.0),
        ("TKM", "cis_member", 2024, 0.0),
        ("KAZ", "cis_member", 2024, 1.0),
        ("KAZ", "csto_member", 2022, 1.0),  # the January 2022 deployment changed no membership
        ("UZB", "csto_member", 2024, 0.0),
        ("TKM", "csto_member", 2024, 0.0),
        ("TJK", "sco_member", 2024, 1.0),
        ("TKM", "sco_member", 2024, 0.0),
    ],
)
def test_memberships_extended_with_facts(loaded, state, indicator, year, expected):
    assert value(loaded["memberships"], state, indicator, year) == expected


def test_memberships_stop_at_checked_through(loaded):
    facts = load_institution_facts()
    assert facts.checked_through == 2024
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
    assert "\nchecked_through = 2024\n" in text
    text = text.replace("\nchecked_through = 2024\n", "\nchecked_through = 2016\n")
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
        for year in range(2019, 2025):
            assert value(rows, state, "defense_pact_rus", year) == 1.0
    # ATOP codes no pact since 2003 and no treaty fact supports one: not extended
    for year in range(2019, 2025):
        assert value(rows, "TKM", "defense_pact_rus", year) is None
    assert value(rows, "KAZ", "defense_pact_rus", 2025) is None  # past checked_through


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


# --- malformed or missing facts file ---------------------------------------------------------


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
