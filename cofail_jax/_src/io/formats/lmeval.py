"""lm-evaluation-harness per-sample output (``samples_<task>_<timestamp>.jsonl``)."""

from __future__ import annotations

import fnmatch
import json
import os
import re
from operator import attrgetter
from typing import Any

import numpy as np

from ...errors import InputError
from ...matrix import OutcomeMatrix
from ..options import DEFAULT_METRICS, choice, latest_note
from ..typed import (Fallback, all_none, decode_lines as _decode_lines, fast_errors, gc_paused,
                     lmeval_decoder, msgspec_ok)
from ..tables import (
    BAD_CELL,
    encode_cells,
    matrix_from_columns,
    matrix_from_records,
)
from .jsonl import _jsonl_numbered


LMEVAL_METRICS = DEFAULT_METRICS
_SAMPLES_RE = re.compile(r"samples_(?P<task>.+?)_(?P<stamp>\d{4}-\d{2}-\d{2}T[\d\-\.]+)\.jsonl$")


MAX_WALK_FOLDERS = 20_000


def _lmeval_files(path: str) -> list[str]:
    """``samples_*.jsonl`` files under ``path``. Symbolic links to folders are not
    followed (a link loop would never end) and the walk stops after
    ``MAX_WALK_FOLDERS`` folders."""
    if os.path.isfile(path):
        return [path]
    out = []
    for n, (root, dirs, files) in enumerate(os.walk(path, followlinks=False)):
        if n >= MAX_WALK_FOLDERS:
            raise InputError(f"holds more than {MAX_WALK_FOLDERS} folders", source=path,
                             hint="point at the harness's output folder itself")
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        out.extend(os.path.join(root, f) for f in fnmatch.filter(files, "samples_*.jsonl"))
    return sorted(out)


def _detect_lmeval(path: str) -> bool:
    files = _lmeval_files(path)
    if not files or not os.path.basename(files[0]).startswith("samples_"):
        return False
    with open(files[0], encoding="utf-8") as f:
        for line in f:
            if line.strip():
                return "doc_id" in json.loads(line)
    return False


def _lmeval_model_name(file: str) -> str:
    """The harness writes ``<output_path>/<model>/samples_...``: the folder names the model."""
    return os.path.basename(os.path.dirname(os.path.abspath(file)))


