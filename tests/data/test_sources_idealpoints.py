"""UNGA ideal points (Bailey, Strezhnev & Voeten, July 2025 release): distances to the powers.

Spot values are worked out by hand from lines of the raw CSV copied into this file (columns
``idealpointfp``, ``q5fp`` and ``q95fp``), so a test agrees with the loader only when both read
the file the same way. Damaged copies of the file live in ``tmp_path``.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from forecast.data.sources import idealpoints
from forecast.data.sources.dots import load_trade_shares
from forecast.data.sources.idealpoints import (
    IDEAL_POINTS_FILE,
    OPTIONAL_FOLDER,
    load_unga_ideal_points,
)
from forecast.errors import DataError
from tests.data.panel_fixtures import run_cli
from tests.data.source_checks import copy_raw, read_rows, rewrite

#: z-score of a standard normal's 95 % quantile: se = (q95 - q5) / (2 z)
Z95 = 1.6448536269514722
INDICATORS = ("unga_ideal_rus", "unga_ideal_chn", "unga_ideal_usa")

#: (idealpointfp, q5fp, q95fp) copied from the raw file's lines for these country-years
POINTS = {
    ("KAZ", 2024): (-0.5057548, -0.7044995, -0.3153178),
    ("RUS", 2024): (-0.5984852, -0.7426238, -0.4562058),
    ("TKM", 2010): (-0.7322566, -1.08422, -0.4137046),
    ("CHN", 2010): (-0.8317622, -1.095793, -0.5727872),
    ("UZB", 1999): (0.7206187, 0.5473421, 0.8913318),
    ("USA", 1999): (2.589534, 2.413007, 2.776592),
    ("KGZ", 2020): (-0.7012675, -0.9691421, -0.4388336),
    ("RUS", 2020): (0.02594595, -0.1190683, 0.1666346),
}


@pytest.fixture(scope="module")
def ideal(raw_dir: Path) -> pd.DataFrame:
    return load_unga_ideal_points(raw_dir)


def _row(rows: pd.DataFrame, state: str, indicator: str, year: int) -> pd.Series:
    hit = rows[(rows["state"] == state) & (rows["indicator"] == indicator)]
    hit = hit[hit["period"] == str(year)]
    assert len(hit) == 1, (state, indicator, year, len(hit))
    return hit.iloc[0]


@pytest.mark.parametrize(
    ("state", "power", "indicator", "year", "distance"),
    [
        # |-0.5057548 - (-0.5984852)|
        ("KAZ", "RUS", "unga_ideal_rus", 2024, 0.0927304),
        # |-0.7322566 - (-0.8317622)|
        ("TKM", "CHN", "unga_ideal_chn", 2010, 0.0995056),
        # |0.7206187 - 2.589534|
        ("UZB", "USA", "unga_ideal_usa", 1999, 1.8689153),
        # |-0.7012675 - 0.02594595|
        ("KGZ", "RUS", "unga_ideal_rus", 2020, 0.72721345),
    ],
)
def test_spot_values_by_hand(ideal, state, power, indicator, year, distance) -> None:
    row = _row(ideal, state, indicator, year)
    assert row["value"] == pytest.approx(distance, abs=1e-7)
    # se of each estimate from its 5 % and 95 % quantiles; the two are independent
    (_, lo_s, hi_s), (_, lo_p, hi_p) = POINTS[state, year], POINTS[power, year]
    se = math.sqrt(((hi_s - lo_s) / (2 * Z95)) ** 2 + ((hi_p - lo_p) / (2 * Z95)) ** 2)
    assert row["se"] == pytest.approx(se, rel=1e-6)
    assert row["source"] == "UNGA ideal points" and math.isnan(row["n"])


def test_kaz_2024_se_worked_out(ideal) -> None:
    # the formula above once in numbers: KAZ (-0.3153178 + 0.7044995) / 3.2897073 = 0.1183028,
    # RUS (-0.4562058 + 0.7426238) / 3.2897073 = 0.0870649; root sum of squares 0.1468872
    assert _row(ideal, "KAZ", "unga_ideal_rus", 2024)["se"] == pytest.approx(0.1468872, abs=1e-7)


@pytest.mark.parametrize(
    ("state", "year"),
    [("KGZ", 1999), ("KGZ", 2001), ("UZB", 2001), ("TJK", 2001), ("UZB", 1992), ("UZB", 1993)],
)
def test_years_without_a_final_passage_estimate_have_no_row(ideal, state, year) -> None:
    # KGZ 1999/2001 and UZB 2001 have no row; TJK 2001 has an all-votes estimate only
    assert ideal[(ideal["state"] == state) & (ideal["period"] == str(year))].empty


def test_coverage_and_shape(ideal, codebook) -> None:
    assert set(ideal["indicator"]) == set(INDICATORS)
    assert not ideal.duplicated(["state", "indicator", "period"]).any()
    assert (ideal["value"] >= 0).all() and np.isfinite(ideal["value"]).all()
    assert (ideal["se"] > 0).all() and np.isfinite(ideal["se"]).all()
    assert ideal["n"].isna().all()
    for key in INDICATORS:
        assert codebook[key].kind == "continuous" and codebook[key].sign == -1
    span = ideal.assign(year=ideal["period"].astype(int)).groupby("state")["year"]
    assert span.min().to_dict() == {"KAZ": 1992, "KGZ": 1992, "TJK": 1992, "TKM": 1992, "UZB": 1994}
    assert (span.max() == 2024).all()
    # every state-year with an estimate has all three distances: 33 years each but
    # KGZ (31: no 1999, 2001), TJK (32: no 2001) and UZB (30: 1994-2024 without 2001)
    counts = ideal.groupby(["state", "indicator"]).size().unstack()
    assert counts.nunique(axis=1).eq(1).all()
    assert counts["unga_ideal_rus"].to_dict() == {
        "KAZ": 33,
        "KGZ": 31,
        "TJK": 32,
        "TKM": 33,
        "UZB": 30,
    }


def test_final_passage_distances_track_the_all_votes_ones(raw_dir: Path) -> None:
    # why one series (final passage, the only one reaching 2024) is used throughout: where both
    # exist (1992-2023) its distances to China and the US follow the all-votes series closely;
    # distances to Russia, which sits near the five states, agree less (their size is close
    # to the estimates' own uncertainty)
    raw = pd.read_csv(raw_dir / IDEAL_POINTS_FILE)
    corr = {}
    for power in ("RUS", "CHN", "USA"):
        theirs = raw[raw["iso3c"] == power].set_index("year")
        for state in idealpoints.STATES:
            mine = raw[raw["iso3c"] == state].set_index("year")
            both = pd.DataFrame(
                {
                    series: (mine[f"idealpoint{series}"] - theirs[f"idealpoint{series}"]).abs()
                    for series in ("fp", "all")
                }
            ).dropna()
            both = both[both.index.to_series().between(1992, 2023)]
            corr[power, state] = both["fp"].corr(both["all"])
    assert min(corr[p, s] for p in ("CHN", "USA") for s in idealpoints.STATES) > 0.85
    assert min(corr["RUS", s] for s in idealpoints.STATES) > 0.2


# --- an older release without the folder ----------------------------------------------------


def test_older_release_without_the_folder_gives_no_rows(tmp_path: Path) -> None:
    rows = load_unga_ideal_points(tmp_path)
    assert rows.empty
    assert list(rows.columns) == ["state", "indicator", "period", "value", "n", "source", "se"]


def test_build_notes_the_absent_folder(
    raw_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch
) -> None:
    raw = tmp_path / "raw"
    raw.mkdir()
    for entry in raw_dir.iterdir():
        if entry.name != OPTIONAL_FOLDER:
            (raw / entry.name).symlink_to(entry, target_is_directory=entry.is_dir())
    # two loaders are enough: the note comes from the command, the rows from the loaders
    monkeypatch.setattr("forecast.cli.data.LOADERS", (load_trade_shares, load_unga_ideal_points))
    out = tmp_path / "panel.csv"
    result = run_cli(["data", "build", "--raw", str(raw), "--out", str(out)], capsys)
    assert (result.code, result.err) == (0, ""), result
    note, wrote = result.out.splitlines()
    assert note == (
        f"note: {raw} has no {OPTIONAL_FOLDER}/ (an older release): not built: unga_ideal_rus, "
        "unga_ideal_chn and unga_ideal_usa (the folder first appeared in the July 2025 release)"
    )
    assert wrote.startswith(f"wrote {out}: ")
    assert not pd.read_csv(out)["indicator"].str.startswith("unga_ideal").any()


# --- bad input: one line naming file, row and column -------------------------------------------


@pytest.fixture
def damaged(raw_dir: Path, tmp_path: Path):
    """Write a damaged copy of the file; return (raw dir, file, rows as read)."""
    path = copy_raw(raw_dir, tmp_path, IDEAL_POINTS_FILE)
    path.chmod(0o644)
    return tmp_path, path, read_rows(path)


def _index(rows: list[dict[str, str]], iso3c: str, year: str) -> int:
    return next(i for i, r in enumerate(rows) if r["iso3c"] == iso3c and r["year"] == year)


def _refused(root: Path, path: Path, row: int, column: str, message: str) -> None:
    with pytest.raises(DataError) as err:
        load_unga_ideal_points(root)
    text = str(err.value)
    assert "\n" not in text
    assert text.startswith(f"{path}, row {row}, column {column}: "), text
    assert message in text, text
    assert (err.value.row, err.value.column) == (row, column)


def test_missing_column(damaged) -> None:
    root, path, rows = damaged
    rewrite(path, rows, drop="q95fp")
    _refused(root, path, 1, "q95fp", "changed column layout")


@pytest.mark.parametrize(
    ("year", "message"),
    [("2101", "out of range"), ("1945", "out of range"), ("20x4", "not a number")],
)
def test_bad_year(damaged, year, message) -> None:
    root, path, rows = damaged
    i = _index(rows, "KAZ", "2024")
    rows[i]["year"] = year
    rewrite(path, rows)
    _refused(root, path, i + 2, "year", message)


def test_non_numeric_estimate(damaged) -> None:
    root, path, rows = damaged
    i = _index(rows, "TJK", "2010")
    # a decimal comma, as a spreadsheet in another locale writes it (pandas would read a text
    # marker such as "n/a" or "NA" as an empty cell: see read_raw_csv)
    rows[i]["idealpointfp"] = "-0,31"
    rewrite(path, rows)
    _refused(root, path, i + 2, "idealpointfp", "'-0,31' is not a number: expected an ideal point")


def test_quantiles_not_bracketing_the_estimate(damaged) -> None:
    root, path, rows = damaged
    i = _index(rows, "UZB", "2015")
    rows[i]["q5fp"], rows[i]["q95fp"] = rows[i]["q95fp"], rows[i]["q5fp"]
    rewrite(path, rows)
    _refused(root, path, i + 2, "idealpointfp", "do not bracket the estimate")


def test_empty_quantile_of_an_estimate(damaged) -> None:
    root, path, rows = damaged
    i = _index(rows, "RUS", "2005")
    rows[i]["q5fp"] = ""
    rewrite(path, rows)
    _refused(root, path, i + 2, "q5fp", "empty cell")


def test_country_year_listed_twice(damaged) -> None:
    root, path, rows = damaged
    i = _index(rows, "CHN", "2016")
    rewrite(path, [*rows, dict(rows[i])])
    # the second copy is reported: the appended last row
    _refused(root, path, len(rows) + 2, "year", "(CHN, 2016) listed twice")


def test_folder_present_but_file_missing(raw_dir: Path, tmp_path: Path) -> None:
    (tmp_path / OPTIONAL_FOLDER).mkdir()
    with pytest.raises(DataError, match="missing raw file") as err:
        load_unga_ideal_points(tmp_path)
    assert Path(IDEAL_POINTS_FILE).name in str(err.value)
