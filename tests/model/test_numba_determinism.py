"""Same seed, same draws, whether PyTensor's compilation cache is empty or full.

With numba's fastmath on, the code compiled on an empty cache differed from the code later
loaded from it, and so did the draws (see :func:`forecast.model.fit.ieee_numba`). Each run
here is a fresh process sharing one new cache directory: the first compiles everything, the
second loads it.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

SCRIPT = """
import hashlib
import numpy as np
import nutpie
import pymc as pm
from forecast.model.fit import ieee_numba

y = np.random.default_rng(0).normal(size=(43, 3))
with pm.Model(coords={"s": range(3), "t": range(43)}) as model:
    sd = pm.HalfNormal("sd", 1.0, dims="s")
    eps = pm.Normal("eps", 0.0, 1.0, dims=("t", "s"))
    theta = (eps * sd).cumsum(axis=0)
    pm.Normal("y", pm.LogNormal("lam", 0.0, 0.5) * theta, pm.HalfNormal("noise", 1.0), observed=y)
with ieee_numba():
    compiled = nutpie.compile_pymc_model(model)
tree = nutpie.sample(compiled, draws=100, tune=100, chains=1, seed=5, cores=1, progress_bar=False)
print(hashlib.sha256(tree["posterior"]["sd"].values.tobytes()).hexdigest())
"""


def _draws_hash(cache: Path) -> str:
    env = dict(os.environ, PYTENSOR_FLAGS=f"base_compiledir={cache}")
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True, check=True
    )
    return done.stdout.strip().splitlines()[-1]


def test_cold_and_warm_compilation_cache_give_the_same_draws(tmp_path: Path) -> None:
    cold = _draws_hash(tmp_path)
    assert any((tmp_path / "numba").rglob("*.nbi")), "the first run did not fill the cache"
    assert _draws_hash(tmp_path) == cold
