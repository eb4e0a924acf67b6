"""Short fit of the full panel under one carry: the UN family's persistence and noise.

Usage (from the repository root; with ``se_probe.patch`` applied and ``FORECAST_SE_SCALE`` or
``FORECAST_SE_NUGGET=learned`` set, it prints the probe's parameter too)::

    python benchmarks/results/backtest_2026-12-08_kalman/short_fit.py kalman
"""

import sys
from dataclasses import replace

import numpy as np

from forecast.data.codebook import load_codebook
from forecast.data.panel import DEFAULT_PANEL, read_panel
from forecast.model.design import build_model_data
from forecast.model.fit import fit_alignment_model
from forecast.model.inference import FitSettings
from forecast.model.spec import DEFAULT_MODEL, load_model_spec
from forecast.model.trees import group

codebook = load_codebook()
spec = replace(load_model_spec(DEFAULT_MODEL, codebook), carry=sys.argv[1])
data = build_model_data(read_panel(DEFAULT_PANEL, codebook), spec, codebook)
settings = FitSettings(method="nuts", draws=300, tune=500, chains=2, seed=1, target_accept=0.995)
post = group(fit_alignment_model(data, spec, settings, log_likelihood=False).posterior, "posterior")
for extra in ("se_scale", "se_nugget"):
    if extra in post:
        print(sys.argv[1], extra, np.round(post[extra].quantile([0.05, 0.5, 0.95]).values, 3))
for name in ("persistence", "noise"):
    q = post[name].quantile([0.05, 0.5, 0.95], dim=("chain", "draw"))
    for k in post[name]["gaussian_indicator"].values:
        if str(k).startswith("unga_ideal") or (name == "persistence" and k == "trade_share_rus"):
            print(sys.argv[1], name, k, np.round(q.sel(gaussian_indicator=k).values, 3))
