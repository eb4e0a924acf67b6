"""The indicator table of data/SOURCES.md is generated, and the committed one cannot drift.

- The block between the markers in the committed ``data/SOURCES.md`` equals what
  :func:`indicator_table_markdown` makes of the committed ``data/panel.csv`` and codebook.
- ``forecast data sources`` rewrites only that block; ``--check`` fails on a stale one.
- ``forecast data show --json`` gives each series' last observed period.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

from forecast.data.codebook import load_codebook
from forecast.data.indicator_table import (
    COLUMNS,
    DEFAULT_SOURCES,
    TABLE_END,
    TABLE_START,
    indicator_table_markdown,
    state_coverage,
    with_indicator_table,
)
from forecast.data.panel import DEFAULT_PANEL, read_panel
from forecast.errors import DataError
from tests.data.panel_fixtures import VALID_ROWS, csv_text, run_cli


def _block(text: str) -> str:
    return text.split(TABLE_START + "\n")[1].split(TABLE_END)[0]


def test_committed_table_is_generated_from_the_committed_panel() -> None:
    codebook = load_codebook()
    expected = indicator_table_markdown(read_panel(DEFAULT_PANEL, codebook), codebook)
    committed = _block(DEFAULT_SOURCES.read_text(encoding="utf-8"))
    assert committed == expected, "run `forecast data sources` after rebuilding the panel"


def test_table_shape() -> None:
    codebook = load_codebook()
    lines = indicator_table_markdown(read_panel(DEFAULT_PANEL, codebook), codebook).splitlines()
    assert lines[0] == "| " + " | ".join(COLUMNS) + " |"
    assert lines[1] == "|---|---|---|---|---|---|---|---|---|"
    assert [line.split(" | ")[0] for line in lines[2:]] == [f"| `{key}`" for key in codebook]
    assert all(line.count(" | ") == len(COLUMNS) - 1 for line in lines[:1] + lines[2:])


@pytest.mark.parametrize(
    ("periods", "expected"),
    [
        # the old hand-written table's forms, reproduced
        (
            {"KAZ": ["1992", "1993"], "TJK": ["1992", "1993"], "KGZ": ["1992", "1994"]},
            "KAZ TJK 1992–1993; KGZ 1992–1994; gaps KGZ 1993; no TKM UZB",
        ),
        ({"TKM": ["1996"]}, "TKM 1996; no KAZ KGZ TJK UZB"),
        (
            {s: ["2019Q1", "2019Q2", "2019Q4"] for s in ("KAZ", "KGZ", "TJK", "TKM", "UZB")},
            "KAZ KGZ TJK TKM UZB 2019Q1–2019Q4; gaps KAZ 2019Q3; KGZ 2019Q3; TJK 2019Q3; "
            "TKM 2019Q3; UZB 2019Q3",
        ),
        (
            {"UZB": ["2001", "2002", "2006", "2010", "2011"]},
            "UZB 2001–2011; gaps UZB 2003–2005, 2007–2009; no KAZ KGZ TJK TKM",
        ),
        ({}, "no KAZ KGZ TJK TKM UZB"),
    ],
)
def test_state_coverage(periods, expected) -> None:
    assert state_coverage(periods) == expected


def test_an_indicator_without_rows_and_a_state_outside_the_five() -> None:
    codebook = load_codebook()
    panel = pd.DataFrame(
        {"state": ["AFG", "KAZ"], "indicator": "us_aid", "period": ["2001", "2001"]}
    )
    lines = indicator_table_markdown(panel, codebook).splitlines()
    aid = next(line for line in lines if line.startswith("| `us_aid`"))
    assert aid.endswith("| 2001 | AFG KAZ 2001; no KGZ TJK TKM UZB | 2 |")
    cis = next(line for line in lines if line.startswith("| `cis_member`"))
    assert cis.endswith("| – | no AFG KAZ KGZ TJK TKM UZB | 0 |")


def test_block_replacement() -> None:
    doc = f"# title\n\nprose\n\n{TABLE_START}\n| stale |\n{TABLE_END}\n\nmore prose\n"
    new = with_indicator_table(doc, "| a |\n| b |\n")
    assert new == f"# title\n\nprose\n\n{TABLE_START}\n| a |\n| b |\n{TABLE_END}\n\nmore prose\n"
    assert with_indicator_table(new, "| a |\n| b |\n") == new


@pytest.mark.parametrize(
    "doc",
    [
        "no markers\n",
        f"{TABLE_START}\nonly the start\n",
        f"{TABLE_START}\n{TABLE_END}\n{TABLE_START}\n{TABLE_END}\n",
        f"{TABLE_END}\nreversed\n{TABLE_START}\n",
    ],
)
def test_bad_markers_are_refused(doc: str) -> None:
    with pytest.raises(DataError, match=r"^SOURCES\.md: .*indicator-table"):
        with_indicator_table(doc, "| a |\n", "SOURCES.md")


# --- the command ---------------------------------------------------------------------------------


@pytest.fixture
def small(tmp_path: Path) -> tuple[Path, Path]:
    """A small panel and a sources document with a stale table."""
    panel = tmp_path / "panel.csv"
    panel.write_text(csv_text(VALID_ROWS), encoding="utf-8")
    doc = tmp_path / "SOURCES.md"
    doc.write_text(f"intro\n{TABLE_START}\n| stale |\n{TABLE_END}\nrest\n", encoding="utf-8")
    return panel, doc


def test_sources_command_rewrites_the_block(small, capsys) -> None:
    panel, doc = small
    args = ["data", "sources", "--data", str(panel), "--sources", str(doc)]
    result = run_cli([*args, "--check"], capsys)
    assert result.code == 1 and result.out == ""
    assert result.err == (
        f"error: {doc}: indicator table differs from {panel}: run `forecast data sources` to "
        "update\n"
    )
    result = run_cli(args, capsys)
    assert (result.code, result.err) == (0, "")
    assert result.out == f"wrote the indicator table of {doc} from {panel}\n"
    text = doc.read_text(encoding="utf-8")
    assert text.startswith(f"intro\n{TABLE_START}\n| key | pole |") and text.endswith(
        f"{TABLE_END}\nrest\n"
    )
    assert (
        "| `unga_agree_rus` | RUS | binomial | Y | UNGA | 6 | 2019–2020 | KAZ 2019–2020; " in text
    )
    result = run_cli([*args, "--check"], capsys)
    assert (result.code, result.err) == (0, "")
    assert result.out == f"{doc}: indicator table up to date with {panel}\n"


def test_sources_command_refuses_a_document_without_markers(small, capsys) -> None:
    panel, doc = small
    doc.write_text("no table here\n", encoding="utf-8")
    result = run_cli(["data", "sources", "--data", str(panel), "--sources", str(doc)], capsys)
    assert result.code == 1 and len(result.err.splitlines()) == 1
    assert result.err.startswith(f"error: {doc}: expected the markers")
    assert doc.read_text(encoding="utf-8") == "no table here\n"


def test_sources_command_on_the_bundled_files_changes_nothing(tmp_path, capsys) -> None:
    doc = tmp_path / "SOURCES.md"
    shutil.copyfile(DEFAULT_SOURCES, doc)
    result = run_cli(["data", "sources", "--sources", str(doc), "--check"], capsys)
    assert (result.code, result.err) == (0, ""), result
    assert doc.read_bytes() == DEFAULT_SOURCES.read_bytes()


# --- forecast data show --json: the last observed period per state and indicator ---------------


#: (state, indicator) -> (first, last) period in the bundled panel
LAST_OBSERVED = {
    ("KAZ", "remittances_gdp"): ("1995", "2024"),
    ("TJK", "trade_share_chn"): ("1993", "2020"),  # DOTS only: no national data
    ("KAZ", "trade_share_chn"): ("1994", "2023"),  # spliced after 2020
    ("UZB", "trade_share_eu"): ("1992", "2020"),  # no national EU aggregate
    ("KAZ", "unga_ideal_usa"): ("1992", "2024"),
    ("KAZ", "unga_agree_usa"): ("1992", "2020"),  # the one roll call of 14 January 2020
    ("TKM", "defense_pact_rus"): ("1992", "2018"),  # not extended past ATOP
    ("KGZ", "eu_exports"): ("2019Q1", "2024Q2"),  # complete quarters only
    ("UZB", "china_finance"): ("2002", "2021"),
}


def test_show_json_lists_the_last_observed_period(capsys) -> None:
    result = run_cli(["data", "show", "--json"], capsys)
    assert (result.code, result.err) == (0, "")
    records = {(r["state"], r["indicator"]): r for r in json.loads(result.out)}
    for key, (first, last) in LAST_OBSERVED.items():
        assert (records[key]["first"], records[key]["last"]) == (first, last), key
    # one record per series of the bundled panel, each ending at its own last period
    panel = read_panel(DEFAULT_PANEL)
    assert len(records) == panel.groupby(["state", "indicator"]).ngroups
    for (state, indicator), block in panel.groupby(["state", "indicator"]):
        # one indicator has one frequency, so its periods sort as text
        assert records[state, indicator]["last"] == max(block["period"])
