"""QMC-SOV against R ``mvtnorm::pmvnorm`` (GenzBretz) at a 1 % and a 0.1 % relative error.

    .venv/bin/python benchmarks/bench_qmc_vs_r.py [--reps 24] [--keys 48]

Pool: the repaired tetrachoric matrix of the simulated 67-model x 330-query pool
(``benchmark_pool(jax.random.key(0))``, as in bench_pricing.py). For each target:

* R is told the target (``GenzBretz(maxpts = 1e8, abseps = 0, releps = target)``); its
  ``error`` attribute is Genz's 3.5-sigma bound (``ABSERR = 7 * sqrt(var) / 2`` in
  MVKBRV), so its achieved relative standard error is ``error / 3.5 / value``.
* cofail QMC-SOV (16 random shifts, adaptive) is told the same target as a relative
  standard error, and, for the like-for-like figure, R's achieved relative standard error
  (equal achieved accuracy).

* Achieved accuracy is also measured, not only reported: the spread (standard deviation
  over repetitions / mean) of R's estimates over its ``--reps`` seeds and of cofail's over
  ``--keys`` keys. An adaptive stop on a noisy error estimate reports an optimistic SE,
  so the last comparison is at equal *measured* spread: cofail at a fixed number of
  points (``rel_error=0``, same kernel), chosen by a power-law fit of the spread at two
  sizes so that it matches R's measured spread, then measured again at that size.

Timings: after compilation (cofail; the compile time of the first estimator is printed)
and after a warm-up call (R, in one Rscript process that loads mvtnorm once); median over
the repetitions, each with its own seed/key, as wall time and as the process's CPU time
(R: user + system of ``system.time``; cofail: ``time.process_time``, all of XLA's
threads), the steadier figure on a loaded machine. R runs in the same invocation, before
cofail, on the same matrix. ``COFAIL_SRC=/path/to/other/checkout`` times another version
of cofail with the same script.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time

import jax
import numpy as np

jax.config.update("jax_enable_x64", True)

HERE = os.path.dirname(os.path.abspath(__file__))
# COFAIL_SRC: another checkout of cofail to time with the same script (before / after);
# imported first, so that bench_pricing (which puts this checkout on the path) reuses it
sys.path.insert(0, os.environ.get("COFAIL_SRC", os.path.dirname(HERE)))
import cofail_jax  # noqa: E402, F401

sys.path.insert(0, HERE)

from bench_pricing import pool, table  # noqa: E402

from cofail_jax._src.orthant import make_orthant_estimator  # noqa: E402

TARGETS = (0.01, 0.001)
R_SIGMAS = 3.5  # Genz's MVKBRV reports 7/2 standard errors


def r_runs(tau, corr, targets, reps):
    """{target: [(seconds, value, error, CPU seconds), ...]} from one Rscript process."""
    with tempfile.TemporaryDirectory() as d:
        np.savetxt(os.path.join(d, "tau.txt"), tau)
        np.savetxt(os.path.join(d, "corr.txt"), corr)
        code = f"""
