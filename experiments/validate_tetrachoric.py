"""Bias and spread of the tetrachoric estimator against the true latent correlation.

Pairs of error indicators are drawn from a bivariate Gaussian latent law with known rho;
each data set's tetrachoric rho (the project's engine, ``cofail_jax._src.tetrachoric``)
is compared with the truth as n grows from 100 to 10,000. Reported: bias, standard
deviation, RMSE, the mean reported standard error (delta method), the coverage of
rho +- 1.96 se, and the share of boundary (empty-cell) data sets, which are excluded
from the moments.

Pearson, K. (1900). On the correlation of characters not quantitatively measurable.
Phil. Trans. R. Soc. A 195. Olsson, U. (1979). Maximum likelihood estimation of the
polychoric correlation coefficient. Psychometrika 44.
"""

from __future__ import annotations

import validate_common as V

NAME = "tetrachoric"


def main():
    cfg, args = V.parse(NAME, __doc__)
    import jax
    import numpy as np

    from cofail_jax._src import simulate as S
    from cofail_jax._src.tetrachoric import tetrachoric

    p = np.asarray(cfg["p_wrong"], dtype=np.float64)
    rhos, sizes, R = np.asarray(cfg["rhos"]), np.asarray(cfg["sizes"]), cfg["replicates"]
    key = jax.random.key(cfg["seed"])
    shape = (len(rhos), len(sizes))
    bias, sd, rmse, mean_se, cover, boundary = (np.full(shape, np.nan) for _ in range(6))

    def one(e):
        t = tetrachoric(e)
        return t.rho[0, 1], t.se[0, 1], t.status[0, 1]

    fn = jax.jit(jax.vmap(one))
    for a, rho in enumerate(rhos):
        c = np.array([[1.0, rho], [rho, 1.0]])
        law = S.gaussian_law(p, c)
        for b, n in enumerate(sizes):
            err = S.sample_errors(
                jax.random.fold_in(jax.random.fold_in(key, a), int(n)), law, int(n) * R
            )
            err = err.reshape(R, int(n), 2)
            r, se, status = (np.asarray(x) for x in fn(err))
            ok = status == 0
            d = r[ok] - rho
            bias[a, b], sd[a, b] = d.mean(), d.std(ddof=1)
            rmse[a, b] = np.sqrt(np.mean(d**2))
            mean_se[a, b] = se[ok].mean()
            cover[a, b] = np.mean(np.abs(d) <= 1.96 * se[ok])
            boundary[a, b] = 1 - ok.mean()
            print(
                f"rho={rho:.2f} n={n:6d}: bias {bias[a, b]:+.4f} (MC se {sd[a, b] / np.sqrt(ok.sum()):.4f}), "
                f"sd {sd[a, b]:.4f}, mean se {mean_se[a, b]:.4f}, 95% coverage {cover[a, b]:.3f}, "
                f"boundary {boundary[a, b]:.3f}"
            )

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(10, 3.8))
    for a, rho in enumerate(rhos):
        axes[0].errorbar(
            sizes * (1 + 0.04 * (a - 1)),
            bias[a],
            yerr=sd[a],
            fmt="o-",
            capsize=3,
            label=f"ρ = {rho:g}",
        )
        axes[1].plot(sizes, sd[a], "o-", color=f"C{a}", label=f"empirical sd, ρ = {rho:g}")
        axes[1].plot(
            sizes, mean_se[a], "x--", color=f"C{a}", label=f"mean reported se, ρ = {rho:g}"
        )
    axes[0].axhline(0, color="0.4", lw=0.8)
    axes[0].set_xscale("log")
    axes[0].set_xlabel("queries n")
    axes[0].set_ylabel("estimate − true ρ  (mean ± sd)")
    axes[0].set_title(
        f"Tetrachoric bias and spread, p_wrong = {tuple(float(x) for x in p)}", fontsize=9
    )
    axes[0].legend(fontsize=7)
    axes[1].set_xscale("log")
    axes[1].set_yscale("log")
    axes[1].set_xlabel("queries n")
    axes[1].set_ylabel("spread of the estimate")
    axes[1].set_title(f"sd over {R} data sets vs delta-method se", fontsize=9)
    axes[1].legend(fontsize=6, ncol=2)
    fig.tight_layout()
    tree = {
        "bias": bias,
        "sd": sd,
        "rmse": rmse,
        "mean_se": mean_se,
        "coverage_95": cover,
        "boundary_share": boundary,
        "p_wrong": p,
    }
    dims = {
        k: ("rho", "n") for k in ("bias", "sd", "rmse", "mean_se", "coverage_95", "boundary_share")
    }
    V.save(
        args,
        NAME,
        cfg,
        tree,
        dims=dims,
        coords={"rho": rhos, "n": sizes},
        method="tetrachoric (cofail_jax._src.tetrachoric) on simulated Gaussian pairs",
        fig=fig,
    )


if __name__ == "__main__":
    main()
