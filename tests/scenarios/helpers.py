"""Small scenario specs, a synthetic run directory and error assertions for the scenario tests."""

from __future__ import annotations

from pathlib import Path

import pytest
import xarray as xr

from forecast.errors import ForecastError
from forecast.model.forecasting import forecast_fingerprint
from forecast.scenarios.synthetic import synthetic_forecast
from tests.manifests import run_manifest, write_manifest

#: a valid two-scenario spec over the synthetic forecast (periods 2016..2030, last fitted 2020)
MINIMAL_SPEC = """
[define]
rus_shift = 'mean(change(alignment["RUS"], "2020", "2030"))'

[[partition]]
id = "rus"
title = "Russia up or down"
at = "2030"

[[partition.scenario]]
id = "rus_down"
title = "Russia down"
narrative = "Region-wide alignment with Russia falls."
rule = "rus_shift < 0"

[[partition.scenario]]
id = "rus_up"
title = "Russia up"
narrative = "Region-wide alignment with Russia holds or rises."
rule = "rus_shift >= 0"

[[question]]
id = "kaz_china_trade"
title = "China's share of Kazakhstan's trade exceeds Russia's in 2025"
at = "2025"
rule = 'indicator["trade_share_chn", "KAZ"] > indicator["trade_share_rus", "KAZ"]'
"""


def write(tmp_path: Path, text: str, name: str = "spec.toml") -> Path:
    """Write ``text`` to ``tmp_path / name`` and return the path."""
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def spec_with_rule(rule: str, *, entry: str = "question") -> str:
    """Return :data:`MINIMAL_SPEC` with the question's (or the first scenario's) rule replaced."""
    quoted = "'''" + rule + "'''"
    if entry == "question":
        old = 'rule = \'indicator["trade_share_chn", "KAZ"] > '
        old += 'indicator["trade_share_rus", "KAZ"]\''
    else:
        old = 'rule = "rus_shift < 0"'
    assert old in MINIMAL_SPEC
    return MINIMAL_SPEC.replace(old, f"rule = {quoted}")


def assert_names(err: pytest.ExceptionInfo[ForecastError], path: Path | str, *entries: str) -> str:
    """Assert the error is one line naming the file and each of ``entries``; return it."""
    message = str(err.value)
    assert "\n" not in message
    assert message.startswith(f"{path}"), message
    for entry in entries:
        assert entry in message, (entry, message)
    return message


def synthetic_run(root: Path, *, converged: bool = True, **kwargs: object) -> Path:
    """Write a run directory holding a synthetic ``forecast.nc`` (and no real posterior).

    Enough for ``forecast scenarios``, which reads the stored forecast when it covers the
    spec; ``posterior.nc`` is an empty netCDF file that nothing here opens.
    """
    run = root / "synthetic"
    run.mkdir(parents=True)
    forecast = synthetic_forecast(**kwargs)  # type: ignore[arg-type]
    forecast.attrs["converged"] = int(converged)
    xr.Dataset().to_netcdf(run / "posterior.nc", engine="h5netcdf")
    seed = int(forecast.attrs["random_seed"])
    manifest = run_manifest("synthetic", converged=converged, seed=seed)
    write_manifest(run, manifest)
    # the stored forecast answers for this run (Run.forecast's reuse rule)
    forecast.attrs.update(
        {
            "spec_sha256": manifest.spec.sha256,
            "forecast_asked": "stacked",
            "forecast": "model",
            "forecast_note": "a synthetic forecast",
            **forecast_fingerprint(),
        }
    )
    forecast.to_netcdf(run / "forecast.nc", engine="h5netcdf")
    return run
