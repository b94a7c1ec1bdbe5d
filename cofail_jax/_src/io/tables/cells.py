"""Cell values and the wide builder: the 0/1 vocabulary, missing-cell policies, sizes, and the
matrix from a wide table of cell strings or from cell codes."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from ...errors import InputError
from ...matrix import OutcomeMatrix, check_unique


MISSING_POLICIES = ("error", "drop-queries", "drop-models")
# The cell vocabulary (README "Formats"): 0/1/true/false in any case (0.0 and 1.0, as
# pandas writes a float column, read as the numbers 0 and 1); an empty cell or
# NA/NaN/null/none is missing. Anything else (yes, no, t, f, 2, ...) is an error.
_TRUE = {"1", "true", "1.0"}
_FALSE = {"0", "false", "0.0"}
_MISSING = {"", "na", "nan", "null", "none"}
CELL_VOCABULARY = "0/1/true/false (any case)"
CELL_HINT = ("write 1 or true for correct, 0 or false for wrong (any case), or leave the "
             "cell empty if it is missing")
# Codes of a parsed cell: 1 correct, 0 wrong, -1 missing, BAD_CELL not a cell value.
BAD_CELL = -2

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
    """1, 0, or -1 (missing); raises ValueError for anything else.

    Accepted: 0/1/true/false in any case (and the numbers 0.0/1.0); missing: None, NaN,
    an empty string, ``na``, ``nan``, ``null``, ``none``.
    """
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


def _code(value: Any) -> int:
    try:
        return parse_cell(value)
    except ValueError:
        return BAD_CELL


def encode_cells(values: Sequence[Any]) -> np.ndarray:
    """int8 codes of a sequence of cell values: 1, 0, -1 (missing), ``BAD_CELL``.

    Each distinct value is parsed once (a dictionary of the values seen), so a column of
    millions of cells costs one hash lookup per cell, not one :func:`parse_cell` call.
    """
    if isinstance(values, np.ndarray) and values.dtype.kind in "biuf":
        return _encode_numeric(values)
    lut: dict[Any, int] = {}

    def code(v):
        try:
            return lut[v]
        except KeyError:
            c = _code(v)
            if v == v:  # NaN is never equal to itself: do not store one entry per NaN
                lut[v] = c
            return c
        except TypeError:  # unhashable: parse it directly
            return _code(v)

    return np.fromiter((code(v) for v in values), np.int8, count=len(values))


def _encode_numeric(a: np.ndarray) -> np.ndarray:
    """Codes of a numeric array: 0/1 as themselves, NaN missing, anything else bad."""
    if a.dtype.kind == "b":
        return a.astype(np.int8)
    if a.dtype.kind == "f":
        out = np.where(np.isnan(a), -1, np.where((a == 0) | (a == 1), a, BAD_CELL))
        return np.nan_to_num(out).astype(np.int8)
    return np.where((a == 0) | (a == 1), a, BAD_CELL).astype(np.int8)


def encode_arrow(col) -> np.ndarray:
    """int8 codes (as :func:`encode_cells`) of a pyarrow Array or ChunkedArray: integer,
    float and boolean columns as arrays, string columns through a dictionary encoding
    (each distinct string parsed once); nulls are missing."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if isinstance(col, pa.ChunkedArray):
        if col.num_chunks == 0:
            return np.zeros(0, np.int8)
        if pa.types.is_dictionary(col.type) or not (
                pa.types.is_integer(col.type) or pa.types.is_floating(col.type)
                or pa.types.is_boolean(col.type)):
            return np.concatenate([encode_arrow(c) for c in col.chunks]) if col.num_chunks > 1 \
                else encode_arrow(col.chunk(0))
    t = col.type
    if pa.types.is_null(t):
        return np.full(len(col), -1, np.int8)
    if pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_boolean(t):
        null = col.null_count > 0
        if pa.types.is_boolean(t):
            col = pc.cast(col, pa.int8())
        vals = (pc.fill_null(col, 0) if null else col).to_numpy(zero_copy_only=False)
        codes = _encode_numeric(vals)
        if null:
            codes[col.is_null().to_numpy(zero_copy_only=False)] = -1
        return codes
    if not pa.types.is_dictionary(t):
        col = pc.dictionary_encode(col)
    words = col.dictionary.to_pylist()
    lut = np.asarray([_code(w) for w in words] + [-1], dtype=np.int8)
    idx = col.indices
    if idx.null_count:
        idx = pc.fill_null(idx, len(words))
    return lut[idx.to_numpy(zero_copy_only=False)]


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


def _first_bad(codes: np.ndarray) -> tuple[int, int] | None:
    """(row, column) of the first ``BAD_CELL`` in row-major (file) order, or None."""
    bad = codes == BAD_CELL
    if not bad.any():
        return None
    rows = np.flatnonzero(bad.any(axis=1))
    r = int(rows[0])
    return r, int(np.flatnonzero(bad[r])[0])


def _bad_cell_error(value: Any, *, source: str, where: str) -> InputError:
    return InputError(f"cell {str(value)!r} is not {CELL_VOCABULARY}", source=source, where=where,
                      hint=CELL_HINT)


def _empty_query_error(*, source: str, where: str) -> InputError:
    return InputError("has an empty query id", source=source, where=where,
                      hint="give every row a query id in the first column")


def matrix_from_codes(codes: np.ndarray, query_ids: Sequence[str], models: Sequence[str], *,
                      source: str, missing: str = "error", notes: Sequence[str] = ()
                      ) -> OutcomeMatrix:
    """The matrix from validated int8 codes (n, k): 1 correct, 0 wrong, -1 missing."""
    codes, q, mo, dropped = apply_missing(codes, list(query_ids), list(models), missing=missing,
                                          source=source)
    m = OutcomeMatrix(correct=codes == 1, query_ids=tuple(q), models=tuple(mo), source=source,
                      notes=tuple(notes) + tuple(dropped))
    return check_sizes(m)


def matrix_from_wide_table(query_ids: Sequence[str], models: Sequence[str],
                           rows: Iterable[Sequence[Any]], *, source: str,
                           missing: str = "error", first_row: int = 2) -> OutcomeMatrix:
    """Build a matrix from rows of cell values (one per model), validating each cell.

    ``first_row`` is the file line number of the first data row, for messages. Cells
    are parsed once per distinct value (:func:`encode_cells`); the first bad cell in
    file order is reported with its row and column.
    """
    models = [str(m) for m in models]
    check_unique(models, "model name", source)
    rows = list(rows)
    k = len(models)
    for r, row in enumerate(rows):
        if len(row) != k:
            raise InputError(f"has {len(row)} cells, the header names {k} models",
                             source=source, where=f"row {r + first_row}",
                             hint="every row needs one 0/1 cell per model")
    flat = [v for row in rows for v in row]
    codes = encode_cells(flat).reshape(len(rows), k)
    bad = _first_bad(codes)
    if bad is not None:
        r, c = bad
        raise _bad_cell_error(rows[r][c], source=source,
                              where=f"row {r + first_row}, column {models[c]!r}")
    qids = [str(q).strip() for q in query_ids]
    for r, q in enumerate(qids):
        if not q:
            raise _empty_query_error(source=source, where=f"row {r + first_row}")
    check_unique(qids, "query id", source)
    return matrix_from_codes(codes, qids, models, source=source, missing=missing)
