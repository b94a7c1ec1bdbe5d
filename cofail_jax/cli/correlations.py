"""``cofail correlations``: Pearson (phi) and tetrachoric correlations of the models' errors,
boundary pairs, degenerate models, and an optional repair to a valid correlation matrix."""

from __future__ import annotations

import numpy as np

from .common import (
    add_seed_arg,
    add_command,
    add_input_args,
    add_output_args,
    count,
    emit_json,
    float_range,
    fmt_table,
    input_path,
    load_input,
)

EXAMPLES = """\
  cofail correlations                                  # the embedded example
  cofail correlations results.csv --repair higham --out corr.h5
  cofail correlations results.csv --repair clip --json
  cofail correlations results.csv --correction         # psych's correct=.5 on empty cells
"""


SUMMARY_ABOVE = 300  # models: above this the k x k matrices are summarized unless --full-matrix
FULL_EIGEN_UP_TO = 1500  # models: all eigenvalues up to this size, the extreme ones above
QUANTILES = (0.0, 0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99, 1.0)
MAX_LISTED_PAIRS = 100  # boundary pairs listed by name in a summary


def add_parser(sub) -> None:
    p = add_command(
        sub, "correlations",
        help="tetrachoric and Pearson correlations of the models' errors, with repair",
        description="Latent (tetrachoric) and Pearson (phi) correlations between the models' "
                    "error indicators, for every pair: thresholds tau_i = Phi^-1(error rate), "
                    "rho_ij solves Phi_2(tau_i, tau_j; rho) = P(both wrong). Pairs whose 2x2 "
                    "table has an empty cell are reported as boundary pairs (rho = -1 or +1), "
                    "models always right or always wrong as degenerate. Optionally repairs the "
                    "matrix (degenerate models dropped) to the nearest correlation matrix "
                    "(Higham 2002) or by eigenvalue clipping.",
        examples=EXAMPLES)
    add_input_args(p)
    p.add_argument("--repair", default="none", choices=("none", "higham", "clip"),
                   help="make the tetrachoric matrix PSD with unit diagonal")
    p.add_argument("--eps", type=float_range(0.0, 1.0, what='an eigenvalue floor'), default=0.0,
                   help="eigenvalue floor for the repair (0: PSD; > 0: positive definite)")
    p.add_argument("--correction", nargs="?", const=0.5, default=None,
                   type=float_range(0.0, 1e6, lo_open=True, what="a cell count"),
                   metavar="C",
                   help="continuity correction: put C (default 0.5, as psych's correct=.5) into "
                        "empty 2x2 cells instead of reporting boundary pairs; off by default")
    p.add_argument("--tol", default=1e-12,
                   type=float_range(0.0, 1.0, lo_open=True, what="a tolerance"),
                   help="solver tolerance on rho")
    p.add_argument("--bootstrap", type=count(0, 10**6), default=None, metavar="B",
                   help="query-bootstrap replicates for the standard errors of the means "
                        f"(0: none; default 200, or 0 above {SUMMARY_ABOVE} models)")
    p.add_argument("--full-matrix", action="store_true",
                   help=f"report every k x k matrix even above {SUMMARY_ABOVE} models (by default "
                        "a large pool is summarized: means, quantiles of rho and phi over the "
                        "solved pairs, extreme eigenvalues); --out writes them chunked and "
                        "gzip-compressed")
    add_seed_arg(p, "PRNG seed of the bootstrap")
    add_output_args(p)
    p.set_defaults(func=run)


def _check_args(args):
    from .._src.errors import InputError

    if args.correction is not None and not args.correction > 0:
        raise InputError(f"must be a positive count, got {args.correction}", where="--correction",
                         hint="psych's default is 0.5; omit the flag for no correction")
    if not args.eps >= 0 or args.eps >= 1:
        raise InputError(f"must lie in [0, 1), got {args.eps}", where="--eps",
                         hint="use 0 for PSD, or a small floor such as 1e-6")
    if args.bootstrap is not None and (args.bootstrap < 0 or args.bootstrap == 1):
        raise InputError(f"must be 0 (off) or at least 2, got {args.bootstrap}",
                         where="--bootstrap", hint="200 replicates give the SE to about 5 %")
    if not 0 < args.tol < 1e-3:
        raise InputError(f"must lie in (0, 1e-3), got {args.tol}", where="--tol",
                         hint="the default 1e-12 is machine precision in practice")


