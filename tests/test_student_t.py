"""Student-t copula and the multivariate t engine against R mvtnorm::pmvt (fixture made by
tests/fixtures/mvt_make.R, command inside), scipy and the Gaussian limit; the README's
repair snippet; the k = 2 invariant."""

import json
import os

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy import stats

from cofail_jax._src import copulas as C
from cofail_jax._src import mvt
from cofail_jax._src import pricing as P
from cofail_jax._src.orthant import NOT_PD, mvn_orthant
from cofail_jax._src.repair import nearest_correlation
from cofail_jax._src.tetrachoric import tetrachoric

FIXTURE = os.path.join(os.path.dirname(__file__), "fixtures", "mvt_reference.json")

# Jitted once for the module, nu traced: one compilation per shape and static option,
# shared by every test and every nu (eager calls would recompile each loop per nu).
t_cdf = jax.jit(mvt.t_cdf)
t_quantile = jax.jit(mvt.t_quantile)
gamma_quantile = jax.jit(mvt.gamma_quantile)
bvt_cdf = jax.jit(jax.vmap(mvt.bvt_cdf))
mvt_orthant = jax.jit(mvt.mvt_orthant, static_argnames=("method", "n_samples"))
calibrate_pairs = jax.jit(mvt.calibrate_pairs)
N_QMC = 2 ** 13  # QMC points of every orthant call (one compiled program per k)


@pytest.fixture(scope="module")
def ref():
    with open(FIXTURE) as f:
        return json.load(f)


def test_univariate_t_and_gamma_quantiles():
    x = np.array([-40.0, -3.0, -0.4, 0.0, 1.7])
    for nu in (1.0, 2.5, 30.0):
        np.testing.assert_allclose(t_cdf(x, nu), stats.t.cdf(x, nu), rtol=1e-12, atol=1e-15)
        p = np.array([1e-5, 0.02, 0.4, 0.9])
        np.testing.assert_allclose(t_quantile(p, nu), stats.t.ppf(p, nu), rtol=1e-12)
        u = np.array([1e-12, 1e-3, 0.5, 0.999])
        np.testing.assert_allclose(gamma_quantile(u, nu / 2), stats.gamma.ppf(u, nu / 2),
                                   rtol=1e-11)


def test_bivariate_t_matches_r_tvpack(ref):
    b = ref["bivariate"]
    h, k, r, nu = (np.array([c[x] for c in b]) for x in ("h", "k", "r", "nu"))
    want = np.array([c["prob"] for c in b])
    got = np.asarray(bvt_cdf(h, k, r, nu))  # one call, vmapped over the cases
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-9)  # worst at nu = 1


@pytest.mark.parametrize("case", [0, 1, 2, 3])
def test_orthant_matches_r_pmvt(ref, case):
    c = ref["cases"][case]  # nu as a float: the program test_large_nu_is_the_gaussian reuses
    assert c["k"] in (12, 38)
    runs = (("qmc", N_QMC), ("mc", 2 ** 16)) if c["nu"] == 4 else (("qmc", N_QMC),)
    for method, n in runs:
        lp, se, status, _ = mvt_orthant(jax.random.key(3), jnp.asarray(c["t"]),
                                        jnp.asarray(c["corr"]), float(c["nu"]), method=method,
                                        n_samples=n)
        assert int(status) == 0
        # R's error is a 99 % bound: used as one more sigma, conservatively
        assert abs(np.exp(float(lp)) - c["prob"]) < 4 * np.hypot(float(se), c["error"]), method


def test_large_nu_is_the_gaussian(ref):
    c = ref["cases"][0]
    corr = jnp.asarray(c["corr"])
    tau = stats.norm.ppf(c["p_wrong"])
    # the Gaussian orthant by scipy (Genz's QMC, an independent engine) to abseps 1e-6
    g = stats.multivariate_normal.cdf(tau, mean=np.zeros(tau.size), cov=c["corr"], abseps=1e-6,
                                      releps=0, maxpts=2_000_000, rng=np.random.default_rng(0))
    # through numpy: a strongly typed t, so the case-0 program of test_orthant_matches_r_pmvt
    # is reused (t_quantile's output is weakly typed, which would compile it again)
    # nu = 1e3: the t - Gaussian gap shrinks like 1/nu (4.4e-3 at nu = 4 here, so ~2e-5 at
    # 1e3, a tenth of the tolerance; a t that does not tend to the Gaussian misses it). The
    # chi draws' gamma quantile at shape nu / 2 costs run time growing with nu (1e5: ~14 s
    # CPU, 1e3: ~2 s), so the large-shape quantile (nu = 1e5) is checked on its own below.
    t = jnp.asarray(np.asarray(t_quantile(jnp.asarray(c["p_wrong"]), 1e3)))
    lp, se, status, _ = mvt_orthant(jax.random.key(2), t, corr, 1e3, method="qmc",
                                    n_samples=N_QMC)
    assert int(status) == 0
    assert abs(np.exp(float(lp)) - g) < 4 * np.hypot(float(se), 1e-6)
    # the chi variable's gamma quantile far out (shape 5e4, nu = 1e5) against scipy
    u = np.array([1e-12, 1e-3, 0.5, 0.999])
    np.testing.assert_allclose(gamma_quantile(u, 5e4), stats.gamma.ppf(u, 5e4), rtol=1e-11)
    # and the calibrated t correlation of a pair tends to the tetrachoric one
    t = t_quantile(jnp.asarray([0.3, 0.2]), 1e6)
    pb = float(stats.multivariate_normal.cdf(stats.norm.ppf([0.3, 0.2]), cov=[[1, 0.5], [0.5, 1]]))
    r, _ = calibrate_pairs(t, jnp.asarray([[0.3, pb], [pb, 0.2]]), jnp.eye(2) * 0.5 + 0.25,
                           1e6, ~jnp.eye(2, dtype=bool))
    assert abs(float(r[0, 1]) - 0.5) < 1e-5


