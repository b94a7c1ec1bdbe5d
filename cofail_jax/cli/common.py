"""Pieces every command shares: reading the input, choosing models, writing JSON/HDF5."""

from __future__ import annotations

import argparse
import json
import math
import sys
from typing import Any

import numpy as np

JSON_SCHEMA = "cofail_jax.json/1"


class HelpFormatter(argparse.RawDescriptionHelpFormatter, argparse.ArgumentDefaultsHelpFormatter):
    """Keeps the examples' line breaks and shows defaults."""


def wrap_description(text: str, width: int = 88) -> str:
    """Fill each one-line paragraph of a description to ``width`` columns; paragraphs
    that already hold line breaks are kept as written (the house formatter keeps raw
    line breaks, so long one-line descriptions must be broken here)."""
    import textwrap

    paras = text.split("\n\n")
    return "\n\n".join(textwrap.fill(" ".join(p.split()), width) if "\n" not in p.strip() else p
                       for p in paras)


def add_command(sub, name: str, help: str, description: str, examples: str = ""):
    """A subcommand parser with the house formatter, a wrapped description and an
    examples epilog."""
    return sub.add_parser(name, help=help, description=wrap_description(description),
                          epilog=("examples:\n" + examples) if examples else None,
                          formatter_class=HelpFormatter)


def add_input_args(p, *, file_required: bool = False, models: bool = True) -> None:
    """FILE (default: the embedded example), --format, --missing and --models."""
    if file_required:
        p.add_argument("file", metavar="FILE", help="outcome matrix (wide/long CSV, JSONL, HDF5, folder)")
    else:
        p.add_argument("file", metavar="FILE", nargs="?", default=None,
                       help="outcome matrix (wide/long CSV, JSONL, HDF5, folder); "
                            "default: the embedded example (MATH level 5, 38 models)")
    p.add_argument("--format", default=None, help="input format (detected when omitted)")
    p.add_argument("--missing", default="error", choices=("error", "drop-queries", "drop-models"),
                   help="what to do with missing cells")
    if models:
        p.add_argument("--models", default=None,
                       help="comma-separated model names to analyse (default: all)")


def add_output_args(p) -> None:
    """--json (print JSON instead of a table) and --out (also write an HDF5 results file)."""
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.add_argument("--out", default=None, help="also write an HDF5 results file")


def input_path(args) -> str:
    if getattr(args, "file", None):
        return args.file
    from .._src.data import example_path

    return example_path()


def load_input(args):
    """The matrix named by the arguments, restricted to --models if given."""
    from .._src.io import load_matrix

    m = load_matrix(input_path(args), getattr(args, "format", None),
                    missing=getattr(args, "missing", "error"))
    if getattr(args, "models", None):
        names = [s.strip() for s in args.models.split(",") if s.strip()]
        from .._src.errors import InputError

        if len(names) < 2:
            raise InputError("name at least 2 models", where="--models",
                             hint="give a comma-separated list of at least two model names")
        m = m.select_models(names)
    for note in m.notes:
        print(f"note: {note}", file=sys.stderr)
    return m


def jsonable(obj: Any) -> Any:
    """Plain JSON values: numpy scalars/arrays to Python, NaN/inf to None."""
    if isinstance(obj, dict):
        return {str(k): jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return jsonable(obj.tolist())
    if isinstance(obj, (np.bool_,)):
        return bool(obj)
    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        f = float(obj)
        return f if math.isfinite(f) else None
    return obj


def emit_json(command: str, result: Any, provenance: dict | None = None, file=None) -> None:
    """Print the versioned JSON document every command's --json writes."""
    doc = {"schema": JSON_SCHEMA, "command": command, "result": jsonable(result)}
    if provenance is not None:
        doc["provenance"] = jsonable(provenance)
    json.dump(doc, file or sys.stdout, indent=2, allow_nan=False)
    (file or sys.stdout).write("\n")


def finish(args, command: str, result: Any, provenance: dict | None, render) -> int:
    """A command's last step: the JSON document with --json, else the text ``render()``
    returns and, with --out, the file written. The exit status (0)."""
    if args.json:
        emit_json(command, result, provenance)
        return 0
    print(render())
    if args.out:
        print(f"wrote {args.out}")
    return 0


def fmt_table(rows: list[tuple], header: tuple | None = None) -> str:
    """A plain aligned text table."""
    rows = [tuple(str(c) for c in r) for r in rows]
    if header:
        rows = [tuple(str(h) for h in header)] + rows
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in rows]
    if header:
        lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)
