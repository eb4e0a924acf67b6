"""The scenario layer on the real reduced fit of the bundled panel (session fixtures).

The must-show checks: the default partition sums to 1 within 1e-9, at least six questions
are answered, the CLI prints the headline pair, and the what-ifs move the probabilities in
the directions their narratives claim.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

from forecast.dims import SCENARIO
from forecast.model.runs import Run
from forecast.scenarios.probabilities import scenario_probabilities
from forecast.scenarios.spec import DEFAULT_SCENARIOS, load_scenario_spec
from forecast.scenarios.whatif import WhatIfResult, apply_whatif, whatif_probabilities
from forecast.scenarios.whatif_spec import DEFAULT_WHATIF, load_whatif_spec
from tests.data.panel_fixtures import run_cli
from tests.scenarios.helpers import write
from tests.scenarios.test_cli import assert_bad_input


@pytest.fixture(scope="module")
def model_forecast(bundled_run: Run) -> xr.Dataset:
    """The model's own forecast of the bundled run: what the what-ifs are paired with."""

    return bundled_run.forecast("2030", kind="model")


@pytest.fixture(scope="module")
def whatifs(bundled_run: Run, model_forecast: xr.Dataset) -> WhatIfResult:
    return whatif_probabilities(
        bundled_run.posterior(),
        model_forecast,
        load_scenario_spec(DEFAULT_SCENARIOS),
        load_whatif_spec(DEFAULT_WHATIF),
    )


def test_default_partition_on_the_bundled_fit(bundled_forecast: xr.Dataset) -> None:
    result = scenario_probabilities(bundled_forecast, load_scenario_spec(DEFAULT_SCENARIOS))
    doc = result.to_json()
    (part,) = doc["partitions"]
    assert abs(sum(s["probability"] for s in part["scenarios"]) - 1.0) < 1e-9
    assert 0.0 < part["entropy"] <= 1.0
    answered = [q for q in doc["questions"] if 0.0 <= q["probability"] <= 1.0]
    assert len(answered) >= 6
    assert all(np.isfinite(q["mcse"]) for q in answered)
    head = doc["headline"]
    assert 0.0 <= head["trend_probability"] <= 1.0
    assert head["outcome_entropy"] == part["entropy"]
    assert (result.headline.horizon, result.headline.last_observed) == ("2030", "2024")
    # the labelled result behind the document: one scenario dimension, partition coordinate
    probs = result.probabilities
    assert probs["probability"].dims == (SCENARIO,)
    in_partition = probs["probability"].where(probs["partition"] == "region_2030", drop=True)
    assert abs(float(in_partition.sum()) - 1.0) < 1e-9
    # every draw lies in exactly one scenario of the partition
    events = result.events.sel({SCENARIO: in_partition[SCENARIO].values})
    assert (events.sum(SCENARIO) == 1).all()


def test_cli_prints_the_headline(
    bundled_run: Run, bundled_forecast: xr.Dataset, capsys: pytest.CaptureFixture[str]
) -> None:
    # quiet: on a busy machine the projection outlasts the progress lines' 5 s delay
    result = run_cli(["scenarios", str(bundled_run.path), "-q"], capsys)
    assert (result.code, result.err) == (0, "")
    # the reduced fit is deliberately not converged, and the output says so
    assert "NOT CONVERGED" in result.out
    head = scenario_probabilities(bundled_forecast, load_scenario_spec(DEFAULT_SCENARIOS)).headline
    # the pair itself, with the numbers of the API
    assert head.line() in result.out
    assert "Trend certainty " in result.out and " vs outcome uncertainty " in result.out


def test_cli_json_reproduces_the_api(
    bundled_run: Run, bundled_forecast: xr.Dataset, capsys: pytest.CaptureFixture[str]
) -> None:
    # no forecast.nc in the run directory: the command forecasts the run with its own seed
    result = run_cli(["scenarios", str(bundled_run.path), "--json", "-q"], capsys)
    assert result.code == 0
    # stdout is the document alone; the run's status goes to stderr
    assert result.err.startswith("NOT CONVERGED")
    doc = json.loads(result.out)
    api = scenario_probabilities(bundled_forecast, load_scenario_spec(DEFAULT_SCENARIOS))
    assert doc == json.loads(json.dumps(api.to_json()))


def test_sanctions_lower_russian_primacy(whatifs: WhatIfResult) -> None:
    diff = whatifs.probabilities["difference"].sel(whatif="sanctions_bite")
    err = whatifs.probabilities["difference_mcse"].sel(whatif="sanctions_bite")
    # the direction its narrative claims, well beyond Monte Carlo noise
    assert float(diff.sel(scenario="russian_primacy")) < -4 * float(
        err.sel(scenario="russian_primacy")
    )
    assert float(diff.sel(scenario="chinese_ascendancy")) > 4 * float(
        err.sel(scenario="chinese_ascendancy")
    )
    assert float(diff.sel(scenario="russian_primacy")) < -0.05
    trend = float(whatifs.probabilities["trend_probability"].sel(whatif="sanctions_bite"))
    assert trend > whatifs.baseline.headline.trend_probability


