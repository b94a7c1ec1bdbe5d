"""``cofail convert``: any supported input to wide CSV, long CSV/JSONL, HDF5 or EEE JSONL."""

from __future__ import annotations

import inspect
import os

from .common import (
    add_command,
    add_matrix_input_args,
    emit_json,
    fmt_table,
    input_arg,
    matrix_options,
    output_file,
    report_notes,
)

EXAMPLES = """\
  cofail convert logs/ --to matrix.csv                   # Inspect AI logs -> wide CSV
  cofail convert logs/ --to cells.jsonl --scorer match --partial missing
  cofail convert benchmark_output/runs/v1 --to helm.h5 --metric exact_match
  cofail convert /tmp/evallogs --to evals.csv --format openai-evals
  cofail convert details/ --to pool_samples.jsonl        # Parquet -> Every Eval Ever JSONL
  cofail convert results.csv --to results.h5 --missing drop-queries
"""

# loader option name -> (flag, help): convert's own; the shared importer options
# (--scorer, --task, --metric, --filter, --latest, --reduce) come from add_matrix_input_args.
LOADER_OPTIONS = {
    "partial": (
        "--partial",
        "Inspect: what a 'P' (partial) score counts as: wrong, correct, missing",
    ),
    "noanswer": (
        "--noanswer",
        "Inspect: what an 'N' (no answer) score counts as: wrong, correct, missing",
    ),
    "threshold": (
        "--threshold",
        "Inspect/HELM: numeric scores at or above this are correct; None: 1.0",
    ),
    "score_key": ("--score-key", "Inspect: key to read from dict-valued scores"),
    "model": ("--model", "OpenAI evals/Parquet: model name for a single file without one"),
    "split": ("--split", "HELM: only stats of this split"),
}


def add_parser(sub) -> None:
    from .._src.io import LOADERS
    from .._src.io.export import SAVE_FORMATS

    p = add_command(
        sub,
        "convert",
        help="convert any supported input to CSV, JSONL, Parquet, HDF5 or EEE",
        description="Read an outcome matrix in any supported format (wide/long CSV, JSONL, HDF5, "
        "solved-id folders, lm-evaluation-harness, Inspect AI, HELM, OpenAI evals, "
        "Every Eval Ever, Parquet details) and write it as a wide CSV, long CSV or "
        "JSONL, long Parquet, cofail HDF5 or Every Eval Ever instance JSONL. The output is written "
        "atomically: whole or not at all.",
        examples=EXAMPLES,
    )
    p.add_argument("file", type=input_arg, metavar="IN", help="input file or folder")
    p.add_argument(
        "--to", type=output_file,
        required=True,
        metavar="OUT",
        help="output file: .csv (wide), .jsonl (long), .parquet (long), .h5, *_samples.jsonl (EEE)",
    )
    p.add_argument(
        "--to-format",
        default=None,
        choices=SAVE_FORMATS,
        help="output format; None: from the --to file name",
    )
    p.add_argument(
        "--format", default=None, choices=list(LOADERS), help="input format (detected when omitted)"
    )
    p.add_argument(
        "--missing",
        default="error",
        choices=("error", "drop-queries", "drop-models"),
        help="what to do with missing cells",
    )
    p.add_argument("--models", default=None, help="comma-separated model names to keep")
    add_matrix_input_args(p)
    for name, (flag, help_) in LOADER_OPTIONS.items():
        p.add_argument(
            flag,
            dest=f"opt_{name}",
            metavar=name.upper(),
            default=None,
            type=float if name == "threshold" else str,
            help=help_,
        )
    p.add_argument(
        "--evaluation-name",
        default=None,
        help="EEE output: the evaluation_name; None: the input's name",
    )
    p.add_argument("--json", action="store_true", help="print a JSON summary instead of text")
    p.set_defaults(func=run)


def detect_format(path: str) -> str | None:
    """The name of the first registered format whose detector accepts ``path``."""
    from .._src.io import detect_format as detect

    return detect(path)


def _options(args, fmt: str | None) -> dict:
    from .._src.errors import InputError
    from .._src.io import LOADERS

    opts = {
        name: getattr(args, f"opt_{name}")
        for name in LOADER_OPTIONS
        if getattr(args, f"opt_{name}") is not None
    }
    if opts and fmt is not None:
        params = inspect.signature(LOADERS[fmt][1]).parameters
        for name in opts:
            if name not in params:
                raise InputError(
                    f"{LOADER_OPTIONS[name][0]} does not apply to format {fmt!r}",
                    source=args.file,
                    where=LOADER_OPTIONS[name][0],
                    hint="drop the option, or pass --format if the format was misdetected",
                )
    return opts


def run(args) -> int:
    from .._src.errors import InputError
    from .._src.h5 import provenance
    from .._src.io import load_matrix
    from .._src.io.export import format_for_path, save_matrix

    if not os.path.exists(args.file):
        raise InputError("no such file or folder", source=args.file, hint="check the path")
    fmt_in = args.format or detect_format(args.file)
    opts = _options(args, fmt_in)
    m = load_matrix(args.file, args.format, missing=args.missing, **opts, **matrix_options(args))
    report_notes(m.notes)  # stderr; the choices also go into the provenance below
    if args.models:
        names = [s.strip() for s in args.models.split(",") if s.strip()]
        if len(names) < 2:
            raise InputError(
                "name at least 2 models",
                where="--models",
                hint="give a comma-separated list of at least two model names",
            )
        m = m.select_models(names)
    fmt_out = args.to_format or format_for_path(args.to)
    config = {k: v for k, v in vars(args).items() if k != "func"}
    prov = provenance(
        input_path=args.file,
        config=config,
        method="convert",
        extra={"input_format": fmt_in, "output_format": fmt_out},
    )
    _, notes = save_matrix(m, args.to, fmt_out, attrs=prov, evaluation_name=args.evaluation_name)
    all_notes = list(m.notes) + notes
    summary = {
        "input": args.file,
        "input_format": fmt_in,
        "output": args.to,
        "output_format": fmt_out,
        "n": m.n,
        "k": m.k,
        "models": list(m.models),
        "repeated_samples": 0 if m.samples is None else int(m.samples.shape[0]),
        "cell_columns": list(m.cell_meta),
        "query_columns": list(m.query_meta),
        "all_wrong": int(m.all_wrong.sum()),
        "notes": all_notes,
    }
    if args.json:
        emit_json("convert", summary, prov)
        return 0
    report_notes(notes)
    rows = [
        ("input", f"{args.file} ({fmt_in or args.format})"),
        ("queries x models", f"{m.n} x {m.k}"),
        ("repeated samples", summary["repeated_samples"] or "none"),
        ("per-cell columns", ", ".join(m.cell_meta) or "none"),
        ("per-query columns", ", ".join(m.query_meta) or "none"),
        ("output", f"{args.to} ({fmt_out})"),
    ]
    print(fmt_table(rows))
    print(f"wrote {args.to}")
    return 0
