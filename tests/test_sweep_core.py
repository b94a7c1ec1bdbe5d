"""Sweep kernels: the k = 2 invariant, beta_obs = 0 handling, subset drawing, drop reasons.

References are independent: the pair's own 2 x 2 table (k = 2: a pairwise-calibrated
model reproduces it, so every ratio is 1), direct numpy counts of all-wrong queries,
itertools/math.comb for subset enumeration, and the replicate's resample recomputed from
its folded key for the drop reasons.
"""

import itertools
import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from cofail_jax._src import sweep as S

COPULAS = ("equal_loading", "fitted_loading", "gaussian", "clayton")
KW = dict(orthant_samples=512, orthant_method="qmc", repair="nearest")


def _errors(n=160, k=5, seed=3):
    """One-factor latent errors, plus a pair (0, 1) that is never wrong together."""
    rs = np.random.RandomState(seed)
    f = rs.randn(n, 1)
    z = 0.7 * f + np.sqrt(1 - 0.49) * rs.randn(n, k)
    e = z < np.array([-0.3, -0.6, -0.2, -0.5, -0.4])[None, :k]
    both = e[:, 0] & e[:, 1]
    e[both, 1] = False  # models 0 and 1 never wrong together
    return e


@pytest.fixture(scope="module")
def setup():
    e = _errors()
    stats = jax.jit(S.pool_stats)(e, jnp.ones(e.shape[0]))
    sweep = S.make_subset_sweep(COPULAS, **KW)
    return e, stats, sweep


def test_k2_ratio_is_one_and_beta_obs_zero(setup):
    e, stats, sweep = setup
    kk = e.shape[1]
    rows = S.draw_subsets(jax.random.key(0), kk, 2, 200)
    assert len(rows) == math.comb(kk, 2)  # C(5,2) = 10 <= P: every pair once
    masks = S.subset_masks(rows, kk)
    out = sweep(jax.random.key(0), stats, e, np.full(len(rows), 2), np.arange(len(rows)), masks,
                batch=16)
    # observed beta of each pair from the raw table
    want = np.array([np.mean(e[:, i] & e[:, j]) for i, j in rows])
    np.testing.assert_allclose(out.beta_obs, want, rtol=0, atol=1e-15)
    zero = want == 0
    assert zero.sum() == 1 and tuple(rows[zero][0]) == (0, 1)
    r = np.stack([S.ratios(out.beta_obs, out.beta_pred[:, i]) for i in range(len(COPULAS))], 1)
    assert np.all(np.isnan(r[zero]))  # never divided by
    ok = ~zero
    # tetrachoric-calibrated models reproduce every 2 x 2 table: ratio exactly 1. The
    # equal-loading and Clayton copulas have no negative dependence, so for them the
    # invariant holds on the positively correlated pairs only.
    rho = np.asarray(stats.rho)[rows[:, 0], rows[:, 1]]
    assert np.any(rho[ok] < 0) and np.any(rho[ok] > 0)
    for i, m in enumerate(COPULAS):
        sel = ok & (rho >= 0) if m in ("equal_loading", "clayton") else ok
        if m == "gaussian":  # QMC estimate: within 4 reported standard errors
            dev = np.abs(out.beta_pred[sel, i] - want[sel])
            assert np.all(dev <= 4 * out.beta_pred_se[sel, i] + 1e-9), (m, dev)
        else:
            np.testing.assert_allclose(r[sel, i], 1.0, rtol=1e-7, err_msg=m)
    assert np.all(out.reason[ok] == S.OK) and np.all(out.reason[zero] == S.NO_ALL_WRONG)


def test_subsets_with_beta_obs_zero_are_counted_not_divided(setup):
    e, stats, sweep = setup
    kk = e.shape[1]
    rows = np.asarray(list(itertools.combinations(range(kk), 3)))
    masks = S.subset_masks(rows, kk)
    out = sweep(jax.random.key(1), stats, e, np.full(len(rows), 3), np.arange(len(rows)), masks,
                batch=16)
    want = np.array([np.mean(np.all(e[:, list(r)], axis=1)) for r in rows])
    np.testing.assert_allclose(out.beta_obs, want, atol=1e-15)
    has01 = np.array([0 in r and 1 in r for r in rows])
    assert np.all(want[has01] == 0)
    r = S.ratios(out.beta_obs, out.beta_pred[:, 0])
    med, lo, hi, used = S.summarize_ratios(r)
    assert used == int(np.sum(want > 0))
    np.testing.assert_allclose(med, np.median(want[want > 0] / out.beta_pred[want > 0, 0]))


def test_pool_sizes_share_one_compilation(setup):
    # k = 2 and k = 3 above (and k = 5 here) run through one compiled function
    e, stats, sweep = setup
    masks = np.ones((1, e.shape[1]), bool)
    sweep(jax.random.key(2), stats, e, [5], [0], masks, batch=16)
    assert sweep.pool_program._cache_size() == 1


