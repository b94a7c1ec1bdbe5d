"""QMC-SOV against R ``mvtnorm::pmvnorm`` (GenzBretz) at a 1 % and a 0.1 % relative error.

    .venv/bin/python benchmarks/bench_qmc_vs_r.py [--reps 5]

Pool: the repaired tetrachoric matrix of the simulated 67-model x 330-query pool
(``benchmark_pool(jax.random.key(0))``, as in bench_pricing.py). For each target:

* R is told the target (``GenzBretz(maxpts = 1e8, abseps = 0, releps = target)``); its
  ``error`` attribute is Genz's 3.5-sigma bound (``ABSERR = 7 * sqrt(var) / 2`` in
  MVKBRV), so its achieved relative standard error is ``error / 3.5 / value``.
* cofail QMC-SOV (16 random shifts, adaptive) is told the same target as a relative
  standard error, and, for the like-for-like figure, R's achieved relative standard error
  (equal achieved accuracy).

Timings: after compilation (cofail) and after a warm-up call (R, in one Rscript process
that loads mvtnorm once); median of ``--reps`` repetitions, each with its own seed/key,
as wall time and as the process's CPU time (R: user + system of ``system.time``; cofail:
``time.process_time``, all of XLA's threads), the steadier figure on a loaded machine.
R runs in the same invocation, before cofail, on the same matrix.
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
sys.path.insert(0, os.path.dirname(HERE))
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


def cofail_runs(tau, corr, rel_error, reps):
    """[(seconds, points, prob, rel. SE, CPU seconds), ...] after one compiling call."""
    est = make_orthant_estimator("qmc", 2 ** 24, devices=None, rel_error=rel_error)
    est(jax.random.key(0), tau, corr).prob.block_until_ready()
    rows = []
    for rep in range(reps):
        t0, c0 = time.perf_counter(), time.process_time()
        r = est(jax.random.key(1 + rep), tau, corr)
        r.prob.block_until_ready()
        dt, dc = time.perf_counter() - t0, time.process_time() - c0
        rows.append((dt, int(r.n_samples), float(r.prob), float(r.std_err) / float(r.prob), dc))
    return rows


def med(rows, i):
    return float(np.median([r[i] for r in rows]))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--reps", type=int, default=5)
    args = ap.parse_args()
    print(f"jax {jax.__version__} on {jax.devices()[0].device_kind}, load average "
          f"{open('/proc/loadavg').read().split()[:3]} on {os.cpu_count()} cores, "
          f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}")
    tau, corr, _ = pool("sim67")
    print(f"pool: k = {len(tau)}")
    R = r_runs(tau, corr, TARGETS, args.reps)
    rows = []
    for target in TARGETS:
        rr = R[target]
        r_t = med(rr, 0)
        r_val = med(rr, 1)
        r_rel = float(np.median([e / R_SIGMAS / v for _, v, e, _ in rr]))
        r_cpu = med(rr, 3)
        told = cofail_runs(tau, corr, target, args.reps)
        equal = cofail_runs(tau, corr, r_rel, args.reps)
        rows.append((f"{target:.1%}", f"{r_t:.3f} / {r_cpu:.3f}", f"{r_val:.6f}",
                     f"{r_rel:.3%}", f"{med(told, 1):,.0f}",
                     f"{med(told, 0):.4f} / {med(told, 4):.4f}", f"{med(told, 3):.3%}",
                     f"{r_t / med(told, 0):.0f}x / {r_cpu / med(told, 4):.0f}x",
                     f"{med(equal, 1):,.0f}", f"{med(equal, 0):.4f} / {med(equal, 4):.4f}",
                     f"{med(equal, 3):.3%}", f"{med(equal, 2):.6f}",
                     f"{r_t / med(equal, 0):.1f}x / {r_cpu / med(equal, 4):.1f}x"))
        print(rows[-1], flush=True)
    print()
    print("(seconds: wall / CPU of the process; medians)")
    print(table(rows, ("target", "R s", "R beta", "R rel. SE (err/3.5)",
                       "cofail pts (told target)", "cofail s", "cofail rel. SE", "speed-up",
                       "cofail pts (R's rel. SE)", "cofail s", "cofail rel. SE",
                       "cofail beta", "speed-up, equal accuracy")))
    print(f"load average after: {open('/proc/loadavg').read().split()[:3]}")


if __name__ == "__main__":
    main()
