"""``vote``, ``route``, ``cascade`` and ``ensembles --out``: what a policy buys over the
single best model, against the ceiling 1 - beta, with bootstrap intervals."""

from __future__ import annotations

from typing import Any

import numpy as np

from . import Figures
from ._common import caption, estimate, finish

POLICY_COLOURS = ("tab:blue", "tab:orange", "tab:purple", "tab:brown", "tab:pink", "tab:olive")


def _accuracy_bars(ax, policies: dict[str, Any], sb: float, ceiling: float | None):
    names = list(policies)
    est = np.array([estimate(policies[n].get("bootstrap", {}).get("policy_accuracy"))
                    for n in names]).reshape(len(names), 3)
    acc = np.array([float(policies[n]["accuracy"]) for n in names])
    y = np.arange(len(names))
    err = np.abs(np.vstack([acc - est[:, 1], est[:, 2] - acc]))
    for i in y:
        ax.errorbar([acc[i]], [i], xerr=np.nan_to_num(err[:, i : i + 1]), fmt="o", ms=7,
                    color=POLICY_COLOURS[i % 6], capsize=4, lw=1.4)
    ax.axvline(sb, color="black", lw=1, ls="--", label=f"single best {sb:.3f}")
    if ceiling is not None:
        ax.axvline(ceiling, color="tab:red", lw=1.2, label=f"ceiling 1 - β = {ceiling:.3f}")
    ax.set_yticks(y)
    ax.set_yticklabels([n.replace("_", " ") for n in names])
    lo = np.nanmin(np.concatenate([est[:, 1], acc, [sb]]))
    ax.set_xlim(max(0.0, lo - 0.1), 1.0)
    ax.set_ylim(len(names) - 0.5, -0.5)
    ax.set_xlabel("accuracy on held-out queries (bootstrap interval)")
    ax.grid(axis="x", alpha=0.3, lw=0.5)
    ax.legend(fontsize=8, frameon=False, loc="upper left", bbox_to_anchor=(1.01, 1.0))


def draw_vote(tree: dict[str, Any]) -> list[tuple[str, Any]]:
    import matplotlib.pyplot as plt

    ref = tree["reference"]
    sb, ceiling = float(ref["single_best_accuracy"]), float(ref["oracle_accuracy"])
    fig, ax = plt.subplots(figsize=(8.5, 1.6 + 0.5 * len(tree["policies"])))
    _accuracy_bars(ax, tree["policies"], sb, ceiling)
    ax.set_title(f"Votes against the single best ({ref.get('single_best', '')}) and the ceiling")
    out = [("vote_accuracy", finish(fig, caption(
        tree, f"G = {float(ref['G']):.3f} (oracle gain over the single best)")))]
    sub = tree.get("subsets")
    if sub is not None and np.size(sub.get("gain", [])) > 0:
        rho, gain = np.asarray(sub["mean_rho"], float), np.asarray(sub["gain"], float)
        fig, ax = plt.subplots(figsize=(6.8, 4.6))
        if gain.size > 2000:
            hb = ax.hexbin(rho, gain, gridsize=40, cmap="Blues", mincnt=1)
            fig.colorbar(hb, ax=ax, label="subsets")
        else:
            ax.scatter(rho, gain, s=14, alpha=0.6, color="tab:blue", lw=0)
        slope, icpt = float(sub.get("slope_gain_on_rho", np.nan)), float(sub.get("intercept",
                                                                                  np.nan))
        if np.isfinite(slope):
            xs = np.linspace(np.nanmin(rho), np.nanmax(rho), 2)
            ax.plot(xs, icpt + slope * xs, color="tab:red", lw=1.4,
                    label=f"least squares: slope {slope:.2f}")
            ax.legend(fontsize=8, frameon=False)
        ax.axhline(0, color="black", lw=0.8, ls="--")
        ax.set_xlabel("mean pairwise correlation of the members' errors")
        ax.set_ylabel("vote accuracy - best member's accuracy")
        ax.set_title(f"Majority-vote gain of every {sub.get('size', '')}-model subset")
        ax.grid(alpha=0.3, lw=0.5)
        out.append(("vote_gain_vs_rho", finish(fig, caption(
            tree, f"{int(sub.get('count', gain.size))} subsets",
            f"vote loses in {float(sub.get('share_vote_loses', np.nan)):.0%}",
            str(sub.get("status", ""))))))
    return out


