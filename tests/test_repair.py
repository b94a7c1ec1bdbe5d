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


# ---- Newton method (Qi-Sun / Borsdorf-Higham) --------------------------------------------
import json  # noqa: E402
import os  # noqa: E402

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import pytest  # noqa: E402

from cofail_jax._src.repair import nearest_correlation_factored  # noqa: E402

FIXTURE = os.path.join(os.path.dirname(__file__), "fixtures", "nearpd_reference.json")


def _indefinite(k, seed):
    rng = np.random.default_rng(seed)
    u = rng.uniform(-1, 1, (k, k))
    u = (u + u.T) / 2
    np.fill_diagonal(u, 1.0)
    return u


def test_newton_matches_higham_on_random_indefinite():
    for k, seed, eps in ((6, 0, 0.0), (20, 1, 1e-3)):
        a = _indefinite(k, seed)
        assert np.linalg.eigvalsh(a)[0] < -0.1
        n = nearest_correlation(a, method="newton", eps=eps)
        h = nearest_correlation(a, tol=1e-14, max_iter=20000, eps=eps)
        c = np.asarray(n.corr)
        assert bool(n.converged) and bool(h.converged)
        assert np.linalg.norm(c - np.asarray(h.corr)) < 1e-10
        np.testing.assert_allclose(np.diag(c), 1.0, atol=0)
        np.testing.assert_allclose(c, c.T, atol=0)
        assert np.linalg.eigvalsh(c)[0] >= eps * (1 - 1e-9) - 1e-14
        assert int(n.n_iter) <= 10 < int(h.n_iter)
        # both report the same dual vector (Dykstra's R = A + diag(dual))
        np.testing.assert_allclose(np.asarray(n.dual), np.asarray(h.dual), atol=1e-9)
        # the eigenvalue report is the input's
        lam = np.linalg.eigvalsh(a)
        assert abs(float(n.min_eig_before) - lam[0]) < 1e-12
        assert int(n.n_negative) == int(np.sum(lam < -1e-12))


def test_newton_agrees_with_r_nearpd():
    with open(FIXTURE) as f:
        ref = json.load(f)
    assert set(ref["cases"]) == {"higham3", "uniform12", "benchmark_pool67"}
    for name, case in ref["cases"].items():
        a = np.asarray(case["input"], float)
        assert case["tight_converged"]
        n = nearest_correlation(a, method="newton")
        c = np.asarray(n.corr)
        # nearPD returns its unit-diagonal iterate, stopped at a relative change of 1e-14
        assert np.linalg.norm(c - np.asarray(case["tight"])) < 1e-9, name
        assert abs(float(n.frobenius_distance) - case["normF"]) < 1e-6
        # nearPD's defaults (conv.tol 1e-7, eigenvalues below 1e-6 * max dropped, floor
        # 1e-8 * max) land within 1e-4 of the nearest correlation matrix here
        assert np.linalg.norm(c - np.asarray(case["default"])) < 1e-4, name
    # the 67-model benchmark pool's tetrachoric matrix: Higham agrees to its tolerance
    a = np.asarray(ref["cases"]["benchmark_pool67"]["input"])
    assert np.sum(np.linalg.eigvalsh(a) < 0) == 22
    h = nearest_correlation(a)  # default tol 1e-10: Frobenius error about 1e-7
    assert np.linalg.norm(np.asarray(h.corr) - c) < 1e-6


def test_newton_vmapped_warm_start_and_factored():
    a = _indefinite(20, 2)
    eps = 1e-2
    full = nearest_correlation(a, method="newton", eps=eps)
    rng = np.random.default_rng(3)
    idx = np.stack([np.sort(rng.permutation(20)[:12]) for _ in range(4)])
    subs = np.stack([a[np.ix_(i, i)] for i in idx])
    cold = jax.jit(jax.vmap(lambda m: nearest_correlation_factored(m, eps=eps)))(subs)
    warm_fn = jax.jit(jax.vmap(lambda m, y: nearest_correlation_factored(m, y, eps=eps)))
    warm = warm_fn(subs, np.asarray(full.dual)[idx])
    for j in range(4):
        h = nearest_correlation(subs[j], tol=1e-14, max_iter=20000, eps=eps)
        np.testing.assert_allclose(np.asarray(cold.corr[j]), np.asarray(h.corr), atol=1e-10)
        np.testing.assert_allclose(np.asarray(warm.corr[j]), np.asarray(h.corr), atol=1e-10)
        lam = np.linalg.eigvalsh(subs[j])
        assert int(cold.n_negative[j]) == int(np.sum(lam < -1e-12))
        assert abs(float(cold.min_eig_before[j]) - lam[0]) < 1e-12
        f = np.asarray(cold.factor[j])
        np.testing.assert_allclose(f @ f.T, np.asarray(cold.corr[j]), atol=1e-12)
        # eigenvalue floor: 0 < bound <= smallest eigenvalue of the output
        assert 0 < float(cold.min_eig_bound[j]) <= np.linalg.eigvalsh(f @ f.T)[0] + 1e-12
    assert bool(jnp.all(cold.converged)) and bool(jnp.all(warm.converged))
    assert int(jnp.sum(cold.n_eigh)) >= int(jnp.sum(cold.n_iter)) + 4
    assert np.all(np.asarray(warm.n_negative) == -1)
    # a warm start from the solution's own dual needs no step at all
    again = warm_fn(subs, cold.dual)
    assert np.all(np.asarray(again.n_iter) == 0)
    np.testing.assert_allclose(np.asarray(again.corr), np.asarray(cold.corr), atol=1e-12)


def test_newton_edge_cases_and_errors():
    c = np.corrcoef(np.random.default_rng(1).normal(size=(5, 40)))
    res = nearest_correlation(c, method="newton")
    assert int(res.n_iter) == 0 and bool(res.converged)
    np.testing.assert_allclose(np.asarray(res.corr), c, atol=1e-12)
    bad = c.copy()
    bad[0, 1] = bad[1, 0] = np.nan
    res = nearest_correlation(bad, method="newton")
    assert not bool(res.converged) and int(res.n_iter) == 0
    with pytest.raises(NotImplementedError, match="method must be one of"):
        nearest_correlation(c, method="qi-sun")
    with pytest.raises(NotImplementedError, match="needs method='newton'"):
        nearest_correlation(c, y0=np.zeros(5))
    with pytest.raises(ValueError, match=r"y0 must be \(5,\)"):
        nearest_correlation(c, method="newton", y0=np.zeros(4))
