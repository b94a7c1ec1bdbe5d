"""The long builder: a matrix from long records or from columns (query id, model, correct,
metadata), with duplicates, repeated samples and metadata checked once for every format."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, NamedTuple

import numpy as np

from ...errors import InputError
from ...matrix import OutcomeMatrix
from .cells import (BAD_CELL, CELL_COLUMNS, CELL_HINT, CELL_VOCABULARY, QUERY_COLUMNS,
                    SAMPLE_COLUMNS, _empty_query_error, apply_missing, check_sizes, encode_cells)
from .lazy import lazy_matrix


class LazyColumn:
    """A per-record metadata column made on demand: ``make(indices)`` returns the
    values of those records. The builder asks only for what it keeps (for a per-query
    column, each query's last record), so an importer can leave per-record values
    undecoded (``msgspec.Raw``) until then."""

    def __init__(self, size: int, make: Any, make_all: Any = None) -> None:
        self.size = size
        self.make = make
        self.make_all = make_all  # every record's value at once (cheaper), if given

    def __len__(self) -> int:
        return self.size

    def take(self, indices: Sequence[int]) -> list:
        return list(self.make(indices))

    def all(self) -> list:
        return list(self.make_all() if self.make_all is not None else self.make(range(self.size)))


class Factorized(NamedTuple):
    """An id column already factorized: ``codes[i]`` indexes ``names`` (distinct, in
    order of first appearance), as :func:`factorize_ids` makes it."""

    codes: np.ndarray
    names: list


def factorize_ids(values: Any) -> Factorized:
    """Ids as a record-by-record read makes them (``str(v).strip()``), factorized: the
    text and strip of each *distinct* value once (a pyarrow dictionary encoding), so a
    column of millions of records costs array work plus one look per distinct id.
    ``values``: a list, or a pyarrow (Chunked/Dictionary) Array."""
    codes, words = _factorize(values)
    stripped = [w if type(w) is str and (not w or not (w[0].isspace() or w[-1].isspace()))
                else str(w).strip() for w in words]
    if stripped != words or len(set(stripped)) != len(stripped):
        lut: dict[str, int] = {}
        remap = np.fromiter((lut.setdefault(w, len(lut)) for w in stripped), np.int64,
                            count=len(stripped))
        return Factorized(remap[codes], list(lut))
    return Factorized(codes, stripped)


def _factorize(values: Any) -> tuple[np.ndarray, list]:
    """Codes in order of first appearance, and the distinct values in that order."""
    if isinstance(values, Factorized):
        return values.codes, values.names
    try:
        import pyarrow as pa
        import pyarrow.compute as pc

        arr = values if isinstance(values, (pa.Array, pa.ChunkedArray)) else pa.array(values)
        enc = pc.dictionary_encode(arr)
        if isinstance(enc, pa.ChunkedArray):
            enc = enc.combine_chunks()
        if pa.types.is_dictionary(arr.type):  # given encoded: the used entries, in order
            used = pc.dictionary_encode(enc.indices)
            enc = pa.DictionaryArray.from_arrays(used.indices, enc.dictionary.take(
                used.dictionary))
        if enc.indices.null_count == 0:
            return enc.indices.to_numpy(zero_copy_only=False).astype(np.int64), \
                enc.dictionary.to_pylist()
    except (ImportError, TypeError, ValueError, ArithmeticError):
        pass
    if hasattr(values, "to_pylist"):  # a pyarrow array the encoding did not take
        values = values.to_pylist()
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
                        notes: Sequence[str] = (),
                        deferred: Callable[[], Mapping[str, Sequence[Any]]] | None = None,
                        what: str = "long") -> OutcomeMatrix:
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
      deferred: a function returning more per-record metadata columns (cell and query
        columns by name), run when ``cell_meta``/``query_meta`` are first read (see
        :mod:`.lazy`; with repeated samples it is run at once); ``what`` names the
        format in a message about a damaged file then.

    The first problem in record order is reported: a bad ``correct`` value, then a
    (query, model, sample) seen twice.

    Long: the checks, then cell, sample and query metadata and the missing policy.
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
    sample = np.zeros(R, np.int64) if sample is None else np.asarray(sample, np.int64)
    if sample.any():
        sample_ids, sj = np.unique(sample, return_inverse=True)
        S = len(sample_ids)
    else:
        sj, S = sample, 1
    errs = []  # (record index, InputError)
    bad = np.flatnonzero(correct == BAD_CELL)
    if bad.size:
        i = int(bad[0])
        errs.append((i, None))
    if "" in q_names:
        errs.append((int(np.argmax(qi == q_names.index(""))), "empty"))
    key = (sj * n + qi) * k + mi
    if R > S * n * k or np.bincount(key, minlength=S * n * k).max() > 1:  # a duplicate:
        order = np.argsort(key, kind="stable")  # the first record repeating an earlier one
        dup_sorted = np.flatnonzero(key[order][1:] == key[order][:-1]) + 1
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
    place = functools.partial(_place_meta, qi=qi, mi=mi, sj=sj, S=S, n=n, k=k, R=R, source=source,
                              where_prefix=where_prefix)
    if deferred is not None and S > 1:  # every sample's answer is placed now
        cell, query = _with_deferred(cell, query, deferred())
        deferred = None
    if deferred is None:
        cell_meta, query_meta, sample_meta = place(cell or {}, query or {})
    base, q_keep, m_keep, dropped = apply_missing(cells[0], q_names, m_names,
                                                  missing=missing, source=source)
    keep = None
    if len(q_keep) < n or len(m_keep) < k:
        qpos = {q: i for i, q in enumerate(q_names)}
        mpos = {m: i for i, m in enumerate(m_names)}
        keep = (np.asarray([qpos[q] for q in q_keep], np.int64),
                np.asarray([mpos[m] for m in m_keep], np.int64))
        cells = cells[:, keep[0]][:, :, keep[1]]
    fields = dict(correct=base == 1, query_ids=tuple(q_keep), models=tuple(m_keep),
                  samples=cells if S > 1 else None, source=source,
                  notes=tuple(notes) + tuple(dropped))
    if deferred is not None:
        make = deferred

        def lazy_groups():
            c, q = _with_deferred(cell, query, make())
            cm, qm, _ = place(c, q)
            return _kept(cm, qm, {}, keep)[:2]

        return check_sizes(lazy_matrix(lazy_groups, what=what, **fields))
    cell_meta, query_meta, sample_meta = _kept(cell_meta, query_meta, sample_meta, keep)
    m = OutcomeMatrix(query_meta=query_meta, cell_meta=cell_meta, sample_meta=sample_meta,
                      **fields)
    return check_sizes(m)


def _with_deferred(cell, query, columns: Mapping[str, Sequence[Any]]):
    """``cell`` and ``query`` with the deferred per-record ``columns`` added (split by
    name: ``CELL_COLUMNS`` are per cell, the rest per query)."""
    cell, query = dict(cell or {}), dict(query or {})
    for col, values in columns.items():
        (cell if col in CELL_COLUMNS else query)[col] = values
    return cell, query


def _kept(cell_meta: dict, query_meta: dict, sample_meta: dict, keep):
    """The metadata of the queries and models the missing policy kept (``keep``:
    their row and column indices; None: all)."""
    if keep is None:
        return cell_meta, query_meta, sample_meta
    qk, mk = keep
    return ({c: a[np.ix_(qk, mk)] for c, a in cell_meta.items()},
            {c: a[qk] for c, a in query_meta.items()},
            {c: a[:, qk][:, :, mk] for c, a in sample_meta.items()})


def _place_meta(cell: Mapping[str, Sequence[Any]], query: Mapping[str, Sequence[Any]], *,
                qi: np.ndarray, mi: np.ndarray, sj: np.ndarray, S: int, n: int, k: int, R: int,
                source: str, where_prefix: str):
    """(cell_meta, query_meta, sample_meta) arrays from per-record columns (see
    :func:`matrix_from_columns`), before the missing policy."""
    sel = np.flatnonzero(sj == 0) if S > 1 else None
    cell_meta: dict[str, np.ndarray] = {}
    for col, values in cell.items():
        typ = CELL_COLUMNS.get(col, str)
        vals = _meta_values(values, sel, typ, col, source=source, where_prefix=where_prefix)
        if vals is None:
            continue
        arr = np.full((n, k), np.nan) if typ is float else np.full((n, k), None, dtype=object)
        present, v = vals
        rows = np.flatnonzero(present) if sel is None else sel[present]
        arr[qi[rows], mi[rows]] = v
        cell_meta[col] = arr
    sample_meta: dict[str, np.ndarray] = {}
    if S > 1:  # every sample's answer, for the audit and regrading
        for col in SAMPLE_COLUMNS:
            if col not in cell:
                continue
            vals = np.asarray(cell[col], dtype=object)
            has = np.fromiter((v is not None and v != "" for v in vals), bool, count=R)
            if has.any():
                arr3 = np.full((S, n, k), None, dtype=object)
                arr3[sj[has], qi[has], mi[has]] = [str(v) for v in vals[has]]
                sample_meta[col] = arr3
    query_meta: dict[str, np.ndarray] = {}
    last_rec = np.full(n, -1, np.int64)  # the last record of each query
    np.maximum.at(last_rec, qi, np.arange(R, dtype=np.int64))
    for col, values in query.items():
        arr = _query_values(values, qi, last_rec, R)
        if arr is not None:
            query_meta[col] = arr
    return cell_meta, query_meta, sample_meta


def _query_values(values: Sequence[Any], qi: np.ndarray, last_rec: np.ndarray,
                  R: int) -> np.ndarray | None:
    """A per-query metadata column: the last non-empty (not None, not '') value of each
    query as text, None where a query has none; None when no record has one.

    The usual case costs one look per query: the value of each query's last record;
    only when one of those is empty are all the records looked at."""
    if isinstance(values, LazyColumn):
        lasts = values.take(last_rec.tolist())
        if any(v is None or v == "" for v in lasts):
            values = values.all()
    elif isinstance(values, np.ndarray):
        if values.dtype.kind != "O":
            values = values.astype(object)
        lasts = values[last_rec].tolist()
    else:
        lasts = [values[i] for i in last_rec.tolist()]
    if not any(v is None or v == "" for v in lasts):
        arr = np.empty(len(lasts), dtype=object)
        arr[:] = [v if type(v) is str else str(v) for v in lasts]
        return arr
    col_vals = values if isinstance(values, np.ndarray) else np.asarray(values, dtype=object)
    nonempty = np.fromiter((v is not None and v != "" for v in col_vals), bool, count=R)
    if not nonempty.any():
        return None
    pos = np.flatnonzero(nonempty)
    ids, last = _last_index_per(qi[pos])
    arr = np.full(len(last_rec), None, dtype=object)
    arr[ids] = [str(v) for v in col_vals[pos[last]]]
    return arr


def _meta_values(values, sel: np.ndarray | None, typ, col: str, *, source: str,
                 where_prefix: str):
    """(present mask over ``sel`` (every record when None), converted values) of a
    metadata column, or None when no record has it. Float columns: '' is NaN, a
    non-number is an error naming the record."""
    if typ is float and type(values) is list:
        try:  # numbers and None (None is NaN, as an absent cell is)
            nums = np.array(values, dtype=np.float64)
        except (TypeError, ValueError):
            pass
        else:
            nums = nums if sel is None else nums[sel]
            if not np.isnan(nums).all():
                return np.ones(len(nums), bool), nums
    arr = values if isinstance(values, np.ndarray) else np.asarray(values, dtype=object)
    sub = arr if sel is None else arr[sel]
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
                    rec = int(np.flatnonzero(present)[i])
                    rec = rec if sel is None else int(sel[rec])
                    raise InputError(f"{col} value {x!r} is not a number", source=source,
                                     where=f"{where_prefix} {rec + 1}",
                                     hint=f"write {col} as a number") from None
        return present, out
    if v.dtype.kind == "O":
        if set(map(type, v)) == {str}:
            return present, v
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
