"""Shared parsing for the loaders: cell values, missing cells, long records.

Every loader reduces its format to either a wide table (query ids, model names, rows
of cell strings) or a list of long records (dicts with ``query_id``, ``model``,
``correct`` and optional extras), then calls one of the two builders here, so the
validation rules (0/1 cells, missing-cell policy, duplicates, sizes) are the same for
every format.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np

from ..errors import InputError
from ..matrix import OutcomeMatrix, check_unique

MISSING_POLICIES = ("error", "drop-queries", "drop-models")
_TRUE = {"1", "true", "1.0", "t", "yes"}
_FALSE = {"0", "false", "0.0", "f", "no"}
_MISSING = {"", "na", "nan", "null", "none"}

# Long-format columns that are read as per-cell metadata, and their types.
CELL_COLUMNS = {
    "answer": str, "extracted": str, "raw_answer": str, "cost": float, "confidence": float,
    "output_tokens": float, "token_budget": float, "finish_reason": str,
    "answer_extracted": str, "verifier": float, "judge": str,
    # harness importers: token counts, the raw numeric score, latency
    "input_tokens": float, "total_tokens": float, "score": float, "latency_ms": float,
}
# Cell columns also kept for every repeated sample (OutcomeMatrix.sample_meta).
SAMPLE_COLUMNS = ("answer", "extracted", "raw_answer")
# Long-format columns read as per-query metadata.
QUERY_COLUMNS = {"domain": str, "prompt": str, "reference": str, "choices": str}


def parse_cell(value: Any) -> int:
    """1, 0, or -1 (missing); raises ValueError for anything else."""
    if value is None:
        return -1
    if isinstance(value, (bool, np.bool_)):
        return int(value)
    if isinstance(value, (int, np.integer)):
        if value in (0, 1):
            return int(value)
        raise ValueError(value)
    if isinstance(value, (float, np.floating)):
        if np.isnan(value):
            return -1
        if value in (0.0, 1.0):
            return int(value)
        raise ValueError(value)
    text = str(value).strip().lower()
    if text in _TRUE:
        return 1
    if text in _FALSE:
        return 0
    if text in _MISSING:
        return -1
    raise ValueError(value)


def check_sizes(m: OutcomeMatrix) -> OutcomeMatrix:
    """At least one query and two models, else :class:`InputError`."""
    if m.k < 2:
        raise InputError(f"needs at least 2 models, found {m.k}", source=m.source,
                         hint="a pool of one model has no co-failure to measure")
    if m.n < 1:
        raise InputError("has no queries", source=m.source, hint="check the file is not empty")
    return m


def apply_missing(cells: np.ndarray, query_ids: Sequence[str], models: Sequence[str], *,
                  missing: str, source: str) -> tuple[np.ndarray, list[str], list[str], list[str]]:
    """Apply the missing-cell policy to an int8 (n, k) array with -1 for missing.

    Returns the kept cells, kept query ids, kept model names, and notes on what was dropped.
    """
    if missing not in MISSING_POLICIES:
        raise InputError(f"unknown missing-cell policy {missing!r}", param="missing",
                         hint=f"use one of {', '.join(MISSING_POLICIES)}")
    miss = cells < 0
    notes: list[str] = []
    q = list(query_ids)
    mo = list(models)
    if not miss.any():
        return cells, q, mo, notes
    if missing == "error":
        r, c = np.argwhere(miss)[0]
        raise InputError(
            f"missing cell for query {q[r]!r}, model {mo[c]!r} ({int(miss.sum())} missing in all)",
            source=source, where=f"row {r + 1}, column {mo[c]!r}",
            hint="fill it in, or pass missing=drop-queries or missing=drop-models")
    if missing == "drop-queries":
        keep = ~miss.any(axis=1)
        dropped = [q[i] for i in np.flatnonzero(~keep)]
        notes.append(f"dropped {len(dropped)} queries with a missing cell: "
                     + ", ".join(dropped[:10]) + (" ..." if len(dropped) > 10 else ""))
        return cells[keep], [q[i] for i in np.flatnonzero(keep)], mo, notes
    keep = ~miss.any(axis=0)
    dropped = [mo[i] for i in np.flatnonzero(~keep)]
    notes.append(f"dropped {len(dropped)} models with a missing cell: " + ", ".join(dropped))
    return cells[:, keep], q, [mo[i] for i in np.flatnonzero(keep)], notes


def matrix_from_wide_table(query_ids: Sequence[str], models: Sequence[str],
                           rows: Iterable[Sequence[Any]], *, source: str,
                           missing: str = "error", first_row: int = 2) -> OutcomeMatrix:
    """Build a matrix from rows of cell values (one per model), validating each cell.

    ``first_row`` is the file line number of the first data row, for messages.
    """
    models = [str(m) for m in models]
    check_unique(models, "model name", source)
    cells = []
    for r, row in enumerate(rows):
        if len(row) != len(models):
            raise InputError(f"has {len(row)} cells, the header names {len(models)} models",
                             source=source, where=f"row {r + first_row}",
                             hint="every row needs one 0/1 cell per model")
        parsed = []
        for c, v in enumerate(row):
            try:
                parsed.append(parse_cell(v))
            except ValueError:
                raise InputError(f"cell {str(v)!r} is not 0/1/true/false", source=source,
                                 where=f"row {r + first_row}, column {models[c]!r}",
                                 hint="write 1 for correct, 0 for wrong, or leave it empty if missing"
                                 ) from None
        cells.append(parsed)
    arr = np.asarray(cells, dtype=np.int8).reshape(len(cells), len(models))
    check_unique([str(q) for q in query_ids], "query id", source)
    arr, q, mo, notes = apply_missing(arr, [str(x) for x in query_ids], models,
                                      missing=missing, source=source)
    m = OutcomeMatrix(correct=arr == 1, query_ids=tuple(q), models=tuple(mo), source=source,
                      notes=tuple(notes))
    return check_sizes(m)


def matrix_from_records(records: Iterable[Mapping[str, Any]], *, source: str,
                        missing: str = "error", correct_key: str = "correct",
                        where_prefix: str = "record") -> OutcomeMatrix:
    """Build a matrix from long records: query_id, model, correct[, sample, extras].

    Known extra columns (``CELL_COLUMNS``, ``QUERY_COLUMNS``) are kept as metadata;
    a ``sample`` column makes repeated samples (sample 0, or the first seen, is
    ``correct``). A (query, model, sample) seen twice is an error.
    """
    qids: dict[str, int] = {}
    mods: dict[str, int] = {}
    entries = []
    for i, rec in enumerate(records):
        where = f"{where_prefix} {i + 1}"
        for key in ("query_id", "model", correct_key):
            if key not in rec or rec[key] is None or (isinstance(rec[key], str) and rec[key] == "" and key != correct_key):
                raise InputError(f"has no {key!r}", source=source, where=where,
                                 hint="each record needs query_id, model and correct")
        q = str(rec["query_id"]).strip()
        m = str(rec["model"]).strip()
        try:
            val = parse_cell(rec[correct_key])
        except ValueError:
            raise InputError(f"{correct_key} value {rec[correct_key]!r} is not 0/1/true/false",
                             source=source, where=where,
                             hint="write 1 for correct and 0 for wrong") from None
        s = rec.get("sample", 0)
        try:
            s = int(s) if s not in (None, "") else 0
        except (TypeError, ValueError):
            raise InputError(f"sample {s!r} is not an integer", source=source, where=where,
                             hint="number repeated samples 0, 1, 2, ...") from None
        qids.setdefault(q, len(qids))
        mods.setdefault(m, len(mods))
        entries.append((qids[q], mods[m], s, val, rec, where))
    if not entries:
        raise InputError("has no records", source=source, hint="check the file is not empty")
    n, k = len(qids), len(mods)
    sample_ids = sorted({e[2] for e in entries})
    s_index = {s: j for j, s in enumerate(sample_ids)}
    S = len(sample_ids)
    cells = np.full((S, n, k), -1, dtype=np.int8)
    cell_meta: dict[str, np.ndarray] = {}
    query_meta: dict[str, np.ndarray] = {}
    sample_meta: dict[str, np.ndarray] = {}
    q_names = list(qids)
    m_names = list(mods)
    for qi, mi, s, val, rec, where in entries:
        j = s_index[s]
        if cells[j, qi, mi] != -1:
            raise InputError(
                f"duplicate record for query {q_names[qi]!r}, model {m_names[mi]!r}"
                + (f", sample {s}" if S > 1 else ""), source=source, where=where,
                hint="keep one record per query and model (use a 'sample' column for repeats)")
        cells[j, qi, mi] = val
        if j == 0:
            for col, typ in CELL_COLUMNS.items():
                if col in rec and rec[col] is not None:
                    arr = cell_meta.get(col)
                    if arr is None:
                        arr = (np.full((n, k), np.nan) if typ is float
                               else np.full((n, k), None, dtype=object))
                        cell_meta[col] = arr
                    try:
                        arr[qi, mi] = typ(rec[col]) if rec[col] != "" else (np.nan if typ is float else "")
                    except (TypeError, ValueError):
                        raise InputError(f"{col} value {rec[col]!r} is not a number", source=source,
                                         where=where, hint=f"write {col} as a number") from None
        if S > 1:  # every sample's answer, for the audit and regrading
            for col in SAMPLE_COLUMNS:
                if rec.get(col) not in (None, ""):
                    if col not in sample_meta:
                        sample_meta[col] = np.full((S, n, k), None, dtype=object)
                    sample_meta[col][j, qi, mi] = str(rec[col])
        for col, typ in QUERY_COLUMNS.items():
            if col in rec and rec[col] not in (None, ""):
                arr = query_meta.get(col)
                if arr is None:
                    arr = np.full(n, None, dtype=object)
                    query_meta[col] = arr
                arr[qi] = str(rec[col])
    base = cells[0]
    base, q_keep, m_keep, notes = apply_missing(base, q_names, m_names, missing=missing, source=source)
    qi_keep = [qids[q] for q in q_keep]
    mi_keep = [mods[m] for m in m_keep]
    cell_meta = {c: a[np.ix_(qi_keep, mi_keep)] for c, a in cell_meta.items()}
    query_meta = {c: a[qi_keep] for c, a in query_meta.items()}
    samples = cells[:, qi_keep][:, :, mi_keep] if S > 1 else None
    sample_meta = {c: a[:, qi_keep][:, :, mi_keep] for c, a in sample_meta.items()}
    m = OutcomeMatrix(correct=base == 1, query_ids=tuple(q_keep), models=tuple(m_keep),
                      query_meta=query_meta, cell_meta=cell_meta, samples=samples,
                      source=source, notes=tuple(notes), sample_meta=sample_meta)
    return check_sizes(m)
