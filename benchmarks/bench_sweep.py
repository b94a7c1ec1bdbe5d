"""Underpricing sweep on the simulated 67-model, 330-query pool: JAX vs numpy/scipy.

The full sweep: every pool size k = 2..67 with P = 200 random subsets (C(67, k) when
smaller: 67 at k = 66, 1 at k = 67; 13,068 subsets), four copulas per subset (equal-loading
and fitted one-factor, full-correlation Gaussian after nearest-correlation repair, QMC
with 4096 points, Clayton), and B = 2,000 query-bootstrap replicates of the full pool
(each re-estimates thresholds, all 2,211 tetrachorics, fits and predictions).

Baseline, the straightforward numpy/scipy implementation: per-pair bisection on
scipy.stats.multivariate_normal.cdf for each tetrachoric, scipy.integrate.quad for the
one-factor integrals, alternating least squares for the loadings, eigenvalue clipping
and numpy Monte Carlo (4096 draws) for the full-correlation Gaussian, bisection on the
closed-form Clayton pair probability, brentq for the effective correlation; a Python loop
over subsets and replicates. The JAX side does more work per subset: Higham's nearest
correlation (about 0.25 s per 67-model subset on this CPU, against eigenvalue clipping
in the baseline) and QMC-SOV with variable reordering (4096 points).

Both sides are timed on a fraction (after compilation for JAX) and extrapolated to the
full sweep: per-subset cost at the probe sizes PROBE_K (both sides of each compacted
subset dimension; linear interpolation in k between them) times the
subset counts, plus B times the per-replicate cost. ``--full`` runs the whole JAX sweep.

    .venv/bin/python benchmarks/bench_sweep.py [--quick] [--full]
"""

from __future__ import annotations

import argparse
import math
import os
import time

import numpy as np

K, N, P, B = 67, 330, 200, 2000
PROBE_K = (2, 8, 9, 16, 17, 32, 33, 48, 49, 67)  # both sides of each compacted dimension
REPAIR = "nearest"


def subset_counts():
    return {k: min(P, math.comb(K, k)) for k in range(2, K + 1)}


def extrapolate(per_subset, per_replicate):
    ks = np.asarray(PROBE_K, float)
    t = np.asarray([per_subset[k] for k in PROBE_K])
    total = sum(n * np.interp(k, ks, t) for k, n in subset_counts().items())
    return total, B * per_replicate


# ---------------------------------------------------------------- numpy/scipy baseline
def np_tetrachoric(e, w):
    from scipy import stats

    p = (w @ e) / w.sum()
    pb = (e.T * w) @ e / w.sum()
    tau = stats.norm.ppf(p)
    k = e.shape[1]
    rho = np.eye(k)
    for i in range(k):
        for j in range(i + 1, k):
            lo, hi = -0.999, 0.999
            for _ in range(30):
                mid = 0.5 * (lo + hi)
                c = stats.multivariate_normal.cdf([tau[i], tau[j]], cov=[[1, mid], [mid, 1]])
                lo, hi = (lo, mid) if c > pb[i, j] else (mid, hi)
            rho[i, j] = rho[j, i] = 0.5 * (lo + hi)
    return p, tau, rho, pb


def np_onefactor(tau, lam):
    from scipy import integrate, stats

    s = np.sqrt(1 - lam ** 2)
    f = lambda z: stats.norm.pdf(z) * np.prod(stats.norm.cdf((tau - lam * z) / s))
    return integrate.quad(f, -10, 10, limit=200)[0]


def np_fit(rho, idx):
    r = rho[np.ix_(idx, idx)]
    k = len(idx)
    lam = np.full(k, np.sqrt(max(np.mean(r[~np.eye(k, dtype=bool)]), 1e-3)))
    for _ in range(100):
        num = (r - np.diag(np.diag(r))) @ lam
        den = (lam ** 2).sum() - lam ** 2
        lam = np.clip(num / den, -0.995, 0.995)
    return lam


def np_price(rng, p, tau, rho, pb, idx, e):
    k = len(idx)
    sub = rho[np.ix_(idx, idx)]
    off = ~np.eye(k, dtype=bool)
    rbar = max(sub[off].mean(), 0.0)
    out = [np_onefactor(tau[idx], np.full(k, np.sqrt(rbar))),
           np_onefactor(tau[idx], np_fit(rho, idx))]
    ev, vec = np.linalg.eigh(sub)
    c = (vec * np.maximum(ev, 1e-10)) @ vec.T
    d = np.sqrt(np.diag(c))
    c = c / d[:, None] / d[None, :]
    z = rng.standard_normal((4096, k)) @ np.linalg.cholesky(c + 1e-10 * np.eye(k)).T
    out.append(np.mean(np.all(z <= tau[idx], axis=1)))
    target = pb[np.ix_(idx, idx)][off].mean()
    lo, hi = 1e-6, 200.0
    pp = p[idx]
    for _ in range(60):
        th = math.sqrt(lo * hi)
        a = pp ** -th - 1
        m = ((a[:, None] + a[None, :] + 1) ** (-1 / th))[off].mean()
        lo, hi = (lo, th) if m > target else (th, hi)
    out.append((1 + np.sum(pp ** -th - 1)) ** (-1 / th))
    beta_obs = np.mean(np.all(e[:, idx], axis=1))
    # effective correlation: the equal correlation reproducing beta_obs (brentq on quad)
    from scipy import optimize

    g = lambda r: np_onefactor(tau[idx], np.full(k, np.sqrt(r))) - beta_obs
    rho_eff = optimize.brentq(g, 0.0, 0.999, xtol=1e-10) if beta_obs > 0 and g(0.0) < 0 < g(0.999) else np.nan
    return beta_obs, out, rho_eff


