"""``cofail price``: observed beta against what latent-copula models predict for it."""

from __future__ import annotations

import sys

import numpy as np

from .common import (
    add_seed_arg,
    add_command,
    add_input_args,
    add_output_args,
    count,
    finish,
    fmt_table,
    input_path,
    load_input,
    open_probability,
)

MODELS = ("one-factor", "one-factor-fitted", "gaussian", "clayton")
METHODS = ("auto", "quadrature", "mc", "qmc", "tilting")

EXAMPLES = """\
  cofail price                                        # the embedded example, every model
  cofail price results.csv --model gaussian --method tilting --samples 65536
  cofail price results.csv --model one-factor-fitted --json
  cofail price results.csv --method mc --samples 100000000 --seed 7 --out price.h5
"""


def add_parser(sub) -> None:
    p = add_command(
        sub, "price", help="observed beta vs the beta that latent copulas predict (underpricing)",
        description="Fits latent models to the pairwise error structure (tetrachoric "
                    "correlations, thresholds from each model's error rate) and prices the "
                    "all-wrong probability beta under each: the equal-loading one-factor "
                    "Gaussian copula (loading sqrt of the mean tetrachoric), the fitted "
                    "one-factor copula, the full Gaussian copula on the repaired tetrachoric "
                    "matrix, and the Clayton copula calibrated to the mean pairwise "
                    "both-wrong rate. Prints observed beta with its Clopper-Pearson interval, "
                    "each prediction with its error, method and sample count, and the "
                    "underpricing ratio beta_obs / beta_pred. Models that are always right "
                    "or always wrong have no finite threshold and are dropped with a note.",
        examples=EXAMPLES)
    add_input_args(p)
    p.add_argument("--model", default="all", choices=MODELS + ("all",),
                   help="which latent model to price")
    p.add_argument("--method", default="auto", choices=METHODS,
                   help="estimator: one-factor models use quadrature under 'auto'; the full "
                        "Gaussian uses QMC-SOV, or minimax tilting when beta < 1e-4; "
                        "mc/qmc/tilting price every Gaussian model by that estimator on its "
                        "full matrix; the Clayton copula is closed form unless 'mc'")
    p.add_argument("--samples", type=count(1, 2**34), default=None,
                   help="draws/points (default 2^16 for qmc/tilting/clayton, 2^22 for mc)")
    add_seed_arg(p, "PRNG seed")
    p.add_argument("--alpha", type=open_probability, default=0.05,
                   help="two-sided Clopper-Pearson interval on observed beta at 1 - alpha")
    add_output_args(p)
    try:  # --audit SHEET: price the matrix with adjudicated grading artefacts dropped
        from .audit import add_audit_option
    except ImportError:  # pragma: no cover - the audit command is optional
        pass
    else:
        add_audit_option(p)
    p.set_defaults(func=run)


def _repair(rho):
    """Positive-definite correlation matrix near the tetrachoric one (Higham, floor 1e-3)."""
    from .._src.repair import nearest_correlation

    res = nearest_correlation(np.nan_to_num(rho, nan=0.0), eps=1e-3)
    return np.asarray(res.corr), {"frobenius_distance": float(res.frobenius_distance),
                                  "min_eig_before": float(res.min_eig_before),
                                  "converged": bool(res.converged)}


def _orthant(method, n, key, tau, corr):
    import jax.numpy as jnp

    from .._src.orthant import METHODS as OM, STATUS_MESSAGES, mvn_orthant

    r = mvn_orthant(key, jnp.asarray(tau), jnp.asarray(corr), method=method, n_samples=n)
    status = STATUS_MESSAGES[int(r.status)]
    if int(r.hits) == 0:
        status = (f"0 hits in {int(r.n_samples):,} draws: beta is below about "
                  f"{3 / int(r.n_samples):.2g} (95 %); use --method tilting or qmc")
    return {"beta": float(r.prob), "std_err": float(r.std_err), "log_beta": float(r.log_prob),
            "method": OM[int(r.method)], "n_samples": int(r.n_samples), "status": status}


