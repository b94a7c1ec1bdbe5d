"""Correlation-matrix repair: Higham's published example, PSD + unit diagonal on an
indefinite 67 x 67 tetrachoric matrix, and the eigenvalue report."""

import numpy as np

from cofail_jax._src.repair import clip_correlation, nearest_correlation
from cofail_jax._src.tetrachoric import NOT_CONVERGED, tetrachoric


def test_higham_example():
    # Higham (2002), section 4: the nearest correlation matrix to this A
    a = np.array([[1, 1, 0], [1, 1, 1], [0, 1, 1]], float)
    res = nearest_correlation(a, tol=1e-12)
    expected = np.array([[1, 0.7607, 0.1573], [0.7607, 1, 0.7607], [0.1573, 0.7607, 1]])
    np.testing.assert_allclose(np.asarray(res.corr), expected, atol=5e-5)
    assert bool(res.converged)
    assert int(res.n_negative) == 1
    assert abs(float(res.min_eig_before) - (1 - np.sqrt(2))) < 1e-12
    assert float(res.min_eig_after) > -1e-12
    assert abs(float(res.frobenius_distance) - np.linalg.norm(np.asarray(res.corr) - a)) < 1e-12
    # optimality: no random valid correlation matrix is closer
    rng = np.random.default_rng(0)
    d = float(res.frobenius_distance)
    for _ in range(50):
        g = rng.normal(size=(3, 6))
        c = np.corrcoef(g)
        assert np.linalg.norm(c - a) >= d - 1e-9
    clip = clip_correlation(a)
    assert float(clip.frobenius_distance) >= d - 1e-12
    assert float(clip.min_eig_after) > -1e-12


def test_valid_input_is_unchanged():
    rng = np.random.default_rng(1)
    c = np.corrcoef(rng.normal(size=(5, 40)))
    res = nearest_correlation(c)
    np.testing.assert_allclose(np.asarray(res.corr), c, atol=1e-12)
    assert int(res.n_negative) == 0 and int(res.n_iter) <= 2


def _pool_67(n=330, k=67, seed=7):
    """A fixed-seed 2PL pool: many boundary-free pairs, an indefinite tetrachoric matrix."""
    rng = np.random.default_rng(seed)
    theta = rng.normal(size=(k, 1))
    b = rng.normal(size=(1, n)) * 1.2
    a = rng.lognormal(0.0, 0.3, size=(1, n))
    p = 1 / (1 + np.exp(-a * (theta + 1.0 - b)))
    return rng.random((k, n)).T > p.T  # errors (n, k)


def test_67_model_matrix_repaired_to_psd_unit_diagonal():
    E = _pool_67()
    res = tetrachoric(E)
    keep = ~np.any(np.asarray(res.status) == 3, axis=0)  # no degenerate models here
    rho = np.asarray(res.rho)[np.ix_(keep, keep)]
    assert rho.shape[0] == 67
    lam = np.linalg.eigvalsh(rho)
    assert lam[0] < 0  # indefinite, as the issue expects
    for repair in (nearest_correlation, clip_correlation):
        out = repair(rho)
        c = np.asarray(out.corr)
        np.testing.assert_allclose(np.diag(c), 1.0, atol=1e-14)
        np.testing.assert_allclose(c, c.T, atol=0)
        assert np.linalg.eigvalsh(c)[0] > -1e-12
        assert int(out.n_negative) == int(np.sum(lam < -1e-12))
        assert abs(float(out.min_eig_before) - lam[0]) < 1e-10
        assert abs(float(out.frobenius_distance) - np.linalg.norm(c - rho)) < 1e-10
        assert bool(out.converged)
    assert float(nearest_correlation(rho).frobenius_distance) <= float(
        clip_correlation(rho).frobenius_distance) + 1e-9
    upper = np.asarray(res.status)[np.triu_indices(67, 1)]
    assert int(res.n_ok) > 0 and np.all(upper != NOT_CONVERGED)
