"""Pricing benchmark: MC draws/s vs chunked numpy (with the machine's ceiling), time to a 1 %
relative standard error for QMC-SOV / tilting vs plain MC, scipy and R pmvnorm, and the
one-factor quadrature vs scipy quad (single and vmapped over 10,000 pools).

    .venv/bin/python benchmarks/bench_pricing.py [--quick]

Pool: the tetrachoric matrix (repaired, Higham with eigenvalue floor 1e-3) of the simulated
67-model x 330-query pool ``cofail_jax._src.simulate.benchmark_pool(jax.random.key(0))``, and of the largest
real file in ../shared/data (mmlupro_mmlu-pro.csv, 12002 x 28; MMLU-Pro, TIGER-AI-Lab,
Apache-2.0). Every timing is after compilation, best of a few repeats.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time

import jax
import jax.numpy as jnp
import numpy as np
from scipy import integrate, special, stats

jax.config.update("jax_enable_x64", True)

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

from cofail_jax._src.onefactor import onefactor_log_beta  # noqa: E402
from cofail_jax._src.orthant import hash_normals, make_orthant_estimator  # noqa: E402
from cofail_jax._src.repair import nearest_correlation  # noqa: E402
from cofail_jax._src.tetrachoric import tetrachoric  # noqa: E402

DATA = os.path.join(os.path.dirname(HERE), "..", "shared", "data", "mmlupro_mmlu-pro.csv")


def best(f, repeats=3):
    f()
    ts = []
    for _ in range(repeats):
        t = time.perf_counter()
        f()
        ts.append(time.perf_counter() - t)
    return min(ts)


def pool(name):
    from cofail_jax._src.io import load_matrix
    from cofail_jax._src.simulate import benchmark_pool

    m = benchmark_pool(jax.random.key(0)) if name == "sim67" else load_matrix(DATA)
    deg = {d for d, _ in m.degenerate_models()}
    m = m.select_models([x for x in m.models if x not in deg])
    errors = ~np.asarray(m.correct, bool)
    tc = tetrachoric(jnp.asarray(errors))
    corr = np.asarray(nearest_correlation(np.nan_to_num(np.asarray(tc.rho)), eps=1e-3).corr)
    return np.asarray(tc.tau), corr, m


def numpy_mc(tau, corr, n, chunk=65536, seed=0):
    rng = np.random.default_rng(seed)
    L = np.linalg.cholesky(corr).astype(np.float32)
    t = tau.astype(np.float32)
    hits = 0
    for start in range(0, n, chunk):
        e = rng.standard_normal((min(chunk, n - start), len(tau)), dtype=np.float32)
        hits += int(np.all(e @ L.T <= t, axis=1).sum())
    return hits


def ceiling(k, chunk=65536):
    rows = []
    rng = np.random.default_rng(0)
    t = best(lambda: rng.standard_normal((chunk, k), dtype=np.float32))
    rows.append(("numpy normals (float32, ziggurat)", f"{chunk * k / t / 1e6:.0f} M/s"))
    key = jax.random.key(0)
    f = jax.jit(lambda kk: jnp.sum(jax.random.normal(kk, (chunk, k), jnp.float32)))
    t = best(lambda: f(key).block_until_ready())
    rows.append(("jax threefry normals (float32)", f"{chunk * k / t / 1e6:.0f} M/s"))
    g = jax.jit(lambda s: jnp.sum(hash_normals(s, (chunk, k))))
    seed = jnp.asarray([1, 2], jnp.uint32)
    t = best(lambda: g(seed).block_until_ready())
    gen_rate = chunk * k / t
    rows.append(("cofail hash normals (float32, fused)", f"{gen_rate / 1e6:.0f} M/s"))
    a = jnp.ones((chunk, k), jnp.float32)
    b = jnp.ones((k, k), jnp.float32)
    mm = jax.jit(lambda a, b: jnp.sum(a @ b))
    t = best(lambda: mm(a, b).block_until_ready())
    flops = 2 * chunk * k * k / t
    rows.append((f"matmul ({chunk} x {k}) @ ({k} x {k}) float32", f"{flops / 1e9:.1f} GFLOP/s"))
    x = np.ones(2 ** 26, np.float32)
    y = np.empty_like(x)
    t = best(lambda: np.copyto(y, x))
    rows.append(("memory bandwidth (numpy copy, 256 MiB)", f"{2 * x.nbytes / t / 1e9:.1f} GB/s"))
    # ceiling for draws/s: generation and product in sequence, no memory traffic beyond cache
    draws_ceiling = 1.0 / (k / gen_rate + 2 * k * k / flops)
    rows.append(("=> draws/s ceiling (generation + matmul)", f"{draws_ceiling / 1e6:.2f} M/s"))
    return rows, draws_ceiling


def bench_mc(tau, corr, n, label):
    est = make_orthant_estimator("mc", n, devices=None)
    key = jax.random.key(0)
    t_jax = best(lambda: est(key, tau, corr).prob.block_until_ready())
    t_np = best(lambda: numpy_mc(tau, corr, n), repeats=1)
    return (label, len(tau), f"{n:,}", f"{n / t_np / 1e6:.2f}", f"{n / t_jax / 1e6:.2f}",
            f"{t_np / t_jax:.1f}x"), n / t_jax


def time_to_1pct(method, tau, corr, start):
    """Pilot run at ``start`` points, then one run at the size the pilot says reaches 1 %
    (error ~ n^-1/2, conservative for QMC); returns (n, seconds, beta, rel. SE)."""
    n = start
    for _ in range(3):
        est = make_orthant_estimator(method, n, devices=None)
        r = est(jax.random.key(1), tau, corr)
        rel = float(r.std_err) / float(r.prob)
        if rel <= 0.01:
            t = best(lambda: est(jax.random.key(1), tau, corr).prob.block_until_ready(), 2)
            return int(r.n_samples), t, float(r.prob), rel
        n = 1 << (int(n * (rel / 0.01) ** 2 * 1.3) - 1).bit_length()
    return int(r.n_samples), float("nan"), float(r.prob), rel


def scipy_time(tau, corr):
    # scipy's error estimate (Genz's MVNDST) is a 99 % bound: releps 2.58 % ~ 1 % one sigma
    f = lambda: stats.multivariate_normal.cdf(tau, np.zeros(len(tau)), corr, abseps=0.0,  # noqa
                                              releps=0.0258, maxpts=10 ** 7,
                                              rng=np.random.default_rng(0))
    t0 = time.perf_counter()
    v = f()
    return time.perf_counter() - t0, float(v)


def r_time(tau, corr):
    if not shutil.which("Rscript"):
        return None
    with tempfile.TemporaryDirectory() as d:
        np.savetxt(os.path.join(d, "tau.txt"), tau)
        np.savetxt(os.path.join(d, "corr.txt"), corr)
        code = (f"suppressMessages(library(mvtnorm)); tau <- scan('{d}/tau.txt', quiet=TRUE); "
                f"R <- as.matrix(read.table('{d}/corr.txt')); set.seed(1); "
                "invisible(pmvnorm(upper=tau, corr=R, algorithm=GenzBretz(maxpts=1e8, abseps=0, releps=0.0258))); "
                "t <- system.time(v <- pmvnorm(upper=tau, corr=R, "
                "algorithm=GenzBretz(maxpts=1e8, abseps=0, releps=0.0258)))[['elapsed']]; "
                "cat(t, v, attr(v, 'error'), '\\n')")
        out = subprocess.run(["Rscript", "-e", code], capture_output=True, text=True, timeout=600)
        try:
            parts = out.stdout.strip().splitlines()[-1].split()
            return float(parts[0]), float(parts[1]), float(parts[2])
        except (IndexError, ValueError):
            print("R failed:", out.stdout[-500:], out.stderr[-500:])
            return None


def bench_onefactor(quick):
    rng = np.random.default_rng(0)
    k = 67
    tau = stats.norm.ppf(rng.uniform(0.1, 0.7, k))
    lam = rng.uniform(0.4, 0.9, k)
    f = jax.jit(onefactor_log_beta)
    t_one = best(lambda: f(tau, lam).block_until_ready(), 5)
    s = np.sqrt(1 - lam ** 2)

    def sq():
        def lg(z):
            return np.exp(stats.norm.logpdf(z) + special.log_ndtr((tau - lam * z) / s).sum())
        return integrate.quad(lg, -np.inf, np.inf, epsabs=0, epsrel=1e-10, limit=500)[0]

    t_quad = best(sq, 2)
    npools = 1000 if quick else 10_000
    T = jnp.asarray(stats.norm.ppf(rng.uniform(0.1, 0.7, (npools, k))))
    L = jnp.asarray(rng.uniform(0.4, 0.9, (npools, k)))
    fv = jax.jit(jax.vmap(onefactor_log_beta))
    t_v = best(lambda: fv(T, L).block_until_ready(), 2)
    return [("scipy quad (epsrel 1e-10)", f"{t_quad * 1e3:.2f} ms", f"{1 / t_quad:,.0f}"),
            ("cofail quadrature, jit, one pool", f"{t_one * 1e3:.3f} ms", f"{1 / t_one:,.0f}"),
            (f"cofail quadrature, vmapped over {npools:,} pools", f"{t_v * 1e3:.0f} ms total",
             f"{npools / t_v:,.0f}")]


def table(rows, header):
    rows = [tuple(str(c) for c in r) for r in [header] + list(rows)]
    w = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    out = ["| " + " | ".join(c.ljust(x) for c, x in zip(r, w)) + " |" for r in rows]
    out.insert(1, "|" + "|".join("-" * (x + 2) for x in w) + "|")
    return "\n".join(out)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args()
    print(f"jax {jax.__version__} on {jax.devices()[0].device_kind} x {jax.device_count()}, "
          f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    tau, corr, m = pool("sim67")
    k = len(tau)
    rows, ceil = ceiling(k)
    print("\nMachine ceiling for the MC loop (k = %d)\n" % k)
    print(table(rows, ("quantity", "rate")))

    n = 2 ** 20 if args.quick else 2 ** 22
    mc_rows = []
    r, rate67 = bench_mc(tau, corr, n, "sim67 (benchmark_pool)")
    mc_rows.append(r)
    if os.path.exists(DATA):
        tau2, corr2, _ = pool("mmlu")
        r, _ = bench_mc(tau2, corr2, n, "mmlupro_mmlu-pro (real)")
        mc_rows.append(r)
    print("\nPlain Monte Carlo, draws per second (M/s), one device\n")
    print(table(mc_rows, ("pool", "k", "draws", "numpy chunked", "cofail mc", "speed-up")))
    print(f"cofail mc at k = {k} reaches {rate67 / ceil:.0%} of the generation + matmul ceiling")

    print("\nTime to a 1 % relative standard error (sim67 pool)\n")
    res = []
    nq, tq, pq, rq = time_to_1pct("qmc", tau, corr, 2 ** 10)
    res.append(("QMC-SOV (cofail)", f"{nq:,}", f"{pq:.5g}", f"{rq:.2%}", f"{tq:.3f}"))
    print(res[-1], flush=True)
    nt, tt, pt, rt = time_to_1pct("tilting", tau, corr, 2 ** 10)
    res.append(("minimax tilting (cofail)", f"{nt:,}", f"{pt:.5g}", f"{rt:.2%}", f"{tt:.3f}"))
    print(res[-1], flush=True)
    p = pq
    n_mc = int(np.ceil((1 - p) / (p * 1e-4)))
    t_mc = n_mc / rate67
    res.append(("plain MC (cofail, from draws/s)", f"{n_mc:,}", "", "1.00%", f"{t_mc:.3f}"))
    t_np = n_mc / float(mc_rows[0][3].replace(",", "")) / 1e6
    res.append(("plain MC (numpy chunked, from draws/s)", f"{n_mc:,}", "", "1.00%", f"{t_np:.3f}"))
    ts, vs = scipy_time(tau, corr)
    print("scipy", ts, vs, flush=True)
    res.append(("scipy multivariate_normal.cdf (releps 2.58 % at 99 %)", "", f"{vs:.5g}", "~1%",
                f"{ts:.3f}"))
    rr = r_time(tau, corr)
    if rr is not None:
        res.append(("R mvtnorm::pmvnorm GenzBretz (releps 2.58 % at 99 %)", "", f"{rr[1]:.5g}",
                    f"{rr[2] / 2.58 / rr[1]:.2%}", f"{rr[0]:.3f}"))
    print(table(res, ("estimator", "points/draws", "beta", "rel. SE", "seconds")))
    fastest_other = min([t_mc, t_np, ts] + ([rr[0]] if rr else []))
    print(f"QMC-SOV speed-up over the fastest alternative: {fastest_other / tq:.1f}x")

    # the far tail: every threshold lowered by 1.5 (each model ~3x more accurate)
    tau_t = tau - 1.5
    print("\nFar tail: the same pool with every threshold lowered by 1.5\n")
    res = []
    nq, tq, pq, rq = time_to_1pct("qmc", tau_t, corr, 2 ** 10)
    res.append(("QMC-SOV (cofail)", f"{nq:,}", f"{pq:.4g}", f"{rq:.2%}", f"{tq:.3f}"))
    nt, tt, pt, rt = time_to_1pct("tilting", tau_t, corr, 2 ** 10)
    res.append(("minimax tilting (cofail)", f"{nt:,}", f"{pt:.4g}", f"{rt:.2%}", f"{tt:.3f}"))
    n_mc = int(np.ceil((1 - pt) / (pt * 1e-4)))
    res.append(("plain MC (cofail, from draws/s)", f"{n_mc:.3g}", "", "1.00%",
                f"{n_mc / rate67:.3g}"))
    rr = r_time(tau_t, corr)
    if rr is not None:
        res.append(("R mvtnorm::pmvnorm GenzBretz (releps 2.58 % at 99 %)", "", f"{rr[1]:.4g}",
                    f"{rr[2] / 2.58 / rr[1]:.2%}", f"{rr[0]:.3f}"))
    print(table(res, ("estimator", "points/draws", "beta", "rel. SE", "seconds")))

    print("\nOne-factor quadrature (k = 67)\n")
    print(table(bench_onefactor(args.quick), ("method", "time", "evaluations/s")))


if __name__ == "__main__":
    main()
