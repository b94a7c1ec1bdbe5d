"""``cofail identify``: observed beta against the range the pool's pairwise statistics allow."""

from __future__ import annotations

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
)

EXAMPLES = """\
  cofail identify                                 # the embedded example (38 models: relaxed)
  cofail identify results.csv --top 10                    # the 10 most accurate models, exact LP
  cofail identify results.csv --models gpt-4o,claude-3.5,llama-3.1-405b --json
  cofail identify results.csv --top 12 --out identify.h5
"""


def add_parser(sub) -> None:
    p = add_command(
        sub, "identify",
        help="observed beta vs the range [beta_min, beta_max] that pairwise statistics allow",
        description="From the pool's error rates and pairwise both-wrong rates (everything a "
                    "pairwise correlation analysis sees), computes the smallest and largest "
                    "beta = P(all wrong) of any joint law that matches them, and sets the "
                    "observed beta and the Gaussian-copula (tetrachoric-calibrated) beta "
                    "inside that range. Exact by linear programming over the 2^k atoms for "
                    "k <= --max-exact-k; for larger non-exchangeable pools the bounds are a "
                    "valid relaxation (labelled).",
        examples=EXAMPLES)
    add_input_args(p)
    p.add_argument("--top", type=count(2, 10**6), default=None,
                   help="analyse only the this-many most accurate models")
    p.add_argument("--max-exact-k", type=count(1, 30), default=16,
                   help="largest pool for the exact 2^k-atom LP (k = 16 takes seconds)")
    p.add_argument("--full-corr-max-k", type=count(2, 10**6), default=500,
                   help="largest pool for the full-matrix Gaussian value (O(k^3) repair + "
                        "QMC-SOV); above it the value is skipped with a note (default 500)")
    add_seed_arg(p, "seed of the Gaussian orthant estimator")
    add_output_args(p)
    p.set_defaults(func=run)


def _write_out(path, r, m, K: int, ci, prov) -> None:
    """--out: headline numbers as scalar variables, rates and correlations along ``model``."""
    from .._src.h5 import write_results

    b, g = r.bounds, r.gaussian
    scalars = {"n": r.n, "k": r.k, "all_wrong": K, "beta_observed": r.beta_observed,
               "beta_observed_ci95_lower": ci[0], "beta_observed_ci95_upper": ci[1],
               "beta_min": b.beta_min, "beta_max": b.beta_max,
               "gaussian_beta": g.beta, "gaussian_abs_err": g.abs_err}
    flags = {"inside": r.inside, "exchangeable": r.exchangeable,
             "lower_exact": b.lower_exact, "upper_exact": b.upper_exact,
             "method": b.method, "status": b.status, "message": b.message,
             "gaussian_method": g.method, "gaussian_status": g.status}
    tree = {"identify": {**scalars, **flags, "error_rate": r.p, "both_wrong": r.p2,
                         "tetrachoric": g.rho}}
    dims: dict[str, tuple[str, ...]] = {f"identify/{key}": () for key in scalars}
    dims |= {"identify/error_rate": ("model",), "identify/both_wrong": ("model", "model2"),
             "identify/tetrachoric": ("model", "model2")}
    write_results(path, tree, attrs={**prov, "kind": "identify"}, dims=dims,
                  coords={"model": np.asarray(m.models, dtype=object),
                          "model2": np.asarray(m.models, dtype=object)})


