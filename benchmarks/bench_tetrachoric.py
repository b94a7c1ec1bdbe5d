"""Tetrachoric engine benchmark: all 2,211 pairs of a 67-model x 330-query pool, and
2,000 query-resampled bootstrap replicates of it.

Usage:
  .venv/bin/python benchmarks/bench_tetrachoric.py [--quick] [--reps 2000]

Compared in the same run (timings after compilation / warm-up, median of repeats):
  single matrix  cofail_jax.tetrachoric (jitted)
                 (1) scipy brentq per pair on scipy's bivariate normal CDF
                 (2) vectorized numpy bisection on a 96-point Gauss-Legendre CDF
  bootstrap      jax.vmap of tetrachoric over resample-count weights (one call,
                 lax.map in batches to bound memory)
                 vs a Python loop over replicates of a vectorized numpy Newton solver
Max abs differences between the solvers are reported on the pairs all of them solve.
--quick times brentq on 300 pairs and the numpy loop on 100 replicates and scales up.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

import jax  # noqa: E402

jax.config.update("jax_enable_x64", True)
import jax.numpy as jnp  # noqa: E402
from scipy import optimize, special, stats  # noqa: E402

from cofail_jax._src.tetrachoric import OK, tetrachoric  # noqa: E402


def pool():
    """The simulator's standard benchmark pool, or a fixed-seed 2PL pool without it."""
    try:
        from cofail_jax._src.simulate import benchmark_pool

        m = benchmark_pool(jax.random.key(0))
        return ~np.asarray(m.correct, bool), "cofail_jax._src.simulate.benchmark_pool(jax.random.key(0))"
    except ImportError:
        rng = np.random.default_rng(0)
        theta = rng.normal(size=(67, 1))
        b = rng.normal(size=(1, 330)) * 1.5
        p = 1 / (1 + np.exp(-(theta + 0.8 - b)))
        return (rng.random((67, 330)) > p).T, "numpy 2PL pool (seed 0)"


def timeit(fn, repeat=5):
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return float(np.median(times))


# ---- baseline (1): scipy brentq per pair --------------------------------------------

def scipy_brentq(p, pij, pairs):
    tau = stats.norm.ppf(p)
    out = np.full(len(pairs), np.nan)
    for n, (i, j) in enumerate(pairs):
        h, k, t = tau[i], tau[j], pij[i, j]

        def f(r):
            return stats.multivariate_normal.cdf([h, k], cov=[[1, r], [r, 1]],
                                                 allow_singular=True) - t

        out[n] = optimize.brentq(f, -1 + 1e-10, 1 - 1e-10, xtol=1e-13, rtol=1e-15)
    return out


# ---- baseline (2): numpy bisection, 96-point Gauss-Legendre bivariate CDF -----------

_T96, _W96 = np.polynomial.legendre.leggauss(96)


def bvn_gl(h, k, rho, t=_T96, w=_W96):
    """Phi_2 by Gauss-Legendre on Sheppard/Plackett's theta integral."""
    half = np.arcsin(rho) / 2
    sn = np.sin(half[:, None] * (1 + t[None, :]))
    expo = (sn * (h * k)[:, None] - ((h * h + k * k) / 2)[:, None]) / (1 - sn * sn)
    return special.ndtr(h) * special.ndtr(k) + half * (np.exp(expo) @ w) / (2 * np.pi)


def numpy_bisection(tau_i, tau_j, target, tol=1e-12):
    lo = np.full(target.shape, -1.0)
    hi = np.full(target.shape, 1.0)
    for _ in range(int(np.ceil(np.log2(2 / tol)))):
        mid = (lo + hi) / 2
        below = bvn_gl(tau_i, tau_j, mid) < target
        lo = np.where(below, mid, lo)
        hi = np.where(below, hi, mid)
    return (lo + hi) / 2


# ---- fastest numpy for the bootstrap loop: vectorized Newton, 20-point CDF ----------

_T20, _W20 = np.polynomial.legendre.leggauss(20)


