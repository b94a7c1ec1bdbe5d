"""Nearest-correlation repair: Newton (Qi-Sun / Borsdorf-Higham) vs Higham's alternating
projections, JAX and numpy, on the tetrachoric matrices the sweep repairs.

Matrices: query-bootstrap replicates of the simulated 67 x 330 benchmark pool
(``simulate.benchmark_pool(jax.random.key(0))``), each restricted to a random k-subset of
its models, k = 38, 48, 67 (at k = 67, the whole replicate). Every one is indefinite.
Reference: the Newton method at tol 1e-13; "error" is the largest Frobenius distance to it.

Rows per k (all float64, timings after compilation, median of repeats):
  higham 1e-10   ``nearest_correlation(method="higham", tol=1e-10)``: the sweep's setting
  higham 1e-13   the same at the tolerance that matches Newton's accuracy
  newton         ``method="newton", tol=1e-10`` from y = 0
  newton warm    the same from the full pool's dual vector restricted to the subset
  numpy higham / numpy newton   the same algorithms in numpy (benchmarks/np_repair.py)
"single" times one jitted call per matrix in a Python loop; "vmap" one jitted call on the
whole batch (how the sweep calls it: a while_loop under vmap runs until the batch's
slowest member converges).

OpenBLAS (which both numpy and jaxlib's CPU eigh call) runs single-threaded here unless
OPENBLAS_NUM_THREADS is set: on the shared 2-core machine its default 2 threads made a
67 x 67 eigh 30x slower (9.4 ms against 0.30 ms at load average 7.5).

    .venv/bin/python benchmarks/bench_repair.py [--quick]
"""

from __future__ import annotations

import argparse
import os
import sys
import time

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # before numpy / jaxlib load OpenBLAS

import numpy as np  # noqa: E402

sys.path.insert(0, os.path.dirname(__file__))

import jax  # noqa: E402

jax.config.update("jax_enable_x64", True)
import jax.numpy as jnp  # noqa: E402

import np_repair  # noqa: E402
from cofail_jax._src.repair import nearest_correlation  # noqa: E402

KS = (38, 48, 67)


def matrices(n_mat, seed=0):
    """(full-pool tetrachoric matrix, {k: (n_mat, k, k) replicate subsets, index rows})."""
    from cofail_jax._src.simulate import benchmark_pool
    from cofail_jax._src.tetrachoric import tetrachoric

    e = np.asarray(benchmark_pool(jax.random.key(0)).errors)
    n, kk = e.shape
    tet = jax.jit(lambda w: tetrachoric(e, w).rho)
    full = np.asarray(tet(jnp.ones(n)))
    rng = np.random.default_rng(seed)
    out = {}
    for k in KS:
        mats, idxs = [], []
        while len(mats) < n_mat:
            w = np.bincount(rng.integers(0, n, n), minlength=n).astype(float)
            rho = np.asarray(tet(jnp.asarray(w)))
            idx = np.sort(rng.permutation(kk)[:k])
            sub = rho[np.ix_(idx, idx)]
            if np.all(np.isfinite(sub)):   # a resample can make a model degenerate
                mats.append(sub)
                idxs.append(idx)
        out[k] = (np.stack(mats), np.stack(idxs))
    return full, out


def median_time(fn, repeat):
    ts = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        jax.block_until_ready(fn())
        ts.append(time.perf_counter() - t0)
    return float(np.median(ts))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="4 matrices per k, 1 repeat")
    args = ap.parse_args()
    n_mat, repeat = (4, 1) if args.quick else (16, 3)
    print(f"jax {jax.__version__}, {jax.devices()[0].device_kind}; load average "
          f"{' '.join(f'{v:.1f}' for v in os.getloadavg())} on {os.cpu_count()} CPUs; "
          f"{n_mat} bootstrap-replicate subsets per k; "
          f"OPENBLAS_NUM_THREADS={os.environ['OPENBLAS_NUM_THREADS']}")
    full, mats = matrices(n_mat)
    y_full = np.asarray(nearest_correlation(full, method="newton").dual)

    def jax_method(method, tol, warm=False):
        def one(a, y):
            return nearest_correlation(a, method=method, tol=tol, y0=y if warm else None)
        return jax.jit(one), jax.jit(jax.vmap(one))

    rows = {"higham 1e-10": jax_method("higham", 1e-10),
            "higham 1e-13": jax_method("higham", 1e-13),
            "newton": jax_method("newton", 1e-10), "newton warm": jax_method("newton", 1e-10, True)}
    print(f"{'k':>3s} {'method':14s} {'iter med/max':>13s} {'single ms':>10s} "
          f"{'vmap ms/matrix':>15s} {'max error':>10s} {'vs higham 1e-10':>16s} {'vs 1e-13':>9s}")
    for k in KS:
        a, idx = mats[k]
        y0 = y_full[idx]
        ref = np.asarray(jax.vmap(
            lambda m: nearest_correlation(m, method="newton", tol=1e-13).corr)(a))
        base = base13 = None
        for name, (single, batched) in rows.items():
            res = batched(a, y0)
            jax.block_until_ready(res)
            single(a[0], y0[0]).corr.block_until_ready()
            t1 = median_time(lambda: [single(a[i], y0[i]).corr for i in range(n_mat)],
                             repeat) / n_mat
            tv = median_time(lambda: batched(a, y0).corr, repeat) / n_mat
            err = np.max(np.linalg.norm(np.asarray(res.corr) - ref, axis=(1, 2)))
            it = np.asarray(res.n_iter)
            assert bool(np.all(res.converged)), (k, name)
            base = base or t1
            base13 = t1 if name == "higham 1e-13" else base13
            r13 = f"{base13 / t1:8.1f}x" if base13 else ""
            print(f"{k:3d} {name:14s} {np.median(it):6.0f}/{it.max():<6d} {1e3 * t1:10.2f} "
                  f"{1e3 * tv:15.2f} {err:10.1e} {base / t1:15.1f}x {r13}")
        for name, fn in (("numpy higham", lambda m, y: np_repair.higham(m, tol=1e-10)[:2]),
                         ("numpy newton", lambda m, y: np_repair.newton(m, tol=1e-10)[:2])):
            out = [fn(a[i], y0[i]) for i in range(n_mat)]
            t1 = median_time(lambda: [fn(a[i], y0[i]) for i in range(n_mat)], repeat) / n_mat
            err = max(np.linalg.norm(o[0] - ref[i]) for i, o in enumerate(out))
            it = np.array([o[1] for o in out])
            print(f"{k:3d} {name:14s} {np.median(it):6.0f}/{it.max():<6d} {1e3 * t1:10.2f} "
                  f"{'':>15s} {err:10.1e} {base / t1:15.1f}x {base13 / t1:8.1f}x")
    print(f"load average at the end: {' '.join(f'{v:.1f}' for v in os.getloadavg())}")


if __name__ == "__main__":
    main()