def baseline(e, n_probe_subsets, quick):
    rng = np.random.default_rng(0)
    n = e.shape[0]
    ef = e.astype(float)
    t0 = time.perf_counter()
    p, tau, rho, pb = np_tetrachoric(ef, np.ones(n))
    t_tet = time.perf_counter() - t0
    per_subset = {}
    for k in PROBE_K:
        t0 = time.perf_counter()
        for j in range(n_probe_subsets):
            idx = np.sort(rng.permutation(K)[:k])
            np_price(rng, p, tau, rho, pb, idx, e)
        per_subset[k] = (time.perf_counter() - t0) / n_probe_subsets
    # one replicate = resample + all-pairs tetrachoric + pricing the full pool
    per_rep = t_tet + per_subset[K]
    return per_subset, per_rep, t_tet


# ---------------------------------------------------------------- JAX
def jax_side(e, n_sub, n_rep, full):
    import jax
    import jax.numpy as jnp

    from cofail_jax._src import sweep as S

    # Higham nearest-correlation repair (the baseline clips eigenvalues, which is cheaper)
    kw = dict(orthant_samples=4096, orthant_method="qmc", repair=REPAIR)
    methods = S.METHODS
    sweep = S.make_subset_sweep(methods, **kw)
    boot = S.make_bootstrap(methods, **kw)
    key = jax.random.key(0)
    stats = jax.jit(S.pool_stats)(e, jnp.ones(e.shape[0]))
    jax.block_until_ready(stats)
    # one compilation per compacted subset dimension (8, 16, 32, 48, 67): warm each up
    # on one micro-batch (the compiled shape does not depend on the number of rows)
    t0 = time.perf_counter()
    for k in (8, 16, 32, 48, K):
        rows = S.draw_subsets(key, K, k, S.MICRO)
        sweep(key, stats, e, np.full(len(rows), k), np.arange(len(rows)), S.subset_masks(rows, K))
    compile_sweep = time.perf_counter() - t0
    per_subset = {}
    for k in PROBE_K:
        rows = S.draw_subsets(key, K, k, n_sub)
        m = S.subset_masks(rows, K)
        if k == K:  # one subset only: time n_sub copies for a per-row cost
            m = np.repeat(m, n_sub, axis=0)
        t0 = time.perf_counter()
        sweep(key, stats, e, np.full(len(m), k), np.arange(len(m)), m, batch=n_sub)
        per_subset[k] = (time.perf_counter() - t0) / len(m)
    t0 = time.perf_counter()
    boot(key, e, np.ones(K, bool), np.arange(n_rep), batch=n_rep)
    compile_boot = time.perf_counter() - t0
    t0 = time.perf_counter()
    boot(key, e, np.ones(K, bool), np.arange(n_rep, 2 * n_rep), batch=n_rep)
    per_rep = (time.perf_counter() - t0) / n_rep
    full_time = None
    if full:
        t0 = time.perf_counter()
        for k, cnt in subset_counts().items():
            rows = S.draw_subsets(key, K, k, P)
            m = S.subset_masks(rows, K)
            for s in range(0, len(rows), n_sub):
                sl = slice(s, s + n_sub)
                sweep(key, stats, e, np.full(len(rows[sl]), k), np.arange(len(rows))[sl], m[sl], batch=n_sub)
        for a in range(0, B, n_rep):
            boot(key, e, np.ones(K, bool), np.arange(a, min(a + n_rep, B)), batch=n_rep)
        full_time = time.perf_counter() - t0
    return per_subset, per_rep, compile_sweep, compile_boot, full_time


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="fewer probe subsets/replicates")
    ap.add_argument("--full", action="store_true", help="also run the whole JAX sweep")
    args = ap.parse_args()
    import jax

    import cofail_jax  # noqa: F401  (x64)
    from cofail_jax._src.simulate import benchmark_pool

    pool = benchmark_pool(jax.random.key(0), n_queries=N, n_models=K)
    e = np.asarray(pool.errors)
    print(f"pool: {N} queries x {K} models (simulate.benchmark_pool(jax.random.key(0))); "
          f"devices: {jax.device_count()} x {jax.devices()[0].device_kind}; "
          f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    n_sub, n_rep = (32, 32) if args.quick else (200, 256)
    js, jr, c1, c2, full_time = jax_side(e, n_sub, n_rep, args.full)
    bs, br, t_tet = baseline(e, 1 if args.quick else 3, args.quick)
    j_sweep, j_boot = extrapolate(js, jr)
    b_sweep, b_boot = extrapolate(bs, br)
    rows = [(f"per subset, k={k}", js[k], bs[k]) for k in PROBE_K]
    rows += [("per bootstrap replicate", jr, br),
            ("sweep (13,068 subsets), extrapolated", j_sweep, b_sweep),
            ("bootstrap (B = 2,000), extrapolated", j_boot, b_boot),
            ("whole analysis, extrapolated", j_sweep + j_boot, b_sweep + b_boot)]
    print(f"{'':40s} {'JAX (s)':>12s} {'numpy/scipy (s)':>16s} {'speed-up':>9s}")
    for name, a, b in rows:
        print(f"{name:40s} {a:12.4g} {b:16.4g} {b / a:9.1f}x")
    print(f"JAX compile: sweep {c1:.1f} s (5 subset dimensions), bootstrap {c2:.1f} s "
          f"(once per run; not in the rows above)")
    print(f"whole analysis incl. compilation, extrapolated: {j_sweep + j_boot + c1 + c2:.0f} s")
    print(f"baseline: one all-pairs tetrachoric (2,211 pairs) {t_tet:.1f} s")
    if full_time is not None:
        print(f"JAX whole sweep, measured: {full_time:.1f} s")


if __name__ == "__main__":
    main()
