"""``cofail formats``: beta under two answer formats of the same questions, with exact tests."""

from __future__ import annotations

from ._policy_common import add_alpha_args, check_alpha, ci, finish_tree
from .common import add_command, add_matrix_input_args, fmt_table, input_arg, matrix_options, report_notes

EXAMPLES = """\
  cofail formats mc.csv free.csv                   # e.g. multiple choice vs free response
  cofail formats mc.csv free.csv --names mc,free --json
  cofail formats mc.csv free.csv --unpaired boschloo --out formats.h5
"""


def add_parser(sub) -> None:
    p = add_command(
        sub,
        "formats",
        help="beta under two answer formats: common and full sets, exact tests",
        description="Two outcome matrices of the same questions under different answer formats "
        "(for example multiple choice vs free response), matched by query id. "
        "Reports beta (all models wrong) in each with Clopper-Pearson intervals, on "
        "the questions common to both and on each full set. The difference on the "
        "common questions is tested with McNemar's exact test on the paired "
        "all-wrong indicators (with a conditional exact interval); the full sets "
        "with Fisher's exact test (or Boschloo's), which treats them as independent "
        "samples although they share questions.",
        examples=EXAMPLES,
    )
    p.add_argument("file_a", type=input_arg, metavar="FILE_A",
                   help="outcome matrix under the first format")
    p.add_argument("file_b", type=input_arg, metavar="FILE_B",
                   help="outcome matrix under the second format")
    p.add_argument("--names", default="A,B", help="labels of the two formats")
    p.add_argument(
        "--format", default=None, help="input format of both files (detected when omitted)"
    )
    p.add_argument(
        "--missing",
        default="error",
        choices=("error", "drop-queries", "drop-models"),
        help="what to do with missing cells",
    )
    p.add_argument(
        "--unpaired",
        default="fisher",
        choices=("fisher", "boschloo"),
        help="exact test for the full sets",
    )
    add_matrix_input_args(p)
    add_alpha_args(p)
    p.set_defaults(func=run)


def run(args) -> int:
    from .._src.errors import InputError
    from .._src.h5 import provenance
    from .._src.io import load_matrix
    from .._src.policies.formats import compare_formats

    names = [s.strip() for s in args.names.split(",")]
    if len(names) != 2 or not all(names) or names[0] == names[1]:
        raise InputError(
            f"{args.names!r} is not two distinct labels",
            where="--names",
            hint="write --names mc,free",
        )
    check_alpha(args)
    ma = load_matrix(args.file_a, args.format, missing=args.missing, **matrix_options(args))
    mb = load_matrix(args.file_b, args.format, missing=args.missing, **matrix_options(args))
    report_notes(ma.notes + mb.notes)
    r = compare_formats(ma.correct, ma.query_ids, mb.correct, mb.query_ids, alpha=args.alpha,
                        unpaired=args.unpaired, models_a=ma.models, models_b=mb.models)
    if r.common.n == 0:
        raise InputError(
            "the two files share no query id",
            source=f"{args.file_a}, {args.file_b}",
            where="query_id",
            hint="the formats must be of the same questions, with the same ids",
        )
    method = ("Clopper-Pearson; McNemar exact (paired); "
              f"{'Fisher' if args.unpaired == 'fisher' else 'Boschloo'} exact (full sets)")
    extra = {"input_path_b": args.file_b,
             "input_sha256_b": provenance(input_path=args.file_b)["input_sha256"]}
    return finish_tree(args, "formats", r.to_tree(names), method,
                       lambda res: render(res, args, ma, mb), inputs=args.file_a, extra=extra,
                       seed=False, numbers_as_variables=False)


def render(r, args, ma, mb) -> str:
    """The text report of a formats result (its JSON form)."""
    names, c, f = r["names"], r["common"], r["full"]
    conf = f"{1 - args.alpha:.0%}"

    def b(x):
        return f"{x['beta']:.4f} {ci(*x['ci'])} ({x['K']}/{x['n']})"

    lines = [
        f"{names[0]}: {args.file_a} ({ma.n} queries, {ma.k} models)",
        f"{names[1]}: {args.file_b} ({mb.n} queries, {mb.k} models)",
        "",
        f"beta (all models wrong), {conf} Clopper-Pearson intervals:",
        fmt_table(
            [("common questions", b(c["a"]), b(c["b"])), ("full sets", b(f["a"]), b(f["b"]))],
            header=("", names[0], names[1]),
        ),
        "",
        fmt_table(
            [
                (
                    f"common: all wrong only in {names[0]} / only in {names[1]} / both",
                    f"{c['only_a']} / {c['only_b']} / {c['both']}",
                ),
                (
                    f"common: beta {names[0]} - beta {names[1]}",
                    f"{c['difference']:+.4f} {ci(*c['difference_ci'])} (conditional exact)",
                ),
                ("common: p-value", f"{c['p_value']:.4g}  {c['test']}"),
                (f"full sets: beta {names[0]} - beta {names[1]}", f"{f['difference']:+.4f}"),
                ("full sets: p-value", f"{f['p_value']:.4g}  {f['test']}"),
            ]
        ),
    ]
    return "\n".join(lines)