def price_matrix(m, *, models=MODELS, method="auto", samples=None, seed=0, alpha=0.05):
    """Everything ``cofail price`` reports, as a plain dict (used by the CLI and tests)."""
    import jax
    import jax.numpy as jnp

    from .._src.certificate import clopper_pearson
    from .._src.clayton import calibrate_clayton, clayton_beta, clayton_beta_exact
    from .._src.errors import InputError
    from .._src.onefactor import (
        effective_correlation,
        equal_loading_log_beta,
        fit_loadings,
        onefactor_log_beta,
    )
    from .._src.tetrachoric import tetrachoric

    notes = []
    dropped = m.degenerate_models()
    if dropped:
        notes.append("dropped (no finite threshold): "
                     + ", ".join(f"{n} ({why})" for n, why in dropped))
        if any(why == "always right" for _, why in dropped):
            notes.append("a model that is always right makes the full pool's beta 0; "
                         "beta below is for the remaining models")
        keep = [n for n in m.models if n not in {d for d, _ in dropped}]
        if len(keep) < 2:
            raise InputError(f"only {len(keep)} model(s) left after dropping always-right/"
                             "always-wrong models", source=m.source, where="models",
                             hint="pricing needs at least two models with 0 < accuracy < 1")
        m = m.select_models(keep)
    errors = ~np.asarray(m.correct, bool)
    n, k = errors.shape
    K = int(np.all(errors, axis=1).sum())
    lo, hi = clopper_pearson(K, n, alpha)
    beta_obs = K / n
    tc = tetrachoric(jnp.asarray(errors))
    tau = np.asarray(tc.tau)
    rho = np.asarray(tc.rho)
    status = np.asarray(tc.status)
    ok = (status == 0) & ~np.eye(k, dtype=bool)
    mean_rho = float(tc.mean_rho)
    p_wrong = errors.mean(axis=0)
    nsamp = samples
    key = jax.random.key(seed)
    preds = {}
    extras = {"mean_tetrachoric": mean_rho, "mean_phi": float(tc.mean_phi),
              "n_pairs_ok": int(tc.n_ok), "n_pairs_boundary": int(tc.n_boundary)}

    def gaussian_pred(name, corr, quad_log):
        if method in ("auto", "quadrature") and quad_log is not None:
            lb = float(quad_log)
            return {"beta": float(np.exp(lb)), "std_err": 0.0, "log_beta": lb,
                    "method": "quadrature", "n_samples": 0,
                    "status": "ok (relative error < 1e-8)"}
        if method == "quadrature":
            raise InputError(f"the {name} model has no one-dimensional integral",
                             where="--method quadrature",
                             hint="use --method auto, qmc, tilting or mc for the full Gaussian")
        est = "auto" if method == "auto" else method
        ns = nsamp or (2 ** 22 if est == "mc" else 2 ** 16)
        return _orthant(est, ns, jax.random.fold_in(key, len(preds)), tau, corr)

    if "one-factor" in models:
        lam = np.full(k, np.sqrt(max(mean_rho, 0.0)))
        corr = np.outer(lam, lam)
        np.fill_diagonal(corr, 1.0)
        lq = equal_loading_log_beta(jnp.asarray(tau), mean_rho)
        preds["one-factor"] = gaussian_pred("one-factor", corr, lq)
        preds["one-factor"]["rho_bar"] = mean_rho
    if "one-factor-fitted" in models:
        fit = fit_loadings(jnp.asarray(np.where(ok, rho, 0.0)), jnp.asarray(ok, float))
        lam = np.asarray(fit.loadings)
        corr = np.outer(lam, lam)
        np.fill_diagonal(corr, 1.0)
        lq = onefactor_log_beta(jnp.asarray(tau), jnp.asarray(lam))
        preds["one-factor-fitted"] = gaussian_pred("one-factor-fitted", corr, lq)
        preds["one-factor-fitted"].update(
            residual_rms=float(fit.residual_rms), max_residual=float(fit.max_residual),
            fit_status="ok" if int(fit.status) == 0 else "a loading is at the boundary "
                                                            "(|lambda| > 0.999)",
            loadings=lam)
    if "gaussian" in models:
        corr, rep = _repair(rho)
        if method == "quadrature":
            raise InputError("the full Gaussian copula has no one-dimensional integral",
                             where="--method quadrature",
                             hint="use --method auto, qmc, tilting or mc, or --model one-factor")
        preds["gaussian"] = gaussian_pred("gaussian", corr, None)
        preds["gaussian"]["repair"] = rep
    if "clayton" in models:
        iu = np.triu_indices(k, 1)
        both = (errors.T.astype(float) @ errors.astype(float)) / n
        target = float(both[iu].mean())
        cf = calibrate_clayton(None, jnp.asarray(p_wrong), target)
        theta = float(cf.theta)
        if method == "mc":
            ns = nsamp or 2 ** 16
            b, se = clayton_beta(jax.random.fold_in(key, 99), jnp.asarray(p_wrong), theta, ns)
            c = {"beta": float(b), "std_err": float(se), "method": "mc (gamma frailty)",
                 "n_samples": ns}
        else:
            b = float(clayton_beta_exact(jnp.asarray(p_wrong), theta))
            c = {"beta": b, "std_err": 0.0, "method": "closed form", "n_samples": 0}
        c.update(log_beta=float(np.log(c["beta"])) if c["beta"] > 0 else -np.inf,
                 theta=theta, tail_dependence=float(cf.tail_dependence),
                 p_both_mean=target,
                 status={0: "ok", 1: "no positive dependence: theta at its floor",
                         2: "theta at its ceiling"}[int(cf.status)])
        preds["clayton"] = c
    for p in preds.values():
        b = p["beta"]
        p["ratio"] = beta_obs / b if b > 0 else np.inf
        p["ratio_ci"] = [float(lo) / b if b > 0 else np.inf, float(hi) / b if b > 0 else np.inf]
    eff = float(effective_correlation(jnp.asarray(tau), beta_obs)) if K > 0 else np.nan
    extras["effective_correlation"] = eff
    return {"source": m.source, "n": n, "k": k, "K": K, "beta_obs": beta_obs,
            "beta_obs_ci": [float(lo), float(hi)], "alpha": alpha, "models": list(m.models),
            "tau": tau, "predictions": preds, "notes": notes, **extras}


