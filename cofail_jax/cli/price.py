"""``cofail price``: observed beta against what latent-copula models predict for it."""

from __future__ import annotations

import argparse
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

from .._src.copulas import ALIASES, NAMES

COPULAS = NAMES
METHODS = ("auto", "quadrature", "mc", "qmc", "tilting")
FACTOR_METHODS = ("quadrature", "mc", "qmc", "tilting")

EXAMPLES = """\
  cofail price                                        # the embedded example, every copula
  cofail price results.csv --copula gaussian --method tilting --samples 65536
  cofail price results.csv --copula fitted_loading --json
  cofail price results.csv --copula student_t --nu 3
  cofail price results.csv --seed 0                   # = the sweep's k = K row (same defaults)
  cofail price results.csv --rel-error 0.001          # QMC to 0.1 % relative error
  cofail price results.csv --method mc --samples 100000000 --seed 7 --out price.h5
"""


class _OldOption(argparse.Action):
    """A hidden old name of an option: works the same, with one note on stderr."""

    def __init__(self, *args, new: str, **kw):
        self.new = new
        super().__init__(*args, **kw)

    def __call__(self, parser, namespace, values, option_string=None):
        print(f"note: {option_string} is deprecated; use {self.new} (it works the same)",
              file=sys.stderr)
        setattr(namespace, self.dest, values)


def add_parser(sub) -> None:
    p = add_command(
        sub, "price", help="observed beta vs the beta that latent copulas predict (underpricing)",
        description="Fits latent models to the pairwise error structure (tetrachoric "
                    "correlations, thresholds from each model's error rate) and prices the "
                    "all-wrong probability beta under each copula of the registry: "
                    "equal_loading (one-factor, loading sqrt of the mean tetrachoric), "
                    "fitted_loading (one-factor, loadings fitted), gaussian (the repaired "
                    "tetrachoric matrix), clayton (theta from the mean pairwise both-wrong "
                    "rate) and student_t (t correlations reproducing every pair's both-wrong "
                    "rate at --nu). The same pricing core and defaults as 'cofail sweep': with "
                    "the same seed (and the sweep's rel_error, orthant_samples, nu), the "
                    "numbers equal its k = K row. "
                    "Prints observed beta with its Clopper-Pearson interval, "
                    "each prediction with its error, method and sample count, and the "
                    "underpricing ratio beta_obs / beta_pred. Models that are always right "
                    "or always wrong have no finite threshold and are dropped with a note.",
        examples=EXAMPLES)
    add_input_args(p)
    choices = COPULAS + tuple(ALIASES) + ("all",)
    p.add_argument("--copula", default="all", choices=choices,
                   help="which copula to price (old names one-factor, one-factor-fitted still "
                        "work)")
    # the option's old name (before 'copula' was the one name of the concept)
    p.add_argument("--model", dest="copula", choices=choices, default=argparse.SUPPRESS,
                   action=_OldOption, new="--copula", help=argparse.SUPPRESS)
    p.add_argument("--method", default="qmc", choices=METHODS,
                   help="estimator of the full-matrix copulas (gaussian, student_t): 'qmc' "
                        "(default) is QMC-SOV grown to --rel-error; 'auto' is QMC-SOV with "
                        "minimax tilting for the gaussian when beta < 1e-4; mc/tilting use "
                        "that estimator (the Clayton copula is closed form unless 'mc'); "
                        "'quadrature' prices the one-factor copulas only")
    p.add_argument("--factor-method", default="quadrature", choices=FACTOR_METHODS,
                   help="estimator of the one-factor copulas: 1-D quadrature (default), or an "
                        "orthant estimator on their full matrix")
    p.add_argument("--samples", type=count(1, 2**34), default=None,
                   help="fixed draws/points (default: qmc grows to --rel-error, at most "
                        "2^16 points; 2^16 for tilting/auto, 2^22 for mc)")
    p.add_argument("--rel-error", type=open_probability, default=None,
                   help="qmc: target relative standard error (default 0.01, as the sweep); "
                        "points grow from 1,024 (doubling to 8,192, then by 8,192) until it is "
                        "reached or --max-samples")
    p.add_argument("--max-samples", type=count(1024, 2**34), default=None,
                   help="qmc: cap on points when growing to --rel-error (default 2^16)")
    p.add_argument("--nu", type=float, default=4.0,
                   help="degrees of freedom of the student_t copula (default 4)")
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


