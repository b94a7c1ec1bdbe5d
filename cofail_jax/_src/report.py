"""Figures of an underpricing sweep results file (matplotlib, PNG).

Four figures, each with axis labels and a caption line (n, K, seed, method):

* ``ratio_vs_pool_size.png``: median beta_obs / beta_pred over subsets by pool size k,
  with the 5-95 % band (composition noise), one colour per copula model;
* ``beta_by_pool_size.png``: mean observed and predicted beta by pool size, log axis;
* ``beta_vs_rho.png``: beta_obs against the mean pairwise tetrachoric correlation of each
  subset, coloured by k: subsets with the same mean correlation differ widely in beta;
* ``bootstrap_ratio.png``: the query-bootstrap distribution of the full-pool ratio per
  model, with the point estimate and the percentile interval.
"""

from __future__ import annotations

import json
import os

import numpy as np

from .errors import InputError
from .h5 import guard_h5_read

FIGURES = ("ratio_vs_pool_size", "beta_by_pool_size", "beta_vs_rho", "bootstrap_ratio")
from .copulas import ALIASES, NAMES, get as _get_copula

LABELS = {name: _get_copula(name).label for name in NAMES}
COLORS = {name: _get_copula(name).colour for name in NAMES}
# files written before the rename (one_factor = fitted_loading) still plot
LABELS.update({old: LABELS[new] for old, new in ALIASES.items()})
COLORS.update({old: COLORS[new] for old, new in ALIASES.items()})


@guard_h5_read("give a file written by 'cofail sweep'")
def read_sweep(path: str) -> dict:
    """The parts of a sweep results file the figures need (plain h5py)."""
    import h5py

    try:
        f = h5py.File(path, "r")
    except (OSError, FileNotFoundError) as e:
        raise InputError(f"cannot open the results file ({e})", source=path,
                         hint="give a file written by 'cofail sweep'") from None
    with f:
        if "sweep" not in f or "full" not in f:
            raise InputError("not a sweep results file (no 'sweep' and 'full' groups)", source=path,
                             hint="give a file written by 'cofail sweep'")
        sw, fu = f["sweep"], f["full"]
        methods = [m for m in LABELS if m in sw["ratio"]]
        cfg = json.loads(f.attrs["config"]) if "config" in f.attrs else {}
        d = {
            "path": path, "methods": methods, "config": cfg,
            "seed": int(f.attrs.get("seed", cfg.get("seed", 0))),
            "n": int(fu.attrs["n_queries"]), "K": int(fu.attrs["n_models"]),
            "k": sw["k"][()], "n_subsets": sw["n_subsets"][()],
            "beta_obs": sw["beta_obs"][()], "mean_rho": sw["mean_rho"][()],
            "mean_beta_obs": sw["mean_beta_obs"][()], "frac_zero": sw["frac_beta_obs_zero"][()],
            "median": {m: sw["ratio_median"][m][()] for m in methods},
            "lower": {m: sw["ratio_lower"][m][()] for m in methods},
            "upper": {m: sw["ratio_upper"][m][()] for m in methods},
            "mean_beta_pred": {m: sw["mean_beta_pred"][m][()] for m in methods},
            "full_ratio": {m: float(fu["ratio"].attrs[m]) for m in methods},
            "interval": sw["interval_percentiles"][()],
        }
        if "bootstrap" in f:
            bt = f["bootstrap"]
            d["boot_ratio"] = {m: bt["ratio"][m][()] for m in methods}
            d["boot_lower"] = {m: float(bt["ratio_lower"].attrs[m]) for m in methods}
            d["boot_upper"] = {m: float(bt["ratio_upper"].attrs[m]) for m in methods}
            d["boot_used"] = int(bt.attrs["n_used"])
            d["boot_B"] = int(bt.attrs["n_replicates"])
    return d


