"""Coverage of Clopper-Pearson intervals on beta and of the certificate's gain bound.

For each law and number of queries n, draw many outcome matrices, compute

* the two-sided Clopper-Pearson interval on beta (level 1 - alpha): does it contain the
  law's true beta?
* the certificate's gain bound (1 - beta_lower) - asb_lower (beta lower limit at delta/2,
  single-best lower limit at delta/(2k), Bonferroni over the in-sample choice): is the true
  gain G = (1 - beta) - max_i acc_i below it?
* the UNSOUND pairing (1 - beta_lower) - asb_upper, a lower beta limit with an upper
  single-best limit: it should bound G from above but fails far more often than delta.

Clopper, C. J. and Pearson, E. S. (1934). The use of confidence or fiducial limits
illustrated in the case of the binomial. Biometrika 26.
"""

from __future__ import annotations

import validate_common as V

NAME = "coverage"


def main():
    cfg, args = V.parse(NAME, __doc__)
    import jax
    import numpy as np

    from cofail_jax._src import simulate as S
    from cofail_jax._src.certificate import clopper_pearson, cp_lower, cp_upper

    k = cfg["n_models"]
    acc = np.linspace(0.3, 0.9, k)
    laws = {
        "common_shock": S.common_shock_law(
            cfg["omega"], (1 - acc - cfg["omega"]) / (1 - cfg["omega"])
        ),
        "irt": S.benchmark_law(k),
    }
    names = cfg["laws"]
    sizes = np.asarray(cfg["sizes"])
    R = cfg["replicates"]
    alpha, delta = cfg["alpha"], cfg["delta"]
    key = jax.random.key(cfg["seed"])
    shape = (len(names), len(sizes))
    cov_beta, cov_cert, cov_unsound = (np.zeros(shape) for _ in range(3))
    mean_bound, true_gain, true_beta = np.zeros(shape), np.zeros(len(names)), np.zeros(len(names))
    for a, name in enumerate(names):
        law = laws[name]
        tb = S.true_beta(law).beta
        gain = (1 - tb) - (1 - law.marginal_error).max()
        true_beta[a], true_gain[a] = tb, gain
        for b, n in enumerate(sizes):
            # one long draw, cut into R data sets of n queries (rows are independent)
            err = S.sample_errors(
                jax.random.fold_in(jax.random.fold_in(key, a), int(n)), law, int(n) * R
            )
            err = err.reshape(R, int(n), k)
            K = err.all(axis=2).sum(axis=1)
            best = (~err).sum(axis=1).max(axis=1)
            lo, hi = clopper_pearson(K, n, alpha)
            cov_beta[a, b] = np.mean((lo <= tb) & (tb <= hi))
            beta_lo = cp_lower(K, n, delta / 2)
            bound = (1 - beta_lo) - cp_lower(best, n, delta / (2 * k))
            unsound = (1 - beta_lo) - cp_upper(best, n, delta / 2)
            cov_cert[a, b] = np.mean(gain <= bound)
            cov_unsound[a, b] = np.mean(gain <= unsound)
            mean_bound[a, b] = bound.mean()
            print(
                f"{name:13s} n={n:5d}: beta CP coverage {cov_beta[a, b]:.3f}, certificate "
                f"{cov_cert[a, b]:.3f}, unsound pairing {cov_unsound[a, b]:.3f} "
                f"(true beta {tb:.4f}, true gain {gain:.4f}, mean bound {mean_bound[a, b]:.4f})"
            )
    mc_se = np.sqrt(0.95 * 0.05 / R)

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(names), figsize=(5.2 * len(names), 3.8), squeeze=False)
    for a, name in enumerate(names):
        ax = axes[0, a]
        ax.axhspan(
            1 - alpha - 2 * mc_se, 1 - alpha + 2 * mc_se, color="0.88", label="nominal ± 2 MC s.e."
        )
        ax.axhline(1 - alpha, color="0.4", lw=0.8)
        ax.plot(sizes, cov_beta[a], "o-", label=f"CP interval on β ({1 - alpha:.0%})")
        ax.plot(sizes, cov_cert[a], "s-", label=f"certificate gain bound ({1 - delta:.0%})")
        ax.plot(sizes, cov_unsound[a], "x--", color="C3", label="unsound: β lower + best upper")
        ax.set_xscale("log")
        ax.set_ylim(-0.02, 1.02)
        ax.set_xlabel("queries n")
        ax.set_ylabel("coverage over simulated data sets")
        ax.set_title(
            f"{name} law, k={k}: β={true_beta[a]:.3f}, gain={true_gain[a]:.3f}", fontsize=9
        )
        if a == 0:
            ax.legend(fontsize=7, loc="center left")
    fig.suptitle(f"Coverage over {R} data sets per point", fontsize=10)
    fig.tight_layout()
    tree = {
        "coverage_beta": cov_beta,
        "coverage_certificate": cov_cert,
        "coverage_unsound": cov_unsound,
        "mean_gain_bound": mean_bound,
        "true_beta": true_beta,
        "true_gain": true_gain,
        "mc_se_at_nominal": mc_se,
    }
    dims = {
        k_: ("law", "n")
        for k_ in ("coverage_beta", "coverage_certificate", "coverage_unsound", "mean_gain_bound")
    }
    dims.update({"true_beta": ("law",), "true_gain": ("law",)})
    V.save(
        args,
        NAME,
        cfg,
        tree,
        dims=dims,
        coords={"law": np.asarray(names, dtype=object), "n": sizes},
        method="clopper-pearson coverage by simulation",
        fig=fig,
    )


if __name__ == "__main__":
    main()