def _scalar(v):
    a = np.asarray(v)
    if a.ndim:
        return a.astype(float) if a.dtype.kind == "f" else a
    return bool(a) if a.dtype == bool else int(a) if a.dtype.kind in "iu" else float(a)


def _drop_degenerate(m, notes):
    """The matrix without always-right/always-wrong models (a note says which and why)."""
    from .._src.errors import InputError

    dropped = m.degenerate_models()
    if not dropped:
        return m
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
    return m.select_models(keep)


def _check_copulas(copulas, method, notes):
    """Canonical copula names that ``method`` can price (student_t dropped for tilting)."""
    from .._src import copulas as C
    from .._src.errors import InputError

    copulas = tuple(C.canonical(x, where="--copula") for x in copulas)
    if method == "quadrature":
        bad = [x for x in copulas if x not in ("equal_loading", "fitted_loading")]
        if bad:
            raise InputError(f"the {bad[0]} copula has no one-dimensional integral",
                             where="--method quadrature",
                             hint="use --method auto, qmc, tilting or mc for the full-matrix copulas")
    if method == "tilting" and "student_t" in copulas:
        if len(copulas) == 1:
            raise InputError("minimax tilting is not available for the student_t copula",
                             where="--method tilting", hint="use --method qmc or mc")
        copulas = tuple(x for x in copulas if x != "student_t")
        notes.append("student_t left out: minimax tilting is not available for it (use qmc or mc)")
    return copulas


def _prediction(r, i, c, opts, beta_obs, lo, hi):
    """One copula's entry of ``predictions``: estimate, error, status, summary and ratio."""
    from .._src import copulas as C

    b = float(r.beta_pred[i])
    how = C.ESTIMATORS[int(r.method[i])]
    status = C.STATUS_MESSAGES.get(int(r.status[i]), f"status {int(r.status[i])}")
    if how == "quadrature":
        status = "ok (relative error < 1e-8)" if int(r.status[i]) == 0 else status
    if how == "mc" and b == 0 and int(r.status[i]) == 0:
        nn = int(r.n_samples[i])
        status = (f"0 hits in {nn:,} draws: beta is below about {3 / nn:.2g} (95 %); "
                  "use --method qmc")
    se = float(r.beta_pred_se[i])
    p = {"beta": b, "std_err": se, "rel_error": se / b if b > 0 else float("nan"),
         "log_beta": float(r.log_beta_pred[i]),
         "method": how, "n_samples": int(r.n_samples[i]), "status": status,
         "label": c.label}
    if how == "qmc" and opts.target() is not None:
        p["rel_error_target"] = opts.target()
    p.update({key_: _scalar(v) for key_, v in r.summaries[i].items()})
    p["ratio"] = beta_obs / b if b > 0 else np.inf
    p["ratio_ci"] = [lo / b if b > 0 else np.inf, hi / b if b > 0 else np.inf]
    return p


