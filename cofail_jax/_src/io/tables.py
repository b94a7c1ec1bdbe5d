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


# ---- wide CSV through pyarrow --------------------------------------------------------------
_ARROW_NULLS = ["", "NA", "na", "NaN", "nan", "NAN", "null", "NULL", "Null", "none", "None",
                "NONE"]


def _data_row_line(path: str, r: int, delimiter: str) -> int:
    """The 1-based file line of data row ``r`` (0-based, blank lines not counted)."""
    import csv

    with open(path, newline="", encoding="utf-8-sig") as f:
        reader = csv.reader(f, delimiter=delimiter)
        next(reader, None)
        i = -1
        for row in reader:
            if row:
                i += 1
                if i == r:
                    return reader.line_num
    return r + 2


def read_wide_csv(path: str, header: Sequence[str], *, missing: str = "error",
                  delimiter: str = ",") -> OutcomeMatrix | None:
    """The wide CSV through pyarrow's multithreaded reader, validated as arrays.

    ``header`` is the file's first row (already checked: ``query_id`` then model names).
    Model columns are read as int8 (nulls for empty/NA cells); when a column holds
    anything else (true/false, 1.0, a typo) the file is read again with dictionary-encoded
    strings and every distinct cell text is parsed once. Peak memory is about the file
    size plus one byte per cell.

    Returns None (the caller then uses the row-by-row reader, whose messages name the
    exact row) when pyarrow is not installed or the file is not regular CSV: a row with
    the wrong number of fields, bad quoting, or text that is not UTF-8.
    """
    try:
        import pyarrow as pa
        import pyarrow.csv as pcsv
    except ImportError:
        return None
    names = [h.strip() for h in header]
    models = names[1:]
    check_unique(models, "model name", path)
    cols = [f"c{i}" for i in range(len(names))]
    read = pcsv.ReadOptions(column_names=cols, skip_rows=1, block_size=1 << 24)
    parse = pcsv.ParseOptions(delimiter=delimiter)

    def load(cell_type):
        types = {c: cell_type for c in cols[1:]}
        types[cols[0]] = pa.string()
        conv = pcsv.ConvertOptions(column_types=types, null_values=_ARROW_NULLS,
                                   strings_can_be_null=False, quoted_strings_can_be_null=False)
        return pcsv.read_csv(path, read_options=read, parse_options=parse, convert_options=conv)

    try:
        try:
            table = load(pa.int8())
        except pa.ArrowInvalid as e:
            if "conversion error" not in str(e).lower():
                return None
            table = load(pa.dictionary(pa.int32(), pa.string()))
    except (pa.ArrowInvalid, OSError, UnicodeDecodeError):
        return None
    n = table.num_rows
    k = len(models)
    codes = np.empty((n, k), np.int8)
    for j in range(k):
        codes[:, j] = encode_arrow(table.column(j + 1))
    import pyarrow.compute as pc

    qids = pc.utf8_trim_whitespace(table.column(0)).to_pylist()
    del table
    empty_q = np.fromiter((not q for q in qids), bool, count=n)
    if empty_q.any():  # a row of nothing but delimiters is a blank line, as for csv.reader
        blank = empty_q & (codes == -1).all(axis=1)
        if blank.any():
            keep = ~blank
            row_of = np.flatnonzero(keep)
            codes = codes[keep]
            qids = [q for q, b in zip(qids, blank) if not b]
            empty_q = empty_q[keep]
        else:
            row_of = np.arange(n)
    else:
        row_of = None

    def line(r):
        return _data_row_line(path, int(r if row_of is None else row_of[r]), delimiter)

    bad = _first_bad(codes)
    if bad is not None:
        r, c = bad
        ln = line(r)
        value = _cell_text_at(path, ln, c + 1, delimiter)
        raise _bad_cell_error(value, source=path, where=f"row {ln}, column {models[c]!r}")
    if empty_q.any():
        raise _empty_query_error(source=path, where=f"row {line(int(np.argmax(empty_q)))}")
    check_unique(qids, "query id", path)
    return matrix_from_codes(codes, qids, models, source=path, missing=missing)


