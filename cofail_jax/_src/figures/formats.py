"""``formats --out``: beta (the share of queries every model gets wrong) under each of
the two answer formats, with Clopper-Pearson intervals, on the queries both sets share
and on each full set."""

from __future__ import annotations

from typing import Any


from . import Figures
from ._common import caption, finish


def draw(tree: dict[str, Any]) -> list[tuple[str, Any]]:
    import matplotlib.pyplot as plt

    nm = tree.get("names") or {}
    name = {s: str(nm.get(s, s)) for s in ("a", "b")}
    fig, ax = plt.subplots(figsize=(7.2, 3.4))
    colours = {"a": "tab:blue", "b": "tab:orange"}
    groups = [(g, label) for g, label in (("common", "queries in both sets"),
                                          ("full", "each full set")) if g in tree]
    ticks = [label for _, label in groups]
    for gi, (g, label) in enumerate(groups):
        for si, s in enumerate(("a", "b")):
            blk = tree[g].get(s)
            if not blk:
                continue
            x = gi + (si - 0.5) * 0.3
            b, lo, hi = float(blk["beta"]), float(blk["ci_lower"]), float(blk["ci_upper"])
            ax.errorbar([x], [b], yerr=[[b - lo], [hi - b]], fmt="o", color=colours[s],
                        capsize=5, ms=7, label=name[s] if gi == 0 else None)
            ax.annotate(f"{b:.3f}\nK = {int(blk['K'])} of {int(blk['n'])}", (x, hi),
                        textcoords="offset points", xytext=(0, 4), ha="center", va="bottom",
                        fontsize=7)
        d, p = tree[g].get("difference"), tree[g].get("p_value")
        if d is not None:  # under the group's tick label, clear of the intervals
            text = f"{name['a']} - {name['b']} = {float(d):+.3f}"
            if "difference_ci_lower" in tree[g]:
                text += (f" [{float(tree[g]['difference_ci_lower']):+.3f}, "
                         f"{float(tree[g]['difference_ci_upper']):+.3f}]")
            if p is not None:
                text += f", p = {float(p):.3g}"
            ticks[gi] += "\n" + text
    ax.set_xticks(range(len(groups)))
    ax.set_xticklabels(ticks, fontsize=8)
    ax.set_xlim(-0.6, len(groups) - 0.4)
    top = max((float(tree[g][s]["ci_upper"]) for g, _ in groups for s in ("a", "b")
               if tree[g].get(s)), default=1.0)
    ax.set_ylim(0, min(1.0, top * 1.35 + 0.02))
    ax.set_ylabel("β = P(every model wrong), 95% CP")
    ax.set_title(f"β per answer format: {name['a']} vs {name['b']}")
    ax.legend(fontsize=8, frameon=False, loc="upper left")
    ax.grid(axis="y", alpha=0.3, lw=0.5)
    tests = "; ".join(str(tree[g]["test"]) for g, _ in groups if "test" in tree[g])
    return [("formats_beta", finish(fig, caption(tree, tests)))]


FIGURES = Figures("formats", ("formats_beta",), draw)
