"""``cofail cascade``: cascades by cost (confidence threshold, disagreement) on held-out
queries: accuracy and cost per correct answer at each operating point vs the single best."""

from __future__ import annotations

import numpy as np

from ._policy_common import (
    add_eval_args,
    check_eval_args,
    ci,
    finish_tree,
    get_answers,
    parse_costs,
)
from .common import add_command, add_input_args, count, fmt_table, load_input

EXAMPLES = """\
  cofail cascade long.csv                          # 'cost' and 'confidence' columns
  cofail cascade long.csv --score verifier --thresholds 11
  cofail cascade results.csv --models a,b,c --costs a=0.1,b=0.5,c=3   # 0/1 matrix: disagreement only
  cofail cascade long.csv --json --out cascade.h5
"""


def add_parser(sub) -> None:
    p = add_command(
        sub,
        "cascade",
        help="cost-ordered cascades: accuracy and cost per correct vs the single best",
        description="Orders the models by cost (cheapest first) and scores two cascades on "
        "held-out queries: escalate when the current model's confidence (or "
        "verifier score) is below a threshold (one operating point per threshold, "
        "chosen as quantiles of the training scores), and escalate when the two "
        "cheapest models disagree (one operating point per escalation target; on a "
        "0/1 matrix without answers, agreement of correctness bits is used, the "
        "binary approximation). Every model asked is paid for. Each operating point "
        "gets its accuracy and cost per correct answer with query-bootstrap "
        "intervals, next to the single best (chosen on the training split).",
        examples=EXAMPLES,
    )
    add_input_args(p)
    p.add_argument(
        "--costs",
        default=None,
        help="per-model costs model=value,... (default: the file's 'cost' column)",
    )
    p.add_argument(
        "--score",
        default="auto",
        choices=("auto", "confidence", "verifier", "none"),
        help="which per-cell score drives the threshold cascade (auto: confidence, "
        "else verifier, else none)",
    )
    p.add_argument(
        "--thresholds",
        type=count(1, 10_000),
        default=11,
        help="number of threshold quantiles of the training scores",
    )
    add_eval_args(p)
    p.set_defaults(func=run)


def run(args) -> int:
    import jax

    from .._src.errors import InputError
    from .._src.policies.bootstrap import train_test_split
    from .._src.policies.cascade import evaluate_cascades

    check_eval_args(args)
    m = load_input(args)
    costs = parse_costs(args.costs, m)
    if costs is None:
        raise InputError(
            "has no costs",
            source=m.source,
            where="column 'cost'",
            hint="add a 'cost' column (long format) or pass --costs model=value,...",
        )
    score_name = args.score
    if score_name == "auto":
        score_name = next((s for s in ("confidence", "verifier") if s in m.cell_meta), "none")
    if score_name != "none" and score_name not in m.cell_meta:
        raise InputError(f"has no {score_name!r} column", source=m.source,
                         where=f"--score {score_name}",
                         hint="choose another --score, or --score none")
    conf = None if score_name == "none" else np.asarray(m.cell_meta[score_name], np.float64)
    if conf is None and m.k < 3:
        raise InputError(
            "with no confidence scores the disagreement cascade needs at least 3 models",
            source=m.source,
            hint="add models, or a 'confidence' column",
        )
    k_split, k_boot = jax.random.split(jax.random.key(args.seed))
    train, test = train_test_split(k_split, m.n, args.test_fraction)
    from .progress import progress_bar

    with progress_bar("cascade bootstrap", unit="replicates") as bar:
        ev = evaluate_cascades(k_boot, m.correct, costs, confidence=conf,
                               answers=get_answers(m), train=train, test=test,
                               n_thresholds=args.thresholds, n_boot=args.n_boot,
                               level=args.level, progress=bar)
    tree = {"n": m.n, "k": m.k, "n_train": int(train.sum()), "score": score_name,
            **ev.to_tree(m.models)}
    return finish_tree(args, "cascade", tree, "cost-ordered cascades; percentile query bootstrap",
                       lambda r: render(r, m, args))


def _money(x):
    return "inf" if not np.isfinite(x) else f"{x:.4g}"


def render(r, m, args) -> str:
    sb = r["single_best"]
    lines = [
        f"input: {m.source}",
        f"queries: {r['n']} ({r['n_train']} train, {r['n_test']} test, seed {args.seed}); "
        f"cost order: {' < '.join(r['cost_order'])}",
        f"single best (chosen on train): {sb['model']}: accuracy {sb['accuracy']:.4f}, "
        f"mean cost {sb['mean_cost']:.4g}, cost per correct {_money(sb['cost_per_correct'])}",
        "",
        "each model on the test queries:",
        fmt_table(
            [
                (
                    name,
                    f"{v['accuracy']:.4f}",
                    f"{v['mean_cost']:.4g}",
                    _money(v["cost_per_correct"]),
                )
                for name, v in r["models"].items()
            ],
            header=("model", "accuracy", "mean cost", "cost per correct"),
        ),
    ]
    lvl = int(args.level * 100)
    for rule, cv in r["cascades"].items():
        lines += ["", f"{rule} cascade ({cv['label']}); {lvl}% query-bootstrap intervals:"]
        rows = []
        for t in range(len(cv["accuracy"])):
            point = (
                f"t = {cv['threshold'][t]:.3g}" if rule == "confidence" else f"-> {cv['target'][t]}"
            )
            rows.append(
                (
                    point,
                    f"{cv['escalation_rate'][t]:.2f}",
                    f"{cv['accuracy'][t]:.4f} {ci(*cv['accuracy_ci'][t])}",
                    f"{cv['accuracy_minus_single_best'][t]:+.4f} {ci(*cv['accuracy_minus_single_best_ci'][t])}",
                    f"{_money(cv['cost_per_correct'][t])} "
                    f"[{_money(cv['cost_per_correct_ci'][t][0])}, {_money(cv['cost_per_correct_ci'][t][1])}]",
                )
            )
        lines.append(
            fmt_table(
                rows,
                header=(
                    "operating point",
                    "escalated",
                    "accuracy [CI]",
                    "vs single best [CI]",
                    "cost per correct [CI]",
                ),
            )
        )
    return "\n".join(lines)
