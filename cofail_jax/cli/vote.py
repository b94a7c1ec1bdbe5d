"""``cofail vote``: majority, weighted and plurality votes on held-out queries, and the
gain of every size-m subset vote over its best member."""

from __future__ import annotations

import numpy as np

from ._policy_common import (
    GAIN_HEADER,
    add_eval_args,
    check_eval_args,
    ci,
    finish_tree,
    gain_row,
    get_answers,
)
from .common import add_command, add_input_args, count, fmt_table, load_input

EXAMPLES = """\
  cofail vote                                        # the embedded example (38 models)
  cofail vote results.csv --seed 1 --test-fraction 0.5
  cofail vote long.csv --tie first --json            # plurality over the 'answer' column
  cofail vote results.csv --subset-size 5 --out votes.h5
  cofail vote results.csv --models a,b,c,d,e --no-subsets
"""


RHO_LABEL = {
    "phi": "phi coefficient of error indicators on the training split",
    "tetrachoric": "tetrachoric correlation of error indicators on the training split "
    "(pairs not solved in the interior left out)",
}


def _rho(m, train, kind):
    """(k, k) pairwise correlation on the training rows, or None for the default phi."""
    if kind == "phi":
        return None
    from .._src.tetrachoric import OK, tetrachoric

    res = tetrachoric(~m.correct[train])
    rho = np.asarray(res.rho, np.float64).copy()
    rho[np.asarray(res.status) != OK] = np.nan
    return rho


def add_parser(sub) -> None:
    p = add_command(
        sub,
        "vote",
        help="votes vs the single best and the ceiling, with bootstrap intervals",
        description="Scores votes on held-out queries next to the single best (chosen on the "
        "training split) and the oracle 1 - beta: majority over correctness bits "
        "(the optimistic binary approximation: every wrong answer is treated as the "
        "same wrong answer), log-odds weighted majority (weights from the training "
        "split), and, when the input has an 'answer' column, plurality over actual "
        "answers with a stated tie rule. Each gets its realized fraction of G = "
        "(vote - single best) / (oracle - single best) with a query-bootstrap "
        "interval. Then every size-m subset's majority vote against its best member: "
        "the share of subsets where the vote loses and the slope of the gain on the "
        "subset's mean pairwise error correlation, with a jackknife-over-models "
        "interval next to the naive i.i.d. one.",
        examples=EXAMPLES,
    )
    add_input_args(p)
    p.add_argument(
        "--tie",
        default="wrong",
        choices=("wrong", "first", "expected"),
        help="plurality tie rule: a tie counts as wrong; or the tied answer of the model "
        "with the best training accuracy wins; or its expectation under a random "
        "tie-break",
    )
    p.add_argument("--subset-size", type=count(1, 10_000), default=3,
                   help="size m of the subset votes (odd)")
    p.add_argument("--no-subsets", action="store_true", help="skip the subset votes")
    p.add_argument(
        "--rho",
        default="phi",
        choices=("phi", "tetrachoric"),
        help="pairwise error correlation for the slope, on the training split: phi (Pearson "
        "on the 0/1 error indicators) or tetrachoric (latent normal; boundary and "
        "degenerate pairs are left out of the fit)",
    )
    add_eval_args(p)
    p.set_defaults(func=run)


def run(args) -> int:
    import jax

    from .._src.errors import InputError
    from .._src.policies.bootstrap import train_test_split
    from .._src.policies.votes import evaluate_votes, subset_votes
    from .._src.policies.tree import Var

    check_eval_args(args)
    m = load_input(args)
    k_split, k_boot = jax.random.split(jax.random.key(args.seed))
    if m.n < 4:
        raise InputError(f"has {m.n} queries; a held-out evaluation needs at least 4",
                         source=m.source, hint="use a larger benchmark")
    if not args.no_subsets and (
        args.subset_size < 3 or args.subset_size % 2 == 0 or args.subset_size > m.k
    ):
        raise InputError(
            f"must be odd, at least 3 and at most the {m.k} models, got {args.subset_size}",
            where="--subset-size",
            hint="use 3 for every triplet",
        )
    train, test = train_test_split(k_split, m.n, args.test_fraction)
    from .progress import progress_bar, stage

    with progress_bar("vote bootstrap", unit="replicates") as bar:
        ev = evaluate_votes(k_boot, m.correct, answers=get_answers(m), train=train, test=test,
                            tie=args.tie, n_boot=args.n_boot, level=args.level, progress=bar)
    tree = ev.to_tree(m.models)
    tree["split"] = {"test_fraction": args.test_fraction, "seed": args.seed,
                     "test": Var(test, ("query",), json=False),
                     "query_id": Var(np.asarray(m.query_ids, object), ("query",), json=False)}
    if not args.no_subsets:
        try:
            with stage(f"votes of every {args.subset_size}-model subset"):
                sub = subset_votes(m.correct, size=args.subset_size, train=train, test=test,
                                   rho=_rho(m, train, args.rho))
            tree["subsets"] = sub.to_tree() | {"rho": RHO_LABEL[args.rho]}
        except ValueError as e:
            tree["subsets"] = {"status": str(e)}
    return finish_tree(args, "vote", tree, "held-out split; percentile query bootstrap",
                       lambda r: render(r, m, args))


def render(r, m, args) -> str:
    ref = r["reference"]
    lines = [
        f"input: {m.source}",
        f"queries: {r['n']} ({r['n_train']} train, {r['n_test']} test, seed {args.seed}); "
        f"models: {r['k']}",
        fmt_table(
            [
                (
                    "single best (chosen on train)",
                    f"{ref['single_best']}: {ref['single_best_accuracy']:.4f} on test",
                ),
                (
                    "oracle 1 - beta (test)",
                    f"{ref['oracle_accuracy']:.4f}   beta {ref['beta']:.4f} "
                    f"{ci(*ref['beta_ci'])} (95% Clopper-Pearson)",
                ),
                ("oracle gain G (test)", f"{ref['G']:.4f}"),
            ]
        ),
        "",
    ]
    rows = []
    for name, p in r["policies"].items():
        note = p["label"]
        if "ties" in p:
            note += f"; {p['ties']} tied queries"
        rows.append(gain_row(name, p["bootstrap"], note))
    lines.append(
        f"votes on the test queries ({int(args.level * 100)}% query-bootstrap intervals, "
        f"{args.n_boot} replicates):"
    )
    lines.append(fmt_table(rows, header=GAIN_HEADER))
    s = r.get("subsets")
    if s and "count" in s:
        lines += [
            "",
            f"every {s['size']}-model subset ({s['count']} subsets; {s['label']}):",
            fmt_table(
                [
                    (
                        "share where the vote loses to its best member",
                        f"{s['share_vote_loses']:.3f}",
                    ),
                    (
                        "mean gain over best member",
                        f"{s['mean_gain']:+.4f}  (median {s['gain_quantiles']['median']:+.4f}, "
                        f"range {s['gain_quantiles']['min']:+.4f} .. {s['gain_quantiles']['max']:+.4f})",
                    ),
                    (
                        f"slope of gain on mean pairwise rho ({args.rho})",
                        f"{s['slope_gain_on_rho']:+.4f}",
                    ),
                    ("  95% CI, naive (subsets i.i.d.)", ci(*s["slope_ci_naive"])),
                    ("  95% CI, jackknife over models", ci(*s["slope_ci_jackknife"])),
                ]
            ),
        ]
        if s["status"] != "ok":
            lines.append(f"status: {s['status']}")
    elif s:
        lines.append(f"\nsubset votes skipped: {s['status']}")
    return "\n".join(lines)
