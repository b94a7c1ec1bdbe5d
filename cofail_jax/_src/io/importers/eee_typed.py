"""The typed (msgspec) reading of Every Eval Ever instance files: :func:`.eee.load_eee`'s
matrix, metadata and notes from records decoded into Structs naming only the fields it
reads, the columns built in bulk. At load only what the matrix needs is decoded
(``EeeCell``, one file at a time); the metadata when first read (the files read again),
with ``input`` undecoded (``msgspec.Raw``) until the builder asks for a query's prompt,
reference and choices (each query's last record). Anything irregular raises one of
``fast_errors()``; ``load_eee`` then reads the files record by record, whose message
names the line."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from operator import attrgetter
from typing import Any

import numpy as np

from ...matrix import OutcomeMatrix
from ..tables.columns import Factorized, LazyColumn
from ..typed import FileSnapshot, Fallback, all_none, decode_body, fast_errors, plain_lines
from ._common import as_text, build_matrix, choose_task, factorize_repeated, loads

_OK_CODE = {True: 1, False: 0, None: -1}
_RID, _META_OF, _OK, _ERR, _SID, _MODEL, _EVNAME = map(attrgetter, (
    "evaluation_result_id", "metadata", "evaluation.is_correct", "error", "sample_id",
    "model_id", "evaluation_name"))


def _models(parts: list[list[Any]]) -> Factorized | None:
    """The model column, already factorized, when each file names one model (as text);
    else None."""
    lut: dict[str, int] = {}
    codes = []
    for part in parts:
        if part and (type(part[0]) is not str or part.count(part[0]) != len(part)):
            return None
        codes.append(lut.setdefault(part[0], len(lut)) if part else 0)
    return Factorized(np.repeat(np.asarray(codes, np.int64), list(map(len, parts))), list(lut))


def _one_object(values: list[Any]) -> list[Any]:
    """``values``, as one object repeated when they are all equal (the rest are freed)."""
    if values and values.count(values[0]) == len(values):
        return [values[0]] * len(values)
    return values


def load_eee_typed(files: list[str], path: str, *, missing: str, task: str | None,
                   metric: str | None, filter: str | None,
                   select: Callable[..., tuple[list, list[str]]],
                   read_rows: Callable[..., int]) -> tuple[OutcomeMatrix, list[str], list[str],
                                                          int, str]:
    """(matrix, choice notes, evaluation names, records carrying an error, task) of the
    instance ``files``; ``select`` is ``eee._select_result``, ``read_rows``
    ``eee._read_rows``. The records are decoded for the matrix only (``EeeCell``), one
    file at a time; the metadata is decoded when the matrix's metadata is first read,
    the files read again (:class:`~cofail_jax._src.io.typed.FileSnapshot`: an error if
    one has changed since).

    Long: the per-file columns, the result and task choice, and the deferred metadata
    (with its dict-path fallback) share the selected record indices.
    """
    from ._typed import EEE_CELL

    snaps = []
    rids: list[Any] = []
    metas: list[Any] = []
    evnames: list[Any] = []
    oks: list[Any] = []
    errs: list[Any] = []
    qs: list[list[Any]] = []  # per file
    ms: list[list[Any]] = []
    for file in files:  # one file's records at a time (decoded, read, dropped)
        snaps.append(FileSnapshot.of(file))
        recs = decode_body(plain_lines(file), EEE_CELL)
        rids += map(_RID, recs)
        metas += map(_META_OF, recs)
        oks += map(_OK, recs)
        errs += map(_ERR, recs)
        qs.append(list(map(_SID, recs)))
        ms.append(_one_object(list(map(_MODEL, recs))))
        evnames += _one_object(list(map(_EVNAME, recs)))
    R = len(oks)
    if all_none(rids) and all_none(metas):
        parts: list[tuple[Any, Any]] = [(None, None)] * R
    else:
        filt = [None if m is None else m.filter for m in metas]
        lut = {key: _result_parts(*key) for key in set(zip(rids, filt))}
        parts = list(map(lut.__getitem__, zip(rids, filt)))
    if metric is None and filter is None and parts[0] == (None, None) and len(set(parts)) == 1:
        keep: Any = range(R)  # one result, no filters: nothing to choose
        chosen: list[str] = []
    else:
        keep, chosen = select(list(range(R)), metric, filter, source=path, parts=parts)
    if set(map(type, evnames)) - {str}:
        evnames = list(map(str, evnames))
    if len(keep) < R:
        evnames = [evnames[i] for i in keep]
    names = sorted(set(evnames))
    task = choose_task(names, task, source=path, several="holds several evaluations",
                       absent="has no evaluation")
    if len(names) > 1:
        keep = [i for i, n in zip(keep, evnames) if n == task]
    models: Any = _models(ms) if len(keep) == R else None
    if models is None:
        models = [m for part in ms for m in part]
        models = models if set(map(type, models)) == {str} else list(map(str, models))
    ids: Any = factorize_repeated(qs) if len(keep) == R else None
    if ids is None:
        ids = [q for part in qs for q in part]
        ids = ids if set(map(type, ids)) == {str} else list(map(str, ids))
    if len(keep) < R:
        oks, metas, errs, ids, models = ([col[i] for i in keep]
                                         for col in (oks, metas, errs, ids, models))
    R = len(keep)
    ok_types = set(map(type, oks))
    if ok_types - {bool, type(None)}:
        raise Fallback("is_correct not a boolean")
    codes = (np.array(oks, np.int8) if ok_types == {bool}
             else np.fromiter(map(_OK_CODE.__getitem__, oks), np.int8, count=R))
    sample = None
    if not all_none(metas):
        sample = [_epoch(m) for m in metas]
    n_err = 0 if all_none(errs) else sum(1 for e in errs if e)

    def meta() -> dict[str, Any]:
        """The kept records' metadata columns, the files read again: decoded with every
        field read (EeeRecord), else as dicts through ``read_rows``."""
        import msgspec

        from ._typed import EEE_RECORD

        blobs = [plain_lines(snap.path, snap.read()) for snap in snaps]
        by_dict: list[dict[str, list]] = []

        def dict_cols() -> dict[str, list]:
            if not by_dict:
                recs = [loads(line) for body in blobs for line in body.split(b"\n")
                        if line.strip()]
                cols: dict[str, list] = {c: [] for c in ("query_id", "model", "correct",
                                                         "sample", *_META)}
                read_rows([(path, 0, recs[i]) for i in keep], task, cols)
                by_dict.append({c: cols[c] for c in _META})
            return by_dict[0]

        try:
            full: list[Any] = []
            for body in blobs:
                full += decode_body(body, EEE_RECORD)
            out = _meta_columns(full if len(keep) == len(full) else [full[i] for i in keep],
                                msgspec)
        except fast_errors():
            return dict_cols()
        for c, v in out.items():  # a query column decoded later falls back alike
            if isinstance(v, LazyColumn):
                out[c] = LazyColumn(v.size, _guarded(v.make, c, dict_cols),
                                    _guarded(lambda v=v: v.all(), c, dict_cols))
        return out

    m = build_matrix(ids, models, codes,
                     sample=sample, deferred=meta, what="eee", source=path, missing=missing,
                     where_prefix="instance record")
    return m, chosen, names, n_err, task


_META = ("score", "prompt", "reference", "choices", "raw_answer", "answer", "input_tokens",
         "output_tokens", "total_tokens", "latency_ms", "domain")


def _meta_columns(rows: list[Any], msgspec: Any) -> dict[str, Any]:
    """The metadata columns of fully decoded records (``EeeRecord``), in ``_META`` order."""
    R = len(rows)
    evs = list(map(attrgetter("evaluation"), rows))
    scores = list(map(attrgetter("score"), evs))
    if set(map(type, scores)) - {float}:
        scores = [float(v) if isinstance(v, (int, float)) else None for v in scores]
    inputs = _Inputs(list(map(attrgetter("input"), rows)), msgspec)
    meta: dict[str, Any] = {
        "score": scores,
        "prompt": inputs.column("raw", lambda v: str(v) if v else None),
        "reference": inputs.column("reference", lambda v: as_text(v) if v else None),
        "choices": inputs.column("choices", lambda v: as_text(list(v)) if v else None),
        "raw_answer": _raw_answers(list(map(attrgetter("output"), rows))),
        "answer": _answers(list(map(attrgetter("answer_attribution"), rows))),
    }
    toks = list(map(attrgetter("token_usage"), rows))
    for key in ("input_tokens", "output_tokens", "total_tokens"):
        meta[key] = [None] * R if all_none(toks) else [
            None if t is None or getattr(t, key) is None else float(getattr(t, key))
            for t in toks]
    perf = list(map(attrgetter("performance"), rows))
    meta["latency_ms"] = [None] * R if all_none(perf) else [
        None if p is None or p.latency_ms is None else float(p.latency_ms) for p in perf]
    metas = list(map(attrgetter("metadata"), rows))
    meta["domain"] = [None] * R if all_none(metas) else [_domain(m) for m in metas]
    return meta


def _guarded(fn: Callable[..., list], col: str,
             dict_cols: Callable[[], dict[str, list]]) -> Callable[..., list]:
    """``fn`` (a :class:`LazyColumn` maker); if the typed decode fails, column ``col`` of
    the records read as dicts instead."""

    def inner(*indices: Any) -> list:
        try:
            return list(fn(*indices))
        except fast_errors():
            values = dict_cols()[col]
            return [values[i] for i in indices[0]] if indices else list(values)

    return inner


def _result_parts(rid: Any, filt: Any) -> tuple[str | None, str | None]:
    """``eee._result_parts`` of a record with ``evaluation_result_id`` ``rid`` and
    ``metadata.filter`` ``filt``."""
    metric, _, f = (str(rid).partition(":") if rid not in (None, "") else (None, "", ""))
    if filt not in (None, ""):
        f = str(filt)
    return metric, (f or None)


def _epoch(m: Any) -> int:
    if m is None or m.epoch in (None, ""):
        return 0
    return int(m.epoch) - 1  # ValueError/TypeError: the record-by-record read names it


def _domain(m: Any) -> str | None:
    if m is None:
        return None
    for v in (m.domain, m.subject, m.category):
        if v:
            return str(v)
    return None


class _Inputs:
    """The records' ``input`` objects, undecoded (``msgspec.Raw``): a few decoded on
    demand, or all at once (one decode of the joined values, shared by the columns)."""

    def __init__(self, raws: list[Any], msgspec: Any) -> None:
        self.raws = raws
        self.decode = msgspec.json.decode
        self._all: list[Any] | None = None
        self._bytes: bytes | None = None

    def _joined(self) -> bytes:
        if self._bytes is None:
            self._bytes = b",".join(r if len(r) else b"null" for r in self.raws)
        return self._bytes

    def _every(self) -> list[Any]:
        if self._all is None:
            from ._typed import EEE_INPUTS

            self._all = EEE_INPUTS.decode(b"[" + self._joined() + b"]")
        return self._all

    def column(self, key: str, convert: Callable[[Any], Any]) -> LazyColumn | list[None]:
        """The ``input.<key>`` column (an ``input`` that is not an object is empty); all
        None, undecoded, when no input names the key (no ``"key"`` in their text and no
        escape that could spell it)."""
        raws, decode = self.raws, self.decode
        joined = self._joined()
        if b"\\u" not in joined and f'"{key}"'.encode() not in joined:
            return [None] * len(raws)

        def make(indices: Sequence[int]) -> list:
            out = []
            for i in indices:
                inp = decode(raws[i]) if len(raws[i]) else None
                out.append(convert(inp.get(key)) if type(inp) is dict else None)
            return out

        def make_all() -> list:
            return [None if inp is None else convert(getattr(inp, key))
                    for inp in self._every()]

        return LazyColumn(len(raws), make, make_all)


def _raw_answers(outs: list[Any]) -> list[Any]:
    """``output.raw[0]`` as text (``output.raw`` itself when not a list), None when
    absent or empty."""
    raws = [None if o is None else o.raw for o in outs]
    if set(map(type, raws)) == {list}:
        try:
            firsts = [v[0] for v in raws]
        except IndexError:
            pass
        else:
            if set(map(type, firsts)) == {str}:
                return firsts
    return [as_text(v[0] if isinstance(v, list) else v) if v else None for v in raws]


def _answers(attrs: list[Any]) -> list[Any]:
    """The extracted value of each record's last terminal attribution (else its last)."""
    if set(map(type, attrs)) == {list} and set(map(len, attrs)) == {1}:
        vals = [a[0].extracted_value for a in attrs]
        if set(map(type, vals)) == {str}:
            return vals
        return [None if v is None else str(v) for v in vals]
    out: list[Any] = []
    for attr in attrs:
        items = attr or []
        term = [a for a in items if a.is_terminal] or items
        v = term[-1].extracted_value if term else None
        out.append(None if v is None else str(v))
    return out
