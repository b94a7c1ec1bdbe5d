"""``cofail counterexample``: two error laws with the same pairwise statistics, different beta."""

from __future__ import annotations

import numpy as np

from .common import (
    add_seed_arg,
    add_command,
    add_output_args,
    count,
    finish,
    float_range,
    fmt_table,
    probability,
)

EXAMPLES = """\
  cofail counterexample                                   # k=3, p=0.5, p2=0.25
  cofail counterexample --k 3 --p 0.5 --p2 0.25
  cofail counterexample --k 10 --p 0.3 --rho 0.2          # Pearson correlation of the errors
  cofail counterexample --k 67 --p 0.2 --rho-tet 0.5      # latent (tetrachoric) correlation
  cofail counterexample --k 5 --p 0.1,0.2,0.2,0.3,0.4 --rho 0.3 --out ce.h5
"""


def add_parser(sub) -> None:
    p = add_command(
        sub, "counterexample",
        help="two error laws with identical marginals and pairwise correlations but different beta",
        description="Builds the two joint laws of k models' errors that minimise and maximise "
                    "beta = P(all wrong) while matching the given error rates and pairwise "
                    "both-wrong rates (so every pairwise Pearson and tetrachoric correlation is "
                    "the same), prints their statistics side by side with the Gaussian-copula "
                    "beta, and checks by simulation that the pairwise statistics agree within "
                    "Monte Carlo error while beta differs.",
        examples=EXAMPLES)
    p.add_argument("--k", type=count(2, 100_000), default=3, help="number of models")
    p.add_argument("--p", default="0.5",
                   help="error rate of every model, or k comma-separated rates")
    g = p.add_mutually_exclusive_group()
    g.add_argument("--p2", type=probability, default=None,
                   help="pairwise both-wrong rate P(i and j wrong), every pair")
    g.add_argument("--rho", type=float_range(-1.0, 1.0, what='a correlation'), default=None,
                   help="Pearson (phi) correlation of the error indicators, every pair")
    g.add_argument("--rho-tet", type=float_range(-1.0, 1.0, what='a correlation'), default=None,
                   help="tetrachoric (latent Gaussian) correlation, every pair")
    p.add_argument("--n-sim", type=count(0, 10**9), default=1_000_000,
                   help="queries drawn from each law for the simulation check (0: skip); "
                        "about k log k work per query, so lower it for k in the thousands")
    add_seed_arg(p, "seed of the simulation key")
    add_output_args(p)
    p.set_defaults(func=run)


def _parse(args):
    from .._src.errors import InputError
    from .._src.identify import MAX_EXACT_K

    if args.k < 2:
        raise InputError(f"need at least 2 models, got {args.k}", where="--k",
                         hint="non-identification needs k >= 3; k = 2 is identified")
    try:
        ps = [float(s) for s in str(args.p).split(",") if s.strip()]
    except ValueError:
        raise InputError(f"not a number or comma-separated list: {args.p!r}", where="--p",
                         hint="for example --p 0.3 or --p 0.1,0.2,0.3") from None
    if len(ps) not in (1, args.k):
        raise InputError(f"{len(ps)} rates for k = {args.k} models", where="--p",
                         hint="give one rate or exactly k")
    for v in ps:
        if not 0 < v < 1:
            raise InputError(f"error rates must lie strictly between 0 and 1, got {v}",
                             where="--p", hint="for 30 % wrong write 0.3")
    if len(ps) > 1 and len(set(ps)) > 1 and args.k > MAX_EXACT_K:
        raise InputError(f"per-model rates need the exact LP, limited to k <= {MAX_EXACT_K}",
                         where="--k", hint="use one common --p for larger pools")
    if args.p2 is None and args.rho is None and args.rho_tet is None:
        if len(ps) == 1 and ps[0] == 0.5:
            args.p2 = 0.25
        else:
            raise InputError("give the pairwise dependence", where="--p2/--rho/--rho-tet",
                             hint="for example --rho 0.2 (Pearson) or --p2 0.1 (both-wrong rate)")
    if args.rho is not None and not -1 <= args.rho <= 1:
        raise InputError(f"a correlation must lie in [-1, 1], got {args.rho}", where="--rho",
                         hint="for example --rho 0.2")
    if args.rho_tet is not None and not -1 <= args.rho_tet <= 1:
        raise InputError(f"a correlation must lie in [-1, 1], got {args.rho_tet}",
                         where="--rho-tet", hint="for example --rho-tet 0.5")
    if args.p2 is not None and not 0 <= args.p2 <= 1:
        raise InputError(f"a rate must lie in [0, 1], got {args.p2}", where="--p2",
                         hint="P(both wrong), for example 0.1")
    if args.n_sim < 0:
        raise InputError("must be >= 0", where="--n-sim", hint="0 skips the simulation check")
    return ps[0] if len(ps) == 1 else np.asarray(ps)


