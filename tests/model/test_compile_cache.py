"""The compiled model does not depend on the data's dtypes (issue 14: a fresh machine's test run).

The failure: numba ``TypingError`` "Invalid use of type(CPUDispatcher(<function
fused_elemwise_fn ...>)) with parameters (..., array(int32, ...)) Known signatures: (...
uint8 ...)" while compiling the model, after a report and a test run had shared
``~/.pytensor``. ``numba_cache_race.py`` reproduces it with a two-line graph (a PyTensor
cache key shared by two signatures, and numba's cache index written by two processes at
once); the project's fix is that every data array enters the graph the same way, with one
dtype, whatever the data or the kind of fit.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from forecast.model.fit import compilable_model, compile_model
from forecast.model.graph import INDEX_DTYPE, REAL_DTYPE
from tests.model.panels import small_panel, small_spec

RACE = Path(__file__).with_name("numba_cache_race.py")

INDICATORS = ("trade_share_rus", "trade_share_chn", "trade_share_eu", "unga_agree_rus")


def _rows(states: tuple[str, ...], years: range, trials: int):
    rng = np.random.default_rng(4)
    for state in states:
        for year in years:
            for key in INDICATORS[:3]:
                yield state, key, str(year), float(rng.uniform(0.05, 0.5)), None
            k = int(rng.integers(0, trials))
            yield state, "unga_agree_rus", str(year), k / trials, trials


def _data(tmp_path: Path, codebook, states: tuple[str, ...], years: range, trials: int):
    from forecast.model.design import build_model_data

    tmp_path.mkdir(exist_ok=True)
    spec = small_spec(INDICATORS)
    panel = small_panel(tmp_path, _rows(states, years, trials), codebook)
    return build_model_data(panel, spec, codebook), spec


def _data_inputs(model) -> dict[str, tuple[str, bool]]:
    from pytensor.compile.sharedvalue import SharedVariable

    return {v.name: (v.type.dtype, isinstance(v, SharedVariable)) for v in model.data_vars}


def test_data_enter_every_graph_as_inputs_of_one_dtype(tmp_path, codebook):
    """Two panels whose indices need 8 and 16 bits give graphs with the same input types."""
    small = _data(tmp_path / "a", codebook, ("KAZ", "KGZ"), range(2010, 2016), 40)
    large = _data(tmp_path / "b", codebook, ("KAZ", "KGZ", "TJK", "UZB"), range(1950, 2020), 400)
    seen = []
    for data, spec in (small, large):
        inputs = _data_inputs(compilable_model(data, spec))
        assert all(shared for _, shared in inputs.values()), inputs
        assert {dtype for dtype, _ in inputs.values()} <= {
            np.dtype(INDEX_DTYPE).name,
            np.dtype(REAL_DTYPE).name,
        }
        seen.append(inputs)
    # the larger panel's theta index exceeds 255 (it would be uint16 as a constant)
    assert large[0].n_steps * 3 * 4 > 255
    common = set(seen[0]) & set(seen[1])
    assert common and all(seen[0][k] == seen[1][k] for k in common)


def test_compile_model_keeps_observations_as_data(tmp_path, codebook):
    """The compiled model reads its observations as inputs, so it serves other data."""
    data, spec = _data(tmp_path / "a", codebook, ("KAZ", "KGZ"), range(2010, 2016), 40)
    _model, compiled, _ = compile_model(data, spec)
    names = {v.name for v in compiled.shared_var_keys}
    assert {"gaussian_obs_y", "gaussian_obs_theta_index", "binomial_obs_trials"} <= names


def _run(role: str, variant: str, sync: Path, cache: Path) -> subprocess.Popen[str]:
    env = os.environ | {"PYTENSOR_FLAGS": f"base_compiledir={cache}"}
    return subprocess.Popen(
        [sys.executable, str(RACE), role, variant, str(sync)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _race(tmp_path: Path, first: str, second: str) -> subprocess.CompletedProcess[str]:
    cache, sync = tmp_path / "cache", tmp_path / "sync"
    sync.mkdir()
    racers = [_run("A", first, sync, cache), _run("B", second, sync, cache)]
    for proc in racers:
        _, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err[-2000:]
    env = os.environ | {"PYTENSOR_FLAGS": f"base_compiledir={cache}"}
    return subprocess.run(
        [sys.executable, str(RACE), "C", second, str(sync)],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.mark.parametrize(("first", "second"), [("const", "input"), ("input", "const")])
def test_two_signatures_of_one_key_break_a_shared_cache(tmp_path, first, second):
    """The upstream failure, in either order: the exact error of the fresh machine's run."""
    later = _race(tmp_path, first, second)
    assert later.returncode != 0
    assert "Invalid use of type(CPUDispatcher(<function fused_elemwise_fn" in later.stderr
    assert "Known signatures" in later.stderr


def test_one_signature_per_key_survives_the_same_race(tmp_path):
    """What the project's fix relies on: equal inputs make the same schedule harmless."""
    later = _race(tmp_path, "input", "input")
    assert later.returncode == 0, later.stderr[-2000:]
    assert later.stdout.split()[:2] == ["C", "input"]