def read_long_csv(path: str, *, missing: str = "error",
                  delimiter: str = ",") -> OutcomeMatrix | None:
    """The long CSV (``query_id, model, correct`` and metadata columns) through pyarrow,
    the same matrix :func:`matrix_from_records` builds from ``csv.DictReader`` rows:
    every field read as text, ids stripped, cells parsed once per distinct text,
    metadata columns as the strings the csv module gives.

    Returns None (the caller then reads the file with the csv module, whose messages
    name the exact row) when pyarrow is not installed, the file is not regular CSV (a
    row with the wrong number of fields, a quoted newline, text that is not UTF-8), or
    anything is wrong with its content (a bad cell, an empty id, a bad sample number,
    a duplicate record, a header naming a column twice).
    """
    try:
        import pyarrow as pa
        import pyarrow.compute as pc
        import pyarrow.csv as pcsv
    except ImportError:
        return None
    import csv

    try:
        with open(path, newline="", encoding="utf-8-sig") as f:
            header = next(csv.reader(f, delimiter=delimiter), None)
    except (OSError, UnicodeDecodeError, csv.Error):
        return None
    names = [h.strip() for h in header or ()]
    if len(set(names)) < len(names) or not {"query_id", "model", "correct"} <= set(names):
        return None
    cols = [f"c{i}" for i in range(len(names))]
    text = pa.dictionary(pa.int32(), pa.string())
    wanted = {"query_id", "model", "correct", "sample"}
    kept = [c for c, name in zip(cols, names)
            if name in wanted or name in CELL_COLUMNS or name in QUERY_COLUMNS]
    conv = pcsv.ConvertOptions(
        column_types={c: (text if name in wanted else pa.string())
                      for c, name in zip(cols, names)},
        null_values=[], strings_can_be_null=False, quoted_strings_can_be_null=False,
        include_columns=kept)
    try:
        table = pcsv.read_csv(
            path, read_options=pcsv.ReadOptions(column_names=cols, skip_rows=1,
                                                block_size=1 << 24),
            parse_options=pcsv.ParseOptions(delimiter=delimiter), convert_options=conv)
    except (pa.ArrowInvalid, OSError, UnicodeDecodeError):
        return None
    if table.num_rows == 0:
        return None
    by_name = {name: table.column(c) for c, name in zip(cols, names) if c in kept}

    def stripped(col):
        """The column's texts stripped (each distinct text once), as an Arrow array."""
        enc = col.combine_chunks() if isinstance(col, pa.ChunkedArray) else col
        words = [w.strip() for w in enc.dictionary.to_pylist()]
        if "" in words and pc.any(pc.equal(enc.indices, words.index(""))).as_py():
            raise ValueError("empty id")
        return pa.array(words, pa.string()).take(enc.indices)

    try:
        qs, ms = stripped(by_name["query_id"]), stripped(by_name["model"])
        codes = encode_arrow(by_name["correct"])
        if (codes == BAD_CELL).any():
            return None
        sample = None
        if "sample" in by_name:
            enc = by_name["sample"].combine_chunks()
            nums = np.asarray([0 if w == "" else int(w) for w in enc.dictionary.to_pylist()],
                              np.int64)
            sample = nums[enc.indices.to_numpy(zero_copy_only=False)]
            if not sample.any():
                sample = None
        cell = {c: v.to_numpy(zero_copy_only=False) for c, v in by_name.items()
                if c in CELL_COLUMNS}
        query = {c: v.to_numpy(zero_copy_only=False) for c, v in by_name.items()
                 if c in QUERY_COLUMNS}
        del table, by_name
        return matrix_from_columns(qs, ms, codes, source=path, missing=missing,
                                   sample=sample, cell=cell, query=query,
                                   where_prefix="data row")
    except (InputError, ValueError, TypeError, pa.ArrowException):
        return None


def _cell_text_at(path: str, ln: int, field: int, delimiter: str) -> str:
    """The text of field ``field`` (0-based) of the row ending at file line ``ln``."""
    import csv

    with open(path, newline="", encoding="utf-8-sig") as f:
        reader = csv.reader(f, delimiter=delimiter)
        for row in reader:
            if reader.line_num == ln:
                return row[field] if field < len(row) else ""
    return "?"


