"""``correlations --out``: the tetrachoric correlations as a clustered heatmap."""

from __future__ import annotations

from typing import Any

import numpy as np

from . import Figures
from ._common import caption, finish, tick_labels


def cluster_order(rho: np.ndarray) -> np.ndarray:
    """Leaves order of average-linkage clustering on the distance 1 - rho (NaN as 0)."""
    from scipy.cluster.hierarchy import leaves_list, linkage
    from scipy.spatial.distance import squareform

    k = rho.shape[0]
    if k < 3:
        return np.arange(k)
    r = np.nan_to_num(np.asarray(rho, float), nan=0.0)
    r = (r + r.T) / 2
    d = np.clip(1.0 - r, 0.0, 2.0)
    np.fill_diagonal(d, 0.0)
    return leaves_list(linkage(squareform(d, checks=False), method="average"))


def draw(tree: dict[str, Any]) -> list[tuple[str, Any]]:
    import matplotlib.pyplot as plt

    g = tree["correlations"]
    rho = np.asarray(g["rho"], float)
    models = list(g["model"])
    k = len(models)
    order = cluster_order(rho)
    r = rho[np.ix_(order, order)].copy()
    np.fill_diagonal(r, np.nan)
    off = np.abs(r[np.isfinite(r)])
    lim = min(1.0, max(0.2, np.ceil(10 * off.max()) / 10)) if off.size else 1.0
    size = max(4.8, min(16.0, 0.26 * k + 3.2))
    fig, ax = plt.subplots(figsize=(size + 1.2, size))
    im = ax.imshow(np.ma.masked_invalid(r), cmap="RdBu_r", vmin=-lim, vmax=lim,
                   interpolation="nearest")
    ax.set_facecolor("0.9")  # the diagonal and undefined pairs (a constant column) in grey
    names = [models[i] for i in order]
    tick_labels(ax, "x", names, max_labels=60)
    tick_labels(ax, "y", names, max_labels=60)
    if k <= 12:
        for i in range(k):
            for j in range(k):
                if i != j and np.isfinite(r[i, j]):
                    ax.text(j, i, f"{r[i, j]:.2f}", ha="center", va="center", fontsize=7,
                            color="white" if abs(r[i, j]) > 0.6 else "black")
    fig.colorbar(im, ax=ax, fraction=0.046, pad=0.03,
                 label="tetrachoric ρ of the models' errors")
    ax.set_title("Error correlations, clustered (average linkage on 1 - ρ)")
    mean = g.get("mean_rho")
    parts = [f"n = {g.get('n_queries', '?')} queries, k = {k} models",
             f"mean ρ = {float(mean):.3f} over {g.get('mean_over', 'pairs')}" if mean is not None
             else "", f"{g.get('n_boundary', 0)} boundary pairs (ρ = ±1, no standard error)",
             "grey: the diagonal and undefined pairs"]
    return [("rho_heatmap", finish(fig, caption(tree, *parts)))]


FIGURES = Figures("correlations", ("rho_heatmap",), draw)
