"""Same- vs mixed-model ensembles: deterministic cases checked against numpy."""

import jax
import numpy as np
import pytest

from cofail_jax._src.policies.ensembles import band_models, ensemble_comparison


def _base(key, n=200, k=4):
    return np.asarray(jax.random.uniform(key, (n, k)) < jax.numpy.asarray([[0.7, 0.65, 0.68, 0.3]]))


def test_identical_samples_give_exact_answers():
    """When every sample of a model is the same (rho = 1 within a model), the same-model
    vote is the model itself and the mixed vote is the majority of the band models: no
    partition changes anything."""
    base = _base(jax.random.key(0))
    samples = np.repeat(base[None].astype(np.int8), 5, axis=0)  # (5, n, 4)
    r = ensemble_comparison(
        jax.random.key(1), samples, size=3, band=(0.5, 1.0), n_partitions=6, n_boot=100
    )
    assert r.band_models.tolist() == [0, 1, 2]
    same = base[:, :3].mean(axis=0).mean()
    mixed = (base[:, :3].sum(axis=1) >= 2).mean()
    np.testing.assert_allclose(r.same, same)
    np.testing.assert_allclose(r.mixed, mixed)
    assert r.mean_diff == pytest.approx(mixed - same) and r.min_diff == pytest.approx(
        r.max_diff
    )
    # best model (0) mixed with the two weakest (3 and 1): the vote vs model 0 alone
    assert r.unequal["weak_models"].tolist() == [3, 1]
    uneq = (base[:, [0, 3, 1]].sum(axis=1) >= 2).mean() - base[:, 0].mean()
    assert r.unequal["mean_diff"] == pytest.approx(uneq)


def test_independent_samples_mixed_equals_same_on_average():
    """With i.i.d. samples of exchangeable models (same per-query success probability),
    mixing gains nothing in expectation: the bootstrap interval holds 0."""
    key = jax.random.key(3)
    p = np.asarray(jax.random.uniform(key, (150, 1)))  # per-query difficulty shared by all models
    s = (np.asarray(jax.random.uniform(jax.random.fold_in(key, 1), (5, 150, 3))) < p[None]).astype(
        np.int8
    )
    r = ensemble_comparison(jax.random.key(4), s, size=3, band=(0, 1), n_partitions=10, n_boot=200)
    lo, hi = r.diff_ci
    assert lo <= 0 <= hi


def test_band_and_errors():
    assert band_models([0.5, 0.9, 0.55, 0.58], width=0.1).tolist() == [0, 2, 3]
    assert band_models([0.5, 0.9, 0.55], band=(0.8, 1)).tolist() == [1]
    with pytest.raises(ValueError, match="at least 4 samples"):
        ensemble_comparison(jax.random.key(0), np.ones((3, 5, 3), np.int8), size=3)
    with pytest.raises(ValueError, match="band holds"):
        ensemble_comparison(jax.random.key(0), np.ones((4, 5, 3), np.int8), size=3, band=(0, 0.5))


def test_missing_samples_drop_queries():
    base = _base(jax.random.key(0), n=50)
    s = np.repeat(base[None].astype(np.int8), 4, axis=0)
    s[2, 7, 1] = -1  # one missing sample of a band model
    r = ensemble_comparison(jax.random.key(1), s, size=3, band=(0.5, 1.0), n_partitions=3, n_boot=50)
    assert r.n_dropped == 1 and r.n_queries == 49


def test_progress_does_not_change_the_result():
    samples = (np.asarray(jax.random.uniform(jax.random.key(5), (5, 60, 4))) < 0.6).astype(np.int8)
    kw = dict(size=3, band=(0.0, 1.0), n_partitions=3, n_boot=50)
    a = ensemble_comparison(jax.random.key(1), samples, **kw)
    calls = []
    b = ensemble_comparison(jax.random.key(1), samples, **kw,
                            progress=lambda d, t: calls.append((d, t)))
    assert calls[0] == (0, 53) and calls[-1] == (53, 53) and len(calls) >= 5
    np.testing.assert_array_equal(a.diff, b.diff)
    assert a.diff_ci == b.diff_ci and a.diff_se == b.diff_se
