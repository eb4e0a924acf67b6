"""SIPRI Arms Transfers Database: supplier shares of arms delivered to each state (five years).

Each trade-register row is one order: a supplier, a recipient, the years in which weapons were
delivered (``"2017; 2018"``) and the TIV (trend-indicator value, SIPRI's volume measure) of the
weapons delivered. The delivered TIV of a row is spread evenly over its delivery years (the
register gives no split by year). For a state and year ``t`` the share of a supplier group is
its TIV delivered to the state in ``t-4 .. t`` over all TIV delivered to the state in that
window; there is no value when nothing was delivered in the window.

Every delivery to the state counts in the denominator, including rows whose supplier belongs
to no group: other states (Ukraine, Belarus, South Africa, ...), another Central Asian state
(Kazakhstan delivered helicopters to Kyrgyzstan in 2004) and ``unknown supplier(s)``. The
register names one supplier per row; a row whose supplier is not a recognised single state
(unknown, or a label naming several) counts toward no group. Rows whose recipient is not one of
the states (Central Asian states as suppliers to others) are not used.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Final

import numpy as np
import pandas as pd

from forecast.data.sources.rawcells import numbers
from forecast.data.sources.rawfile import read_raw_csv, tidy
from forecast.errors import DataError

REGISTER_FILE = "sipri_arms_transfers/sipri_trade_register_ca_rows.csv"
SOURCE = "SIPRI"
WINDOW_YEARS: Final = 5

_RECIPIENT = "Recipient"
_SUPPLIER = "Supplier"
_YEARS = "Year(s) of delivery"
_TIV = "SIPRI TIV of delivered weapons"

#: SIPRI recipient name -> state code
RECIPIENTS: Final = {
    "Kazakhstan": "KAZ",
    "Kyrgyzstan": "KGZ",
    "Tajikistan": "TJK",
    "Turkmenistan": "TKM",
    "Uzbekistan": "UZB",
}

#: Russia alone: the Soviet Union (deliveries before 1992), Ukraine and Belarus are not Russia
RUSSIA: Final = frozenset({"Russia"})
CHINA: Final = frozenset({"China"})

#: the United States, EU members, other NATO members and the listed partners, as SIPRI spells
#: them now and in earlier releases (Turkey became Turkiye in 2022, Czech Republic Czechia, and
#: Macedonia North Macedonia); membership as of today, not as of the delivery year
# fmt: off
WEST: Final = frozenset({
    # EU members
    "Austria", "Belgium", "Bulgaria", "Croatia", "Cyprus", "Czechia", "Czech Republic",
    "Denmark", "Estonia", "Finland", "France", "Germany", "Greece", "Hungary", "Ireland",
    "Italy", "Latvia", "Lithuania", "Luxembourg", "Malta", "Netherlands", "Poland",
    "Portugal", "Romania", "Slovakia", "Slovenia", "Spain", "Sweden",
    # other NATO members
    "United States", "United Kingdom", "Canada", "Norway", "Iceland", "Albania",
    "Montenegro", "North Macedonia", "Macedonia", "Turkiye", "Türkiye", "Turkey",
    # further Western partners
    "Israel", "Switzerland", "Japan", "South Korea", "Australia",
    # multinational suppliers SIPRI marks with **
    "NATO**", "European Union**",
})
# fmt: on

#: supplier group -> indicator key
INDICATORS: Final = {"rus": "arms_share_rus", "chn": "arms_share_chn", "west": "arms_share_west"}

_YEAR_LIST = re.compile(r"^\s*\d{4}(\s*;\s*\d{4})*\s*$")


def supplier_group(name: str) -> str:
    """Return the supplier group of a SIPRI supplier name: ``rus``, ``chn``, ``west`` or ``other``.

    Examples
    --------
    >>> [supplier_group(s) for s in ("Russia", "Soviet Union", "Turkiye", "unknown supplier(s)")]
    ['rus', 'other', 'west', 'other']
    """
    name = name.strip()
    if name in RUSSIA:
        return "rus"
    if name in CHINA:
        return "chn"
    if name in WEST:
        return "west"
    return "other"


def parse_delivery_years(text: str) -> list[int]:
    """Parse a ``Year(s) of delivery`` cell (``"2017"`` or ``"2017; 2018"``) into years.

    Raises
    ------
    ValueError
        When the cell is not a ``;``-separated list of four-digit years.

    Examples
    --------
    >>> parse_delivery_years("2017; 2018; 2019")
    [2017, 2018, 2019]
    """
    if not _YEAR_LIST.match(text):
        raise ValueError(f"{text!r} is not a list of years")
    return [int(part) for part in text.split(";")]


def _delivery_years(register: pd.DataFrame, path: Path) -> pd.Series:
    """Delivery years of each row (empty list where nothing was delivered)."""
    out: list[list[int]] = []
    for pos, cell in enumerate(register[_YEARS].tolist()):
        if pd.isna(cell) or not str(cell).strip():
            out.append([])
            continue
        try:
            out.append(parse_delivery_years(str(cell)))
        except ValueError:
            raise DataError(
                path,
                f"{cell!r} is not a list of delivery years: expected years separated by ';' "
                "like '2017; 2018'",
                row=pos + 2,
                column=_YEARS,
            ) from None
    return pd.Series(out, index=register.index, dtype=object)


def _yearly_deliveries(register: pd.DataFrame, years: pd.Series, path: Path) -> pd.DataFrame:
    """TIV delivered to each state by supplier group and year: columns ``state, year, group, tiv``.

    One row per register row and delivery year, the row's delivered TIV spread evenly.
    """
    tiv = numbers(register, _TIV, path, what="a delivered TIV in millions", allow_missing=True)
    delivered = years.map(len) > 0
    unvalued = (delivered & tiv.isna()).to_numpy()
    if unvalued.any():
        raise DataError(
            path,
            "delivery years given but no delivered TIV: expected the TIV of the weapons delivered",
            row=int(register.index[unvalued][0]) + 2,
            column=_TIV,
        )
    rows = register.loc[delivered & register[_RECIPIENT].isin(list(RECIPIENTS))]
    per_row = pd.DataFrame(
        {
            "state": rows[_RECIPIENT].map(RECIPIENTS),
            "group": rows[_SUPPLIER].astype(str).map(supplier_group),
            "year": years[rows.index],
            "tiv": tiv[rows.index] / years[rows.index].map(len),
        }
    )
    return per_row.explode("year").astype({"year": "int64", "tiv": float}).reset_index(drop=True)


def window_shares(
    deliveries: pd.DataFrame, last_year: int, window: int = WINDOW_YEARS
) -> pd.DataFrame:
    """Share of each supplier group in TIV delivered over the ``window`` years ending in each year.

    Parameters
    ----------
    deliveries
        Columns ``state, year, group, tiv``: TIV delivered by a supplier group in a year.
    last_year
        The last year to emit (the last delivery year of the release).
    window
        Window length in years.

    Returns
    -------
    pandas.DataFrame
        Columns ``state, year, rus, chn, west`` for every year from the state's first delivery
        of positive TIV to ``last_year`` whose window holds a positive total.

    Examples
    --------
    >>> d = pd.DataFrame({"state": ["KAZ", "KAZ"], "year": [2010, 2012], "group": ["rus", "west"],
    ...                   "tiv": [3.0, 1.0]})
    >>> window_shares(d, last_year=2016, window=5)
      state  year   rus  chn  west
    0   KAZ  2010  1.00  0.0  0.00
    1   KAZ  2011  1.00  0.0  0.00
    2   KAZ  2012  0.75  0.0  0.25
    3   KAZ  2013  0.75  0.0  0.25
    4   KAZ  2014  0.75  0.0  0.25
    5   KAZ  2015  0.00  0.0  1.00
    6   KAZ  2016  0.00  0.0  1.00
    """
    groups = ["rus", "chn", "west", "other"]
    positive = deliveries[deliveries["tiv"] > 0]
    yearly = positive.pivot_table(
        index=["state", "year"], columns="group", values="tiv", aggfunc="sum", fill_value=0.0
    ).reindex(columns=groups, fill_value=0.0)
    out = []
    for state, block in yearly.groupby(level="state"):
        first = int(block.index.get_level_values("year").min())
        span = pd.RangeIndex(first, last_year + 1, name="year")
        filled = block.droplevel("state").reindex(span, fill_value=0.0)
        # added shift by shift rather than with a rolling sum, whose running subtraction can
        # leave a residue like 1e-13 in an empty window and so invent a share
        summed = filled.copy()
        for lag in range(1, window):
            summed = summed + filled.shift(lag, fill_value=0.0)
        total = summed.sum(axis=1)
        kept = total > 0
        shares = summed.loc[kept, ["rus", "chn", "west"]].div(total[kept], axis=0)
        out.append(shares.reset_index().assign(state=str(state)))
    columns = ["state", "year", "rus", "chn", "west"]
    if not out:
        return pd.DataFrame(columns=columns)
    return pd.concat(out, ignore_index=True)[columns].rename_axis(columns=None)


def load_arms_shares(raw_dir: str | Path) -> pd.DataFrame:
    """Russia's, China's and the West's shares of arms delivered over five years.

    Emits ``arms_share_rus``, ``arms_share_chn`` and ``arms_share_west`` for each state from
    the first year whose window holds a delivery to the last delivery year found anywhere in
    the register (the release's coverage, the same for every state).

    Parameters
    ----------
    raw_dir
        Directory of raw public files (holding ``sipri_arms_transfers/``).

    Returns
    -------
    pandas.DataFrame
        Columns of :data:`forecast.data.sources.rawfile.LOADER_COLUMNS`.

    Raises
    ------
    DataError
        When the register is missing or changed, a delivery-year cell does not parse, or a row
        with delivery years has no delivered TIV.

    Examples
    --------
    >>> rows = load_arms_shares("../shared/data")  # doctest: +SKIP
    """
    path = Path(raw_dir) / REGISTER_FILE
    register = read_raw_csv(
        raw_dir,
        REGISTER_FILE,
        (_RECIPIENT, _SUPPLIER, _YEARS, _TIV),
        what="the SIPRI trade register (rows with a Central Asian recipient or supplier)",
        dtype={_RECIPIENT: str, _SUPPLIER: str, _YEARS: str},
    )
    years = _delivery_years(register, path)
    # the release's last delivery year, whoever the recipient: a state with no recent
    # delivery still gets values while its window holds an older one
    all_years = [y for row in years for y in row]
    if not all_years:
        raise DataError(path, "no row has a delivery year: expected deliveries like '2017; 2018'")
    shares = window_shares(_yearly_deliveries(register, years, path), last_year=max(all_years))
    long = shares.melt(id_vars=["state", "year"], var_name="group", value_name="value")
    rows = pd.DataFrame(
        {
            "state": long["state"],
            "indicator": long["group"].map(INDICATORS),
            "period": long["year"],
            # a share summed from floats can overshoot 1 by rounding
            "value": np.clip(long["value"].to_numpy(dtype=float), 0.0, 1.0),
        }
    )
    return tidy(rows, SOURCE)
