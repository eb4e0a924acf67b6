"""AidData Global Chinese Development Finance (GCDF 3.0): Chinese official finance commitments.

The raw file holds country-year sums of commitments recommended for aggregates, by flow class
(ODA-like, OOF-like, vague official finance), in constant 2021 USD, each as the amount
(``*_amt``) and the adjusted amount (``*_adj``). The panel uses the adjusted amounts: the
extract's maintainers recommend them for yearly totals (odadata ``add_gcdf`` documentation),
and AidData's own country aggregates sum adjusted commitments. In the 2000-2020 extract the two
agree to within a cent for every row, so the choice changes no value today.

Commitments are lumpy (a pipeline loan of several billions in one year, nothing the next), so
the indicator sums the three years ending in the year. A year without a row is a year without a
recorded commitment (zero), which is why the codebook observes ``log(value + 1)``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Final

import pandas as pd

from forecast.data.sources.rawcells import numbers, whole_numbers
from forecast.data.sources.rawfile import read_raw_csv, tidy
from forecast.errors import DataError

COMMITMENTS_FILE = "aiddata_gcdf3_china_finance/gcdf3_china_commitments_ca_country_year.csv"
SOURCE = "AidData"
WINDOW_YEARS: Final = 3

#: flow classes summed: OOF-like, ODA-like and vague official finance (adjusted amounts)
AMOUNT_COLUMNS: Final = ("oof_adj", "oda_adj", "vof_adj")


def trailing_sums(
    yearly: pd.DataFrame, first_year: int, last_year: int, window: int
) -> pd.DataFrame:
    """Sum ``amount`` over the ``window`` years ending in each year, missing years as zero.

    Parameters
    ----------
    yearly
        Columns ``state, year, amount``, at most one row per state and year.
    first_year, last_year
        The years the source covers; values are returned from ``first_year + window - 1`` so
        that every window lies inside the coverage.
    window
        Window length in years.

    Returns
    -------
    pandas.DataFrame
        Columns ``state, year, amount`` for every state in ``yearly`` and every returned year.

    Examples
    --------
    >>> y = pd.DataFrame({"state": ["TKM", "TKM"], "year": [2000, 2003], "amount": [5.0, 1.0]})
    >>> trailing_sums(y, 2000, 2004, window=3)
      state  year  amount
    0   TKM  2002     5.0
    1   TKM  2003     1.0
    2   TKM  2004     1.0
    """
    years = pd.RangeIndex(first_year, last_year + 1, name="year")
    wide = yearly.pivot(index="year", columns="state", values="amount").reindex(
        years, fill_value=0.0
    )
    wide = wide.fillna(0.0)
    # added shift by shift rather than with a rolling sum, whose running subtraction can leave
    # a residue like 1e-12 where a window holds no commitment at all
    summed = wide.copy()
    for lag in range(1, window):
        summed = summed + wide.shift(lag, fill_value=0.0)
    summed = summed.loc[first_year + window - 1 :]
    long = summed.reset_index().melt(id_vars="year", var_name="state", value_name="amount")
    return long[["state", "year", "amount"]].sort_values(["state", "year"], ignore_index=True)


def load_china_finance(raw_dir: str | Path) -> pd.DataFrame:
    """Chinese official finance committed over the three years to each year (``china_finance``).

    The sum of ODA-like, OOF-like and vague official finance (adjusted amounts, constant 2021
    USD) in USD million, emitted from the file's first year + 2 to its last year for every
    state in the file.

    Parameters
    ----------
    raw_dir
        Directory of raw public files (holding ``aiddata_gcdf3_china_finance/``).

    Returns
    -------
    pandas.DataFrame
        Columns of :data:`forecast.data.sources.rawfile.LOADER_COLUMNS`.

    Raises
    ------
    DataError
        When the file is missing or changed, an amount cell is empty or not a number, or a
        state-year appears twice.

    Examples
    --------
    >>> rows = load_china_finance("../shared/data")  # doctest: +SKIP
    """
    path = Path(raw_dir) / COMMITMENTS_FILE
    raw = read_raw_csv(
        raw_dir,
        COMMITMENTS_FILE,
        ("iso3c", "year", *AMOUNT_COLUMNS),
        what="AidData GCDF 3.0 Chinese official finance commitments by country and year",
        dtype={"iso3c": str},
    )
    # an empty amount cell is not a documented zero (only a missing row is), so refuse it
    amounts = [
        numbers(raw, col, path, what="an amount in constant 2021 USD") for col in AMOUNT_COLUMNS
    ]
    amount = pd.concat(amounts, axis=1).sum(axis=1)
    yearly = pd.DataFrame(
        {
            "state": raw["iso3c"].str.strip(),
            "year": whole_numbers(raw, "year", path, what="a commitment year"),
            "amount": amount / 1e6,
        }
    )
    dup = yearly.duplicated(["state", "year"]).to_numpy()
    if dup.any():
        first = yearly[dup].iloc[0]
        raise DataError(
            path,
            f"duplicate country-year ({first['state']}, {first['year']}): expected one row each",
            row=int(yearly.index[dup][0]) + 2,
            column="year",
        )
    if yearly.empty:
        raise DataError(path, "no data rows: expected commitments by country and year")
    # the coverage is the file's, not each state's: a state without a row in 2000 had no
    # recorded commitment that year
    first_year, last_year = int(yearly["year"].min()), int(yearly["year"].max())
    sums = trailing_sums(yearly, first_year, last_year, WINDOW_YEARS)
    rows = pd.DataFrame(
        {
            "state": sums["state"],
            "indicator": "china_finance",
            "period": sums["year"],
            "value": sums["amount"],
        }
    )
    return tidy(rows, SOURCE)
