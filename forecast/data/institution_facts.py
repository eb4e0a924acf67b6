"""Dated public facts on institutional ties, used to extend COW IGO and ATOP past their end years.

The facts are project data (``data/institution_facts.toml``), not raw data: each records a
state's status in an organisation or treaty from one date (and optionally until another), with
the citation it rests on, and the file says up to which year they were checked
(``checked_through``). A year takes the status in force on its 31 December, so an accession
during the year counts for that year and a suspension during the year counts against it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from forecast.data.states import KNOWN_STATES
from forecast.errors import SpecError
from forecast.tomlfile import check_keys, expect_type, read_toml

#: the bundled facts file
DEFAULT_FACTS = Path(__file__).resolve().parents[2] / "data" / "institution_facts.toml"

#: organisations and treaties a fact may name
ORGANISATIONS: Final = {
    "CIS": "Commonwealth of Independent States",
    "CSTO": "Collective Security Treaty Organization",
    "EAEC": "Eurasian Economic Community (EurAsEC)",
    "EAEU": "Eurasian Economic Union",
    "SCO": "Shanghai Cooperation Organisation",
    "CST": "Collective Security Treaty (Tashkent, 1992)",
    "RUS-UZB-ALLIANCE": "Treaty on Allied Relations between Russia and Uzbekistan (2005)",
}

#: status -> value of a binary full-membership or treaty indicator
STATUS_VALUES: Final = {
    "member": 1,
    "party": 1,
    "associate": 0,
    "observer": 0,
    "suspended": 0,
    "non-member": 0,
}

_FACT_KEYS = {"state", "organisation", "status", "from", "citation"}


@dataclass(frozen=True)
class InstitutionFact:
    """A state's status in an organisation or treaty over a span of dates.

    Attributes
    ----------
    start
        First day the status holds.
    end
        First day it no longer holds; ``None`` when still held at the file's ``checked_through``.
    """

    state: str
    organisation: str
    status: str
    start: dt.date
    end: dt.date | None
    citation: str

    def holds_on(self, day: dt.date) -> bool:
        """Return whether the status holds on ``day``."""
        return self.start <= day and (self.end is None or day < self.end)


@dataclass(frozen=True)
class InstitutionFacts:
    """The facts of one file and the last year they were checked for."""

    facts: tuple[InstitutionFact, ...]
    checked_through: int
    path: str = ""

    def year_value(self, state: str, organisations: Iterable[str], year: int) -> int | None:
        """Binary value for ``state`` in ``year`` from the facts on ``organisations``.

        The status in force on 31 December counts. The value is 1 when any of the organisations
        gives a status counting 1 (member, party), 0 when the facts in force all count 0, and
        ``None`` when no fact is in force or the year is past ``checked_through``.

        Examples
        --------
        >>> facts = load_institution_facts()
        >>> [facts.year_value("KGZ", ["EAEC", "EAEU"], y) for y in (2014, 2015)]
        [1, 1]
        >>> facts.year_value("UZB", ["EAEU"], 2024), facts.year_value("UZB", ["EAEU"], 2025)
        (0, None)
        """
        if year > self.checked_through:
            return None
        day = dt.date(year, 12, 31)
        wanted = set(organisations)
        values = [
            STATUS_VALUES[f.status]
            for f in self.facts
            if f.state == state and f.organisation in wanted and f.holds_on(day)
        ]
        return max(values) if values else None


def _date(path: Path, key: str, value: Any) -> dt.date:
    # a TOML datetime is a date subclass: refuse it, a status starts on a day
    if not isinstance(value, dt.date) or isinstance(value, dt.datetime):
        raise SpecError(path, f"expected a date like 2015-01-01 (unquoted), got {value!r}", key=key)
    return value


def _fact(path: Path, key: str, table: object, checked_through: int) -> InstitutionFact:
    if not isinstance(table, dict):
        raise SpecError(path, "expected a table of fact fields", key=key)
    check_keys(path, table, required=_FACT_KEYS, optional={"to"}, prefix=key)
    state = expect_type(path, f"{key}.state", table["state"], str)
    if state not in KNOWN_STATES:
        raise SpecError(path, f"unknown state {state!r}: expected an ISO3 code", key=f"{key}.state")
    org = expect_type(path, f"{key}.organisation", table["organisation"], str)
    if org not in ORGANISATIONS:
        raise SpecError(
            path,
            f"unknown organisation {org!r}: expected one of {', '.join(ORGANISATIONS)}",
            key=f"{key}.organisation",
        )
    status = expect_type(path, f"{key}.status", table["status"], str)
    if status not in STATUS_VALUES:
        raise SpecError(
            path,
            f"unknown status {status!r}: expected one of {', '.join(STATUS_VALUES)}",
            key=f"{key}.status",
        )
    start = _date(path, f"{key}.from", table["from"])
    end = _date(path, f"{key}.to", table["to"]) if "to" in table else None
    if end is not None and end <= start:
        raise SpecError(path, f"to {end} is not after from {start}", key=f"{key}.to")
    if start.year > checked_through:
        raise SpecError(
            path,
            f"from {start} is after checked_through = {checked_through}: a fact must lie "
            "within the checked years",
            key=f"{key}.from",
        )
    citation = expect_type(path, f"{key}.citation", table["citation"], str).strip()
    if not citation:
        raise SpecError(
            path, "empty citation: name the treaty or announcement", key=f"{key}.citation"
        )
    return InstitutionFact(state, org, status, start, end, citation)


def _check_overlaps(path: Path, facts: list[InstitutionFact]) -> None:
    # two facts on the same pair in force on the same day would leave a year's value to
    # whichever is read first
    for i, later in enumerate(facts):
        for j, earlier in enumerate(facts[:i]):
            same = (later.state, later.organisation) == (earlier.state, earlier.organisation)
            if not same:
                continue
            if later.start < (earlier.end or dt.date.max) and earlier.start < (
                later.end or dt.date.max
            ):
                raise SpecError(
                    path,
                    f"{later.state} {later.organisation} overlaps fact[{j + 1}] "
                    f"({earlier.status} from {earlier.start}): facts on one state and "
                    "organisation must not overlap in time",
                    key=f"fact[{i + 1}]",
                )


def load_institution_facts(path: str | Path = DEFAULT_FACTS) -> InstitutionFacts:
    """Load and validate a facts file.

    Parameters
    ----------
    path
        The TOML file; by default the project's ``data/institution_facts.toml``.

    Raises
    ------
    SpecError
        Naming the file and the key (``fact[3].status``, facts counted from 1) of the first
        problem.

    Examples
    --------
    >>> facts = load_institution_facts()
    >>> facts.checked_through
    2024
    """
    path = Path(path)
    raw = read_toml(path)
    check_keys(path, raw, required={"checked_through", "fact"})
    checked = expect_type(path, "checked_through", raw["checked_through"], int)
    if not 1900 <= checked <= 2100:
        raise SpecError(path, f"expected a year, got {checked}", key="checked_through")
    tables = expect_type(path, "fact", raw["fact"], list)
    facts = [_fact(path, f"fact[{i + 1}]", table, checked) for i, table in enumerate(tables)]
    _check_overlaps(path, facts)
    return InstitutionFacts(facts=tuple(facts), checked_through=checked, path=str(path))
