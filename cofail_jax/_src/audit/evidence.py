"""Per-query evidence that an all-wrong event is a grading artefact, and a suggested class.

An all-wrong query (every model graded wrong) is evidence of shared model failure only
if the grading is right. Audits of published pools found most such events were
artefacts: a grader that could not parse a correct answer, a wrong reference, an
ambiguous question, or answers cut off by the token budget. For each flagged query
this module gathers four kinds of evidence from the per-cell answers and metadata the
long format carries (``OutcomeMatrix.cell_meta`` / ``query_meta``):

* **agreement**: the models' answers grouped into equivalence classes
  (:func:`~cofail_jax._src.audit.normalize.answers_equivalent`); the largest class,
  and whether a strict majority of all models agrees on one answer that is not the
  reference (a likely wrong reference);
* **equivalence**: how many graded-wrong answers are in fact equivalent to the
  reference after normalization (a likely grader defect); with a ``choices`` column,
  a multiple-choice letter and its option text count as the same answer;
* **extraction**: how many answers are empty or flagged not extracted
  (``answer_extracted`` false) (a likely grader or prompt-format defect);
* **truncation**: how many answers reached the token budget (``output_tokens >=
  token_budget``, or a ``finish_reason`` such as ``length``) (re-ask with a larger
  budget).

From these a **suggested** class is derived by the first rule that fires, in this
order (the record says which rule):

====  =================  ==========================================================
rule  suggested class    fires when
====  =================  ==========================================================
R1    grader defect      at least one answer is equivalent to the reference
R2    truncation         at least ``truncation_share`` of the models hit the budget
R3    grader defect      at least ``extraction_share`` of the answers are empty or
                         not extracted
R4    wrong reference    a strict majority of the models (at least 2) agree on one
                         answer that is not the reference
R5    ambiguous          two or more answer camps, each of at least 2 models and at
                         least ``camp_share`` of the models
R6    genuine            none of the above (or no answers to check)
====  =================  ==========================================================

It is a *suggestion*: a person (or rater) reads the question and the answers and
writes the verdict in the audit sheet (:mod:`.adjudicate`).

References:
  Vendrow, J. et al. (2025). Do large language model benchmarks test reliability?
  (platinum benchmarks: most residual "errors" on saturated benchmarks are label
  errors and ambiguous questions).
  Northcutt, C., Athalye, A. and Mueller, J. (2021). Pervasive label errors in test
  sets destabilize machine learning benchmarks.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, NamedTuple

import numpy as np

from ..matrix import OutcomeMatrix
from .checker import MAX_CHARS, check_pairs
from .normalize import answers_equivalent, extract_answer, reference_forms

__all__ = ["CLASSES", "QueryEvidence", "audit_evidence", "evidence_rows", "cell_answers",
           "truncated_cells", "not_extracted_cells", "sample_candidates"]

CLASSES = ("grader defect", "wrong reference", "ambiguous", "truncation", "genuine")
TRUNCATION_REASONS = frozenset({"length", "max_tokens", "max_length", "truncated", "token_limit",
                                "max_output_tokens", "max_new_tokens"})
_FALSE = frozenset({"0", "false", "f", "no", "n", "0.0"})


class QueryEvidence(NamedTuple):
    """Evidence on one flagged query, and the suggested class (a suggestion only).

    Attributes:
      query_id: the query.
      flag: ``"all-wrong"`` or ``"near-all-wrong"`` (every model but one wrong).
      n_models: models in the pool (k).
      correct_models: the models graded right (empty for all-wrong).
      reference: the reference answer ("" if the input has none).
      answers: the answer used for each model, in model order ("" if none).
      n_answered: models with a non-empty answer.
      n_distinct: distinct answers (equivalence classes) among them.
      top_answer: an answer of the largest class ("" if none).
      top_count: models in the largest class.
      majority_differs: a strict majority of the k models (and at least 2) gave one
        answer that is not equivalent to the reference.
      n_equiv_reference: graded-wrong models whose answer (extracted, given or
        re-extracted from the raw text) is equivalent to the reference.
      equiv_models: those models.
      equiv_rules: the equivalence rules that matched, one per such model.
      n_empty: models whose answer is empty.
      n_not_extracted: models flagged ``answer_extracted`` false.
      n_extraction_fail: models with an empty or not-extracted answer.
      n_truncated: models whose answer reached the token budget.
      truncated_models: those models.
      suggested_class: one of ``CLASSES``.
      suggested_rule: the rule that produced it, in words.
      n_samples: repeated samples whose answers were read (1 without repeats).
      n_equiv_samples: graded-wrong answers over all samples (model x sample) that are
        equivalent to the reference (equals ``n_equiv_reference`` with one sample).
      checker_notes: ``model: both verdicts`` where math-verify and the built-in layer
        disagreed on an answer against the reference.
    """

    query_id: str
    flag: str
    n_models: int
    correct_models: tuple[str, ...]
    reference: str
    answers: tuple[str, ...]
    n_answered: int
    n_distinct: int
    top_answer: str
    top_count: int
    majority_differs: bool
    n_equiv_reference: int
    equiv_models: tuple[str, ...]
    equiv_rules: tuple[str, ...]
    n_empty: int
    n_not_extracted: int
    n_extraction_fail: int
    n_truncated: int
    truncated_models: tuple[str, ...]
    suggested_class: str
    suggested_rule: str
    n_samples: int = 1
    n_equiv_samples: int = 0
    checker_notes: tuple[str, ...] = ()


def _text(v) -> str:
    if v is None:
        return ""
    if isinstance(v, float) and math.isnan(v):
        return ""
    s = str(v).strip()
    return "" if s.lower() in ("nan", "none", "null") else s


def cell_answers(m: OutcomeMatrix, rows: Sequence[int] | None = None) -> np.ndarray:
    """object (n, k): the answer each model gave, as the audit reads it.

    ``extracted`` if present and non-empty, else ``answer``, else the final answer
    pulled from ``raw_answer`` (:func:`extract_answer`), else "". With ``rows`` only
    those rows are filled (the others stay "").
    """
    n, k = m.correct.shape
    out = np.full((n, k), "", dtype=object)
    ext = m.cell_meta.get("extracted")
    ans = m.cell_meta.get("answer")
    raw = m.cell_meta.get("raw_answer")
    for i in (range(n) if rows is None else rows):
        for j in range(k):
            for col, fn in ((ext, _text), (ans, _text), (raw, lambda v: extract_answer(_text(v)))):
                if col is not None:
                    t = fn(col[i, j])
                    if t:
                        out[i, j] = t
                        break
    return out


def _candidates(m: OutcomeMatrix, i: int, j: int) -> list[str]:
    """Every answer form available for one cell (extracted, given, re-extracted raw)."""
    seen = []
    for name in ("extracted", "answer"):
        col = m.cell_meta.get(name)
        if col is not None:
            t = _text(col[i, j])
            if t and t not in seen:
                seen.append(t)
    raw = m.cell_meta.get("raw_answer")
    if raw is not None:
        t = extract_answer(_text(raw[i, j]))
        if t and t not in seen:
            seen.append(t)
    return seen


def sample_candidates(m: OutcomeMatrix, s: int, i: int, j: int) -> list[str]:
    """Every answer form of one cell in repeated sample ``s`` (sample 0: the cell's
    own columns; later samples: ``OutcomeMatrix.sample_meta``)."""
    if s == 0:
        return _candidates(m, i, j)
    seen = []
    for name in ("extracted", "answer"):
        col = m.sample_meta.get(name)
        if col is not None:
            t = _text(col[s, i, j])
            if t and t not in seen:
                seen.append(t)
    raw = m.sample_meta.get("raw_answer")
    if raw is not None:
        t = extract_answer(_text(raw[s, i, j]))
        if t and t not in seen:
            seen.append(t)
    return seen


def match_reference(candidates: Sequence[str], forms: Sequence[tuple[str, str]], *,
                    symbolic: bool, rel_tol: float, check=None) -> tuple[str, str] | None:
    """The first (candidate, rule) equivalent to a form of the reference, or None.

    ``forms`` comes from :func:`~cofail_jax._src.audit.normalize.reference_forms` (the
    reference, and for multiple choice its letter or option text); a match through the
    options has ``" via choices"`` appended to its rule.
    """
    for cand in candidates:
        for form, how in forms:
            if check is None:
                got = answers_equivalent(cand, form, symbolic=symbolic, rel_tol=rel_tol)
                eq, rule = got.equal, got.rule
            else:
                eq, rule = check(cand, form)
            if eq:
                return cand, rule + (f" {how}" if how else "")
    return None


def truncated_cells(m: OutcomeMatrix) -> np.ndarray:
    """bool (n, k): the answer reached the token budget (``output_tokens >=
    token_budget``) or stopped for length (``finish_reason`` like ``length``)."""
    n, k = m.correct.shape
    out = np.zeros((n, k), dtype=bool)
    tok = m.cell_meta.get("output_tokens")
    bud = m.cell_meta.get("token_budget")
    if tok is not None and bud is not None:
        t = np.asarray(tok, dtype=np.float64)
        b = np.asarray(bud, dtype=np.float64)
        with np.errstate(invalid="ignore"):
            out |= np.isfinite(t) & np.isfinite(b) & (t >= b)
    fin = m.cell_meta.get("finish_reason")
    if fin is not None:
        out |= np.vectorize(lambda v: _text(v).lower() in TRUNCATION_REASONS, otypes=[bool])(fin)
    return out


def not_extracted_cells(m: OutcomeMatrix) -> np.ndarray:
    """bool (n, k): the grader flagged the answer as not extracted (``answer_extracted``
    false/0/no)."""
    n, k = m.correct.shape
    col = m.cell_meta.get("answer_extracted")
    if col is None:
        return np.zeros((n, k), dtype=bool)
    return np.vectorize(lambda v: _text(v).lower() in _FALSE, otypes=[bool])(col)


def _clusters(answers: Sequence[str], symbolic: bool, rel_tol: float,
              check=None) -> list[list[int]]:
    """Group non-empty answers into equivalence classes (greedy, first member is the
    representative), largest first, ties by first appearance."""
    groups: list[list[int]] = []
    for j, a in enumerate(answers):
        if not a:
            continue
        for g in groups:
            if (check(a, answers[g[0]])[0] if check is not None else
                    answers_equivalent(a, answers[g[0]], symbolic=symbolic, rel_tol=rel_tol).equal):
                g.append(j)
                break
        else:
            groups.append([j])
    return sorted(groups, key=lambda g: (-len(g), g[0]))


def _classify(ev: dict, k: int, truncation_share: float, extraction_share: float,
              camp_share: float, groups: list[list[int]], has_answers: bool) -> tuple[str, str]:
    if ev["n_equiv_reference"] >= 1 or ev["n_equiv_samples"] >= 1:
        rules = sorted(set(ev["equiv_rules"]))
        S = ev["n_samples"]
        more = (f" ({ev['n_equiv_samples']} of the {S * k} answers over {S} samples)"
                if S > 1 else "")
        return "grader defect", (
            f"R1: {ev['n_equiv_reference']} of {k} answers graded wrong are equivalent to the "
            f"reference{more} ({', '.join(rules) or 'in later samples'}); check the grader")
    if ev["n_truncated"] >= truncation_share * k and ev["n_truncated"] > 0:
        return "truncation", (
            f"R2: {ev['n_truncated']} of {k} answers reached the token budget; re-ask with a "
            "larger budget")
    if ev["n_extraction_fail"] >= extraction_share * k and ev["n_extraction_fail"] > 0:
        return "grader defect", (
            f"R3: {ev['n_extraction_fail']} of {k} answers are empty or not extracted; check "
            "the answer extractor and the prompt's answer format")
    if ev["majority_differs"]:
        return "wrong reference", (
            f"R4: {ev['top_count']} of {k} models agree on {ev['top_answer']!r}, not the "
            f"reference {ev['reference']!r}; check the reference")
    camp = max(2, math.ceil(camp_share * k))
    camps = [g for g in groups if len(g) >= camp]
    if len(camps) >= 2:
        sizes = " vs ".join(str(len(g)) for g in camps)
        return "ambiguous", (
            f"R5: the models split into {len(camps)} camps of at least {camp} ({sizes}); "
            "check whether the question admits several readings")
    if not has_answers:
        return "genuine", "R6: no answers in the input to check; read the question"
    return "genuine", ("R6: no sign of an artefact (answers differ from the reference and "
                       "each other)")


def audit_evidence(matrix: OutcomeMatrix, *, include_near_all_wrong: bool = False,
                   symbolic: bool = True, rel_tol: float = 0.0, truncation_share: float = 0.5,
                   extraction_share: float = 0.5, camp_share: float = 0.25,
                   checker: str = "auto", strict_units: bool = False,
                   timeout: float | None = 5.0, workers: int = 0, progress=None,
                   max_chars: int | None = MAX_CHARS) -> list[QueryEvidence]:
    """Evidence and a suggested class for every all-wrong query of a matrix.

    Args:
      matrix: the outcome matrix, with per-cell ``extracted``/``answer``/``raw_answer``,
        ``output_tokens``, ``token_budget``, ``finish_reason``, ``answer_extracted`` and
        per-query ``reference`` where the input has them (all optional; missing
        columns give no evidence of that kind).
      include_near_all_wrong: also flag queries on which all models but one are wrong.
      symbolic: let the equivalence checker use sympy (optional dependency).
      rel_tol: numeric tolerance of the equivalence checker (0: exact).
      truncation_share: rule R2's share of models that hit the token budget.
      extraction_share: rule R3's share of empty or not-extracted answers.
      camp_share: rule R5's smallest camp, as a share of the models (at least 2).
      checker, strict_units, timeout, workers, progress, max_chars: the answer checker
        (:func:`~cofail_jax._src.audit.checker.check_pairs`): ``"auto"`` uses
        math-verify for free-form math where installed; each distinct pair is checked
        once, under a per-pair timeout, optionally in a process pool.

    With repeated samples (``OutcomeMatrix.sample_meta``) every sample's answer is read:
    a graded-wrong answer in any sample that equals the reference counts for R1
    (``n_equiv_samples``).

    Returns:
      One :class:`QueryEvidence` per flagged query, in matrix order.

    Examples:
      >>> import numpy as np
      >>> from cofail_jax import OutcomeMatrix
      >>> m = OutcomeMatrix(np.array([[False, False], [True, False]]), ("q1", "q2"), ("a", "b"),
      ...                   query_meta={"reference": np.array(["5", "2"], dtype=object)},
      ...                   cell_meta={"answer": np.array([["x = 5", "6"], ["2", "3"]],
      ...                                                 dtype=object)})
      >>> ev = audit_evidence(m, checker="builtin")
      >>> ev[0].query_id, ev[0].suggested_class, ev[0].equiv_models
      ('q1', 'grader defect', ('a',))

    Long: one pass that plans every answer pair, checks them once (optionally in a pool) and gathers each flagged query's evidence fields in one place; 36 lines are the docstring.
    """
    for name, v in (("truncation_share", truncation_share), ("extraction_share", extraction_share),
                    ("camp_share", camp_share)):
        if not 0 < v <= 1:
            raise ValueError(f"audit_evidence: {name} must lie in (0, 1], got {v}")
    n, k = matrix.correct.shape
    n_right = matrix.correct.sum(axis=1)
    flagged = n_right == 0
    if include_near_all_wrong:
        flagged = flagged | (n_right == 1)
    if not flagged.any():
        return []
    answers = cell_answers(matrix, np.flatnonzero(flagged))
    trunc = truncated_cells(matrix)
    notext = not_extracted_cells(matrix)
    has_answers = any(c in matrix.cell_meta for c in ("extracted", "answer", "raw_answer"))
    ref_col = matrix.query_meta.get("reference")
    choices_col = matrix.query_meta.get("choices")
    S = (int(matrix.samples.shape[0]) if matrix.samples is not None and matrix.sample_meta
         else 1)
    grades = (matrix.samples if matrix.samples is not None
              else matrix.correct[None].astype(np.int8))
    # every distinct pair the evidence needs, checked once (optionally in a pool)
    plan = {}
    pairs: list[tuple[str, str]] = []
    for i in np.flatnonzero(flagged):
        ref = _text(ref_col[i]) if ref_col is not None else ""
        forms = reference_forms(ref, None if choices_col is None else choices_col[i])
        row = [str(a) for a in answers[i]]
        cands = {(s, j): sample_candidates(matrix, s, i, j) for s in range(S) for j in range(k)
                 if forms and grades[s, i, j] == 0}
        plan[i] = (ref, forms, row, cands)
        pairs.extend((c, f) for cs in cands.values() for c in cs for f, _ in forms)
        pairs.extend((a, f) for a in row if a for f, _ in forms)
        pairs.extend((row[j], row[l]) for j in range(k) for l in range(j) if row[j] and row[l])
    verdicts = check_pairs(pairs, checker=checker, symbolic=symbolic, rel_tol=rel_tol,
                           strict_units=strict_units, timeout=timeout, workers=workers,
                           progress=progress, max_chars=max_chars)

    def check(a, b):
        v = verdicts[(a, b)]
        return v.equal, v.rule

    out = []
    for i in np.flatnonzero(flagged):
        ref, forms, row, cands = plan[i]
        equiv_models, equiv_rules, notes = [], [], []
        n_equiv_samples = 0
        for (s, j), cs in cands.items():
            hit = match_reference(cs, forms, symbolic=symbolic, rel_tol=rel_tol, check=check)
            if hit is None:
                continue
            n_equiv_samples += 1
            if s == 0:
                equiv_models.append(matrix.models[j])
                equiv_rules.append(hit[1])
        for j, a in enumerate(row):
            for f, _ in forms:
                if a and verdicts[(a, f)].note:
                    notes.append(f"{matrix.models[j]}: {verdicts[(a, f)].note}")
        groups = _clusters(row, symbolic, rel_tol, check=check)
        top = groups[0] if groups else []
        top_answer = row[top[0]] if top else ""
        top_is_ref = bool(top_answer) and match_reference(
            [top_answer], forms, symbolic=symbolic, rel_tol=rel_tol, check=check) is not None
        majority = bool(ref) and len(top) >= 2 and len(top) > k / 2 and not top_is_ref
        empty = np.array([not a for a in row])
        ev: dict[str, Any] = dict(
            query_id=matrix.query_ids[i],
            flag="all-wrong" if n_right[i] == 0 else "near-all-wrong",
            n_models=k,
            correct_models=tuple(matrix.models[j] for j in np.flatnonzero(matrix.correct[i])),
            reference=ref, answers=tuple(row),
            n_answered=int((~empty).sum()), n_distinct=len(groups),
            top_answer=top_answer, top_count=len(top), majority_differs=majority,
            n_equiv_reference=len(equiv_models), equiv_models=tuple(equiv_models),
            equiv_rules=tuple(equiv_rules),
            n_empty=int(empty.sum()) if has_answers else 0,
            n_not_extracted=int(notext[i].sum()),
            n_extraction_fail=int(((empty if has_answers else False) | notext[i]).sum()),
            n_truncated=int(trunc[i].sum()),
            truncated_models=tuple(matrix.models[j] for j in np.flatnonzero(trunc[i])),
            n_samples=S, n_equiv_samples=n_equiv_samples, checker_notes=tuple(notes),
        )
        cls, rule = _classify(ev, k, truncation_share, extraction_share, camp_share, groups,
                              has_answers)
        out.append(QueryEvidence(**ev, suggested_class=cls, suggested_rule=rule))
    return out


SHEET_COLUMNS = (
    "query_id", "flag", "suggested_class", "suggested_rule", "reference", "top_answer",
    "top_count", "n_models", "n_answered", "n_distinct", "majority_differs", "n_equiv_reference",
    "equiv_models", "equiv_rules", "n_samples", "n_equiv_samples", "checker_notes", "n_empty",
    "n_not_extracted", "n_extraction_fail", "n_truncated",
    "truncated_models", "correct_models", "answers", "verdict", "verdict_note")


def evidence_rows(records: Sequence[QueryEvidence], models: Sequence[str]) -> list[dict[str, Any]]:
    """Audit-sheet rows (``SHEET_COLUMNS``): the evidence as text, with empty ``verdict``
    and ``verdict_note`` for the rater. ``answers`` reads ``model=answer; ...``."""
    rows = []
    for ev in records:
        d = ev._asdict()
        row = {c: d.get(c, "") for c in SHEET_COLUMNS}
        row["majority_differs"] = int(ev.majority_differs)
        for c in ("equiv_models", "equiv_rules", "truncated_models", "correct_models"):
            row[c] = ";".join(d[c])
        row["checker_notes"] = " | ".join(ev.checker_notes)
        row["answers"] = "; ".join(f"{m}={a}" for m, a in zip(models, ev.answers))
        row["verdict"] = ""
        row["verdict_note"] = ""
        rows.append(row)
    return rows
