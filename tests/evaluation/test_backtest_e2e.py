"""A tiny real backtest of the bundled panel: 2 origins, horizons 1 and 2, very few draws.

Its latent path (1992-2020) has the structure of the session's bundled fit, so every origin
reuses the session's compiled model. The numbers are meaningless at these sizes; the test
checks the mechanics: vintage cuts, the same cells for every model, reuse of the compiled
model, reproducibility, and (slow) identical results on a two-worker Dask cluster.
"""

from __future__ import annotations

import pandas as pd
import pytest

from forecast.dims import HORIZON, MODEL, ORIGIN, PERIOD
from forecast.evaluation.backtest import run_backtest, run_origin, write_tables
from forecast.evaluation.cells import CELL_COLUMNS
from forecast.evaluation.plan import BacktestSettings, make_plan
from forecast.evaluation.skill import coverage_table, crps_skill

TINY = dict(draws=40, tune=40, chains=2, seed=3)


def _plan(codebook, origins, horizons):
    from forecast.data.panel import DEFAULT_PANEL, read_panel
    from forecast.model.spec import DEFAULT_MODEL, load_model_spec

    spec = load_model_spec(DEFAULT_MODEL, codebook)
    settings = BacktestSettings(origins=origins, horizons=horizons, **TINY)
    return make_plan(read_panel(DEFAULT_PANEL, codebook), spec, codebook, settings)


@pytest.fixture(scope="module")
def tiny(codebook, compiled_models, bundled_fit):
    # bundled_fit first: it compiles the model every origin below reuses
    plan = _plan(codebook, (2017, 2018), (1, 2))
    done: list[int] = []
    result = run_backtest(plan, compiled=compiled_models, on_origin=done.append)
    return plan, result, done


def test_every_model_is_scored_on_the_same_cells(tiny):
    _, result, done = tiny
    scores = result.scores
    assert done == [2017, 2018]
    assert set(scores[MODEL]) == {"alignment", "persistence", "drift", "local_level"}
    cells = {m: set(map(tuple, g[list(CELL_COLUMNS)].to_numpy())) for m, g in scores.groupby(MODEL)}
    assert len({frozenset(c) for c in cells.values()}) == 1
    assert sorted(scores.groupby(ORIGIN)[PERIOD].unique().map(sorted).sum()) == sorted(
        ["2018", "2019", "2019", "2020"]
    )
    assert set(scores[HORIZON]) == {1, 2}
    assert scores["crps"].notna().all() and (scores["crps"] >= 0).all()
    assert scores["scale"].gt(0).all()


def test_origins_reuse_the_compiled_model_and_see_only_public_data(tiny):
    _, result, _ = tiny
    fits = result.fits.set_index(ORIGIN)
    assert (fits["compile_seconds"] == 0).all()
    # a year more of data at the later origin
    assert fits.loc[2017, "observations"] < fits.loc[2018, "observations"]
    assert set(fits["method"]) == {"nuts"}


def test_scores_are_reproducible_for_the_same_seed(tiny, compiled_models):
    plan, result, _ = tiny
    again = run_origin(plan, 2018, compiled=compiled_models).scores
    first = result.scores[result.scores[ORIGIN] == 2018].reset_index(drop=True)
    pd.testing.assert_frame_equal(again, first)


def test_skill_and_coverage_tables_and_files(tiny, tmp_path):
    _, result, _ = tiny
    skill = crps_skill(result.scores)
    assert set(skill["baseline"]) == {"persistence", "drift", "local_level"}
    assert set(skill[HORIZON]) == {1, 2}
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
