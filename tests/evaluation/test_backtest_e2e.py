"""A tiny real backtest of the bundled panel: one origin, horizons 0 to 2, very few draws.

The origin fits the data public at the end of 2018, whose latent path ends in 2017 (its own
structure: one compile). The numbers are meaningless at these sizes; the tests check the
mechanics: vintage cuts, the same cells for every model, the stacked forecast, reuse of the
compiled model, reproducibility, the forecast being ``forecast predict``'s, and (slow)
identical results on a two-worker Dask cluster.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from forecast.dims import HORIZON, MODEL, ORIGIN, PERIOD
from forecast.evaluation.backtest import (
    fit_origin,
    origin_forecast,
    run_backtest,
    run_origin,
    write_tables,
)
from forecast.evaluation.cells import CELL_COLUMNS
from forecast.evaluation.plan import BacktestSettings, make_plan
from forecast.evaluation.skill import coverage_table, skill_table

TINY = dict(draws=40, tune=40, chains=2, seed=3)


def _plan(codebook, origins, horizons):
    from forecast.data.panel import DEFAULT_PANEL, read_panel
    from forecast.model.spec import DEFAULT_MODEL, load_model_spec

    spec = load_model_spec(DEFAULT_MODEL, codebook)
    settings = BacktestSettings(origins=origins, horizons=horizons, **TINY)
    return make_plan(read_panel(DEFAULT_PANEL, codebook), spec, codebook, settings)


@pytest.fixture(scope="module")
def tiny(codebook, compiled_models):
    plan = _plan(codebook, (2018,), (0, 1, 2))
    done: list[int] = []
    result = run_backtest(plan, compiled=compiled_models, on_origin=done.append)
    return plan, result, done


def test_every_model_is_scored_on_the_same_cells(tiny):
    _, result, done = tiny
    scores = result.scores
    assert done == [2018]
    models = {"alignment", "persistence", "drift", "local_level", "stacked"}
    # the recalibrated stacked forecast is scored beside it (a variant, not kept)
    assert set(scores[MODEL]) == models | {"stacked:recalibration=pit", "stacked:spread=learned"}
    cells = {m: set(map(tuple, g[list(CELL_COLUMNS)].to_numpy())) for m, g in scores.groupby(MODEL)}
    assert len({frozenset(c) for c in cells.values()}) == 1
    assert sorted(scores[PERIOD].unique()) == ["2018", "2019", "2020"]
    assert set(scores[HORIZON]) == {0, 1, 2}
    assert scores["crps"].notna().all() and (scores["crps"] >= 0).all()
    assert scores["scale"].gt(0).all()
    # the first origin has nothing earlier to learn weights from
    assert set(result.weights["basis"]) == {"equal"}


def test_the_stacking_cells_reproduce_the_stacked_crps(tiny):
    """The written mixture statistics and the weights used give the stacked forecast's CRPS."""
    from forecast.evaluation.backtest import backtest_tables
    from forecast.evaluation.stacking import mixture_crps
    from forecast.model.stacked import COMPONENTS

    _, result, _ = tiny
    cells = backtest_tables(result)["stacking_cells"]
    assert {f"a_{c}" for c in COMPONENTS} <= set(cells.columns)
    # the only origin had no earlier cells: equal weights, as stored (rounded)
    assert set(result.weights["basis"]) == {"equal"}
    weights = np.tile(result.weights[list(COMPONENTS)].iloc[0].to_numpy(float), (len(cells), 1))
    stacked = result.scores[result.scores[MODEL] == "stacked"]
    merged = cells.merge(stacked[[*CELL_COLUMNS, "crps"]], on=list(CELL_COLUMNS), how="inner")
    assert len(merged) == len(cells) == len(stacked)
    np.testing.assert_allclose(mixture_crps(merged, weights), merged["crps"], rtol=1e-5)


def test_the_origin_fits_what_was_public_then(tiny):
    _, result, _ = tiny
    fits = result.fits.set_index(ORIGIN)
    # most sources publish a year's values in the next year: the path ends in 2017
    assert fits.loc[2018, "last_period"] == "2017"
    assert fits.loc[2018, "compile_seconds"] > 0
    assert set(fits["method"]) == {"nuts"}


def test_scores_are_reproducible_and_reuse_the_compiled_model(tiny, compiled_models):
    plan, result, _ = tiny
    again = run_origin(plan, 2018, compiled=compiled_models)
    assert again.fit["compile_seconds"] == 0
    # the stacked forecast and its recalibrated variant come from combining origins
    stacked = result.scores[MODEL].str.startswith("stacked")
    first = result.scores[(result.scores[ORIGIN] == 2018) & ~stacked]
    pd.testing.assert_frame_equal(again.scores, first.reset_index(drop=True))


def test_the_backtest_forecast_is_forecast_predicts(tiny, compiled_models, tmp_path):
    """The forecast scored is the one `forecast predict` makes of the same fit, stored as a run."""
    from forecast.model.diagnostics import diagnose
    from forecast.model.manifest import FileRecord
    from forecast.model.runs import save_run
    from tests.manifests import run_manifest

    plan, _, _ = tiny
    fitted = fit_origin(plan, 2018, compiled=compiled_models)
    scored = origin_forecast(plan, fitted)
    posterior = fitted.result.posterior
    manifest = run_manifest(
        "origin-2018",
        seed=fitted.settings.seed,
        spec=FileRecord("alignment.toml", plan.spec.sha256),
        spec_content=plan.spec.to_dict(),
        data=FileRecord("nowhere.csv", ""),
        diagnostics=diagnose(posterior, method="nuts", approximate=False),
    )
    run = save_run(tmp_path, posterior, manifest)
    predicted = run.forecast("2020", kind="model")
    assert predicted.attrs["forecast"] == "model"
    for var in ("alignment", "indicators"):
        np.testing.assert_array_equal(predicted[var].values, scored[var].values)


def test_skill_and_coverage_tables_and_files(tiny, tmp_path):
    _, result, _ = tiny
    skill = skill_table(result.scores)
    assert set(skill["baseline"]) == {"persistence", "drift", "local_level"}
    variants = {"stacked:recalibration=pit", "stacked:spread=learned"}
    assert set(skill[MODEL]) == {"alignment", "stacked"} | variants
    assert set(skill[HORIZON]) == {0, 1, 2}
    coverage = coverage_table(result.scores)
    assert {"covered_50", "covered_90"} <= set(coverage.columns)
    paths = write_tables(tmp_path, {"scores": result.scores, "fits": result.fits})
    back = pd.read_csv(paths["scores"], dtype={PERIOD: str})
    assert len(back) == len(result.scores)
    assert list(back.columns[:6]) == [ORIGIN, HORIZON, "state", "indicator", PERIOD, MODEL]


@pytest.mark.slow
def test_two_dask_workers_give_the_serial_results(tiny, tmp_path):
    """Each worker compiles its own model; the CSV is byte-identical to the serial one.

    Identical whatever the state of PyTensor's compilation cache, since the model compiles
    with IEEE arithmetic (:func:`forecast.model.fit.ieee_numba`). The serial run is the
    ``tiny`` fixture's.
    """
    from forecast.scaleout import dask_client

    plan, serial, _ = tiny
    with dask_client(workers=2) as client:
        parallel = run_backtest(plan, client=client)
    a = write_tables(tmp_path / "serial", {"scores": serial.scores})["scores"]
    b = write_tables(tmp_path / "dask", {"scores": parallel.scores})["scores"]
    assert a.read_bytes() == b.read_bytes()
    assert (parallel.fits["compile_seconds"] > 0).any()  # the workers compiled their own
