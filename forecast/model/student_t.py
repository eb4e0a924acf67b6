"""The censored Student-t (or Normal) log density of the Gaussian series' one-step conditionals.

With a finite ``deviation_df`` each Gaussian row's conditional is a Student-t, or a Normal
(:func:`heavy_tailed`: on a log link, or where values carry published standard errors),
censored at its kind's bound where the value sits there. PyMC's ``pm.Censored`` of a
0/1-weighted ``pm.Mixture`` says the same thing but evaluates both laws on every row and
both tails of the law on every row. The t's tail is an incomplete beta function, whose
value and gradient are loops: on the bundled panel that nearly tripled the sampling time of
a backtest. Here each row's density is one law's closed form, and the tail is computed only
on the rows at a bound (the arms shares' zeros, a few hundred of about two thousand rows).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytensor.tensor as pt
from numpy.typing import ArrayLike, NDArray
from pymc.distributions.dist_math import normal_lcdf

from forecast.model.transforms import NORMAL_TAILED_KINDS


def heavy_tailed(kinds: ArrayLike, indicator: ArrayLike, se: ArrayLike) -> NDArray[np.bool_]:
    """Per indicator: whether its deviations are Student-t under a finite ``deviation_df``.

    Not on a log link (:data:`~forecast.model.transforms.NORMAL_TAILED_KINDS`), and not for
    an indicator any of whose values carries a published standard error (the UN ideal
    points). A value is its deviation plus a Normal error of that standard error; the
    likelihood gives the sum one law of variance ``v + se^2``, and the filtered carry shrinks
    the previous residual by ``v / (v + se^2)``, the expected deviation given the value: both
    the Normal's (under a t the sum is neither a t nor a Normal, and that expectation is not
    linear). With t deviations there, the UN ideal points' persistence was recovered too high
    on each of 11 simulations from the model (mean z-score +1.54; with this rule -0.00, the
    Normal model's -0.12: ``benchmarks/results/probe_t_recovery.txt``).

    Parameters
    ----------
    kinds
        Each indicator's kind.
    indicator, se
        Each observation's indicator position and standard error (0: none).

    Examples
    --------
    >>> heavy_tailed(["share", "positive", "continuous"], [0, 1, 2, 2], [0, 0, 0.3, 0.2])
    array([ True, False, False])
    """
    kinds = np.asarray(kinds)
    with_se = np.zeros(kinds.size, dtype=bool)
    np.logical_or.at(with_se, np.asarray(indicator, dtype=int), np.asarray(se, dtype=float) > 0)
    return ~np.isin(kinds, NORMAL_TAILED_KINDS) & ~with_se


def student_t_logcdf(z: Any, df: float) -> pt.TensorVariable:
    """Log CDF of a standard Student-t with ``df`` degrees of freedom, accurate at any ``z``.

    ``P(T <= -|z|) = I_x(df / 2, 1 / 2) / 2`` with ``x = df / (df + z^2)``: no cancellation
    far in the lower tail (PyMC's form subtracts two nearly equal numbers there). Near 0,
    where ``x`` rounds to 1, the same probability is ``(1 - I_q(1 / 2, df / 2)) / 2`` with
    ``q = z^2 / (df + z^2)``. Each branch is evaluated at a harmless point where it is not
    used, so that its gradient there (infinite at ``x = 1``) cannot turn the other's into
    NaN.

    Examples
    --------
    >>> import numpy as np
    >>> import pytensor
    >>> from scipy import stats
    >>> z = np.array([-40.0, -1.0, -1e-9, 0.0, 2.5])
    >>> logcdf = pytensor.function([], student_t_logcdf(z, 4.0))()
    >>> np.allclose(logcdf, stats.t(4.0).logcdf(z), rtol=1e-12)
    True
    """
    z = pt.as_tensor_variable(z)
    z2 = z**2
    near = z2 < df
    far_x = pt.switch(near, 0.5, df / (df + z2))
    near_q = pt.switch(near, z2 / (df + z2), 0.5)
    half_tail = pt.switch(
        near,
        0.5 - 0.5 * pt.betainc(0.5, df / 2.0, near_q),
        0.5 * pt.betainc(df / 2.0, 0.5, far_x),
    )
    return pt.switch(z < 0, pt.log(half_tail), pt.log1p(-half_tail))


def censored_deviation_logp(
    value: Any, mu: Any, sigma: Any, heavy: Any, lower: Any, upper: Any, df: float
) -> pt.TensorVariable:
    """Return the log density of each row: a t (``heavy`` 1) or a Normal (0), censored.

    A row whose value is at or below ``lower`` has the log probability of lying there, one
    at or above ``upper`` the log probability of lying there; any other row its log density.
    The same as ``pm.Censored`` of the per-row law with the same bounds.

    Examples
    --------
    >>> import numpy as np
    >>> import pytensor
    >>> from scipy import stats
    >>> y, mu, sigma = np.array([0.0, 0.3, 1.0]), np.zeros(3), np.ones(3)
    >>> heavy, low, high = np.array([1.0, 0.0, 1.0]), np.array([0.0, -9, -9]), np.full(3, 9.0)
    >>> logp = censored_deviation_logp(y, mu, sigma, heavy, low, high, 4.0)
    >>> lp = pytensor.function([], logp)()
    >>> expected = [stats.t(4).logcdf(0), stats.norm.logpdf(0.3), stats.t(4).logpdf(1.0)]
    >>> np.allclose(lp, expected)
    True
    """
    value, mu, sigma, heavy, lower, upper = (
        pt.as_tensor_variable(v) for v in (value, mu, sigma, heavy, lower, upper)
    )
    z = (value - mu) / sigma
    normal = -0.5 * z**2 - 0.5 * math.log(2.0 * math.pi)
    t_norm = math.lgamma((df + 1.0) / 2.0) - math.lgamma(df / 2.0) - 0.5 * math.log(df * math.pi)
    student = t_norm - 0.5 * (df + 1.0) * pt.log1p(z**2 / df)
    density = pt.switch(heavy > 0, student, normal) - pt.log(sigma)
    at_low = value <= lower
    rows = pt.nonzero(at_low | (value >= upper))[0]
    # P(Y <= lower) = F(z) and, both laws being symmetric, P(Y >= upper) = F(-z)
    z_tail = pt.switch(at_low[rows], z[rows], -z[rows])
    tail = pt.switch(heavy[rows] > 0, student_t_logcdf(z_tail, df), normal_lcdf(0.0, 1.0, z_tail))
    return pt.set_subtensor(density[rows], tail)