def _eigen(rho_kept: np.ndarray) -> dict:
    """Eigenvalues of the kept models' rho: all of them up to FULL_EIGEN_UP_TO models,
    else the 2 largest and the smallest by Lanczos (n_negative is then a lower bound)."""
    size = rho_kept.shape[0]
    if size == 0:
        return {"n_negative": 0, "min_eig": float("nan"), "models_used": 0, "method": "none"}
    if size <= FULL_EIGEN_UP_TO:
        eig = np.linalg.eigvalsh(rho_kept)
        return {"n_negative": int(np.sum(eig < -1e-12)), "min_eig": float(eig[0]),
                "models_used": int(size), "method": "all eigenvalues (eigvalsh)",
                "largest": [float(v) for v in eig[::-1][:10]]}
    from scipy.sparse.linalg import eigsh

    # the bulk of the spectrum is clustered, so only the extremes converge quickly
    top = np.sort(eigsh(rho_kept, k=2, which="LA", return_eigenvectors=False, tol=1e-10))[::-1]
    low = eigsh(rho_kept, k=1, which="SA", return_eigenvectors=False, tol=1e-10)
    n_neg = int(np.sum(low < -1e-12))
    return {"n_negative": n_neg, "min_eig": float(low[0]), "models_used": int(size),
            "method": "2 largest and the smallest (Lanczos, scipy eigsh); n_negative is 1 "
                      "when the smallest is negative (a lower bound; --full-matrix and "
                      "numpy.linalg.eigvalsh give all)",
            "largest": [float(v) for v in top]}


def _distribution(values: np.ndarray) -> dict:
    if values.size == 0:
        return {"quantiles": [float(q) for q in QUANTILES], "values": [None] * len(QUANTILES)}
    return {"quantiles": [float(q) for q in QUANTILES],
            "values": [float(v) for v in np.quantile(values, QUANTILES)],
            "mean": float(values.mean()), "sd": float(values.std())}


def _boundary_pairs(status, models, summary: bool, notes: list) -> dict:
    """Model pairs per boundary / non-convergence status (the first few when summarized)."""
    from .._src import tetrachoric as T

    k = len(models)
    upper = np.triu(np.ones((k, k), bool), 1)
    pairs = {name: [] for name in ("boundary_low", "boundary_high", "not_converged")}
    code_of = {"boundary_low": T.BOUNDARY_LOW, "boundary_high": T.BOUNDARY_HIGH,
               "not_converged": T.NOT_CONVERGED}
    for name, code in code_of.items():
        idx = np.argwhere((status == code) & upper)
        if summary and len(idx) > MAX_LISTED_PAIRS:
            notes.append(f"{name}: the first {MAX_LISTED_PAIRS} of {len(idx)} pairs are listed "
                         "(--full-matrix lists all)")
            idx = idx[:MAX_LISTED_PAIRS]
        pairs[name] = [[models[i], models[j]] for i, j in idx]
    return pairs


def _bootstrap(errors, bootstrap: int, seed: int, correction, tol: float, progress,
               devices=None):
    """(the bootstrap block of the result, the per-pair bootstrap sd of rho)."""
    import warnings

    import jax

    from .._src import tetrachoric as T

    bt = T.tetrachoric_bootstrap(jax.random.key(seed), errors, bootstrap,
                                 correction=correction if correction is not None else False,
                                 tol=tol, progress=progress, devices=devices)
    mr, mp = np.asarray(bt.mean_rho), np.asarray(bt.mean_phi)
    with warnings.catch_warnings():  # no solved pair (all right / all wrong): NaN + status
        warnings.simplefilter("ignore", RuntimeWarning)
        se_rho, se_phi = float(np.nanstd(mr, ddof=1)), float(np.nanstd(mp, ddof=1))
        iv_rho, iv_phi = np.nanpercentile(mr, [2.5, 97.5]), np.nanpercentile(mp, [2.5, 97.5])
    block = {
        "replicates": int(bootstrap), "seed": int(seed),
        "status": "OK" if np.isfinite(mr).sum() >= 2 else "NO_SOLVED_PAIRS",
        "mean_rho_se": se_rho,
        "mean_phi_se": se_phi,
        "mean_rho_interval": [float(v) for v in iv_rho],
        "mean_phi_interval": [float(v) for v in iv_phi],
        "interval": "2.5 and 97.5 percentiles of the query bootstrap",
        "not_converged": int(np.sum(np.asarray(bt.n_not_converged))),
    }
    return block, np.asarray(bt.rho_sd)


