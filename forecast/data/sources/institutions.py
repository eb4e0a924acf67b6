"""Institutional ties: COW IGO memberships, ATOP defence pacts with Russia, shared IGOs.

COW IGO v3 ends in 2014 and ATOP 5 in 2018. Membership and pact indicators are extended past
those years only with the dated facts of ``data/institution_facts.toml`` (see
:mod:`forecast.data.institution_facts`), up to the year the facts were checked through; shared
IGO counts are not extended.
"""

from __future__ import annotations

from pathlib import Path
from typing import Final

import pandas as pd

from forecast.data.institution_facts import DEFAULT_FACTS, InstitutionFacts, load_institution_facts
from forecast.data.sources.rawcells import numbers, whole_numbers
from forecast.data.sources.rawfile import read_raw_csv, tidy
from forecast.errors import DataError

MEMBERSHIP_FILE = "cow_igo_v3_memberships/igo_year_ca_memberships_1991_2014.csv"
ALLIANCE_FILE = "peacesciencer_cow_atop/atop5_alliance_ndy_ca.csv"
SHARED_IGOS_FILE = "peacesciencer_cow_atop/cow_igo3_shared_igos_ndy_ca.csv"
COW_SOURCE = "COW IGO"
ATOP_SOURCE = "ATOP"

#: state code -> column of the COW IGO membership file
STATE_COLUMNS: Final = {
    "KAZ": "kazakhstan",
    "KGZ": "kyrgyzstan",
    "TJK": "tajikistan",
    "TKM": "turkmenistan",
    "UZB": "uzbekistan",
}

#: state code -> COW country code
COW_CODES: Final = {"KAZ": 705, "KGZ": 703, "TJK": 702, "TKM": 701, "UZB": 704}
RUSSIA: Final = 365

#: partner COW code -> shared-IGO indicator
SHARED_IGO_PARTNERS: Final = {365: "shared_igos_rus", 710: "shared_igos_chn", 2: "shared_igos_usa"}

#: indicator -> (COW IGO ioname, organisations in the facts file that extend it)
MEMBERSHIPS: Final = {
    "cis_member": ("CIS", ("CIS",)),
    "csto_member": ("CSTO", ("CSTO",)),
    # EurAsEC until its termination on 1 January 2015, the Eurasian Economic Union after
    "eaeu_member": ("EAEC", ("EAEC", "EAEU")),
    "sco_member": ("SCO", ("SCO",)),
}

#: treaties in the facts file that carry a defence obligation between the state and Russia
DEFENSE_TREATIES_RUS: Final = ("CST", "RUS-UZB-ALLIANCE")

#: COW IGO v3 status -> full-membership value; -9 (missing) and -1 (not in system): no value
_COW_STATUS: Final = {1: 1.0, 0: 0.0, 2: 0.0, 3: 0.0, -9: None, -1: None}


def _extension(
    facts: InstitutionFacts, indicator: str, organisations: tuple[str, ...], after: int
) -> pd.DataFrame:
    """Rows ``state, indicator, period, value`` from the facts for years after ``after``."""
    rows = []
    for state in STATE_COLUMNS:
        for year in range(after + 1, facts.checked_through + 1):
            value = facts.year_value(state, organisations, year)
            if value is not None:
                rows.append((state, indicator, year, float(value)))
    return pd.DataFrame(rows, columns=["state", "indicator", "period", "value"])


def _full_membership(codes: pd.Series, path: Path, column: str) -> pd.Series:
    """Map COW status codes to 1 (full member), 0 (other statuses) or NaN (no value)."""
    unknown = ~codes.isin(list(_COW_STATUS))
    if unknown.any():
        raise DataError(
            path,
            f"status {codes[unknown].iloc[0]:g} is not a COW IGO code: expected 1 (full member), "
            "2 (associate), 3 (observer), 0 (not a member), -9 (missing) or -1 (not in system)",
            row=int(codes.index[unknown.to_numpy()][0]) + 2,
            column=column,
        )
    return codes.map(_COW_STATUS).astype(float)


