"""``cofail judges``: agreement of a judge panel and what the grading rule does to beta."""

from __future__ import annotations

from ._policy_common import add_alpha_args, check_alpha, ci, finish_tree
from .common import add_command, fmt_table, input_file

EXAMPLES = """\
  cofail judges labels.csv                         # query_id,model,judge,correct per row
  cofail judges labels.jsonl --tie correct --json
  cofail judges labels.csv --judge-column grader --out judges.h5
"""


def add_parser(sub) -> None:
    p = add_command(
        sub,
        "judges",
        help="judge panel: Fleiss' and Cohen's kappa, beta under each grading rule",
        description="Reads one label per (query, model, judge) from a long CSV or JSONL "
        "(columns query_id, model, judge, correct). Reports Fleiss' kappa over the "
        "cells every judge graded, Cohen's kappa for every pair of judges, each "
        "judge's acceptance rate, the majority label with a stated tie rule, and "
        "beta (all models wrong) with Clopper-Pearson intervals under the "
        "unanimous rule (correct only if every judge accepts), the majority rule "
        "and the lenient rule (correct if any judge accepts), with McNemar's exact "
        "test of unanimous vs lenient beta.",
        examples=EXAMPLES,
    )
    p.add_argument("file", type=input_file, metavar="FILE", help="judge labels: long CSV or JSONL")
    p.add_argument("--judge-column", default="judge", help="column naming the judge")
    p.add_argument("--label-column", default="correct", help="column with the judge's 0/1 verdict")
    p.add_argument(
        "--tie",
        default="wrong",
        choices=("wrong", "correct"),
        help="majority rule: what a tie between judges counts as",
    )
    add_alpha_args(p)
    p.set_defaults(func=run)


def run(args) -> int:
    from .._src.policies.judges import judge_panel, read_judge_labels

    check_alpha(args)
    lab, qids, models, judges = read_judge_labels(
        args.file, judge_key=args.judge_column, label_key=args.label_column
    )
    r = judge_panel(lab, judges, tie=args.tie, alpha=args.alpha)
    return finish_tree(args, "judges", r.to_tree(models),
                       "Fleiss kappa; Cohen kappa; Clopper-Pearson; McNemar exact",
                       lambda res: render(res, args, qids), seed=False,
                       numbers_as_variables=False)


def render(r, args, qids) -> str:
    """The text report of a judges result (its JSON form)."""
    judges, models = r["judges"], r["models"]
    ck, rate = r["cohen_kappa"], r["judge_accept_rate"]
    J = len(judges)
    conf = f"{1 - args.alpha:.0%}"
    lines = [
        f"input: {args.file}: {len(qids)} queries, {len(models)} models, {J} judges",
        f"Fleiss' kappa: {r['fleiss_kappa']:.4f} (over {r['n_cells_all_judges']} cells every judge graded)",
        "",
        "Cohen's kappa for each pair, and each judge's acceptance rate:",
        fmt_table(
            [
                (
                    judges[a],
                    *[f"{ck[a, b]:.3f}" for b in range(J)],
                    f"{rate[judges[a]]:.3f}",
                )
                for a in range(J)
            ],
            header=("judge", *judges, "accepts"),
        ),
        "",
        f"beta under each grading rule ({conf} Clopper-Pearson); majority ties count as "
        f"{args.tie} ({r['majority_ties']} tied cells):",
        fmt_table(
            [
                (rule, f"{v['beta']:.4f} {ci(*v['ci'])}", f"{v['K']}/{v['n']}")
                for rule, v in r["rules"].items()
            ],
            header=("rule", "beta [CI]", "all wrong"),
        ),
    ]
    u = r["unanimous_vs_lenient"]
    lines.append(
        f"unanimous - lenient beta: {u['difference']:+.4f} ({u['only_unanimous']} queries all wrong "
        f"only under the unanimous rule); p = {u['p_value']:.4g}, {u['test']}"
    )
    return "\n".join(lines)
