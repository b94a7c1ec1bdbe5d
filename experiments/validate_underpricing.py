"""Underpricing of the all-wrong rate by a pairwise-calibrated Gaussian, by pool size.

For each law, the ratio beta_true(m) / beta_pred(m) for the first m models (a fixed random
order), where beta_pred is the one-factor Gaussian copula whose loadings are fitted to the
tetrachoric correlations of the m models. Exact curves use the law's own pairwise error
rates (no sampling: any departure from 1 is the model's, not noise); the bands are the
5-95 % range over simulated data sets (tetrachoric correlations and beta estimated from
each data set).

Under a Gaussian law the ratio is 1 at every m. Under the common-shock law it is 1 at m = 2
(the 2 x 2 table determines the bivariate normal) and grows without bound, since
beta(m) -> omega while the Gaussian price tends to 0. The Clayton law's behaviour depends
on the marginals: with hard tasks its lower-tail dependence inflates the pairwise
(tetrachoric) correlations so much that the Gaussian OVERprices larger pools at moderate m.

Clayton, D. G. (1978). Biometrika 65. Marshall, A. W. and Olkin, I. (1988). JASA 83.
"""

from __future__ import annotations

import validate_common as V

NAME = "underpricing"



def main():
    cfg, args = V.parse(NAME, __doc__)
    import jax
    import numpy as np

    from cofail_jax._src import simulate as S

    k = cfg["n_models"]
    lo, hi = cfg["accuracy_range"]
    p = 1 - np.linspace(lo, hi, k)
    om = cfg["omega"]
    laws = {
        "gaussian (one factor)": S.onefactor_law(p, np.sqrt(cfg["rho"])),
        "irt (2PL, benchmark)": S.benchmark_law(k),
        "common shock": S.common_shock_law(om, (p - om) / (1 - om)),
        "clayton": S.clayton_law(p, cfg["theta"]),
    }
    elo, ehi = cfg["extra_clayton_accuracy"]
    extra = {
        f"clayton, accuracy {elo:g}-{ehi:g} (exact only)": S.clayton_law(
            1 - np.linspace(elo, ehi, k), cfg["theta"]
        )
    }
    key = jax.random.key(cfg["seed"])
    order = np.asarray(jax.random.permutation(jax.random.fold_in(key, 10**6), k))
    sizes = np.arange(1, k + 1)
    R, n = cfg["replicates"], cfg["n_queries"]
    names = list(laws) + list(extra)
    exact = np.zeros((len(names), k))
    beta_true = np.zeros((len(names), k))
    band = np.full((len(laws), 3, k), np.nan)
    for a, name in enumerate(names):
        law = laws.get(name) or extra[name]
        u = S.underpricing_curve(law, order)
        exact[a], beta_true[a] = u.ratio, u.beta_true
        print(
            f"{name:40s} exact ratio at m=2,5,10,{k}: "
            + ", ".join(f"{u.ratio[m - 1]:.3f}" for m in (2, 5, 10, k))
        )
        if name not in laws:
            continue
        ratios = np.full((R, k), np.nan)
        for r in range(R):
            err = S.sample_errors(jax.random.fold_in(jax.random.fold_in(key, a), r), law, n)[
                :, order
            ]
            preds = V.fitted_prices(err, sizes[1:])
            for m, pred in zip(sizes[1:], preds):
                obs = err[:, :m].all(axis=1).mean()
                ratios[r, m - 1] = obs / pred
        band[a][:, 1:] = np.percentile(ratios[:, 1:], [5, 50, 95], axis=0)
        print(
            f"{'':40s} simulated median at m=2,5,10,{k}: "
            + ", ".join(f"{band[a, 1, m - 1]:.3f}" for m in (2, 5, 10, k))
        )

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7.5, 4.6))
    for a, name in enumerate(names):
        ax.plot(
            sizes[1:],
            exact[a, 1:],
            color=f"C{a}",
            lw=2 if a < len(laws) else 1.2,
            ls="-" if a < len(laws) else ":",
            label=name,
        )
        if a < len(laws):
            ax.fill_between(
                sizes[1:],
                np.maximum(band[a, 0, 1:], 1e-2),
                band[a, 2, 1:],
                color=f"C{a}",
                alpha=0.15,
                lw=0,
            )
    ax.axhline(1, color="0.3", lw=0.8)
    ax.set_yscale("log")
    ax.set_ylim(0.1, max(100, float(exact.max()) * 1.5))
    ax.set_xlabel("pool size m (first m models of a fixed random order)")
    ax.set_ylabel("β_true / β_pred (one-factor, tetrachoric)")
    ax.set_title(
        f"Underpricing by pool size: lines exact, bands 5–95 % of {R} data sets of n={n}",
        fontsize=9,
    )
    ax.legend(fontsize=7, loc="upper left")
    fig.tight_layout()
    tree = {
        "ratio_exact": exact,
        "beta_true": beta_true,
        "ratio_sim_q05": band[:, 0],
        "ratio_sim_median": band[:, 1],
        "ratio_sim_q95": band[:, 2],
        "order": order,
        "p_wrong": p,
    }
    dims = {
        "ratio_exact": ("law", "m"),
        "beta_true": ("law", "m"),
        "ratio_sim_q05": ("sim_law", "m"),
        "ratio_sim_median": ("sim_law", "m"),
        "ratio_sim_q95": ("sim_law", "m"),
        "order": ("m",),
        "p_wrong": ("m",),
    }
    V.save(
        args,
        NAME,
        cfg,
        tree,
        dims=dims,
        coords={
            "law": np.asarray(names, dtype=object),
            "sim_law": np.asarray(list(laws), dtype=object),
            "m": sizes,
        },
        method="one-factor Gaussian priced from tetrachoric correlations vs the law's beta",
        fig=fig,
    )


if __name__ == "__main__":
    main()
