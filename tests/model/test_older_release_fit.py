"""A panel built from an older, shorter release of the raw data fits and forecasts (issue 15).

Users rebuild past vintages to audit an issued forecast: a copy of ``../shared/data`` cut
after 2017 builds a panel whose model path ends in 2017, which fits and forecasts like the
bundled one. (The build itself, and its agreement with the complete release, is checked in
``tests/data/test_older_release.py``.) The cut's structure is that of the backtest origin
2018 (the data public at the end of 2018 also end in 2017), so in a full test session the
compiled model is shared.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from forecast.data.build import build_panel
from forecast.data.panel import write_panel
from forecast.data.sources import LOADERS
from forecast.model.design import build_model_data
from forecast.model.fit import fit_alignment_model
from forecast.model.inference import FitSettings
from forecast.model.project import project
from tests.data.raw_cut import cut_release

CUT = 2017


@pytest.fixture(scope="module")
def cut_panel(raw_dir: Path, tmp_path_factory, codebook):
    from forecast.data.panel import read_panel

    raw = tmp_path_factory.mktemp("raw_cut")
    cut_release(raw_dir, raw, CUT)
    path = tmp_path_factory.mktemp("panel") / "panel.csv"
    write_panel(build_panel(raw, codebook, LOADERS), path, codebook)
    return read_panel(path, codebook)


def test_a_release_cut_in_2017_fits_and_forecasts(
    cut_panel, default_spec, codebook, compiled_models
):
    assert max(int(p[:4]) for p in cut_panel["period"]) >= CUT
    data = build_model_data(cut_panel, default_spec, codebook)
    assert data.steps[0] == "1992" and data.steps[-1] == str(CUT)
    assert data.indicators == default_spec.indicators
    settings = FitSettings(method="nuts", draws=40, tune=40, chains=2, seed=5, target_accept=0.95)
    fitted = fit_alignment_model(data, default_spec, settings, compiled=compiled_models)
    post = fitted.posterior["posterior"]
    assert post["alignment"].sizes["period"] == data.n_steps
    forecast = project(fitted.posterior, "2020", random_seed=5)
    assert forecast["alignment"]["period"].values[-1] == "2020"
    assert np.isfinite(forecast["alignment"].values).all()
