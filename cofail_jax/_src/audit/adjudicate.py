"""Reading a filled-in audit sheet, and beta before and after the adjudication.

What an adjudicated artefact does to beta
-----------------------------------------
A grading artefact (grader defect, wrong reference, ambiguous question, truncated
answer) is a defect of the *measurement*, not an outcome: the query has no valid
label for any model. :func:`apply_adjudications` therefore **drops artefact queries
from the sample** (n shrinks by their number); it does not count them as solved,
because that would need to know which models were right (use ``cofail regrade`` to
fix cells when the answers are available, then audit what remains). So with K
all-wrong events of n queries, G adjudicated genuine, A adjudicated artefacts and
U = K - G - A' events not adjudicated (A' the artefacts among the all-wrong events;
artefacts may also be adjudicated on other flagged queries, all A of them are dropped):

* **as graded**: beta = K / n;
* **genuine only** (beta counting only queries adjudicated genuine): the
  unadjudicated events are treated as artefacts too, beta = G / (n - A - U);
* **conservative** (unadjudicated events treated as genuine): beta = (G + U) / (n - A).

Genuine-only and conservative bound the range the unfinished audit leaves open; each
comes with its Clopper-Pearson interval and its certificate. When every event is
adjudicated the two coincide.

References:
  Clopper, C. J. and Pearson, E. S. (1934). The use of confidence or fiducial limits
  illustrated in the case of the binomial. Biometrika 26, 404-413.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Mapping
from typing import NamedTuple

import numpy as np

from ..certificate import Certificate, certificate
from ..errors import InputError
from ..matrix import OutcomeMatrix

__all__ = ["VERDICTS", "ARTEFACT_VERDICTS", "Adjudications", "AuditedBeta", "read_adjudications",
           "apply_adjudications", "audited_beta", "canonical_verdict"]

VERDICTS = ("genuine", "grader defect", "wrong reference", "ambiguous", "truncation", "artefact")
ARTEFACT_VERDICTS = tuple(v for v in VERDICTS if v != "genuine")
UNADJUDICATED = ("genuine", "artefact")


class Adjudications(NamedTuple):
    """A read audit sheet.

    Attributes:
      verdicts: query id -> canonical verdict (one of ``VERDICTS``), filled rows only.
      listed: every query id on the sheet, filled or not, in sheet order.
      notes: query id -> the rater's ``verdict_note`` (if any).
      source: the sheet's path.
    """

    verdicts: Mapping[str, str]
    listed: tuple[str, ...]
    notes: Mapping[str, str]
    source: str

    def artefacts(self) -> set[str]:
        """Query ids adjudicated as any kind of artefact."""
        return {q for q, v in self.verdicts.items() if v in ARTEFACT_VERDICTS}

    def genuine(self) -> set[str]:
        """Query ids adjudicated genuine."""
        return {q for q, v in self.verdicts.items() if v == "genuine"}


def canonical_verdict(text) -> str | None:
    """The canonical verdict for a cell of the ``verdict`` column; "" -> None.

    Case, surrounding space, ``_`` and ``-`` are ignored (``Wrong_Reference`` is
    ``wrong reference``); ``artifact`` is accepted for ``artefact``.

    Raises:
      ValueError: not one of ``VERDICTS``.
    """
    s = "" if text is None else " ".join(str(text).strip().lower().replace("_", " ")
                                         .replace("-", " ").split())
    if not s:
        return None
    s = s.replace("artifact", "artefact")
    if s in VERDICTS:
        return s
    raise ValueError(s)


def read_adjudications(path: str | os.PathLike, matrix: OutcomeMatrix) -> Adjudications:
    """Read an audit sheet (CSV with ``query_id`` and ``verdict`` columns).

    The sheet ``cofail audit --out`` writes has these plus the evidence; raters fill in
    ``verdict`` (one of ``VERDICTS``; empty = not adjudicated) and optionally
    ``verdict_note``. Rows may be in any order and the sheet may list a subset.

    Args:
      path: the sheet.
      matrix: the matrix it audits; every query id must be one of its queries.

    Returns:
      :class:`Adjudications`.

    Raises:
      InputError: unreadable file, missing column, unknown query id, a verdict not in
        ``VERDICTS``, or one query given two different verdicts; the message names the
        file, the row (file line) and the allowed values.
    """
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise InputError("no such audit sheet", source=path, where="--audit",
                         hint="write one with 'cofail audit FILE --out audit.csv'")
    try:
        with open(path, newline="", encoding="utf-8-sig") as f:
            first = f.readline()
            f.seek(0)
            delim = ";" if first.count(";") > first.count(",") else (
                "\t" if "\t" in first and "," not in first else ",")
            reader = csv.DictReader(f, delimiter=delim)
            header = [(h or "").strip() for h in (reader.fieldnames or [])]
            rows = list(reader)
    except (csv.Error, UnicodeDecodeError) as e:
        raise InputError(f"is not a readable CSV ({e})", source=path,
                         hint="save the sheet as UTF-8 CSV") from None
    for col in ("query_id", "verdict"):
        if col not in header:
            raise InputError(f"has no {col!r} column (columns: {', '.join(header) or 'none'})",
                             source=path, where="row 1",
                             hint="keep the header that 'cofail audit --out' wrote")
    known = set(matrix.query_ids)
    verdicts: dict[str, str] = {}
    notes: dict[str, str] = {}
    listed: list[str] = []
    first_row: dict[str, int] = {}
    for r, raw in enumerate(rows):
        line = r + 2
        row = {(k or "").strip(): v for k, v in raw.items()}
        q = (row.get("query_id") or "").strip()
        if not q:
            if not any((v or "").strip() for v in row.values() if isinstance(v, str)):
                continue
            raise InputError("has no query_id", source=path, where=f"row {line}",
                             hint="every row needs the query id it adjudicates")
        if q not in known:
            raise InputError(f"unknown query id {q!r}", source=path, where=f"row {line}",
                             hint=f"the sheet must audit {matrix.source}; its ids look like "
                                  f"{', '.join(matrix.query_ids[:3])}")
        try:
            v = canonical_verdict(row.get("verdict"))
        except ValueError:
            raise InputError(f"verdict {row.get('verdict')!r} is not allowed", source=path,
                             where=f"row {line}, column 'verdict'",
                             hint="write one of: " + ", ".join(VERDICTS)
                                  + " (or leave it empty)") from None
        if q in first_row:
            if v is not None and verdicts.get(q) not in (None, v):
                raise InputError(f"query {q!r} has two verdicts ({verdicts[q]!r} in row "
                                 f"{first_row[q]}, {v!r} here)", source=path, where=f"row {line}",
                                 hint="keep one row per query")
        else:
            first_row[q] = line
            listed.append(q)
        if v is not None:
            verdicts[q] = v
            note = (row.get("verdict_note") or "").strip()
            if note:
                notes[q] = note
    return Adjudications(verdicts=verdicts, listed=tuple(listed), notes=notes, source=path)


def apply_adjudications(matrix: OutcomeMatrix, adjudications: Adjudications, *,
                        unadjudicated: str = "genuine") -> OutcomeMatrix:
    """The corrected matrix: queries adjudicated as artefacts dropped from the sample.

    Args:
      matrix: the matrix the sheet audits.
      adjudications: from :func:`read_adjudications`.
      unadjudicated: what an all-wrong query without a verdict is: ``"genuine"``
        (kept; the conservative choice, default) or ``"artefact"`` (dropped too, for
        beta counting only queries adjudicated genuine).

    Returns:
      The matrix without the dropped queries, with a note saying what was dropped.

    Raises:
      ValueError: ``unadjudicated`` is not one of ``("genuine", "artefact")``.
      InputError: nothing would remain.
    """
    if unadjudicated not in UNADJUDICATED:
        raise ValueError(f"apply_adjudications: unadjudicated must be one of {UNADJUDICATED}, "
                         f"got {unadjudicated!r}")
    drop = _drop_mask(matrix, adjudications, unadjudicated)
    if drop.all():
        raise InputError("every query would be dropped as an artefact", source=adjudications.source,
                         hint="check the verdicts")
    n_art = int(sum(1 for q in adjudications.artefacts() if q in set(matrix.query_ids)))
    note = (f"audit {adjudications.source}: dropped {int(drop.sum())} queries "
            f"({n_art} adjudicated artefacts"
            + (f", {int(drop.sum()) - n_art} unadjudicated all-wrong" if unadjudicated == "artefact"
               else "") + ")")
    return matrix.select_queries(~drop).with_notes(note)


def _drop_mask(matrix: OutcomeMatrix, adj: Adjudications, unadjudicated: str) -> np.ndarray:
    arte = adj.artefacts()
    drop = np.array([q in arte for q in matrix.query_ids], dtype=bool)
    if unadjudicated == "artefact":
        drop |= matrix.all_wrong & np.array([q not in adj.verdicts for q in matrix.query_ids])
    return drop


class AuditedBeta(NamedTuple):
    """Beta as graded, counting only adjudicated-genuine events, and conservatively.

    Attributes:
      graded: the certificate of the matrix as graded.
      genuine_only: the certificate with artefacts and unadjudicated events dropped.
      conservative: the certificate with artefacts dropped, unadjudicated events kept.
      K: all-wrong events as graded.
      n_genuine: all-wrong events adjudicated genuine.
      n_artefact: queries adjudicated artefacts (all are dropped).
      n_artefact_all_wrong: of them, all-wrong events.
      n_unadjudicated: all-wrong events without a verdict.
      by_verdict: verdict -> number of queries with it.
      beta_range: (genuine_only.beta, conservative.beta).
      beta_range_ci: the lower Clopper-Pearson limit of genuine-only and the upper
        limit of conservative: the range with its sampling uncertainty.
      status: ``"complete"`` if every all-wrong event has a verdict, else
        ``"incomplete: U events not adjudicated"``.
    """

    graded: Certificate
    genuine_only: Certificate
    conservative: Certificate
    K: int
    n_genuine: int
    n_artefact: int
    n_artefact_all_wrong: int
    n_unadjudicated: int
    by_verdict: Mapping[str, int]
    beta_range: tuple[float, float]
    beta_range_ci: tuple[float, float]
    status: str

    def to_dict(self) -> dict:
        d = self._asdict()
        for name in ("graded", "genuine_only", "conservative"):
            d[name] = getattr(self, name).to_dict()
        d["by_verdict"] = dict(self.by_verdict)
        d["beta_range"] = list(self.beta_range)
        d["beta_range_ci"] = list(self.beta_range_ci)
        return d


def audited_beta(matrix: OutcomeMatrix, adjudications: Adjudications, *, alpha: float = 0.05,
                 delta: float = 0.05, best_selection: str = "in-sample",
                 overhead: float | None = None) -> AuditedBeta:
    """Beta and its certificate as graded, genuine only, and conservatively.

    See the module docstring for the three definitions. Each certificate is
    :func:`~cofail_jax.certificate` of the corresponding matrix (so each carries its
    own n, its Clopper-Pearson interval and its certified gain bound).

    Examples:
      >>> import numpy as np
      >>> from cofail_jax import OutcomeMatrix
      >>> m = OutcomeMatrix(np.array([[0, 0], [0, 0], [1, 0], [0, 1]], bool),
      ...                   ("q1", "q2", "q3", "q4"), ("a", "b"))
      >>> adj = Adjudications({"q1": "grader defect"}, ("q1", "q2"), {}, "sheet.csv")
      >>> r = audited_beta(m, adj)
      >>> r.graded.beta, r.genuine_only.beta, r.conservative.beta
      (0.5, 0.0, 0.3333333333333333)
    """
    kw = dict(alpha=alpha, delta=delta, best_selection=best_selection, overhead=overhead)
    graded = certificate(matrix.correct, models=matrix.models, **kw)
    gen = apply_adjudications(matrix, adjudications, unadjudicated="artefact")
    cons = apply_adjudications(matrix, adjudications, unadjudicated="genuine")
    c_gen = certificate(gen.correct, models=gen.models, **kw)
    c_cons = certificate(cons.correct, models=cons.models, **kw)
    aw = matrix.all_wrong
    qids = matrix.query_ids
    arte = adjudications.artefacts()
    genu = adjudications.genuine()
    n_gen = int(sum(1 for i, q in enumerate(qids) if aw[i] and q in genu))
    n_art = int(sum(1 for q in qids if q in arte))
    n_art_aw = int(sum(1 for i, q in enumerate(qids) if aw[i] and q in arte))
    n_un = int(aw.sum()) - n_gen - n_art_aw
    by: dict[str, int] = {}
    for v in adjudications.verdicts.values():
        by[v] = by.get(v, 0) + 1
    return AuditedBeta(
        graded=graded, genuine_only=c_gen, conservative=c_cons, K=int(aw.sum()),
        n_genuine=n_gen, n_artefact=n_art, n_artefact_all_wrong=n_art_aw, n_unadjudicated=n_un,
        by_verdict=by, beta_range=(c_gen.beta, c_cons.beta),
        beta_range_ci=(c_gen.beta_ci[0], c_cons.beta_ci[1]),
        status="complete" if n_un == 0 else f"incomplete: {n_un} events not adjudicated")
