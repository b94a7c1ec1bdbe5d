#!/usr/bin/env python3
"""Stand-alone beta certificate: numpy and scipy only, no cofail_jax install needed.

Usage:
  python beta_certificate.py --K 17 --n 330 --asb 0.836 [--pool-size 67] [--delta 0.05]
  python beta_certificate.py results.csv [--delta 0.05]   # wide CSV: query_id,<model>,...

Reports beta = K/n with its two-sided Clopper-Pearson interval (level 1 - alpha), the
ceiling 1 - beta, the oracle gain G, and the certified upper bound on the gain of any
selection policy over the single best, (1 - beta_lo) - asb_lo at confidence 1 - delta:
beta_lo is a one-sided lower limit at delta/2; asb_lo a lower limit on the single best's
accuracy at delta/(2m), simultaneous over the m models it was chosen from (m = 1 when it
was fixed in advance). Same arithmetic as `cofail certify`.
"""

import argparse
import csv
import sys

import numpy as np
from scipy import stats


def cp_lower(K, n, level):
    return 0.0 if K <= 0 else float(stats.beta.ppf(level, K, n - K + 1))


def cp_upper(K, n, level):
    return 1.0 if K >= n else float(stats.beta.ppf(1 - level, K + 1, n - K))


def certify(K, n, best_count, m, alpha, delta):
    beta_lo = cp_lower(K, n, delta / 2)
    asb_lo = cp_lower(best_count, n, delta / (2 * m))
    return {
        "n": n, "K": K, "beta": K / n,
        "beta_ci": (cp_lower(K, n, alpha / 2), cp_upper(K, n, alpha / 2)),
        "ceiling": 1 - K / n, "asb": best_count / n, "oracle_gain": 1 - K / n - best_count / n,
        "beta_lower": beta_lo, "asb_lower": asb_lo, "gain_bound": (1 - beta_lo) - asb_lo,
        "m": m,
    }


def fail(msg):
    print(f"beta_certificate: error: {msg}", file=sys.stderr)
    sys.exit(2)


def read_wide(path):
    try:
        with open(path, newline="", encoding="utf-8-sig") as f:
            rows = list(csv.reader(f))
    except OSError as e:
        fail(f"{path}: cannot be read ({e.strerror})")
    if not rows or not rows[0] or rows[0][0].strip() != "query_id":
        fail(f"{path}: row 1: the first column must be 'query_id' (wide format)")
    models = rows[0][1:]
    cells = []
    for r, row in enumerate(rows[1:], start=2):
        if not row:
            continue
        if len(row) != len(rows[0]):
            fail(f"{path}: row {r}: has {len(row)} fields, the header has {len(rows[0])}")
        vals = []
        for c, v in enumerate(row[1:]):
            t = v.strip().lower()
            if t in ("1", "true"):
                vals.append(True)
            elif t in ("0", "false"):
                vals.append(False)
            else:
                fail(f"{path}: row {r}, column {models[c]!r}: cell {v!r} is not 0/1 (fix or drop the row)")
        cells.append(vals)
    if len(models) < 2 or not cells:
        fail(f"{path}: needs at least 2 models and 1 query")
    return models, np.asarray(cells, dtype=bool)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("file", nargs="?", help="wide CSV outcome matrix")
    p.add_argument("--K", type=int)
    p.add_argument("--n", type=int)
    p.add_argument("--asb", type=float, help="single-best accuracy (fraction) or count")
    p.add_argument("--pool-size", type=int, default=None)
    p.add_argument("--delta", type=float, default=0.05)
    p.add_argument("--alpha", type=float, default=0.05)
    a = p.parse_args(argv)
    if not (0 < a.delta < 1 and 0 < a.alpha < 1):
        fail("--delta and --alpha must lie strictly between 0 and 1")
    best = None
    if a.file:
        models, correct = read_wide(a.file)
        n, k = correct.shape
        counts = correct.sum(axis=0)
        j = int(np.argmax(counts))
        K, best_count, m, best = int((~correct.any(axis=1)).sum()), int(counts[j]), k, models[j]
    else:
        if None in (a.K, a.n, a.asb):
            fail("give a FILE, or --K, --n and --asb")
        n, K = a.n, a.K
        best_count = int(a.asb) if a.asb > 1 else int(round(a.asb * n))
        if not (0 <= K <= n and 0 <= best_count <= n - K):
            fail(f"need 0 <= K <= n and asb*n <= n - K (got K={K}, n={n}, count={best_count})")
        m = a.pool_size or 1
    r = certify(K, n, best_count, m, a.alpha, a.delta)
    print(f"n = {n}, K = {K}, beta = {r['beta']:.4f} [{r['beta_ci'][0]:.4f}, {r['beta_ci'][1]:.4f}] "
          f"({1 - a.alpha:.0%} Clopper-Pearson)")
    print(f"ceiling 1 - beta = {r['ceiling']:.4f}; single best{' ' + best if best else ''} = {r['asb']:.4f}; "
          f"oracle gain G = {r['oracle_gain']:.4f}")
    print(f"beta lower limit = {r['beta_lower']:.4f}; single-best lower limit = {r['asb_lower']:.4f} "
          f"(over {m} model{'s' if m > 1 else ''})")
    print(f"certified gain bound = {r['gain_bound']:.4f} at confidence {1 - a.delta:g}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
