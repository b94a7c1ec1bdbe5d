"""``cofail report RESULTS.h5``: PNG figures of an underpricing sweep."""

from __future__ import annotations

from .common import add_command, input_file, output_dir

EXAMPLES = """\
  cofail report results/example.h5                  # figures beside it, in example_figures/
  cofail report sweep.h5 --outdir figs
"""


def add_parser(sub) -> None:
    p = add_command(
        sub, "report", help="figures of a sweep results file (PNG)",
        description="Four figures from a 'cofail sweep' results file: ratio vs pool size (median "
                    "and band), observed vs predicted beta by pool size (log axis), beta vs mean "
                    "pairwise correlation across subsets, and the bootstrap distribution of the "
                    "full-pool ratio.",
        examples=EXAMPLES)
    p.add_argument("results", type=input_file, metavar="RESULTS.h5",
                   help="results file written by 'cofail sweep'")
    p.add_argument("--outdir", type=output_dir, default=None,
                   help="folder for the PNGs (default: RESULTS_figures beside the file)")
    p.set_defaults(func=run)


def run(args) -> int:
    import os

    from .._src.errors import InputError
    from .._src.report import write_figures

    if not os.path.exists(args.results):
        raise InputError("results file not found", source=args.results,
                         hint="run 'cofail sweep CONFIG' first")
    for path in write_figures(args.results, args.outdir):
        print(f"wrote {path}")
    return 0