def numpy_newton(E, w, iu, ju, steps=4):
    """All pairs of one weighted matrix: Bonett-Price start, then Newton steps."""
    n = w.sum()
    ew = E * w[:, None]
    p = ew.sum(0) / n
    pij = (ew.T @ E) / n
    pi, pj, t = p[iu], p[ju], pij[iu, ju]
    p10, p01, p00 = pi - t, pj - t, 1 - pi - pj + t
    with np.errstate(divide="ignore", invalid="ignore"):
        odds = (t * p00) / (p10 * p01)
        pmin = np.minimum(np.minimum(pi, 1 - pi), np.minimum(pj, 1 - pj))
        c = (1 - np.abs(pi - pj) / 5 - (0.5 - pmin) ** 2) / 2
        r = np.clip(np.cos(np.pi / (1 + odds ** c)), -0.999, 0.999)
        h, k = special.ndtri(pi), special.ndtri(pj)
        for _ in range(steps):
            f = bvn_gl(h, k, r, _T20, _W20) - t
            s2 = 1 - r * r
            dens = np.exp(-(h * h - 2 * r * h * k + k * k) / (2 * s2)) / (2 * np.pi * np.sqrt(s2))
            r = np.clip(r - f / dens, -0.9999, 0.9999)
    return r


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--reps", type=int, default=2000)
    ap.add_argument("--batch", type=int, default=2, help="replicates per vectorized batch")
    args = ap.parse_args()

    E, origin = pool()
    n, k = E.shape
    iu, ju = np.triu_indices(k, 1)
    pairs = list(zip(iu, ju))
    print(f"pool: {origin}: {n} queries x {k} models, {len(pairs)} pairs; "
          f"devices {jax.devices()}; load average {os.getloadavg()[0]:.1f} on "
          f"{os.cpu_count()} CPUs")

    # ---------------- single matrix ----------------
    f_jax = jax.jit(lambda e: tetrachoric(e))
    Ej = jnp.asarray(E)
    t0 = time.perf_counter()
    res = jax.block_until_ready(f_jax(Ej))
    t_compile = time.perf_counter() - t0
    t_jax = timeit(lambda: jax.block_until_ready(f_jax(Ej)), repeat=20)
    status = np.asarray(res.status)[iu, ju]
    rho_jax = np.asarray(res.rho)[iu, ju]
    ok = status == OK
    p = E.mean(0)
    pij = (E.T.astype(float) @ E) / n

    sel = np.flatnonzero(ok)
    tau = special.ndtri(p)
    t_np = timeit(lambda: numpy_bisection(tau[iu[sel]], tau[ju[sel]], pij[iu[sel], ju[sel]]),
                  repeat=3)
    rho_np = numpy_bisection(tau[iu[sel]], tau[ju[sel]], pij[iu[sel], ju[sel]])

    sub = sel if not args.quick else sel[:: max(1, len(sel) // 300)]
    t0 = time.perf_counter()
    rho_sp = scipy_brentq(p, pij, [pairs[s] for s in sub])
    t_sp = (time.perf_counter() - t0) * len(sel) / len(sub)
    pos = np.searchsorted(sel, sub)

    d_jax_sp = np.max(np.abs(rho_jax[sub] - rho_sp))
    d_jax_np = np.max(np.abs(rho_jax[sel] - rho_np))
    d_np_sp = np.max(np.abs(rho_np[pos] - rho_sp))
    print(f"\nsingle matrix: {ok.sum()} pairs solved, {len(pairs) - ok.sum()} boundary/degenerate;"
          f" jax compile {t_compile:.2f} s; max Newton iterations "
          f"{int(np.asarray(res.n_iter).max())}")
    rows = [("cofail_jax.tetrachoric (jit)", t_jax, 1.0),
            ("numpy bisection, 96-pt GL CDF", t_np, t_np / t_jax),
            ("scipy brentq per pair" + (" (scaled from %d pairs)" % len(sub) if args.quick else ""),
             t_sp, t_sp / t_jax)]
    print(f"{'solver':48s} {'time':>12s} {'jax speed-up':>13s}")
    for name, t, ratio in rows:
        print(f"{name:48s} {t * 1e3:10.2f} ms {ratio:12.1f}x")
    print(f"max |rho| difference: jax-scipy {d_jax_sp:.2e}, jax-numpy {d_jax_np:.2e}, "
          f"numpy-scipy {d_np_sp:.2e} (over {len(sub)}/{len(sel)}/{len(sub)} pairs)")

    # ---------------- bootstrap ----------------
    R = args.reps
    rng = np.random.default_rng(1)
    W = rng.multinomial(n, np.full(n, 1 / n), size=R).astype(float)
    batch = min(args.batch, R)

    def boot(Wb):
        return jax.lax.map(lambda w: tetrachoric(Ej, w).rho[iu, ju], Wb, batch_size=batch)

    f_boot = jax.jit(boot)
    Wj = jnp.asarray(W)
    t0 = time.perf_counter()
    rho_b = np.asarray(jax.block_until_ready(f_boot(Wj)))
    t_bc = time.perf_counter() - t0
    t_boot = timeit(lambda: jax.block_until_ready(f_boot(Wj)), repeat=2 if args.quick else 3)

    Ef = E.astype(float)
    n_loop = 100 if args.quick else R
    numpy_newton(Ef, W[0], iu, ju)  # warm-up
    t0 = time.perf_counter()
    rho_nb = [numpy_newton(Ef, W[r], iu, ju) for r in range(n_loop)]
    t_loop = (time.perf_counter() - t0) * R / n_loop
    rho_nb = np.asarray(rho_nb)
    interior = np.abs(rho_b[:n_loop]) < 0.99  # the numpy loop clips at 0.9999 and has no status
    d_boot = np.max(np.abs(rho_b[:n_loop][interior] - rho_nb[interior]))
    print(f"\nbootstrap: {R} query-resampled replicates x {len(pairs)} pairs = "
          f"{R * len(pairs) / 1e6:.2f} M pair solves; jax compile {t_bc:.1f} s (batch {batch})")
    print(f"{'solver':48s} {'time':>12s} {'per matrix':>12s} {'jax speed-up':>13s}")
    for name, t in [("cofail_jax vmap (lax.map batches), one call", t_boot),
                    ("numpy Newton loop" + (f" (scaled from {n_loop})" if args.quick else ""),
                     t_loop)]:
        print(f"{name:48s} {t:10.2f} s  {t / R * 1e3:9.2f} ms {t / t_boot:12.1f}x")
    print(f"max |rho| difference jax-numpy Newton over {n_loop} replicates "
          f"(|rho| < 0.99): {d_boot:.2e}")


if __name__ == "__main__":
    main()
