"""Exact reparameterisations of the latent random walk, and the drift they leave implicit.

The increments of the latent path of one state over ``n`` steps are

    e[t, :] = drift + volatility * (L @ z[t, :]),   z[t, :] ~ N(0, I),

with ``drift ~ N(drift_mu, diag(drift_tau^2))`` per state. Sampled as written, the drift and
the slow components of ``z`` trade off against each other (both make trends) and NUTS needs
long trajectories. The model samples the same distribution in other coordinates:

* the **realised drift** ``D = drift + volatility * (L @ mean_t z)``, the mean increment, whose
  marginal given the hyperparameters is ``N(drift_mu, diag(drift_tau^2) + Sigma / n)`` with
  ``Sigma = diag(volatility) C diag(volatility)`` (``C = L L^T``); the data pin it, so it is
  sampled centred;
* the **deviations** of the increments from their mean, ``z - mean_t z``, written in the
  orthonormal basis of :func:`complement_basis` (``n - 1`` coefficients, independent standard
  normal, since the basis is orthonormal and orthogonal to the constant vector); in that
  basis the random walk's prior precision is diagonal, so slow and fast components are
  separate coordinates a diagonal mass matrix can scale;
* the **drift** itself enters the likelihood only through ``D``: given ``D`` and the
  hyperparameters it is Gaussian and independent of the data, so it is drawn after sampling
  by :func:`drift_given_realised` (what the projection needs to continue the walk).

The change of variables ``(drift, z) -> (D, deviations, drift | D)`` is linear with unit
Jacobian in the standardised coordinates; the joint distribution is unchanged.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray


def complement_basis(n: int) -> NDArray[np.float64]:
    """Orthonormal basis of the vectors of length ``n`` orthogonal to the constant vector.

    The columns are the eigenvectors (largest eigenvalue first) of ``P C^T C P``, with ``C``
    the ``n x n`` cumulative-sum matrix and ``P`` the projection off the constant vector:
    the prior covariance of the path a deviation vector makes. Signs are fixed (each column's
    largest-magnitude entry is positive) so that the basis does not depend on LAPACK's choice.

    Parameters
    ----------
    n
        Number of increments (latent steps minus one), at least 1 (one increment has no
        deviation from its mean: the basis has no column).

    Returns
    -------
    numpy.ndarray
        ``(n, n - 1)``.

    Examples
    --------
    >>> q = complement_basis(5)
    >>> q.shape
    (5, 4)
    >>> bool(np.allclose(q.T @ q, np.eye(4))), bool(np.allclose(q.sum(axis=0), 0.0))
    (True, True)
    """
    if n < 1:
        raise ValueError(f"a random walk needs at least one increment, got {n}")
    if n == 1:
        return np.zeros((1, 0))
    cumsum = np.tril(np.ones((n, n)))
    project = np.eye(n) - 1.0 / n
    values, vectors = np.linalg.eigh(project @ cumsum.T @ cumsum @ project)
    # the constant vector is the null direction: drop the smallest eigenvalue
    order = np.argsort(-values)[: n - 1]
    basis = vectors[:, order]
    peak = basis[np.argmax(np.abs(basis), axis=0), np.arange(n - 1)]
    return np.asarray(basis * np.sign(peak), dtype=np.float64)


def realised_drift_cov(
    drift_tau: NDArray[np.float64],
    volatility: NDArray[np.float64],
    corr: NDArray[np.float64],
    n: int,
) -> NDArray[np.float64]:
    """Covariance of the realised drift given the hyperparameters, ``(..., state, pole, pole)``.

    ``drift_tau`` has shape ``(..., pole)``, ``volatility`` ``(..., state, pole)`` and
    ``corr`` ``(..., pole, pole)``.
    """
    tau2 = np.asarray(drift_tau)[..., None, :, None] ** 2 * np.eye(drift_tau.shape[-1])
    sigma = volatility[..., :, None] * corr[..., None, :, :] * volatility[..., None, :]
    return np.asarray(tau2 + sigma / n)


def drift_given_realised(
    realised: NDArray[np.float64],
    drift_mu: NDArray[np.float64],
    drift_tau: NDArray[np.float64],
    volatility: NDArray[np.float64],
    corr: NDArray[np.float64],
    n: int,
    *,
    random_seed: int | np.random.Generator,
) -> NDArray[np.float64]:
    """Draw each state's drift given its realised drift (the mean increment over ``n`` steps).

    With ``T = diag(drift_tau^2)`` and ``V = T + Sigma / n`` (:func:`realised_drift_cov`),
    ``drift | D ~ N(drift_mu + T V^-1 (D - drift_mu), T - T V^-1 T)``.

    Parameters
    ----------
    realised
        ``(..., state, pole)``.
    drift_mu, drift_tau
        ``(..., pole)``.
    volatility
        ``(..., state, pole)``.
    corr
        ``(..., pole, pole)``: correlation of the innovations across poles.
    n
        Number of increments the realised drift averages.
    random_seed
        Seed or generator of the draw.

    Returns
    -------
    numpy.ndarray
        Drifts, the shape of ``realised``.

    Examples
    --------
    With no spread across states the drift is the pole mean, whatever the realised drift:

    >>> d = drift_given_realised(
    ...     np.array([[0.3, -0.2]]), np.array([0.1, 0.0]), np.array([0.0, 0.0]),
    ...     np.array([[0.1, 0.1]]), np.eye(2), 20, random_seed=1,
    ... )
    >>> d.round(6).tolist()
    [[0.1, 0.0]]
    """
    rng = np.random.default_rng(random_seed)
    cov = realised_drift_cov(drift_tau, volatility, corr, n)
    tau2 = np.asarray(drift_tau, dtype=float) ** 2
    # gain = V^-1 T (V and T symmetric): the posterior mean is mu + gain^T (D - mu)
    t_mat = tau2[..., None, :, None] * np.eye(tau2.shape[-1])
    t_mat = np.broadcast_to(t_mat, cov.shape)
    gain = np.linalg.solve(cov, t_mat)
    centred = realised - drift_mu[..., None, :]
    mean = drift_mu[..., None, :] + np.einsum("...ij,...i->...j", gain, centred)
    var = t_mat - np.einsum("...ij,...jk->...ik", t_mat, gain)
    var = 0.5 * (var + np.swapaxes(var, -1, -2))
    # T - T V^-1 T is positive semi-definite; clip rounding below zero before the square root
    values, vectors = np.linalg.eigh(var)
    root = vectors * np.sqrt(np.clip(values, 0.0, None))[..., None, :]
    noise = rng.standard_normal(realised.shape)
    return np.asarray(mean + np.einsum("...ij,...j->...i", root, noise))
