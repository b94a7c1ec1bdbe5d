"""Timing of the non-identification bounds and the counterexample sampler.

* exact atom LP at k = 12 and 16 (both bounds), column generation (the default for
  k > 10) against the baseline: HiGHS dual simplex on all 2^k columns, same rates, same run;
* exchangeable (k + 1 atom) bound at k = 1,000 (both bounds);
* sampler throughput (rows/s) of the JAX counterexample sampler, streamed statistics,
  after compilation, against a numpy baseline (``Generator.choice`` over atoms + bits),
  and of the streamed check of an exchangeable law with k = 1,000.

Rates for the LP come from the first k models of ../shared/data/mmlupro_mmlu-pro.csv
(TIGER-AI-Lab MMLU-Pro, Apache-2.0), or from a synthetic one-factor pool if that file is
absent.

Usage: .venv/bin/python benchmarks/bench_identify.py [--quick]
"""

from __future__ import annotations

import argparse
import os
import time

import jax
import numpy as np

jax.config.update("jax_enable_x64", True)

from cofail_jax._src import identify as I  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, "..", "..", "shared", "data", "mmlupro_mmlu-pro.csv")


def rates(k):
    if os.path.exists(DATA):
        from cofail_jax import load_matrix

        m = load_matrix(DATA)
        return I.pairwise_rates(m.errors[:, :k]), "mmlupro_mmlu-pro.csv first k models"
    rng = np.random.default_rng(0)  # benchmark data only, not library code
    z = rng.standard_normal((20000, 1))
    e = (0.6 * z + 0.8 * rng.standard_normal((20000, k))) < -0.3
    return I.pairwise_rates(e), "synthetic one-factor pool"


def timed(f, reps):
    best = float("inf")
    out = None
    for _ in range(reps):
        t = time.perf_counter()
        out = f()
        best = min(best, time.perf_counter() - t)
    return best, out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="k = 12 only, fewer rows")
    args = ap.parse_args()
    rows = []
    ks = (12,) if args.quick else (12, 16)
    for k in ks:
        (p, p2), src = rates(k)
        I.rates._atom_design(k)  # build (cached) outside the timing: both solvers share it
        reps = 2 if k <= 12 else 1
        t_cg, b_cg = timed(lambda: I.beta_bounds_lp(p, p2, laws=False, solver="colgen"), reps)
        t_full, b_full = timed(lambda: I.beta_bounds_lp(p, p2, laws=False, solver="full"), reps)
        assert abs(b_cg.beta_max - b_full.beta_max) < 1e-9
        assert abs(b_cg.beta_min - b_full.beta_min) < 1e-9
        rows.append((f"exact LP k={k} (both bounds)", f"{t_cg:.2f} s colgen",
                     f"{t_full:.2f} s full HiGHS-ds", f"{t_full / t_cg:.1f}x",
                     f"[{b_cg.beta_min:.4f}, {b_cg.beta_max:.4f}] ({src})"))
    k = 1000
    p, p2 = I.exchangeable_rates(k, 0.3, rho=0.2)
    s2 = float(p2[0, 1]) * k * (k - 1) / 2
    t_ex, b_ex = timed(lambda: I.beta_bounds_moments(k, 0.3 * k, s2, exact=True, laws=False), 3)
    t_auto, _ = timed(lambda: I.beta_bounds(p, p2, laws=False), 1)
    rows.append((f"exchangeable k={k} (both bounds)", f"{t_ex * 1e3:.1f} ms (k+1 LP)",
                 f"{t_auto:.2f} s via beta_bounds on (k,k) rates", "-",
                 f"[{b_ex.beta_min:.4f}, {b_ex.beta_max:.4f}], p=0.3, Pearson 0.2"))
    # sampler throughput
    ce = I.counterexample(12, 0.3, rho=0.2)
    law = ce.law_max
    n = 1_000_000 if args.quick else 4_000_000
    key = jax.random.key(0)
    I.simulate_law_stats(key, law, n)  # compile
    t_jax, _ = timed(lambda: I.simulate_law_stats(key, law, n), 3)
    I.sample_law(key, law, n).block_until_ready()
    t_smp, _ = timed(lambda: I.sample_law(key, law, n).block_until_ready(), 3)
    rng = np.random.default_rng(0)
    nb = n // 4

    def numpy_baseline():
        atoms = rng.choice(law.table.shape[0], size=nb, p=law.table)
        e = ((atoms[:, None] >> np.arange(12)) & 1).astype(bool)
        ef = e.astype(np.float32)
        return ef.sum(0), ef.T @ ef, e.all(1).sum()

    t_np, _ = timed(numpy_baseline, 2)
    rows.append(("sampler k=12, streamed stats", f"{n / t_jax / 1e6:.1f} M rows/s JAX",
                 f"{nb / t_np / 1e6:.1f} M rows/s numpy choice+bits",
                 f"{(n / t_jax) / (nb / t_np):.1f}x",
                 f"n={n:,}, chunk 65536"))
    rows.append(("sampler k=12, matrix out", f"{n / t_smp / 1e6:.1f} M rows/s JAX", "-", "-",
                 f"bool ({n:,}, 12)"))
    big = I.counterexample(1000, 0.3, rho=0.2).law_max
    nb2 = 250_000 if args.quick else 1_000_000
    I.simulate_law_stats(key, big, nb2)  # compile
    t_big, _ = timed(lambda: I.simulate_law_stats(key, big, nb2), 2)
    rows.append(("sampler k=1000 exchangeable, streamed", f"{nb2 / t_big / 1e6:.2f} M rows/s JAX",
                 "-", "-", f"n={nb2:,}; count S + first 64 models (sequential)"))
    w = [max(len(r[i]) for r in rows) for i in range(5)]
    hdr = ("case", "cofail_jax", "baseline (same run)", "speed-up", "notes")
    w = [max(a, len(b)) for a, b in zip(w, hdr)]
    print("  ".join(h.ljust(x) for h, x in zip(hdr, w)))
    for r in rows:
        print("  ".join(c.ljust(x) for c, x in zip(r, w)))
    print(f"device: {jax.devices()[0].device_kind}; load average: {os.getloadavg()}")


if __name__ == "__main__":
    main()
