"""Make an older, shorter release of the raw data: a copy cut after a given year.

Each raw CSV keeps the rows dated up to ``last_year`` by its own date column(s); the rules
below name every file of the release, so a new file (or a renamed column) fails here rather
than being copied uncut. How each file is dated:

- a ``year`` column (``2006`` or ``2006.0``): AidData, COW IGO, the Eurostat annual file, IMF
  DOTS, the national statistics (the Kazakh workbooks' sheets and the Kyrgyz footnoted
  headers carry their year in ``year`` too), peacesciencer, UN DESA, WDI, the ideal points;
- the Eurostat monthly file by ``period_norm`` (``2024-08``): a year's months up to December;
- the UN roll calls by ``date``; their votes and issue codes follow by ``rcid``;
- the SIPRI register as its earlier release was cut (``CUT.txt`` of the 2020 release): orders
  after the year are dropped, delivery years after it are dropped, and ``Number delivered``
  and ``SIPRI TIV of delivered weapons`` are scaled by the share of delivery years kept (a row
  whose deliveries all come later keeps its order with nothing delivered).

Folders in ``drop`` are left out entirely (``voeten_unga_idealpoints`` first appeared in the
July 2025 release). Cells are copied as text, unchanged except the scaled SIPRI amounts.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterable
from pathlib import Path

Row = dict[str, str]
#: keeps or drops one row (and may change it); the set holds the kept roll-call ids
Rule = Callable[[Row, int, set[str]], Row | None]


def _year(text: str) -> int:
    # "2006", "2006.0" (a year read as a float upstream) and "2024-08" all start with the year
    return int(text.strip()[:4])


def _by_year(column: str) -> Rule:
    def keep(row: Row, last_year: int, _rcids: set[str]) -> Row | None:
        return row if _year(row[column]) <= last_year else None

    return keep


def _roll_call(row: Row, last_year: int, rcids: set[str]) -> Row | None:
    if int(row["date"][:4]) > last_year:
        return None
    rcids.add(row["rcid"])
    return row


def _by_roll_call(row: Row, _last_year: int, rcids: set[str]) -> Row | None:
    return row if row["rcid"] in rcids else None


def _amount(text: str, share: float) -> str:
    return text if not text.strip() else repr(float(text) * share)


def _sipri(row: Row, last_year: int, _rcids: set[str]) -> Row | None:
    if _year(row["Year of order"]) > last_year:
        return None
    listed = [y.strip() for y in row["Year(s) of delivery"].split(";") if y.strip()]
    if not listed:
        return row
    kept = [y for y in listed if int(y) <= last_year]
    if len(kept) == len(listed):
        return row
    share = len(kept) / len(listed)
    return {
        **row,
        "Year(s) of delivery": "; ".join(kept),
        "Number delivered": _amount(row["Number delivered"], share),
        "SIPRI TIV of delivered weapons": _amount(row["SIPRI TIV of delivered weapons"], share),
    }


#: every CSV of the release -> how its rows are dated (files read in this order: roll calls
#: before the votes and issues that refer to them)
RULES: dict[str, Rule] = {
    "aiddata_gcdf3_china_finance/gcdf3_china_commitments_ca_country_year.csv": _by_year("year"),
    "cow_igo_v3_memberships/igo_year_ca_memberships_1991_2014.csv": _by_year("year"),
    "eurostat_eu_trade_monthly_2019_2024/eurostat_comext_eu_trade_monthly_ca_rus.csv": _by_year(
        "period_norm"
    ),
    "eurostat_eu_trade_monthly_2019_2024/"
    "eurostat_eu_exports_annual_by_member_to_ca_rus_chn_usa.csv": _by_year("year"),
    "imf_dots/dots_ca_reporters_all_partners.csv": _by_year("year"),
    "imf_dots/dots_mirror_partner_reported_ca.csv": _by_year("year"),
    "national_stats_trade_by_country/kaz_stat_trade_by_country_2019_2023.csv": _by_year("year"),
    "national_stats_trade_by_country/kgz_nsc_trade_by_country_1994_2023.csv": _by_year("year"),
    "national_stats_trade_by_country/uzb_stat_trade_by_country_2010_2023.csv": _by_year("year"),
    "peacesciencer_cow_atop/atop5_alliance_ndy_ca.csv": _by_year("year"),
    "peacesciencer_cow_atop/cow_igo3_shared_igos_ndy_ca.csv": _by_year("year"),
    "peacesciencer_cow_atop/cow_igo3_state_year_ca_powers.csv": _by_year("year"),
    "peacesciencer_cow_atop/cow_trade_v4_ndy_ca_all_partners_1992_2014.csv": _by_year("year"),
    "peacesciencer_cow_atop/cow_trade_v4_state_year_ca_powers.csv": _by_year("year"),
    "sipri_arms_transfers/sipri_trade_register_ca_rows.csv": _sipri,
    "undesa_migrant_stock_2017/migrant_stock_destination_CA_by_origin.csv": _by_year("year"),
    "undesa_migrant_stock_2017/migrant_stock_origin_CA_by_destination.csv": _by_year("year"),
    "unvotes_dgrtwo/un_roll_calls_1991_2019.csv": _roll_call,
    "unvotes_dgrtwo/un_votes_ca_and_powers_1991_2019.csv": _by_roll_call,
    "unvotes_dgrtwo/un_roll_call_issues_1991_2019.csv": _by_roll_call,
    "voeten_unga_idealpoints/bsv_idealpoints_july2025_ca_and_powers_1991_2024.csv": _by_year(
        "year"
    ),
    "wdi_remittances/wdi_BX.TRF.PWKR.DT.GD.ZS_ca.csv": _by_year("year"),
    "wdi_us_bilateral_aid/wdi_DC.DAC.USAL.CD_ca.csv": _by_year("year"),
}


def cut_release(
    raw_dir: Path, out_dir: Path, last_year: int, *, drop: Iterable[str] = ()
) -> dict[str, tuple[int, int]]:
    """Write a copy of ``raw_dir`` into ``out_dir`` with no row dated after ``last_year``.

    Returns, per file written, the number of data rows before and after the cut.
    """
    dropped = set(drop)
    found = {
        str(p.relative_to(raw_dir)) for p in raw_dir.glob("*/*.csv") if p.parent.name not in dropped
    }
    unknown = found - set(RULES)
    assert not unknown, f"no cut rule for {sorted(unknown)}: add one to tests/data/raw_cut.py"
    counts: dict[str, tuple[int, int]] = {}
    rcids: set[str] = set()
    for relpath, rule in RULES.items():
        if relpath not in found:
            continue
        with (raw_dir / relpath).open(newline="", encoding="utf-8") as fh:
            reader = csv.DictReader(fh)
            fields = list(reader.fieldnames or [])
            rows = list(reader)
        kept = [r for r in (rule(dict(row), last_year, rcids) for row in rows) if r is not None]
        target = out_dir / relpath
        target.parent.mkdir(parents=True, exist_ok=True)
        with target.open("w", newline="", encoding="utf-8") as fh:
            writer = csv.DictWriter(fh, fieldnames=fields, lineterminator="\n")
            writer.writeheader()
            writer.writerows(kept)
        counts[relpath] = (len(rows), len(kept))
    return counts
