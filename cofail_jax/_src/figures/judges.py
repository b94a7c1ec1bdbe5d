"""``judges --out``: how far the judges agree (Cohen's kappa per pair) and what the
all-wrong share beta becomes under each rule that combines them."""

from __future__ import annotations

from typing import Any

import numpy as np

from . import Figures
from ._common import caption, finish, tick_labels

# the rules from strictest to most lenient, as ``judges`` names them, and what each
# counts as a correct cell
RULES = {"unanimous": "correct if every judge accepts", "majority": "correct if most accept",
         "lenient": "correct if any judge accepts"}


def _strings(a) -> list[str]:
    return [v.decode() if isinstance(v, bytes) else str(v) for v in np.asarray(a, object).ravel()]


def draw(tree: dict[str, Any]) -> list[tuple[str, Any]]:
    import matplotlib.pyplot as plt

    ag = tree["agreement"]
    kappa = np.asarray(ag["cohen_kappa"], float)
    judges = _strings(ag.get("judge", [f"judge {i}" for i in range(kappa.shape[0])]))
    J = len(judges)
    fig, (ax_k, ax_b) = plt.subplots(1, 2, figsize=(10, 3.2 + 0.18 * J),
                                     gridspec_kw={"width_ratios": (1.0, 1.1)})
    im = ax_k.imshow(kappa, vmin=-1, vmax=1, cmap="RdBu_r")
    if J <= 12:
        for a in range(J):
            for b in range(J):
                if np.isfinite(kappa[a, b]):
                    ax_k.text(b, a, f"{kappa[a, b]:.2f}", ha="center", va="center", fontsize=7,
                              color="white" if abs(kappa[a, b]) > 0.6 else "black")
    tick_labels(ax_k, "x", judges)
    tick_labels(ax_k, "y", judges)
    fig.colorbar(im, ax=ax_k, fraction=0.046, pad=0.04, label="Cohen's κ")
    fk = ag.get("fleiss_kappa")
    ax_k.set_title("Agreement per pair of judges"
                   + (f" (Fleiss κ = {float(fk):.2f})" if fk is not None else ""))

    rules = tree.get("rules", {})
    names = [r for r in RULES if r in rules] + sorted(set(rules) - set(RULES))
    y = np.arange(len(names))
    for yi, r in zip(y, names):
        g = rules[r]
        b, lo, hi = float(g["beta"]), float(g["ci_lower"]), float(g["ci_upper"])
        colour = {"unanimous": "tab:red", "lenient": "tab:blue"}.get(r, "0.3")
        ax_b.errorbar([b], [yi], xerr=[[b - lo], [hi - b]], fmt="o", color=colour, capsize=4)
        ax_b.annotate(f"{b:.3f}  (K = {int(g['K'])} of {int(g['n'])})", (b, yi),
                      textcoords="offset points", xytext=(0, 7), ha="center", fontsize=7)
    ax_b.set_yticks(y)
    ax_b.set_yticklabels([f"{r}\n({RULES[r]})" if r in RULES else r for r in names],
                         fontsize=7)
    ax_b.set_ylim(-0.6, len(names) - 0.4)
    ax_b.invert_yaxis()
    ax_b.set_xlim(left=0)
    ax_b.set_xlabel("β = share of queries every model gets wrong (95% CP)")
    uvl = tree.get("unanimous_vs_lenient") or {}
    ax_b.set_title("β under each judging rule" + (
        f"\nunanimous - lenient = {float(uvl['difference']):+.3f}, "
        f"McNemar p = {float(uvl['p_value']):.3g}"
        if "difference" in uvl and "p_value" in uvl else ""))
    ax_b.grid(axis="x", alpha=0.3, lw=0.5)
    n_cells = ag.get("n_cells_all_judges")
    return [("judges_agreement", finish(fig, caption(
        tree, f"{J} judges", f"{int(n_cells)} cells graded by all" if n_cells is not None else "",
        str(tree.get("method", "")))))]


FIGURES = Figures("judges", ("judges_agreement",), draw)