def run(args) -> int:
    import jax

    from .._src import identify as I
    from .._src.errors import InputError
    from .._src.certificate import clopper_pearson
    from .._src.h5 import provenance

    if not 1 <= args.max_exact_k <= 20:
        raise InputError(f"must lie in 1..20, got {args.max_exact_k}", where="--max-exact-k",
                         hint="2^k atoms: 16 takes seconds, 20 minutes")
    m = load_input(args)
    if args.top is not None:
        if not 2 <= args.top <= m.k:
            raise InputError(f"must lie in 2..{m.k}, got {args.top}", where="--top",
                             hint="the number of most accurate models to keep", source=m.source)
        order = np.argsort(-m.accuracy, kind="stable")[: args.top]
        m = m.select_models(order)
    if m.k < 2:
        raise InputError("need at least 2 models", source=m.source, where="columns",
                         hint="add models or drop --models")
    from .progress import stage

    with stage(f"solving the identification LPs for {m.k} models"):
        r = I.identify(m.errors, max_exact_k=args.max_exact_k, key=jax.random.key(args.seed),
                       full_corr_max_k=args.full_corr_max_k)
    b, g = r.bounds, r.gaussian
    K = int(m.errors.all(axis=1).sum())
    ci = tuple(float(v) for v in clopper_pearson(K, r.n, 0.05))
    if b.status != "OK":  # cannot happen for a real matrix; kept for weighted/edited input
        raise InputError(b.message, source=m.source, where="pairwise rates",
                         hint="the matrix's rates should always be consistent; report a bug")
    prov = provenance(input_path=input_path(args), method=b.method, seed=args.seed,
                      config={"models": list(m.models), "max_exact_k": args.max_exact_k,
                              "top": args.top, "full_corr_max_k": args.full_corr_max_k},
                      extra={"gaussian_method": g.method})
    iu, ju = np.triu_indices(m.k, 1)
    result = {
        "n": r.n, "k": r.k, "models": list(m.models), "beta_observed": r.beta_observed,
        "all_wrong": K, "beta_observed_ci95": ci,
        "note": "the range is for the observed rates; it is not a confidence statement",
        "bounds": b.to_dict(), "inside": r.inside, "exchangeable": r.exchangeable,
        "gaussian": {"beta": g.beta, "abs_err": g.abs_err, "method": g.method,
                     "status": g.status, "message": g.message},
        "error_rate": r.p, "both_wrong_pairs": r.p2[iu, ju],
        "pair_i": iu, "pair_j": ju,
    }
    if args.out:
        _write_out(args.out, r, m, K, ci, prov)
    return finish(args, "identify", result, prov, lambda: render(r, m, ci))


def render(r, m, ci=None) -> str:
    b, g = r.bounds, r.gaussian
    lab = lambda e: "exact (sharp)" if e else "relaxed (valid, maybe loose)"  # noqa: E731
    width = b.beta_max - b.beta_min

    def pos(v):
        return f"{(v - b.beta_min) / width:.0%} of the range" if width > 0 else ""

    K = int(round(r.beta_observed * r.n))
    lines = [f"input: {m.source}", f"{r.n} queries x {r.k} models"
             + (" (exchangeable rates)" if r.exchangeable else ""), ""]
    lines.append(fmt_table([
        ("observed beta", f"{r.beta_observed:.4f} ({K}/{r.n})"
                          + (f" [{ci[0]:.4f}, {ci[1]:.4f}] 95% Clopper-Pearson" if ci else "")
                          + f"; {pos(r.beta_observed)}"),
        ("beta_min", f"{b.beta_min:.4f}  {lab(b.lower_exact)}"),
        ("beta_max", f"{b.beta_max:.4f}  {lab(b.upper_exact)}"),
        ("Gaussian copula beta", f"skipped: {g.message}" if g.status == "SKIPPED" else
         f"{g.beta:.4f} +- {g.abs_err:.1g} ({g.method}"
         + (", matrix repaired" if g.status == "REPAIRED" else "") + f"); {pos(g.beta)}"),
        ("method", b.method),
    ]))
    lines.append("")
    npairs = r.k * (r.k - 1) // 2
    if b.lower_exact and b.upper_exact:
        lines.append(f"Every beta in [{b.beta_min:.4f}, {b.beta_max:.4f}] is attained by a joint "
                     f"law with these {r.k} error rates and {npairs} pairwise both-wrong rates: "
                     "pairwise statistics cannot tell these apart.")
    else:
        lines.append(f"Every joint law with these {r.k} error rates and {npairs} pairwise "
                     f"both-wrong rates has beta in [{b.beta_min:.4f}, {b.beta_max:.4f}] (a "
                     "relaxation: the attainable range may be narrower).")
    lines.append("The range is computed at the observed rates; it is not a confidence interval.")
    if not (b.lower_exact and b.upper_exact):
        lines.append(f"note: {b.message}")
    if not r.inside:
        lines.append("WARNING: observed beta is outside the range (numerical problem)")
    return "\n".join(lines)
