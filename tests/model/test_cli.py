"""``forecast fit`` and ``forecast predict`` end to end, in this process, in temporary run dirs.

The NUTS fits go through the session's compiled model (the command would otherwise compile
its own); the approximate methods run on a two-state, four-indicator model and are slow
because Pathfinder and ADVI compile their own PyTensor functions (see the marks).
"""

from __future__ import annotations

import functools
import hashlib
import json
from pathlib import Path

import pandas as pd
import pytest
import xarray as xr

from forecast.data.panel import DEFAULT_PANEL, panel_sha256
from forecast.defaults import MAX_SEED
from forecast.dims import INDICATOR, PERIOD, POLE, POLES, STATE
from forecast.model.summaries import ALIGNMENT_COLUMNS, INDICATOR_COLUMNS
from tests.data.panel_fixtures import Result, run_cli

YEARS = [str(y) for y in range(1992, 2031)]
SMALL_STATES = ("KAZ", "KGZ")
SMALL_INDICATORS = ("trade_share_rus", "trade_share_chn", "trade_share_eu", "unga_agree_rus")
SMALL_SPEC = f"""
[model]
name = "small"
[indicators]
use = {list(SMALL_INDICATORS)!r}
[indicators.reference]
RUS = "trade_share_rus"
CHN = "trade_share_chn"
WEST = "trade_share_eu"
"""


@pytest.fixture
def cached_compile(monkeypatch: pytest.MonkeyPatch, compiled_models) -> None:
    """Let ``forecast fit`` reuse the session's compiled model."""
    import forecast.model.workflow as workflow

    fit_panel = functools.partial(workflow.fit_panel, compiled=compiled_models)
    monkeypatch.setattr(workflow, "fit_panel", fit_panel)


def fit_lines(result: Result) -> dict[str, str]:
    """The printed diagnostics, by their first words."""
    lines = result.out.splitlines()
    keys = ("max R-hat", "min bulk ESS", "divergences", "NOT CONVERGED", "method")
    return {k: next((line for line in lines if line.startswith(k)), "") for k in keys}


