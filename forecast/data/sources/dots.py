"""IMF Direction of Trade Statistics: partner shares of each state's goods trade turnover.

Turnover is exports FOB plus imports CIF, both as the state reports them (DOTS reporter
file). For states that do not report (Turkmenistan throughout, Uzbekistan before ~2017,
Tajikistan in some years), the IMF fills these rows from partner records; the mirror file lets
a user compare (:func:`load_mirror_shares`, a cross-check outside the panel).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from forecast.data.sources.rawfile import read_raw_csv, tidy

REPORTER_FILE = "imf_dots/dots_ca_reporters_all_partners.csv"
MIRROR_FILE = "imf_dots/dots_mirror_partner_reported_ca.csv"
SOURCE = "IMF DOTS"
_COLUMNS = ("reporter_iso", "flow", "partner", "year", "value_musd")
_FLOWS = ("exports_fob", "imports_cif")

#: DOTS partner name -> indicator key
PARTNERS = {
    "Russian Federation": "trade_share_rus",
    "China, P.R.: Mainland": "trade_share_chn",
    "European Union": "trade_share_eu",
    "United States": "trade_share_usa",
}
WORLD = "World"

#: mirror-file reporter code -> indicator key (the partner's records of trade with the state)
_MIRROR_REPORTERS = {
    "RUS": "trade_share_rus",
    "CHN": "trade_share_chn",
    "EU": "trade_share_eu",
    "USA": "trade_share_usa",
}


def _turnover(frame: pd.DataFrame) -> pd.DataFrame:
    # Australia's rows appear twice in the workbook export (identical values); keep one so
    # that no partner's turnover is ever double-counted
    frame = frame.drop_duplicates(["reporter_iso", "flow", "partner", "year"], keep="first")
    wide = frame.pivot_table(
        index=["reporter_iso", "year", "partner"],
        columns="flow",
        values="value_musd",
        aggfunc="first",
    )
    both = wide.reindex(columns=list(_FLOWS)).dropna()
    return both.sum(axis=1).rename("turnover").reset_index()


def load_trade_shares(raw_dir: str | Path) -> pd.DataFrame:
    """Partner shares of turnover, one row per (state, partner indicator, year).

    A share is kept only when both flows are reported for the partner and for the World and
    World turnover is positive.

    Examples
    --------
    >>> rows = load_trade_shares("../shared/data")  # doctest: +SKIP
    """
    raw = read_raw_csv(
        raw_dir, REPORTER_FILE, _COLUMNS, what="IMF DOTS reporter-side trade by partner"
    )
    raw = raw[raw["flow"].isin(_FLOWS) & raw["partner"].isin([*PARTNERS, WORLD])]
    turnover = _turnover(raw)
    world = turnover[turnover["partner"] == WORLD].set_index(["reporter_iso", "year"])["turnover"]
    parts = turnover[turnover["partner"] != WORLD].join(
        world.rename("world"), on=["reporter_iso", "year"]
    )
    parts = parts[parts["world"] > 0]
    rows = pd.DataFrame(
        {
            "state": parts["reporter_iso"],
            "indicator": parts["partner"].map(PARTNERS),
            "period": parts["year"].astype(int),
            "value": parts["turnover"] / parts["world"],
        }
    )
    return tidy(rows, SOURCE)


def load_mirror_shares(raw_dir: str | Path) -> pd.DataFrame:
    """Partner-reported (mirror) turnover shares for RUS, CHN, USA and the EU as a cross-check.

    Uses the partner's records of trade with the state (partner imports CIF + exports FOB) over
    the state's own reported World turnover. Not part of the panel: a documented cross-check.
    Numerator and denominator come from different reporters, so a mirror "share" can exceed 1:
    China records more trade with Kyrgyzstan in some years (2007-2009, 2016) than Kyrgyzstan
    reports with the whole World.

    Returns
    -------
    pandas.DataFrame
        Columns ``state, indicator, period, value`` (the mirror share).

    Examples
    --------
    >>> rows = load_mirror_shares("../shared/data")  # doctest: +SKIP
    """
    mirror = read_raw_csv(
        raw_dir, MIRROR_FILE, _COLUMNS, what="IMF DOTS partner-reported mirror file"
    )
    own = read_raw_csv(
        raw_dir,
        REPORTER_FILE,
        (*_COLUMNS, "reporter_name"),
        what="IMF DOTS reporter-side trade by partner",
    )
    mirror = mirror[mirror["reporter_iso"].isin(_MIRROR_REPORTERS) & mirror["flow"].isin(_FLOWS)]
    mirror = mirror.drop_duplicates(["reporter_iso", "flow", "partner", "year"])
    flows = mirror.groupby(["reporter_iso", "partner", "year"])["value_musd"].agg(["sum", "count"])
    flows = flows[flows["count"] == 2]["sum"].rename("mirror").reset_index()
    world_own = own[own["flow"].isin(_FLOWS) & (own["partner"] == WORLD)]
    world = _turnover(world_own).set_index(["reporter_iso", "year"])["turnover"].rename("world")
    # the mirror file names the Central Asian partner by its DOTS name; map it to the ISO code
    # through the reporter file
    name_to_iso = own.drop_duplicates("reporter_iso").set_index("reporter_name")["reporter_iso"]
    flows["state"] = flows["partner"].map(name_to_iso)
    flows = flows.dropna(subset=["state"]).join(world, on=["state", "year"])
    rows = pd.DataFrame(
        {
            "state": flows["state"],
            "indicator": flows["reporter_iso"].map(_MIRROR_REPORTERS),
            "period": flows["year"].astype(int).astype(str),
            "value": flows["mirror"] / flows["world"],
        }
    )
    return rows.dropna().reset_index(drop=True)
