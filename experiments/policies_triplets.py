"""Every-triplet majority votes on the shared matrices: gain over the best member against
the triplet's mean pairwise error correlation, with the naive and jackknife slopes.

    .venv/bin/python experiments/policies_triplets.py [--seed 0] [--figure PATH]

Writes ``docs/figures/policies_triplets.png`` (one panel per shared matrix) and prints
a table. Data: ZeroEval MATH level 5 and GSM8K (github.com/yuchenlin/ZeroEval,
Apache-2.0) and MMLU-Pro (github.com/TIGER-AI-Lab/MMLU-Pro, Apache-2.0), reshaped into
``/work/shared/data`` (see its README). The vote is the majority over correctness bits
(the optimistic binary approximation); the best member is chosen on a random half of
the queries and every accuracy is scored on the other half.
"""

from __future__ import annotations

import argparse
import os
import sys

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
sys.path.insert(0, ROOT)

import jax  # noqa: E402
import numpy as np  # noqa: E402

import cofail_jax as cj  # noqa: E402
from cofail_jax._src.h5 import atomic_output  # noqa: E402

DATA = os.path.join(ROOT, "..", "shared", "data")
FILES = ("zeroeval_math-l5.csv", "zeroeval_gsm8k.csv", "mmlupro_mmlu-pro.csv")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--figure", default=os.path.join(ROOT, "docs", "figures", "policies_triplets.png"))
    args = ap.parse_args()
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(FILES), figsize=(5 * len(FILES), 4.2), constrained_layout=True)
    print(f"{'file':24s} {'triplets':>8s} {'share loses':>11s} {'slope':>7s} "
          f"{'naive 95% CI':>18s} {'jackknife 95% CI':>18s}")
    for ax, name in zip(axes, FILES):
        m = cj.load_matrix(os.path.join(DATA, name))
        train, test = cj.train_test_split(jax.random.key(args.seed), m.n, 0.5)
        r = cj.subset_votes(m.correct, size=3, train=train, test=test)
        ax.scatter(r.mean_rho, r.gain, s=3, alpha=0.25, color="tab:blue", rasterized=True)
        xs = np.linspace(np.nanmin(r.mean_rho), np.nanmax(r.mean_rho), 50)
        ax.plot(xs, r.intercept + r.slope * xs, color="tab:red",
                label=f"slope {r.slope:+.2f}\nnaive CI [{r.slope_ci_naive[0]:.2f}, {r.slope_ci_naive[1]:.2f}]"
                      f"\njackknife CI [{r.slope_ci_jackknife[0]:.2f}, {r.slope_ci_jackknife[1]:.2f}]")
        ax.axhline(0, color="k", lw=0.8)
        ax.set_title(f"{name.removesuffix('.csv')}: {len(r.gain)} triplets, "
                     f"{r.share_loses:.1%} lose", fontsize=10)
        ax.set_xlabel("mean pairwise error correlation (phi, train half)")
        ax.set_ylabel("vote accuracy - best member (test half)")
        ax.legend(fontsize=8, loc="lower right")
        print(f"{name:24s} {len(r.gain):8d} {r.share_loses:11.3f} {r.slope:+7.3f} "
              f"[{r.slope_ci_naive[0]:+.3f}, {r.slope_ci_naive[1]:+.3f}] "
              f"[{r.slope_ci_jackknife[0]:+.3f}, {r.slope_ci_jackknife[1]:+.3f}]")
    fig.suptitle("Majority vote of every 3-model subset (optimistic binary approximation), seed "
                 f"{args.seed}", fontsize=11)
    with atomic_output(args.figure, suffix=".png") as tmp:
        fig.savefig(tmp, dpi=110)
    print(f"wrote {args.figure}")


if __name__ == "__main__":
    main()
