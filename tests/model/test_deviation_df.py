"""Student-t deviations (``deviation_df``): the spec, the likelihood, the projection, recovery.

Left out of a spec, ``deviation_df`` is ``inf`` (the Normal conditional of every earlier
spec) and stays out of its hash; a spec cannot write ``inf`` (no TOML number here may be
non-finite). A finite value above 2 makes each Gaussian series' one-step conditional a
Student-t of that scale, except on a log link (``positive`` kinds keep the Normal) and for
an indicator published with standard errors (the UN ideal points). Here: the
spec, the likelihood's log density against SciPy's at one point (censored rows and both kinds
of row included), the projection's deviations against the t's and the Normal's quantiles,
and (slow: a model of its own to compile) recovery of the persistence from a simulation with
t innovations.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import xarray as xr
from scipy import stats

from forecast.data.codebook import Codebook
from forecast.dims import CHAIN, DRAW, PERIOD
from forecast.errors import SpecError
from forecast.model.graph import build_alignment_model, censoring_bounds
from forecast.model.project import _deviation_law
from forecast.model.spec import DEFAULT_MODEL, load_model_spec, parse_model_spec
from forecast.model.transforms import NORMAL_TAILED_KINDS
from tests.model.test_carry import with_model_options
from tests.model.test_horizon import (
    HORIZON,
    NOISE,
    PERSISTENCE,
    SCALE,
    SHARE,
    constant_posterior,
    link_of,
    share_projection,
)

DF = 4.0


def _spec_text(value: str) -> str:
    text = DEFAULT_MODEL.read_text(encoding="utf-8")
    return with_model_options(text).replace("[model]\n", f"[model]\ndeviation_df = {value}\n", 1)


def test_the_spec_reads_deviation_df_and_keeps_old_hashes(codebook: Codebook) -> None:
    default = load_model_spec(DEFAULT_MODEL, codebook)
    assert np.isinf(default.deviation_df)
    # at its fallback the option is not hashed: earlier runs and weights keep their hashes
    assert "deviation_df" not in default.to_dict()
    heavy = parse_model_spec(_spec_text("4"), codebook)
    assert heavy.deviation_df == DF and heavy.to_dict()["deviation_df"] == DF
    assert heavy.model_sha256 != default.model_sha256


@pytest.mark.parametrize("value", ["2", "1.5", "-4", "nan", "inf", '"t"'])
def test_a_df_without_a_finite_variance_is_refused(codebook: Codebook, value: str) -> None:
    with pytest.raises(SpecError, match=r"model\.deviation_df"):
        parse_model_spec(_spec_text(value), codebook)


def test_the_likelihood_is_the_censored_student_t(default_spec, bundled_data) -> None:
    model = build_alignment_model(bundled_data, replace(default_spec, deviation_df=DF))
    point = model.initial_point()
    # the Normal model has the same mean and scale at the same point: read them there
    normal = build_alignment_model(bundled_data, default_spec)
    mu, sigma = normal["y_gaussian"].owner.inputs[0].owner.inputs[2:4]
    fn = normal.compile_fn(
        normal.replace_rvs_by_values([mu, sigma]),
        inputs=normal.value_vars,
        on_unused_input="ignore",
        mode="FAST_COMPILE",
    )
    mu_v, sigma_v = (np.asarray(v) for v in fn(point))
    logp = model.compile_fn(
        model.logp(vars=[model["y_gaussian"]], sum=False)[0],
        inputs=model.value_vars,
        on_unused_input="ignore",
        mode="FAST_COMPILE",
    )(point)
    obs = bundled_data.obs["gaussian"]
    y = obs.y
    lower, upper = censoring_bounds(bundled_data)
    # a log-link series (remittances, Chinese finance) keeps the Normal, and so does a series
    # published with standard errors (the UN ideal points)
    with_se = np.unique(obs.indicator[obs.se > 0])
    assert {bundled_data.indicators[i] for i in with_se} == {
        "unga_ideal_rus",
        "unga_ideal_chn",
        "unga_ideal_usa",
    }
    normal_rows = np.isin(np.asarray(bundled_data.kind)[obs.indicator], NORMAL_TAILED_KINDS)
    normal_rows |= np.isin(obs.indicator, with_se)
    dist = np.where(normal_rows, 0, 1)
    expected = np.empty(len(y))
    for k, law in enumerate((stats.norm(mu_v, sigma_v), stats.t(DF, mu_v, sigma_v))):
        rows = dist == k
        at_low, at_high = y <= lower, y >= upper
        value = np.where(
            at_low, law.logcdf(lower), np.where(at_high, law.logsf(upper), law.logpdf(y))
        )
        expected[rows] = value[rows]
    # every kind of row is there: zero arms shares at their bound, log-link rows
    assert (y <= lower).sum() > 50 and (y > lower).sum() > 500 and 50 < normal_rows.sum()
    np.testing.assert_allclose(logp, expected, rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize(
    ("kind", "se", "df"),
    [("share", 0.0, DF), ("positive", 0.0, np.inf), ("continuous", 0.3, np.inf)],
)
def test_the_projection_keeps_the_normal_where_the_likelihood_does(
    kind: str, se: float, df: float
) -> None:
    """A log link, or values published with standard errors, keep Normal deviations."""
    const = constant_posterior()["constant_data"].to_dataset()
    const.attrs["deviation_df"] = DF
    const["kind"] = const["kind"].copy(data=[kind, "binomial"])
    # one value of the series with a standard error is enough, as in the likelihood
    values_se = np.array([0.0, se, 0.0])
    assert _deviation_law(const, SHARE, values_se) == (False, df)
    const.attrs.pop("deviation_df")
    assert _deviation_law(const, SHARE, values_se) == (False, np.inf)


@pytest.mark.parametrize("kind", ["share", "positive"])
def test_the_projection_draws_student_t_deviations(kind: str) -> None:
    """t deviations for a share; a log-link (``positive``) series keeps the Normal."""
    values = share_projection(kind, deviation_df=DF)
    standardised = link_of(values, kind) / SCALE
    h = np.arange(1, len(HORIZON) + 1)
    scale = NOISE * np.sqrt(1 - PERSISTENCE ** (2 * h))
    centred = (standardised - standardised.median((CHAIN, DRAW))) / xr.DataArray(
        scale, dims=PERIOD, coords={PERIOD: HORIZON}
    )
    levels = [0.05, 0.25, 0.75, 0.95]
    got = centred.quantile(levels, dim=(CHAIN, DRAW)).transpose(PERIOD, "quantile")
    law = stats.t(DF) if kind == "share" else stats.norm()
    # (20,000 draws: about three Monte Carlo standard errors of the 5 % quantile)
    np.testing.assert_allclose(got, np.tile(law.ppf(levels), (len(h), 1)), atol=0.1)
    # a Normal's 95 % quantile (1.64) is far from the t's (2.13)
    assert (float(got.sel(quantile=0.95).min()) > 1.9) is (kind == "share")


@pytest.fixture(scope="module")
def heavy_simulation(bundled_data, default_spec):
    from forecast.model.simulate import simulate
    from tests.model.test_recovery_persistence import near_one_truth

    fixed = near_one_truth(bundled_data)
    spec = replace(default_spec, deviation_df=DF)
    return spec, simulate(bundled_data, spec, random_seed=20261207, fixed=fixed)


@pytest.mark.slow
@pytest.mark.xfail(
    strict=True,
    reason="at a truth of 0.95 us_aid's t persistence is attenuated (0.859 [0.775, 0.924] "
    "here; missed at 3 of 7 simulations, the Normal model's at 2 of 7) and the UN family's "
    "too, as under the Normal model (0.774 here, the Normal's 0.773): "
    "benchmarks/results/probe_t_recovery.txt",
)
def test_student_t_deviations_recover_the_persistence(heavy_simulation, compiled_models) -> None:
    from forecast.model.fit import fit_alignment_model
    from forecast.model.likelihoods import GAUSSIAN_INDICATOR
    from forecast.model.trees import group
    from tests.model.test_recovery import (
        SETTINGS,
        covered,
        exact_conditionals,
        interval,
        one_per_persistence,
    )

    spec, simulation = heavy_simulation
    result = fit_alignment_model(
        simulation.data, spec, SETTINGS, compiled=compiled_models, log_likelihood=False
    )
    posterior = group(result.posterior, "posterior")
    exact = one_per_persistence(exact_conditionals(simulation.data, spec), spec)
    report = {}
    # Under the earlier rule (the UN ideal points' deviations a t too), three simulations
    # (this seed, 1 and 2; 90 % intervals) covered 3 of 4, 3 of 3 and 4 of 4 persistences;
    # the UN family's t, which biased its persistence upward (probe: mean z +1.54 over 11
    # simulations), offset the attenuation every model here shows for it at 0.95. With the
    # UN ideal points Normal: unga_ideal_rus 0.774 [0.580, 0.911], us_aid 0.859 [0.775,
    # 0.924]. So at least 3 of 4 persistences and half the noise scales, and no truth
    # farther from its interval than the interval is wide, when the t is right.
    for name, share in (("persistence", 0.75), ("noise", 0.5)):
        draws = posterior[name].sel({GAUSSIAN_INDICATOR: exact})
        truth = simulation.truth[name].sel({GAUSSIAN_INDICATOR: exact})
        hit = covered(draws, truth)
        lo, hi = interval(draws)
        report[name] = (hit.to_series().to_dict(), draws.median((CHAIN, DRAW)).round(3).values)
        assert float(hit.mean()) >= share, report
        assert bool(((truth > lo - (hi - lo)) & (truth < hi + (hi - lo))).all()), report
    assert float(posterior["persistence"].sel({GAUSSIAN_INDICATOR: exact}).median()) > 0.85


def test_the_run_records_the_tails_for_the_projection(default_spec, bundled_data) -> None:
    from forecast.model.fit import constant_dataset

    # a Normal run stores nothing new (runs stored before the option read alike)
    assert "deviation_df" not in constant_dataset(bundled_data, default_spec).attrs
    heavy = constant_dataset(bundled_data, replace(default_spec, deviation_df=DF))
    assert heavy.attrs["deviation_df"] == DF
