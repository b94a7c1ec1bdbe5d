"""``cofail certify``: beta, its interval, the ceiling, and the certified gain bound."""

from __future__ import annotations

import numpy as np

from .common import (
    add_command,
    add_input_args,
    add_output_args,
    count,
    emit_json,
    float_range,
    fmt_table,
    input_file,
    input_path,
    load_input,
    nonneg_float,
    open_probability,
)

EXAMPLES = """\
  cofail certify                                   # the embedded example
  cofail certify results.csv --delta 0.05 --overhead 0.02
  cofail certify results.csv --models gpt-4o,claude-3.5,llama-3.1-405b --json
  cofail certify results.csv --out cert.h5
  cofail certify --K 17 --n 330 --asb 0.836 --pool-size 67   # from a paper's numbers
"""


def add_parser(sub) -> None:
    p = add_command(
        sub, "certify", help="beta, its interval, the ceiling and the certified gain bound",
        description="The '$0 test': how often every model is wrong (beta), the accuracy ceiling "
                    "1 - beta that no selection policy (router, vote, cascade) can exceed, the "
                    "oracle gain G over the single best, and a finite-sample upper bound on the "
                    "gain of any selection policy at confidence 1 - delta.",
        examples=EXAMPLES)
    add_input_args(p)
    p.add_argument("--delta", type=open_probability, default=0.05,
                   help="the gain bound holds with probability >= 1 - delta")
    p.add_argument("--alpha", type=open_probability, default=0.05,
                   help="two-sided Clopper-Pearson interval on beta at level 1 - alpha")
    p.add_argument("--overhead", default=None,
                   type=float_range(-1.0, 1.0, what="an accuracy difference"),
                   help="cost of combining, in accuracy points (e.g. 0.02): prints a verdict")
    p.add_argument("--fixed-best", action="store_true",
                   help="treat the single best as fixed in advance (no multiplicity correction)")
    p.add_argument("--order", default=None,
                   help="comma-separated model order for the beta curve (default: greedy)")
    p.add_argument("--K", type=count(0, 10**12), default=None,
                   help="counts mode: all-wrong queries")
    p.add_argument("--n", type=count(1, 10**12), default=None, help="counts mode: queries")
    p.add_argument("--asb", type=nonneg_float, default=None,
                   help="counts mode: single-best accuracy (fraction) or correct count")
    p.add_argument("--pool-size", type=count(1, 10**6), default=None,
                   help="counts mode: the single best was chosen in-sample from this many models")
    add_output_args(p)
    p.add_argument("--audit", type=input_file, default=None, metavar="SHEET",
                   help="an audit sheet from 'cofail audit --out' with verdicts filled in: also "
                        "report beta counting only adjudicated-genuine events and the range "
                        "with unadjudicated events treated as genuine")
    p.set_defaults(func=run)


def _check_rates(args):
    from .._src.errors import InputError

    for name in ("delta", "alpha"):
        v = getattr(args, name)
        if not 0 < v < 1:
            raise InputError(f"must lie strictly between 0 and 1, got {v}", where=f"--{name}",
                             hint="for 95 % confidence use 0.05")
    if args.overhead is not None and not -1 <= args.overhead <= 1:
        raise InputError(f"must be an accuracy difference in [-1, 1], got {args.overhead}",
                         where="--overhead", hint="for 2 accuracy points write 0.02")


def _config(args) -> dict:
    return {k: v for k, v in vars(args).items() if k not in ("func",)}


def _from_counts(args):
    """(certificate, provenance) in counts mode (--K, --n, --asb)."""
    from .._src import certificate as C
    from .._src.errors import InputError
    from .._src.h5 import provenance

    if args.file is not None:
        raise InputError("give either FILE or --K/--n/--asb, not both", where="certify",
                         hint="counts mode needs no file")
    if getattr(args, "audit", None):
        raise InputError("--audit needs the outcome matrix FILE, not counts", where="--audit",
                         hint="run cofail certify FILE --audit SHEET")
    if None in (args.K, args.n, args.asb):
        raise InputError("counts mode needs --K, --n and --asb", where="certify",
                         hint="for example --K 17 --n 330 --asb 0.836")
    if args.n < 1 or not 0 <= args.K <= args.n:
        raise InputError(f"need 0 <= K <= n and n >= 1, got K={args.K}, n={args.n}",
                         where="--K/--n", hint="K counts all-wrong queries among n")
    if args.asb < 0 or (args.asb > 1 and args.asb != int(args.asb)) or args.asb > args.n:
        raise InputError(f"--asb {args.asb} is neither an accuracy in [0, 1] nor a count <= n",
                         where="--asb", hint="for 83.6 % write 0.836")
    if args.pool_size is not None and args.pool_size < 1:
        raise InputError("must be at least 1", where="--pool-size", hint="the number of models")
    try:
        cert = C.certificate_from_counts(args.K, args.n, args.asb, pool_size=args.pool_size,
                                         alpha=args.alpha, delta=args.delta,
                                         overhead=args.overhead)
    except ValueError as e:
        raise InputError(str(e), where="counts", hint="check K, n and asb") from None
    return cert, provenance(method="clopper-pearson", config=_config(args),
                            extra={"mode": "counts"})


def _from_matrix(args):
    """(certificate, beta curve, matrix, provenance) from the outcome matrix FILE."""
    from .._src import certificate as C
    from .._src.h5 import provenance

    m = load_input(args)
    cert = C.certificate(m.correct, models=m.models, alpha=args.alpha, delta=args.delta,
                         best_selection="fixed" if args.fixed_best else "in-sample",
                         overhead=args.overhead)
    order = None
    if args.order:
        order = m.model_index([s.strip() for s in args.order.split(",") if s.strip()],
                              param="order")
    idx, betas = C.beta_curve(m.correct, order)
    curve = {"model": [m.models[i] for i in idx], "beta": betas}
    prov = provenance(input_path=input_path(args), method="clopper-pearson", config=_config(args))
    return cert, curve, m, prov


