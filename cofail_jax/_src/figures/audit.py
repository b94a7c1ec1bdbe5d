"""``audit --h5``: how beta and the certified gain bound move if j of the all-wrong
queries were artefacts, next to the evidence classes the rules suggest."""

from __future__ import annotations

from typing import Any

import numpy as np

from . import Figures
from ._common import caption, config, finish

# the audit's suggested classes, in its own order (``_src/audit/evidence.py`` CLASSES)
CLASSES = ("grader defect", "wrong reference", "ambiguous", "truncation", "genuine")


def _strings(a) -> list[str]:
    return [v.decode() if isinstance(v, bytes) else str(v) for v in np.asarray(a, object).ravel()]


def draw(tree: dict[str, Any]) -> list[tuple[str, Any]]:
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    s = tree["sensitivity"]
    j = np.asarray(s["artefacts"], int)
    beta = np.asarray(s["beta"], float)
    lo, hi = np.asarray(s["beta_ci_lower"], float), np.asarray(s["beta_ci_upper"], float)
    pred = np.asarray(s.get("beta_pred", np.full_like(beta, np.nan)), float)
    fig, (ax_b, ax_g, ax_e) = plt.subplots(1, 3, figsize=(11.5, 3.6),
                                           gridspec_kw={"width_ratios": (1.1, 1.1, 1.0)})
    ax_b.fill_between(j, lo, hi, color="tab:blue", alpha=0.18, lw=0, label="95% CP interval")
    ax_b.plot(j, beta, "o-", color="tab:blue", ms=4, label="β (observed)")
    if np.isfinite(pred).any():
        ax_b.plot(j, pred, "s--", color="tab:orange", ms=3, label="equal-loading β")
    ax_b.set_xlabel("j = all-wrong queries treated as artefacts")
    ax_b.set_ylabel("β = P(every model wrong)")
    ax_b.set_title("β if j all-wrong queries were artefacts")
    ax_b.set_ylim(bottom=0)
    ax_b.legend(fontsize=7, frameon=False)

    ax_g.plot(j, np.asarray(s["gain_bound"], float), "o-", color="tab:green", ms=4,
              label="certified gain bound (upper)")
    if "oracle_gain" in s:
        ax_g.plot(j, np.asarray(s["oracle_gain"], float), "^--", color="0.4", ms=4,
                  label="oracle gain (1 - β) - single best")
    ax_g.set_xlabel("j = all-wrong queries treated as artefacts")
    ax_g.set_ylabel("accuracy gain over the single best")
    ax_g.set_title("Gain bound vs j")
    ax_g.legend(fontsize=7, frameon=False)
    for ax in (ax_b, ax_g):
        ax.set_xticks(j if j.size <= 16 else j[:: int(np.ceil(j.size / 16))])
        ax.grid(alpha=0.3, lw=0.5)

    ev = tree.get("evidence") or {}
    got = _strings(ev.get("suggested_class", []))
    names = list(CLASSES) + sorted(set(got) - set(CLASSES))
    counts = [got.count(c) for c in names]
    colours = ["tab:red", "tab:purple", "tab:olive", "tab:orange", "tab:blue"]
    colours += ["0.5"] * (len(names) - len(colours))
    y = np.arange(len(names))
    ax_e.barh(y, counts, color=colours[: len(names)])
    for yi, c in zip(y, counts):
        ax_e.annotate(str(c), (c, yi), textcoords="offset points", xytext=(3, 0), va="center",
                      fontsize=8)
    ax_e.set_yticks(y)
    ax_e.set_yticklabels(names)
    ax_e.invert_yaxis()
    ax_e.set_xlim(0, max(counts + [1]) * 1.2)
    ax_e.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax_e.set_xlabel("flagged queries")
    ax_e.set_title(f"Suggested classes ({len(got)} flagged)")
    ax_e.grid(axis="x", alpha=0.3, lw=0.5)
    n0 = int(np.asarray(s["n"])[0]) if "n" in s else None
    cfg = config(tree)
    return [("audit_sensitivity", finish(fig, caption(
        tree, f"n = {n0} queries" if n0 is not None else "",
        f"certificate at confidence 1 - {cfg['delta']}" if "delta" in cfg else "",
        "classes are suggestions from rules R1-R6, not verdicts")))]


FIGURES = Figures("audit", ("audit_sensitivity",), draw)
