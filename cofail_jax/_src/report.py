"""Figures of an underpricing sweep results file (matplotlib; PNG, SVG or PDF).

Four figures, each with axis labels and a caption line (n, K, seed, method):

* ``ratio_vs_pool_size.png``: one panel per copula: median beta_obs / beta_pred over
  subsets by pool size k, with the 5-95 % band (composition noise), and at k = K (one
  subset, no band) the full-pool ratio with its query-bootstrap interval;
* ``beta_by_pool_size.png``: mean observed and predicted beta by pool size, log axis;
* ``beta_vs_rho.png``: beta_obs against the mean pairwise tetrachoric correlation of each
  subset, coloured by k: subsets with the same mean correlation differ widely in beta;
* ``bootstrap_ratio.png``: one panel per copula: the query-bootstrap distribution of the
  full-pool ratio, with the point estimate and the percentile interval.
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
        copulas = [m for m in LABELS if m in sw["ratio"]]
        cfg = json.loads(f.attrs["config"]) if "config" in f.attrs else {}
        if "methods" in cfg and "copulas" not in cfg:  # written before the key's rename
            cfg["copulas"] = cfg.pop("methods")
        d = {
            "path": path, "copulas": copulas, "config": cfg,
            "seed": int(f.attrs.get("seed", cfg.get("seed", 0))),
            "n": int(fu.attrs["n_queries"]), "K": int(fu.attrs["n_models"]),
            "k": sw["k"][()], "n_subsets": sw["n_subsets"][()],
            "beta_obs": sw["beta_obs"][()], "mean_rho": sw["mean_rho"][()],
            "mean_beta_obs": sw["mean_beta_obs"][()], "frac_zero": sw["frac_beta_obs_zero"][()],
            "median": {m: sw["ratio_median"][m][()] for m in copulas},
            "lower": {m: sw["ratio_lower"][m][()] for m in copulas},
            "upper": {m: sw["ratio_upper"][m][()] for m in copulas},
            "mean_beta_pred": {m: sw["mean_beta_pred"][m][()] for m in copulas},
            "full_ratio": {m: float(fu["ratio"].attrs[m]) for m in copulas},
            "interval": sw["interval_percentiles"][()],
        }
        if "bootstrap" in f:
            bt = f["bootstrap"]
            d["boot_ratio"] = {m: bt["ratio"][m][()] for m in copulas}
            d["boot_lower"] = {m: float(bt["ratio_lower"].attrs[m]) for m in copulas}
            d["boot_upper"] = {m: float(bt["ratio_upper"].attrs[m]) for m in copulas}
            d["boot_used"] = int(bt.attrs["n_used"])
            d["boot_B"] = int(bt.attrs["n_replicates"])
    return d


def _caption(d) -> str:
    c = d["config"]
    g = ""
    if "gaussian" in d["copulas"]:
        ns = c.get("orthant_samples")
        pts = (f"{ns} points" if ns else
               f"to {float(c.get('rel_error', 0.01)):.2g} relative error")
        g = f"; Gaussian: {c.get('orthant_method', 'qmc')}, {pts}"
    b = f", B = {d['boot_B']} replicates" if "boot_B" in d else ""
    return (f"{os.path.basename(c.get('input_path', '') or d['path'])}: n = {d['n']} queries, "
            f"K = {d['K']} models, seed = {d['seed']}, P = {c.get('subsets', '?')} subsets per k{b}; "
            f"pairwise-calibrated (tetrachoric){g}")


def _finish(fig, d, path, formats=("png",)) -> list[str]:
    """Caption, layout, and ``path`` (a .png name) saved in each of ``formats``."""
    import textwrap

    fig.text(0.01, 0.01, "\n".join(textwrap.wrap(_caption(d), 125)), fontsize=7, color="0.3",
             ha="left", va="bottom")
    fig.tight_layout(rect=(0, 0.06, 1, 1))
    from .h5 import atomic_output

    written = []
    base = os.path.splitext(path)[0]
    for fmt in formats:
        out = f"{base}.{fmt}"
        with atomic_output(out, suffix="." + fmt) as tmp:
            fig.savefig(tmp, dpi=130, format=fmt)
        written.append(out)
    import matplotlib.pyplot as plt

    plt.close(fig)
    return written


def _panels(n: int, xlabel: str, ylabel: str, sharey: bool = True):
    """A grid of ``n`` small panels (one per copula), at most three per row, with the x
    label under the lowest panel of each column and the y label on the first column."""
    import matplotlib.pyplot as plt

    ncol = min(n, 3)
    nrow = -(-n // ncol)
    fig, axes = plt.subplots(nrow, ncol, figsize=(3.6 * ncol + 0.6, 3.2 * nrow + 0.9),
                             sharex=True, sharey=sharey, squeeze=False)
    for i, ax in enumerate(axes.flat):
        if i >= n:
            ax.set_visible(False)
        elif i + ncol >= n:  # nothing below it
            ax.xaxis.set_tick_params(labelbottom=True)
            ax.set_xlabel(xlabel)
        if i % ncol == 0:
            ax.set_ylabel(ylabel)
    return fig, list(axes.flat[:n])


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


def _ratio_figure(d):
    """Ratio vs pool size: one panel per copula, the k = K bootstrap interval at the end."""

    lo_q, hi_q = d["interval"]
    k = d["k"]
    fig, axes = _panels(len(d["copulas"]), "pool size k (models)", "beta_obs / beta_pred")
    boot = "boot_lower" in d and d.get("boot_used", 0) > 0
    for ax, m in zip(axes, d["copulas"]):
        ax.fill_between(k, d["lower"][m], d["upper"][m], color=COLORS[m], alpha=0.2, lw=0,
                        label=f"{lo_q:g}-{hi_q:g} % of subsets")
        ax.plot(k, d["median"][m], "-", color=COLORS[m], lw=1.6, label="median over subsets")
        if boot:
            r = d["full_ratio"][m]
            ax.errorbar([k[-1]], [r], yerr=[[max(r - d["boot_lower"][m], 0)],
                                            [max(d["boot_upper"][m] - r, 0)]],
                        fmt="o", color="black", ms=4, capsize=3,
                        label=f"k = K: {r:.3g} [{d['boot_lower'][m]:.3g}, "
                              f"{d['boot_upper'][m]:.3g}] (bootstrap)")
        ax.axhline(1.0, color="k", lw=0.8, ls="--")
        ax.set_yscale("log")
        ax.set_title(LABELS[m], fontsize=9, color=COLORS[m])
        ax.legend(fontsize=6.5, frameon=False, loc="best")
        ax.grid(alpha=0.3, lw=0.5)
    from matplotlib.ticker import LogLocator, NullFormatter, ScalarFormatter

    plain = ScalarFormatter()
    plain.set_scientific(False)
    axes[0].yaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
    axes[0].yaxis.set_major_formatter(plain)
    axes[0].yaxis.set_minor_formatter(NullFormatter())
    fig.suptitle(f"Underpricing of P(all wrong) by pool size (> 1: underpriced); band: "
                 f"{lo_q:g}-{hi_q:g} % over subsets" + ("; at k = K the query-bootstrap interval"
                                                       if boot else ""), fontsize=10)
    return fig


def _beta_figure(d):
    """Observed vs predicted beta by pool size (with the share of subsets with beta = 0)."""
    import matplotlib.pyplot as plt

    lo_q, hi_q = d["interval"]
    k = d["k"]
    fig, ax = plt.subplots(figsize=(7.5, 4.8))
    ax.plot(k, d["mean_beta_obs"], "o-", color="k", ms=3, lw=1.8, label="observed (mean over subsets)")
    for m in d["copulas"]:
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
    return fig


def _rho_figure(d):
    """beta vs mean rho across subsets."""
    import matplotlib.pyplot as plt

    lo_q, hi_q = d["interval"]
    k = d["k"]
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
    return fig


def _bootstrap_figure(d):
    """Bootstrap distribution of the full-pool ratio: one panel per copula."""
    import matplotlib.pyplot as plt

    lo_q, hi_q = d["interval"]
    if "boot_ratio" in d and d["boot_used"] > 0:
        fig, axes = _panels(len(d["copulas"]), f"full-pool ratio (K = {d['K']} models)",
                            "replicates", sharey=False)
        finite = [d["boot_ratio"][m][np.isfinite(d["boot_ratio"][m])] for m in d["copulas"]]
        allr = np.concatenate(finite)
        bins = np.linspace(allr.min(), allr.max(), 40) if allr.size else 40
        for ax, m, r in zip(axes, d["copulas"], finite):
            if r.size:
                ax.hist(r, bins=bins, color=COLORS[m], alpha=0.6)
            ax.axvline(d["full_ratio"][m], color="black", lw=1.4)
            for v in (d["boot_lower"][m], d["boot_upper"][m]):
                ax.axvline(v, color="black", lw=0.8, ls=":")
            ax.axvline(1.0, color="k", lw=0.8, ls="--", alpha=0.5)
            ax.set_title(f"{LABELS[m]}: {d['full_ratio'][m]:.3g} "
                         f"[{d['boot_lower'][m]:.3g}, {d['boot_upper'][m]:.3g}]", fontsize=8.5,
                         color=COLORS[m])
        fig.suptitle(f"Query bootstrap of the full-pool ratio ({d['boot_used']} of "
                     f"{d['boot_B']} replicates used; solid: estimate, dotted: {lo_q:g}-{hi_q:g} "
                     "% interval)", fontsize=9.5)
    else:
        fig, ax = plt.subplots(figsize=(7.5, 4.8))
        ax.text(0.5, 0.5, "no bootstrap replicates in this file (bootstrap = 0)",
                ha="center", va="center", transform=ax.transAxes)
    return fig


def write_figures(path: str, outdir: str | None = None, formats=("png",)) -> list[str]:
    """Write the four figures of a sweep results file in each of ``formats`` (png, svg,
    pdf); returns their paths."""
    import matplotlib

    matplotlib.use("Agg")

    d = read_sweep(path)
    outdir = outdir or os.path.splitext(path)[0] + "_figures"
    os.makedirs(outdir, exist_ok=True)
    written = []
    for draw, name in ((_ratio_figure, "ratio_vs_pool_size"), (_beta_figure, "beta_by_pool_size"),
                       (_rho_figure, "beta_vs_rho"), (_bootstrap_figure, "bootstrap_ratio")):
        written += _finish(draw(d), d, os.path.join(outdir, name + ".png"), formats)
    return written
