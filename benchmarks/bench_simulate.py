"""Generation rate of the simulator (queries per second), after compilation.

Baseline in the same run: a plain vectorised NumPy generator of the same law
(``numpy.random.default_rng``), one shot with the whole matrix in memory. Each side is
timed ``--reps`` times (best kept), by wall clock and by process CPU time (all threads):
queries per CPU-second depend less on what else shares the machine.

    .venv/bin/python benchmarks/bench_simulate.py [--quick]
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def numpy_baseline(kind, law, n, rng):
    import numpy as np
    from scipy.special import ndtri

    k = law.k
    P = law.params
    if kind == "independent":
        return rng.random((n, k)) < law.p_wrong
    if kind == "onefactor":
        lam = P["loadings"]
        z = lam * rng.standard_normal((n, 1)) + np.sqrt(1 - lam**2) * rng.standard_normal((n, k))
        return z <= ndtri(law.p_wrong)
    if kind == "common_shock":
        return (rng.random((n, k)) < P["alpha"]) | (rng.random((n, 1)) < P["omega"])
    if kind == "clayton":
        th = P["theta"]
        v = rng.gamma(1 / th, size=(n, 1))
        return np.log1p(rng.exponential(size=(n, k)) / v) >= -th * np.log(law.p_wrong)
    if kind == "irt":
        b = P["difficulty_mean"] + P["difficulty_sd"] * rng.standard_normal((n, 1))
        a = np.exp(P["log_disc_mean"] + P["log_disc_sd"] * rng.standard_normal((n, 1)))
        pw = 1 / (1 + np.exp(-a * (b - P["ability"])))
        return rng.random((n, k)) < pw
    raise ValueError(kind)


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--reps", type=int, default=3)
    args = ap.parse_args()
    import jax
    import numpy as np

    import cofail_jax  # noqa: F401
    from cofail_jax._src import simulate as S

    n = 100_000 if args.quick else 1_000_000
    k = 67
    p = 1 - np.linspace(0.3, 0.9, k)
    laws = {
        "independent": S.independent_law(p),
        "onefactor": S.onefactor_law(p, np.sqrt(0.3)),
        "common_shock": S.common_shock_law(0.02, (p - 0.02) / 0.98),
        "clayton": S.clayton_law(p, 1.0),
        "irt": S.benchmark_law(k),
    }
    rows = []
    key = jax.random.key(0)

    def best(f):
        out, wall, cpu = None, math.inf, math.inf
        for _ in range(args.reps):
            t, c = time.perf_counter(), time.process_time()
            out = f()
            wall = min(wall, time.perf_counter() - t)
            cpu = min(cpu, time.process_time() - c)
        return out, wall, cpu

    load_before = open("/proc/loadavg").read().split()[:3]
    for kind, law in laws.items():
        S.sample_errors(key, law, 65536)  # compile
        e, tj, cj = best(lambda law=law: S.sample_errors(jax.random.fold_in(key, 1), law, n))
        b, tn, cn = best(lambda kind=kind, law=law: numpy_baseline(
            kind, law, n, np.random.default_rng(0)))
        rows.append((kind, n / tj, n / tn, n / cj, n / cn, e.all(axis=1).mean(),
                     b.all(axis=1).mean(), S.true_beta(law).beta))
    load_after = open("/proc/loadavg").read().split()[:3]
    print(
        f"simulator generation rate, k={k} models, n={n} queries, chunk 65536, best of "
        f"{args.reps}, {jax.devices()[0].device_kind}, loadavg before {' '.join(load_before)}, "
        f"after {' '.join(load_after)}"
    )
    print(f"{'law':14s} {'jax q/s':>10s} {'numpy q/s':>10s} {'x':>6s} {'jax q/cpu-s':>12s} "
          f"{'numpy q/cpu-s':>14s} {'x':>6s}   beta jax / numpy / true")
    for kind, rj, rn, cj, cn, bj, bn, bt in rows:
        print(f"{kind:14s} {rj:10.3g} {rn:10.3g} {rj / rn:6.1f} {cj:12.3g} {cn:14.3g} "
              f"{cj / cn:6.1f}   {bj:.2e} / {bn:.2e} / {bt:.2e}")


if __name__ == "__main__":
    main()