def test_every_claimed_direction_holds(whatifs: WhatIfResult) -> None:
    claims = whatifs.claims
    assert len(claims) >= 8
    assert claims["shown"].all(), claims[~claims["shown"]]


def test_partition_still_sums_to_one_under_whatifs(whatifs: WhatIfResult) -> None:
    probs = whatifs.probabilities["probability"]
    part = whatifs.baseline.probabilities["partition"] == "region_2030"
    sums = probs.where(part, drop=True).sum("scenario")
    np.testing.assert_allclose(sums.values, 1.0, atol=1e-9)


def test_a_stacked_baseline_is_refused(bundled_run: Run, bundled_forecast: xr.Dataset) -> None:
    from forecast.errors import ForecastError

    assert bundled_forecast.attrs["forecast"] == "stacked"
    with pytest.raises(ForecastError, match="model's own forecast, not a stacked one"):
        whatif_probabilities(
            bundled_run.posterior(),
            bundled_forecast,
            load_scenario_spec(DEFAULT_SCENARIOS),
            load_whatif_spec(DEFAULT_WHATIF),
        )


def test_whatif_is_paired_with_the_baseline(bundled_run: Run, model_forecast: xr.Dataset) -> None:
    bundled_forecast = model_forecast
    spec = load_whatif_spec(DEFAULT_WHATIF)
    pipeline = next(w for w in spec.whatifs if w.id == "china_pipeline")
    posterior = bundled_run.posterior()
    shocked = apply_whatif(
        posterior,
        pipeline,
        until=str(bundled_forecast.attrs["until"]),
        random_seed=int(bundled_forecast.attrs["random_seed"]),
    )
    base = bundled_forecast["alignment"]
    # untouched poles and states follow exactly the baseline's paths
    xr.testing.assert_identical(
        shocked["alignment"].sel(pole=["RUS", "WEST"]), base.sel(pole=["RUS", "WEST"])
    )
    xr.testing.assert_identical(shocked["alignment"].sel(state="KAZ"), base.sel(state="KAZ"))
    # indicators of the untouched poles keep their noise too (one random stream each)
    poles = posterior["constant_data"].to_dataset()["pole_of_indicator"]
    others = [
        str(k) for k in poles["indicator"].values if str(poles.sel(indicator=k).values) != "CHN"
    ]
    xr.testing.assert_identical(
        shocked["indicators"].sel(indicator=others),
        bundled_forecast["indicators"].sel(indicator=others),
    )
    jump = (shocked["alignment"] - base).sel(state="TKM", pole="CHN")
    np.testing.assert_allclose(jump.sel(period="2026").values, 0.0, atol=1e-12)
    np.testing.assert_allclose(jump.sel(period=["2027", "2030"]).values, 0.3, atol=1e-12)


def test_cli_whatif(bundled_run: Run, capsys: pytest.CaptureFixture[str]) -> None:
    result = run_cli(["whatif", str(bundled_run.path), "-q"], capsys)
    assert (result.code, result.err) == (0, "")
    out = " ".join(result.out.split())
    assert "Secondary sanctions on Russia bite" in out or "sanctions_bite" in out, out
    assert "makes it less likely: yes" in out, out
    assert "Coherence of the weights:" in out


@pytest.mark.parametrize(
    ("old", "new", "entry", "fragment"),
    [
        (
            'start = "2026"',
            'start = "2019"',
            "whatif.sanctions_bite.shock[0].start",
            "not after the last fitted period",
        ),
        (
            'start = "2026"',
            'start = "2035"',
            "whatif.sanctions_bite.shock[0].start",
            "beyond the forecast's horizon",
        ),
        (
            'poles = ["RUS"]',
            'poles = ["RUS"]\nstates = ["AFG"]',
            "whatif.sanctions_bite.shock[0].states",
            "unknown state 'AFG'",
        ),
    ],
)
def test_cli_whatif_refuses(
    bundled_run: Run,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    old: str,
    new: str,
    entry: str,
    fragment: str,
) -> None:
    text = DEFAULT_WHATIF.read_text(encoding="utf-8").replace(old, new, 1)
    path = write(tmp_path, text, "whatif.toml")
    result = run_cli(["whatif", str(bundled_run.path), "--whatif", str(path), "-q"], capsys)
    message = assert_bad_input(result, path, entry)
    assert fragment in message
