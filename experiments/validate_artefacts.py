"""Artefact sensitivity: how a few grading artefacts manufacture an apparent co-failure tail.

Base laws without any common shock (a one-factor Gaussian and the 2PL benchmark law) are
contaminated with a share f of queries marked wrong for every model (``with_artefacts``),
f = 0 .. 5 %. For the whole pool we report the true beta, f + (1 - f) beta, and the ratio
beta / beta_pred, where beta_pred is the one-factor Gaussian fitted to tetrachoric
correlations: exactly (from the contaminated law's own 2 x 2 tables) and over simulated
data sets of the headline size (67 models x 330 queries; median and 5-95 % band).

An artefact query is a common shock of size f, so the ratio rises with f: a one per cent
grading failure is enough to look like a heavy co-failure tail that the Gaussian cannot
price.
"""

from __future__ import annotations

import validate_common as V

NAME = "artefacts"



def main():
    cfg, args = V.parse(NAME, __doc__)
    import jax
    import numpy as np

    from cofail_jax._src import simulate as S
    # beta_pred: the pricing core's fitted one-factor copula on each sampled matrix
    # (boundary pairs left out of the fit, the library's one rule)

    k, n, R = cfg["n_models"], cfg["n_queries"], cfg["replicates"]
    fr = np.asarray(cfg["fractions"], dtype=np.float64)
    p = 1 - np.linspace(0.3, 0.9, k)
    bases = {
        "gaussian (one factor)": S.onefactor_law(p, np.sqrt(cfg["rho"])),
        "irt (2PL, benchmark)": S.benchmark_law(k),
    }
    names = list(bases)
    key = jax.random.key(cfg["seed"])
    shape = (len(names), fr.size)
    beta_true, ratio_exact, beta_pred_exact = (np.zeros(shape) for _ in range(3))
    sim = np.full(shape + (3,), np.nan)
    beta_obs = np.full(shape + (3,), np.nan)
    for a, name in enumerate(names):
        for b, f in enumerate(fr):
            law = S.with_artefacts(bases[name], float(f))
            u = S.underpricing_curve(law, sizes=[k])
            beta_true[a, b], ratio_exact[a, b], beta_pred_exact[a, b] = (
                u.beta_true[0],
                u.ratio[0],
                u.beta_pred[0],
            )
            ratios, betas = [], []
            for r in range(R):
                err = S.sample_errors(
                    jax.random.fold_in(jax.random.fold_in(key, 100 * a + b), r), law, n
                )
                pred = float(V.fitted_prices(err, [k])[0])
                obs = err.all(axis=1).mean()
                ratios.append(obs / pred)
                betas.append(obs)
            sim[a, b] = np.percentile(ratios, [5, 50, 95])
            beta_obs[a, b] = np.percentile(betas, [5, 50, 95])
            print(
                f"{name:22s} f={f:.4f}: true beta {beta_true[a, b]:.4f}, exact ratio "
                f"{ratio_exact[a, b]:.2f}, simulated ratio median {sim[a, b, 1]:.2f} "
                f"[{sim[a, b, 0]:.2f}, {sim[a, b, 2]:.2f}]"
            )

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    pos = lambda v: np.where(v > 0, v, np.nan)
    fig, axes = plt.subplots(1, 2, figsize=(10.5, 4.0))
    for a, name in enumerate(names):
        c = f"C{a}"
        axes[0].plot(100 * fr, beta_true[a], "-", color=c, label=f"{name}: true β")
        axes[0].fill_between(
            100 * fr, pos(beta_obs[a, :, 0]), pos(beta_obs[a, :, 2]), color=c, alpha=0.15, lw=0
        )
        axes[0].plot(100 * fr, beta_pred_exact[a], "--", color=c, label=f"{name}: one-factor price")
        axes[1].plot(100 * fr, ratio_exact[a], "-o", color=c, label=f"{name}: exact")
        axes[1].fill_between(
            100 * fr, pos(sim[a, :, 0]), pos(sim[a, :, 2]), color=c, alpha=0.15, lw=0
        )
        axes[1].plot(
            100 * fr, pos(sim[a, :, 1]), "x:", color=c, label=f"{name}: median of simulations"
        )
    axes[0].set_xlabel("artefact share f (%)")
    axes[0].set_ylabel(f"β of all {k} models")
    axes[0].set_yscale("log")
    axes[0].set_title(f"β rises as f + (1−f)β; band: 5–95 % of {R} data sets, n={n}", fontsize=9)
    axes[0].legend(fontsize=7)
    axes[1].axhline(1, color="0.3", lw=0.8)
    axes[1].set_yscale("log")
    axes[1].set_xlabel("artefact share f (%)")
    axes[1].set_ylabel("β / β_pred (one-factor, tetrachoric)")
    axes[1].set_title(f"Underpricing ratio of the {k}-model pool", fontsize=9)
    axes[1].legend(fontsize=7)
    fig.tight_layout()
    tree = {
        "beta_true": beta_true,
        "beta_pred_exact": beta_pred_exact,
        "ratio_exact": ratio_exact,
        "ratio_sim_q05": sim[..., 0],
        "ratio_sim_median": sim[..., 1],
        "ratio_sim_q95": sim[..., 2],
        "beta_obs_q05": beta_obs[..., 0],
        "beta_obs_median": beta_obs[..., 1],
        "beta_obs_q95": beta_obs[..., 2],
    }
    dims = {key_: ("law", "fraction") for key_ in tree}
    V.save(
        args,
        NAME,
        cfg,
        tree,
        dims=dims,
        coords={"law": np.asarray(names, dtype=object), "fraction": fr},
        method="artefact contamination of Gaussian and 2PL laws",
        fig=fig,
    )


if __name__ == "__main__":
    main()
