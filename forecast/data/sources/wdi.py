"""World Bank World Development Indicators: remittances received and US net bilateral aid.

Both files are open-numbers DDF extracts of one WDI series each, one row per economy and year
(economy as a lower-case ISO3 code). A missing cell or a missing row means no value.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from forecast.data.sources.rawcells import numbers, whole_numbers
from forecast.data.sources.rawfile import read_raw_csv, tidy
from forecast.errors import DataError

REMITTANCES_FILE = "wdi_remittances/wdi_BX.TRF.PWKR.DT.GD.ZS_ca.csv"
US_AID_FILE = "wdi_us_bilateral_aid/wdi_DC.DAC.USAL.CD_ca.csv"
SOURCE = "WDI"

_REMITTANCES_COLUMN = "bx_trf_pwkr_dt_gd_zs"
_US_AID_COLUMN = "dc_dac_usal_cd"


def _series(
    raw_dir: str | Path, relpath: str, column: str, *, what: str, unit: str
) -> pd.DataFrame:
    """One WDI series as ``state, period, value`` (raw units), rows with a value only."""
    path = Path(raw_dir) / relpath
    raw = read_raw_csv(
        raw_dir, relpath, ("economy", "year", column), what=what, dtype={"economy": str}
    )
    values = numbers(raw, column, path, what=unit, allow_missing=True)
    years = whole_numbers(raw, "year", path, what="a year")
    rows = pd.DataFrame(
        {"state": raw["economy"].str.strip().str.upper(), "period": years, "value": values}
    ).dropna(subset=["value"])
    dup = rows.duplicated(["state", "period"])
    if dup.any():
        first = rows[dup].iloc[0]
        raise DataError(
            path,
            f"duplicate economy-year ({first['state']}, {first['period']}): expected one row each",
            row=int(rows.index[dup.to_numpy()][0]) + 2,
            column="year",
        )
    return rows


def load_remittances(raw_dir: str | Path) -> pd.DataFrame:
    """Personal remittances received as a fraction of GDP (``remittances_gdp``).

    WDI publishes the series in percent (BX.TRF.PWKR.DT.GD.ZS); the panel holds fractions, so
    values are divided by 100.

    Parameters
    ----------
    raw_dir
        Directory of raw public files (holding ``wdi_remittances/``).

    Returns
    -------
    pandas.DataFrame
        Columns of :data:`forecast.data.sources.rawfile.LOADER_COLUMNS`, one row per state-year
        with a value.

    Raises
    ------
    DataError
        When the file is missing or changed, a cell is not a number, or a value is not positive:
        the codebook gives ``remittances_gdp`` kind ``positive`` without offset, so a zero (or a
        negative) value could not enter the model's log scale.

    Examples
    --------
    >>> rows = load_remittances("../shared/data")  # doctest: +SKIP
    """
    path = Path(raw_dir) / REMITTANCES_FILE
    rows = _series(
        raw_dir,
        REMITTANCES_FILE,
        _REMITTANCES_COLUMN,
        what="WDI personal remittances received (% of GDP) by economy and year",
        unit="a percentage of GDP",
    )
    bad = (rows["value"] <= 0).to_numpy()
    if bad.any():
        raise DataError(
            path,
            f"remittances {rows['value'].to_numpy()[bad][0]:g}% of GDP: expected a positive value "
            "(remittances_gdp has kind positive without offset; set an offset in the codebook "
            "if true zeros must be kept)",
            row=int(rows.index[bad][0]) + 2,
            column=_REMITTANCES_COLUMN,
        )
    rows = rows.assign(indicator="remittances_gdp", value=rows["value"] / 100.0)
    return tidy(rows, SOURCE)


def load_us_aid(raw_dir: str | Path) -> pd.DataFrame:
    """Net bilateral aid from the United States in USD million (``us_aid``).

    The WDI series DC.DAC.USAL.CD (OECD DAC) is in current US dollars; values are divided by
    one million. Net flows can be negative (repayments exceeding disbursements: Turkmenistan
    2008) and are kept as they are.

    Parameters
    ----------
    raw_dir
        Directory of raw public files (holding ``wdi_us_bilateral_aid/``).

    Returns
    -------
    pandas.DataFrame
        Columns of :data:`forecast.data.sources.rawfile.LOADER_COLUMNS`, one row per state-year
        with a value.

    Examples
    --------
    >>> rows = load_us_aid("../shared/data")  # doctest: +SKIP
    """
    rows = _series(
        raw_dir,
        US_AID_FILE,
        _US_AID_COLUMN,
        what="WDI net bilateral aid flows from the United States (current USD) by economy and year",
        unit="an amount in current USD",
    )
    rows = rows.assign(indicator="us_aid", value=rows["value"] / 1e6)
    return tidy(rows, SOURCE)
