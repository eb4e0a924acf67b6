"""The codebook declares the states a panel may hold and each indicator's plausible values.

A broken codebook is a one-line :class:`~forecast.errors.SpecError` naming the file and key;
a state added to the codebook's list is accepted by the validator without any code change.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from forecast.data.codebook import DEFAULT_CODEBOOK, load_codebook
from forecast.errors import SpecError
from tests.data.panel_fixtures import csv_text, rows_with, run_cli

BUNDLED = DEFAULT_CODEBOOK.read_text(encoding="utf-8")
STATES_LINE = 'states = ["KAZ", "KGZ", "TJK", "TKM", "UZB"]'


def _codebook(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "codebook.toml"
    path.write_text(text, encoding="utf-8")
    return path


def _in_table(key: str, line: str) -> str:
    """The bundled codebook with ``line`` added at the top of indicator ``key``'s table."""
    assert f"[{key}]\n" in BUNDLED
    return BUNDLED.replace(f"[{key}]\n", f"[{key}]\n{line}\n", 1)


def test_bundled_codebook_declares_states_and_ranges() -> None:
    cb = load_codebook()
    assert cb.states == ("KAZ", "KGZ", "TJK", "TKM", "UZB")
    assert cb["remittances_gdp"].value_range() == (0.0, 1.0, False)
    assert cb["us_aid"].value_range() == (-1e5, 1e5, True)
    # defaults by kind where the codebook declares nothing
    assert cb["trade_share_chn"].value_range() == (0.0, 1.0, True)
    assert cb["unga_agree_rus"].max_n == 1000


BROKEN = [
    pytest.param(BUNDLED.replace(STATES_LINE, ""), "states", "missing required key", id="none"),
    pytest.param(BUNDLED.replace(STATES_LINE, "states = []"), "states", "no state", id="empty"),
    pytest.param(
        BUNDLED.replace(STATES_LINE, 'states = ["KAZ", "XXX"]'),
        "states[1]",
        "not an ISO 3166-1 alpha-3",
        id="not-iso",
    ),
    pytest.param(
        BUNDLED.replace(STATES_LINE, 'states = ["KAZ", "KAZ"]'), "states", "twice", id="twice"
    ),
    pytest.param(
        BUNDLED.replace(STATES_LINE, 'states = "KAZ"'), "states", "expected list", id="not-list"
    ),
    pytest.param(
        _in_table("trade_share_chn", "range = [0, 2]"),
        "trade_share_chn.range",
        "within [0, 1]",
        id="share-beyond-1",
    ),
    pytest.param(
        _in_table("arms_share_rus", "range = [0.5, 0.1]"),
        "arms_share_rus.range",
        "low < high",
        id="reversed",
    ),
    pytest.param(
        _in_table("arms_share_rus", "range = [0, inf]"),
        "arms_share_rus.range",
        "two finite",
        id="infinite",
    ),
    pytest.param(
        _in_table("arms_share_rus", "range = [0]"), "arms_share_rus.range", "[low, high]", id="one"
    ),
    pytest.param(
        BUNDLED.replace("range = [0, 1e6]", "range = [-1, 1e6]", 1),
        "china_finance.range",
        "start at 0",
        id="neg",
    ),
    pytest.param(
        _in_table("trade_share_usa", "max_n = 10"),
        "trade_share_usa.max_n",
        "binomial only",
        id="max_n-not-binomial",
    ),
    pytest.param(
        _in_table("unga_agree_usa", "max_n = 0").replace("max_n = 1000\n", ""),
        "unga_agree_usa.max_n",
        "positive integer",
        id="max_n-zero",
    ),
    pytest.param(
        _in_table("eu_exports", "offset = nan"), "eu_exports.offset", "offset must", id="offset-nan"
    ),
]


@pytest.mark.parametrize(("text", "key", "message"), BROKEN)
def test_broken_codebook_names_file_and_key(
    tmp_path: Path, text: str, key: str, message: str
) -> None:
    path = _codebook(tmp_path, text)
    with pytest.raises(SpecError) as err:
        load_codebook(path)
    assert str(err.value).startswith(f"{path}, key {key}: "), str(err.value)
    assert message in str(err.value)


def test_a_state_added_to_the_codebook_validates(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    panel = tmp_path / "panel.csv"
    panel.write_text(csv_text(rows_with(5, "state", "AFG")), encoding="utf-8")
    refused = run_cli(["data", "validate", str(panel)], capsys)
    assert refused.code == 1 and "row 5, column state: unknown state 'AFG'" in refused.err
    extended = _codebook(tmp_path, BUNDLED.replace('"UZB"]', '"UZB", "AFG"]'))
    accepted = run_cli(["data", "validate", str(panel), "--codebook", str(extended)], capsys)
    assert (accepted.code, accepted.err) == (0, ""), accepted