def load_lmeval(path: str, *, missing: str = "error", metric: str | None = None,
                task: str | None = None, filter: str | None = None, latest: bool = False,
                **_) -> OutcomeMatrix:
    """lm-evaluation-harness per-sample output: ``samples_<task>_<timestamp>.jsonl``
    files, one folder per model (the folder name is the model name, as the harness
    writes ``<output_path>/<model>/samples_...jsonl``). ``doc_id`` is the query id, the
    metric (``acc``, ``exact_match``, ... or ``metric=``) must be 0/1. The first of
    ``filtered_resps`` is kept as the answer, ``target`` as the reference, the first of
    ``resps`` as the raw answer and the context in ``arguments`` as the prompt.
    Tasks with several answer filters (gsm8k's ``strict-match`` and
    ``flexible-extract``) write one line per document and filter: ``filter=`` picks one;
    by default the first filter in the file is kept and the notes say so. With
    ``latest=True`` a model with several sample files for the task (a rerun) keeps the
    newest (by the timestamp in the file name) instead of raising.

    Long: option checks, the typed path, then the record read it falls back to.
    """
    files = _lmeval_files(path)
    if not files:
        raise InputError("has no samples_*.jsonl files", source=path,
                         hint="point at the harness's output folder (--log_samples)")
    tasks = {}
    for file in files:
        mt = _SAMPLES_RE.search(os.path.basename(file))
        tasks.setdefault(mt.group("task") if mt else os.path.basename(file), []).append(file)
    if task is None:
        if len(tasks) > 1:
            raise InputError(f"holds several tasks: {', '.join(sorted(tasks))}", source=path,
                             hint="choose one with --task (or task= in load_matrix)")
        task = next(iter(tasks))
    if task not in tasks:
        raise InputError(f"has no samples for task {task!r}", source=path,
                         hint=f"choose one of {', '.join(sorted(tasks))}")
    notes: list[str] = []
    task_files = tasks[task]
    if latest:
        task_files, dropped = _newest_per_model(task_files)
        if dropped:
            notes.append(latest_note("sample file", dropped))
    if msgspec_ok():
        try:
            with gc_paused():
                return _load_lmeval_typed(task_files, task, path, missing=missing,
                                          metric=metric, filter=filter, notes=list(notes))
        except fast_errors():
            pass  # anything irregular: the record-by-record read below names it
    records = []
    seen_models: dict[str, str] = {}
    used_metrics: dict[str, None] = {}
    other_metrics: dict[str, None] = {}
    for file in task_files:
        model = _lmeval_model_name(file)
        if model in seen_models:
            raise InputError(f"model {model!r} has two sample files for task {task!r}", source=file,
                             hint=f"keep one (the other is {seen_models[model]}), or pass "
                                  "--latest to keep the newest")
        seen_models[model] = file
        numbered = _jsonl_numbered(file)
        filters = list(dict.fromkeys(r.get("filter") for _, r in numbered
                                     if r.get("filter") is not None))
        if filter is not None:
            if filter not in filters:
                raise InputError(f"has no filter {filter!r}", source=file, where="filter",
                                 hint=f"choose one of {', '.join(map(str, filters)) or '(none)'}")
            numbered = [(ln, r) for ln, r in numbered if r.get("filter") == filter]
        elif len(filters) > 1:
            numbered = [(ln, r) for ln, r in numbered if r.get("filter") in (None, filters[0])]
            notes.append(choice(f"answer filter {filters[0]!r} (also present: "
                                f"{', '.join(map(str, filters[1:]))}; choose with --filter)"))
        for ln, rec in numbered:
            i = ln - 1  # messages below say "line {i + 1}": the file's own line number
            if "doc_id" not in rec:
                raise InputError("has no 'doc_id'", source=file, where=f"line {i + 1}",
                                 hint="is this an lm-evaluation-harness samples file?")
            key = metric or next((k for k in LMEVAL_METRICS if k in rec), None)
            if key is None or key not in rec:
                raise InputError(f"has no metric {metric or ' / '.join(LMEVAL_METRICS)!r}",
                                 source=file, where=f"line {i + 1}", hint="choose one with --metric")
            if metric is None and key not in used_metrics:
                used_metrics[key] = None
                other_metrics.update((k, None) for k in LMEVAL_METRICS if k in rec and k != key)
            val = rec[key]
            if isinstance(val, (int, float)) and val not in (0, 1):
                raise InputError(f"metric {key!r} is {val!r}, not 0/1", source=file,
                                 where=f"line {i + 1}", hint="choose a 0/1 metric with --metric")
            out = {"query_id": str(rec["doc_id"]), "model": model, "correct": val}
            fr = rec.get("filtered_resps")
            if isinstance(fr, list) and fr:
                first = fr[0]
                out["answer"] = json.dumps(first) if isinstance(first, (list, dict)) else str(first)
            if "target" in rec:
                out["reference"] = str(rec["target"])
            prompt = _lmeval_prompt(rec.get("arguments"))
            if prompt:
                out["prompt"] = prompt
            resps = rec.get("resps")
            if isinstance(resps, list) and resps:
                first = resps[0][0] if isinstance(resps[0], list) and resps[0] else resps[0]
                out["raw_answer"] = json.dumps(first) if isinstance(first, (list, dict)) else str(first)
            records.append(out)
    if used_metrics and (other_metrics or len(used_metrics) > 1):
        notes.append(choice(f"metric {', '.join(map(repr, used_metrics))}"
                            + (f" (also present: {', '.join(other_metrics)})" if other_metrics
                               else "") + "; choose with --metric"))
    m = matrix_from_records(records, source=path, missing=missing, where_prefix="sample")
    return m.with_notes(*dict.fromkeys(notes))