def load_memberships(raw_dir: str | Path, *, facts: str | Path = DEFAULT_FACTS) -> pd.DataFrame:
    """Binary full membership in the CIS, CSTO, EurAsEC/EAEU and SCO.

    From the COW IGO v3 file for the years an organisation has rows there (status 1 = 1;
    associate, observer and non-member = 0; -9 and -1 = no value), then from the dated facts
    for the years after the file's last year up to the facts' ``checked_through``.

    Parameters
    ----------
    raw_dir
        Directory of raw public files (holding ``cow_igo_v3_memberships/``).
    facts
        The dated facts file (project data); by default ``data/institution_facts.toml``.

    Returns
    -------
    pandas.DataFrame
        Columns of :data:`forecast.data.sources.rawfile.LOADER_COLUMNS`: ``cis_member``,
        ``csto_member``, ``eaeu_member`` and ``sco_member``.

    Raises
    ------
    DataError
        When the raw file is missing or changed, or holds an unknown status code.
    SpecError
        When the facts file is missing or malformed (naming the file and key).

    Examples
    --------
    >>> rows = load_memberships("../shared/data")  # doctest: +SKIP
    """
    path = Path(raw_dir) / MEMBERSHIP_FILE
    raw = read_raw_csv(
        raw_dir,
        MEMBERSHIP_FILE,
        ("ioname", "year", *STATE_COLUMNS.values()),
        what="COW IGO v3 membership status by organisation and year",
        dtype={"ioname": str},
    )
    known = load_institution_facts(facts)
    years = whole_numbers(raw, "year", path, what="a year")
    dup = (raw["ioname"] + "/" + years.astype(str)).duplicated().to_numpy()
    if dup.any():
        raise DataError(
            path,
            "organisation-year appears twice: expected one row per ioname and year",
            row=int(raw.index[dup][0]) + 2,
            column="year",
        )
    parts = []
    for indicator, (ioname, organisations) in MEMBERSHIPS.items():
        org = raw["ioname"] == ioname
        for state, column in STATE_COLUMNS.items():
            codes = numbers(raw.loc[org], column, path, what="a COW IGO status code")
            parts.append(
                pd.DataFrame(
                    {
                        "state": state,
                        "indicator": indicator,
                        "period": years[org],
                        "value": _full_membership(codes, path, column),
                    }
                ).dropna(subset=["value"])
            )
        parts.append(_extension(known, indicator, organisations, after=int(years.max())))
    return tidy(pd.concat([p for p in parts if not p.empty], ignore_index=True), COW_SOURCE)


def _with_partner(
    raw: pd.DataFrame, partner: int, path: Path, column: str, *, what: str
) -> pd.DataFrame:
    """Rows ``state, year, value`` of the dyads (state, partner), whichever side each is on.

    peacesciencer's files list some dyads once and some in both orders; both orders must
    agree.
    """
    c1 = whole_numbers(raw, "ccode1", path, what="a COW country code")
    c2 = whole_numbers(raw, "ccode2", path, what="a COW country code")
    by_code = {code: state for state, code in COW_CODES.items()}
    other = c1.where(c2 == partner, c2.where(c1 == partner))
    keep = other.isin(list(by_code))
    values = numbers(raw.loc[keep], column, path, what=what, allow_missing=True)
    rows = pd.DataFrame(
        {
            "state": other[keep].astype("int64").map(by_code),
            "year": whole_numbers(raw.loc[keep], "year", path, what="a year"),
            "value": values,
        }
    ).dropna(subset=["value"])
    spread = rows.groupby(["state", "year"])["value"].agg(["min", "max"])
    clash = spread[spread["min"] != spread["max"]]
    if not clash.empty:
        state, year = clash.index[0]
        raise DataError(
            path,
            f"the two orders of dyad ({state}, {partner}) disagree in {year} on {column}: "
            "expected one value per dyad-year",
            column=column,
        )
    return rows.drop_duplicates(["state", "year"]).reset_index(drop=True)


