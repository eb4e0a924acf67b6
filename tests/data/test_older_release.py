"""An older, shorter release of the raw data still builds, and agrees with the complete one.

A copy of ``../shared/data`` is cut after a year (:mod:`tests.data.raw_cut`) and the ideal-point
folder dropped, as in releases before July 2025; ``forecast data build --raw COPY`` must succeed,
print the note about the absent folder, and give, for every year up to the cut, the rows of
the complete release's panel, except where a value may depend on later data:

- ``unga_ideal_*``: absent (the folder is dropped). In a real older release they would also
  differ: each release re-estimates every year's ideal points from all votes to its end.
- KAZ's national shares (``trade_share_*_nat``) and the DOTS shares spliced from them: a year
  is read from the newest workbook holding it, and the newest workbook of a cut release can
  be older than the complete release's (a later workbook revises the previous year). Here the
  two workbooks print the same figures for the partners used, so the values agree to 1e-9.
- Rows after the cut: only memberships and defence pacts, extended from the dated facts in
  ``data/institution_facts.toml``, which are project data and not cut with the raw files.

Everything else cannot depend on later data and must agree exactly: UN agreement (calendar
years of roll calls), DOTS shares, Kyrgyz and Uzbek national shares, remittances and US aid,
the trailing five-year arms shares (a window ends at its year; a delivery spread over years
after the cut is pro-rated as SIPRI's earlier cut release did, so the TIV per year is the same:
equal up to float rounding, compared to 1e-9 and 3e-16 apart), AidData's trailing three-year
sums, memberships, pacts, quarterly EU exports (whole quarters of whole years). The splice
does not exist before 2021. (A cut copy keeps the complete release's figures: what a real
older release published before later revisions is not reproduced, only the code's use of it.)
"""

from __future__ import annotations

import contextlib
import io
import sys
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest

from forecast.data.build import build_panel
from forecast.data.codebook import load_codebook
from forecast.data.panel import read_panel, write_panel
from forecast.data.sources import LOADERS
from forecast.data.sources.idealpoints import OPTIONAL_FOLDER
from tests.data.raw_cut import RULES, cut_release

KEY = ["state", "indicator", "period"]
#: rows the dated facts extend past any cut (project data, not raw)
FACT_INDICATORS = {"cis_member", "csto_member", "eaeu_member", "sco_member", "defense_pact_rus"}
#: agree up to float rounding: the pro-rated SIPRI amounts are written as text and read back
ROUNDED = {"arms_share_rus", "arms_share_chn", "arms_share_west"}
SIPRI = "sipri_arms_transfers/sipri_trade_register_ca_rows.csv"
KAZ_WORKBOOKS = "national_stats_trade_by_country/kaz_stat_trade_by_country_2019_2023.csv"
MONTHLY = "eurostat_eu_trade_monthly_2019_2024/eurostat_comext_eu_trade_monthly_ca_rus.csv"
CUTS = [
    # DOTS complete, the splice one year long, SIPRI rows with deliveries on both sides
    2021,
    # before COW IGO (2014) and ATOP (2018) end, and before the Kazakh workbooks and the
    # Eurostat months begin (2019): those files keep their header and no row
    2013,
]


@dataclass(frozen=True)
class Older:
    """A cut release, the rows kept per file, and what ``forecast data build`` made of it."""

    cut: int
    raw: Path
    counts: dict[str, tuple[int, int]]
    code: int
    out: str
    err: str
    panel_path: Path


def _forecast(args: list[str]) -> tuple[int, str, str]:
    """Run ``forecast ARGS`` in this process (as the console script does)."""
    from forecast.cli import main

    out, err = io.StringIO(), io.StringIO()
    saved = sys.argv
    sys.argv = ["forecast", *args]
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            main()
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    finally:
        sys.argv = saved
    return code, out.getvalue(), err.getvalue()


