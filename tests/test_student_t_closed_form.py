"""The Student-t copula's fast path: the Dunnett-Sobel bivariate t (integer nu) against R
mvtnorm's TVPACK (tests/fixtures/mvt_reference.json, command inside) and the mixture
quadrature, its closed-form r-derivative, and the pool-once calibration a subset indexes."""

import json
import os

import jax
import jax.numpy as jnp
import numpy as np

from cofail_jax._src import mvt

FIXTURE = os.path.join(os.path.dirname(__file__), "fixtures", "mvt_reference.json")

# Jitted once for the module (eager calls compile every operation on its own): nu static,
# so a concrete integer nu takes the closed form exactly as in an eager call.
bvt_cdf_integer = jax.jit(mvt.bvt_cdf_integer, static_argnums=3)
bvt_dr = jax.jit(mvt.bvt_dr, static_argnums=3)
bvt_cdf = jax.jit(mvt.bvt_cdf, static_argnums=3)
t_cdf = jax.jit(mvt.t_cdf, static_argnums=1)
t_quantile = jax.jit(mvt.t_quantile, static_argnums=1)
calibrate_pairs = jax.jit(mvt.calibrate_pairs, static_argnums=3)
calibrate_pairs_all = jax.jit(mvt.calibrate_pairs_all, static_argnums=3)


def test_closed_form_matches_r_tvpack_and_the_quadrature():
    with open(FIXTURE) as f:
        b = json.load(f)["bivariate"]
    h, k, r, nu = (np.array([c[x] for c in b]) for x in ("h", "k", "r", "nu"))
    want = np.array([c["prob"] for c in b])
    for n in np.unique(nu):  # 1, 3, 8: odd and even branches
        s = nu == n
        got = np.asarray(bvt_cdf_integer(h[s], k[s], r[s], int(n)))
        np.testing.assert_allclose(got, want[s], rtol=0, atol=1e-14)
    # nu = 4 (the copula's default) and 5 against the mixture quadrature (traced nu)
    rs = np.random.RandomState(0)
    H, K, R = rs.randn(3, 200)
    R = np.tanh(1.2 * R)
    mix = jax.jit(mvt.bvt_cdf)
    for n in (4, 5):
        np.testing.assert_allclose(bvt_cdf_integer(H, K, R, n), mix(H, K, R, float(n)),
                                   rtol=0, atol=1e-12)
    # r-derivative: closed form against central differences of the closed form
    m = np.abs(R) < 0.95
    e = 1e-5
    fd = (bvt_cdf_integer(H, K, R + e, 4) - bvt_cdf_integer(H, K, R - e, 4)) / (2 * e)
    d = bvt_dr(H, K, R, 4.0)
    np.testing.assert_allclose(np.asarray(d)[m], np.asarray(fd)[m], rtol=1e-7)
    # the limits r = +-1 and infinite thresholds of the public bvt_cdf
    t = t_cdf(np.array([-0.3, 0.8]), 4.0)
    assert abs(float(bvt_cdf(-0.3, 0.8, 1.0, 4.0)) - float(t[0])) < 1e-15
    assert abs(float(bvt_cdf(-0.3, 0.8, -1.0, 4.0)) - max(float(t[0] + t[1]) - 1, 0)) < 1e-15
    assert abs(float(bvt_cdf(jnp.inf, 0.8, 0.4, 4.0)) - float(t[1])) < 1e-15


def test_pool_calibration_once_equals_per_subset():
    rs = np.random.RandomState(1)
    K = 6
    z = rs.randn(400, 1) * 0.7 + rs.randn(400, K) * 0.7
    e = z < rs.uniform(-1, 0, K)
    p = e.mean(0)
    pb = (e.T.astype(float) @ e) / 400
    t = t_quantile(jnp.asarray(p), 4.0)
    r0 = np.corrcoef(e.T)
    cal = ~np.eye(K, dtype=bool)
    r, err = calibrate_pairs_all(t, jnp.asarray(pb), jnp.asarray(r0), 4.0, jnp.asarray(cal))
    r, err = np.asarray(r), np.asarray(err)
    assert err.max() < 1e-14  # every pair reproduced (closed form, 8 Newton steps)
    np.testing.assert_allclose(np.asarray(bvt_cdf(t[0], t[3], r[0, 3], 4.0)), pb[0, 3],
                               rtol=1e-13)
    idx = np.array([1, 3, 4])  # a subset's pairs are the pool's: same correlations
    rs_, es = calibrate_pairs(t[idx], jnp.asarray(pb[np.ix_(idx, idx)]),
                                  jnp.asarray(r0[np.ix_(idx, idx)]), 4.0,
                                  jnp.asarray(cal[np.ix_(idx, idx)]))
    np.testing.assert_allclose(np.asarray(rs_), r[np.ix_(idx, idx)], rtol=0, atol=1e-15)
    assert float(es) <= err[np.ix_(idx, idx)].max() + 1e-16
