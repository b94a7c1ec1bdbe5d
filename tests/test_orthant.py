"""Full-Sigma Gaussian orthant probabilities: MC, QMC-SOV and minimax tilting against
closed forms, the one-factor integral, scipy, and R mvtnorm::pmvnorm fixtures.

Every problem is padded to K = 67 variables with excluded (tau = +inf) ones, so each
estimator compiles once; that padding is itself the exclusion convention under test.
"""

import json
import os

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy import special, stats

from cofail_jax._src.onefactor import equal_loading_beta
from cofail_jax._src.orthant import OK, make_orthant_estimator, mvn_orthant, reorder_cholesky

K = 67
N = {"mc": 2 ** 19, "qmc": 2 ** 14, "tilting": 2 ** 13}
FIXTURE = os.path.join(os.path.dirname(__file__), "fixtures", "mvtnorm_reference.json")


@pytest.fixture(scope="module")
def est():
    return {m: make_orthant_estimator(m, N[m]) for m in N}


def pad(tau, corr):
    k = len(tau)
    t = np.full(K, np.inf)
    t[:k] = tau
    c = np.eye(K)
    c[:k, :k] = corr
    return jnp.asarray(t), jnp.asarray(c)


def equi(k, rho):
    c = np.full((k, k), rho)
    np.fill_diagonal(c, 1.0)
    return c


def check(r, ref, nsig, ref_err=0.0):
    assert int(r.status) == OK
    se = float(r.std_err)
    tol = nsig * np.hypot(se, ref_err) + 1e-14
    assert abs(float(r.prob) - ref) < tol, (float(r.prob), ref, se, ref_err)


@pytest.mark.parametrize("method", list(N))
def test_k2_equals_bivariate_normal(est, method):
    tau, rho = np.array([-0.5, 0.3]), 0.6
    ref = stats.multivariate_normal([0, 0], equi(2, rho)).cdf(tau)
    r = est[method](jax.random.key(1), *pad(tau, equi(2, rho)))
    check(r, ref, 4, 1e-7)
    if method == "mc":
        assert int(r.n_samples) == N["mc"] and 0 < int(r.hits) < N["mc"]
        assert float(r.prob) == int(r.hits) / N["mc"]


@pytest.mark.parametrize("method", list(N))
def test_equicorrelated_matches_one_factor_integral(est, method):
    rng = np.random.default_rng(5)
    tau = stats.norm.ppf(rng.uniform(0.1, 0.5, 20))
    ref = float(equal_loading_beta(jnp.asarray(tau), 0.45))
    r = est[method](jax.random.key(2), *pad(tau, equi(20, 0.45)))
    check(r, ref, 3)


@pytest.mark.parametrize("method", list(N))
def test_independence_is_the_product(est, method):
    rng = np.random.default_rng(6)
    tau = stats.norm.ppf(rng.uniform(0.93, 0.999, K))
    ref = np.exp(special.log_ndtr(tau).sum())
    r = est[method](jax.random.key(3), jnp.asarray(tau), jnp.eye(K))
    check(r, ref, 4)
    if method == "tilting":  # SOV integrand is constant: exact
        np.testing.assert_allclose(float(r.log_prob), np.log(ref), rtol=1e-12)
    if method == "qmc":  # constant integrand: only the float32 kernel's rounding, which
        # the standard error covers (a floor of 1e-7 per dimension, relative)
        assert 0 < float(r.std_err) <= 1e-7 * K * float(r.prob) * 1.001
        assert abs(float(r.log_prob) - np.log(ref)) < float(r.std_err) / float(r.prob)


@pytest.mark.parametrize("method", ["qmc", "tilting"])
def test_matches_scipy_multivariate_normal(est, method):
    rng = np.random.default_rng(7)
    k = 12
    A = rng.normal(size=(k, 3))
    S = A @ A.T + np.diag(rng.uniform(0.5, 1.5, k))
    d = np.sqrt(np.diag(S))
    C = S / d[:, None] / d[None, :]
    tau = stats.norm.ppf(rng.uniform(0.2, 0.6, k))
    ref = stats.multivariate_normal.cdf(tau, np.zeros(k), C, abseps=1e-9, releps=1e-6,
                                        maxpts=2_000_000, rng=np.random.default_rng(0))
    r = est[method](jax.random.key(4), *pad(tau, C))
    check(r, ref, 4, 1e-6 * ref)


def _fixture_cases():
    with open(FIXTURE) as f:
        doc = json.load(f)
    return doc["cases"]