def _load_lmeval_typed(task_files: list[str], task: str, path: str, *, missing: str,
                       metric: str | None, filter: str | None,
                       notes: list[str]) -> OutcomeMatrix:
    """:func:`load_lmeval`'s reading of ``task_files`` through msgspec (only the fields
    read) with the columns built in bulk: the same matrix, metadata and notes. Files
    whose samples are not all alike (metrics differing between lines, a missing
    ``doc_id`` or metric, a value that is not a cell) and every problem raise one of
    ``fast_errors()``; the caller then reads record by record, whose message names it.

    Long: per-file checks and bulk columns together, to match the record read.
    """
    from msgspec import UNSET

    metrics = (metric,) if metric is not None else LMEVAL_METRICS
    dec = lmeval_decoder(metrics)
    fields = [f"m{i}" for i in range(len(metrics))]
    seen_models: set[str] = set()
    used_metrics: dict[str, None] = {}
    other_metrics: dict[str, None] = {}
    ms: list[str] = []  # the model of each file read
    counts: list[int] = []  # and its number of samples kept
    vals: list[Any] = []
    every: list[Any] = []  # the samples kept, all files
    get_filter = attrgetter("filter")
    for file in task_files:
        model = _lmeval_model_name(file)
        if model in seen_models:
            raise Fallback("two files for one model")
        seen_models.add(model)
        recs = _decode_lines(file, dec)
        given = list(map(get_filter, recs))
        filters = ([] if all_none(given) else
                   list(dict.fromkeys(f for f in given if f is not None)))
        if filter is not None:
            if filter not in filters:
                raise Fallback("no such filter")
            recs = [r for r in recs if r.filter == filter]
        elif len(filters) > 1:
            f0 = filters[0]
            recs = [r for r in recs if r.filter in (None, f0)]
            notes.append(choice(f"answer filter {f0!r} (also present: "
                                f"{', '.join(map(str, filters[1:]))}; choose with --filter)"))
        if not recs:
            continue
        # the metric of every line is the first of ``metrics`` the line has: here the
        # first line's, and no line may have an earlier one
        first = recs[0]
        i0 = next((i for i, f in enumerate(fields) if getattr(first, f) is not UNSET), None)
        if i0 is None:
            raise Fallback("no metric")
        for f in fields[:i0]:
            if list(map(attrgetter(f), recs)).count(UNSET) != len(recs):
                raise Fallback("metrics differ between lines")
        v = list(map(attrgetter(fields[i0]), recs))
        if not set(map(type, v)) <= {float, int, bool} and (UNSET in v or None in v):
            raise Fallback("a line without its metric")
        key = metrics[i0]
        if metric is None and key not in used_metrics:
            used_metrics[key] = None
            other_metrics.update((metrics[i], None) for i, f in enumerate(fields)
                                 if i != i0 and getattr(first, f) is not UNSET)
        vals += v
        name = model.strip()
        if not name:
            raise Fallback("an empty model name")
        ms.append(name)
        counts.append(len(recs))
        every += recs
    qs = _lmeval_query_ids(list(map(attrgetter("doc_id"), every)))
    refs = list(map(attrgetter("target"), every))
    args = list(map(attrgetter("arguments"), every))
    resps = list(map(attrgetter("resps"), every))
    cols: dict[str, list[Any]] = {
        "answer": _first_texts(list(map(attrgetter("filtered_resps"), every))),
        "reference": refs if set(map(type, refs)) == {str} else [
            None if t is UNSET else t if type(t) is str else str(t) for t in refs],
        "prompt": [None if a is None else _lmeval_prompt(a) or None for a in args]
        if not all_none(args) else args,
        "raw_answer": [None if x is None else _first_text(
            x[0] if type(x) is list and x and type(x[0]) is list and x[0] else x)
            for x in resps] if not all_none(resps) else resps,
    }
    if used_metrics and (other_metrics or len(used_metrics) > 1):
        notes.append(choice(f"metric {', '.join(map(repr, used_metrics))}"
                            + (f" (also present: {', '.join(other_metrics)})" if other_metrics
                               else "") + "; choose with --metric"))
    arr = np.asarray(vals) if vals else np.zeros(0)
    codes = encode_cells(arr if arr.dtype.kind in "biuf" else vals)
    if (codes == BAD_CELL).any():
        raise Fallback("a value that is not a cell")
    # metadata columns in the order a record-by-record build meets them
    order = []
    for pos, (col, values) in enumerate(cols.items()):
        if not all_none(values):
            order.append((next(i for i, x in enumerate(values) if x is not None), pos, col))
    cell: dict[str, list[Any]] = {}
    query: dict[str, list[Any]] = {}
    for _, _, col in sorted(order):
        (query if col in ("reference", "prompt") else cell)[col] = cols[col]
    m = matrix_from_columns(qs, _repeat(ms, counts), codes, source=path, missing=missing,
                            cell=cell, query=query, where_prefix="sample")
    return m.with_notes(*dict.fromkeys(notes))