def _repair(m, rho_kept, keep, k: int, repair: str, eps: float):
    """(the repair block of the result, the repaired k x k matrix, NaN off the kept models)."""
    from .._src.errors import InputError
    from .._src.repair import clip_correlation, nearest_correlation

    if keep.size < 2:
        raise InputError(f"only {keep.size} model(s) are neither always right nor always "
                         "wrong; a correlation matrix needs at least 2",
                         source=m.source, where="--repair",
                         hint="drop --repair or choose other models")
    fn = nearest_correlation if repair == "higham" else clip_correlation
    rep = fn(rho_kept, eps=eps)
    full = np.full((k, k), np.nan)
    full[np.ix_(keep, keep)] = np.asarray(rep.corr)
    block = {
        "method": "higham-dykstra" if repair == "higham" else "eigenvalue-clip",
        "eps": eps, "models_used": int(keep.size),
        "n_negative": int(rep.n_negative), "min_eig_before": float(rep.min_eig_before),
        "min_eig_after": float(rep.min_eig_after),
        "frobenius_distance": float(rep.frobenius_distance),
        "n_iter": int(rep.n_iter), "converged": bool(rep.converged),
    }
    return block, full


def compute(m, *, correction=None, repair="none", eps=0.0, tol=1e-12, bootstrap=None,
            seed=0, full_matrix=False, progress=None, devices="all") -> dict:
    """Everything the command reports, as plain numpy / Python values.

    Above ``SUMMARY_ABOVE`` models (unless ``full_matrix``) the k x k matrices are
    summarized: ``summary`` holds quantiles of rho and phi over the solved pairs and the
    result keeps only the per-model vectors; the bootstrap defaults to off there.
    ``devices``: where the pair-chunked solver (and the bootstrap above
    :data:`..tetrachoric.PAIR_CHUNK` pairs) spreads its chunks (default every device of
    the host; the results are those of one device).
    """
    from .._src import tetrachoric as T

    errors = ~np.asarray(m.correct, bool)
    models = list(m.models)
    k = len(models)
    summary = k > SUMMARY_ABOVE and not full_matrix
    notes = []
    if bootstrap is None:
        bootstrap = 0 if k > SUMMARY_ABOVE else 200
        if k > SUMMARY_ABOVE:
            notes.append(f"query bootstrap off by default above {SUMMARY_ABOVE} models "
                         "(each replicate solves every pair again); pass --bootstrap B")
    if not T.chunked_pairs(k):
        devices = None  # the fused one-call kernel (one device) below the chunked size
    res = T.tetrachoric(errors, correction=correction if correction is not None else False,
                        tol=tol, devices=devices)
    res = type(res)(*(np.asarray(v) for v in res))
    degenerate = (res.error_rate <= 0) | (res.error_rate >= 1)
    keep = np.flatnonzero(~degenerate)
    status = res.status
    upper = np.triu(np.ones((k, k), bool), 1)
    pairs = _boundary_pairs(status, models, summary, notes)
    rho_kept = res.rho[np.ix_(keep, keep)]
    eigen = _eigen(rho_kept)
    out = {
        "n_queries": int(res.n_obs), "n_models": k, "models": models,
        "n_pairs": k * (k - 1) // 2, "n_ok": int(res.n_ok),
        "n_boundary": int(res.n_boundary), "n_boundary_low": int(res.n_boundary_low),
        "n_boundary_high": int(res.n_boundary_high),
        "n_not_converged": int(res.n_not_converged), "n_corrected": int(res.n_corrected),
        "correction": correction,
        "mean_phi": float(res.mean_phi), "mean_rho": float(res.mean_rho),
        "mean_over": "off-diagonal pairs with status ok",
        "degenerate_models": [[models[i], "always wrong" if res.error_rate[i] >= 1
                               else "always right"] for i in np.flatnonzero(degenerate)],
        "boundary_pairs": pairs,
        "eigen": eigen,
        "matrices": {"rho": res.rho, "se": res.se, "phi": res.phi, "status": status,
                     "tau": res.tau, "error_rate": res.error_rate, "both_wrong": res.both_wrong,
                     "n_iter": res.n_iter},
        "status_codes": {str(c): T.status_message(c) for c in T.STATUS_NAMES},
        "notes": notes,
    }
    if summary:
        ok = (status == T.OK) & upper
        out["summary"] = {"over": "off-diagonal pairs with status ok",
                          "rho": _distribution(res.rho[ok]), "phi": _distribution(res.phi[ok])}
        out["matrices"] = {"tau": res.tau, "error_rate": res.error_rate}
    if bootstrap:
        out["bootstrap"], rho_sd = _bootstrap(errors, bootstrap, seed, correction, tol, progress,
                                              devices)
        if not summary:
            out["matrices"]["rho_bootstrap_sd"] = rho_sd
    if repair != "none":
        out["repair"], full = _repair(m, rho_kept, keep, k, repair, eps)
        if not summary:
            out["matrices"]["rho_repaired"] = full
    return out


