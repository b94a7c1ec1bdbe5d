"""Importer options and repeated-sample reduction, shared by every reader of a matrix.

One definition of the options that choose *what* a harness folder contributes to the
matrix (``scorer``, ``task``, ``metric``, ``filter``, ``latest``) and of how repeated
samples (epochs, ``n`` generations per prompt) become one 0/1 cell (``reduce``). The
CLI (every command that reads a matrix), the sweep config and :func:`load_matrix` all
use these names.

A choice a loader makes on the user's behalf (a metric among several, an answer filter,
the first epoch) is a note starting with :data:`CHOICE`; the CLI prints all of them on
one line and records them in the results' provenance.
"""

from __future__ import annotations

import dataclasses
import inspect

import numpy as np

from ..errors import InputError
from ..matrix import OutcomeMatrix

# name -> help; every command that reads a matrix takes them as --name, the sweep config
# as keys, load_matrix as keyword arguments.
IMPORT_OPTIONS: dict[str, str] = {
    "scorer": "Inspect AI: the scorer whose value decides correctness (when a log has several)",
    "task": "the task / eval / scenario / evaluation to read when the input holds several",
    "metric": "lm-eval, HELM, Every Eval Ever, Parquet: the 0/1 metric that decides "
              "correctness (default: the first present of acc, exact_match, em, acc_norm, "
              "pass@1, correct; the choice is noted)",
    "filter": "lm-eval, Every Eval Ever, Parquet: the answer filter to read, e.g. strict-match "
              "(default: the first in the file; the choice is noted)",
    "latest": "lm-eval, Inspect AI: when a rerun left several logs for one task and model, "
              "keep the newest instead of stopping",
}

# How S repeated samples of one cell become one cell.
REDUCERS: dict[str, str] = {
    "first": "the first sample (pass@1 on sample 1; what a single run reports)",
    "mean": "the fraction of correct samples (a pass@1 estimate); fractional, so refused "
            "where 0/1 cells are needed",
    "majority": "correct when more than half of the samples are (majority@k; ties are wrong)",
    "any": "correct when any sample is (pass@k)",
    "all": "correct when every sample is",
}
DEFAULT_REDUCE = "first"
# Metric columns tried in this order when metric= is not given (lm-eval's own names).
DEFAULT_METRICS = ("acc", "exact_match", "em", "acc_norm", "pass@1", "correct")

CHOICE = "choice: "


def choice(text: str) -> str:
    """A note recording a choice made without being asked (see module docstring)."""
    return CHOICE + text


def latest_note(what: str, older) -> str:
    """The choice note of ``--latest``: which older files (``what``: "log", "sample file")
    were ignored, the first three by name."""
    import os

    return choice(f"kept the newest {what} per model (--latest); ignored {len(older)} older: "
                  + ", ".join(os.path.basename(f) for f in older[:3])
                  + (" ..." if len(older) > 3 else ""))


def split_notes(notes) -> tuple[list[str], list[str]]:
    """(choices without their prefix, other notes)."""
    choices = [n[len(CHOICE):] for n in notes if n.startswith(CHOICE)]
    return choices, [n for n in notes if not n.startswith(CHOICE)]


def check_options(loader, fmt: str, options: dict, *, source: str | None = None) -> None:
    """An option the chosen format's loader does not take is an error naming it (loaders
    that swallow ``**_`` never see it silently dropped)."""
    params = inspect.signature(loader).parameters
    for name in options:
        if name not in params:
            flag = "--" + name.replace("_", "-")
            raise InputError(f"format {fmt!r} does not take {name}= ({flag})", source=source,
                             where=flag,
                             hint="drop the option, or pass --format if the format was misdetected")


def reduce_samples(samples, how: str = DEFAULT_REDUCE) -> np.ndarray:
    """Reduce repeated samples to one value per cell.

    Args:
      samples: int (S, n, k): 1 correct, 0 wrong, -1 missing.
      how: one of :data:`REDUCERS`. Missing samples are left out; a cell whose samples
        are all missing stays missing.

    Returns:
      int8 (n, k) with -1 for missing, or for ``"mean"`` float64 (n, k) with NaN for
      missing.
    """
    if how not in REDUCERS:
        raise ValueError(f"reduce_samples: how must be one of {', '.join(REDUCERS)}, got {how!r}")
    s = np.asarray(samples)
    if s.ndim != 3:
        raise ValueError(f"reduce_samples: samples must be (S, n, k), got shape {s.shape}")
    present = s >= 0
    n_present = present.sum(axis=0)
    n_correct = (s == 1).sum(axis=0)
    none = n_present == 0
    if how == "mean":
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(none, np.nan, n_correct / np.maximum(n_present, 1))
    if how == "first":
        # the first present sample (sample 0 unless it is missing)
        idx = np.argmax(present, axis=0)
        out = np.take_along_axis(s, idx[None], axis=0)[0].astype(np.int8)
    elif how == "majority":
        out = (2 * n_correct > n_present).astype(np.int8)
    elif how == "any":
        out = (n_correct > 0).astype(np.int8)
    else:  # all
        out = (n_correct == n_present).astype(np.int8)
    return np.where(none, np.int8(-1), out).astype(np.int8)


def apply_reduce(m: OutcomeMatrix, how: str = DEFAULT_REDUCE) -> OutcomeMatrix:
    """The matrix whose ``correct`` is its repeated samples reduced by ``how`` (the
    samples themselves are kept). No samples: unchanged. ``"mean"`` raises, since the
    matrix holds 0/1 cells; use :func:`reduce_samples` for the fractions."""
    if how not in REDUCERS:
        raise InputError(f"unknown reduction {how!r}", where="--reduce",
                         hint=f"use one of {', '.join(REDUCERS)}")
    if m.samples is None or m.samples.shape[0] < 2:
        return m
    S = m.samples.shape[0]
    if how == "mean":
        raise InputError(
            f"--reduce mean turns the {S} repeated samples per cell into fractions, and this "
            "analysis needs 0/1 cells", source=m.source, where="--reduce",
            hint="use --reduce first (pass@1), majority (majority@k), any (pass@k) or all; "
                 "for the fractions use reduce_samples(m.samples, 'mean') "
                 "(cofail_jax._src.io.options)")
    cells = reduce_samples(m.samples, how)
    if how == DEFAULT_REDUCE:
        text = (f"{S} repeated samples (epochs) per cell; the matrix is sample 1 "
                "(--reduce first; or majority, any, all)")
    else:
        text = f"{S} repeated samples (epochs) per cell reduced with --reduce {how}"
    # sample 0 decided which cells are present; a reduction never empties a cell
    correct = np.where(cells < 0, m.correct, cells == 1)
    return dataclasses.replace(m, correct=correct, notes=m.notes + (choice(text),))