def price_matrix(m, *, copulas=COPULAS, method="qmc", samples=None, seed=0, alpha=0.05,
                 nu=4.0, factor_method="quadrature", rel_error=None, max_samples=None):
    """Everything ``cofail price`` reports, as a plain dict (used by the CLI and tests).

    The numbers come from :func:`cofail_jax._src.pricing.price_pool`, the core the sweep
    uses, with the key of the sweep's k = K subset at ``seed``; this function only drops
    degenerate models and formats.
    """
    import jax.numpy as jnp

    from .._src import copulas as C
    from .._src import pricing as P
    from .._src.certificate import clopper_pearson
    from .._src.errors import InputError

    notes: list[str] = []
    m = _drop_degenerate(m, notes)
    copulas = _check_copulas(copulas, method, notes)
    est = "qmc" if method == "quadrature" else method
    if (rel_error is not None or max_samples is not None) and est != "qmc":
        raise InputError(f"--rel-error and --max-samples apply to --method qmc, not {method}",
                         where="--rel-error", hint="use --samples with this method")
    ns = samples or (None if est == "qmc" else 2 ** 22 if est == "mc" else 2 ** 16)
    opts = C.PricingOptions(orthant_method=est, orthant_samples=ns,
                            factor_method=factor_method,
                            clayton_method="mc" if method == "mc" else "closed form",
                            nu=float(nu),
                            rel_error=float(rel_error or C.QMC_REL_ERROR),
                            max_samples=int(max_samples or C.QMC_MAX_SAMPLES))
    built = C.make_copulas(copulas, opts)
    errors = ~np.asarray(m.correct, bool)
    n, k = errors.shape
    w = jnp.ones((n,), jnp.float64)
    key = P.subset_key(P.run_key(seed), k, 0)
    stats, r = P.price_matrix(key, errors, built, w, devices="all")
    K = int(np.all(errors, axis=1).sum())
    lo, hi = clopper_pearson(K, n, alpha)
    beta_obs = K / n
    preds = {c.name: _prediction(r, i, c, opts, beta_obs, float(lo), float(hi))
             for i, c in enumerate(built)}
    return {"source": m.source, "n": n, "k": k, "K": K, "beta_obs": beta_obs,
            "beta_obs_ci": [float(lo), float(hi)], "alpha": alpha, "models": list(m.models),
            "tau": np.asarray(stats.tau), "predictions": preds, "notes": notes,
            "mean_tetrachoric": float(r.mean_rho), "mean_phi": float(r.mean_phi),
            "n_pairs_ok": int(r.n_pairs_ok), "n_pairs_boundary": int(r.n_pairs_boundary),
            "effective_correlation": float(r.rho_eff) if K > 0 else np.nan,
            "seed": seed, "key": "subset_key(run_key(seed), k, 0), the sweep's k = K subset"}


def run(args) -> int:
    from .._src.errors import InputError
    from .._src.h5 import provenance

    if not 0 < args.alpha < 1:
        raise InputError(f"must lie strictly between 0 and 1, got {args.alpha}", where="--alpha",
                         hint="for 95 % intervals use 0.05")
    if args.samples is not None and args.samples < 2:
        raise InputError(f"must be at least 2, got {args.samples}", where="--samples",
                         hint="for example --samples 65536")
    if not args.nu > 0:
        raise InputError(f"must be positive, got {args.nu}", where="--nu", hint="for example --nu 4")
    if args.method == "quadrature" and args.copula in ("gaussian", "clayton", "student_t"):
        raise InputError(f"--copula {args.copula} cannot be priced by quadrature",
                         where="--method quadrature",
                         hint="quadrature is for --copula equal_loading / fitted_loading")
    m = load_input(args)
    if getattr(args, "audit", None):
        from .audit import audited_matrix

        m = audited_matrix(args, m)
    copulas = COPULAS if args.copula == "all" else (args.copula,)
    if args.method == "quadrature" and args.copula == "all":
        copulas = ("equal_loading", "fitted_loading")
    from .._src.orthant import reporting
    from .progress import progress_bar, stage

    # one jitted call; the Gaussian orthant estimator's chunks (mc, fixed-size qmc,
    # tilting) report to the bar, after a "compiling" stage; silent when not a TTY
    chunked = args.method in ("mc", "tilting") or (args.method == "qmc" and args.samples)
    with progress_bar(f"pricing ({args.method})",
                      unit="draws" if args.method != "qmc" else "points") as bar:
        with (reporting(bar) if chunked and bar is not None else
              stage(f"compiling and pricing {', '.join(copulas)} ({args.method})")):
            res = price_matrix(m, copulas=copulas, method=args.method, samples=args.samples,
                               seed=args.seed, alpha=args.alpha, nu=args.nu,
                               factor_method=args.factor_method, rel_error=args.rel_error,
                               max_samples=args.max_samples)
    prov = provenance(input_path=input_path(args), seed=args.seed,
                      method=f"tetrachoric + {args.method}",
                      config={"copula": args.copula, "method": args.method,
                              "factor_method": args.factor_method, "nu": args.nu,
                              "samples": args.samples, "rel_error": args.rel_error,
                              "max_samples": args.max_samples, "alpha": args.alpha,
                              "audit": getattr(args, "audit", None)},
                      extra={"pricing_methods": {k: v["method"] for k, v in res["predictions"].items()},
                             "n_samples": {k: v["n_samples"] for k, v in res["predictions"].items()}})
    for note in res["notes"]:
        print(f"note: {note}", file=sys.stderr)
    if args.out:
        _write(args.out, res, prov)
    return finish(args, "price", res, prov, lambda: render(res))


