"""The model spec: the default loads into a frozen object; every bad spec names file and key."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from pathlib import Path

import pytest

from forecast.data.codebook import Codebook
from forecast.errors import SpecError
from forecast.model.spec import DEFAULT_MODEL, load_model_spec
from tests.data.panel_fixtures import run_cli

DEFAULT_TEXT = DEFAULT_MODEL.read_text(encoding="utf-8")


def edited(old: str, new: str) -> Callable[[str], str]:
    """An edit of the default spec's text that must find ``old`` exactly once."""

    def edit(text: str) -> str:
        assert text.count(old) == 1, f"{old!r} is not unique in the default spec"
        return text.replace(old, new)

    return edit


def appended(lines: str) -> Callable[[str], str]:
    return lambda text: text + "\n" + lines + "\n"


def substituted(pattern: str, new: str) -> Callable[[str], str]:
    """An edit replacing the one match of a regular expression (across lines)."""

    def edit(text: str) -> str:
        out, count = re.subn(pattern, new, text, flags=re.DOTALL)
        assert count == 1, f"{pattern!r} does not match exactly once"
        return out

    return edit


USE_LIST = r"use = \[.*?\]"


#: (edit of the default spec, key the error must name, words the message must contain)
BAD_SPECS: dict[str, tuple[Callable[[str], str], str, str]] = {
    "unknown top-level table": (appended("[extras]\na = 1"), "extras", "unknown key"),
    "unknown key in model": (
        edited('name = "alignment"', 'name = "a"\ncolour = 1'),
        "model.colour",
        "unknown key",
    ),
    "unknown key in indicators": (
        edited("[indicators]\n", "[indicators]\nweights = 1\n"),
        "indicators.weights",
        "unknown key",
    ),
    "unknown pole in reference": (
        edited('WEST = "trade_share_eu"', 'WEST = "trade_share_eu"\nASIA = "trade_share_chn"'),
        "indicators.reference.ASIA",
        "unknown key",
    ),
    "unknown prior": (
        edited("initial_sd = 1.0", "initial_sd = 1.0\ninitial_mean = 0.0"),
        "priors.initial_mean",
        "unknown key",
    ),
    "unknown sampler key": (appended("thin = 2"), "sampler.thin", "unknown key"),
    "model not a table": (
        edited('[model]\nname = "alignment"', 'model = 3\n[m]\nname = "a"'),
        "m",
        "unknown key",
    ),
    "missing indicators table": (
        substituted(r"\[indicators\].*?(?=\[priors\])", ""),
        "indicators",
        "missing required key",
    ),
    "missing reference pole": (
        edited('CHN = "trade_share_chn"\n', ""),
        "indicators.reference.CHN",
        "missing required key",
    ),
    "step of wrong type": (edited('step = "Y"', "step = 1"), "model.step", "expected str"),
    "flag of wrong type": (
        edited("correlated_innovations = true", 'correlated_innovations = "yes"'),
        "model.correlated_innovations",
        "expected bool",
    ),
    "prior of wrong type": (
        edited("initial_sd = 1.0", 'initial_sd = "1"'),
        "priors.initial_sd",
        "expected int or float",
    ),
    "prior as a boolean": (
        edited("initial_sd = 1.0", "initial_sd = true"),
        "priors.initial_sd",
        "expected int or float",
    ),
    "draws not an integer": (
        edited("draws = 4000", "draws = 4000.5"),
        "sampler.draws",
        "expected int",
    ),
    "use not a list": (
        substituted(USE_LIST, 'use = "trade_share_rus"'),
        "indicators.use",
        "expected list",
    ),
    "use entry not a string": (
        edited('"trade_share_rus", "unga', '"trade_share_rus", 7, "unga'),
        "indicators.use[1]",
        "expected str",
    ),
    "indicator not in codebook": (
        edited('"us_aid",', '"us_aid", "no_such_thing",'),
        "indicators.use",
        "'no_such_thing' is not in the codebook",
    ),
    "indicator listed twice": (
        edited('"us_aid",', '"us_aid", "us_aid",'),
        "indicators.use",
        "listed twice",
    ),
    "empty use": (substituted(USE_LIST, "use = []"), "indicators.use", "no indicator"),
    "reference not used": (
        edited('"trade_share_eu", ', ""),
        "indicators.reference.WEST",
        "not in indicators.use",
    ),
    "reference of another pole": (
        edited('RUS = "trade_share_rus"', 'RUS = "trade_share_chn"'),
        "indicators.reference.RUS",
        "measures pole CHN",
    ),
    "binomial reference": (
        lambda text: edited('RUS = "trade_share_rus"', 'RUS = "unga_agree_rus"')(
            edited('"unga_ideal_rus"', '"unga_agree_rus"')(text)
        ),
        "indicators.reference.RUS",
        "must be a share",
    ),
    "finer frequency than the step": (
        edited('"us_aid",', '"us_aid", "eu_exports",'),
        "indicators.use",
        "finer than the model step Y",
    ),
    "unknown step": (edited('step = "Y"', 'step = "M"'), "model.step", "step must be Y or Q"),
    "start of another frequency": (
        edited('start = "auto"', 'start = "1992Q1"'),
        "model.start",
        "frequency Y",
    ),
    "start not a period": (
        edited('start = "auto"', 'start = "soon"'),
        "model.start",
        "'auto' or a period",
    ),
    "share clip out of range": (
        edited("share_clip = 0.01", "share_clip = 0.5"),
        "model.share_clip",
        "(0, 0.5)",
    ),
    "negative prior scale": (
        edited("noise_sd = 0.5", "noise_sd = -0.5"),
        "priors.noise_sd",
        "must be positive",
    ),
    "unknown method": (
        edited('method = "nuts"', 'method = "hmc"'),
        "sampler.method",
        "nuts, pathfinder, advi",
    ),
    "zero chains": (edited("chains = 4", "chains = 0"), "sampler.chains", "positive integer"),
    "target_accept of 1": (
        edited("target_accept = 0.995", "target_accept = 1.0"),
        "sampler.target_accept",
        "[0.5, 1)",
    ),
    # non-finite numbers, which TOML spells nan and inf, anywhere in the spec
    "nan prior": (edited("noise_sd = 0.5", "noise_sd = nan"), "priors.noise_sd", "finite"),
    "inf prior": (edited("lkj_eta = 2.0", "lkj_eta = inf"), "priors.lkj_eta", "finite"),
    "-inf prior mean": (
        edited("volatility_log_mean = -2.0", "volatility_log_mean = -inf"),
        "priors.volatility_log_mean",
        "-inf is not allowed",
    ),
    "nan share clip": (edited("share_clip = 0.01", "share_clip = nan"), "model.share_clip", "nan"),
    "nan target_accept": (
        edited("target_accept = 0.995", "target_accept = nan"),
        "sampler.target_accept",
        "finite",
    ),
    "nan in a list": (
        substituted(USE_LIST, 'use = ["trade_share_rus", nan]'),
        "indicators.use[1]",
        "finite",
    ),
    # sampler sizes beyond sane bounds, refused before any fit starts
    "huge draws": (
        edited("draws = 4000", "draws = 99999999999999999"),
        "sampler.draws",
        "must be at most 100000, got 99999999999999999",
    ),
    "a billion draws": (
        edited("draws = 4000", "draws = 2000000000"),
        "sampler.draws",
        "at most 100000",
    ),
    "huge tune": (edited("tune = 1000", "tune = 100001"), "sampler.tune", "at most 100000"),
    "65 chains": (edited("chains = 4", "chains = 65"), "sampler.chains", "at most 64"),
}