def run(args) -> int:
    from .._src.errors import InputError
    from .._src.h5 import provenance

    if not 0 < args.alpha < 1:
        raise InputError(f"must lie strictly between 0 and 1, got {args.alpha}", where="--alpha",
                         hint="for 95 % intervals use 0.05")
    if args.samples is not None and args.samples < 2:
        raise InputError(f"must be at least 2, got {args.samples}", where="--samples",
                         hint="for example --samples 65536")
    if args.method == "quadrature" and args.model in ("gaussian", "clayton"):
        raise InputError(f"--model {args.model} cannot be priced by quadrature",
                         where="--method quadrature",
                         hint="quadrature is for --model one-factor / one-factor-fitted")
    m = load_input(args)
    if getattr(args, "audit", None):
        from .audit import audited_matrix

        m = audited_matrix(args, m)
    models = MODELS if args.model == "all" else (args.model,)
    if args.method == "quadrature" and args.model == "all":
        models = ("one-factor", "one-factor-fitted")
    res = price_matrix(m, models=models, method=args.method, samples=args.samples,
                       seed=args.seed, alpha=args.alpha)
    prov = provenance(input_path=input_path(args), seed=args.seed,
                      method=f"tetrachoric + {args.method}",
                      config={"model": args.model, "method": args.method,
                              "samples": args.samples, "alpha": args.alpha,
                              "audit": getattr(args, "audit", None)},
                      extra={"pricing_methods": {k: v["method"] for k, v in res["predictions"].items()},
                             "n_samples": {k: v["n_samples"] for k, v in res["predictions"].items()}})
    for note in res["notes"]:
        print(f"note: {note}", file=sys.stderr)
    if args.out:
        _write(args.out, res, prov)
    return finish(args, "price", res, prov, lambda: render(res))


