"""The censored t/Normal log density against PyMC's ``pm.Censored`` of each row's own law.

:func:`forecast.model.student_t.censored_deviation_logp` computes the tail only on the rows
at a bound; its values and its gradient must be those of ``pm.Censored`` wrapped around the
row's law (what the model used before), on rows of both laws, at both bounds and in between.
"""

from __future__ import annotations

import numpy as np
import pymc as pm
import pytensor
import pytensor.tensor as pt
from scipy import stats

from forecast.model.student_t import censored_deviation_logp, student_t_logcdf

DF = 4.0
FAR = 1e6
#: no C compile of these small graphs (the incomplete beta's gradient takes minutes)
FAST = "FAST_COMPILE"


def test_the_t_log_cdf_is_scipys_far_into_both_tails() -> None:
    z = np.array([-1e4, -300.0, -12.0, -1.0, -1e-8, 0.0, 1e-5, 0.7, 1.99, 2.01, 9.0, 60.0])
    for df in (2.5, DF, 30.0):
        np.testing.assert_allclose(
            student_t_logcdf(z, df).eval(mode=FAST), stats.t(df).logcdf(z), rtol=1e-10, atol=1e-14
        )


def _rows(seed: int) -> dict[str, np.ndarray]:
    """Twelve rows: t and Normal, at the lower bound, the upper bound and neither."""
    rng = np.random.default_rng(seed)
    n = 12
    y = rng.normal(0.0, 2.0, n)
    lower = np.full(n, -FAR)
    upper = np.full(n, FAR)
    lower[[0, 3, 7]] = y[[0, 3, 7]]
    upper[[1, 8]] = y[[1, 8]]
    return {
        "y": y,
        "mu": rng.normal(0.0, 1.0, n),
        "sigma": rng.uniform(0.2, 2.0, n),
        "heavy": (np.arange(n) % 2 == 0).astype(float),
        "lower": lower,
        "upper": upper,
    }


def _reference(y, mu, sigma, heavy, lower, upper) -> pt.TensorVariable:
    """``pm.Censored`` of each row's law: both laws and both tails on every row."""
    t = pm.logp(
        pm.Censored.dist(pm.StudentT.dist(nu=DF, mu=mu, sigma=sigma), lower=lower, upper=upper), y
    )
    normal = pm.logp(
        pm.Censored.dist(pm.Normal.dist(mu=mu, sigma=sigma), lower=lower, upper=upper), y
    )
    return pt.switch(heavy > 0, t, normal)


def test_values_and_gradient_are_those_of_the_censored_laws() -> None:
    rows = _rows(0)
    mu, sigma = pt.vector("mu"), pt.vector("sigma")
    args = (rows["y"], mu, sigma, rows["heavy"], rows["lower"], rows["upper"])
    ours = censored_deviation_logp(*args, DF)
    ref = _reference(*args)
    fn = pytensor.function(
        [mu, sigma],
        [ours, ref, *pt.grad(ours.sum(), [mu, sigma]), *pt.grad(ref.sum(), [mu, sigma])],
        mode=FAST,
    )
    value, expected, d_mu, d_sigma, e_mu, e_sigma = fn(rows["mu"], rows["sigma"])
    # PyMC's t density differs from SciPy's (and ours) by 6e-10 in its constant
    np.testing.assert_allclose(value, expected, rtol=1e-8)
    np.testing.assert_allclose(d_mu, e_mu, rtol=1e-8, atol=1e-12)
    np.testing.assert_allclose(d_sigma, e_sigma, rtol=1e-8, atol=1e-12)
    # the censored rows really are read as tails (not as densities)
    at_bound = (rows["y"] <= rows["lower"]) | (rows["y"] >= rows["upper"])
    assert at_bound.sum() == 5 and np.all(value[at_bound] < 0)


def test_no_row_at_a_bound_is_the_plain_density() -> None:
    rows = _rows(2)
    lower, upper = np.full(12, -FAR), np.full(12, FAR)
    value = censored_deviation_logp(
        rows["y"], rows["mu"], rows["sigma"], rows["heavy"], lower, upper, DF
    ).eval(mode=FAST)
    t = stats.t(DF, rows["mu"], rows["sigma"]).logpdf(rows["y"])
    normal = stats.norm(rows["mu"], rows["sigma"]).logpdf(rows["y"])
    np.testing.assert_allclose(value, np.where(rows["heavy"] > 0, t, normal), rtol=1e-10)
