"""``cofail route``: the baseline learned router (or an external router's choices) on
held-out queries: realized fraction of G with a bootstrap interval, and a cost frontier."""

from __future__ import annotations

import numpy as np

from ._policy_common import (
    GAIN_HEADER,
    add_eval_args,
    check_eval_args,
    finish_tree,
    gain_row,
    parse_costs,
)
from .common import (
    add_command,
    add_input_args,
    count,
    fmt_table,
    load_input,
    positive_float,
)

EXAMPLES = """\
  cofail route long.csv                            # needs a 'prompt' and/or 'domain' column
  cofail route long.csv --folds 5 --seed 3         # 5-fold cross-fitting
  cofail route long.csv --lambdas 0,0.05,0.1,0.2,0.5 --json
  cofail route results.csv --choices my_router.csv # score any router: query_id,model per line
  cofail route long.csv --out route.h5
"""


def add_parser(sub) -> None:
    p = add_command(
        sub,
        "route",
        help="learned or external router: realized fraction of G on held-out queries",
        description="The baseline learned router: one logistic regression per model predicting "
        "'this model is right' from TF-IDF word 1-2-grams of the prompt, a one-hot "
        "domain and log prompt length; each query goes to the model with the highest "
        "predicted probability (or argmax p - lambda * cost along the cost frontier). "
        "Fitted on a training split (or K-fold cross-fitted) and scored on held-out "
        "queries against the single best (chosen on the training part) and the "
        "oracle. Reports the realized fraction of G = (router - single best) / "
        "(oracle - single best) with a query-bootstrap interval; it can be negative. "
        "With --choices, scores an external router's choices instead (a CSV with "
        "query_id,model or JSONL; the single best is then chosen in-sample on the "
        "scored queries, which flatters it). Needs scikit-learn for the learned "
        "router (pip install 'cofail_jax[router]').",
        examples=EXAMPLES,
    )
    add_input_args(p)
    p.add_argument(
        "--choices",
        default=None,
        metavar="FILE",
        help="score an external router's choices (query_id,model) instead of learning one",
    )
    p.add_argument(
        "--folds",
        type=count(0, 1000),
        default=0,
        help="K-fold cross-fitting (K >= 2); 0 = one train/test split",
    )
    p.add_argument(
        "--C", type=positive_float, default=1.0,
        help="inverse L2 penalty of each logistic regression"
    )
    p.add_argument("--min-df", type=count(1, 10**6), default=1,
                   help="drop n-grams in fewer training prompts")
    p.add_argument(
        "--costs",
        default=None,
        help="per-model costs model=value,... (default: the file's 'cost' column, if any)",
    )
    p.add_argument(
        "--lambdas",
        default=None,
        help="comma-separated lambda values of the cost frontier (default: 0 and 12 values "
        "spread geometrically up to where the cheapest model always wins)",
    )
    add_eval_args(p)
    p.set_defaults(func=run)


def _lambda_grid(spec, proba, mean_cost):
    from .._src.errors import InputError

    if spec:
        try:
            lam = np.asarray([float(x) for x in spec.split(",") if x.strip()])
        except ValueError:
            raise InputError(
                f"{spec!r} is not a list of numbers",
                where="--lambdas",
                hint="write --lambdas 0,0.1,0.5",
            ) from None
        if lam.size == 0 or (lam < 0).any():
            raise InputError(
                "lambdas must be non-negative", where="--lambdas", hint="write --lambdas 0,0.1,0.5"
            )
        return lam
    gaps = np.diff(np.unique(np.asarray(mean_cost, np.float64)))
    gaps = gaps[gaps > 0]
    # at lambda > 1 / (smallest cost gap) a probability difference (<= 1) never beats a
    # cost difference, so the cheapest model always wins
    top = 1.01 / gaps.min() if gaps.size else 1.0
    return np.concatenate([[0.0], np.geomspace(top / 1000, top, 12)])


def _learned(args, m, key):
    """(rows, best, scheme, choices, CrossFitRouter) of the learned router."""
    from .._src.errors import InputError
    from .._src.policies.router import cross_fit_router, route_argmax

    prompts = m.query_meta.get("prompt")
    domains = m.query_meta.get("domain")
    if prompts is None and domains is None:
        raise InputError(
            "has no 'prompt' or 'domain' column for the router's features",
            source=m.source,
            where="columns",
            hint="use a long CSV/JSONL with prompt and domain columns, or score "
            "an external router with --choices",
        )
    if args.folds == 1 or args.folds < 0 or args.folds > m.n:
        raise InputError(
            f"must be 0 (one split) or between 2 and {m.n}, got {args.folds}",
            where="--folds",
            hint="use 5 for 5-fold cross-fitting",
        )
    try:
        from .progress import stage

        with stage("fitting the router"):
            cf = cross_fit_router(key, m.correct,
                                  prompts if prompts is not None else [""] * m.n,
                                  domains, n_folds=args.folds, test_fraction=args.test_fraction,
                                  C=args.C, min_df=args.min_df)
    except ImportError as e:
        raise InputError(str(e), where="route", hint="install the 'router' extra") from None
    return np.flatnonzero(cf.test), cf.best, cf.scheme, route_argmax(cf.proba), cf


