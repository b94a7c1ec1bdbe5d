"""``formats --out``: beta (the share of queries every model gets wrong) under each of
the two answer formats, with Clopper-Pearson intervals, on the queries both sets share
and on each full set; and each model's accuracy under one format against the other
with Clopper-Pearson intervals, on the common questions (no such panel for files written
before per-model accuracies were stored)."""

from __future__ import annotations

from typing import Any

import numpy as np

from . import Figures
from ._common import caption, finish, tick_labels


def _strings(a) -> list[str]:
    return [v.decode() if isinstance(v, bytes) else str(v) for v in np.asarray(a, object).ravel()]


def _accuracy_panel(ax, acc: dict[str, Any], name: dict[str, str], where: str,
                    colours: dict[str, str]) -> None:
    """One row per model: its accuracy under each format with Clopper-Pearson intervals
    (a model absent from a format has no dot there)."""
    models = _strings(acc.get("model", [str(i) for i in range(np.asarray(acc["a"]).size)]))
    y = np.arange(len(models))
    for si, s in enumerate(("a", "b")):
        v = np.asarray(acc[s], float)
        ok = np.isfinite(v)
        err = [v[ok] - np.asarray(acc[f"{s}_lower"], float)[ok],
               np.asarray(acc[f"{s}_upper"], float)[ok] - v[ok]]
        ax.errorbar(v[ok], y[ok] + (si - 0.5) * 0.3, xerr=err, fmt="s", ms=4,
                    color=colours[s], elinewidth=0.8, capsize=2, label=name[s])
    tick_labels(ax, "y", models)
    ax.set_ylim(len(models) - 0.5, -0.5)
    ax.set_xlim(-0.02, 1.02)
    ax.set_xlabel("accuracy, 95% CP")
    ax.set_title(f"Each model's accuracy, {where}", fontsize=9)
    ax.legend(fontsize=7, frameon=False, loc="lower right")
    ax.grid(axis="x", alpha=0.3, lw=0.5)


def draw(tree: dict[str, Any]) -> list[tuple[str, Any]]:
    import matplotlib.pyplot as plt

    nm = tree.get("names") or {}
    name = {s: str(nm.get(s, s)) for s in ("a", "b")}
    colours = {"a": "tab:blue", "b": "tab:orange"}
    acc_group = next((g for g in ("common", "full") if isinstance(tree.get(g, {}).get("accuracy"),
                                                                   dict)), None)
    if acc_group is None:
        fig, ax = plt.subplots(figsize=(7.2, 3.4))
    else:
        k = np.asarray(tree[acc_group]["accuracy"]["a"]).size
        fig, (ax, ax_m) = plt.subplots(1, 2, figsize=(11, max(3.6, 1.2 + 0.2 * k)),
                                       gridspec_kw={"width_ratios": (1.6, 1.0)})
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
    if acc_group is not None:
        where = "questions in both sets" if acc_group == "common" else "each full set"
        _accuracy_panel(ax_m, tree[acc_group]["accuracy"], name, where, colours)
    tests = "; ".join(str(tree[g]["test"]) for g, _ in groups if "test" in tree[g])
    tests += "; accuracy intervals: Clopper-Pearson" if acc_group is not None else ""
    return [("formats_beta", finish(fig, caption(tree, tests)))]


FIGURES = Figures("formats", ("formats_beta",), draw)
