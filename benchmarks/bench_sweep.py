"""Underpricing sweep on the simulated 67-model, 330-query pool: JAX vs numpy/scipy.

The full sweep: every pool size k = 2..67 with P = 200 random subsets (C(67, k) when
smaller: 67 at k = 66, 1 at k = 67; 13,068 subsets), all five copulas per subset
(equal-loading and fitted one-factor, full-correlation Gaussian after nearest-correlation
repair, QMC with 4096 points, Clayton, Student-t with nu = 4 after the same repair, QMC
with 4096 points), and B = 2,000 query-bootstrap replicates of the full pool (each
re-estimates thresholds, all 2,211 tetrachorics and t correlations, fits and predictions).
Both sides calibrate the Student-t pair correlations once per pool or replicate (a
subset takes its pairs' entries).

Two baselines, both numpy/scipy with a Python loop over subsets and replicates:

* straightforward: per-pair bisection on scipy.stats.multivariate_normal.cdf for each
  tetrachoric, scipy.integrate.quad for the one-factor integrals, alternating least
  squares for the loadings, eigenvalue clipping and numpy Monte Carlo (4096 draws) for the
  full-correlation Gaussian, bisection on the closed-form Clayton pair probability,
  brentq for the effective correlation. It does less work per subset than the JAX side
  (clipping instead of the nearest correlation matrix) at a lower accuracy (MC, not QMC).
* like-for-like: the same repair at the same tolerance as the JAX side (Higham's
  alternating projections, tol 1e-10, the same iteration cap and eigenvalue floor as
  ``copulas.repair_matrix``; the Newton method if REPAIR says so; numpy versions in
  benchmarks/np_repair.py), the same Gaussian estimator at the same accuracy (QMC-SOV with
  Genz-Bretz reordering, Richtmyer lattice with the tent transform, 16 random shifts,
  4096 points in all, in numpy), and all-pairs tetrachorics to 1e-12 by vectorized numpy
  bisection on a 96-point Gauss-Legendre bivariate CDF (bench_tetrachoric.py); the rest
  as the straightforward baseline.

Student-t on the baselines: straightforward: scipy ``brentq`` per pair on the closed-form
bivariate t (Dunnett-Sobel, numpy), eigenvalue clipping, numpy Monte Carlo (4096 draws);
like-for-like: the JAX side's vectorized safeguarded Newton on the same closed form, the
same repair, numpy QMC-SOV for the t (chi coordinate first, scipy's gamma quantile).

Both sides are timed on a fraction (after compilation for JAX) and extrapolated to the
full sweep: per-subset cost at the probe sizes PROBE_K (both sides of each compacted
subset dimension; linear interpolation in k between them) times the
subset counts, plus B times the per-replicate cost. ``--full`` runs the whole JAX sweep.

--quick uses tiny sizes (8 probe subsets and 8 replicates on the JAX side, 1 subset per
probe size and 100 timed tetrachoric pairs, scaled to 2,211, on the baseline side).

--small runs only the small sweep end to end through ``run_sweep`` (every k, P = 10,
B = 100, all copulas, defaults: adaptive QMC; compilation included; target < 60 s).

--compile-table compiles the small sweep's programs one after another and prints the
CPU time of each (tracing + lowering, XLA).

    .venv/bin/python benchmarks/bench_sweep.py [--quick] [--full] [--small] [--compile-table]
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time

# OpenBLAS (numpy's and jaxlib's CPU eigh/Cholesky) single-threaded on both sides: its
# default pool made a 67 x 67 eigh 30x slower on the shared 2-core machine.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402

sys.path.insert(0, os.path.dirname(__file__))

K, N, P, B = 67, 330, 200, 2000
PROBE_K = (2, 8, 9, 16, 17, 32, 33, 48, 49, 67)  # both sides of each compacted dimension
REPAIR = "nearest"
QMC_POINTS, QMC_SHIFTS = 4096, 16
BASELINE_COPULAS = ("equal_loading", "fitted_loading", "gaussian", "clayton", "student_t")


def subset_counts():
    return {k: min(P, math.comb(K, k)) for k in range(2, K + 1)}


def extrapolate(per_subset, per_replicate):
    ks = np.asarray(PROBE_K, float)
    t = np.asarray([per_subset[k] for k in PROBE_K])
    total = sum(n * np.interp(k, ks, t) for k, n in subset_counts().items())
    return total, B * per_replicate


# ---------------------------------------------------------------- numpy/scipy baselines
def np_tetrachoric_pairs(p, pb, pairs):
    """Straightforward: 30-step bisection on scipy's bivariate normal CDF, pair by pair."""
    from scipy import stats

    tau = stats.norm.ppf(p)
    out = []
    for i, j in pairs:
        lo, hi = -0.999, 0.999
        for _ in range(30):
            mid = 0.5 * (lo + hi)
            c = stats.multivariate_normal.cdf([tau[i], tau[j]], cov=[[1, mid], [mid, 1]])
            lo, hi = (lo, mid) if c > pb[i, j] else (mid, hi)
        out.append(0.5 * (lo + hi))
    return np.asarray(out)