def draw_route(tree: dict[str, Any]) -> list[tuple[str, Any]]:
    import matplotlib.pyplot as plt

    pol = tree["policies"]
    sb, ceiling, G = (float(tree[k]) for k in ("single_best_accuracy", "oracle_accuracy", "G"))
    out = []
    fr = tree.get("cost_frontier")
    if fr is not None or any("mean_cost" in v for v in pol.values()):
        fig, ax = plt.subplots(figsize=(7.2, 4.8))
        if fr is not None:
            order = np.argsort(np.asarray(fr["mean_cost"], float))
            ax.plot(np.asarray(fr["mean_cost"])[order], np.asarray(fr["accuracy"])[order], "-",
                    color="0.4", lw=1.2, marker=".", label="learned router, cost penalty λ")
        for i, (name, v) in enumerate(pol.items()):
            if "mean_cost" not in v:
                continue
            _, lo, hi = estimate(v.get("bootstrap", {}).get("policy_accuracy"))
            acc = float(v["accuracy"])
            ax.errorbar([float(v["mean_cost"])], [acc], yerr=[[acc - lo], [hi - acc]],
                        fmt="o", color=POLICY_COLOURS[i % 6], capsize=3, ms=7,
                        label=name.replace("_", " "))
        ax.axhline(ceiling, color="tab:red", lw=1.2, label=f"ceiling 1 - β = {ceiling:.3f}")
        ax.axhline(sb, color="black", lw=1, ls="--", label=f"single best {sb:.3f}")
        ax.set_xlabel("mean cost per query")
        ax.set_ylabel("accuracy")
        ax.set_title("Cost-quality frontier of routing")
        ax.legend(fontsize=8, frameon=False, loc="lower right")
        ax.grid(alpha=0.3, lw=0.5)
        out.append(("route_frontier", finish(fig, caption(tree, str(tree.get("scheme", ""))))))
    fig, ax = plt.subplots(figsize=(8.6, 1.6 + 0.5 * len(pol)))
    names = list(pol)
    y = np.arange(len(names))
    for i, name in enumerate(names):
        f, lo, hi = estimate(pol[name].get("bootstrap", {}).get("realized_fraction"))
        f = float(pol[name].get("realized_fraction", f))
        ax.barh(i, f, color=POLICY_COLOURS[i % 6], alpha=0.8, height=0.6)
        ax.annotate(f"{f:.2f}", (f, i), textcoords="offset points", xytext=(4, 6), fontsize=8)
        if np.isfinite(lo):
            ax.errorbar([f], [i], xerr=[[max(f - lo, 0)], [max(hi - f, 0)]], fmt="none",
                        ecolor="black", capsize=3)
    ax.axvline(0, color="black", lw=0.8)
    ax.axvline(1, color="tab:red", lw=1.2, label="1 = the oracle router's gain G")
    ax.set_yticks(y)
    ax.set_yticklabels([n.replace("_", " ") for n in names])
    ax.invert_yaxis()
    ax.set_xlabel("realized fraction of G = (policy - single best) / (oracle - single best)")
    ax.set_title(f"How much of the oracle gain G = {G:.3f} each policy realizes")
    ax.legend(fontsize=8, frameon=False, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    out.append(("route_realized_fraction", finish(fig, caption(tree))))
    return out


def draw_cascade(tree: dict[str, Any]) -> list[tuple[str, Any]]:
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7.2, 4.8))
    for i, (name, c) in enumerate(tree["cascades"].items()):
        cost, acc = np.asarray(c["mean_cost"], float), np.asarray(c["accuracy"], float)
        order = np.argsort(cost)
        colour = POLICY_COLOURS[i % 6]
        ax.plot(cost[order], acc[order], "o-", color=colour, ms=3.5, lw=1.3,
                label=f"{name} cascade")
        ci = np.asarray(c.get("accuracy_ci", np.full((cost.size, 2), np.nan)), float)
        if ci.shape == (cost.size, 2) and np.isfinite(ci).any():
            ax.fill_between(cost[order], ci[order, 0], ci[order, 1], color=colour, alpha=0.15,
                            lw=0)
    m = tree.get("models", {})
    for name, cst, acc in zip(m.get("model", []), m.get("mean_cost", []), m.get("accuracy", [])):
        ax.plot([cst], [acc], "s", color="0.3", ms=5)
        ax.annotate(str(name), (cst, acc), textcoords="offset points", xytext=(4, -9),
                    fontsize=7, color="0.3")
    sb = tree.get("single_best", {})
    if "accuracy" in sb:
        ax.plot([float(sb["mean_cost"])], [float(sb["accuracy"])], "*", color="black", ms=12,
                label=f"single best ({sb.get('model', '')})")
    ax.set_xlabel("mean cost per query")
    ax.set_ylabel("accuracy on held-out queries")
    ax.set_title("Cost-quality frontier of cascades (models escalated in cost order)")
    ax.legend(fontsize=8, frameon=False, loc="lower right")
    ax.grid(alpha=0.3, lw=0.5)
    return [("cascade_frontier", finish(fig, caption(
        tree, "bands: bootstrap intervals of the accuracy")))]


def draw_ensembles(tree: dict[str, Any]) -> list[tuple[str, Any]]:
    import matplotlib.pyplot as plt

    same, mixed = np.asarray(tree["same"], float), np.asarray(tree["mixed"], float)
    x = np.arange(same.size)
    fig, ax = plt.subplots(figsize=(6.8, 4.4))
    ax.vlines(x, np.minimum(same, mixed), np.maximum(same, mixed), color="0.7", lw=1)
    ax.plot(x, same, "o", color="tab:blue", label="same-model ensemble (repeated samples)")
    ax.plot(x, mixed, "s", color="tab:orange", label="mixed-model ensemble")
    ax.set_xticks(x)
    ax.set_xlabel("random partition of the repeated samples between the ensembles")
    ax.set_ylabel("majority-vote accuracy")
    d = float(tree.get("mean_diff", np.nan))
    ci = np.asarray(tree.get("diff_ci", [np.nan, np.nan]), float)
    ax.set_title(f"Mixed - same = {d:+.3f}  [{ci[0]:+.3f}, {ci[1]:+.3f}] (query bootstrap)")
    ax.legend(fontsize=8, frameon=False)
    ax.grid(alpha=0.3, lw=0.5)
    return [("ensembles_same_vs_mixed", finish(fig, caption(
        tree, f"models matched in accuracy: {', '.join(map(str, tree.get('band_models', [])))}")))]


FIGURES = (
    Figures("vote", ("vote_accuracy", "vote_gain_vs_rho"), draw_vote),
    Figures("route", ("route_frontier", "route_realized_fraction"), draw_route),
    Figures("cascade", ("cascade_frontier",), draw_cascade),
    Figures("ensembles", ("ensembles_same_vs_mixed",), draw_ensembles),
)
