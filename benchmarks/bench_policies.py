"""Policies benchmark: every-triplet votes and the query bootstrap, JAX vs numpy loops.

    .venv/bin/python benchmarks/bench_policies.py [--quick]

1. Majority vote of every 3-model subset on the MMLU-Pro matrix (12,002 queries x 28
   models, 3,276 triplets; ``--quick``: the MATH level-5 matrix, 721 x 38, 8,436
   triplets): the jitted, batched ``lax.map`` kernel of ``subset_votes`` against a numpy
   loop over subsets (the obvious baseline).
2. A 1,000-replicate query bootstrap of (accuracy, gain, realized fraction of G) on the
   same queries: ``make_query_bootstrap`` (jitted, fold_in keys) against a numpy loop
   drawing indices with numpy's Generator.

Both sides are timed after one warm-up call (JAX compiled), best of 3. The results of
the two sides are compared (the vote accuracies must agree to 1e-12; the bootstrap
standard errors must agree within Monte Carlo error).
"""

from __future__ import annotations

import argparse
import itertools
import os
import sys
import time

import jax

jax.config.update("jax_enable_x64", True)
import jax.numpy as jnp
import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
from cofail_jax import load_matrix
from cofail_jax._src.policies.bootstrap import gain_statistic, make_query_bootstrap
from cofail_jax._src.policies.vote_subsets import _subset_vote_acc

DATA = os.path.join(os.path.dirname(__file__), "..", "..", "shared", "data")


def best_of(f, reps=3):
    f()  # warm-up (compilation)
    times = []
    for _ in range(reps):
        t = time.perf_counter()
        f()
        times.append(time.perf_counter() - t)
    return min(times)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args()
    name = "zeroeval_math-l5.csv" if args.quick else "mmlupro_mmlu-pro.csv"
    m = load_matrix(os.path.join(DATA, name))
    c = m.correct
    n, k = c.shape
    subsets = np.asarray(list(itertools.combinations(range(k), 3)), np.int64)
    cf = jnp.asarray(c, jnp.float64)
    sj = jnp.asarray(subsets)

    def jax_votes():
        return np.asarray(jax.block_until_ready(_subset_vote_acc(cf, sj)))

    def numpy_votes():
        return np.array([(c[:, s].sum(axis=1) >= 2).mean() for s in subsets])

    np.testing.assert_allclose(jax_votes(), numpy_votes(), rtol=0, atol=1e-12)
    t_jv, t_nv = best_of(jax_votes), best_of(numpy_votes)

    B = 1000
    sb = c[:, int(np.argmax(c.sum(0)))].astype(np.float64)
    pol = (c.sum(axis=1) * 2 > k).astype(np.float64)
    orc = c.any(axis=1).astype(np.float64)
    vals = np.stack([pol, sb, orc, pol - sb, orc - sb], axis=1)
    boot = make_query_bootstrap(gain_statistic, n_boot=B)
    key = jax.random.key(0)

    def jax_boot():
        return jax.block_until_ready(boot(key, vals))

    def numpy_boot():
        rng = np.random.default_rng(0)
        reps = np.empty((B, 6))
        for i in range(B):
            mu = vals[rng.integers(0, n, n)].mean(axis=0)
            g = mu[4]
            reps[i] = (mu[0], mu[1], mu[2], g, mu[3], mu[3] / g if g > 0 else np.nan)
        return np.nanstd(reps, axis=0, ddof=1)

    se_j = np.asarray(jax_boot().se)
    se_n = numpy_boot()
    # standard errors from 1000 replicates agree within ~ 3 * se / sqrt(2 B) each
    assert np.all(np.abs(se_j - se_n) <= 4 * se_n * np.sqrt(2 / B) + 1e-12), (se_j, se_n)
    t_jb, t_nb = best_of(jax_boot), best_of(numpy_boot)

    rows = [
        (f"every-triplet majority vote ({len(subsets)} triplets, n={n})", t_nv, t_jv),
        (f"query bootstrap, {B} replicates (n={n})", t_nb, t_jb),
    ]
    print(
        f"input: {name}  ({n} queries x {k} models); devices: {jax.devices()[0].device_kind} "
        f"x {jax.device_count()}; load average {os.getloadavg()[0]:.1f}"
    )
    w = max(len(r[0]) for r in rows)
    print(f"{'task'.ljust(w)}  numpy loop (s)  JAX (s)  speed-up")
    for label, tn, tj in rows:
        print(f"{label.ljust(w)}  {tn:14.3f}  {tj:7.3f}  {tn / tj:7.1f}x")


if __name__ == "__main__":
    main()
