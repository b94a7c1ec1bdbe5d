"""The orthant estimators' progress callback: monotone counts, same estimate without it."""

import jax
import jax.numpy as jnp
import numpy as np

from cofail_jax._src.orthant import make_orthant_estimator, reporting

CORR = jnp.asarray([[1.0, 0.5, 0.2], [0.5, 1.0, 0.3], [0.2, 0.3, 1.0]])
TAU = jnp.asarray([0.1, -0.3, 0.4])


def test_mc_progress_is_monotone_and_changes_nothing():
    calls = []
    est = make_orthant_estimator("mc", 4096, chunk_size=512, devices=None,
                                 progress=lambda d, t: calls.append((d, t)))
    quiet = make_orthant_estimator("mc", 4096, chunk_size=512, devices=None)
    r = est(jax.random.key(0), TAU, CORR)
    jax.effects_barrier()
    q = quiet(jax.random.key(0), TAU, CORR)
    assert int(r.hits) == int(q.hits) and float(r.prob) == float(q.prob)
    done = [d for d, _ in calls]
    assert calls[0] == (0, 4096)  # the "compiling" report, at trace time
    assert all(t == 4096 for _, t in calls)
    assert done == sorted(done) and done[-1] == 4096 and len(done) == 1 + 4096 // 512


def test_reporting_scope_reaches_estimators_built_inside():
    calls = []
    with reporting(lambda d, t: calls.append(d)):
        est = make_orthant_estimator("qmc", 1024, chunk_size=16, n_shifts=4, devices=None)
        r = est(jax.random.key(1), TAU, CORR)
        jax.effects_barrier()
    q = make_orthant_estimator("qmc", 1024, chunk_size=16, n_shifts=4, devices=None)(
        jax.random.key(1), TAU, CORR)
    assert calls[0] == 0 and calls == sorted(calls) and calls[-1] == 1024
    np.testing.assert_array_equal(np.asarray(r.prob), np.asarray(q.prob))