def write_spec(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "bad.toml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize("case", list(BAD_SPECS))
def test_bad_spec_names_file_and_key(case: str, tmp_path: Path, codebook: Codebook) -> None:
    edit, key, words = BAD_SPECS[case]
    path = write_spec(tmp_path, edit(DEFAULT_TEXT))
    with pytest.raises(SpecError) as info:
        load_model_spec(path, codebook)
    message = str(info.value)
    assert message.startswith(f"{path}, key {key}: "), message
    assert words in message
    assert "\n" not in message


def test_unreadable_toml_names_file(tmp_path: Path, codebook: Codebook) -> None:
    path = write_spec(tmp_path, DEFAULT_TEXT.replace("[sampler]", "[sampler"))
    with pytest.raises(SpecError, match=f"^{path}: invalid TOML"):
        load_model_spec(path, codebook)


def test_default_spec_is_frozen_and_complete(codebook: Codebook) -> None:
    spec = load_model_spec(DEFAULT_MODEL, codebook)
    assert spec.step == "Y"
    assert dict(spec.reference) == {
        "RUS": "trade_share_rus",
        "CHN": "trade_share_chn",
        "WEST": "trade_share_eu",
    }
    assert len(spec.indicators) == 13
    assert all(codebook[k].frequency == "Y" for k in spec.indicators)
    # the TOML's values, not the dataclass defaults, are loaded
    assert spec.sampler.target_accept == 0.995
    assert spec.priors.noise_log_sd == 0.25
    with pytest.raises(dataclasses.FrozenInstanceError):
        spec.step = "Q"  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        spec.priors.initial_sd = 2.0  # type: ignore[misc]


def test_spec_hash_ignores_comments_and_tracks_content(tmp_path: Path, codebook: Codebook) -> None:
    spec = load_model_spec(DEFAULT_MODEL, codebook)
    commented = write_spec(tmp_path, "# a new comment\n" + DEFAULT_TEXT)
    assert load_model_spec(commented, codebook).sha256 == spec.sha256
    changed = write_spec(tmp_path, DEFAULT_TEXT.replace("lkj_eta = 2.0", "lkj_eta = 3.0"))
    assert load_model_spec(changed, codebook).sha256 != spec.sha256


def test_optional_tables_take_defaults(tmp_path: Path, codebook: Codebook) -> None:
    minimal = (
        '[model]\n[indicators]\nuse = ["trade_share_rus", "trade_share_chn", "trade_share_eu"]\n'
        '[indicators.reference]\nRUS = "trade_share_rus"\nCHN = "trade_share_chn"\n'
        'WEST = "trade_share_eu"\n'
    )
    spec = load_model_spec(write_spec(tmp_path, minimal), codebook)
    assert (spec.step, spec.start, spec.sampler.method) == ("Y", "auto", "nuts")


def test_cli_fit_with_bad_spec_fails_cleanly(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_spec(tmp_path, DEFAULT_TEXT.replace('method = "nuts"', 'method = "hmc"'))
    runs = tmp_path / "runs"
    result = run_cli(["fit", "--model", str(path), "--runs", str(runs), "--draws", "5"], capsys)
    assert result.code == 1
    assert (
        result.err == f"error: {path}, key sampler.method: method must be one of "
        "nuts, pathfinder, advi\n"
    )
    assert "Traceback" not in result.out + result.err
    assert not runs.exists()


def test_cli_fit_refuses_huge_draws_before_fitting(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_spec(tmp_path, DEFAULT_TEXT.replace("draws = 4000", "draws = 2000000000"))
    runs = tmp_path / "runs"
    result = run_cli(["fit", "--model", str(path), "--runs", str(runs)], capsys)
    assert (result.code, result.out) == (1, "")
    assert result.err == (
        f"error: {path}, key sampler.draws: must be at most 100000, got 2000000000\n"
    )
    assert not runs.exists()


def test_cli_fit_with_unknown_method_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    runs = tmp_path / "runs"
    result = run_cli(["fit", "--method", "hmc", "--runs", str(runs)], capsys)
    assert result.code == 2
    assert "--method" in result.err
    assert not runs.exists()