def load_defense_pacts(raw_dir: str | Path, *, facts: str | Path = DEFAULT_FACTS) -> pd.DataFrame:
    """Binary defence obligation between each state and Russia (``defense_pact_rus``).

    ATOP 5 ``atop_defense`` for the dyad (state, Russia) to the file's last year, then 1 for
    each later year, up to the facts' ``checked_through``, in which a treaty with a defence
    obligation towards Russia is in force on 31 December (:data:`DEFENSE_TREATIES_RUS`).
    Years without such a treaty stay missing: the facts record treaties, not their absence.

    Parameters
    ----------
    raw_dir
        Directory of raw public files (holding ``peacesciencer_cow_atop/``).
    facts
        The dated facts file (project data); by default ``data/institution_facts.toml``.

    Returns
    -------
    pandas.DataFrame
        Columns of :data:`forecast.data.sources.rawfile.LOADER_COLUMNS`.

    Examples
    --------
    >>> rows = load_defense_pacts("../shared/data")  # doctest: +SKIP
    """
    path = Path(raw_dir) / ALLIANCE_FILE
    raw = read_raw_csv(
        raw_dir,
        ALLIANCE_FILE,
        ("ccode1", "ccode2", "year", "atop_defense"),
        what="ATOP 5 dyad-year alliance obligations (peacesciencer)",
    )
    known = load_institution_facts(facts)
    rows = _with_partner(raw, RUSSIA, path, "atop_defense", what="an ATOP obligation (0 or 1)")
    if not rows["value"].isin([0.0, 1.0]).all():
        bad = rows.loc[~rows["value"].isin([0.0, 1.0]), "value"].iloc[0]
        raise DataError(path, f"atop_defense {bad:g}: expected 0 or 1", column="atop_defense")
    last = int(whole_numbers(raw, "year", path, what="a year").max())
    atop = rows.rename(columns={"year": "period"}).assign(indicator="defense_pact_rus")
    extension = _extension(known, "defense_pact_rus", DEFENSE_TREATIES_RUS, after=last)
    # a treaty fact can only add an obligation: a 0 would need the absence of every treaty
    extension = extension[extension["value"] == 1.0]
    parts = [p for p in (atop, extension) if not p.empty]
    return tidy(pd.concat(parts, ignore_index=True), ATOP_SOURCE)


def load_shared_igos(raw_dir: str | Path) -> pd.DataFrame:
    """Count the IGOs the state shares with Russia, China and the United States.

    COW IGO v3 ``dyadigos`` via peacesciencer, 1991-2014, not extended.

    Parameters
    ----------
    raw_dir
        Directory of raw public files (holding ``peacesciencer_cow_atop/``).

    Returns
    -------
    pandas.DataFrame
        Columns of :data:`forecast.data.sources.rawfile.LOADER_COLUMNS`: ``shared_igos_rus``,
        ``shared_igos_chn`` and ``shared_igos_usa``.

    Examples
    --------
    >>> rows = load_shared_igos("../shared/data")  # doctest: +SKIP
    """
    path = Path(raw_dir) / SHARED_IGOS_FILE
    raw = read_raw_csv(
        raw_dir,
        SHARED_IGOS_FILE,
        ("ccode1", "ccode2", "year", "dyadigos"),
        what="COW IGO v3 shared IGO memberships by dyad and year (peacesciencer)",
    )
    parts = []
    for partner, indicator in SHARED_IGO_PARTNERS.items():
        rows = _with_partner(raw, partner, path, "dyadigos", what="a count of shared IGOs")
        # COW codes missing data as negative numbers: no value
        rows = rows[rows["value"] >= 0]
        parts.append(rows.rename(columns={"year": "period"}).assign(indicator=indicator))
    return tidy(pd.concat(parts, ignore_index=True), COW_SOURCE)