# ---- long records ----------------------------------------------------------------------
def _factorize(values: Sequence[Any]) -> tuple[np.ndarray, list]:
    """Codes in order of first appearance, and the distinct values in that order."""
    try:
        import pyarrow as pa
        import pyarrow.compute as pc

        arr = values if isinstance(values, (pa.Array, pa.ChunkedArray)) else pa.array(values)
        enc = pc.dictionary_encode(arr)
        if isinstance(enc, pa.ChunkedArray):
            enc = enc.combine_chunks()
        if enc.indices.null_count == 0:
            return enc.indices.to_numpy(zero_copy_only=False).astype(np.int64), \
                enc.dictionary.to_pylist()
    except (ImportError, TypeError, ValueError, ArithmeticError):
        pass
    lut: dict[Any, int] = {}
    codes = np.fromiter((lut.setdefault(v, len(lut)) for v in values), np.int64,
                        count=len(values))
    return codes, list(lut)


def _last_index_per(groups: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each distinct group id: (the id, the position of its last occurrence)."""
    rev = groups[::-1]
    ids, first_rev = np.unique(rev, return_index=True)
    return ids, len(groups) - 1 - first_rev


def matrix_from_columns(query_id: Sequence[str], model: Sequence[str], correct: np.ndarray, *,
                        source: str, missing: str = "error", sample: np.ndarray | None = None,
                        cell: Mapping[str, Sequence[Any]] | None = None,
                        query: Mapping[str, Sequence[Any]] | None = None,
                        where_prefix: str = "record", correct_key: str = "correct",
                        notes: Sequence[str] = ()) -> OutcomeMatrix:
    """Build a matrix from long columns, one entry per record, as array operations.

    Args:
      query_id, model: stripped, non-empty strings (one per record).
      correct: int8 codes from :func:`encode_cells` / :func:`encode_arrow` (``BAD_CELL``
        is an error naming the record).
      sample: optional integer sample numbers (default all 0).
      cell: per-cell metadata columns (names from ``CELL_COLUMNS``); ``None`` entries
        are absent. Values of sample 0 (the smallest sample number) are kept.
      query: per-query metadata columns (``QUERY_COLUMNS``); the last non-empty value
        of each query is kept.

    The first problem in record order is reported: a bad ``correct`` value, then a
    (query, model, sample) seen twice.
    """
    correct = np.asarray(correct, np.int8)
    R = correct.shape[0]
    if R == 0:
        raise InputError("has no records", source=source, hint="check the file is not empty")
    qi, q_names = _factorize(query_id)
    mi, m_names = _factorize(model)
    q_names = [str(q) for q in q_names]
    m_names = [str(m) for m in m_names]
    n, k = len(q_names), len(m_names)
    if sample is None:
        sample = np.zeros(R, np.int64)
    sample = np.asarray(sample, np.int64)
    sample_ids, sj = np.unique(sample, return_inverse=True)
    S = len(sample_ids)
    errs = []  # (record index, InputError)
    bad = np.flatnonzero(correct == BAD_CELL)
    if bad.size:
        i = int(bad[0])
        errs.append((i, None))
    if "" in q_names:
        errs.append((int(np.argmax(qi == q_names.index(""))), "empty"))
    key = (sj * n + qi) * k + mi
    order = np.argsort(key, kind="stable")
    dup_sorted = np.flatnonzero(key[order][1:] == key[order][:-1]) + 1
    if dup_sorted.size:
        errs.append((int(order[dup_sorted].min()), "dup"))
    if errs:
        i, kind = errs[0]
        where = f"{where_prefix} {i + 1}"
        if kind == "empty":
            raise _empty_query_error(source=source, where=where)
        if kind is None:
            raise InputError(f"{correct_key} value is not {CELL_VOCABULARY}", source=source,
                             where=where, hint=CELL_HINT)
        raise InputError(
            f"duplicate record for query {q_names[qi[i]]!r}, model {m_names[mi[i]]!r}"
            + (f", sample {int(sample[i])}" if S > 1 else ""), source=source, where=where,
            hint="keep one record per query and model (use a 'sample' column for repeats)")
    cells = np.full((S, n, k), -1, dtype=np.int8)
    cells[sj, qi, mi] = correct
    first = sj == 0
    cell_meta: dict[str, np.ndarray] = {}
    for col, values in (cell or {}).items():
        typ = CELL_COLUMNS.get(col, str)
        sel = np.flatnonzero(first)
        vals = _meta_values(values, sel, typ, col, source=source, where_prefix=where_prefix)
        if vals is None:
            continue
        arr = np.full((n, k), np.nan) if typ is float else np.full((n, k), None, dtype=object)
        present, v = vals
        arr[qi[sel[present]], mi[sel[present]]] = v
        cell_meta[col] = arr
    sample_meta: dict[str, np.ndarray] = {}
    if S > 1:  # every sample's answer, for the audit and regrading
        for col in SAMPLE_COLUMNS:
            if col not in (cell or {}):
                continue
            vals = np.asarray((cell or {})[col], dtype=object)
            has = np.fromiter((v is not None and v != "" for v in vals), bool, count=R)
            if has.any():
                arr3 = np.full((S, n, k), None, dtype=object)
                arr3[sj[has], qi[has], mi[has]] = [str(v) for v in vals[has]]
                sample_meta[col] = arr3
    query_meta: dict[str, np.ndarray] = {}
    for col, values in (query or {}).items():
        col_vals = values if isinstance(values, np.ndarray) else np.asarray(values, dtype=object)
        if col_vals.dtype.kind != "O":
            col_vals = col_vals.astype(object)
        nonempty = np.fromiter((v is not None and v != "" for v in col_vals), bool, count=R)
        if not nonempty.any():
            continue
        pos = np.flatnonzero(nonempty)
        ids, last = _last_index_per(qi[pos])
        arr = np.full(n, None, dtype=object)
        arr[ids] = [str(v) for v in col_vals[pos[last]]]
        query_meta[col] = arr
    base = cells[0]
    base, q_keep, m_keep, dropped = apply_missing(base, q_names, m_names, missing=missing,
                                                  source=source)
    if len(q_keep) < n or len(m_keep) < k:
        qpos = {q: i for i, q in enumerate(q_names)}
        mpos = {m: i for i, m in enumerate(m_names)}
        qi_keep = np.asarray([qpos[q] for q in q_keep], np.int64)
        mi_keep = np.asarray([mpos[m] for m in m_keep], np.int64)
        cell_meta = {c: a[np.ix_(qi_keep, mi_keep)] for c, a in cell_meta.items()}
        query_meta = {c: a[qi_keep] for c, a in query_meta.items()}
        cells = cells[:, qi_keep][:, :, mi_keep]
        sample_meta = {c: a[:, qi_keep][:, :, mi_keep] for c, a in sample_meta.items()}
    m = OutcomeMatrix(correct=base == 1, query_ids=tuple(q_keep), models=tuple(m_keep),
                      query_meta=query_meta, cell_meta=cell_meta,
                      samples=cells if S > 1 else None, source=source,
                      notes=tuple(notes) + tuple(dropped), sample_meta=sample_meta)
    return check_sizes(m)


def _meta_values(values, sel: np.ndarray, typ, col: str, *, source: str, where_prefix: str):
    """(present mask over ``sel``, converted values) of a metadata column, or None when no
    record has it. Float columns: '' is NaN, a non-number is an error naming the record."""
    arr = values if isinstance(values, np.ndarray) else np.asarray(values, dtype=object)
    sub = arr[sel]
    if sub.dtype.kind == "O":
        present = np.asarray(sub != None, bool)  # noqa: E711  (elementwise, not identity)
    else:
        present = np.ones(len(sub), bool)
    if not present.any():
        return None
    v = sub[present]
    if typ is float:
        try:
            out = np.asarray(v, dtype=np.float64)
        except (TypeError, ValueError):
            out = np.empty(len(v))
            for i, x in enumerate(v):
                try:
                    out[i] = np.nan if x == "" else float(x)
                except (TypeError, ValueError):
                    rec = int(sel[np.flatnonzero(present)[i]])
                    raise InputError(f"{col} value {x!r} is not a number", source=source,
                                     where=f"{where_prefix} {rec + 1}",
                                     hint=f"write {col} as a number") from None
        return present, out
    if v.dtype.kind == "O":
        out = np.empty(len(v), dtype=object)
        out[:] = [x if type(x) is str else str(x) for x in v]
    else:
        out = v.astype(str).astype(object)
    return present, out


def matrix_from_records(records: Iterable[Mapping[str, Any]], *, source: str,
                        missing: str = "error", correct_key: str = "correct",
                        where_prefix: str = "record") -> OutcomeMatrix:
    """Build a matrix from long records: query_id, model, correct[, sample, extras].

    Known extra columns (``CELL_COLUMNS``, ``QUERY_COLUMNS``) are kept as metadata;
    a ``sample`` column makes repeated samples (sample 0, or the first seen, is
    ``correct``). A (query, model, sample) seen twice is an error.

    One pass over the records collects columns (checking keys and sample numbers); the
    values are then validated and placed as arrays by :func:`matrix_from_columns`. The
    first problem in record order is reported, as a record-by-record check would.
    """
    qs: list[str] = []
    ms: list[str] = []
    vals: list[Any] = []
    samples: list[int] = []
    has_sample = False
    meta: dict[str, tuple[list[int], list[Any]]] = {}
    known = set(CELL_COLUMNS) | set(QUERY_COLUMNS)
    loop_err: InputError | None = None
    i = -1
    for i, rec in enumerate(records):
        where = f"{where_prefix} {i + 1}"
        for key in ("query_id", "model", correct_key):
            v = rec.get(key) if key in rec else None
            if v is None or (key != correct_key and isinstance(v, str) and not v.strip()):
                loop_err = InputError(f"has no {key!r}", source=source, where=where,
                                      hint="each record needs query_id, model and correct")
                break
        if loop_err is not None:
            break
        vals.append(rec[correct_key])
        s = rec.get("sample", 0)
        if s is None or s == "":
            s = 0
        elif not (type(s) is int and s == 0):
            try:
                s = int(s)
            except (TypeError, ValueError):
                loop_err = InputError(f"sample {s!r} is not an integer", source=source,
                                      where=where, hint="number repeated samples 0, 1, 2, ...")
                break
            has_sample = has_sample or s != 0
        qs.append(str(rec["query_id"]).strip())
        ms.append(str(rec["model"]).strip())
        samples.append(s)
        for col in rec:
            if col in known:
                v = rec[col]
                if v is not None:
                    entry = meta.get(col)
                    if entry is None:
                        entry = meta[col] = ([], [])
                    entry[0].append(i)
                    entry[1].append(v)
    codes = encode_cells(vals)
    bad = np.flatnonzero(codes == BAD_CELL)
    if bad.size:
        j = int(bad[0])
        raise InputError(f"{correct_key} value {vals[j]!r} is not {CELL_VOCABULARY}",
                         source=source, where=f"{where_prefix} {j + 1}", hint=CELL_HINT)
    if loop_err is not None:
        raise loop_err
    R = len(vals)
    if R == 0:
        raise InputError("has no records", source=source, hint="check the file is not empty")
    cell: dict[str, np.ndarray] = {}
    query: dict[str, np.ndarray] = {}
    for col, (idx, v) in meta.items():
        full = np.full(R, None, dtype=object)
        tmp = np.empty(len(v), dtype=object)
        tmp[:] = v
        full[np.asarray(idx, np.int64)] = tmp
        (cell if col in CELL_COLUMNS else query)[col] = full
    return matrix_from_columns(qs, ms, codes, source=source, missing=missing,
                               sample=np.asarray(samples, np.int64) if has_sample else None,
                               cell=cell, query=query, where_prefix=where_prefix,
                               correct_key=correct_key)