def run(args) -> int:
    from .._src.h5 import write_results

    _check_rates(args)
    if any(v is not None for v in (args.K, args.n, args.asb)):
        (cert, prov), curve, m = _from_counts(args), None, None
    else:
        cert, curve, m, prov = _from_matrix(args)
    result = cert.to_dict()
    if curve is not None:
        curve["order"] = "given" if args.order else "greedy"
        result["curve"] = curve
    audited = None
    if getattr(args, "audit", None):  # beta before/after a grading audit
        from .audit import certify_audit

        audited = certify_audit(args, m)
        result["audit"] = audited.to_dict()
    if args.out:
        tree, dims, coords = out_tree(cert, curve, m, audited)
        write_results(args.out, tree, attrs={**prov, "kind": "certificate"}, dims=dims,
                      coords=coords)
    if args.json:
        emit_json("certify", result, prov)
        return 0
    print(render(cert, curve, source=None if m is None else m.source))
    if audited is not None:
        from .audit import render_audit

        print(render_audit(audited, args.audit))
    if args.out:
        print(f"wrote {args.out}")
    return 0


SCALARS = ("n", "k", "K", "beta", "beta_ci_lower", "beta_ci_upper", "beta_lower_one_sided",
           "beta_upper_one_sided", "ceiling", "best_count", "asb", "asb_lower", "asb_lower_fixed",
           "oracle_accuracy", "oracle_gain", "resolvable", "gain_bound", "gain_bound_fixed",
           "alpha", "delta", "pool_size", "overhead")


def out_tree(cert, curve, m, audited):
    """(tree, dims, coords) of the --out file: the headline numbers as scalar variables
    (``beta`` with ``beta_ci_lower``/``beta_ci_upper``, ...), per-model accuracy along the
    ``model`` coordinate, and the beta curve along ``step`` (pool size 1..k) with the
    model added at each step and the Clopper-Pearson interval of each beta."""
    from .._src.certificate import clopper_pearson

    d = cert.to_dict()
    d["beta_ci_lower"], d["beta_ci_upper"] = cert.beta_ci
    g = {key: d[key] for key in SCALARS if d.get(key) is not None}
    dims: dict = {f"certificate/{key}": () for key in g}
    g |= {key: d[key] for key in ("best_model", "best_selection", "verdict") if d.get(key)}
    tree: dict = {"certificate": g}
    coords: dict = {}
    if m is not None:
        g["accuracy"] = m.accuracy
        dims["certificate/accuracy"] = ("model",)
        coords["model"] = np.asarray(m.models, dtype=object)
    if curve is not None:
        beta = np.asarray(curve["beta"], dtype=float)
        lo, hi = clopper_pearson(np.rint(beta * cert.n), cert.n, cert.alpha)
        tree["curve"] = {"beta": beta, "beta_ci_lower": np.asarray(lo), "beta_ci_upper":
                         np.asarray(hi), "model": np.asarray(curve["model"], dtype=object),
                         "order": curve["order"], "alpha": cert.alpha}
        dims.update({f"curve/{v}": ("step",) for v in ("beta", "beta_ci_lower", "beta_ci_upper",
                                                      "model")})
        coords["step"] = np.arange(1, beta.size + 1)
    if audited is not None:
        from .audit import audit_tree

        tree["audit"] = audit_tree(audited)
    return tree, dims, coords


def render(cert, curve=None, source=None) -> str:
    lo, hi = cert.beta_ci
    conf = 1 - cert.alpha
    lines = []
    if source:
        lines.append(f"input: {source}")
    sel = (f"chosen in-sample from {cert.pool_size} models (Bonferroni, delta/(2*{cert.pool_size}))"
           if cert.best_selection == "in-sample" else "fixed in advance")
    rows = [
        ("queries n", f"{cert.n}"),
        ("models k", f"{cert.k}"),
        ("all-wrong K", f"{cert.K}"),
        ("beta = K/n", f"{cert.beta:.4f}  [{lo:.4f}, {hi:.4f}] ({conf:.0%} Clopper-Pearson)"),
        ("ceiling 1 - beta", f"{cert.ceiling:.4f}"),
        ("single best", f"{cert.best_model or '(from counts)'}: {cert.asb:.4f} ({cert.best_count}/{cert.n})"),
        ("oracle gain G", f"{cert.oracle_gain:.4f}  ({cert.resolvable} queries the single best misses "
                          "and another model solves)"),
        ("beta lower limit", f"{cert.beta_lower_one_sided:.4f} (one-sided, delta/2 = {cert.delta / 2:g})"),
        ("single-best lower limit", f"{cert.asb_lower:.4f} ({sel})"),
        ("certified gain bound", f"{cert.gain_bound:.4f}  at confidence {1 - cert.delta:g}: no selection "
                                 "policy gains more over the best single model"),
    ]
    if cert.best_selection == "in-sample":
        rows.append(("  if best fixed in advance", f"{cert.gain_bound_fixed:.4f}"))
    lines.append(fmt_table(rows))
    if cert.verdict:
        lines.append("verdict: " + cert.verdict)
    if curve is not None:
        show = min(len(curve["beta"]), 10)
        lines.append(f"\nbeta as models are added ({curve.get('order', 'greedy')} order, first {show}):")
        lines.append(fmt_table([(i + 1, name, f"{b:.4f}") for i, (name, b)
                                in enumerate(zip(curve["model"][:show], curve["beta"][:show]))],
                               header=("#", "model added", "beta")))
    return "\n".join(lines)