def _caption(d) -> str:
    c = d["config"]
    g = ""
    if "gaussian" in d["methods"]:
        g = f"; Gaussian: {c.get('orthant_method', 'qmc')}, {c.get('orthant_samples', '?')} points"
    b = f", B = {d['boot_B']} replicates" if "boot_B" in d else ""
    return (f"{os.path.basename(c.get('input_path', '') or d['path'])}: n = {d['n']} queries, "
            f"K = {d['K']} models, seed = {d['seed']}, P = {c.get('subsets', '?')} subsets per k{b}; "
            f"pairwise-calibrated (tetrachoric){g}")


def _finish(fig, d, path):
    import textwrap

    fig.text(0.01, 0.01, "\n".join(textwrap.wrap(_caption(d), 125)), fontsize=7, color="0.3",
             ha="left", va="bottom")
    fig.tight_layout(rect=(0, 0.06, 1, 1))
    from .h5 import atomic_output

    with atomic_output(path, suffix=".png") as tmp:
        fig.savefig(tmp, dpi=130, format="png")
    import matplotlib.pyplot as plt

    plt.close(fig)


def _plain_log_ticks(ax):
    """Plain decimal tick labels on a log axis that spans less than a factor 20."""
    from matplotlib.ticker import LogLocator, NullFormatter, ScalarFormatter

    lo, hi = ax.get_ylim()
    if hi / lo < 3:  # a narrow range reads better on a linear axis
        ax.set_yscale("linear")
        return
    if hi / lo < 20:
        ax.yaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 1.1, 1.25, 1.5, 2.0, 3.0, 5.0, 7.0, 9.0)))
        fmt = ScalarFormatter()
        fmt.set_scientific(False)
        ax.yaxis.set_major_formatter(fmt)
        ax.yaxis.set_minor_formatter(NullFormatter())


