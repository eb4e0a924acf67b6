"""National statistical offices: partner shares of each state's goods trade turnover.

A second source beside IMF DOTS for Kazakhstan (Bureau of National Statistics, 2019-),
Kyrgyzstan (National Statistical Committee, 1994-) and Uzbekistan (Statistics Agency, 2010-).
Turnover is exports plus imports as the office records them (thousand US dollars); a share is
the partner's turnover over the office's total. Each office's file has its own layout, so each
has a small reader returning the same long table of flows; :func:`turnover_shares` does the rest.

The EU share uses the office's own EU aggregate only (Kazakhstan's "Страны ЕС", Kyrgyzstan's
"The EU"); Uzbekistan publishes none, and summing member states here would mix compositions.
Kazakhstan's aggregate counts the United Kingdom through 2022 and not from 2023; the UK is taken
out of it wherever the office lists it among the aggregate's members, so that the Kazakh series
is the EU of 27 in every year (as IMF DOTS's) and has no break in 2023 (see :func:`_kaz_eu27`).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from forecast.data.sources.rawfile import read_raw_csv, tidy
from forecast.dims import INDICATOR, PERIOD, STATE
from forecast.errors import DataError

FOLDER = "national_stats_trade_by_country"
KAZ_FILE = f"{FOLDER}/kaz_stat_trade_by_country_2019_2023.csv"
KGZ_FILE = f"{FOLDER}/kgz_nsc_trade_by_country_1994_2023.csv"
UZB_FILE = f"{FOLDER}/uzb_stat_trade_by_country_2010_2023.csv"
SOURCE = "National statistics"

#: partner key of the total (all partners)
WORLD = "WORLD"
#: partner key -> indicator key
INDICATORS = {
    "RUS": "trade_share_rus_nat",
    "CHN": "trade_share_chn_nat",
    "EU": "trade_share_eu_nat",
    "USA": "trade_share_usa_nat",
}
FLOWS = ("exports", "imports")
_FLOW_COLUMNS = ["state", "partner", "year", "flow", "value"]

#: Kazakhstan: ``partner_code_hint`` -> partner key ("Страны ЕС" is hinted EU27)
KAZ_PARTNERS = {"WORLD": WORLD, "RUS": "RUS", "CHN": "CHN", "EU27": "EU", "USA": "USA"}
#: Kyrgyzstan: ``partner_en`` -> partner key; "European Union (EU)" is not the aggregate but
#: an origin recorded only as "EU", so it is deliberately absent
KGZ_PARTNERS = {"Total": WORLD, "Russia": "RUS", "China": "CHN", "The EU": "EU", "USA": "USA"}
#: Uzbekistan: ISO 3166-1 numeric partner code -> partner key (the file has no total row)
UZB_PARTNERS = {643: "RUS", 156: "CHN", 840: "USA"}

#: Kazakhstan: an aggregate heading ("Страны ЕС", "Страны вне ЕС", "Страны СНГ"); the members
#: of an aggregate are listed under it, up to the next heading
_KAZ_HEADING = r"^\s*Страны\b"

# the Kazakh workbooks also hold partial-year sheets ("январь-июнь"); a calendar year is
# labelled January-December ("за январь-декабрь 2019 года", to 2021) or as the year itself
# ("за 2022 год", "2023 год", from the 2021 annual sheets on)
_FULL_YEAR = r"(?i)(?:январ\w*\s*[-–]\s*декабр|^\s*(?:за\s+)?\d{4}\s+год\s*$)"


def turnover_shares(flows: pd.DataFrame) -> pd.DataFrame:
    """Partner shares of total turnover from a long table of flows.

    Parameters
    ----------
    flows
        Columns ``state``, ``partner`` (:data:`WORLD` for the total, else a partner key),
        ``year``, ``flow`` (``exports`` or ``imports``) and ``value`` (one row per
        combination; NaN = not published).

    Returns
    -------
    pandas.DataFrame
        Columns ``state``, ``partner``, ``year``, ``share``: kept only where both flows are
        published for the partner and for the total and the total turnover is positive.

    Examples
    --------
    >>> flows = pd.DataFrame(
    ...     {
    ...         "state": "KGZ",
    ...         "partner": ["WORLD", "WORLD", "RUS", "RUS", "CHN"],
    ...         "year": 2019,
    ...         "flow": ["exports", "imports", "exports", "imports", "exports"],
    ...         "value": [40.0, 60.0, 10.0, 15.0, 5.0],
    ...     }
    ... )
    >>> turnover_shares(flows).to_dict("records")
    [{'state': 'KGZ', 'partner': 'RUS', 'year': 2019, 'share': 0.25}]
    """
    wide = flows.set_index(["state", "year", "partner", "flow"])["value"].unstack("flow")
    both = wide.reindex(columns=list(FLOWS)).dropna()
    turnover = both.sum(axis=1).rename("turnover").reset_index()
    world = turnover[turnover["partner"] == WORLD].set_index(["state", "year"])["turnover"]
    parts = turnover[turnover["partner"] != WORLD].join(world.rename("world"), on=["state", "year"])
    parts = parts[parts["world"] > 0]
    out = parts.assign(share=parts["turnover"] / parts["world"])
    return out[["state", "partner", "year", "share"]].reset_index(drop=True)


def _first_row(mask: pd.Series) -> int:
    # read_csv numbers records 0, 1, ...; a spreadsheet shows the header as row 1
    return int(mask[mask].index[0]) + 2


def _years(frame: pd.DataFrame, path: Path) -> pd.Series:
    # a footnote mark can trail the year ("2023 1" = preliminary); the year is the first 4 digits
    years = frame["year"].astype(str).str.extract(r"^\s*(\d{4})", expand=False)
    if years.isna().any():
        row = _first_row(years.isna())
        raise DataError(
            path, f"year {frame['year'].loc[row - 2]!r}: expected a year", row=row, column="year"
        )
    return years.astype(int)


def _refuse_duplicates(frame: pd.DataFrame, keys: list[str], path: Path) -> None:
    # a second row for the same partner, flow and year would be counted twice in the total
    dup = frame.duplicated(keys)
    if dup.any():
        raise DataError(
            path, f"two rows for the same {', '.join(keys)}: expected one", row=_first_row(dup)
        )


def _kaz_eu27(raw: pd.DataFrame, flows: list[str]) -> pd.DataFrame:
    """Take the United Kingdom out of Kazakhstan's EU aggregate where the office counts it.

    The office lists the members of "Страны ЕС" right under it, up to the next aggregate
    heading ("Страны вне ЕС"): 28 members with the United Kingdom in the sheets for 2019-2022,
    27 from 2023. Where the UK row (hint ``GBR``) is among them, its flows are subtracted from
    the aggregate's, so the aggregate is the EU of 27 in every year.

    Parameters
    ----------
    raw
        The Kazakh file's rows (original index = file order), with columns ``source_file``,
        ``year``, ``partner_ru``, ``partner_code_hint`` and the ``flows`` columns.
    flows
        Columns of amounts to correct.

    Returns
    -------
    pandas.DataFrame
        ``raw`` with the EU rows corrected (other rows unchanged).

    Examples
    --------
    >>> sheet = pd.DataFrame({"source_file": "f1", "year": 2022,
    ...     "partner_ru": ["Страны ЕС", "Германия", "Соединенное Королевство", "Страны вне ЕС",
    ...                    "Швейцария"],
    ...     "partner_code_hint": ["EU27", "DEU", "GBR", None, None],
    ...     "exports": [10.0, 8.0, 2.0, 5.0, 5.0]})
    >>> _kaz_eu27(sheet, ["exports"])["exports"].tolist()
    [8.0, 8.0, 2.0, 5.0, 5.0]
    """
    out = raw.copy()
    for _, sheet in raw.groupby(["source_file", "year"], sort=False):
        sheet = sheet.sort_index()
        hints = sheet["partner_code_hint"].tolist()
        if "EU27" not in hints or "GBR" not in hints:
            continue
        eu, uk = hints.index("EU27"), hints.index("GBR")
        heading = sheet["partner_ru"].astype(str).str.contains(_KAZ_HEADING, regex=True)
        after = [i for i in range(eu + 1, len(sheet)) if heading.iloc[i]]
        if eu < uk < (after[0] if after else len(sheet)):
            uk_flows = sheet[flows].iloc[uk].fillna(0.0).to_numpy(dtype=float)
            out.loc[sheet.index[eu], flows] = sheet[flows].iloc[eu].to_numpy(dtype=float) - uk_flows
    return out


def _kaz_flows(raw_dir: str | Path) -> pd.DataFrame:
    columns = ("source_file", "period_label", "year", "partner_ru", "partner_code_hint")
    flow_columns = {"exports_thousand_usd": "exports", "imports_thousand_usd": "imports"}
    raw = read_raw_csv(
        raw_dir,
        KAZ_FILE,
        (*columns, *flow_columns),
        what="Kazakhstan trade by partner (BNS 'Main indicators of foreign trade' workbooks)",
        dtype={"partner_code_hint": str, "period_label": str},
    )
    path = Path(raw_dir) / KAZ_FILE
    raw = raw.assign(year=_years(raw, path))
    full = raw["period_label"].str.contains(_FULL_YEAR, regex=True, na=False)
    # no row at all is a release from before the workbooks' first year (2019); rows but no
    # full year would be a changed labelling
    if not full.any() and not raw.empty:
        raise DataError(
            path,
            "no January-December rows: expected period_label like 'за январь-декабрь 2019 "
            "года' or 'за 2022 год'",
            column="period_label",
        )
    raw = _kaz_eu27(raw[full], list(flow_columns))
    # each workbook repeats the previous year: keep the newest workbook's (revised) figures,
    # the workbook whose latest year is highest
    newest = raw.groupby("source_file")["year"].transform("max")
    raw = (
        raw.assign(newest=newest)
        .sort_values(["newest", "source_file"], ascending=False, kind="stable")
        .drop_duplicates(["year", "partner_ru"])
    )
    raw = raw[raw["partner_code_hint"].isin(list(KAZ_PARTNERS))]
    _refuse_duplicates(raw, ["year", "partner_code_hint"], path)
    long = raw.melt(
        id_vars=["year", "partner_code_hint"],
        value_vars=list(flow_columns),
        var_name="flow",
        value_name="value",
    )
    long = long.assign(
        state="KAZ",
        partner=long["partner_code_hint"].map(KAZ_PARTNERS),
        flow=long["flow"].map(flow_columns),
    )
    # an empty cell is a flow without trade: the office's own turnover column equals exports +
    # imports with empty cells as zero; the total must be published in full
    partner_rows = long["partner"] != WORLD
    long.loc[partner_rows, "value"] = long.loc[partner_rows, "value"].fillna(0.0)
    return long[_FLOW_COLUMNS]


def _kgz_flows(raw_dir: str | Path) -> pd.DataFrame:
    raw = read_raw_csv(
        raw_dir,
        KGZ_FILE,
        ("flow", "partner_en", "year", "year_header", "value_thousand_usd"),
        what="Kyrgyzstan exports and imports by partner (NSC 'Geographic distribution' tables)",
        dtype={"flow": str, "partner_en": str, "year": str, "year_header": str},
    )
    path = Path(raw_dir) / KGZ_FILE
    year = _years(raw, path)
    raw = raw.assign(
        year=year,
        flow=raw["flow"].str.strip().str.lower(),
        partner=raw["partner_en"].str.strip().map(KGZ_PARTNERS),
        # a header with a footnote mark ("2023 1") is a preliminary year
        final=raw["year_header"].astype(str).str.strip() == year.astype(str),
    )
    # aggregates (CIS, Europe, ...), other countries and the footnote line all map to NaN
    raw = raw[raw["partner"].notna() & raw["flow"].isin(FLOWS)]
    # should a year come both as final and as preliminary, the final figures win
    raw = raw.sort_values("final", ascending=False, kind="stable").drop_duplicates(
        ["flow", "partner", "year"]
    )
    # "-" in the tables (no trade) was read as empty
    value = raw["value_thousand_usd"].where(
        raw["partner"] == WORLD, raw["value_thousand_usd"].fillna(0.0)
    )
    return raw.assign(state="KGZ", value=value)[_FLOW_COLUMNS]


def _uzb_flows(raw_dir: str | Path) -> pd.DataFrame:
    raw = read_raw_csv(
        raw_dir,
        UZB_FILE,
        ("flow", "Code", "year", "value_thousand_usd_inferred"),
        what="Uzbekistan exports (sdmx_data_1105) and imports (sdmx_data_1176) by partner",
        dtype={"flow": str, "Code": str},
    )
    path = Path(raw_dir) / UZB_FILE
    label = raw["flow"].str.strip().str.lower()
    # the exports table carries no title, so its flow reads "exports (inferred)"
    flow = label.str.extract(r"^(exports|imports)\b", expand=False)
    if flow.isna().any():
        row = _first_row(flow.isna())
        raise DataError(
            path,
            f"flow {raw['flow'].loc[row - 2]!r}: expected exports or imports",
            row=row,
            column="flow",
        )
    code = raw["Code"].str.strip()
    # the total is the sum over partners, so an aggregate row (no ISO numeric code) would
    # count twice
    bad = ~code.str.fullmatch(r"\d{1,3}", na=False)
    if bad.any():
        row = _first_row(bad)
        raise DataError(
            path,
            f"partner code {raw['Code'].loc[row - 2]!r}: expected an ISO 3166-1 numeric code "
            "(0 = other countries)",
            row=row,
            column="Code",
        )
    raw = raw.assign(flow=flow, code=code.astype(int), year=_years(raw, path))
    _refuse_duplicates(raw, ["flow", "code", "year"], path)
    # no total row: total turnover = every partner, "Other countries" (unallocated, mostly gold
    # exports) included, as the office's published totals do
    total = raw.groupby(["year", "flow"], as_index=False)["value_thousand_usd_inferred"].sum()
    total = total.assign(partner=WORLD)
    parts = raw[raw["code"].isin(list(UZB_PARTNERS))]
    parts = parts.assign(partner=parts["code"].map(UZB_PARTNERS))
    both = pd.concat([total, parts[total.columns]], ignore_index=True)
    return both.assign(state="UZB").rename(columns={"value_thousand_usd_inferred": "value"})[
        _FLOW_COLUMNS
    ]


def load_national_trade_shares(raw_dir: str | Path) -> pd.DataFrame:
    """Partner shares of goods trade turnover from national statistics (KAZ, KGZ, UZB).

    One row per (state, partner indicator, year) where the office publishes both flows for the
    partner and the total (Uzbekistan: the sum over all partners, as the file has no total).
    Only full calendar years; Kazakhstan's repeated years come from the newest workbook.

    Parameters
    ----------
    raw_dir
        Directory holding ``national_stats_trade_by_country/`` (``../shared/data`` or a newer
        release).

    Returns
    -------
    pandas.DataFrame
        Columns :data:`~forecast.data.sources.rawfile.LOADER_COLUMNS`; indicators
        ``trade_share_rus_nat``, ``trade_share_chn_nat``, ``trade_share_usa_nat`` and, for KAZ
        and KGZ, ``trade_share_eu_nat``; values are fractions in [0, 1].

    Raises
    ------
    DataError
        When a file is missing or lacks a column, a year or flow does not parse, Kazakhstan's
        file has rows but no full-year row, or a partner appears twice for one flow and year.
        A file with its header and no data row (a release from before its first year) gives
        no rows for that state.

    Examples
    --------
    >>> rows = load_national_trade_shares("../shared/data")  # doctest: +SKIP
    """
    flows = pd.concat(
        [_kaz_flows(raw_dir), _kgz_flows(raw_dir), _uzb_flows(raw_dir)], ignore_index=True
    )
    shares = turnover_shares(flows)
    rows = pd.DataFrame(
        {
            STATE: shares["state"],
            INDICATOR: shares["partner"].map(INDICATORS),
            PERIOD: shares["year"],
            "value": shares["share"],
        }
    )
    return tidy(rows.sort_values([STATE, INDICATOR, PERIOD], kind="stable"), SOURCE)