def test_fit_writes_a_run_and_strict_refuses_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], cached_compile, default_spec
) -> None:
    runs = tmp_path / "runs"
    args = ["fit", "--draws", "10", "--tune", "20", "--chains", "2", "--seed", "5"]
    result = run_cli([*args, "--runs", str(runs), "--no-progress", "--strict"], capsys)
    # --strict: the run is kept, but the command fails
    assert result.code == 1
    assert result.errors == "error: --strict: the run did not pass the convergence gates\n"
    printed = fit_lines(result)
    assert printed["max R-hat"].startswith("max R-hat: ")
    assert "min tail ESS" in printed["min bulk ESS"]
    assert printed["divergences"].startswith("divergences: ")
    assert "min bulk ESS" in printed["NOT CONVERGED"]
    assert "APPROXIMATE" not in result.out

    # the run directory, complete, and runs/latest pointing at it
    [run] = [p for p in runs.iterdir() if p.name != "latest"]
    assert (runs / "latest").is_symlink() and (runs / "latest").resolve() == run.resolve()
    assert sorted(p.name for p in run.iterdir()) == ["manifest.json", "posterior.nc", "summary.csv"]
    manifest = json.loads((run / "manifest.json").read_text())
    assert manifest["run_id"] == run.name
    assert manifest["data"]["sha256"] == panel_sha256(DEFAULT_PANEL)
    assert manifest["spec"]["sha256"] == default_spec.sha256
    assert manifest["seed"] == 5
    # what a later command checks the posterior against before reading it
    posterior_bytes = (run / "posterior.nc").read_bytes()
    assert manifest["posterior_sha256"] == hashlib.sha256(posterior_bytes).hexdigest()
    assert (
        manifest["sampler"] | {"draws": 10, "tune": 20, "chains": 2, "method": "nuts"}
        == (manifest["sampler"])
    )
    assert {"python", "pymc", "nutpie", "arviz", "numpy"} <= set(manifest["packages"])
    assert manifest["converged"] is False and manifest["approximate"] is False
    diagnostics = manifest["diagnostics"]
    assert diagnostics["converged"] is False and diagnostics["failures"]
    assert {"max_rhat", "min_ess_bulk", "min_ess_tail", "divergences"} <= set(diagnostics)

    tree = xr.open_datatree(run / "posterior.nc", engine="h5netcdf")
    assert {"posterior", "sample_stats", "log_likelihood", "observed_data", "constant_data"} <= (
        set(tree.children)
    )
    loglik = tree["log_likelihood"].to_dataset()
    # the default spec's likelihoods: Gaussian only since the UN ideal points replaced the votes
    assert set(loglik.data_vars) == set(tree["observed_data"].to_dataset().data_vars)
    for name in loglik.data_vars:
        assert loglik[name].sizes["chain"] == 2 and loglik[name].sizes["draw"] == 10
        assert loglik[name].shape[2] == tree["observed_data"][name].size
    tree.close()
    summary = pd.read_csv(run / "summary.csv", index_col=0)
    assert {"mean", "sd", "ess_bulk", "ess_tail", "r_hat"} <= set(summary.columns)
    assert "alignment[KAZ, RUS, 1992]" in summary.index

    # predict the latest run
    result = run_cli(["predict", "--runs", str(runs)], capsys)
    assert (result.code, result.errors) == (0, "")
    assert result.out.startswith(f"NOT CONVERGED: run {run.name}")
    forecast = xr.open_dataset(run / "forecast.nc", engine="h5netcdf")
    assert forecast.attrs["run_id"] == run.name
    assert (forecast.attrs["converged"], forecast.attrs["approximate"]) == (0, 0)
    assert [str(p) for p in forecast[PERIOD].values] == YEARS
    forecast.close()
    check_tables(run, default_spec.indicators)


def check_tables(
    out: Path,
    indicators: tuple[str, ...],
    states: tuple[str, ...] = ("KAZ", "KGZ", "TJK", "TKM", "UZB"),
    years: list[str] = YEARS,
) -> None:
    """alignment.csv and indicators.csv: exact columns, every cell through 2030."""
    alignment = pd.read_csv(out / "alignment.csv", dtype={PERIOD: str})
    assert tuple(alignment.columns) == ALIGNMENT_COLUMNS
    assert ALIGNMENT_COLUMNS == (STATE, POLE, PERIOD, "mean", "q05", "q25", "q50", "q75", "q95")
    keys = set(zip(alignment[STATE], alignment[POLE], alignment[PERIOD], strict=True))
    assert keys == {(s, p, y) for s in states for p in POLES for y in years}
    assert len(alignment) == len(keys)
    table = pd.read_csv(out / "indicators.csv", dtype={PERIOD: str})
    assert tuple(table.columns) == INDICATOR_COLUMNS
    assert INDICATOR_COLUMNS == (
        STATE,
        INDICATOR,
        PERIOD,
        "mean",
        "q05",
        "q25",
        "q50",
        "q75",
        "q95",
    )
    keys = set(zip(table[STATE], table[INDICATOR], table[PERIOD], strict=True))
    assert keys == {(s, k, y) for s in states for k in indicators for y in years}
    for frame in (alignment, table):
        q = frame[["q05", "q25", "q50", "q75", "q95"]].to_numpy()
        assert (q[:, 1:] >= q[:, :-1]).all()
    # natural scale: shares in [0, 1]
    shares = table[table[INDICATOR].str.startswith(("trade_share", "unga_agree", "arms_share"))]
    assert shares[["q05", "q95"]].to_numpy().min() >= 0
    assert shares[["q05", "q95"]].to_numpy().max() <= 1


