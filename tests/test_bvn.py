"""bvn_cdf against scipy, closed forms and high-precision quadrature; derivatives."""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy import stats

from cofail_jax._src.bvn import bvn_cdf, bvn_pdf

HS = np.array([-10, -5, -3, -1.5, -0.5, 0, 0.3, 1, 2.5, 4, 8, 10.0])
RS = np.array([-1 + 1e-9, -0.999999, -0.99, -0.95, -0.925, -0.9, -0.7, -0.3, -0.1, 0.0, 0.1,
               0.29, 0.5, 0.74, 0.8, 0.924999, 0.925, 0.96, 0.999, 0.999999, 1 - 1e-9])

_grad_jit = jax.jit(jax.grad(bvn_cdf, argnums=(0, 1, 2)))


def _grads(h, k, r):
    return [float(g) for g in _grad_jit(jnp.float64(h), jnp.float64(k), jnp.float64(r))]


def _scipy_cdf(h, k, r):
    return stats.multivariate_normal.cdf([h, k], cov=[[1, r], [r, 1]], allow_singular=True)


def test_matches_scipy_on_grid():
    H, K, R = np.meshgrid(HS, HS, RS, indexing="ij")
    got = np.asarray(bvn_cdf(H, K, R))
    with jax.disable_jit():  # eager gives the same numbers
        sub = np.asarray(bvn_cdf(H[::5, ::5, ::4], K[::5, ::5, ::4], R[::5, ::5, ::4]))
    np.testing.assert_allclose(sub, got[::5, ::5, ::4], rtol=0, atol=1e-15)
    ref = np.array([_scipy_cdf(h, k, r) for h, k, r in zip(H.ravel(), K.ravel(), R.ravel())])
    # scipy's own bivariate routine is good to a few 1e-15 here
    np.testing.assert_allclose(got.ravel(), ref, rtol=0, atol=1e-13)


def test_closed_forms():
    rho = np.concatenate([np.linspace(-1, 1, 41), [-1 + 1e-12, -1 + 1e-9, 1 - 1e-9, 1 - 1e-12]])
    got = np.asarray(bvn_cdf(0.0, 0.0, rho))
    np.testing.assert_allclose(got, 0.25 + np.arcsin(rho) / (2 * np.pi), rtol=0, atol=1e-15)
    h = np.linspace(-9, 9, 37)
    H, K = np.meshgrid(h, h, indexing="ij")
    got = np.asarray(bvn_cdf(H, K, 0.0))
    np.testing.assert_allclose(got, stats.norm.cdf(H) * stats.norm.cdf(K), rtol=0, atol=1e-15)
    # rho = +-1 exactly
    np.testing.assert_allclose(np.asarray(bvn_cdf(H, K, 1.0)), stats.norm.cdf(np.minimum(H, K)),
                               atol=1e-15)
    np.testing.assert_allclose(np.asarray(bvn_cdf(H, K, -1.0)),
                               np.maximum(0, stats.norm.cdf(H) + stats.norm.cdf(K) - 1), atol=1e-15)


def test_high_precision_quadrature_near_one():
    """Against mpmath (30 digits) of the conditional integral, rho within 1e-9 of +-1."""
    mp = pytest.importorskip("mpmath")
    mp.mp.dps = 30

    def ref(h, k, r):
        h, k, r = mp.mpf(h), mp.mpf(k), mp.mpf(r)
        s = mp.sqrt(1 - r * r)
        f = lambda x: mp.npdf(x) * mp.ncdf((k - r * x) / s)  # noqa: E731
        cut = k / r
        pts = [-mp.inf] + ([cut] if cut < h else []) + [h]
        return mp.quad(f, pts)

    cases = [(0.3, 0.2, 1 - 1e-9), (-1.2, -1.2000001, 1 - 1e-9), (2.0, -1.0, -1 + 1e-9),
             (-0.5, 0.5, -1 + 1e-9), (-10.0, -9.5, 0.99), (9.0, -9.0, -0.97), (1.0, 1.0, 0.93)]
    got = np.asarray(bvn_cdf(*(np.array(c) for c in zip(*cases))))
    for g, (h, k, r) in zip(got, cases):
        assert abs(g - float(ref(h, k, r))) < 1e-13, (h, k, r)


def test_infinite_limits_and_broadcasting():
    inf = np.inf
    got = np.asarray(bvn_cdf(np.array([inf, -inf, 0.5, inf, 0.3]),
                             np.array([0.2, 0.2, -inf, inf, inf]), 0.6))
    np.testing.assert_allclose(got, [stats.norm.cdf(0.2), 0, 0, 1, stats.norm.cdf(0.3)], atol=1e-15)
    out = bvn_cdf(np.zeros((3, 1)), np.zeros((1, 4)), np.full((2, 1, 1), 0.5))
    assert out.shape == (2, 3, 4)
    assert bvn_cdf(np.float32(0.1), np.float32(0.2), np.float32(0.3)).dtype == jnp.float32


def test_rho_derivative_is_density():
    r = jnp.linspace(-0.99, 0.99, 23)
    g = jax.jit(jax.vmap(jax.grad(bvn_cdf, argnums=2), in_axes=(None, None, 0)))(0.0, 0.0, r)
    np.testing.assert_allclose(np.asarray(g), 1 / (2 * np.pi * np.sqrt(1 - np.asarray(r) ** 2)),
                               rtol=1e-13)
    # density against scipy at general points, and finite differences of the CDF
    h, k = 0.7, -0.4
    rhos = np.array([-0.95, -0.3, 0.2, 0.93, 0.999])
    dens = np.array([stats.multivariate_normal.pdf([h, k], cov=[[1, r], [r, 1]]) for r in rhos])
    np.testing.assert_allclose(np.asarray(bvn_pdf(h, k, rhos)), dens, rtol=1e-13, atol=1e-15)
    step = 1e-5
    for j, rho in enumerate(rhos):
        g = _grads(h, k, rho)
        assert abs(g[2] - dens[j]) < 1e-13 * max(1, dens[j])
        for arg in (0, 1):
            up = np.array([h, k, rho])
            dn = up.copy()
            up[arg] += step
            dn[arg] -= step
            fd = (float(bvn_cdf(*up)) - float(bvn_cdf(*dn))) / (2 * step)
            assert abs(g[arg] - fd) < 1e-8, (arg, rho, g, fd)


def test_no_nan_gradients_at_edges():
    for h, k, r in [(0.3, 0.1, 1.0), (0.3, 0.1, -1.0), (0.0, 0.0, 1.0), (jnp.inf, 0.2, 0.5),
                    (-jnp.inf, 0.2, 0.5), (0.1, 0.2, 1 - 1e-12)]:
        gs = _grads(h, k, r)
        assert all(np.isfinite(gs)), (h, k, r, gs)
    # at rho = 1: d/dh Phi(min(h, k)) = phi(h) when h < k
    gh = _grads(0.1, 0.3, 1.0)[0]
    assert abs(gh - stats.norm.pdf(0.1)) < 1e-15
    assert math.isclose(float(bvn_pdf(0.1, 0.3, 1.0)), 0.0)