suppressMessages(library(mvtnorm))
tau <- scan('{d}/tau.txt', quiet = TRUE); R <- as.matrix(read.table('{d}/corr.txt'))
invisible(pmvnorm(upper = tau, corr = R, algorithm = GenzBretz(maxpts = 1e8, abseps = 0, releps = 0.01)))
for (rel in c({", ".join(str(t) for t in targets)})) for (rep in 1:{reps}) {{
  set.seed(rep)
  st <- system.time(v <- pmvnorm(upper = tau, corr = R,
       algorithm = GenzBretz(maxpts = 1e8, abseps = 0, releps = rel)))
  cat(rel, st[['elapsed']], v, attr(v, 'error'), st[['user.self']] + st[['sys.self']], '\\n')
}}"""
        out = subprocess.run(["Rscript", "-e", code], capture_output=True, text=True,
                             timeout=1800)
    res: dict[float, list] = {t: [] for t in targets}
    for line in out.stdout.splitlines():
        rel, t, v, e, cpu = (float(x) for x in line.split())
        res[min(targets, key=lambda x: abs(x - rel))].append((t, v, e, cpu))
    if not all(res.values()):
        raise RuntimeError(f"R failed: {out.stdout[-500:]} {out.stderr[-500:]}")
    return res


def cofail_runs(tau, corr, rel_error, reps, n_max=2 ** 24):
    """[(seconds, points, prob, rel. SE, CPU seconds), ...] after one compiling call, and
    the compile time (seconds, CPU). ``rel_error=0``: exactly ``n_max`` points."""
    est = make_orthant_estimator("qmc", n_max, devices=None, rel_error=rel_error)
    c0 = time.process_time()
    est(jax.random.key(0), tau, corr).prob.block_until_ready()
    compile_s = time.process_time() - c0
    rows = []
    for rep in range(reps):
        t0, c0 = time.perf_counter(), time.process_time()
        r = est(jax.random.key(1 + rep), tau, corr)
        r.prob.block_until_ready()
        dt, dc = time.perf_counter() - t0, time.process_time() - c0
        rows.append((dt, int(r.n_samples), float(r.prob), float(r.std_err) / float(r.prob), dc))
    return rows, compile_s


def spread(values):
    v = np.asarray(values, float)
    return float(np.std(v, ddof=1) / np.mean(v))


def equal_spread_points(tau, corr, goal, n1, keys):
    """Fixed point count whose measured spread over ``keys`` keys matches ``goal``: spreads
    at n1 and 2 n1 give the exponent of a power law (clamped to [0.5, 1]), solved for the
    goal (rounded up to 1,024 points), then measured there."""
    n1 = max(1024, -(-n1 // 1024) * 1024)
    s1 = spread([r[2] for r in cofail_runs(tau, corr, 0.0, keys, n1)[0]])
    s2 = spread([r[2] for r in cofail_runs(tau, corr, 0.0, keys, 2 * n1)[0]])
    # the exponent from two noisy spreads (+-10 % each at 48 keys) is clamped to [0.5, 1]:
    # a randomized lattice converges at least like Monte Carlo, and a low exponent
    # only asks for more points (the comparison then flatters R, not cofail)
    a = max(0.5, min(1.0, np.log(s1 / s2) / np.log(2.0)))
    n = int(np.ceil(n1 * (s1 / goal) ** (1.0 / a) / 1024) * 1024)
    return n, cofail_runs(tau, corr, 0.0, keys, n)[0], (n1, s1, s2, a)


def med(rows, i):
    return float(np.median([r[i] for r in rows]))


def main():
    """Long: one table row per target, each from four cofail configurations and R."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--reps", type=int, default=24, help="R repetitions (seeds)")
    ap.add_argument("--keys", type=int, default=48, help="cofail repetitions (keys)")
    args = ap.parse_args()
    print(f"jax {jax.__version__} on {jax.devices()[0].device_kind}, load average "
          f"{open('/proc/loadavg').read().split()[:3]} on {os.cpu_count()} cores, "
          f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, cofail from "
          f"{os.path.dirname(cofail_jax.__file__)}")
    tau, corr, _ = pool("sim67")
    print(f"pool: k = {len(tau)}")
    R = r_runs(tau, corr, TARGETS, args.reps)
    rows, acc = [], []
    for target in TARGETS:
        rr = R[target]
        r_t, r_cpu = med(rr, 0), med(rr, 3)
        r_rel = float(np.median([e / R_SIGMAS / v for _, v, e, _ in rr]))
        r_spread = spread([v for _, v, _, _ in rr])
        told, comp = cofail_runs(tau, corr, target, args.keys)
        equal, _ = cofail_runs(tau, corr, r_rel, args.keys)
        goal = r_spread
        n_eq, fixed, fit = equal_spread_points(tau, corr, goal, int(med(equal, 1)), args.keys)
        print(f"target {target:.1%}: compile (first call, CPU) {comp:.2f} s; spread fit "
              f"n1 {fit[0]:,}: {fit[1]:.3%}, 2 n1: {fit[2]:.3%}, exponent {fit[3]:.2f}",
              flush=True)
        rows.append((f"{target:.1%}", f"{r_t:.3f} / {r_cpu:.3f}", f"{r_rel:.3%}",
                     f"{med(told, 1):,.0f}", f"{med(told, 0):.4f} / {med(told, 4):.4f}",
                     f"{r_t / med(told, 0):.0f}x / {r_cpu / med(told, 4):.0f}x",
                     f"{med(equal, 1):,.0f}", f"{med(equal, 0):.4f} / {med(equal, 4):.4f}",
                     f"{r_t / med(equal, 0):.1f}x / {r_cpu / med(equal, 4):.1f}x",
                     f"{n_eq:,}", f"{med(fixed, 0):.4f} / {med(fixed, 4):.4f}",
                     f"{r_t / med(fixed, 0):.1f}x / {r_cpu / med(fixed, 4):.1f}x"))
        acc.append((f"{target:.1%}", f"{r_rel:.3%}", f"{r_spread:.3%}", f"{med(rr, 1):.6f}",
                    f"{med(told, 3):.3%}", f"{spread([r[2] for r in told]):.3%}",
                    f"{med(equal, 3):.3%}", f"{spread([r[2] for r in equal]):.3%}",
                    f"{med(fixed, 3):.3%}", f"{spread([r[2] for r in fixed]):.3%}",
                    f"{np.mean([r[2] for r in fixed]):.6f}"))
        print(rows[-1], acc[-1], flush=True)
    print()
    print(f"(seconds: wall / CPU of the process; medians over {args.reps} R seeds and "
          f"{args.keys} cofail keys)")
    print(table(rows, ("target", "R s", "R rel. SE (err/3.5)", "cofail pts (told target)",
                       "cofail s", "speed-up", "cofail pts (told R's rel. SE)", "cofail s",
                       "speed-up", "cofail pts (equal measured spread)", "cofail s",
                       "speed-up, equal measured spread")))
    print()
    print("accuracy: reported (median) and measured (spread over repetitions)")
    print(table(acc, ("target", "R reported", "R spread", "R beta (median)",
                      "cofail told target: reported", "spread", "told R's SE: reported",
                      "spread", "equal spread: reported", "spread", "cofail beta (mean)")))
    print(f"load average after: {open('/proc/loadavg').read().split()[:3]}")


if __name__ == "__main__":
    main()