def run(args) -> int:
    import jax

    from .._src.policies.reference import single_best_index
    from .._src.policies.router import (
        RouteEvaluation,
        cost_frontier,
        evaluate_choices,
        oracle_choices,
        read_choices,
    )

    check_eval_args(args)
    m = load_input(args)
    k_fit, k_boot = jax.random.split(jax.random.key(args.seed))
    costs = parse_costs(args.costs, m)
    cf = None
    if args.choices:
        rows, ch = read_choices(args.choices, m.query_ids, m.models)
        best = single_best_index(m.correct[rows])
        scheme = f"external router {args.choices}: {rows.size} of {m.n} queries; single best in-sample"
    else:
        rows, best, scheme, ch, cf = _learned(args, m, k_fit)
    c = m.correct[rows]
    cost_s = None if costs is None else (costs[rows] if costs.ndim == 2 else costs)
    sb = np.broadcast_to(np.asarray(best), (c.shape[0],)).copy()
    from .._src.policies.bootstrap import share_progress
    from .progress import progress_bar

    with progress_bar("route bootstrap", unit="replicates") as bar:
        policies = {
            name: evaluate_choices(jax.random.fold_in(k_boot, i), c, choices, best=best,
                                   cost=cost_s, n_boot=args.n_boot, level=args.level,
                                   progress=share_progress(bar, i, 3))
            for i, (name, choices) in enumerate(
                (("external_router" if args.choices else "learned_router", ch),
                 ("oracle_router", oracle_choices(c)), ("always_single_best", sb)))
        }
    frontier = None
    if cf is not None and cost_s is not None:
        mean_c = cost_s if cost_s.ndim == 1 else cost_s.mean(axis=0)
        lam = _lambda_grid(args.lambdas, cf.proba, mean_c)
        frontier = cost_frontier(c, cf.proba, cost_s, lam)
    ev = RouteEvaluation(scheme, rows, ch, best, policies,
                         None if cf is None else cf.constant_models,
                         None if cf is None else cf.n_features, frontier)
    tree = {"n": m.n, "k": m.k, "models": list(m.models)} | ev.to_tree(m.models, m.query_ids)
    method = ("per-model logistic regression on TF-IDF(1-2-gram)+domain+length; "
              "argmax; percentile query bootstrap" if not args.choices
              else "external choices; percentile query bootstrap")
    return finish_tree(args, "route", tree, method, lambda r: render(r, m, args))


def render(r, m, args) -> str:
    sb = r["single_best"]
    sb_txt = sb if isinstance(sb, str) else ", ".join(f"{k} ({v} queries)" for k, v in sb.items())
    lines = [
        f"input: {m.source}",
        f"scheme: {r['scheme']}; scored queries: {r['n_scored']}",
        fmt_table(
            [
                ("single best (from training part)", f"{sb_txt}: {r['single_best_accuracy']:.4f}"),
                ("oracle 1 - beta", f"{r['oracle_accuracy']:.4f}"),
                ("oracle gain G", f"{r['G']:.4f}"),
            ]
        ),
        "",
        f"routers on held-out queries ({int(args.level * 100)}% query-bootstrap intervals, "
        f"{args.n_boot} replicates):",
    ]
    rows = []
    for name, p in r["policies"].items():
        note = ""
        if "cost_per_correct" in p:
            note = f"cost/correct {p['cost_per_correct']:.4g}"
        rows.append(gain_row(name, p["bootstrap"], note))
    lines.append(fmt_table(rows, header=GAIN_HEADER))
    main = r["policies"].get("learned_router") or r["policies"].get("external_router")
    lines.append(
        "routed to: " + ", ".join(f"{k} {v:.0%}" for k, v in main["route_share"].items() if v > 0)
    )
    if r.get("constant_models"):
        lines.append(
            "models with constant training labels (no regression): "
            + ", ".join(r["constant_models"])
        )
    f = r.get("cost_frontier")
    if f is not None:
        lines += [
            "",
            "cost frontier: route to argmax_i (p_i - lambda * cost_i):",
            fmt_table(
                [
                    (f"{l:.4g}", f"{a:.4f}", f"{c:.4g}")
                    for l, a, c in zip(f["lambda"], f["accuracy"], f["mean_cost"])
                ],
                header=("lambda", "accuracy", "mean cost"),
            ),
        ]
    return "\n".join(lines)
