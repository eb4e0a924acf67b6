"""The run record, the inference config, the random streams and the one forecast path."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from forecast.errors import ForecastError
from forecast.model.forecasting import forecast_fingerprint
from forecast.model.inference import FitSettings, SamplerSettings, fit_settings
from forecast.model.manifest import SCHEMA_VERSION, read_manifest
from forecast.model.runs import Run
from forecast.scenarios.synthetic import synthetic_forecast
from forecast.seeds import generator, stream_seed
from tests.manifests import run_manifest


def test_a_manifest_round_trips_through_json() -> None:
    manifest = run_manifest("r1", converged=False)
    text = json.dumps(manifest.to_dict())
    assert read_manifest(json.loads(text), "m.json", "r1") == manifest
    assert json.loads(text)["schema_version"] == SCHEMA_VERSION


@pytest.mark.parametrize(
    ("change", "fragment"),
    [
        (lambda m: m.pop("diagnostics"), "key diagnostics missing"),
        (lambda m: m["model"].pop("indicators"), "key model.indicators missing"),
        (lambda m: m.update(seed="1"), "key seed is '1'"),
        (lambda m: m.update(converged=1), "key converged is 1"),
        (lambda m: m.update(schema_version=SCHEMA_VERSION + 1), "written by a newer forecast"),
        (lambda m: m["model"].update(last_period="soon"), "key model.last_period"),
        # a byte lost from the timestamp (found by tests/test_fuzz_cli.py)
        (lambda m: m.update(created="026-12-06T00:00:00+00:00"), "key created is '026-12"),
    ],
)
def test_a_damaged_or_foreign_manifest_is_one_line(change, fragment) -> None:
    raw = run_manifest("r1").to_dict()
    change(raw)
    with pytest.raises(ForecastError) as err:
        read_manifest(raw, "runs/r1/manifest.json", "r1")
    message = str(err.value)
    assert message.startswith("runs/r1/manifest.json: run r1: ") and fragment in message
    assert "\n" not in message


def test_inference_settings_merge_defaults_spec_then_flags() -> None:
    assert fit_settings() == FitSettings()
    spec = SamplerSettings(draws=500, target_accept=0.9)
    merged = fit_settings(spec, draws=None, tune=100, seed=7)
    assert (merged.draws, merged.tune, merged.target_accept, merged.seed) == (500, 100, 0.9, 7)
    with pytest.raises(TypeError, match="unknown inference settings: drawz"):
        fit_settings(spec, drawz=3)


def test_random_streams_keep_their_historical_derivations() -> None:
    # stored forecasts and issued forecasts are reproduced only while these hold
    assert stream_seed(5, "fit") == 5 and stream_seed(5, "stacking") == 7
    assert stream_seed(1, "origin", 2012, 0) == int(
        np.random.SeedSequence([1, 2012, 0]).generate_state(1)[0] >> 2
    )
    import zlib

    expected = np.random.default_rng([6, zlib.crc32(b"trade_share_chn")]).normal(size=3)
    np.testing.assert_array_equal(
        generator(5, "observation", "trade_share_chn").normal(size=3), expected
    )
    drift = np.random.default_rng([5, 1]).normal(size=3)
    np.testing.assert_array_equal(generator(5, "drift").normal(size=3), drift)
    with pytest.raises(ValueError, match="unknown random stream"):
        generator(1, "nope")


def _stored(tmp_path: Path, **attrs: object) -> Run:
    run = Run(tmp_path, run_manifest("r1"))
    forecast = synthetic_forecast(until=2030)
    forecast.attrs.update(
        {
            "run_id": "r1",
            "spec_sha256": run.manifest.spec.sha256,
            "random_seed": run.manifest.seed,
            "forecast_asked": "stacked",
            **forecast_fingerprint(),
            **attrs,
        }
    )
    forecast.to_netcdf(tmp_path / "forecast.nc", engine="h5netcdf")
    return run


@pytest.mark.parametrize(
    ("attrs", "call", "reused"),
    [
        ({}, {"until": "2030"}, True),
        ({}, {"until": "2025"}, True),
        ({}, {"until": "2031"}, False),
        ({}, {"until": "2030", "seed": 2}, False),
        ({}, {"until": "2030", "kind": "model"}, False),
        ({"run_id": "r0"}, {"until": "2030"}, False),
        ({"spec_sha256": "0" * 64}, {"until": "2030"}, False),
        # stacked with other weights (models/stacking.toml rewritten since), or made by
        # another version of the package
        ({"stacking_sha256": "0" * 64}, {"until": "2030"}, False),
        ({"forecast_version": "0.0.1"}, {"until": "2030"}, False),
        # made by other model code within the same version
        ({"model_code_sha256": "0" * 64}, {"until": "2030"}, False),
    ],
)
def test_one_reuse_rule_for_a_stored_forecast(tmp_path, monkeypatch, attrs, call, reused):
    run = _stored(tmp_path, **attrs)
    made: list[str] = []
    monkeypatch.setattr(Run, "posterior", lambda self: None)
    monkeypatch.setattr(
        "forecast.model.forecasting.project_run",
        lambda manifest, posterior, until, **kw: made.append(until) or synthetic_forecast(),
    )
    until = call.pop("until")
    got = run.forecast(until, **call)
    assert (made == []) is reused
    if reused:
        assert str(got["period"].values[-1]) == until


def test_a_fresh_forecast_is_stored_only_when_asked(tmp_path, monkeypatch) -> None:
    run = replace(_stored(tmp_path), path=tmp_path)
    (tmp_path / "forecast.nc").unlink()
    monkeypatch.setattr(Run, "posterior", lambda self: None)
    monkeypatch.setattr(
        "forecast.model.forecasting.project_run",
        lambda manifest, posterior, until, **kw: synthetic_forecast(),
    )
    run.forecast("2030")
    assert not (tmp_path / "forecast.nc").exists()
    run.forecast("2030", store=True)
    assert {p.name for p in tmp_path.iterdir()} == {
        "forecast.nc",
        "alignment.csv",
        "indicators.csv",
    }