def test_predict_to_another_directory_and_horizon(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], bundled_run
) -> None:
    out = tmp_path / "out"
    before = sorted(p.name for p in bundled_run.path.iterdir())
    # the largest seed a command accepts goes through to the stored forecast's attributes
    args = ["predict", str(bundled_run.path), "--until", "2027", "--out", str(out)]
    result = run_cli([*args, "--seed", str(MAX_SEED)], capsys)
    assert result.code == 0, result
    assert sorted(p.name for p in bundled_run.path.iterdir()) == before
    assert sorted(p.name for p in out.iterdir()) == [
        "alignment.csv",
        "forecast.nc",
        "indicators.csv",
    ]
    alignment = pd.read_csv(out / "alignment.csv", dtype={PERIOD: str})
    assert alignment[PERIOD].max() == "2027"
    with xr.open_dataset(out / "forecast.nc", engine="h5netcdf") as stored:
        assert int(stored.attrs["random_seed"]) == MAX_SEED


def test_predict_before_the_data_end_is_an_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], bundled_run
) -> None:
    result = run_cli(
        ["predict", str(bundled_run.path), "--until", "2010", "--out", str(tmp_path)], capsys
    )
    assert result.code == 1
    assert result.errors == "error: --until 2010 is before the last fitted period 2024\n"
    assert list(tmp_path.iterdir()) == []


def test_predict_without_a_run(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    result = run_cli(["predict", "--runs", str(tmp_path / "runs")], capsys)
    assert result.code == 1
    assert "no run yet" in result.err and "Traceback" not in result.err


@pytest.fixture(scope="module")
def small_inputs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A two-state panel 2005-2014 of four indicators, and a spec that uses them."""
    root = tmp_path_factory.mktemp("small")
    panel = pd.read_csv(DEFAULT_PANEL, dtype=str, keep_default_na=False)
    keep = (
        panel[STATE].isin(SMALL_STATES)
        & panel[INDICATOR].isin(SMALL_INDICATORS)
        & panel[PERIOD].isin([str(y) for y in range(2005, 2015)])
    )
    panel[keep].to_csv(root / "panel.csv", index=False, lineterminator="\n")
    (root / "small.toml").write_text(SMALL_SPEC, encoding="utf-8")
    return root / "panel.csv", root / "small.toml"


# Pathfinder and ADVI compile several PyTensor functions of their own (no reuse is possible
# through the nutpie cache), which costs one to two minutes even for a small model.
@pytest.mark.slow
@pytest.mark.parametrize("method", ["pathfinder", "advi"])
def test_approximate_methods_work_and_are_labelled(
    method: str, small_inputs, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    panel, spec = small_inputs
    runs = tmp_path / "runs"
    args = ["fit", "--model", str(spec), "--data", str(panel), "--method", method]
    result = run_cli(
        [*args, "--draws", "50", "--chains", "2", "--runs", str(runs), "--no-progress"], capsys
    )
    assert (result.code, result.errors) == (0, "")
    assert f"{method} (APPROXIMATE)" in result.out.splitlines()[0]
    assert fit_lines(result)["method"].startswith(f"method: {method} (APPROXIMATE)")
    assert f"NOT CONVERGED: {method} is an approximate method" in result.out
    run = (runs / "latest").resolve()
    manifest = json.loads((run / "manifest.json").read_text())
    assert (manifest["method"], manifest["approximate"], manifest["converged"]) == (
        method,
        True,
        False,
    )
    result = run_cli(["predict", "--runs", str(runs)], capsys)
    assert result.code == 0
    assert "APPROXIMATE" in result.out
    forecast = xr.open_dataset(run / "forecast.nc", engine="h5netcdf")
    assert (forecast.attrs["approximate"], forecast.attrs["inference_method"]) == (1, method)
    assert forecast.sizes["chain"] * forecast.sizes["draw"] == 100
    forecast.close()
    check_tables(run, SMALL_INDICATORS, SMALL_STATES, [str(y) for y in range(2005, 2031)])
