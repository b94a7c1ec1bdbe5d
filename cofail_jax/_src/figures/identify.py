"""``identify --out`` and ``counterexample --out``: the range of beta that the pairwise
statistics allow, against the Gaussian-copula point and the observed beta."""

from __future__ import annotations

from typing import Any

import numpy as np

from . import Figures
from ._common import caption, finish


def _range_figure(tree, lo, hi, exact, rows, title, parts):
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7.2, 1.2 + 0.45 * (len(rows) + 1)))
    ax.axvspan(lo, hi, color="tab:blue", alpha=0.15, lw=0)
    ax.plot([lo, hi], [0, 0], "|-", color="tab:blue", lw=3, ms=14)
    label = "exact (sharp)" if exact else "relaxed (valid, maybe loose)"
    ax.annotate(f"[β_min, β_max] = [{lo:.4f}, {hi:.4f}], {label}", ((lo + hi) / 2, 0),
                textcoords="offset points", xytext=(0, 8), ha="center", va="bottom",
                fontsize=8, color="tab:blue")
    ticks = ["pairwise range"]
    for y, (name, value, err, colour, marker) in enumerate(rows, start=1):
        if not np.isfinite(value):
            continue
        xerr = None if err is None else np.abs(np.asarray([[value - err[0]], [err[1] - value]]))
        ax.errorbar([value], [y], xerr=xerr, fmt=marker, color=colour, capsize=4, ms=7)
        ax.annotate(f"{value:.4f}", (value, y), textcoords="offset points", xytext=(0, 7),
                    ha="center", va="bottom", fontsize=7, color=colour)
        ticks.append(name)
    ax.set_yticks(range(len(ticks)))
    ax.set_yticklabels(ticks)
    ax.set_ylim(-0.7, len(ticks) - 0.4)
    ax.invert_yaxis()
    span = hi - lo if hi > lo else max(hi, 1e-3)
    xs = [lo, hi] + [r[1] for r in rows if np.isfinite(r[1])]
    ax.set_xlim(min(xs) - 0.06 * span, max(xs) + 0.1 * span)
    ax.set_xlabel("β = P(every model wrong)")
    ax.set_title(title)
    ax.grid(axis="x", alpha=0.3, lw=0.5)
    return finish(fig, caption(tree, *parts))


def draw(tree: dict[str, Any]) -> list[tuple[str, Any]]:
    g = tree["identify"]
    p = np.asarray(g["error_rate"], float)
    lo, hi = float(g["beta_min"]), float(g["beta_max"])
    ci = (float(g["beta_observed_ci95_lower"]), float(g["beta_observed_ci95_upper"]))
    gb, ge = float(g["gaussian_beta"]), float(g.get("gaussian_abs_err", 0.0))
    rows = [("observed β (95% CP)", float(g["beta_observed"]), ci, "black", "o"),
            ("Gaussian copula", gb, (gb - ge, gb + ge), "tab:green", "D"),
            ("independent errors", float(np.prod(p)), None, "0.5", "x")]
    exact = bool(g.get("lower_exact")) and bool(g.get("upper_exact"))
    fig = _range_figure(tree, lo, hi, exact, rows,
                        "What the error rates and pairwise both-wrong rates allow",
                        [f"n = {g['n']} queries, k = {g['k']} models", str(g.get("method", "")),
                         "the range is at the observed rates; it is not a confidence interval"])
    return [("beta_range", fig)]


def draw_counterexample(tree: dict[str, Any]) -> list[tuple[str, Any]]:
    b, gauss = tree["bounds"], tree["gaussian"]
    lo, hi = float(b["beta_min"]), float(b["beta_max"])
    gb, ge = float(gauss["beta"]), float(gauss.get("abs_err", 0.0))
    rows = [("Gaussian copula", gb, (gb - ge, gb + ge), "tab:green", "D"),
            ("independent errors", float(tree.get("independent_beta", np.nan)), None, "0.5", "x")]
    exact = bool(b.get("lower_exact")) and bool(b.get("upper_exact"))
    fig = _range_figure(tree, lo, hi, exact, rows,
                        "Two laws, same marginals and pairwise rates, different β",
                        [f"k = {b.get('k', '?')} models", str(b.get("method", ""))])
    return [("beta_range", fig)]


FIGURES = Figures("identify", ("beta_range",), draw)
COUNTEREXAMPLE = Figures("counterexample", ("beta_range",), draw_counterexample)