def _out_tree(result: dict, args):
    """(tree, dims, coords) of the --out file: the matrices along ``model``/``model2``,
    headline numbers as scalar variables, summary quantiles, repair and bootstrap."""
    mats = result["matrices"]
    dims = {}
    tree = {"correlations": {k: v for k, v in mats.items()}}
    tree["correlations"]["model"] = np.asarray(result["models"], dtype=object)
    for key in ("n_queries", "n_pairs", "n_ok", "n_boundary", "n_boundary_low",
                "n_boundary_high", "n_not_converged", "n_corrected", "mean_phi",
                "mean_rho", "mean_over"):
        tree["correlations"][key] = result[key]
    tree["correlations"]["status_codes"] = result["status_codes"]
    if "summary" in result:
        sm = result["summary"]
        tree["summary"] = {"rho": np.asarray(sm["rho"]["values"], dtype=float),
                           "phi": np.asarray(sm["phi"]["values"], dtype=float),
                           "over": sm["over"]}
        dims["summary/rho"] = ("quantile",)
        dims["summary/phi"] = ("quantile",)
    tree["correlations"]["correction"] = ("none" if args.correction is None
                                          else float(args.correction))
    if "repair" in result:
        tree["repair"] = dict(result["repair"])
    if "bootstrap" in result:
        b = dict(result["bootstrap"])
        for name in ("mean_rho_interval", "mean_phi_interval"):
            lo, hi = b.pop(name)
            b[name + "_lower"], b[name + "_upper"] = lo, hi
        tree["bootstrap"] = b
    dims.update({f"correlations/{k}": ("model", "model2") for k, v in mats.items()
                 if np.ndim(v) == 2})
    dims.update({f"correlations/{k}": ("model",) for k, v in mats.items() if np.ndim(v) == 1})
    coords = {"model": np.asarray(result["models"], dtype=object),
              "model2": np.asarray(result["models"], dtype=object)}
    if "summary" in result:
        coords["quantile"] = np.asarray(result["summary"]["rho"]["quantiles"])
    tree["correlations"].pop("model")
    for group in ("correlations", "bootstrap"):  # headline numbers as scalar variables
        dims.update({f"{group}/{key}": () for key, v in tree.get(group, {}).items()
                     if isinstance(v, (int, float, np.integer, np.floating))
                     and not isinstance(v, (bool, np.bool_))})
    return tree, dims, coords


