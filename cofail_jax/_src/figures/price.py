"""``price --out``: the beta each copula predicts against the observed beta, and their
ratio, with intervals."""

from __future__ import annotations

from typing import Any

import numpy as np

from . import Figures
from ._common import caption, finish


def _colour(name: str) -> str:
    from ..copulas import colour

    try:
        return colour(name)
    except Exception:  # a copula this version does not know: grey
        return "0.4"


def draw(tree: dict[str, Any]) -> list[tuple[str, Any]]:
    import matplotlib.pyplot as plt

    obs, pred = tree["observed"], tree["predictions"]
    names = [str(c) for c in pred["copula"]]
    labels = [str(s) for s in pred.get("label", names)]
    beta, se = np.asarray(pred["beta"], float), np.asarray(pred["std_err"], float)
    ratio = np.asarray(pred["ratio"], float)
    rlo, rhi = np.asarray(pred["ratio_ci_lower"], float), np.asarray(pred["ratio_ci_upper"], float)
    b, lo, hi = (float(obs[k]) for k in ("beta", "beta_ci_lower", "beta_ci_upper"))
    y = np.arange(len(names))
    colours = [_colour(n) for n in names]
    fig, (left, right) = plt.subplots(1, 2, figsize=(10.5, 1.8 + 0.55 * len(names)), sharey=True)
    left.axvspan(max(lo, 1e-300), hi, color="0.85", lw=0, label="observed: Clopper-Pearson")
    left.axvline(b, color="black", lw=1.2, label=f"observed β = {b:.3g}")
    for i in y:
        left.errorbar([beta[i]], [i], xerr=[[1.96 * se[i]], [1.96 * se[i]]], fmt="o", ms=7,
                      color=colours[i], capsize=3)
    positive = np.concatenate([beta[beta > 0], [v for v in (b, lo, hi) if v > 0]])
    if positive.size and positive.max() / positive.min() > 5:
        left.set_xscale("log")
    left.set_yticks(y)
    left.set_yticklabels(labels)
    left.set_ylim(len(names) - 0.5, -0.5)
    left.set_xlabel("β = P(all wrong): predicted by the copula (± 1.96 s.e.)")
    left.legend(fontsize=8, frameon=False, loc="lower left", bbox_to_anchor=(0.0, 1.0), ncol=2)
    left.grid(axis="x", alpha=0.3, lw=0.5)
    for i in y:
        err = [[max(ratio[i] - rlo[i], 0)], [max(rhi[i] - ratio[i], 0)]]
        right.errorbar([ratio[i]], [i], xerr=np.nan_to_num(err), fmt="o", ms=7,
                       color=colours[i], capsize=4)
    right.axvline(1.0, color="black", lw=0.9, ls="--")
    finite = np.concatenate([ratio, rlo, rhi])
    finite = finite[np.isfinite(finite) & (finite > 0)]
    if finite.size and finite.max() / finite.min() > 5:
        right.set_xscale("log")
    right.set_xlabel("β_obs / β_pred (interval from observed β); > 1: underpriced")
    right.grid(axis="x", alpha=0.3, lw=0.5)
    fig.suptitle("Observed all-wrong rate against pairwise-calibrated copulas")
    return [("price_vs_observed", finish(fig, caption(
        tree, f"n = {obs['n']} queries, K = {obs['K']} all-wrong",
        f"mean tetrachoric ρ = {float(obs['mean_tetrachoric']):.3f}")))]


FIGURES = Figures("price", ("price_vs_observed",), draw)
