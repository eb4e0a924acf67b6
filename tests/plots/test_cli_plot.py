"""``forecast plot`` end to end on the bundled run."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from tests.data.panel_fixtures import run_cli


# about 20 figures as PNG and SVG: a minute or more on two busy cores
@pytest.mark.slow
def test_plot_writes_every_run_figure(bundled_run, tmp_path, capsys: pytest.CaptureFixture[str]):
    out = tmp_path / "figures"
    result = run_cli(["plot", str(bundled_run.path), "--out", str(out)], capsys)
    assert result.code == 0, result.err
    assert "NOT CONVERGED" in result.out
    names = {p.stem for p in out.glob("*.png")}
    states = bundled_run.manifest.model.states
    indicators = bundled_run.manifest.model.indicators
    expected = {
        "convergence_dynamics",
        "convergence_measurement",
        "forest",
        "alignment_fans",
        "data_coverage",
        *(f"indicators_{s}" for s in states),
        *(f"ppc_{k}" for k in indicators),
    }
    assert names == expected
    assert {p.stem for p in out.glob("*.svg")} == expected
    for png in out.glob("*.png"):
        assert png.read_bytes()[:4] == b"\x89PNG"
    ET.parse(out / "alignment_fans.svg")
    assert f"{len(expected)} figures in {out}" in result.out
    # nothing but the figures: no temporary files left behind, nothing written into the run
    assert len(list(out.iterdir())) == 2 * len(expected)
    assert not (bundled_run.path / "figures").exists()


def test_plot_of_a_missing_run_is_a_one_line_error(tmp_path, capsys: pytest.CaptureFixture[str]):
    result = run_cli(["plot", str(tmp_path / "nope"), "--runs", str(tmp_path)], capsys)
    assert result.code == 1
    assert result.err.startswith("error: ") and result.err.count("\n") == 1
