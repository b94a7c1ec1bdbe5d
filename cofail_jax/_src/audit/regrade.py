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

References:
  Hendrycks, D. et al. (2021). Measuring mathematical problem solving with the MATH
  dataset (answer normalization for grading).
"""

from __future__ import annotations

import dataclasses
from typing import NamedTuple

import numpy as np

from ..matrix import OutcomeMatrix
from .evidence import _candidates, _text, match_reference
from .normalize import answers_equivalent, reference_forms

__all__ = ["Flip", "RegradeResult", "regrade"]


class Flip(NamedTuple):
    """One cell whose grade the checker disputes.

    Attributes:
      query_id, model: the cell.
      answer: the answer form that decided (the first candidate when none matched).
      reference: the query's reference answer.
      graded: the grade in the input.
      regraded: the checker's grade.
      rule: the equivalence rule that matched, or ``"different"``.
    """

    query_id: str
    model: str
    answer: str
    reference: str
    graded: bool
    regraded: bool
    rule: str


class RegradeResult(NamedTuple):
    """What :func:`regrade` found.

    Attributes:
      matrix: the regraded matrix (flips applied; disagreements too with downgrade).
      flips: cells graded wrong that the checker finds right (applied).
      disagreements: cells graded right that the checker does not find equivalent.
      n_checked: cells with both an answer and a reference.
      n_unchecked: cells without (left as graded).
      beta_before: the all-wrong rate as graded.
      beta_after: the all-wrong rate of ``matrix``.
      status: ``"ok"``, or why nothing could be checked.
    """

    matrix: OutcomeMatrix
    flips: tuple[Flip, ...]
    disagreements: tuple[Flip, ...]
    n_checked: int
    n_unchecked: int
    beta_before: float
    beta_after: float
    status: str


def regrade(matrix: OutcomeMatrix, *, symbolic: bool = True, rel_tol: float = 0.0,
            downgrade: bool = False) -> RegradeResult:
    """Apply the normalization/equivalence checker to every cell.

    Args:
      matrix: an outcome matrix with per-query ``reference`` and per-cell
        ``extracted``, ``answer`` and/or ``raw_answer``.
      symbolic: let the checker use sympy (optional dependency).
      rel_tol: numeric tolerance of the checker (0: exact).
      downgrade: also apply disagreements (cells graded right that the checker does
        not find equivalent).

    Returns:
      :class:`RegradeResult`. With repeated samples only sample 0 carries answers, so
      only it is regraded (``samples[0]`` is updated to match).

    Examples:
      >>> import numpy as np
      >>> from cofail_jax import OutcomeMatrix
      >>> m = OutcomeMatrix(np.array([[False, True], [False, False]]), ("q1", "q2"), ("a", "b"),
      ...                   query_meta={"reference": np.array(["5", "2"], dtype=object)},
      ...                   cell_meta={"answer": np.array([["x=5", "5"], ["3", "1"]],
      ...                                                 dtype=object)})
      >>> r = regrade(m)
      >>> [(f.query_id, f.model, f.rule) for f in r.flips], r.beta_before, r.beta_after
      ([('q1', 'a', 'normalized')], 0.5, 0.5)
    """
    n, k = matrix.correct.shape
    beta_before = float(matrix.all_wrong.mean())
    ref_col = matrix.query_meta.get("reference")
    has_answers = any(c in matrix.cell_meta for c in ("extracted", "answer", "raw_answer"))
    if ref_col is None or not has_answers:
        missing = [w for w, ok in (("a 'reference' column", ref_col is not None),
                                   ("an 'answer', 'extracted' or 'raw_answer' column", has_answers))
                   if not ok]
        return RegradeResult(matrix, (), (), 0, n * k, beta_before, beta_before,
                             "nothing to regrade: the input has no " + " and no ".join(missing))
    cache: dict[tuple[str, str], tuple[bool, str]] = {}

    def check(a: str, ref: str) -> tuple[bool, str]:
        key = (a, ref)
        if key not in cache:
            got = answers_equivalent(a, ref, symbolic=symbolic, rel_tol=rel_tol)
            cache[key] = (got.equal, got.rule)
        return cache[key]

    choices_col = matrix.query_meta.get("choices")
    new = matrix.correct.copy()
    flips, disagreements = [], []
    checked = 0
    for i in range(n):
        ref = _text(ref_col[i])
        if not ref:
            continue
        forms = reference_forms(ref, None if choices_col is None else choices_col[i])
        for j in range(k):
            cands = _candidates(matrix, i, j)
            if not cands:
                continue
            checked += 1
            hit = match_reference(cands, forms, symbolic=symbolic, rel_tol=rel_tol, check=check)
            graded = bool(matrix.correct[i, j])
            if hit is not None and not graded:
                flips.append(Flip(matrix.query_ids[i], matrix.models[j], hit[0], ref, False, True,
                                  hit[1]))
                new[i, j] = True
            elif hit is None and graded:
                disagreements.append(Flip(matrix.query_ids[i], matrix.models[j], cands[0], ref,
                                          True, False, "different"))
                if downgrade:
                    new[i, j] = False
    samples = matrix.samples
    if samples is not None:
        samples = samples.copy()
        samples[0] = np.where(new, 1, np.where(samples[0] < 0, samples[0], 0)).astype(np.int8)
    note = (f"regraded: {len(flips)} cells wrong -> right"
            + (f", {len(disagreements)} right -> wrong" if downgrade else ""))
    out = dataclasses.replace(matrix, correct=new, samples=samples).with_notes(note)
    return RegradeResult(out, tuple(flips), tuple(disagreements), checked, n * k - checked,
                         beta_before, float(out.all_wrong.mean()), "ok")