def write_figures(path: str, outdir: str | None = None) -> list[str]:
    """Write the four PNG figures of a sweep results file; returns their paths."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    d = read_sweep(path)
    outdir = outdir or os.path.splitext(path)[0] + "_figures"
    os.makedirs(outdir, exist_ok=True)
    lo_q, hi_q = d["interval"]
    written = []
    k = d["k"]

    # 1. ratio vs pool size
    fig, ax = plt.subplots(figsize=(7.5, 4.8))
    for m in d["methods"]:
        med = d["median"][m]
        ax.plot(k, med, "-", color=COLORS[m], label=LABELS[m], lw=1.6)
        ax.fill_between(k, d["lower"][m], d["upper"][m], color=COLORS[m], alpha=0.15, lw=0)
    ax.axhline(1.0, color="k", lw=0.8, ls="--")
    ax.set_yscale("log")
    ax.set_xlabel("pool size k (models)")
    ax.set_ylabel("underpricing ratio  beta_obs / beta_pred")
    ax.set_title(f"Underpricing of P(all wrong) by pool size: median and {lo_q:g}-{hi_q:g} % "
                 "band over subsets", fontsize=10)
    ax.legend(fontsize=8)
    if d["n_subsets"][-1] == 1:
        ax.text(0.99, 0.02, "k = K: one subset (the pool), so no composition band there",
                transform=ax.transAxes, ha="right", va="bottom", fontsize=7, color="0.3")
    _plain_log_ticks(ax)
    p = os.path.join(outdir, "ratio_vs_pool_size.png")
    _finish(fig, d, p)
    written.append(p)

    # 2. observed vs predicted beta by pool size
    fig, ax = plt.subplots(figsize=(7.5, 4.8))
    ax.plot(k, d["mean_beta_obs"], "o-", color="k", ms=3, lw=1.8, label="observed (mean over subsets)")
    for m in d["methods"]:
        ax.plot(k, d["mean_beta_pred"][m], "-", color=COLORS[m], lw=1.4, label=f"predicted: {LABELS[m]}")
    ax.set_yscale("log")
    ax.set_xlabel("pool size k (models)")
    ax.set_ylabel("beta = P(all k models wrong)  (fraction of queries)")
    ax.set_title("Observed and predicted all-wrong rate by pool size", fontsize=10)
    if np.any(d["frac_zero"] > 0):
        ax2 = ax.twinx()
        ax2.bar(k, d["frac_zero"], color="0.6", alpha=0.3, width=0.8, label="share of subsets with beta_obs = 0")
        ax2.set_ylim(0, 1)
        ax2.set_ylabel("share of subsets with beta_obs = 0 (bars)", color="0.4")
        ax2.legend(fontsize=7, loc="upper center")
    ax.legend(fontsize=8, loc="lower left")
    p = os.path.join(outdir, "beta_by_pool_size.png")
    _finish(fig, d, p)
    written.append(p)

    # 3. beta vs mean rho across subsets
    fig, ax = plt.subplots(figsize=(7.5, 4.8))
    kk = np.repeat(k[:, None], d["beta_obs"].shape[1], axis=1)
    ok = np.isfinite(d["beta_obs"]) & (d["beta_obs"] > 0) & np.isfinite(d["mean_rho"])
    n_zero = int(np.sum(np.isfinite(d["beta_obs"]) & (d["beta_obs"] <= 0)))
    sc = ax.scatter(d["mean_rho"][ok], d["beta_obs"][ok], c=kk[ok], s=6, cmap="viridis", alpha=0.7, lw=0)
    ax.set_yscale("log")
    ax.set_xlabel("mean pairwise tetrachoric correlation of the subset")
    ax.set_ylabel("observed beta of the subset (fraction of queries)")
    ax.set_title("Subsets with the same mean correlation differ widely in beta", fontsize=10)
    cb = fig.colorbar(sc, ax=ax)
    cb.set_label("pool size k")
    if n_zero:
        ax.text(0.99, 0.02, f"{n_zero} subsets with beta_obs = 0 not shown (log axis)",
                transform=ax.transAxes, ha="right", fontsize=7, color="0.3")
    p = os.path.join(outdir, "beta_vs_rho.png")
    _finish(fig, d, p)
    written.append(p)

    # 4. bootstrap distribution of the full-pool ratio
    fig, ax = plt.subplots(figsize=(7.5, 4.8))
    if "boot_ratio" in d and d["boot_used"] > 0:
        allr = np.concatenate([d["boot_ratio"][m][np.isfinite(d["boot_ratio"][m])] for m in d["methods"]])
        bins = np.linspace(allr.min(), allr.max(), 50) if allr.size else 40
        for m in d["methods"]:
            r = d["boot_ratio"][m]
            r = r[np.isfinite(r)]
            if r.size == 0:
                continue
            ax.hist(r, bins=bins, color=COLORS[m], alpha=0.35,
                    label=f"{LABELS[m]}: {d['full_ratio'][m]:.3g} "
                          f"[{d['boot_lower'][m]:.3g}, {d['boot_upper'][m]:.3g}]")
            ax.axvline(d["full_ratio"][m], color=COLORS[m], lw=1.5)
            for v in (d["boot_lower"][m], d["boot_upper"][m]):
                ax.axvline(v, color=COLORS[m], lw=0.8, ls=":")
        ax.axvline(1.0, color="k", lw=0.8, ls="--")
        ax.set_title(f"Query bootstrap of the full-pool ratio ({d['boot_used']} of {d['boot_B']} "
                     f"replicates used; lines: estimate and {lo_q:g}-{hi_q:g} % interval)", fontsize=9)
        ax.legend(fontsize=7, title="model: ratio [interval]", title_fontsize=7)
    else:
        ax.text(0.5, 0.5, "no bootstrap replicates in this file (bootstrap = 0)",
                ha="center", va="center", transform=ax.transAxes)
    ax.set_xlabel(f"full-pool underpricing ratio beta_obs / beta_pred (K = {d['K']} models)")
    ax.set_ylabel("bootstrap replicates (count)")
    p = os.path.join(outdir, "bootstrap_ratio.png")
    _finish(fig, d, p)
    written.append(p)
    return written