def test_tail_dependence_closed_form():
    r, nu = 0.5, 4.0
    want = 2 * stats.t.cdf(-np.sqrt((nu + 1) * (1 - r) / (1 + r)), nu + 1)
    assert float(mvt.tail_dependence(r, nu)) == pytest.approx(want, rel=1e-12)


def test_k2_calibrated_t_reproduces_the_pair():
    rs = np.random.RandomState(0)
    z = 0.6 * rs.randn(500, 1) + 0.8 * rs.randn(500, 2)
    e = z < np.array([-0.4, -0.7])
    st = jax.jit(P.pool_stats)(e, jnp.ones(500))
    cop = C.make_copulas(["student_t", "gaussian"], C.PricingOptions(orthant_samples=2 ** 13))
    ps, w = P.subset_stats(st, jnp.ones(2, bool))
    params = jax.jit(cop[0].calibrate)(ps, w)
    both = np.mean(e[:, 0] & e[:, 1])
    assert float(mvt.bvt_cdf(params.t[0], params.t[1], params.corr[0, 1], 4.0)) == pytest.approx(both, rel=1e-12)
    r = jax.jit(lambda key, st, e, w, mask: P.price_pool(key, st, e, w, mask, cop))(
        jax.random.key(0), st, e, jnp.ones(500), jnp.ones(2, bool))
    for i in range(2):  # ratio beta_obs / beta_pred is 1 within the reported error
        assert abs(float(r.beta_pred[i]) - both) < 4 * float(r.beta_pred_se[i]) + 1e-12


def test_readme_repair_snippet_never_ok_with_a_wrong_number():
    from cofail_jax._src.io import load_matrix
    from cofail_jax._src.data import example_path

    m = load_matrix(example_path("math-l5"))
    tc = tetrachoric(jnp.asarray(m.errors))
    rho = np.nan_to_num(np.asarray(tc.rho))
    bad = nearest_correlation(rho)  # eps = 0: smallest eigenvalue ~ -3e-16
    good = nearest_correlation(rho, eps=C.EIG_FLOOR)
    # the same compiled program as the qmc call below (reference se ~2e-5)
    ref = mvn_orthant(jax.random.key(9), tc.tau, good.corr, method="qmc", n_samples=2 ** 14)
    assert abs(float(ref.prob) - 0.0260) < 2e-4
    for method in ("qmc", "tilting", "mc", "auto"):
        r = mvn_orthant(jax.random.key(0), tc.tau, bad.corr, method=method, n_samples=2 ** 14)
        assert int(r.status) == NOT_PD and np.isnan(float(r.prob)), method
        r = mvn_orthant(jax.random.key(0), tc.tau, good.corr, method=method, n_samples=2 ** 14)
        assert int(r.status) == 0
        assert abs(float(r.prob) - float(ref.prob)) < 4 * np.hypot(float(r.std_err), float(ref.std_err)), method


def test_student_t_law_known_beta_covered_by_cp(monkeypatch):
    from cofail_jax._src import simulate as S
    from cofail_jax._src.certificate import clopper_pearson

    # true_beta's orthant call (eager, 2^18 points: ~30 s CPU) runs through the module's
    # jitted engine at N_QMC points; its reported error (4 s.e.) enters the tolerance
    calls = []

    def orthant(key, t, corr, nu, *, n_samples):
        calls.append(n_samples)
        return mvt_orthant(key, t, corr, nu, method="qmc", n_samples=N_QMC)

    monkeypatch.setattr(mvt, "mvt_orthant", orthant)
    k = 4
    corr = 0.5 * np.eye(k) + 0.5
    law = S.student_t_law([0.3, 0.35, 0.4, 0.25], corr, 3.0)
    tb = S.true_beta(law)
    assert len(calls) == 1 and f"({N_QMC} points)" in tb.method
    assert 0 < tb.abs_err < 1e-2 * tb.beta
    n = 20000
    e = S.sample_errors(jax.random.key(4), law, n)
    K = int(e.all(axis=1).sum())
    lo, hi = clopper_pearson(K, n, 0.01)
    assert lo - tb.abs_err <= tb.beta <= hi + tb.abs_err
    # pairwise both-wrong rates of the draw agree with the law's (bivariate t CDF)
    q = S.pair_both_wrong(law)
    emp = (e.T.astype(float) @ e) / n
    assert np.max(np.abs(emp - q)) < 4.5 * np.sqrt(0.25 / n)