def run(args) -> int:
    from .._src.h5 import provenance, write_results

    _check_args(args)
    from .progress import progress_bar

    m = load_input(args)
    with progress_bar("bootstrap", unit="replicates") as bar:
        result = compute(m, correction=args.correction, repair=args.repair, eps=args.eps,
                         tol=args.tol, bootstrap=args.bootstrap, seed=args.seed,
                         full_matrix=args.full_matrix, progress=bar)
    method = "tetrachoric (Genz 2004 bivariate normal, safeguarded Newton)"
    n_boot = result.get("bootstrap", {}).get("replicates", 0)
    prov = provenance(input_path=input_path(args), method=method,
                      seed=args.seed if n_boot else None,
                      config={"correction": args.correction, "repair": args.repair,
                              "eps": args.eps, "tol": args.tol, "bootstrap": n_boot})
    if args.out:
        tree, dims, coords = _out_tree(result, args)
        write_results(args.out, tree, attrs={**prov, "kind": "correlations"}, dims=dims,
                      coords=coords)
    if args.json:
        doc = {k: v for k, v in result.items() if k != "matrices"}
        doc["matrices"] = {k: np.asarray(v) for k, v in result["matrices"].items()}
        emit_json("correlations", doc, prov)
        return 0
    print(render(result, source=m.source))
    if args.out:
        print(f"wrote {args.out}")
    return 0


def _se(r: dict, which: str) -> str:
    b = r.get("bootstrap")
    if not b:
        return ""
    lo, hi = b[f"mean_{which}_interval"]
    return (f" +- {b[f'mean_{which}_se']:.4f} [{lo:.4f}, {hi:.4f}] (query bootstrap, "
            f"{b['replicates']} replicates, seed {b['seed']})")


def render(r: dict, source: str | None = None) -> str:
    lines = []
    if source:
        lines.append(f"input: {source}")
    rows = [
        ("queries n", r["n_queries"]),
        ("models k", r["n_models"]),
        ("pairs", f"{r['n_pairs']} ({r['n_ok']} solved, {r['n_boundary']} boundary, "
                  f"{r['n_not_converged']} not converged)"),
        ("mean Pearson (phi)", f"{r['mean_phi']:.4f}{_se(r, 'phi')}  (over the {r['n_ok']} "
                               "solved pairs)"),
        ("mean tetrachoric rho", f"{r['mean_rho']:.4f}{_se(r, 'rho')}  (same pairs)"),
        ("boundary pairs", f"{r['n_boundary_low']} at rho = -1, {r['n_boundary_high']} at "
                           "rho = +1 (an empty 2x2 cell)"),
    ]
    if r["correction"] is not None:
        rows.append(("continuity correction", f"{r['correction']:g} put into empty cells of "
                                              f"{r['n_corrected']} pairs"))
    deg = r["degenerate_models"]
    rows.append(("degenerate models", ", ".join(f"{n} ({why})" for n, why in deg) if deg
                 else "none"))
    if "summary" in r:
        for name in ("rho", "phi"):
            d = r["summary"][name]
            if d["values"] and d["values"][0] is not None:
                qs = ", ".join(f"{q:g}: {v:.3f}" for q, v in zip(d["quantiles"], d["values"]))
                rows.append((f"{name} quantiles", qs))
    e = r["eigen"]
    rows.append(("eigenvalues", f"{e['n_negative']} negative, smallest {e['min_eig']:.4g} "
                                f"({e['models_used']} models)"))
    if e.get("largest") and "summary" in r:
        rows.append(("largest eigenvalues", ", ".join(f"{v:.4g}" for v in e["largest"][:5])))
    for note in r.get("notes", ()):
        rows.append(("note", note))
    if "repair" in r:
        rp = r["repair"]
        rows.append(("repair", f"{rp['method']}: smallest eigenvalue {rp['min_eig_before']:.4g}"
                               f" -> {rp['min_eig_after']:.3g}, Frobenius distance "
                               f"{rp['frobenius_distance']:.4g}, {rp['n_iter']} iterations"
                               + ("" if rp["converged"] else " (NOT converged)")))
    elif e["n_negative"]:
        rows.append(("", "the matrix is not a valid correlation matrix: add --repair higham"))
    lines.append(fmt_table([(a, str(b)) for a, b in rows]))
    shown = [(a, b, "+1" if kind == "boundary_high" else "-1")
             for kind in ("boundary_high", "boundary_low")
             for a, b in r["boundary_pairs"][kind]]
    if shown:
        lines.append(f"\nboundary pairs (first {min(len(shown), 10)} of {len(shown)}):")
        lines.append(fmt_table([s for s in shown[:10]], header=("model", "model", "rho")))
    if r["boundary_pairs"]["not_converged"]:
        lines.append(f"\n{len(r['boundary_pairs']['not_converged'])} pairs did not converge: "
                     "try --tol 1e-10")
    return "\n".join(lines)
