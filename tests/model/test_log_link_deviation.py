"""Innovation-scaled deviations for the log-link kinds (``log_link_deviation``).

A stationary AR(1) deviation has the conditional variance ``noise^2 (1 - phi^2)``, which
vanishes as ``phi -> 1``: remittances (a Normal deviation on a log link) sit there, and the
Student-t candidate's only failed seed had all its divergences at their persistence above 0.998
(``benchmarks/results/sampler_settings.md``). ``log_link_deviation = "innovation"`` scales
the log-link kinds' deviations by their innovation sd, with its own prior
(``priors.innovation_noise_sd`` and ``innovation_noise_log_sd``), so ``phi = 1`` is a random
walk; every other kind keeps ``deviation``. Here: the spec and its hashes, the conditional
variances row by row, the likelihood against the whole-model scalings on the rows each owns,
the projection's spread against the random walk's, and (slow: a model of its own to compile)
recovery of a log-link persistence near 1, a strict expected failure: Chinese finance's is
not recovered. Not the default (README, the variants table: at the failing seed the
divergences moved to the smallest innovation sds).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytensor
import pytensor.tensor as pt
import pytest

from forecast.data.codebook import Codebook
from forecast.dims import CHAIN, DRAW
from forecast.errors import SpecError
from forecast.model.graph import build_alignment_model
from forecast.model.likelihoods import GAUSSIAN_INDICATOR, deviation_variance
from forecast.model.spec import DEFAULT_MODEL, parse_model_spec
from forecast.model.transforms import LOG_LINK_KINDS
from tests.model.test_carry import with_model_options
from tests.model.test_horizon import (
    HORIZON,
    NOISE,
    PERSISTENCE,
    SCALE,
    link_of,
    share_projection,
)

#: the innovation sd's prior median and log sd in these tests (the stationary sd's: 0.5, 0.25)
INNOVATION_SD, INNOVATION_LOG_SD = 0.2, 0.5


def innovation_spec(spec):
    """``spec`` with innovation-scaled log-link deviations of prior median ``INNOVATION_SD``."""
    priors = replace(
        spec.priors, innovation_noise_sd=INNOVATION_SD, innovation_noise_log_sd=INNOVATION_LOG_SD
    )
    return replace(spec, log_link_deviation="innovation", priors=priors)


def test_the_spec_reads_the_option_and_keeps_old_hashes(codebook: Codebook) -> None:
    text = DEFAULT_MODEL.read_text(encoding="utf-8")
    default = parse_model_spec(text, codebook)
    # at their defaults neither the option nor its prior enters the hash: the installed
    # weights and the ledger's entries keep theirs
    assert default.log_link_deviation == "same"
    assert "log_link_deviation" not in default.to_dict()
    assert not {"innovation_noise_sd", "innovation_noise_log_sd"} & set(default.to_dict()["priors"])
    edited = with_model_options(text, log_link_deviation="innovation").replace(
        "[priors]\n",
        f"[priors]\ninnovation_noise_sd = {INNOVATION_SD}\n"
        f"innovation_noise_log_sd = {INNOVATION_LOG_SD}\n",
        1,
    )
    spec = parse_model_spec(edited, codebook)
    assert spec == innovation_spec(default)
    assert spec.to_dict()["log_link_deviation"] == "innovation"
    assert spec.to_dict()["priors"]["innovation_noise_sd"] == INNOVATION_SD
    assert spec.model_sha256 != default.model_sha256
    assert [spec.innovation_scaled(k) for k in ("positive", "share", "continuous")] == [
        True,
        False,
        False,
    ]


def test_an_unknown_scaling_is_refused(codebook: Codebook) -> None:
    text = with_model_options(DEFAULT_MODEL.read_text(encoding="utf-8"), log_link_deviation="rw")
    with pytest.raises(SpecError, match=r"model\.log_link_deviation"):
        parse_model_spec(text, codebook)


def test_the_conditional_variance_is_each_rows_own() -> None:
    noise = np.array([0.5, 0.15, 0.15, 0.5])
    phi = np.array([0.9, 0.999, 1.0, 0.6])
    gap = np.array([1.0, 2.0, 3.0, 1.0])
    has_prev = np.array([1.0, 1.0, 1.0, 0.0])
    rows = np.array([0.0, 1.0, 1.0, 0.0])
    args = [pt.as_tensor(v) for v in (noise, phi, gap, has_prev)]
    got = pytensor.function([], deviation_variance(*args, pt.as_tensor(rows), 1.0))()
    expected = [
        0.5**2 * (1 - 0.9**2),  # stationary: the conditional variance shrinks as phi -> 1
        0.15**2 * (1 + 0.999**2),  # innovation: the sum over the gap's steps
        0.15**2 * 3,  # a random walk at phi = 1
        0.5**2,  # a stationary series' first value
    ]
    np.testing.assert_allclose(got, expected, rtol=1e-12)
    for flag in (False, True):  # one scaling for every row: no switch in the graph
        whole = pytensor.function([], deviation_variance(*args, flag, 1.0))()
        mixed = pytensor.function(
            [], deviation_variance(*args, pt.as_tensor(np.full(4, float(flag))), 1.0)
        )()
        np.testing.assert_allclose(whole, mixed, rtol=1e-12)


def _row_logp(model, point):
    fn = model.compile_fn(
        model.logp(vars=[model["y_gaussian"]], sum=False)[0],
        inputs=model.value_vars,
        on_unused_input="ignore",
        mode="FAST_COMPILE",
    )
    return np.asarray(fn(point))


def test_the_likelihood_scales_only_the_log_link_rows(default_spec, bundled_data) -> None:
    spec = innovation_spec(default_spec)
    model = build_alignment_model(bundled_data, spec)
    point = model.initial_point()
    # the prior medians of the noise: the innovation sd's on a log link
    kinds = np.asarray(bundled_data.kind)[bundled_data.family_indicators("gaussian")]
    log_link = np.isin(kinds, LOG_LINK_KINDS)
    median, log_sd = pytensor.function([], model["noise"].owner.inputs[-2:])()
    np.testing.assert_allclose(np.exp(median), np.where(log_link, INNOVATION_SD, 0.5))
    np.testing.assert_allclose(log_sd, np.where(log_link, INNOVATION_LOG_SD, 0.25))
    # each row's log density is that of the whole-model scaling it follows, at one point
    got = _row_logp(model, point)
    rows = np.isin(
        np.asarray(bundled_data.kind)[bundled_data.obs["gaussian"].indicator], ["positive"]
    )
    for deviation, mine in (("innovation", rows), ("stationary", ~rows)):
        whole = replace(spec, deviation=deviation, log_link_deviation="same")
        np.testing.assert_allclose(
            got[mine], _row_logp(build_alignment_model(bundled_data, whole), point)[mine]
        )
    assert 50 < rows.sum() < len(rows) - 500


@pytest.mark.parametrize("kind", ["share", "positive"])
def test_the_projection_spreads_a_log_link_series_as_a_random_walk(kind: str) -> None:
    values = share_projection(kind, log_link_deviation="innovation")
    spread = (link_of(values, kind) / SCALE).std((CHAIN, DRAW)).values
    h = np.arange(1, len(HORIZON) + 1)
    if kind == "positive":  # innovation sd NOISE: the variance adds up over the steps
        expected = NOISE * np.sqrt(np.cumsum(PERSISTENCE ** (2 * (h - 1))))
    else:  # stationary sd NOISE, as before
        expected = NOISE * np.sqrt(1 - PERSISTENCE ** (2 * h))
    np.testing.assert_allclose(spread, expected, rtol=0.05)


@pytest.mark.slow
@pytest.mark.xfail(
    strict=True,
    reason="Chinese finance's persistence is not recovered near 1: at a truth of 0.99 its "
    "90 % interval is [0.203, 0.927] (remittances' [0.817, 0.995] covers it); a deviation "
    "near a random walk is hard to tell from the latent's own walk (2 x 300 draws)",
)
def test_a_log_link_persistence_near_one_is_recovered(
    bundled_data, default_spec, compiled_models
) -> None:
    from forecast.model.fit import fit_alignment_model
    from forecast.model.simulate import simulate
    from forecast.model.trees import group
    from tests.model.test_recovery import SETTINGS, covered, interval
    from tests.model.test_recovery_persistence import near_one_truth

    spec = innovation_spec(default_spec)
    fixed = near_one_truth(bundled_data)
    kinds = np.asarray(bundled_data.kind)[bundled_data.family_indicators("gaussian")]
    log_link = np.isin(kinds, LOG_LINK_KINDS)
    # the log-link series near random walks
    fixed["persistence"] = np.where(log_link, 0.99, fixed["persistence"])
    simulation = simulate(bundled_data, spec, random_seed=20261207, fixed=fixed)
    result = fit_alignment_model(
        simulation.data, spec, SETTINGS, compiled=compiled_models, log_likelihood=False
    )
    posterior = group(result.posterior, "posterior")
    names = [str(n) for n in posterior[GAUSSIAN_INDICATOR].values[log_link]]
    report = {}
    for name in ("persistence", "noise"):
        draws = posterior[name].sel({GAUSSIAN_INDICATOR: names})
        truth = simulation.truth[name].sel({GAUSSIAN_INDICATOR: names})
        lo, hi = interval(draws)
        report[name] = (truth.values, lo.values.round(3), hi.values.round(3))
        assert bool(covered(draws, truth).all()), report
    assert float(posterior["persistence"].sel({GAUSSIAN_INDICATOR: names}).min()) > 0.9, report