def test_draw_subsets_keys_distinct_and_full_pool():
    key = jax.random.key(7)
    rows = S.draw_subsets(key, 12, 4, 50)
    assert rows.shape == (50, 4)
    assert len({tuple(r) for r in rows}) == 50
    # subset j of size k comes from fold_in(fold_in(key, k), j) (first draw, if not a repeat)
    for j in (0, 1, 17):
        kj = jax.random.fold_in(jax.random.fold_in(key, 4), j)
        first = np.sort(np.asarray(jax.random.permutation(kj, 12))[:4])
        if not any(np.array_equal(first, rows[i]) for i in range(j)):
            np.testing.assert_array_equal(rows[j], first)
    np.testing.assert_array_equal(S.draw_subsets(key, 12, 4, 50), rows)  # deterministic
    # C(K, k) <= P: every subset once; k = K: the pool only
    assert len(S.draw_subsets(key, 6, 5, 200)) == 6
    np.testing.assert_array_equal(S.draw_subsets(key, 6, 6, 200), [list(range(6))])
    with pytest.raises(ValueError):
        S.draw_subsets(key, 6, 7, 10)


def test_summarize_ratios_percentiles():
    r = np.array([np.nan, 1.0, 2.0, 3.0, 4.0, np.nan, 5.0])
    med, lo, hi, n = S.summarize_ratios(r, (5, 95))
    assert n == 5 and med == 3.0
    np.testing.assert_allclose([lo, hi], np.percentile([1, 2, 3, 4, 5], [5, 95]))
    assert S.summarize_ratios(np.array([np.nan]))[3] == 0
    np.testing.assert_array_equal(S.ratios([0.0, 0.2], [0.1, 0.1]), [np.nan, 2.0])


def test_bootstrap_drop_reasons_match_resamples():
    # model 4 is wrong on only 2 of 60 queries: some replicates leave it always right.
    # The shape (60 x 5) and copulas of the sweep_helpers pool: the drop reason, not the
    # copula, is tested, and the bootstrap programs of the other sweep tests are reused.
    rs = np.random.RandomState(0)
    e = rs.rand(60, 5) < 0.5
    e[:, 4] = False
    e[[3, 9], 4] = True
    boot = S.make_bootstrap(("equal_loading", "clayton"))
    key = jax.random.key(11)
    out = boot(key, e, np.ones(5, bool), np.arange(32), batch=32)
    always_right = []
    for i in range(32):
        kw, _ = jax.random.split(jax.random.fold_in(key, i))
        w = np.asarray(S.bootstrap_weights(kw, 60))
        assert w.sum() == 60
        always_right.append(w[[3, 9]].sum() == 0)
    always_right = np.asarray(always_right)
    assert always_right.any() and not always_right.all()
    np.testing.assert_array_equal(out.reason == S.ALWAYS_RIGHT, always_right)


def test_compacted_subsets_match_full_width_pricing():
    # A k-subset of a 20-model pool is priced in COMPACT_DIMS[0] = 8 dimensions (its
    # models first); the reference is the same subset priced at full width (d = K).
    # Two copulas (each costs two compilations, d = 8 and d = K): a deterministic one
    # (exact agreement) and the Gaussian's QMC (agreement within the reported errors).
    rs = np.random.RandomState(5)
    kk = 20
    z = 0.6 * rs.randn(400, 1) + 0.8 * rs.randn(400, kk)
    e = z < rs.uniform(-0.8, 0.2, kk)[None, :]
    stats = jax.jit(S.pool_stats)(e, jnp.ones(e.shape[0]))
    sweep = S.make_subset_sweep(("equal_loading", "gaussian"), **KW)
    rows = S.draw_subsets(jax.random.key(4), kk, 5, 8)
    masks = S.subset_masks(rows, kk)
    assert S._compact_dim(5, kk) == 8 and S._compact_dim(20, kk) == kk
    out = sweep(jax.random.key(4), stats, e, np.full(8, 5), np.arange(8), masks)
    static = (jax.random.key(4), stats, jnp.asarray(e))
    full = S._run_rows(sweep.runner, static, (np.full(8, 5), np.arange(8), masks), 8, d=kk)
    for name in ("beta_obs", "mean_rho", "mean_phi", "fit_rms", "min_eig"):
        np.testing.assert_allclose(getattr(out, name), getattr(full, name), rtol=1e-9, atol=1e-12)
    # rho_eff: equal where both are defined. Its NaN rule compares the one-factor quadrature
    # at loading^2 = 1 - 1e-12 (a step-like integrand) with beta_obs to 1e-9, so the d = 8
    # and d = 20 programs (unbatched since the sweep's lax.map micro-batches) can fall on
    # either side of it for the same subset (2 of these 8 rows)
    both = np.isfinite(out.rho_eff) & np.isfinite(full.rho_eff)
    assert both.sum() >= 6
    np.testing.assert_allclose(out.rho_eff[both], full.rho_eff[both], rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(out.beta_pred[:, 0], full.beta_pred[:, 0], rtol=1e-6)
    se = np.hypot(out.beta_pred_se[:, 1], full.beta_pred_se[:, 1])
    assert np.all(np.abs(out.beta_pred[:, 1] - full.beta_pred[:, 1]) <= 5 * se + 1e-12)
    np.testing.assert_array_equal(out.reason, full.reason)