def np_tetrachoric_fast(p, pb):
    """Like-for-like: every pair at once to 1e-12 (vectorized bisection, 96-point GL CDF)."""
    from scipy import special

    from bench_tetrachoric import numpy_bisection

    k = len(p)
    iu, ju = np.triu_indices(k, 1)
    tau = special.ndtri(p)
    rho = np.eye(k)
    r = numpy_bisection(tau[iu], tau[ju], pb[iu, ju])
    rho[iu, ju] = rho[ju, iu] = r
    return rho


def np_pool(e, w):
    p = (w @ e) / w.sum()
    pb = (e.T * w) @ e / w.sum()
    return p, pb


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


def np_reorder_cholesky(t, c):
    """Genz-Bretz greedy reordering with the Cholesky factor built alongside (numpy)."""
    from scipy import special

    k = len(t)
    A, L, t, y = c.copy(), np.zeros_like(c), t.copy(), np.zeros(k)
    for i in range(k):
        sd = np.sqrt(np.maximum(np.diag(A)[i:] - np.sum(L[i:] ** 2, axis=1), 1e-300))
        j = i + int(np.argmin(special.log_ndtr((t[i:] - L[i:] @ y) / sd)))
        for M in (A,):
            M[[i, j]] = M[[j, i]]
            M[:, [i, j]] = M[:, [j, i]]
        L[[i, j]] = L[[j, i]]
        t[[i, j]] = t[[j, i]]
        lii = np.sqrt(max(A[i, i] - L[i] @ L[i], 1e-300))
        L[i + 1:, i] = (A[i + 1:, i] - L[i + 1:] @ L[i]) / lii
        L[i, i] = lii
        b = (t[i] - L[i] @ y) / lii
        y[i] = -np.exp(-0.5 * b * b - 0.5 * np.log(2 * np.pi) - special.log_ndtr(b))
    return t, L


_ALPHA = {}


def np_qmc_sov(rng, t, c, n_points=QMC_POINTS, n_shifts=QMC_SHIFTS):
    """P(Z <= t), Z ~ N(0, c): Genz's separation of variables on a tent-transformed,
    randomly shifted Richtmyer lattice (the JAX side's "qmc" estimator, in numpy)."""
    from scipy import special

    k = len(t)
    if k not in _ALPHA:
        from cofail_jax._src.orthant import richtmyer_alpha

        _ALPHA[k] = richtmyer_alpha(k)
    t, L = np_reorder_cholesky(np.minimum(t, 1e4), c)
    n = n_points // n_shifts
    base = np.mod(np.arange(1, n + 1)[:, None] * _ALPHA[k][None, :], 1.0)
    x = np.mod(base[None] + rng.random((n_shifts, 1, k)), 1.0).reshape(n_shifts * n, k)
    u = np.clip(np.abs(2 * x - 1), 1e-300, 1.0)
    w = np.zeros_like(u)
    lf = np.zeros(len(u))
    for i in range(k):
        le = special.log_ndtr((t[i] - w[:, :i] @ L[i, :i]) / L[i, i])
        w[:, i] = special.ndtri(np.clip(u[:, i] * np.exp(le), 1e-300, 1 - 1e-16))
        lf += le
    per_shift = np.exp(lf).reshape(n_shifts, n).mean(axis=1)
    return per_shift.mean(), per_shift.std(ddof=1) / math.sqrt(n_shifts)