def _law_dict(law, m):
    iu, ju = np.triu_indices(law.k, 1)
    d = {"beta": law.beta, "p": law.p, "p2_pairs": law.p2[iu, ju],
         "pearson_pairs": law.pearson[iu, ju], "tetrachoric_pairs": law.tetrachoric[iu, ju],
         "counts": law.counts, "exchangeable": law.exchangeable}
    if law.table is not None:
        d["table"] = law.table
    return d


def run(args) -> int:
    import jax

    from .._src import identify as I
    from .._src.errors import InputError
    from .._src.h5 import provenance, write_results

    p = _parse(args)
    from .progress import stage

    with stage(f"solving the LPs for the extreme laws of {args.k} models"):
        ce = I.counterexample(args.k, p, args.p2, rho=args.rho, rho_tetrachoric=args.rho_tet,
                              key=jax.random.fold_in(jax.random.key(args.seed), 2))
    b = ce.bounds
    if b.status != "OK":
        raise InputError(b.message, where="--p/--p2/--rho",
                         hint="the rates must come from one joint law of binary errors")
    check = None
    if args.n_sim > 0:
        with stage(f"checking both laws with {args.n_sim} simulated queries"):
            check = I.verify_by_simulation(jax.random.key(args.seed), ce.law_min, ce.law_max,
                                           args.n_sim)
    config = {"k": args.k, "p": p, "p2": args.p2, "rho": args.rho, "rho_tet": args.rho_tet,
              "n_sim": args.n_sim}
    prov = provenance(method=b.method, seed=args.seed, config=config,
                      extra={"gaussian_method": ce.gaussian.method, "sampler": "jax inverse-CDF"})
    result = {
        "k": args.k, "bounds": b.to_dict(), "independent_beta": ce.independent_beta,
        "gaussian": {"beta": ce.gaussian.beta, "abs_err": ce.gaussian.abs_err,
                     "method": ce.gaussian.method, "status": ce.gaussian.status,
                     "message": ce.gaussian.message},
        "law_min": _law_dict(ce.law_min, None), "law_max": _law_dict(ce.law_max, None),
    }
    if check is not None:
        result["simulation"] = _check_dict(check)
    if args.out:
        tree = {"bounds": {k: v for k, v in b.to_dict().items()},
                "gaussian": dict(result["gaussian"]),
                "independent_beta": ce.independent_beta,
                "law_min": _law_dict(ce.law_min, None), "law_max": _law_dict(ce.law_max, None)}
        dims = {"bounds/beta_min": (), "bounds/beta_max": (), "gaussian/beta": (),
                "gaussian/abs_err": (), "independent_beta": ()}
        for name in ("law_min", "law_max"):
            dims[f"{name}/beta"] = ()
            dims[f"{name}/p"] = ("model",)
            dims[f"{name}/counts"] = ("n_wrong",)
            for v in ("p2_pairs", "pearson_pairs", "tetrachoric_pairs"):
                dims[f"{name}/{v}"] = ("pair",)
            dims[f"{name}/table"] = ("atom",)
        if check is not None:
            tree["simulation"] = {k: v for k, v in result["simulation"].items()}
        names = [f"m{i + 1}" for i in range(args.k)]
        iu, ju = np.triu_indices(args.k, 1)
        coords = {"model": np.asarray(names, dtype=object),
                  "pair": np.asarray([f"{names[i]},{names[j]}" for i, j in zip(iu, ju)], object)}
        write_results(args.out, tree, attrs={**prov, "kind": "counterexample"}, dims=dims,
                      coords=coords)
    return finish(args, "counterexample", result, prov, lambda: render(ce, check))


