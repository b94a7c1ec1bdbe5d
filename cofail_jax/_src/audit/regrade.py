"""Regrading every cell with the equivalence checker, so a defective grader is fixed
everywhere, not only in the all-wrong tail.

A grader that cannot parse ``x = 5`` marks it wrong on every query, not only on the
ones where every model fails; fixing only the audited tail would bias the per-model
accuracies and the pairwise tables the copula models are calibrated on. For each cell
with an answer and a reference, :func:`regrade` asks
:func:`~cofail_jax._src.audit.normalize.answers_equivalent` whether any available form
of the answer (``extracted``, ``answer``, the final answer re-extracted from
``raw_answer``) equals the reference:

* a cell graded wrong whose answer is equivalent becomes right (a **flip**, applied);
* a cell graded right whose answer is *not* found equivalent is a **disagreement**:
  reported, and applied only with ``downgrade=True``, because the original grader
  (a judge model, a test suite, a human) may know equivalences this checker does not.

With repeated samples every sample is regraded from its own answer
(``OutcomeMatrix.sample_meta``). The checker is :func:`.checker.check_answer`
(math-verify for free-form math where installed, the built-in layer otherwise); each
flip names the rule and the checker that decided, and both verdicts where they differ.

References:
  Hendrycks, D. et al. (2021). Measuring mathematical problem solving with the MATH
  dataset (answer normalization for grading).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import NamedTuple

import numpy as np

from ..matrix import OutcomeMatrix
from .checker import MAX_CHARS, Verdict, check_pairs, checker_info
from .evidence import _text, sample_candidates
from .normalize import reference_forms

__all__ = ["Flip", "RegradeResult", "regrade"]


class Flip(NamedTuple):
    """One cell whose grade the checker disputes.

    Attributes:
      query_id, model: the cell.
      answer: the answer form that decided (the first candidate when none matched).
      reference: the query's reference answer.
      graded: the grade in the input.
      regraded: the checker's grade.
      rule: the equivalence rule that matched (``math-verify`` where math-verify
        decided), or ``"different"``/``"timeout"``.
      sample: the repeated sample (0 without repeats).
      checker: the checker that decided (``math-verify`` or ``builtin``).
      note: both verdicts where the two checkers disagree, else ``""``.
    """

    query_id: str
    model: str
    answer: str
    reference: str
    graded: bool
    regraded: bool
    rule: str
    sample: int = 0
    checker: str = "builtin"
    note: str = ""


class RegradeResult(NamedTuple):
    """What :func:`regrade` found.

    Attributes:
      matrix: the regraded matrix (flips applied; disagreements too with downgrade;
        every repeated sample regraded, ``correct`` is sample 0).
      flips: cells graded wrong that the checker finds right (applied).
      disagreements: cells graded right that the checker does not find equivalent.
      n_checked: cells (per sample) with both an answer and a reference.
      n_unchecked: cells without (left as graded).
      beta_before: the all-wrong rate as graded.
      beta_after: the all-wrong rate of ``matrix``.
      status: ``"ok"``, or why nothing could be checked.
      n_samples: repeated samples read (1 without repeats).
      n_timeouts: answer/reference pairs that ran out of time (not equal).
      checker: the checker's name and versions (:func:`checker_info`).
    """

    matrix: OutcomeMatrix
    flips: tuple[Flip, ...]
    disagreements: tuple[Flip, ...]
    n_checked: int
    n_unchecked: int
    beta_before: float
    beta_after: float
    status: str
    n_samples: int = 1
    n_timeouts: int = 0
    checker: dict | None = None


def n_answer_samples(matrix: OutcomeMatrix) -> int:
    """Samples whose answers the matrix carries: S with per-sample answers, else 1."""
    if matrix.samples is not None and matrix.sample_meta:
        return int(matrix.samples.shape[0])
    return 1


def _cells_to_check(matrix: OutcomeMatrix, grades, S: int):
    """Every (sample, query, model) cell with a reference and a candidate answer, and
    every (candidate, reference form) pair the checker must decide."""
    n, k = matrix.correct.shape
    ref_col = matrix.query_meta["reference"]
    choices_col = matrix.query_meta.get("choices")
    cells = []
    pairs = []
    for i in range(n):
        ref = _text(ref_col[i])
        if not ref:
            continue
        forms = reference_forms(ref, None if choices_col is None else choices_col[i])
        for s in range(S):
            for j in range(k):
                if grades[s, i, j] < 0:
                    continue
                cands = sample_candidates(matrix, s, i, j)
                if cands:
                    cells.append((s, i, j, ref, forms, cands))
                    pairs.extend((c, f) for c in cands for f, _ in forms)
    return cells, pairs


def _apply(matrix: OutcomeMatrix, cells, verdicts, grades, downgrade: bool):
    """(new grades, flips wrong -> right, disagreements right -> ?) from the verdicts;
    disagreements change the grades only with ``downgrade``."""
    new = grades.copy()
    flips, disagreements = [], []
    for s, i, j, ref, forms, cands in cells:
        hit: tuple[str, Verdict, str] | None = None
        first: Verdict | None = None
        for c in cands:
            for f, how in forms:
                v = verdicts[(c, f)]
                first = first or v
                if v.equal:
                    hit = (c, v, how)
                    break
            if hit:
                break
        graded = bool(grades[s, i, j] == 1)
        q, mname = matrix.query_ids[i], matrix.models[j]
        if hit is not None and not graded:
            c, v, how = hit
            flips.append(Flip(q, mname, c, ref, False, True, v.rule + (f" {how}" if how else ""),
                              s, v.checker, v.note))
            new[s, i, j] = 1
        elif hit is None and graded:
            disagreements.append(Flip(q, mname, cands[0], ref, True, False,
                                      first.rule if first is not None else "different", s,
                                      first.checker if first is not None else "builtin",
                                      first.note if first is not None else ""))
            if downgrade:
                new[s, i, j] = 0
    return new, flips, disagreements


def regrade(matrix: OutcomeMatrix, *, symbolic: bool = True, rel_tol: float = 0.0,
            downgrade: bool = False, checker: str = "auto", strict_units: bool = False,
            timeout: float | None = 5.0, workers: int = 0,
            progress: Callable[[int, int], None] | None = None,
            max_chars: int | None = MAX_CHARS) -> RegradeResult:
    """Apply the answer checker to every cell of every repeated sample.

    Args:
      matrix: an outcome matrix with per-query ``reference`` and per-cell
        ``extracted``, ``answer`` and/or ``raw_answer`` (per sample in
        ``sample_meta`` with repeated samples).
      symbolic: let the built-in layer use sympy (optional dependency).
      rel_tol: numeric tolerance of the checker (0: exact).
      downgrade: also apply disagreements (cells graded right that the checker does
        not find equivalent).
      checker: ``"auto"``, ``"math-verify"`` or ``"builtin"``
        (:func:`~cofail_jax._src.audit.checker.check_answer`).
      strict_units: units must agree (for benchmarks where units matter).
      timeout: seconds per distinct (answer, reference) pair; past it the pair is
        ``timeout`` (not equal).
      workers: processes for the checker (0: this process).
      progress: ``progress(done, total)`` over distinct pairs.
      max_chars: answers longer than this are not parsed.

    Returns:
      :class:`RegradeResult`. Each distinct (answer, reference) pair is checked once.

    Examples:
      >>> import numpy as np
      >>> from cofail_jax import OutcomeMatrix
      >>> m = OutcomeMatrix(np.array([[False, True], [False, False]]), ("q1", "q2"), ("a", "b"),
      ...                   query_meta={"reference": np.array(["5", "2"], dtype=object)},
      ...                   cell_meta={"answer": np.array([["x=5", "5"], ["3", "1"]],
      ...                                                 dtype=object)})
      >>> r = regrade(m, checker="builtin")
      >>> [(f.query_id, f.model, f.rule) for f in r.flips], r.beta_before, r.beta_after
      ([('q1', 'a', 'normalized')], 0.5, 0.5)
    """
    n, k = matrix.correct.shape
    info = checker_info(checker)
    beta_before = float(matrix.all_wrong.mean())
    ref_col = matrix.query_meta.get("reference")
    has_answers = any(c in matrix.cell_meta for c in ("extracted", "answer", "raw_answer"))
    S = n_answer_samples(matrix)
    if ref_col is None or not has_answers:
        missing = [w for w, ok in (("a 'reference' column", ref_col is not None),
                                   ("an 'answer', 'extracted' or 'raw_answer' column", has_answers))
                   if not ok]
        return RegradeResult(matrix, (), (), 0, n * k * S, beta_before, beta_before,
                             "nothing to regrade: the input has no " + " and no ".join(missing),
                             S, 0, info)
    grades = (matrix.samples.copy() if matrix.samples is not None
              else matrix.correct[None].astype(np.int8))
    cells, pairs = _cells_to_check(matrix, grades, S)
    verdicts = check_pairs(pairs, checker=checker, symbolic=symbolic, rel_tol=rel_tol,
                           strict_units=strict_units, timeout=timeout, workers=workers,
                           progress=progress, max_chars=max_chars)
    n_timeouts = sum(v.rule == "timeout" for v in verdicts.values())
    new, flips, disagreements = _apply(matrix, cells, verdicts, grades, downgrade)
    samples = new if matrix.samples is not None else None
    note = (f"regraded: {len(flips)} cells wrong -> right"
            + (f", {len(disagreements)} right -> wrong" if downgrade else "")
            + (f" ({S} samples)" if S > 1 else ""))
    out = dataclasses.replace(matrix, correct=new[0] == 1, samples=samples).with_notes(note)
    n_cells = n * k * S
    return RegradeResult(out, tuple(flips), tuple(disagreements), len(cells),
                         n_cells - len(cells), beta_before, float(out.all_wrong.mean()), "ok",
                         S, n_timeouts, info)
