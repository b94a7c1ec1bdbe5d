"""Regrade throughput: the answer checker on every cell of a synthetic pool.

Compares, in the same run and on the same cells:
  * the built-in layer without sympy (``--checker builtin --no-symbolic``);
  * the built-in layer with sympy and its numeric screen: today's checker, the
    baseline (``--checker builtin``);
  * math-verify + built-in layer (``--checker auto``, issue 15), in this process;
  * the same with a process pool of ``--workers`` processes.
Every distinct (answer, reference) pair is checked once in each variant (the pair
cache); the flips of each variant are compared with the baseline's.

Usage: .venv/bin/python benchmarks/bench_audit.py [--quick] [--workers 2]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from cofail_jax import OutcomeMatrix, regrade
from cofail_jax._src.audit import normalize as N


def make_pool(n: int, k: int, seed: int = 0) -> OutcomeMatrix:
    """MATH-like answers: integers, fractions and polynomials; wrong answers are other
    numbers or other polynomials, and 5 % are correct answers the grader missed
    (boxed, or written as an expanded/factored polynomial)."""
    rng = np.random.default_rng(seed)
    refs = []
    for i in range(n):
        kind = i % 3
        if kind == 0:
            refs.append(str(rng.integers(1, 999)))
        elif kind == 1:
            refs.append(f"\\frac{{{rng.integers(1, 9)}}}{{{rng.integers(2, 9)}}}")
        else:
            a = int(rng.integers(1, 9))
            refs.append(f"(x+{a})^2")
    correct = rng.random((n, k)) < 0.6
    ans = np.empty((n, k), dtype=object)
    for i in range(n):
        for j in range(k):
            if correct[i, j]:
                ans[i, j] = refs[i]
                continue
            r = rng.random()
            if r < 0.05:
                ref = refs[i]
                if ref.startswith("(x+"):
                    a = int(ref[3:-3])
                    ans[i, j] = f"x^2+{2 * a}x+{a * a}"  # equivalent, needs sympy
                else:
                    ans[i, j] = f"\\boxed{{{ref}}}"
            elif r < 0.6:
                ans[i, j] = str(rng.integers(1, 999))
            else:
                ans[i, j] = f"x^2+{rng.integers(1, 20)}x+{rng.integers(1, 5)}"
    return OutcomeMatrix(correct, tuple(f"q{i}" for i in range(n)),
                         tuple(f"m{j}" for j in range(k)),
                         query_meta={"reference": np.asarray(refs, dtype=object)},
                         cell_meta={"answer": ans})


def timed(m, **kw):
    N._symbolic_equal.cache_clear()
    N._sympy_expr.cache_clear()
    t = time.perf_counter()
    r = regrade(m, **kw)
    return time.perf_counter() - t, r


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--workers", type=int, default=2)
    args = ap.parse_args()
    n, k = (150, 20) if args.quick else (600, 20)
    m = make_pool(n, k)
    timed(make_pool(6, 3, seed=1), checker="auto")  # import sympy/math-verify, warm parsers
    ans = m.cell_meta["answer"]
    refs = m.query_meta["reference"]
    n_pairs = len({(ans[i, j], refs[i]) for i in range(n) for j in range(k)})
    rows, results = [], {}
    for label, kw in (("builtin, no sympy", dict(checker="builtin", symbolic=False)),
                      ("builtin + sympy screen (baseline)", dict(checker="builtin")),
                      ("math-verify + builtin", dict(checker="auto")),
                      (f"math-verify + builtin, {args.workers} workers",
                       dict(checker="auto", workers=args.workers))):
        dt, r = timed(m, **kw)
        results[label] = {(f.query_id, f.model) for f in r.flips}
        rows.append((label, dt, len(r.flips)))
    base = results["builtin + sympy screen (baseline)"]
    mv = results["math-verify + builtin"]
    assert mv == results[f"math-verify + builtin, {args.workers} workers"], "pool changed flips"
    t_base = rows[1][1]
    print(f"regrade of {n} x {k} = {n * k} cells, {n_pairs} distinct answer/reference pairs "
          "(synthetic MATH-like pool)")
    print(f"{'checker':40s} {'seconds':>9s} {'cells/s':>9s} {'flips':>6s} {'vs baseline':>11s}")
    for label, dt, nf in rows:
        print(f"{label:40s} {dt:9.2f} {n * k / dt:9.0f} {nf:6d} {t_base / dt:10.1f}x")
    print(f"math-verify flips not in the baseline: {len(mv - base)}; baseline flips not in "
          f"math-verify's: {len(base - mv)}")


if __name__ == "__main__":
    main()
