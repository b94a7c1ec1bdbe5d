"""Leaderboard scale (issue 17): 12,000 queries x 4,000 models through the CLI.

The leaderboard is drawn from the 2PL (irt) law calibrated to
``../shared/data/mmlupro_mmlu-pro.csv`` (``calibrate_law("irt", ...)``: difficulty spread
and discrimination law as fitted; the 28 calibrated abilities spread to k models by
interpolating their quantiles), generated here and written as a wide CSV to a temporary
folder (not committed). Each step runs as its own ``python -m cofail_jax`` process, timed
from the outside, with its peak resident memory from ``/usr/bin/time -f %M``; the baseline in the
same run is ``pandas.read_csv`` of the same file (C engine, its own process too).

    .venv/bin/python benchmarks/bench_scale.py [--queries 12000] [--models 100,1000,4000]
    .venv/bin/python benchmarks/bench_scale.py --quick     # 2,000 x (50, 300)

Steps beyond the targets (the growth table, issue 17): price --copula fitted_loading,
identify (moment bounds; the full-matrix Gaussian value is skipped above
--full-corr-max-k = 500), vote (the subset votes are refused above 200,000 subsets, with
a status), and the query bootstrap of the tetrachorics (correlations --bootstrap 20;
at k = 4,000 run ``--steps "bootstrap B=2"``: each replicate re-solves 8 million
pairs).

Targets at 12,000 x 4,000: certify (with the beta curve) within 5x the pandas read and
under 10 s; correlations (all pairs, summary output) under 60 s and 4 GB; price
--copula equal_loading (the equal-loading one-factor copula) under 30 s.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
sys.path.insert(0, ROOT)
DATA = os.path.join(ROOT, "..", "shared", "data", "mmlupro_mmlu-pro.csv")

STEPS = {
    "pandas read_csv": None,
    "certify": ["certify", "{csv}"],
    "correlations": ["correlations", "{csv}", "--bootstrap", "0"],
    "price equal_loading": ["price", "{csv}", "--copula", "equal_loading"],
    "price fitted_loading": ["price", "{csv}", "--copula", "fitted_loading"],
    "identify bounds": ["identify", "{csv}"],
    "vote": ["vote", "{csv}"],
    "bootstrap B=20": ["correlations", "{csv}", "--bootstrap", "20"],
    "bootstrap B=2": ["correlations", "{csv}", "--bootstrap", "2"],
}
DEFAULT_STEPS = [s for s in STEPS if s != "bootstrap B=2"]


def leaderboard(n: int, k: int, seed: int = 0) -> tuple[np.ndarray, dict]:
    """(errors (n, k) bool, law parameters) from the calibrated 2PL law."""
    import jax

    from cofail_jax import load_matrix
    from cofail_jax._src.simulate import calibrate_law, irt_law, sample_errors

    real = load_matrix(DATA)
    cal = calibrate_law("irt", real.correct)
    prm = cal.law.params
    ab = np.sort(np.asarray(prm["ability"]))
    ability = np.interp(np.linspace(0, 1, k), np.linspace(0, 1, ab.size), ab)
    law = irt_law(ability, difficulty_mean=prm["difficulty_mean"],
                  difficulty_sd=prm["difficulty_sd"], log_disc_mean=prm["log_disc_mean"],
                  log_disc_sd=prm["log_disc_sd"])
    err = sample_errors(jax.random.key(seed), law, n, chunk_size=2000)
    info = {"difficulty_sd": prm["difficulty_sd"], "log_disc": (prm["log_disc_mean"],
                                                                prm["log_disc_sd"]),
            "calibrated_models": int(ab.size), "calibrated_on": f"{real.n} x {real.k}"}
    return err, info


def write_wide(path: str, correct: np.ndarray) -> None:
    """Wide CSV of a bool matrix, written as bytes (no per-cell Python)."""
    n, k = correct.shape
    body = np.empty((n, 2 * k), np.uint8)
    body[:, 0::2] = ord("0") + correct.astype(np.uint8)
    body[:, 1::2] = ord(",")
    body[:, -1] = ord("\n")
    with open(path, "wb") as f:
        f.write(("query_id," + ",".join(f"m{j:04d}" for j in range(k)) + "\n").encode())
        for i in range(n):
            f.write(f"q{i:05d},".encode())
            f.write(body[i].tobytes())


def run_step(name: str, csv: str) -> tuple[float, float, int]:
    """(wall seconds, peak RSS in MB, exit code) of one step in a fresh process."""
    if STEPS[name] is None:
        cmd = [sys.executable, "-c", f"import pandas; pandas.read_csv({csv!r})"]
    else:
        cmd = [sys.executable, "-m", "cofail_jax"] + [a.format(csv=csv) for a in STEPS[name]]
    # /usr/bin/time -f %M: the peak RSS of the exec'd process alone (a child forked from
    # this process would count the parent's pages shared before exec)
    with tempfile.NamedTemporaryFile("r", suffix=".rss") as rss_file:
        t0 = time.perf_counter()
        proc = subprocess.run(["/usr/bin/time", "-f", "%M", "-o", rss_file.name, *cmd],
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=ROOT)
        wall = time.perf_counter() - t0
        text = open(rss_file.name).read().split()
        rss_mb = float(text[-1]) / 1024 if text else float("nan")
    if proc.returncode != 0:
        print(f"  {name} failed ({proc.returncode}): "
              f"{proc.stderr.decode(errors='replace').strip()[-500:]}", file=sys.stderr)
    return wall, rss_mb, proc.returncode


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--queries", type=int, default=12000)
    ap.add_argument("--models", default="100,1000,4000", help="comma-separated pool sizes")
    ap.add_argument("--quick", action="store_true", help="2,000 queries x (50, 300) models")
    ap.add_argument("--steps", default=",".join(DEFAULT_STEPS),
                    help=f"comma-separated steps to run, of: {', '.join(STEPS)}")
    args = ap.parse_args()
    n = 2000 if args.quick else args.queries
    ks = [50, 300] if args.quick else [int(x) for x in args.models.split(",")]
    steps = [s.strip() for s in args.steps.split(",")]
    with open("/proc/loadavg") as f:
        load_before = f.read().split()[:3]
    t0 = time.perf_counter()
    err, info = leaderboard(n, max(ks))
    t_gen = time.perf_counter() - t0
    print(f"leaderboard: {n} queries x {max(ks)} models from the 2PL law calibrated to "
          f"mmlupro ({info['calibrated_on']}; difficulty sd {info['difficulty_sd']:.3f}, "
          f"log a ~ N{info['log_disc']}), generated in {t_gen:.1f} s; "
          f"beta = {err.all(axis=1).mean():.5f}, mean accuracy {1 - err.mean():.3f}")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for k in ks:
            # models spread over the ability range: every (max k / k)-th column
            cols = np.linspace(0, err.shape[1] - 1, k).round().astype(int)
            csv = os.path.join(tmp, f"leaderboard_{n}x{k}.csv")
            write_wide(csv, ~err[:, cols])
            mb = os.path.getsize(csv) / 1e6
            for name in steps:
                wall, rss, code = run_step(name, csv)
                rows.append((k, name, wall, rss, code, mb))
                print(f"  k={k:5d}  {name:18s} {wall:7.2f} s  peak {rss:7.0f} MB"
                      + ("" if code == 0 else f"  EXIT {code}"), flush=True)
            os.remove(csv)
    with open("/proc/loadavg") as f:
        load_after = f.read().split()[:3]
    print(f"\nload average before {' '.join(load_before)}, after {' '.join(load_after)} "
          "(shared machine)")
    print("\n| k | CSV MB | " + " | ".join(f"{s} (s / peak MB)" for s in steps) + " |")
    print("|---|---|" + "---|" * len(steps))
    for k in ks:
        cells = [f"{w:.2f} / {r:.0f}" + ("" if c == 0 else " FAILED")
                 for kk, _, w, r, c, _ in rows if kk == k]
        mb = next(r[5] for r in rows if r[0] == k)
        print(f"| {k} | {mb:.0f} | " + " | ".join(cells) + " |")
    big = max(ks)
    base = next((w for kk, s, w, *_ in rows if kk == big and s == "pandas read_csv"), None)
    if base:
        for s in steps[1:]:
            w = next((w for kk, ss, w, *_ in rows if kk == big and ss == s), None)
            if w is not None:
                print(f"k={big}: {s} / pandas read = {w / base:.1f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
