"""UN General Assembly voting agreement of each state with Russia, China and the United States.

Votes come from Voeten et al.'s UNGA roll-call data as packaged in the R package ``unvotes``
(dgrtwo). The package keeps only recorded votes (yes, no, abstain): an absence is a missing row,
so "both voted" is simply "both have a row". Years are calendar years of the roll call's date,
not UN sessions: a session opens in September, so session 74 is mostly calendar 2019.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from forecast.data.sources.rawfile import read_raw_csv, tidy
from forecast.dims import INDICATOR, PERIOD, STATE
from forecast.errors import DataError

VOTES_FILE = "unvotes_dgrtwo/un_votes_ca_and_powers_1991_2019.csv"
ROLL_CALLS_FILE = "unvotes_dgrtwo/un_roll_calls_1991_2019.csv"
SOURCE = "UNGA"

#: ISO 3166-1 alpha-2 code in the votes file -> panel state
STATES = {"KZ": "KAZ", "KG": "KGZ", "TJ": "TJK", "TM": "TKM", "UZ": "UZB"}
#: ISO 3166-1 alpha-2 code of the power -> indicator key
POWERS = {"RU": "unga_agree_rus", "CN": "unga_agree_chn", "US": "unga_agree_usa"}
#: the vote codes that count as a recorded vote
RECORDED = ("yes", "no", "abstain")


def agreement_by_year(votes: pd.DataFrame, years: pd.Series) -> pd.DataFrame:
    """Count, per state, power and calendar year, the roll calls both voted on and agreed on.

    Parameters
    ----------
    votes
        One row per recorded vote, columns ``rcid``, ``country_code`` and ``vote``.
    years
        Calendar year of each roll call, indexed by ``rcid``.

    Returns
    -------
    pandas.DataFrame
        Columns ``state``, ``power``, ``year``, ``k`` (identical votes) and ``n`` (roll calls
        both voted on, always > 0), as integers where numeric.

    Examples
    --------
    >>> votes = pd.DataFrame(
    ...     {
    ...         "rcid": [1, 1, 2, 2, 3],
    ...         "country_code": ["KZ", "RU", "KZ", "RU", "KZ"],
    ...         "vote": ["yes", "yes", "abstain", "no", "no"],
    ...     }
    ... )
    >>> agreement_by_year(votes, pd.Series({1: 2019, 2: 2019, 3: 2019})).to_dict("records")
    [{'state': 'KZ', 'power': 'RU', 'year': 2019, 'k': 1, 'n': 2}]
    """
    recorded = votes[votes["vote"].isin(RECORDED)]
    mine = recorded[recorded["country_code"].isin(list(STATES))]
    theirs = recorded[recorded["country_code"].isin(list(POWERS))]
    pairs = mine.merge(theirs, on="rcid", suffixes=("_state", "_power"))
    pairs = pairs.assign(
        year=pairs["rcid"].map(years).astype(int),
        agree=(pairs["vote_state"] == pairs["vote_power"]).astype(int),
    )
    counts = pairs.groupby(["country_code_state", "country_code_power", "year"], sort=True)
    out = counts["agree"].agg(k="sum", n="size").reset_index()
    out = out.rename(columns={"country_code_state": "state", "country_code_power": "power"})
    return out.astype({"k": int, "n": int})


def _first_row(mask: pd.Series) -> int:
    # read_csv numbers records 0, 1, ...; a spreadsheet shows the header as row 1
    return int(mask[mask].index[0]) + 2


def _roll_call_years(raw_dir: str | Path) -> pd.Series:
    calls = read_raw_csv(
        raw_dir,
        ROLL_CALLS_FILE,
        ("rcid", "date"),
        what="UNGA roll calls (one row per roll call, with its date)",
        dtype={"date": str},
    )
    path = Path(raw_dir) / ROLL_CALLS_FILE
    dates = pd.to_datetime(calls["date"], format="%Y-%m-%d", errors="coerce")
    if dates.isna().any():
        row = _first_row(dates.isna())
        raise DataError(
            path,
            f"date {calls['date'].loc[row - 2]!r} is not a date: expected YYYY-MM-DD",
            row=row,
            column="date",
        )
    if calls["rcid"].duplicated().any():
        row = _first_row(calls["rcid"].duplicated())
        raise DataError(path, f"roll call {calls['rcid'].loc[row - 2]} listed twice", row=row)
    return pd.Series(dates.dt.year.to_numpy(), index=calls["rcid"].to_numpy())


def load_unga_agreement(raw_dir: str | Path) -> pd.DataFrame:
    """Yearly share of roll calls on which each state voted exactly as Russia, China or the US.

    Among the roll calls of a calendar year on which both the state and the power cast a
    recorded vote (yes, no or abstain), ``n`` counts them and ``value`` is the share with
    identical votes. A state-year without any such roll call has no row.

    Parameters
    ----------
    raw_dir
        Directory holding ``unvotes_dgrtwo/`` (``../shared/data`` or a newer release).

    Returns
    -------
    pandas.DataFrame
        Columns :data:`~forecast.data.sources.rawfile.LOADER_COLUMNS`; indicators
        ``unga_agree_rus``, ``unga_agree_chn``, ``unga_agree_usa``; ``value * n`` is a whole
        number.

    Raises
    ------
    DataError
        When a file is missing or lacks a column, a date does not parse, a roll call is listed
        twice, a state casts two different votes on one roll call, or a vote's roll call has
        no date.

    Examples
    --------
    >>> rows = load_unga_agreement("../shared/data")  # doctest: +SKIP
    """
    votes = read_raw_csv(
        raw_dir,
        VOTES_FILE,
        ("rcid", "country_code", "vote"),
        what="UNGA votes (one row per roll call and country)",
        dtype={"country_code": str, "vote": str},
    )
    path = Path(raw_dir) / VOTES_FILE
    votes = votes.assign(vote=votes["vote"].str.strip().str.lower())
    # a state with two different votes on one roll call would be counted twice
    votes = votes.drop_duplicates(["rcid", "country_code", "vote"])
    twice = votes.duplicated(["rcid", "country_code"])
    if twice.any():
        raise DataError(
            path, "two different votes of one country on one roll call", row=_first_row(twice)
        )
    years = _roll_call_years(raw_dir)
    undated = ~votes["rcid"].isin(years.index)
    if undated.any():
        row = _first_row(undated)
        raise DataError(
            path,
            f"roll call {votes['rcid'].loc[row - 2]} has votes but no date in {ROLL_CALLS_FILE}",
            row=row,
            column="rcid",
        )
    counts = agreement_by_year(votes, years)
    rows = pd.DataFrame(
        {
            STATE: counts["state"].map(STATES),
            INDICATOR: counts["power"].map(POWERS),
            PERIOD: counts["year"],
            # k / n with integer k and n: value * n rounds back to k exactly
            "value": counts["k"] / counts["n"],
            "n": counts["n"],
        }
    )
    return tidy(rows, SOURCE)
