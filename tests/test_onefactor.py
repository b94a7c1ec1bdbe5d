"""One-factor pricing: quadrature vs scipy quad and closed forms, fitted loadings,
effective correlation, the +inf exclusion convention."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy import integrate, optimize, special, stats

from cofail_jax._src.onefactor import (
    FIT_OK,
    effective_correlation,
    equal_loading_beta,
    fit_loadings,
    onefactor_log_beta,
)

log_beta = jax.jit(jax.vmap(onefactor_log_beta))
log_beta1 = jax.jit(onefactor_log_beta)


def quad_log_beta(tau, lam):
    """Independent reference: scipy quad of the same integrand, split at its mode."""
    s = np.sqrt(1 - lam ** 2)

    def lg(z):
        return stats.norm.logpdf(z) + special.log_ndtr((tau - lam * z) / s).sum()

    m = optimize.minimize_scalar(lambda z: -lg(z), bounds=(-40, 40), method="bounded",
                                 options={"xatol": 1e-12}).x
    g0 = lg(m)

    def f(z):
        return np.exp(lg(z) - g0)

    a = integrate.quad(f, -np.inf, m, epsabs=0, epsrel=1e-13, limit=500)[0]
    b = integrate.quad(f, m, np.inf, epsabs=0, epsrel=1e-13, limit=500)[0]
    return g0 + np.log(a + b)


@pytest.mark.parametrize("k", [2, 40, 500])
def test_quadrature_matches_scipy_quad(k):
    rng = np.random.default_rng(k)
    taus, lams = [], []
    for rho_bar in (0.05, 0.3, 0.6, 0.95):
        for acc in ((0.3, 0.95), (0.9, 0.999), (0.01, 0.2)):
            taus.append(stats.norm.ppf(1 - rng.uniform(*acc, k)))
            lam = np.sqrt(rho_bar) * rng.uniform(0.9, 1.1, k)
            lams.append(np.clip(lam, 0.0, 0.995))
    taus, lams = np.array(taus), np.array(lams)
    got = np.asarray(log_beta(jnp.asarray(taus), jnp.asarray(lams)))
    ref = np.array([quad_log_beta(t, l) for t, l in zip(taus, lams)])
    rel = np.abs(np.expm1(got - ref))
    assert rel.max() < 1e-8, (rel.max(), ref[rel.argmax()])


def test_k2_equals_bivariate_normal():
    rho = np.array([0.05, 0.3, 0.7, 0.95])
    tau = np.array([[-1.0, 0.4], [0.0, 0.0], [-2.5, -0.3], [-1.2, -1.9]])
    got = np.exp(np.asarray(log_beta(jnp.asarray(tau), jnp.sqrt(jnp.asarray(rho))[:, None]
                                     * jnp.ones((1, 2)))))
    ref = [stats.multivariate_normal([0, 0], [[1, r], [r, 1]]).cdf(t) for t, r in zip(tau, rho)]
    np.testing.assert_allclose(got, ref, rtol=1e-6)  # scipy's own bvn accuracy
    # the orthant closed form 1/4 + asin(rho)/(2 pi) to full precision
    np.testing.assert_allclose(got[1], 0.25 + np.arcsin(0.3) / (2 * np.pi), rtol=1e-13)


def test_independence_and_exclusion():
    rng = np.random.default_rng(1)
    tau = stats.norm.ppf(rng.uniform(0.05, 0.6, 40))
    lam0 = np.zeros(40)
    got = float(log_beta1(jnp.asarray(tau), jnp.asarray(lam0)))
    np.testing.assert_allclose(got, special.log_ndtr(tau).sum(), rtol=1e-13)
    # +inf excludes a model whatever its loading (even 1): exact factor 1
    lam = rng.uniform(0.3, 0.9, 40)
    tau_x = tau.copy()
    tau_x[[3, 17]] = np.inf
    lam_x = lam.copy()
    lam_x[3] = 1.0
    lam_x[17] = -0.99999
    a = [float(log_beta1(jnp.asarray(tau_x), jnp.asarray(x))) for x in (lam_x, lam)]
    keep = np.isfinite(tau_x)
    b = quad_log_beta(tau[keep], lam[keep])
    np.testing.assert_allclose(a, [b, b], rtol=1e-10)
    # a model that is never wrong makes the all-wrong event impossible
    tau_n = tau.copy()
    tau_n[0] = -np.inf
    assert float(jnp.exp(log_beta1(jnp.asarray(tau_n), jnp.asarray(lam)))) == 0.0


def test_equal_loading_and_effective_correlation_round_trip():
    rng = np.random.default_rng(2)
    tau = jnp.asarray(stats.norm.ppf(rng.uniform(0.05, 0.5, 30)))
    eff = jax.jit(effective_correlation)
    for rho in (0.02, 0.37, 0.9):
        b = jnp.exp(log_beta1(tau, jnp.full(30, np.sqrt(rho))))
        assert abs(float(eff(tau, b)) - rho) < 1e-9
    np.testing.assert_allclose(float(equal_loading_beta(tau, 0.37)),
                               float(jnp.exp(log_beta1(tau, jnp.full(30, np.sqrt(0.37))))))
    # below independence (negative dependence, beta = 0) and above min Phi(tau): NaN
    # (targets as float64 arrays, like b above: one compilation, not one per weak type)
    assert np.isnan(float(eff(tau, jnp.float64(1e-40))))
    assert np.isnan(float(eff(tau, jnp.float64(0.9))))
    # no recompilation for new values of the same shape
    n = eff._cache_size()
    eff(tau + 0.1, jnp.float64(0.01))
    assert eff._cache_size() == n


def test_fit_loadings_recovers_one_factor_and_weights():
    rng = np.random.default_rng(3)
    k = 25
    lam = rng.uniform(-0.3, 0.9, k)
    R = np.outer(lam, lam)
    np.fill_diagonal(R, 1.0)
    fit = jax.jit(fit_loadings)
    res = fit(jnp.asarray(R))
    assert int(res.status) == FIT_OK
    np.testing.assert_allclose(np.asarray(res.loadings), lam, atol=1e-6)
    assert float(res.residual_rms) < 1e-6
    # zero weights exclude a model whose correlations are NaN
    W = np.ones((k, k))
    W[:, 4] = W[4, :] = 0.0
    R2 = R.copy()
    R2[:, 4] = R2[4, :] = np.nan
    res2 = fit(jnp.asarray(R2), jnp.asarray(W))
    m = np.arange(k) != 4
    np.testing.assert_allclose(np.asarray(res2.loadings)[m], lam[m], atol=1e-6)
    assert np.isfinite(float(res2.loss))
    # a two-factor matrix: the residual is reported and equals the numpy formula
    lam2 = rng.uniform(0.0, 0.6, k)
    R3 = np.outer(lam, lam) + np.outer(lam2, lam2) * np.sign(np.arange(k) - k / 2)[:, None] \
        * np.sign(np.arange(k) - k / 2)[None, :]
    R3 = (R3 + R3.T) / 2
    np.fill_diagonal(R3, 1.0)
    res3 = fit(jnp.asarray(R3))
    L = np.asarray(res3.loadings)
    iu = np.triu_indices(k, 1)
    rms = np.sqrt(np.mean((R3 - np.outer(L, L))[iu] ** 2))
    np.testing.assert_allclose(float(res3.residual_rms), rms, rtol=1e-10)
    assert rms > 0.05
    # optimality: the gradient of the least-squares loss vanishes at the fit
    assert float(res3.grad_norm) < 1e-6


def test_grad_matches_finite_differences():
    rng = np.random.default_rng(4)
    tau = jnp.asarray(stats.norm.ppf(rng.uniform(0.1, 0.5, 40)))
    lam = jnp.asarray(rng.uniform(0.3, 0.8, 40))
    g = jax.jit(jax.grad(onefactor_log_beta, argnums=(0, 1)))(tau, lam)
    eps = 1e-6
    for which, arr in ((0, tau), (1, lam)):
        args = [tau, lam]
        args[which] = arr.at[5].add(eps)
        up = float(log_beta1(*args))
        args[which] = arr.at[5].add(-eps)
        dn = float(log_beta1(*args))
        np.testing.assert_allclose(float(g[which][5]), (up - dn) / (2 * eps), rtol=1e-6)