def _check_dict(c):
    return {"n": c.stats_min.n, "beta_min_hat": c.stats_min.beta,
            "beta_min_se": c.stats_min.beta_se,
            "beta_max_hat": c.stats_max.beta, "beta_max_se": c.stats_max.beta_se,
            "max_z_marginal": c.max_z_marginal, "max_z_pairwise": c.max_z_pairwise,
            "max_z_pearson": c.max_z_pearson, "z_beta": c.z_beta, "z_tol": c.z_tol,
            "pairwise_agree": c.agree, "beta_differs": c.beta_differs,
            "p_hat_min_law": c.stats_min.p, "p_hat_max_law": c.stats_max.p,
            "keys": c.seed_info}


def _fmt_vals(v, exch):
    v = np.asarray(v)
    if v.size == 0:
        return "-"
    if exch or np.ptp(v) < 1e-12:
        return f"{v.flat[0]:.4f}" + ("" if v.size == 1 else " (all)")
    return f"{v.min():.4f} .. {v.max():.4f}"


def render(ce, check=None) -> str:
    b, lo, hi, g = ce.bounds, ce.law_min, ce.law_max, ce.gaussian
    iu, ju = np.triu_indices(lo.k, 1)
    exact = "exact" if b.lower_exact and b.upper_exact else "relaxed"
    lines = [f"k = {lo.k} models; both laws match every error rate and every pairwise table "
             f"({b.method}, {exact})", ""]
    rows = [
        ("error rate p_i", _fmt_vals(lo.p, lo.exchangeable), _fmt_vals(hi.p, hi.exchangeable)),
        ("both-wrong p_ij", _fmt_vals(lo.p2[iu, ju], lo.exchangeable),
         _fmt_vals(hi.p2[iu, ju], hi.exchangeable)),
        ("Pearson corr", _fmt_vals(lo.pearson[iu, ju], lo.exchangeable),
         _fmt_vals(hi.pearson[iu, ju], hi.exchangeable)),
        ("tetrachoric corr", _fmt_vals(lo.tetrachoric[iu, ju], lo.exchangeable),
         _fmt_vals(hi.tetrachoric[iu, ju], hi.exchangeable)),
        ("beta = P(all wrong)", f"{lo.beta:.6g}", f"{hi.beta:.6g}"),
        ("wrong-count support", _support(lo.counts), _support(hi.counts)),
    ]
    lines.append(fmt_table(rows, header=("", "beta_min law", "beta_max law")))
    lines.append("")
    width = b.beta_max - b.beta_min
    pos = (g.beta - b.beta_min) / width if width > 0 else float("nan")
    lines.append(fmt_table([
        ("beta range [min, max]", f"[{b.beta_min:.6g}, {b.beta_max:.6g}]"),
        ("Gaussian copula beta", f"{g.beta:.6g} +- {g.abs_err:.2g} ({g.method}); "
                                 f"{pos:.1%} of the way from min to max"),
        ("independence beta",
         f"{ce.independent_beta:.6g} (prod p_i; matches only if pairs are independent)"),
    ]))
    if check is not None:
        c = check
        lines.append("")
        lines.append(f"simulation check: {c.stats_min.n:,} queries from each law")
        lines.append(fmt_table([
            ("beta_min law", f"beta_hat = {c.stats_min.beta:.6f} +- {c.stats_min.beta_se:.6f}",
             f"p_hat = {_fmt_vals(c.stats_min.p, False)}"),
            ("beta_max law", f"beta_hat = {c.stats_max.beta:.6f} +- {c.stats_max.beta_se:.6f}",
             f"p_hat = {_fmt_vals(c.stats_max.p, False)}"),
        ]))
        lines.append(f"pairwise statistics vs truth, max |z|: marginals {c.max_z_marginal:.2f}, "
                     f"both-wrong {c.max_z_pairwise:.2f}, Pearson {c.max_z_pearson:.2f} "
                     f"(threshold {c.z_tol:.2f}): {'agree' if c.agree else 'DISAGREE'}")
        lines.append(f"beta difference: z = {c.z_beta:.1f}: "
                     f"{'beta differs' if c.beta_differs else 'not resolved at this n'}")
    return "\n".join(lines)


def _support(q, top=6):
    nz = np.flatnonzero(np.asarray(q) > 1e-12)
    parts = [f"S={s}:{q[s]:.4g}" for s in nz[:top]]
    return " ".join(parts) + (" ..." if nz.size > top else "")
