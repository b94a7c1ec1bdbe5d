"""Pieces every command shares: reading the input, choosing models, writing JSON/HDF5."""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import sys
from typing import Any

import numpy as np

JSON_SCHEMA = "cofail_jax.json/1"


class HelpFormatter(argparse.RawDescriptionHelpFormatter, argparse.ArgumentDefaultsHelpFormatter):
    """Keeps the examples' line breaks and shows defaults."""


# The one place where library parameter names become flags: an InputError's ``param`` and
# every ``name=`` of these names in its hint are shown as the command-line flag.
PARAM_FLAGS = {"models": "--models", "format": "--format", "missing": "--missing",
               "order": "--order"}
_PARAM_RE = re.compile(r"(?<![\w-])(" + "|".join(PARAM_FLAGS) + r")=")


def error_message(e) -> str:
    """An :class:`InputError` in the CLI's words: parameters named by their flags."""
    if e.param and not e.where:
        e.where = PARAM_FLAGS.get(e.param, "--" + e.param.replace("_", "-"))
    if e.hint:
        e.hint = _PARAM_RE.sub(lambda mt: PARAM_FLAGS[mt.group(1)] + " ", e.hint)
    return e.format()


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


# ---- option validators (argparse ``type=``): one definition each -------------------------
# A bad value fails at parse time, before any file is read or anything is compiled, with
# exit status 2 and one line naming the option and the allowed range.

SEED_MAX = 2**32 - 1
# Largest outcome matrix a command may be asked to create (cells = queries x models):
# 2e8 cells are 200 MB as bits-in-bytes and a few GB in the float intermediates.
MAX_CELLS = 200_000_000


def _interval(lo, hi, lo_open: bool = False, hi_open: bool = False) -> str:
    return f"{'(' if lo_open else '['}{lo}, {hi}{')' if hi_open else ']'}"


def int_range(lo: int, hi: int, what: str = "an integer"):
    """``type=`` validator: an integer in [lo, hi]."""

    def parse(text: str) -> int:
        rng = _interval(lo, hi)
        try:
            v = int(str(text).strip().replace("_", ""), 10)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be {what} in {rng}, got {text!r}") from None
        if not lo <= v <= hi:
            raise argparse.ArgumentTypeError(f"must be {what} in {rng}, got {text}")
        return v

    parse.__name__ = "integer"
    return parse


def float_range(lo: float, hi: float, *, lo_open: bool = False, hi_open: bool = False,
                what: str = "a number"):
    """``type=`` validator: a finite number in the interval (NaN and inf rejected)."""

    def parse(text: str) -> float:
        rng = _interval(lo, hi, lo_open, hi_open)
        try:
            v = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be {what} in {rng}, got {text!r}") from None
        ok = (math.isfinite(v) and (lo < v if lo_open else lo <= v)
              and (v < hi if hi_open else v <= hi))
        if not ok:
            raise argparse.ArgumentTypeError(f"must be {what} in {rng}, got {text}")
        return v

    parse.__name__ = "number"
    return parse


seed_int = int_range(0, SEED_MAX, "an integer seed")
probability = float_range(0.0, 1.0, what="a probability")
open_probability = float_range(0.0, 1.0, lo_open=True, hi_open=True, what="a probability")
nonneg_float = float_range(0.0, 1e300, what="a non-negative number")
positive_float = float_range(0.0, 1e300, lo_open=True, what="a positive number")


def count(lo: int = 0, hi: int = 10**9):
    """``type=`` validator for a count (replicates, samples, sizes) in [lo, hi]."""
    return int_range(lo, hi, "a whole number")


class InputPath(str):
    """A path the run reads (so no output of the same run may replace it)."""


class OutputPath(str):
    """A file the run writes."""


def input_arg(text: str) -> InputPath:
    """``type=`` for an input file or folder: existence is checked by the loader, which
    names the file; the tag lets the CLI refuse an output that would replace it."""
    return InputPath(text)


def input_file(text: str) -> InputPath:
    """``type=`` for an input that must be a file (not a folder)."""
    if os.path.isdir(text):
        raise argparse.ArgumentTypeError(f"{text} is a directory, not a file; name the file")
    return InputPath(text)


def output_file(text: str) -> OutputPath:
    """``type=`` for an output file: not an existing directory, and its folder (if it
    exists) is a folder."""
    if not str(text).strip():
        raise argparse.ArgumentTypeError("is empty; name the output file")
    if os.path.isdir(text):
        raise argparse.ArgumentTypeError(f"{text} is a directory; name a file inside it, "
                                         f"e.g. {os.path.join(text, 'results.h5')}")
    parent = os.path.dirname(os.path.abspath(text))
    while parent and not os.path.exists(parent):
        parent = os.path.dirname(parent) if os.path.dirname(parent) != parent else ""
    if parent and not os.path.isdir(parent):
        raise argparse.ArgumentTypeError(f"{text}: {parent} is a file, not a folder")
    return OutputPath(text)