@pytest.mark.parametrize("case", [0, 1])
@pytest.mark.parametrize("method", list(N))
def test_matches_r_mvtnorm_pmvnorm(est, case, method):
    c = _fixture_cases()[case]
    tau, corr = np.asarray(c["tau"]), np.asarray(c["corr"])
    assert c["k"] == len(tau) in (38, 67)
    # R's error is a 99 % bound (3.5 sigma); use it as one sigma, conservatively
    r = est[method](jax.random.key(5), *pad(tau, corr))
    check(r, c["prob"], 4, c["error"])


def test_same_key_identical_and_devices_exact(est):
    assert jax.device_count() == 4  # conftest forces 4 host devices
    rng = np.random.default_rng(8)
    k = 30
    tau = stats.norm.ppf(rng.uniform(0.2, 0.5, k))
    t, c = pad(tau, equi(k, 0.3))
    key = jax.random.key(9)
    for m in N:
        a = est[m](key, t, c)
        b = est[m](key, t, c)
        # per-sample (per-chunk) keys define MC and tilting: 1 device gives the same bits
        one = make_orthant_estimator(m, N[m], devices=None)(key, t, c) if m != "qmc" else b
        for x in (b, one):  # same key and count -> same bits, on 4 devices or 1
            assert float(x.prob) == float(a.prob) and float(x.std_err) == float(a.std_err)
        other = est[m](jax.random.key(10), t, c)
        assert float(other.prob) != float(a.prob)
        assert abs(float(other.prob) - float(a.prob)) < 5 * np.hypot(float(a.std_err),
                                                                     float(other.std_err))


def test_vmap_over_keys_and_reordering():
    est1 = make_orthant_estimator("mc", 2 ** 12, devices=None)
    tau = jnp.asarray([-0.3, 0.1, np.inf, -1.0])
    c = jnp.asarray(equi(4, 0.5))
    keys = jax.random.split(jax.random.key(0), 3)
    rv = jax.vmap(est1, in_axes=(0, None, None))(keys, tau, c)
    for i in range(3):
        assert int(rv.hits[i]) == int(est1(keys[i], tau, c).hits)
    t, L, perm = reorder_cholesky(tau, c)
    np.testing.assert_allclose(np.asarray(L @ L.T), np.asarray(c)[np.ix_(perm, perm)], atol=1e-12)
    assert int(perm[-1]) == 2  # the excluded variable goes last
    assert int(perm[0]) == 3  # the tightest constraint goes first


def test_auto_uses_tilting_in_the_far_tail():
    rng = np.random.default_rng(11)
    k = 20
    tau = stats.norm.ppf(rng.uniform(0.1, 0.3, k))
    t, c = pad(tau, equi(k, 0.3))
    r = mvn_orthant(jax.random.key(0), t, c, n_samples=2 ** 13)
    ref = float(equal_loading_beta(jnp.asarray(tau), 0.3))
    assert ref < 1e-4 and int(r.method) == 2
    check(r, ref, 4)
    assert float(r.std_err) / float(r.prob) < 0.05


def test_qmc_far_below_float_underflow_uses_the_exact_kernel(est):
    # beta ~ 1e-595: the float32 kernel would underflow; the log-space fallback is exact
    # for a constant integrand (independent models)
    tau = np.full(K, np.inf)
    tau[:3] = -30.0
    r = est["qmc"](jax.random.key(5), jnp.asarray(tau), jnp.eye(K))
    assert int(r.status) == OK
    np.testing.assert_allclose(float(r.log_prob), 3 * special.log_ndtr(-30.0), rtol=1e-12)


def test_adaptive_qmc_far_tail_fallback_under_vmap():
    # one member in the far tail (beta ~ 1e-595: redone by the exact kernel), one not;
    # vmapped, each gets its own correct answer
    est = jax.vmap(make_orthant_estimator("qmc", 2 ** 12, devices=None, rel_error=0.01),
                   in_axes=(None, 0, 0))
    taus = jnp.asarray([[-30.0, -30.0, -30.0], [0.3, -0.2, 0.5]])
    corrs = jnp.asarray(np.stack([np.eye(3), equi(3, 0.4)]))
    r = est(jax.random.key(6), taus, corrs)
    assert np.all(np.asarray(r.status) == OK)
    np.testing.assert_allclose(float(r.log_prob[0]), 3 * special.log_ndtr(-30.0), rtol=1e-12)
    ref = stats.multivariate_normal(np.zeros(3), equi(3, 0.4)).cdf(np.asarray(taus[1]))
    assert abs(float(r.prob[1]) - ref) < 4 * float(r.std_err[1]) + 1e-6
