"""The random walk's reparameterisation is exact: same increments' distribution, same drifts."""

from __future__ import annotations

import numpy as np
import pytest

from forecast.model.random_walk import (
    complement_basis,
    drift_given_realised,
    realised_drift_cov,
)


def random_corr(rng: np.random.Generator, k: int) -> np.ndarray:
    a = rng.normal(size=(k, k + 2))
    cov = a @ a.T
    d = np.sqrt(np.diag(cov))
    return cov / d[:, None] / d[None, :]


@pytest.mark.parametrize("n", [1, 2, 7, 28])
def test_basis_is_orthonormal_and_orthogonal_to_the_mean(n: int) -> None:
    q = complement_basis(n)
    assert q.shape == (n, n - 1)
    np.testing.assert_allclose(q.T @ q, np.eye(n - 1), atol=1e-12)
    np.testing.assert_allclose(q.sum(axis=0), 0.0, atol=1e-12)
    # and it diagonalises the prior covariance of the path a deviation makes, slowest first
    c = np.tril(np.ones((n, n)))
    m = q.T @ c.T @ c @ q
    np.testing.assert_allclose(m, np.diag(np.diag(m)), atol=1e-9)
    assert (np.diff(np.diag(m)) <= 1e-12).all()


def test_increments_have_the_original_covariance() -> None:
    """D 1^T + vol * L (Q w) has the covariance of drift 1^T + vol * L z, exactly."""
    rng = np.random.default_rng(3)
    n, k = 9, 3
    tau = np.array([0.02, 0.05, 0.01])
    vol = np.array([0.1, 0.2, 0.15])
    corr = random_corr(rng, k)
    sigma = vol[:, None] * corr * vol[None, :]
    ones = np.ones((n, 1))
    # original: increments (time x pole) flattened time-major, drift ~ N(mu, diag(tau^2)),
    # z iid standard normal, correlated across poles by L
    original = np.kron(ones @ ones.T, np.diag(tau**2)) + np.kron(np.eye(n), sigma)
    # reparameterised: D ~ N(mu, diag(tau^2) + sigma / n), deviations Q w correlated by L
    cov_d = realised_drift_cov(tau, vol[None, :], corr, n)[0]
    q = complement_basis(n)
    new = np.kron(ones @ ones.T, cov_d) + np.kron(q @ q.T, sigma)
    np.testing.assert_allclose(new, original, atol=1e-12)


def test_drift_given_realised_restores_the_joint_distribution() -> None:
    """Drawing D from its marginal, then drift | D, gives the joint of (drift, D)."""
    rng = np.random.default_rng(11)
    n, k, draws = 12, 3, 200_000
    mu = np.array([0.03, -0.01, 0.0])
    tau = np.array([0.02, 0.04, 0.01])
    vol = np.array([[0.1, 0.2, 0.15]])
    corr = random_corr(rng, k)
    cov_d = realised_drift_cov(tau, vol, corr, n)[0]
    realised = rng.multivariate_normal(mu, cov_d, size=draws)[:, None, :]
    drift = drift_given_realised(
        realised,
        np.broadcast_to(mu, (draws, k)),
        np.broadcast_to(tau, (draws, k)),
        np.broadcast_to(vol, (draws, 1, k)),
        np.broadcast_to(corr, (draws, k, k)),
        n,
        random_seed=5,
    )[:, 0, :]
    # the generative process: drift ~ N(mu, T), D = drift + noise with covariance sigma / n
    joint = np.cov(np.concatenate([drift, realised[:, 0, :]], axis=1).T)
    t_mat = np.diag(tau**2)
    expected = np.block([[t_mat, t_mat], [t_mat, cov_d]])
    np.testing.assert_allclose(joint, expected, atol=4e-5)
    np.testing.assert_allclose(drift.mean(axis=0), mu, atol=2e-4)


def test_drift_draws_are_reproducible() -> None:
    args = (
        np.array([[0.3, -0.2]]),
        np.array([0.1, 0.0]),
        np.array([0.05, 0.02]),
        np.array([[0.1, 0.1]]),
        np.eye(2),
        20,
    )
    a = drift_given_realised(*args, random_seed=1)
    assert np.array_equal(a, drift_given_realised(*args, random_seed=1))
    assert not np.array_equal(a, drift_given_realised(*args, random_seed=2))


def test_graph_uses_the_same_realised_drift_covariance(bundled_data, default_spec) -> None:
    from forecast.model.graph import build_alignment_model

    model = build_alignment_model(bundled_data, default_spec)
    cov = model["drift_realised"].owner.inputs[-1]  # MvNormal(rng, size, mu, cov)
    names = ["drift_tau", "volatility", "innovation_corr"]
    outs = model.replace_rvs_by_values([cov, *(model[n] for n in names)])
    fn = model.compile_fn(
        outs, inputs=model.value_vars, on_unused_input="ignore", mode="FAST_COMPILE"
    )
    point = model.initial_point()
    rng = np.random.default_rng(2)
    point = {k: v + 0.3 * rng.normal(size=np.shape(v)) for k, v in point.items()}
    graph_cov, tau, vol, corr = fn(point)
    expected = realised_drift_cov(tau, vol, corr, bundled_data.n_steps - 1)
    np.testing.assert_allclose(graph_cov, expected, rtol=1e-12)