def like_repair_settings():
    """(eigenvalue floor, iteration cap) of the JAX side's repair (copulas.repair_matrix:
    nearest_correlation at its default tol 1e-10)."""
    from cofail_jax._src.copulas import EIG_FLOOR

    return EIG_FLOOR, 1000


def np_repair_like(sub):
    """The JAX side's repair, same algorithm, tolerance, floor and cap."""
    import np_repair

    floor, cap = like_repair_settings()
    if REPAIR == "newton":
        return np_repair.newton(sub, tol=1e-10, max_iter=cap, eps=floor)[0]
    return np_repair.higham(sub, tol=1e-10, max_iter=cap, eps=floor)[0]


NU = 4.0  # the Student-t copula's default degrees of freedom (copulas.PricingOptions.nu)


def np_bvt(h, k, r, nu=int(NU)):
    """Bivariate t CDF for integer nu, numpy: the Dunnett-Sobel closed form (the JAX side's
    mvt.bvt_cdf_integer, vectorized), |r| < 1."""
    h, k, r = np.broadcast_arrays(np.asarray(h, float), np.asarray(k, float), np.asarray(r, float))
    f = float(nu)
    ors = 1 - r * r
    hrk, krh = h - r * k, k - r * h
    xnhk = hrk ** 2 / (hrk ** 2 + ors * (f + k * k))
    xnkh = krh ** 2 / (krh ** 2 + ors * (f + h * h))
    hs, ks = np.where(hrk < 0, -1.0, 1.0), np.where(krh < 0, -1.0, 1.0)
    hh, kk = 1 + h * h / f, 1 + k * k / f
    if nu % 2 == 0:
        bvt = np.arctan2(np.sqrt(ors), -r) / (2 * np.pi)
        gh, gk = h / np.sqrt(16 * (f + h * h)), k / np.sqrt(16 * (f + k * k))
        cnk = 2 * np.arctan2(np.sqrt(xnkh), np.sqrt(1 - xnkh)) / np.pi
        dnk = 2 * np.sqrt(xnkh * (1 - xnkh)) / np.pi
        cnh = 2 * np.arctan2(np.sqrt(xnhk), np.sqrt(1 - xnhk)) / np.pi
        dnh = 2 * np.sqrt(xnhk * (1 - xnhk)) / np.pi
        for j in range(1, nu // 2 + 1):
            bvt = bvt + gh * (1 + ks * cnk) + gk * (1 + hs * cnh)
            cnk, dnk = cnk + dnk, 2 * j * dnk * (1 - xnkh) / (2 * j + 1)
            cnh, dnh = cnh + dnh, 2 * j * dnh * (1 - xnhk) / (2 * j + 1)
            gh, gk = gh * (2 * j - 1) / (2 * j * hh), gk * (2 * j - 1) / (2 * j * kk)
        return bvt
    raise NotImplementedError("np_bvt: even nu only (the benchmark's nu = 4)")


def np_bvt_dr(h, k, r, nu=NU):
    ors = 1 - r * r
    q = (h * h - 2 * r * h * k + k * k) / ors
    return (1 + q / nu) ** (-nu / 2) / (2 * np.pi * np.sqrt(ors))


def np_t_calibrate(p, pb, rho, like):
    """Pairwise t correlations of the pool, once per pool (as the JAX side): straightforward:
    scipy brentq on the closed form, pair by pair; like-for-like: all pairs at once by the
    JAX side's safeguarded Newton (8 steps from the tetrachoric, closed-form derivative)."""
    from scipy import optimize, stats

    k = len(p)
    t = stats.t.ppf(p, NU)
    iu, ju = np.triu_indices(k, 1)
    out = np.eye(k)
    # boundary pairs (an empty 2 x 2 cell: tetrachoric +-1) keep it, as the JAX side does
    cal = np.abs(rho[iu, ju]) < 1 - 1e-9
    if not like:
        def solve(i, j):
            f = lambda x: np_bvt(t[i], t[j], x) - pb[i, j]
            a, b = -1 + 1e-12, 1 - 1e-12
            fa, fb = f(a), f(b)
            if fa * fb > 0:  # the target is outside (-1, 1): the nearer end
                return a if fa > 0 else b
            return optimize.brentq(f, a, b, xtol=1e-12)

        r = [solve(i, j) if c else rho[i, j] for i, j, c in zip(iu, ju, cal)]
        out[iu, ju] = out[ju, iu] = r
        return t, out
    h, kk, target = t[iu], t[ju], pb[iu, ju]
    r = np.clip(rho[iu, ju], -0.999, 0.999)
    lo, hi = -np.ones_like(r), np.ones_like(r)
    for _ in range(8):
        g = np_bvt(h, kk, r) - target
        df = np_bvt_dr(h, kk, r)
        lo, hi = np.where(g < 0, r, lo), np.where(g > 0, r, hi)
        rn = r - g / np.where(df > 0, df, 1.0)
        bad = ~np.isfinite(rn) | (rn <= lo) | (rn >= hi)
        r = np.where(bad, 0.5 * (lo + hi), rn)
    r = np.where(cal, r, rho[iu, ju])
    out[iu, ju] = out[ju, iu] = r
    return t, out


def np_qmc_sov_t(rng, t, c, nu=NU, n_points=QMC_POINTS, n_shifts=QMC_SHIFTS):
    """P(T <= t), T multivariate t_nu: the chi variable as the first SOV coordinate (scipy's
    gamma quantile), then the Gaussian SOV with thresholds scaled (numpy, as np_qmc_sov)."""
    from scipy import special

    k = len(t)
    if ("t", k) not in _ALPHA:
        from cofail_jax._src.orthant import richtmyer_alpha

        _ALPHA["t", k] = richtmyer_alpha(k + 1)
    t, L = np_reorder_cholesky(np.minimum(t, 1e4), c)
    n = n_points // n_shifts
    base = np.mod(np.arange(1, n + 1)[:, None] * _ALPHA["t", k][None, :], 1.0)
    x = np.mod(base[None] + rng.random((n_shifts, 1, k + 1)), 1.0).reshape(n_shifts * n, k + 1)
    u = np.clip(np.abs(2 * x - 1), 1e-300, 1.0)
    s = np.sqrt(2 * special.gammaincinv(nu / 2, u[:, 0]) / nu)
    w = np.zeros((len(u), k))
    lf = np.zeros(len(u))
    for i in range(k):
        le = special.log_ndtr((t[i] * s - w[:, :i] @ L[i, :i]) / L[i, i])
        w[:, i] = special.ndtri(np.clip(u[:, i + 1] * np.exp(le), 1e-300, 1 - 1e-16))
        lf += le
    per_shift = np.exp(lf).reshape(n_shifts, n).mean(axis=1)
    return per_shift.mean(), per_shift.std(ddof=1) / math.sqrt(n_shifts)


def np_price(rng, p, tau, rho, pb, idx, e, like=False, tcal=None):
    k = len(idx)
    sub = rho[np.ix_(idx, idx)]
    off = ~np.eye(k, dtype=bool)
    rbar = max(sub[off].mean(), 0.0)
    out = [np_onefactor(tau[idx], np.full(k, np.sqrt(rbar))),
           np_onefactor(tau[idx], np_fit(rho, idx))]
    if like:
        out.append(np_qmc_sov(rng, tau[idx], np_repair_like(sub))[0])
    else:
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
    if tcal is not None:  # Student-t: the pool's calibrated pairs, indexed
        tt, tr = tcal
        tsub = tr[np.ix_(idx, idx)]
        if like:
            out.append(np_qmc_sov_t(rng, tt[idx], np_repair_like(tsub))[0])
        else:
            ev, vec = np.linalg.eigh(tsub)
            c = (vec * np.maximum(ev, 1e-10)) @ vec.T
            d = np.sqrt(np.diag(c))
            c = c / d[:, None] / d[None, :]
            z = rng.standard_normal((4096, k)) @ np.linalg.cholesky(c + 1e-10 * np.eye(k)).T
            sc = np.sqrt(rng.chisquare(NU, (4096, 1)) / NU)
            out.append(np.mean(np.all(z <= tt[idx] * sc, axis=1)))
    beta_obs = np.mean(np.all(e[:, idx], axis=1))
    # effective correlation: the equal correlation reproducing beta_obs (brentq on quad)
    from scipy import optimize

    g = lambda r: np_onefactor(tau[idx], np.full(k, np.sqrt(r))) - beta_obs
    rho_eff = optimize.brentq(g, 0.0, 0.999, xtol=1e-10) if beta_obs > 0 and g(0.0) < 0 < g(0.999) else np.nan
    return beta_obs, out, rho_eff


def baseline(e, n_probe_subsets, n_timed_pairs, like):
    """(per-subset seconds at PROBE_K, per-replicate seconds, all-pairs tetrachoric
    seconds) of the straightforward (like=False) or like-for-like (like=True) baseline."""
    from scipy import stats

    rng = np.random.default_rng(0)
    n = e.shape[0]
    ef = e.astype(float)
    t0 = time.perf_counter()
    p, pb = np_pool(ef, np.ones(n))
    if like:
        rho = np_tetrachoric_fast(p, pb)
        t_tet = time.perf_counter() - t0
    else:
        iu, ju = np.triu_indices(K, 1)
        sel = np.linspace(0, len(iu) - 1, min(n_timed_pairs, len(iu))).astype(int)
        np_tetrachoric_pairs(p, pb, list(zip(iu[sel], ju[sel])))
        t_tet = (time.perf_counter() - t0) * len(iu) / len(sel)
        rho = np_tetrachoric_fast(p, pb)  # the matrix priced (same values to ~1e-9)
    tcal = None
    if "student_t" in BASELINE_COPULAS:  # once per pool, as the JAX side
        t0 = time.perf_counter()
        tcal = np_t_calibrate(p, pb, rho, like)
        t_tet += time.perf_counter() - t0
    tau = stats.norm.ppf(p)
    per_subset = {}
    for k in PROBE_K:
        t0 = time.perf_counter()
        for _ in range(n_probe_subsets):
            idx = np.sort(rng.permutation(K)[:k])
            np_price(rng, p, tau, rho, pb, idx, e, like=like, tcal=tcal)
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
    copulas = S.COPULAS
    sweep = S.make_subset_sweep(copulas, **kw)
    boot = S.make_bootstrap(copulas, **kw)
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


def small_sweep(e, subsets=10, bootstrap=100):
    """The small sweep end to end, compilation included: the benchmark pool written as a
    wide CSV, every k = 2..K, ``subsets`` subsets, ``bootstrap`` replicates, all copulas,
    defaults otherwise (the command ``cofail sweep small.toml --no-progress`` runs)."""
    import tempfile

    from cofail_jax._src.sweep_io import load_config, run_sweep

    with tempfile.TemporaryDirectory() as d:
        csv = os.path.join(d, "pool.csv")
        names = [f"m{i:02d}" for i in range(e.shape[1])]
        table = np.column_stack([np.arange(e.shape[0]), (~e).astype(int)])
        np.savetxt(csv, table, fmt="%d", delimiter=",",
                   header=",".join(["query_id"] + names), comments="")
        toml = os.path.join(d, "small.toml")
        with open(toml, "w") as f:
            f.write(f'input = "{csv}"\nformat = "wide"\noutput = "{os.path.join(d, "small.h5")}"\n'
                    f"subsets = {subsets}\nbootstrap = {bootstrap}\n")
        ticks = []
        t0 = time.perf_counter()
        out = run_sweep(load_config(toml),
                        progress=lambda done, total: ticks.append(time.perf_counter() - t0))
        wall = time.perf_counter() - t0
    # ticks: start, then after each unit; the first unit (full pool) follows the
    # concurrent compilation of every program
    out["first_unit_s"] = ticks[1] if len(ticks) > 1 else float("nan")
    return wall, out


def compile_table(e):
    """Compile the small sweep's programs one after another (the jobs ``run_sweep``
    compiles concurrently), with the process CPU time of tracing + lowering and of XLA's
    compilation for each: where the small sweep's compilation goes."""
    import jax
    import jax.numpy as jnp

    from cofail_jax._src import sweep as S

    n, k = e.shape
    kw = dict(orthant_samples=None, orthant_method=None, repair="nearest", nu=4.0,
              rel_error=0.01, max_samples=2 ** 16)
    key = jax.random.key(0)
    stats = jax.eval_shape(S.pool_stats, jax.ShapeDtypeStruct((n, k), jnp.bool_),
                           jax.ShapeDtypeStruct((n,), jnp.float64))
    sweep = S.make_subset_sweep(S.COPULAS, **kw)
    boot = S.make_bootstrap(S.COPULAS, **kw)
    jobs = (sweep.precompile(key, stats, e, range(2, k + 1))
            + boot.precompile(key, e, np.ones(k, bool)))
    seen, total = set(), np.zeros(3)
    for j in jobs:
        if not isinstance(j, S._CompileJob) or j.ident() in seen:
            continue
        seen.add(j.ident())
        name = (f"subsets d = {j.d}" if j.d is not None else
                "full width (sweep k > 48, full pool, bootstrap)"
                if j.program is sweep.pool_program else "bootstrap statistics")
        c0, w0 = time.process_time(), time.perf_counter()
        lowered = j.program.jitted.trace(j.static, j.rows, j.d).lower()
        c1 = time.process_time()
        lowered.compile()
        c2, w2 = time.process_time(), time.perf_counter()
        total += (c1 - c0, c2 - c1, w2 - w0)
        print(f"{name:48s} trace+lower {c1 - c0:5.2f} s CPU, XLA {c2 - c1:6.2f} s CPU, "
              f"{w2 - w0:6.2f} s wall", flush=True)
    print(f"{'total':48s} trace+lower {total[0]:5.2f} s CPU, XLA {total[1]:6.2f} s CPU, "
          f"{total[2]:6.2f} s wall")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="fewer probe subsets/replicates")
    ap.add_argument("--full", action="store_true", help="also run the whole JAX sweep")
    ap.add_argument("--small", action="store_true",
                    help="only the small sweep end to end (every k, 10 subsets, B = 100, all "
                         "copulas, compilation included); target < 60 s")
    ap.add_argument("--compile-table", action="store_true",
                    help="only compile the small sweep's programs one by one, with times")
    args = ap.parse_args()
    import jax

    import cofail_jax  # noqa: F401  (x64)
    from cofail_jax._src.simulate import benchmark_pool

    pool = benchmark_pool(jax.random.key(0), n_queries=N, n_models=K)
    e = np.asarray(pool.errors)
    print(f"pool: {N} queries x {K} models (simulate.benchmark_pool(jax.random.key(0))); "
          f"devices: {jax.device_count()} x {jax.devices()[0].device_kind}; "
          f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs; "
          f"OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS')}")
    if args.compile_table:
        compile_table(e)
        print(f"load average at the end: {' '.join(f'{v:.1f}' for v in os.getloadavg())}")
        return
    if args.small:
        wall, out = small_sweep(e)
        full = out["full"]
        r = full["ratio"]
        vals = [r[m] for m in out["copulas"]] if isinstance(r, dict) else np.ravel(r)
        ratios = ", ".join(f"{m} {float(np.ravel(v)[0]):.3f}" for m, v in zip(out["copulas"], vals))
        print(f"small sweep (k = 2..{K}, P = 10, B = 100, {', '.join(out['copulas'])}), "
              f"compilation included: {wall:.1f} s wall ({out['first_unit_s']:.1f} s to the "
              f"end of the first unit: loading, compiling every program, the full pool); "
              f"full-pool ratios: {ratios}")
        print(f"load average at the end: {' '.join(f'{v:.1f}' for v in os.getloadavg())}")
        return
    n_sub, n_rep = (8, 8) if args.quick else (200, 256)
    js, jr, c1, c2, full_time = jax_side(e, n_sub, n_rep, args.full)
    n_probe, n_pairs = (1, 100) if args.quick else (3, 10 ** 9)
    bs, br, t_tet = baseline(e, n_probe, n_pairs, like=False)
    ls, lr, t_tet_like = baseline(e, n_probe, n_pairs, like=True)
    j_sweep, j_boot = extrapolate(js, jr)
    b_sweep, b_boot = extrapolate(bs, br)
    l_sweep, l_boot = extrapolate(ls, lr)
    rows = [(f"per subset, k={k}", js[k], bs[k], ls[k]) for k in PROBE_K]
    rows += [("per bootstrap replicate", jr, br, lr),
             ("sweep (13,068 subsets), extrapolated", j_sweep, b_sweep, l_sweep),
             ("bootstrap (B = 2,000), extrapolated", j_boot, b_boot, l_boot),
             ("whole analysis, extrapolated", j_sweep + j_boot, b_sweep + b_boot,
              l_sweep + l_boot)]
    print(f"{'':40s} {'JAX (s)':>10s} {'straight (s)':>13s} {'ratio':>7s} "
          f"{'like (s)':>10s} {'ratio':>7s}")
    for name, a, b, c in rows:
        print(f"{name:40s} {a:10.4g} {b:13.4g} {b / a:6.1f}x {c:10.4g} {c / a:6.1f}x")
    print(f"JAX compile: sweep {c1:.1f} s (5 subset dimensions), bootstrap {c2:.1f} s "
          f"(once per run; not in the rows above)")
    print(f"whole analysis incl. compilation, extrapolated: {j_sweep + j_boot + c1 + c2:.0f} s; "
          f"ratios incl. compilation: straightforward "
          f"{(b_sweep + b_boot) / (j_sweep + j_boot + c1 + c2):.1f}x, like-for-like "
          f"{(l_sweep + l_boot) / (j_sweep + j_boot + c1 + c2):.1f}x")
    print(f"baseline all-pairs tetrachoric (2,211 pairs): straightforward {t_tet:.1f} s"
          f"{' (timed on %d pairs, scaled)' % n_pairs if n_pairs < 2211 else ''}, "
          f"like-for-like {t_tet_like:.2f} s")
    floor, cap = like_repair_settings()
    print(f"like-for-like repair: numpy {'Newton' if REPAIR == 'newton' else 'Higham'} "
          f"(tol 1e-10, max {cap} iterations, floor {floor:g}); Gaussian: numpy QMC-SOV, "
          f"{QMC_POINTS} points, {QMC_SHIFTS} shifts")
    from cofail_jax._src import sweep as S

    extra = [m for m in S.COPULAS if m not in BASELINE_COPULAS]
    if extra:
        print(f"note: the JAX side also prices {', '.join(extra)}, which neither baseline "
              f"does (they price {', '.join(BASELINE_COPULAS)}): the ratios understate it")
    print(f"load average at the end: {' '.join(f'{v:.1f}' for v in os.getloadavg())}")
    if full_time is not None:
        print(f"JAX whole sweep, measured: {full_time:.1f} s")


if __name__ == "__main__":
    main()
