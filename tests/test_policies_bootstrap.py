"""Query bootstrap: coverage on simulated data, batch-size invariance, splits."""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from cofail_jax._src.policies.bootstrap import (
    gain_statistic,
    kfold_assignments,
    make_query_bootstrap,
    realized_fraction_bootstrap,
    train_test_split,
)

P = np.array([0.6, 0.55, 0.5])  # three independent models; model 0 is the single best


def _truth():
    p1, p2, p3 = P
    vote = p1 * p2 + p1 * p3 + p2 * p3 - 2 * p1 * p2 * p3  # P(at least 2 of 3 right)
    oracle = 1 - np.prod(1 - P)
    return vote - P[0], (vote - P[0]) / (oracle - P[0])


def test_coverage_gain_and_realized_fraction():
    """95 % percentile intervals cover the true gain and realized fraction of a majority
    vote at about the nominal rate over 300 simulated benchmarks of 300 queries."""
    R, n, B = 300, 300, 400
    boot = make_query_bootstrap(gain_statistic, n_boot=B, level=0.95)

    def one(key):
        k_data, k_boot = jax.random.split(key)
        c = jax.random.uniform(k_data, (n, 3)) < jnp.asarray(P)[None, :]
        vote = (c.sum(axis=1) >= 2).astype(jnp.float64)
        sb, orc = c[:, 0].astype(jnp.float64), c.any(axis=1).astype(jnp.float64)
        vals = jnp.stack([vote, sb, orc, vote - sb, orc - sb], axis=1)
        r = boot(k_boot, vals)
        return r.lower, r.upper

    lo, hi = jax.vmap(one)(jax.random.split(jax.random.key(7), R))
    lo, hi = np.asarray(lo), np.asarray(hi)
    gain, frac = _truth()
    se = math.sqrt(0.95 * 0.05 / R)
    for j, truth in ((4, gain), (5, frac)):
        cover = np.mean((lo[:, j] <= truth) & (truth <= hi[:, j]))
        assert abs(cover - 0.95) < 4 * se, (j, cover)


def test_batch_size_does_not_change_replicates():
    vals = np.asarray(jax.random.uniform(jax.random.key(1), (40, 5)) < 0.5, np.float64)
    a = make_query_bootstrap(gain_statistic, n_boot=64, batch_size=64)(jax.random.key(3), vals)
    b = make_query_bootstrap(gain_statistic, n_boot=64, batch_size=5)(jax.random.key(3), vals)
    np.testing.assert_array_equal(np.asarray(a.lower), np.asarray(b.lower))
    np.testing.assert_array_equal(np.asarray(a.se), np.asarray(b.se))


def test_realized_fraction_bootstrap_exact_cases():
    ones = np.ones(30)
    pol = np.r_[np.ones(20), np.zeros(10)]
    sb = np.r_[np.ones(10), np.zeros(20)]
    r = realized_fraction_bootstrap(jax.random.key(0), sb, sb, ones, n_boot=200)
    # the single best as policy: gain 0 in every replicate
    assert r["gain"]["lower"] == r["gain"]["upper"] == 0.0
    r = realized_fraction_bootstrap(jax.random.key(0), pol, sb, pol, n_boot=200)
    assert r["realized_fraction"]["estimate"] == 1.0 and r["realized_fraction"]["lower"] == 1.0
    assert r["G"]["estimate"] == pytest.approx(1 / 3)
    # G = 0: the fraction is undefined, reported as NaN, not a number
    r = realized_fraction_bootstrap(jax.random.key(0), sb, sb, sb, n_boot=50)
    assert math.isnan(r["realized_fraction"]["estimate"]) and r["n_undefined"] == 50


def test_splits():
    tr, te = train_test_split(jax.random.key(0), 11, 0.5)
    assert (tr ^ te).all() and te.sum() in (5, 6)
    tr2, te2 = train_test_split(jax.random.key(0), 11, 0.5)
    np.testing.assert_array_equal(te, te2)
    f = kfold_assignments(jax.random.key(0), 10, 3)
    assert sorted(np.bincount(f).tolist()) == [3, 3, 4]
    with pytest.raises(ValueError):
        train_test_split(jax.random.key(0), 1, 0.5)


def test_second_call_does_not_recompile():
    boot = make_query_bootstrap(gain_statistic, n_boot=16)
    vals = np.zeros((20, 5))
    boot(jax.random.key(0), vals)
    boot(jax.random.key(1), vals + 1.0)
    assert boot._cache_size() == 1


def test_batched_map_matches_map():
    from cofail_jax._src.policies.bootstrap import batched_map

    xs = jnp.arange(10.0)
    np.testing.assert_array_equal(
        np.asarray(batched_map(lambda x: x * x, xs, 4)), np.arange(10.0) ** 2
    )


def test_progress_blocks_give_the_same_result():
    # 70 replicates in blocks of 32: the last block is padded and trimmed
    vals = np.asarray(jax.random.uniform(jax.random.key(1), (40, 5)) < 0.5, np.float64)
    boot = make_query_bootstrap(gain_statistic, n_boot=70, block=32)
    calls = []
    a = boot(jax.random.key(3), vals)
    b = boot(jax.random.key(3), vals, lambda d, t: calls.append((d, t)))
    assert calls == [(0, 70), (32, 70), (64, 70), (70, 70)]
    for x, y in zip(a, b):
        np.testing.assert_array_equal(np.asarray(x), np.asarray(y))
