"""``cofail report RESULTS.h5``: the figures of any results file (PNG, SVG, PDF)."""

from __future__ import annotations

from .common import add_command, input_file, output_dir

EXAMPLES = """\
  cofail report results/example.h5                  # a sweep: figures in example_figures/
  cofail certify results.csv --out cert.h5 && cofail report cert.h5 --format png,pdf
  cofail correlations results.csv --out corr.h5 && cofail report corr.h5 --outdir figs
"""


def add_parser(sub) -> None:
    p = add_command(
        sub, "report", help="figures of any results file (PNG, SVG, PDF)",
        description="Figures of a results file, chosen by what wrote it: certify (beta as "
                    "models are added, with its Clopper-Pearson band), correlations (clustered "
                    "heatmap of the tetrachoric correlations), identify and counterexample "
                    "(the beta range against the Gaussian point and the observed beta), vote "
                    "(accuracy against the single best and the ceiling; vote gain vs mean "
                    "correlation), route (cost-quality frontier; realized fraction of G), "
                    "cascade (cost-quality frontier), ensembles (same- vs mixed-model), sweep "
                    "(the four sweep figures, PNG).",
        examples=EXAMPLES)
    p.add_argument("results", type=input_file, metavar="RESULTS.h5",
                   help="a results file written with --out (or by 'cofail sweep')")
    p.add_argument("--outdir", type=output_dir, default=None,
                   help="folder for the figures (default: RESULTS_figures beside the file)")
    p.add_argument("--format", default="png", metavar="FMT[,FMT]",
                   help="figure formats, comma-separated: png, svg, pdf (default: png)")
    p.set_defaults(func=run)


def run(args) -> int:
    from .._src.figures import parse_formats, write_report

    formats = parse_formats(args.format)
    for path in write_report(args.results, args.outdir, formats):
        print(f"wrote {path}")
    return 0
