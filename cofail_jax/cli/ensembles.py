"""``cofail ensembles``: same-model vs mixed-model ensembles at matched quality, from
repeated samples."""

from __future__ import annotations

import numpy as np

from ._policy_common import add_eval_args, check_eval_args, ci, finish_tree
from .common import (
    add_command,
    add_input_args,
    count,
    fmt_table,
    load_input,
    probability,
)

EXAMPLES = """\
  cofail ensembles long.csv                        # needs a 'sample' column (S >= 4 samples)
  cofail ensembles long.csv --size 3 --band 0.55,0.7 --partitions 60
  cofail ensembles long.csv --json --out ensembles.h5
  cofail ensembles long.csv --regrade              # regrade every sample's answer first
"""


def add_parser(sub) -> None:
    p = add_command(
        sub,
        "ensembles",
        help="same-model vs mixed-model ensembles at matched quality (repeated samples)",
        description="With S repeated samples per model (a 'sample' column in long format), "
        "compares ensembles of m samples of one model (errors highly correlated) "
        "with ensembles of one sample each from m different models whose "
        "accuracies lie in a band (matched quality, errors less correlated): the "
        "same number of samples on both sides. Votes are majorities over "
        "correctness bits (the optimistic binary approximation). Repeated over "
        "random sample-to-ensemble partitions: mean difference (mixed - same), "
        "range, share of partitions where mixing wins and a query-bootstrap "
        "interval. Also shows the best model mixed with the weakest ones against "
        "the best model alone.",
        examples=EXAMPLES,
    )
    add_input_args(p)
    p.add_argument("--size", type=count(1, 10_000), default=3, help="ensemble size m (odd)")
    p.add_argument(
        "--band",
        default=None,
        help="accuracy band lo,hi of the mixed pool (default: the --width window "
        "holding the most models)",
    )
    p.add_argument("--width", type=probability, default=0.1, help="width of the default band")
    p.add_argument(
        "--partitions", type=count(1, 10**6), default=60,
        help="random sample-to-ensemble partitions"
    )
    add_eval_args(p, split=False)
    p.add_argument("--regrade", action="store_true",
                   help="first regrade every sample's answer against the reference with the "
                        "answer checker (as 'cofail regrade'; needs answers and a reference)")
    from .audit import add_checker_args

    add_checker_args(p)
    p.set_defaults(func=run)


def _regraded(m, args):
    """(matrix, note) after --regrade (the answer checker over every sample), else (m, None)."""
    from .._src.errors import InputError

    if not args.regrade:
        return m, None
    from .._src.audit.regrade import regrade
    from .audit import check_checker_args

    rg = regrade(m, **check_checker_args(args))
    if rg.status != "ok":
        raise InputError(rg.status, source=m.source, where="--regrade",
                         hint="the long format needs 'answer' and 'reference' columns")
    return rg.matrix, (f"regraded {rg.n_checked} cells over {rg.n_samples} samples: "
                       f"{len(rg.flips)} wrong -> right (checker {rg.checker['checker']})")


def _band(spec: str | None):
    """--band lo,hi as a pair of floats, or None."""
    from .._src.errors import InputError

    if not spec:
        return None
    try:
        lo, hi = (float(x) for x in spec.split(","))
    except ValueError:
        raise InputError(
            f"{spec!r} is not lo,hi", where="--band", hint="write --band 0.55,0.7"
        ) from None
    return (lo, hi)


def run(args) -> int:
    import jax

    from .._src.errors import InputError
    from .._src.policies.ensembles import ensemble_comparison

    check_eval_args(args)
    m = load_input(args)
    if m.samples is None:
        raise InputError(
            "has no repeated samples",
            source=m.source,
            where="column 'sample'",
            hint="use long format with a 'sample' column numbering each model's "
            "repeated answers 0, 1, 2, ...",
        )
    m, regrade_line = _regraded(m, args)
    band = _band(args.band)
    if args.partitions < 2:
        raise InputError("must be at least 2", where="--partitions", hint="use 60")
    from .progress import progress_bar

    try:
        with progress_bar("ensembles", unit="steps") as bar:
            r = ensemble_comparison(
                jax.random.key(args.seed),
                m.samples,
                size=args.size,
                band=band,
                width=args.width,
                n_partitions=args.partitions,
                n_boot=args.n_boot,
                level=args.level,
                progress=bar,
            )
    except ValueError as e:
        raise InputError(
            str(e).replace("ensemble_comparison: ", ""),
            source=m.source,
            where="--size/--band",
            hint="change --size or --band",
        ) from None
    tree = r.to_tree(m.models)
    extra = {"regrade": regrade_line} if regrade_line else {}
    return finish_tree(args, "ensembles", tree, r.method, lambda t: render(t, m, args, regrade_line),
                       extra=extra)


def render(r, m, args, regrade_line) -> str:
    u = r["unequal"]
    lvl = int(args.level * 100)
    lines = [
        f"input: {m.source}",
        f"{m.n} queries ({r['n_dropped']} dropped for missing samples), {r['n_samples']} samples per model; "
        f"ensembles of {r['size']} samples; {r['n_partitions']} random partitions",
        f"band {r['band'][0]:.3f} .. {r['band'][1]:.3f}: "
        + ", ".join(f"{j} ({r['accuracy'][j]:.3f})" for j in r["band_models"]),
        f"votes: {r['label']}",
        "",
        fmt_table(
            [
                ("same-model ensemble (mean over band models)", f"{np.mean(r['same']):.4f}"),
                ("mixed-model ensemble", f"{np.mean(r['mixed']):.4f}"),
                (
                    "mixed - same: mean",
                    f"{r['mean_diff']:+.4f}  {ci(*r['diff_ci'])} ({lvl}% query bootstrap)",
                ),
                ("  range over partitions", f"{r['min_diff']:+.4f} .. {r['max_diff']:+.4f}"),
                ("  share of partitions mixing wins", f"{r['share_positive']:.2f}"),
                (
                    "best + weakest models vs best alone",
                    f"{u['mean_diff']:+.4f}  {ci(*u['diff_ci'])}  ({u['best']} with "
                    + ", ".join(u["weak_models"])
                    + ")",
                ),
            ]
        ),
    ]
    if regrade_line:
        lines.insert(1, regrade_line)
    return "\n".join(lines)