def _write(path, res, prov):
    from .._src.h5 import write_results

    tree = {"observed": {"beta": res["beta_obs"], "beta_ci_lower": res["beta_obs_ci"][0],
                         "beta_ci_upper": res["beta_obs_ci"][1], "K": res["K"], "n": res["n"],
                         "mean_tetrachoric": res["mean_tetrachoric"],
                         "effective_correlation": res["effective_correlation"],
                         "tau": np.asarray(res["tau"]),
                         "model": np.asarray(res["models"], dtype=object)},
            "predictions": {}}
    dims = {"observed/tau": ("model_index",), "observed/model": ("model_index",)}
    for name, p in res["predictions"].items():
        g = {}
        for key, v in p.items():
            if isinstance(v, dict):
                for k2, v2 in v.items():
                    g[f"{key}_{k2}"] = v2
            elif key == "ratio_ci":
                g["ratio_ci_lower"], g["ratio_ci_upper"] = v
            elif key == "loadings":
                g[key] = np.asarray(v)
                dims[f"predictions/{name}/loadings"] = ("model_index",)
            else:
                g[key] = v
        tree["predictions"][name] = g
    write_results(path, tree, attrs=prov, dims=dims)


def render(res) -> str:
    lo, hi = res["beta_obs_ci"]
    lines = [f"input: {res['source']}",
             fmt_table([
                 ("queries n / models k", f"{res['n']} / {res['k']}"),
                 ("observed beta = K/n", f"{res['beta_obs']:.4g} ({res['K']}/{res['n']})  "
                                         f"[{lo:.4g}, {hi:.4g}] "
                                         f"({1 - res['alpha']:.0%} Clopper-Pearson)"),
                 ("mean tetrachoric rho", f"{res['mean_tetrachoric']:.4f}  (mean phi "
                                          f"{res['mean_phi']:.4f}; {res['n_pairs_ok']} pairs ok, "
                                          f"{res['n_pairs_boundary']} at the boundary)"),
                 ("effective correlation", "n/a (no all-wrong query)"
                  if not np.isfinite(res["effective_correlation"])
                  else f"{res['effective_correlation']:.4f}  (equal-loading rho that "
                       "reproduces observed beta)"),
             ]), ""]
    rows = []
    for name, p in res["predictions"].items():
        err = (f"{p['std_err']:.2g}" if p["std_err"] > 0 else
               "<1e-8 rel" if p["method"] == "quadrature" else "exact")
        samples = "-" if not p["n_samples"] else f"{p['n_samples']:,}"
        rl, rh = p["ratio_ci"]
        rows.append((name, f"{p['beta']:.4g}", err, p["method"], samples,
                     f"{p['ratio']:.3g}  [{rl:.3g}, {rh:.3g}]"))
    lines.append(fmt_table(rows, header=("model", "predicted beta", "std err", "method",
                                         "samples", "beta_obs / beta_pred [CI]")))
    extra = []
    p = res["predictions"]
    if "one-factor" in p:
        extra.append(f"one-factor: loading sqrt({p['one-factor']['rho_bar']:.4f}) for every model")
    if "one-factor-fitted" in p:
        q = p["one-factor-fitted"]
        extra.append(f"one-factor-fitted: residual rms {q['residual_rms']:.4f}, max "
                     f"{q['max_residual']:.4f} ({q['fit_status']})")
    if "gaussian" in p:
        r = p["gaussian"]["repair"]
        extra.append(f"gaussian: tetrachoric matrix repaired (Frobenius distance "
                     f"{r['frobenius_distance']:.3g}, min eigenvalue before "
                     f"{r['min_eig_before']:.3g}); {p['gaussian']['status']}")
    if "clayton" in p:
        c = p["clayton"]
        extra.append(f"clayton: theta {c['theta']:.4g} (mean pairwise both-wrong "
                     f"{c['p_both_mean']:.4g}), lower-tail dependence {c['tail_dependence']:.3f}; "
                     f"{c['status']}")
    lines += [""] + extra
    lines.append("ratio > 1: the model underprices the all-wrong tail (CI from observed beta).")
    return "\n".join(lines)
