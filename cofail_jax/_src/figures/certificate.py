"""``certify --out``: beta as models are added, with its Clopper-Pearson band."""

from __future__ import annotations

from typing import Any

import numpy as np

from . import Figures
from ._common import caption, finish, tick_labels


def draw(tree: dict[str, Any]) -> list[tuple[str, Any]]:
    import matplotlib.pyplot as plt

    cert = tree["certificate"]
    figs = []
    curve = tree.get("curve")
    if curve is None:  # counts mode: one beta, no curve
        return [("beta_interval", _interval_only(cert, tree))]
    beta = np.asarray(curve["beta"], float)
    lo = np.asarray(curve.get("beta_ci_lower", beta), float)
    hi = np.asarray(curve.get("beta_ci_upper", beta), float)
    steps = np.arange(1, beta.size + 1)
    conf = 1 - float(curve.get("alpha", cert.get("alpha", 0.05)))
    fig, ax = plt.subplots(figsize=(max(6.0, min(14.0, 0.28 * beta.size + 3)), 4.6))
    ax.fill_between(steps, lo, hi, color="tab:blue", alpha=0.18, lw=0,
                    label=f"{conf:.0%} Clopper-Pearson interval")
    ax.plot(steps, beta, "o-", color="tab:blue", ms=3.5, lw=1.4,
            label=f"β with the first j models ({curve.get('order', 'greedy')} order)")
    ax.axhline(float(cert["beta"]), color="0.4", lw=0.8, ls="--",
               label=f"β of the whole pool = {float(cert['beta']):.4f}")
    positive = beta[beta > 0]
    if positive.size and beta.max() / max(positive.min(), 1e-300) > 20:
        ax.set_yscale("log")
        ax.set_ylim(bottom=max(positive.min() / 3, 1e-6))
    else:
        ax.set_ylim(bottom=0)
    ax.set_xlim(0.5, beta.size + 0.5)
    tick_labels(ax, "x", [f"{j}. {m}" for j, m in zip(steps, curve["model"])], start=1)
    ax.set_xlabel("model added at step j")
    ax.set_ylabel("β (share of queries all wrong)")
    ax.set_title("All-wrong rate β as models are added")
    ax.legend(fontsize=8, frameon=False)
    ax.grid(alpha=0.3, lw=0.5)
    figs.append(("beta_curve", finish(fig, caption(
        tree, f"n = {cert['n']} queries, k = {cert['k']} models, K = {cert['K']} all-wrong",
        f"ceiling 1 - β = {float(cert['ceiling']):.4f}",
        f"certified gain bound {float(cert['gain_bound']):.4f} at confidence "
        f"{1 - float(cert['delta']):g}"))))
    return figs


def _interval_only(cert, tree):
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 2.4))
    b, lo, hi = (float(cert[k]) for k in ("beta", "beta_ci_lower", "beta_ci_upper"))
    ax.errorbar([b], [0], xerr=[[b - lo], [hi - b]], fmt="o", color="tab:blue", capsize=4)
    ax.set_yticks([])
    ax.set_xlabel("β with its Clopper-Pearson interval")
    ax.set_title(f"β = {cert['K']}/{cert['n']} (counts)")
    return finish(fig, caption(tree))


FIGURES = Figures("certificate", ("beta_curve",), draw)
