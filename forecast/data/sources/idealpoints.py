"""UN General Assembly ideal points (Bailey, Strezhnev & Voeten): distance to each power.

The file holds year-based ideal points on one latent dimension (higher = closer to the
United States) estimated from UNGA votes, with posterior quantiles. Per state and year the
panel holds the absolute distance between the state's ideal point and Russia's, China's and
the United States' in the same year, so the yearly re-estimation of the whole scale (the
powers move too) cancels: ``unga_ideal_rus = |ip(state) - ip(RUS)|`` and so on, with sign -1
in the codebook (closer = more aligned).

Which estimate: the final-passage series (``idealpointfp``) is the only one that reaches
2024 (the all-votes and legacy series end in 2023). Over 1992-2023 its distances to China
and the United States correlate 0.88-0.98 with the all-votes series' (year-on-year changes
0.60-0.89); distances to Russia, which sits close to the five states, agree less (0.22-0.75:
their size is near the estimates' own uncertainty). One consistent series over all years is
worth more here than the extra votes, so the final-passage estimate is used throughout.

Measurement uncertainty: each ideal point's standard error is taken from its published 5 %
and 95 % posterior quantiles (``(q95 - q5) / (2 x 1.645)``, a normal approximation), and the
distance's as the root sum of the two squared errors (state and power estimated
independently); it goes into the panel's ``se`` column, which the model adds to the
observation variance.

This folder first appeared in the July 2025 release of the raw data; an older release
without it builds a panel without these indicators (see :data:`OPTIONAL_FOLDER`).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from forecast.data.sources.rawcells import numbers, whole_numbers
from forecast.data.sources.rawfile import read_raw_csv, tidy
from forecast.dims import INDICATOR, PERIOD, STATE
from forecast.errors import DataError

#: the folder; a raw directory without it (releases before July 2025) has no ideal points
OPTIONAL_FOLDER = "voeten_unga_idealpoints"
IDEAL_POINTS_FILE = f"{OPTIONAL_FOLDER}/bsv_idealpoints_july2025_ca_and_powers_1991_2024.csv"
SOURCE = "UNGA ideal points"

#: the states whose distances are computed
STATES = ("KAZ", "KGZ", "TJK", "TKM", "UZB")
#: power -> indicator key
POWERS = {"RUS": "unga_ideal_rus", "CHN": "unga_ideal_chn", "USA": "unga_ideal_usa"}
#: columns used: the final-passage estimate and its 5 % and 95 % posterior quantiles
ESTIMATE, LOWER, UPPER = "idealpointfp", "q5fp", "q95fp"
#: years the estimates can describe (the UN's first General Assembly sat in 1946)
FIRST_YEAR, LAST_YEAR = 1946, 2100
#: z-score of the 95 % quantile of a standard normal
_Z95 = 1.6448536269514722


def ideal_point_distances(points: pd.DataFrame) -> pd.DataFrame:
    """Distances of each state's ideal point to each power's in the same year.

    Parameters
    ----------
    points
        One row per country and year with columns ``iso3c``, ``year``, ``estimate`` and
        ``se`` (rows with a missing estimate are ignored).

    Returns
    -------
    pandas.DataFrame
        Columns ``state``, ``indicator``, ``period`` (the year), ``value`` (absolute
        distance) and ``se`` (root sum of the two squared standard errors), for every
        state-year where both the state and the power have an estimate.

    Examples
    --------
    >>> points = pd.DataFrame({"iso3c": ["KAZ", "RUS", "CHN", "USA"], "year": 2024,
    ...                        "estimate": [-0.5, -0.6, -0.85, 2.2], "se": [0.1, 0.1, 0.1, 0.1]})
    >>> ideal_point_distances(points).round(3).to_dict("records")[0]
    {'state': 'KAZ', 'indicator': 'unga_ideal_chn', 'period': 2024, 'value': 0.35, 'se': 0.141}
    """
    known = points.dropna(subset=["estimate"])
    mine = known[known["iso3c"].isin(STATES)]
    pieces = []
    for power, key in POWERS.items():
        theirs = known[known["iso3c"] == power][["year", "estimate", "se"]]
        pair = mine.merge(theirs, on="year", suffixes=("", "_power"))
        pieces.append(
            pd.DataFrame(
                {
                    STATE: pair["iso3c"].to_numpy(),
                    INDICATOR: key,
                    PERIOD: pair["year"].to_numpy(),
                    "value": (pair["estimate"] - pair["estimate_power"]).abs().to_numpy(),
                    "se": np.hypot(pair["se"].to_numpy(), pair["se_power"].to_numpy()),
                }
            )
        )
    out = pd.concat(pieces, ignore_index=True)
    return out.sort_values([STATE, INDICATOR, PERIOD], kind="stable", ignore_index=True)


def has_ideal_points(raw_dir: str | Path) -> bool:
    """Whether ``raw_dir`` is a release that carries the ideal points (July 2025 or later)."""
    return (Path(raw_dir) / OPTIONAL_FOLDER).is_dir()


def load_unga_ideal_points(raw_dir: str | Path) -> pd.DataFrame:
    """Yearly distance of each state's UNGA ideal point to Russia's, China's and the US'.

    Parameters
    ----------
    raw_dir
        Directory of raw public files. Releases before July 2025 have no
        ``voeten_unga_idealpoints/`` folder: then no rows are returned (the panel builder
        reports the folder as absent). A folder that is present must hold a good file.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`~forecast.data.sources.rawfile.LOADER_COLUMNS`; indicators
        ``unga_ideal_rus``, ``unga_ideal_chn``, ``unga_ideal_usa``, with ``se``.

    Raises
    ------
    DataError
        Naming file, row and column: a missing column, a year that is not a whole number or
        lies outside 1946-2100, an estimate or quantile that is not a number, quantiles that
        do not bracket the estimate, or a country-year listed twice.

    Examples
    --------
    >>> rows = load_unga_ideal_points("../shared/data")  # doctest: +SKIP
    """
    if not has_ideal_points(raw_dir):
        return tidy(pd.DataFrame(columns=[STATE, INDICATOR, PERIOD, "value"]), SOURCE)
    path = Path(raw_dir) / IDEAL_POINTS_FILE
    raw = read_raw_csv(
        raw_dir,
        IDEAL_POINTS_FILE,
        ("iso3c", "year", ESTIMATE, LOWER, UPPER),
        what="UNGA ideal points (one row per country and year)",
        dtype={"iso3c": str},
    )
    years = _checked_years(raw, path)
    estimate, lower, upper = _checked_quantiles(raw, path)
    points = pd.DataFrame(
        {
            "iso3c": raw["iso3c"].astype(str).str.strip().str.upper(),
            "year": years,
            "estimate": estimate,
            "se": (upper - lower) / (2 * _Z95),
        }
    )
    _refuse_repeats(points, years, raw, path)
    return tidy(ideal_point_distances(points), SOURCE)


def _checked_years(raw: pd.DataFrame, path: Path) -> pd.Series:
    """Parse the ``year`` column: whole numbers from FIRST_YEAR to LAST_YEAR."""
    years = whole_numbers(raw, "year", path, what="a year")
    outside = ((years < FIRST_YEAR) | (years > LAST_YEAR)).to_numpy()
    if outside.any():
        row = int(np.flatnonzero(outside)[0])
        raise DataError(
            path,
            f"year {years.iloc[row]} out of range: expected {FIRST_YEAR} to {LAST_YEAR}",
            row=int(raw.index[row]) + 2,
            column="year",
        )
    return years


def _checked_quantiles(raw: pd.DataFrame, path: Path) -> tuple[pd.Series, pd.Series, pd.Series]:
    """Parse the estimate and its 5 % and 95 % quantiles, which must bracket it.

    A missing estimate is allowed (the row is ignored later); a present one needs both
    quantiles.
    """
    estimate = numbers(raw, ESTIMATE, path, what="an ideal point", allow_missing=True)
    lower = numbers(raw, LOWER, path, what="a 5 % quantile", allow_missing=True)
    upper = numbers(raw, UPPER, path, what="a 95 % quantile", allow_missing=True)
    known = estimate.notna().to_numpy()
    for column, values in ((LOWER, lower), (UPPER, upper)):
        blank = known & values.isna().to_numpy()
        if blank.any():
            raise DataError(
                path,
                f"empty cell: expected the {column} quantile of the estimate in {ESTIMATE}",
                row=int(raw.index[np.flatnonzero(blank)[0]]) + 2,
                column=column,
            )
    crossed = known & ~((lower <= estimate) & (estimate <= upper)).to_numpy()
    if crossed.any():
        row = int(np.flatnonzero(crossed)[0])
        raise DataError(
            path,
            f"quantiles {lower.iloc[row]:g} and {upper.iloc[row]:g} do not bracket the "
            f"estimate {estimate.iloc[row]:g}: expected {LOWER} <= {ESTIMATE} <= {UPPER}",
            row=int(raw.index[row]) + 2,
            column=ESTIMATE,
        )
    return estimate, lower, upper


def _refuse_repeats(points: pd.DataFrame, years: pd.Series, raw: pd.DataFrame, path: Path) -> None:
    """Refuse a country-year listed twice (after upper-casing and stripping the code)."""
    twice = points.duplicated(["iso3c", "year"]).to_numpy()
    if twice.any():
        row = int(np.flatnonzero(twice)[0])
        raise DataError(
            path,
            f"country-year ({points['iso3c'].iloc[row]}, {years.iloc[row]}) listed twice: "
            "expected one row each",
            row=int(raw.index[row]) + 2,
            column="year",
        )