@pytest.fixture(scope="module", params=CUTS, ids=[f"cut{c}" for c in CUTS])
def older(request, raw_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Older:
    """The raw data cut after a year, without the ideal points, built with the CLI once."""
    root = tmp_path_factory.mktemp(f"cut{request.param}")
    raw = root / "raw"
    counts = cut_release(raw_dir, raw, request.param, drop=[OPTIONAL_FOLDER])
    panel_path = root / "panel.csv"
    code, out, err = _forecast(["data", "build", "--raw", str(raw), "--out", str(panel_path)])
    return Older(request.param, raw, counts, code, out, err, panel_path)


@pytest.fixture(scope="module")
def complete(raw_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> pd.DataFrame:
    """The panel of the complete release, as written and read back."""
    out = tmp_path_factory.mktemp("complete") / "panel.csv"
    codebook = load_codebook()
    write_panel(build_panel(raw_dir, codebook, LOADERS), out, codebook)
    return read_panel(out, codebook)


def _year(panel: pd.DataFrame) -> pd.Series:
    return panel["period"].str[:4].astype(int)


def _kaz_national(panel: pd.DataFrame) -> pd.Series:
    spliced = panel["source"] == "National statistics spliced to IMF DOTS"
    return (panel["state"] == "KAZ") & (panel["indicator"].str.endswith("_nat") | spliced)


def test_build_succeeds_with_the_note(older: Older) -> None:
    assert len(older.counts) == len(RULES) - 1  # every file but the ideal points
    assert not (older.raw / OPTIONAL_FOLDER).exists()
    assert (older.code, older.err) == (0, ""), older
    note, wrote = older.out.splitlines()
    assert note.startswith(f"note: {older.raw} has no {OPTIONAL_FOLDER}/ (an older release): ")
    assert "unga_ideal_rus, unga_ideal_chn and unga_ideal_usa" in note
    assert wrote.startswith(f"wrote {older.panel_path}: ")


def test_rows_up_to_the_cut_equal_the_complete_release(
    older: Older, complete: pd.DataFrame
) -> None:
    panel = read_panel(older.panel_path)
    # after the cut: only what the dated facts extend (to their checked_through)
    assert set(panel.loc[_year(panel) > older.cut, "indicator"]) == FACT_INDICATORS
    assert not panel["indicator"].str.startswith("unga_ideal_").any()

    mine = panel[_year(panel) <= older.cut]
    theirs = complete[
        (_year(complete) <= older.cut) & ~complete["indicator"].str.startswith("unga_ideal_")
    ]
    both = mine.merge(theirs, on=KEY, how="outer", suffixes=("", "_full"), indicator=True)
    assert (both["_merge"] == "both").all(), both.loc[both["_merge"] != "both", KEY].head()
    for column in ("source", "vintage"):
        assert (both[column] == both[f"{column}_full"]).all(), column
    for column in ("n", "se"):
        pd.testing.assert_series_equal(
            both[column], both[f"{column}_full"], check_names=False, check_exact=True
        )
    exact = ~both["indicator"].isin(ROUNDED) & ~_kaz_national(both)
    # every indicator but the arms shares has rows compared exactly (KGZ's and UZB's _nat too)
    assert set(both.loc[exact, "indicator"]) == set(theirs["indicator"]) - ROUNDED
    for rows, tolerance in ((exact, None), (~exact, 1e-9)):
        pd.testing.assert_series_equal(
            both.loc[rows, "value"],
            both.loc[rows, "value_full"],
            check_names=False,
            check_exact=tolerance is None,
            rtol=tolerance or 0.0,
        )


def test_what_began_after_the_cut_is_absent(older: Older) -> None:
    panel = read_panel(older.panel_path)
    spliced = panel["source"] == "National statistics spliced to IMF DOTS"
    if older.cut == 2021:
        assert set(panel.loc[spliced, "period"]) == {"2021"}
        assert panel.loc[panel["indicator"] == "eu_exports", "period"].max() == "2021Q4"
        return
    # 2013: the Kazakh workbooks (2019-) and the Eurostat months (2019-01-) keep only their
    # header: no Kazakh national share, no EU exports, no splice (DOTS ends after the cut)
    assert older.counts[KAZ_WORKBOOKS][1] == 0 and older.counts[MONTHLY][1] == 0
    assert "eu_exports" not in set(panel["indicator"])
    nat = panel[panel["indicator"].str.endswith("_nat")]
    assert set(nat["state"]) == {"KGZ", "UZB"}  # Uzbekistan's tables begin in 2010
    assert not spliced.any()
    # COW IGO cut at 2013: 2014 comes from the facts (TKM a CIS associate: 0), as 2015 on does
    # in the complete release
    tkm = panel[(panel["indicator"] == "cis_member") & (panel["state"] == "TKM")]
    assert tkm.set_index("period").loc["2014", "source"] == "COW IGO"
    assert tkm.set_index("period").loc["2014", "value"] == 0.0


def test_sipri_cut_rule() -> None:
    # as the 2020 release was cut: an order after the year is dropped; delivery years after it
    # are dropped and the delivered number and TIV scaled by the share of years kept, so the
    # TIV per delivery year is unchanged
    rule = RULES["sipri_arms_transfers/sipri_trade_register_ca_rows.csv"]
    row = {
        "Year of order": "2016.0",
        "Year(s) of delivery": "2017; 2018; 2019; 2020; 2021; 2022; 2023",
        "Number delivered": "7.0",
        "SIPRI TIV of delivered weapons": "70.0",
    }
    assert rule(dict(row), 2021, set()) == {
        "Year of order": "2016.0",
        "Year(s) of delivery": "2017; 2018; 2019; 2020; 2021",
        "Number delivered": "5.0",
        "SIPRI TIV of delivered weapons": "50.0",
    }
    assert rule(dict(row), 2016, set())["Year(s) of delivery"] == ""
    assert rule(dict(row), 2016, set())["SIPRI TIV of delivered weapons"] == "0.0"
    assert rule(dict(row), 2015, set()) is None
    assert rule(dict(row), 2023, set()) == row


def test_sipri_cut_of_the_release(older: Older, raw_dir: Path) -> None:
    full = pd.read_csv(raw_dir / SIPRI, dtype=str, keep_default_na=False)
    cut = pd.read_csv(older.raw / SIPRI, dtype=str, keep_default_na=False)
    # orders after the cut are gone, and no delivery after it is left
    later = full["Year of order"].str[:4].astype(int).gt(older.cut).sum()
    assert len(full) - len(cut) == later > 0
    years = [int(y) for text in cut["Year(s) of delivery"] for y in text.split(";") if y.strip()]
    assert max(years) == older.cut

    # TIV delivered up to the cut is the same in both: the per-year spread is kept
    def delivered(frame: pd.DataFrame) -> float:
        total = 0.0
        for text, tiv in zip(
            frame["Year(s) of delivery"], frame["SIPRI TIV of delivered weapons"], strict=True
        ):
            listed = [int(y) for y in text.split(";") if y.strip()]
            total += sum(float(tiv) / len(listed) for y in listed if y <= older.cut)
        return total

    assert delivered(cut) == pytest.approx(delivered(full), rel=1e-12)