# keys every prediction has: variables along the ``copula`` dimension (not ``method``:
# xarray's ``.sel(method=...)`` is its own keyword, and --method is the numerical method)
_ALONG_COPULA = ("beta", "std_err", "log_beta", "ratio", "n_samples", "status", "label")


def _write(path, res, prov):
    """The --out file: ``observed`` (scalar variables, ``tau`` along ``model``) and
    ``predictions`` with the copulas along the ``copula`` dimension (``beta``, ``std_err``,
    ``ratio`` with ``ratio_ci_lower``/``ratio_ci_upper``, ``pricing_method``, ...) and
    each copula's own parameters in ``predictions/<copula>/``."""
    from .._src.h5 import write_results

    names = list(res["predictions"])
    preds = res["predictions"]
    obs = {"beta": res["beta_obs"], "beta_ci_lower": res["beta_obs_ci"][0],
           "beta_ci_upper": res["beta_obs_ci"][1], "K": res["K"], "n": res["n"],
           "mean_tetrachoric": res["mean_tetrachoric"], "mean_phi": res["mean_phi"],
           "effective_correlation": res["effective_correlation"]}
    dims: dict[str, tuple[str, ...]] = {f"observed/{key}": () for key in obs}
    obs = {key: (np.nan if v is None else v) for key, v in obs.items()}
    obs["tau"] = np.asarray(res["tau"])
    dims["observed/tau"] = ("model",)
    along: dict = {key: np.asarray([preds[n][key] for n in names],
                                   dtype=object if key in ("status", "label") else None)
                   for key in _ALONG_COPULA}
    along["pricing_method"] = np.asarray([preds[n]["method"] for n in names], dtype=object)
    along["ratio_ci_lower"] = np.asarray([preds[n]["ratio_ci"][0] for n in names], float)
    along["ratio_ci_upper"] = np.asarray([preds[n]["ratio_ci"][1] for n in names], float)
    dims.update({f"predictions/{key}": ("copula",) for key in along})
    tree = {"observed": obs, "predictions": along}
    skip = set(_ALONG_COPULA) | {"method", "ratio_ci"}
    for name, p in preds.items():
        g = {}
        for key, v in p.items():
            if key in skip:
                continue
            items = v.items() if isinstance(v, dict) else [(None, v)]
            for k2, v2 in items:
                var = key if k2 is None else f"{key}_{k2}"
                g[var] = v2
                if np.ndim(v2) == 1 and len(v2) == res["k"]:
                    g[var] = np.asarray(v2)
                    dims[f"predictions/{name}/{var}"] = ("model",)
                elif isinstance(v2, (int, float, np.integer, np.floating)) and not isinstance(
                        v2, (bool, np.bool_)):
                    dims[f"predictions/{name}/{var}"] = ()
        if g:
            tree["predictions"][name] = g
    coords = {"model": np.asarray(res["models"], dtype=object),
              "copula": np.asarray(names, dtype=object)}
    write_results(path, tree, attrs={**prov, "kind": "price"}, dims=dims, coords=coords)


def _fmt(v):
    return f"{v:.4g}" if isinstance(v, float) else str(v)


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
    lines.append(fmt_table(rows, header=("copula", "predicted beta", "std err", "method",
                                         "samples", "beta_obs / beta_pred [CI]")))
    extra = []
    for name, p in res["predictions"].items():
        skip = {"beta", "std_err", "rel_error", "rel_error_target", "log_beta", "method",
                "n_samples", "status", "label",
                "ratio", "ratio_ci"}
        items = [f"{key} {_fmt(v)}" for key, v in p.items() if key not in skip and np.ndim(v) == 0]
        extra.append(f"{name} ({p['label']}): " + ", ".join(items) + f"; {p['status']}")
    lines += [""] + extra
    lines.append("ratio > 1: the model underprices the all-wrong tail (CI from observed beta).")
    return "\n".join(lines)