def _repeat(names: list[str], counts: list[int]) -> Any:
    """``names[i]`` repeated ``counts[i]`` times, as a pyarrow dictionary array when
    pyarrow is there and the names are distinct (no per-record strings to factorize)."""
    if len(set(names)) == len(names):
        try:
            import pyarrow as pa

            idx = np.repeat(np.arange(len(names), dtype=np.int32), counts)
            return pa.DictionaryArray.from_arrays(pa.array(idx), pa.array(names, pa.string()))
        except ImportError:
            pass
    return [n for n, c in zip(names, counts) for _ in range(c)]


def _lmeval_query_ids(doc: list[Any]) -> Any:
    """Query ids from ``doc_id`` values as a record-by-record read makes them (``str``,
    stripped): integer ids as a pyarrow dictionary array when pyarrow is there (each
    distinct id made text once). An absent or empty id raises Fallback."""
    from msgspec import UNSET

    if set(map(type, doc)) == {int}:
        try:  # each distinct id turned into text once: a dictionary array
            import pyarrow as pa
            import pyarrow.compute as pc

            enc = pc.dictionary_encode(pa.array(np.fromiter(doc, np.int64, count=len(doc))))
            return pa.DictionaryArray.from_arrays(enc.indices, enc.dictionary.cast(pa.string()))
        except (ImportError, ValueError, TypeError, ArithmeticError):
            return list(map(str, doc))
    if UNSET in doc:
        raise Fallback("a sample without doc_id")
    q = [str(d).strip() for d in doc]
    if "" in q:
        raise Fallback("an empty doc_id")
    return q


def _first_texts(column: list[Any]) -> list[str | None]:
    """:func:`_first_text` of each entry; in bulk when every entry is a list whose
    first item is a string (the usual ``filtered_resps``)."""
    if set(map(type, column)) == {list}:
        try:
            firsts = [f[0] for f in column]
        except IndexError:
            pass
        else:
            if set(map(type, firsts)) == {str}:
                return firsts
    return [f[0] if type(f) is list and f and type(f[0]) is str else _first_text(f)
            for f in column]


def _first_text(values: Any) -> str | None:
    """The first of a list of responses as text (lists and objects as JSON); None for
    anything but a non-empty list."""
    if type(values) is not list or not values:
        return None
    first = values[0]
    if type(first) is str:
        return first
    return json.dumps(first) if isinstance(first, (list, dict)) else str(first)




def _newest_per_model(files: list[str]) -> tuple[list[str], list[str]]:
    """(the newest file per model folder, the older ones), newest by the timestamp in
    ``samples_<task>_<timestamp>.jsonl``, then by modification time."""
    def stamp(f):
        mt = _SAMPLES_RE.search(os.path.basename(f))
        return (mt.group("stamp") if mt else "", os.path.getmtime(f))

    best: dict[str, str] = {}
    for f in files:
        model = _lmeval_model_name(f)
        if model not in best or stamp(f) > stamp(best[model]):
            best[model] = f
    keep = set(best.values())
    return [f for f in files if f in keep], [f for f in files if f not in keep]


def _lmeval_prompt(arguments) -> str | None:
    """The context string the harness sent: ``arguments`` is a list of
    ``[context, continuation]`` (older versions) or ``{"gen_args_0": {"arg_0": context}}``."""
    first = None
    if isinstance(arguments, dict) and arguments:
        first = next(iter(arguments.values()))
        if isinstance(first, dict):
            first = first.get("arg_0")
    elif isinstance(arguments, list) and arguments:
        first = arguments[0]
        if isinstance(first, list) and first:
            first = first[0]
    return first if isinstance(first, str) else None
