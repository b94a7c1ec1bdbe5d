"""CLI start-up: wall time of ``cofail --help`` / ``--version`` against ``python -c pass``.

Each command runs ``--repeats`` times in a fresh interpreter (the same Python as this
script, so the baseline and the CLI share the interpreter start-up); the table gives the
median and the minimum, and the cost of ``import cofail_jax`` (the package root, which
still imports JAX) to show what is left once the command table no longer imports the
command modules.

    .venv/bin/python benchmarks/bench_cli_startup.py [--repeats 7]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time

CASES = {
    "python -c pass (baseline)": [sys.executable, "-c", "pass"],
    "cofail --version": [sys.executable, "-m", "cofail_jax", "--version"],
    "cofail --help": [sys.executable, "-m", "cofail_jax", "--help"],
    "cofail certify --help": [sys.executable, "-m", "cofail_jax", "certify", "--help"],
    "python -c 'import cofail_jax'": [sys.executable, "-c", "import cofail_jax"],
    "python -c 'import jax'": [sys.executable, "-c", "import jax"],
}


def wall(cmd: list[str], repeats: int) -> list[float]:
    out = []
    env = dict(os.environ, PYTHONPATH=os.path.join(os.path.dirname(__file__), ".."))
    for _ in range(repeats):
        t = time.perf_counter()
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, env=env)
        out.append(time.perf_counter() - t)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=7)
    args = ap.parse_args()
    with open("/proc/loadavg") as f:
        print("load average:", f.read().split()[:3])
    base = None
    print(f"{'case':34s} {'median s':>9s} {'min s':>7s} {'- baseline':>11s}")
    for name, cmd in CASES.items():
        ts = wall(cmd, args.repeats)
        med = statistics.median(ts)
        base = med if base is None else base
        print(f"{name:34s} {med:9.3f} {min(ts):7.3f} {med - base:11.3f}")


if __name__ == "__main__":
    main()