def output_dir(text: str) -> OutputPath:
    """``type=`` for an output folder: not an existing file."""
    if os.path.exists(text) and not os.path.isdir(text):
        raise argparse.ArgumentTypeError(f"{text} exists and is not a directory")
    return OutputPath(text)


def add_seed_arg(p, help: str = "PRNG seed") -> None:
    """--seed: the one definition every command uses."""
    p.add_argument("--seed", type=seed_int, default=0, help=f"{help} (0 .. 2**32-1)")


def run_paths(args) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """(option, path) of the inputs and of the outputs named on the command line."""
    ins, outs = [], []
    for dest, v in vars(args).items():
        opt = "--" + dest.replace("_", "-")
        if isinstance(v, InputPath):
            ins.append((opt, str(v)))
        elif isinstance(v, OutputPath):
            outs.append((opt, str(v)))
    return ins, outs


def add_matrix_input_args(p, *, reduce: bool = True) -> None:
    """The importer options (--scorer, --task, --metric, --filter, --latest) and --reduce:
    one definition for every command that reads a matrix; :func:`matrix_options` turns
    them into ``load_matrix`` keywords."""
    from .._src.io.options import DEFAULT_REDUCE, IMPORT_OPTIONS, REDUCERS

    g = p.add_argument_group(
        "importer options", "which part of a harness's logs becomes the matrix; each applies "
        "only to the formats named (an option the detected format does not take is an error)")
    for name, help_ in IMPORT_OPTIONS.items():
        if name == "latest":
            g.add_argument("--latest", action="store_true", default=False, help=help_)
        else:
            g.add_argument(f"--{name}", default=None, metavar=name.upper(), help=help_)
    if reduce:
        g.add_argument(
            "--reduce", default=DEFAULT_REDUCE, choices=tuple(REDUCERS),
            help="how repeated samples (Inspect epochs, EEE/long 'sample' rows) become one "
                 "0/1 cell: " + "; ".join(f"{k}: {v}" for k, v in REDUCERS.items())
                 + ". Every command that reads a matrix applies the same rule")


def matrix_options(args) -> dict:
    """``load_matrix`` keywords from the options of :func:`add_matrix_input_args`."""
    from .._src.io.options import IMPORT_OPTIONS

    opts = {name: getattr(args, name, None) for name in IMPORT_OPTIONS}
    opts = {k: v for k, v in opts.items() if v not in (None, False)}
    if hasattr(args, "reduce"):
        opts["reduce"] = args.reduce
    return opts


def report_notes(notes) -> None:
    """Print a loader's notes on stderr: its choices on ONE line (also recorded in the
    results' provenance as ``input_choices``), then the other notes one per line."""
    from .._src.h5 import record_input_choices
    from .._src.io.options import split_notes

    choices, other = split_notes(notes)
    if choices:
        print("note: chosen for you: " + "; ".join(choices), file=sys.stderr)
        record_input_choices(choices)
    for note in other:
        print(f"note: {note}", file=sys.stderr)


def add_input_args(p, *, file_required: bool = False, models: bool = True) -> None:
    """FILE (default: the embedded example), --format, --missing, --models and the
    importer options (:func:`add_matrix_input_args`)."""
    if file_required:
        p.add_argument("file", metavar="FILE", type=input_arg,
                       help="outcome matrix (wide/long CSV, JSONL, HDF5, folder)")
    else:
        p.add_argument("file", metavar="FILE", nargs="?", default=None, type=input_arg,
                       help="outcome matrix (wide/long CSV, JSONL, HDF5, folder); "
                            "default: the embedded example (MATH level 5, 38 models)")
    p.add_argument("--format", default=None, help="input format (detected when omitted)")
    p.add_argument("--missing", default="error", choices=("error", "drop-queries", "drop-models"),
                   help="what to do with missing cells")
    if models:
        p.add_argument("--models", default=None,
                       help="comma-separated model names to analyse (default: all)")
    add_matrix_input_args(p)


def add_output_args(p) -> None:
    """--json (print JSON instead of a table) and --out (also write an HDF5 results file)."""
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.add_argument("--out", default=None, type=output_file, help="also write an HDF5 results file")


def input_path(args) -> str:
    if getattr(args, "file", None):
        return args.file
    from .._src.data import example_path

    return example_path()


def load_input(args):
    """The matrix named by the arguments, restricted to --models if given."""
    from .._src.io import load_matrix

    m = load_matrix(input_path(args), getattr(args, "format", None),
                    missing=getattr(args, "missing", "error"), **matrix_options(args))
    if getattr(args, "models", None):
        names = [s.strip() for s in args.models.split(",") if s.strip()]
        from .._src.errors import InputError

        if len(names) < 2:
            raise InputError("name at least 2 models", where="--models",
                             hint="give a comma-separated list of at least two model names")
        m = m.select_models(names)
    report_notes(m.notes)
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
