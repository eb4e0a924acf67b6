"""Saved files are valid PNG and SVG; the plot modules never import the model stack."""

from __future__ import annotations

import ast
import importlib
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

from matplotlib.figure import Figure

import forecast.plots
from forecast.plots.style import save_figure

PLOTS_DIR = Path(forecast.plots.__file__).parent


def _line_figure() -> Figure:
    fig = Figure(figsize=(3, 2))
    fig.subplots().plot([0, 1, 2], [1, 0, 1])
    return fig


def test_save_figure_writes_valid_png_and_svg(tmp_path):
    png, svg = save_figure(_line_figure(), tmp_path / "sub" / "line")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    root = ET.parse(svg).getroot()
    assert root.tag.endswith("svg")
    # nothing but the two files: the temporary files were renamed into place
    assert sorted(p.name for p in (tmp_path / "sub").iterdir()) == ["line.png", "line.svg"]


def test_saved_svg_is_reproducible(tmp_path):
    _, first = save_figure(_line_figure(), tmp_path / "a")
    _, second = save_figure(_line_figure(), tmp_path / "b")
    assert first.read_bytes() == second.read_bytes()


def test_importing_the_plots_loads_neither_the_model_nor_matplotlib():
    code = (
        "import sys, pkgutil, importlib, forecast.plots as p\n"
        "for m in pkgutil.iter_modules(p.__path__):\n"
        "    importlib.import_module('forecast.plots.' + m.name)\n"
        "print(sorted(n for n in ('pymc', 'pytensor', 'nutpie', 'matplotlib', 'arviz_plots')"
        " if n in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_plot_modules_import_no_model_code():
    banned = ("pymc", "pytensor", "nutpie", "forecast.model")
    for path in PLOTS_DIR.glob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            else:
                continue
            for name in names:
                assert not name.startswith(banned), f"{path.name} imports {name}"


def test_run_figures_names_every_figure(posterior, forecast, panel, codebook):
    from forecast.plots.run_figures import run_figures

    posterior["posterior"].attrs["run_id"] = "test-run"
    figures = list(run_figures(posterior, forecast, panel, codebook=codebook))
    names = [name for name, _ in figures]
    assert names == [
        "convergence_dynamics",
        "convergence_measurement",
        "forest",
        "alignment_fans",
        "ppc_trade_share_rus",
        "ppc_unga_agree_chn",
        "ppc_us_aid",
        "indicators_KAZ",
        "indicators_UZB",
        "data_coverage",
    ]
    assert all(isinstance(fig, Figure) for _, fig in figures)


def test_cli_uses_the_stored_forecast_unless_a_longer_horizon_is_asked(
    forecast, tmp_path, monkeypatch
):
    from forecast.model.forecasting import forecast_fingerprint
    from forecast.model.runs import Run
    from tests.manifests import run_manifest

    # the package's ``plot`` attribute is the command, which hides the module of that name
    cli_plot = importlib.import_module("forecast.cli.plot")

    run = Run(tmp_path, run_manifest("test-run"))
    stored = forecast.copy()
    stored.attrs.update(
        run_id="test-run",
        spec_sha256=run.manifest.spec.sha256,
        random_seed=run.manifest.seed,
        forecast_asked="stacked",
        **forecast_fingerprint(),
    )
    stored.to_netcdf(tmp_path / "forecast.nc", engine="h5netcdf")
    made = []
    # Run.forecast imports the projection when it projects, so patch it there (the run has
    # no posterior to project)
    monkeypatch.setattr(Run, "posterior", lambda self: None)
    monkeypatch.setattr(
        "forecast.model.forecasting.project_run",
        lambda manifest, posterior, until, **kwargs: made.append(until) or forecast,
    )
    assert cli_plot._forecast(run, None).sizes["period"] == forecast.sizes["period"]
    assert cli_plot._forecast(run, forecast.attrs["until"]).attrs["last_fitted"] == "2020"
    assert made == []
    cli_plot._forecast(run, "2035")
    assert made == ["2035"]
