"""Built-in loaders: wide CSV, long CSV, long JSONL, cofail HDF5, solved-id folders,
lm-evaluation-harness samples. Each detects its format and builds the matrix through
:mod:`.tables`, so validation is identical for all of them."""

from __future__ import annotations

import csv
import fnmatch
import json
import os
import re
from collections.abc import Iterable, Iterator
from operator import attrgetter
from typing import Any

import numpy as np

from ..errors import InputError
from ..matrix import OutcomeMatrix, check_unique
from . import register_format
from .options import DEFAULT_METRICS, choice
from .typed import Fallback, fast_errors, gc_paused, lmeval_decoder, msgspec_ok
from .tables import (
    BAD_CELL,
    check_sizes,
    encode_cells,
    matrix_from_columns,
    matrix_from_records,
    matrix_from_wide_table,
    read_long_csv,
    read_wide_csv,
)

LONG_KEYS = {"query_id", "model", "correct"}


def _read_header(path: str) -> list[str]:
    # utf-8-sig: a byte-order mark (as Excel writes) is not part of the first column name
    delim = "\t" if path.lower().endswith(".tsv") else ","
    with open(path, newline="", encoding="utf-8-sig") as f:
        return next(csv.reader(f, delimiter=delim), [])


_MAGIC = ((b"\x89HDF\r\n\x1a\n", "an HDF5 file"), (b"\x1f\x8b", "gzip-compressed"),
          (b"PK\x03\x04", "a zip archive"), (b"PAR1", "a Parquet file"),
          (b"\x28\xb5\x2f\xfd", "zstd-compressed"), (b"BZh", "bzip2-compressed"),
          (b"\xfd7zXZ\x00", "xz-compressed"))


def check_text_file(path: str, what: str = "a UTF-8 text file") -> None:
    """Raise :class:`InputError` unless ``path`` looks like UTF-8 text: it names a
    directory, a binary file (HDF5, gzip, zip, Parquet, NUL bytes) or UTF-16 text
    plainly instead of letting a decoder fail later."""
    if os.path.isdir(path):
        raise InputError(f"is a directory, not {what}", source=path, hint="name the file itself")
    try:
        with open(path, "rb") as f:
            head = f.read(4096)
    except OSError as e:
        raise InputError(f"cannot be read ({e.strerror})", source=path,
                         hint="check the path and permissions") from None
    for magic, kind in _MAGIC:
        if head.startswith(magic):
            raise InputError(f"is {kind}, not {what}", source=path,
                             hint="check the file name, or convert it with 'cofail convert'")
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise InputError(f"is UTF-16 text, not {what}", source=path,
                         hint="save it as UTF-8 (in Excel: 'CSV UTF-8')")
    if b"\x00" in head:
        raise InputError(f"is a binary file (it holds NUL bytes), not {what}", source=path,
                         hint="check the file name and --format")
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as e:
        if e.start < len(head) - 4:  # not just a character cut at the 4096-byte boundary
            raise InputError(f"is not UTF-8 text (byte {e.start + 1}), not {what}", source=path,
                             hint="save it as UTF-8") from None


def _open_text(path: str):
    check_text_file(path)
    try:
        return open(path, newline="", encoding="utf-8-sig")
    except OSError as e:
        raise InputError(f"cannot be read ({e.strerror})", source=path,
                         hint="check the path and permissions") from None


# ---- wide CSV -------------------------------------------------------------------------
def _detect_wide(path: str) -> bool:
    if not os.path.isfile(path) or not path.lower().endswith((".csv", ".tsv", ".txt")):
        return False
    header = [h.strip() for h in _read_header(path)]
    return bool(header) and header[0] == "query_id" and not (LONG_KEYS <= set(header))


def load_wide_csv(path: str, *, missing: str = "error", **_) -> OutcomeMatrix:
    """Wide CSV: ``query_id`` then one 0/1 column per model (true/false also accepted)."""
    delim = "\t" if path.lower().endswith(".tsv") else ","
    with _open_text(path) as f:
        reader = csv.reader(f, delimiter=delim)
        try:
            header = next(reader)
        except UnicodeDecodeError:
            raise InputError("is not UTF-8 text", source=path, where="row 1",
                             hint="save it as UTF-8") from None
        except StopIteration:
            raise InputError("is empty", source=path,
                             hint="write a header line: query_id,<model1>,<model2>,...") from None
        except csv.Error as e:
            raise InputError(f"is not valid CSV ({e})", source=path, where="row 1") from None
        header = [h.strip() for h in header]
        if not header or header[0] != "query_id":
            raise InputError(f"first column is {header[0] if header else ''!r}, not 'query_id'",
                             source=path, where="row 1",
                             hint="the wide format is query_id,<model1>,<model2>,...")
        models = header[1:]
        if len(models) < 2:
            raise InputError(f"needs at least 2 models, found {len(models)}", source=path,
                             where="row 1", hint="add a 0/1 column per model")
        for j, m in enumerate(models):
            if not m:
                raise InputError(f"column {j + 2} has no model name", source=path, where="row 1",
                                 hint="name every column")
        fast = read_wide_csv(path, header, missing=missing, delimiter=delim)  # pyarrow, issue 17
        if fast is not None:
            return fast
        qids, rows = [], []
        try:
            for r, row in enumerate(reader):
                if not row or all(not c.strip() for c in row):
                    continue
                qids.append(row[0].strip())
                rows.append(row[1:])
                if len(row) != len(header):
                    raise InputError(f"has {len(row)} fields, the header has {len(header)}",
                                     source=path, where=f"row {r + 2}",
                                     hint="every row needs a query id and one cell per model")
        except csv.Error as e:
            raise InputError(f"is not valid CSV ({e})", source=path,
                             where=f"row {reader.line_num}") from None
        except UnicodeDecodeError:
            raise InputError("is not UTF-8 text", source=path, where=f"after row {reader.line_num}",
                             hint="save it as UTF-8") from None
    m = matrix_from_wide_table(qids, models, rows, source=path, missing=missing)
    return m


# ---- long CSV / JSONL -------------------------------------------------------------------
def _detect_long_csv(path: str) -> bool:
    if not os.path.isfile(path) or not path.lower().endswith((".csv", ".tsv")):
        return False
    return LONG_KEYS <= {h.strip() for h in _read_header(path)}


def load_long_csv(path: str, *, missing: str = "error", **_) -> OutcomeMatrix:
    """Long CSV: one row per (query, model): ``query_id, model, correct`` plus optional
    ``answer, reference, domain, prompt, cost, confidence, sample, output_tokens,
    token_budget, finish_reason, answer_extracted``."""
    delim = "\t" if path.lower().endswith(".tsv") else ","
    with _open_text(path) as f:
        fast = read_long_csv(path, missing=missing, delimiter=delim)  # pyarrow, issue 17
        if fast is not None:
            return fast
        try:
            reader = csv.DictReader(f, delimiter=delim)
            records = [{(k or "").strip(): v for k, v in row.items()} for row in reader]
        except csv.Error as e:
            raise InputError(f"is not valid CSV ({e})", source=path,
                             where=f"row {reader.line_num}") from None
        except UnicodeDecodeError:
            raise InputError("is not UTF-8 text", source=path, where=f"after row {reader.line_num}",
                             hint="save it as UTF-8") from None
    return matrix_from_records(records, source=path, missing=missing, where_prefix="data row")


def _detect_jsonl(path: str) -> bool:
    if not os.path.isfile(path) or not path.lower().endswith((".jsonl", ".ndjson")):
        return False
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.strip():
                rec = json.loads(line)
                return isinstance(rec, dict) and LONG_KEYS <= set(rec)
    return False


JSONL_HINT = "each line must be one JSON object"


def iter_jsonl(lines: Iterable[str], source: str, *, hint: str = JSONL_HINT,
               json_hint: str | None = None, invalid: str = "is not valid JSON",
               objects_only: bool = True) -> Iterator[tuple[int, Any]]:
    """(line number, value) for each non-blank line of an open JSONL file (or any
    iterable of lines), lazily, so callers may check each record as it comes.

    A line that is not JSON raises :class:`InputError` ``"{invalid} ({reason})"`` naming
    ``source`` and the line, with ``json_hint`` (default ``hint``) as the remedy; with
    ``objects_only``, a value that is not a JSON object raises ``"is not a JSON object"``
    with ``hint``.
    """
    for ln, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            rec = json.loads(line)
        except json.JSONDecodeError as e:
            raise InputError(f"{invalid} ({e.msg})", source=source, where=f"line {ln}",
                             hint=hint if json_hint is None else json_hint) from None
        if objects_only and not isinstance(rec, dict):
            raise InputError("is not a JSON object", source=source, where=f"line {ln}", hint=hint)
        yield ln, rec


def read_jsonl(path: str) -> list[dict]:
    """Records of a JSONL file; a bad line raises InputError naming the line."""
    return [rec for _, rec in _jsonl_numbered(path)]


def load_long_jsonl(path: str, *, missing: str = "error", **_) -> OutcomeMatrix:
    """Long JSONL: one object per line with the long-CSV keys."""
    return matrix_from_records(read_jsonl(path), source=path, missing=missing, where_prefix="line")


# ---- cofail HDF5 --------------------------------------------------------------------------
def _detect_h5(path: str) -> bool:
    if not os.path.isfile(path):
        return False
    with open(path, "rb") as f:
        if f.read(8) != b"\x89HDF\r\n\x1a\n":
            return False
    import h5py

    with h5py.File(path, "r") as f:
        return "matrix" in f and "correct" in f["matrix"]


def save_matrix_h5(m: OutcomeMatrix, path: str, attrs: dict | None = None) -> str:
    """Write a matrix as cofail HDF5 (group ``matrix``), atomically."""
    from ..h5 import write_results

    return write_results(path, {"matrix": matrix_tree(m)}, attrs=attrs or {},
                         dims=matrix_dims(m), coords=matrix_coords(m))


def matrix_coords(m: OutcomeMatrix) -> dict:
    return {"query": np.asarray(m.query_ids, dtype=object), "model": np.asarray(m.models, dtype=object)}


def matrix_dims(m: OutcomeMatrix, prefix: str = "matrix/") -> dict:
    dims = {f"{prefix}correct": ("query", "model")}
    if m.samples is not None:
        dims[f"{prefix}samples"] = ("sample", "query", "model")
    for name in m.cell_meta:
        dims[f"{prefix}cell/{name}"] = ("query", "model")
    for name in m.query_meta:
        dims[f"{prefix}query_meta/{name}"] = ("query",)
    for name in m.model_meta:
        dims[f"{prefix}model_meta/{name}"] = ("model",)
    return dims


def matrix_tree(m: OutcomeMatrix) -> dict:
    tree: dict = {"correct": m.correct.astype(np.int8), "source": m.source}
    if m.notes:
        tree["notes"] = "\n".join(m.notes)
    if m.samples is not None:
        tree["samples"] = m.samples
    if m.cell_meta:
        tree["cell"] = {k: v for k, v in m.cell_meta.items()}
    if m.query_meta:
        tree["query_meta"] = {k: v for k, v in m.query_meta.items()}
    if m.model_meta:
        tree["model_meta"] = {k: v for k, v in m.model_meta.items()}
    return tree


def _sub_arrays(group) -> dict:
    out = {}
    for key, ds in group.items():
        if key in ("query", "model", "sample"):
            continue
        data = ds[()]
        if ds.dtype.kind == "O":
            data = np.asarray([v.decode() if isinstance(v, bytes) else v for v in data.reshape(-1)],
                              dtype=object).reshape(ds.shape)
        out[key] = data
    return out


def load_h5(path: str, *, missing: str = "error", **_) -> OutcomeMatrix:
    """The matrix stored by :func:`save_matrix_h5` (or by any results file with a
    ``matrix`` group)."""
    import h5py

    try:
        with h5py.File(path, "r") as f:
            g = f["matrix"]
            correct = g["correct"][()].astype(bool)
            dec = lambda a: [v.decode() if isinstance(v, bytes) else str(v) for v in a]  # noqa: E731
            qids = dec(g["query"][()])
            models = dec(g["model"][()])
            samples = g["samples"][()] if "samples" in g else None
            cell = _sub_arrays(g["cell"]) if "cell" in g else {}
            qmeta = _sub_arrays(g["query_meta"]) if "query_meta" in g else {}
            mmeta = _sub_arrays(g["model_meta"]) if "model_meta" in g else {}
            notes = tuple(str(g.attrs["notes"]).split("\n")) if "notes" in g.attrs else ()
    except KeyError as e:
        raise InputError(f"is not a cofail HDF5 outcome file (missing {e})", source=path,
                         hint="write one with 'cofail convert IN --to file.h5'") from None
    except (OSError, RuntimeError, ValueError, TypeError, AttributeError, UnicodeError) as e:
        # h5py raises RuntimeError/OSError on a damaged file (bytes flipped mid-file)
        msg = " ".join(str(e).split())[:160]
        raise InputError(f"is a damaged or unreadable HDF5 file ({msg})", source=path,
                         hint="re-create it with 'cofail convert IN --to file.h5'") from None
    try:
        m = OutcomeMatrix(correct=correct, query_ids=tuple(qids), models=tuple(models),
                          query_meta=qmeta, cell_meta=cell, model_meta=mmeta, samples=samples,
                          source=path, notes=notes)
    except InputError:
        raise
    except (ValueError, TypeError, IndexError) as e:
        raise InputError(f"holds an inconsistent outcome matrix ({e})", source=path,
                         hint="re-create it with 'cofail convert IN --to file.h5'") from None
    return check_sizes(m)


# ---- folder of solved-id lists (SWE-bench style) ----------------------------------------------
UNIVERSE_NAMES = ("universe.txt", "ids.txt", "all_ids.txt", "universe.json")


def _detect_solved(path: str) -> bool:
    return os.path.isdir(path) and any(os.path.exists(os.path.join(path, u)) for u in UNIVERSE_NAMES)


def _read_id_list(path: str) -> list[str]:
    if path.lower().endswith(".json"):
        try:
            with open(path, encoding="utf-8") as f:
                data = json.load(f)
        except json.JSONDecodeError as e:
            raise InputError(f"is not valid JSON ({e.msg})", source=path, where=f"line {e.lineno}",
                             hint="write a JSON list of ids or an object with a 'resolved' list") from None
        if isinstance(data, dict):
            for key in ("resolved", "solved", "resolved_ids", "ids"):
                if key in data:
                    data = data[key]
                    break
            else:
                raise InputError("has no 'resolved' list", source=path,
                                 hint="write a JSON list of ids or an object with a 'resolved' list")
        if not isinstance(data, list):
            raise InputError("is not a list of ids", source=path,
                             hint="write a JSON list of ids or an object with a 'resolved' list")
        return [str(x).strip() for x in data]
    with open(path, encoding="utf-8") as f:
        return [line.strip() for line in f if line.strip() and not line.startswith("#")]


def load_solved_folder(path: str, *, missing: str = "error", universe: str | None = None,
                       **_) -> OutcomeMatrix:
    """A folder with the universe of query ids (``universe.txt``, one per line, or
    ``universe.json``) and one file per system listing the ids it solved: ``<system>.txt``
    (one id per line), ``<system>.json`` (a list, or an object with a ``resolved``
    list, as SWE-bench's ``results.json``), or ``<system>/results/results.json``.
    A solved id outside the universe is an error."""
    uni_path = universe
    if uni_path is None:
        for u in UNIVERSE_NAMES:
            if os.path.exists(os.path.join(path, u)):
                uni_path = os.path.join(path, u)
                break
    if uni_path is None:
        raise InputError("has no universe of query ids", source=path,
                         hint="add universe.txt with every query id, one per line")
    ids = _read_id_list(uni_path)
    check_unique(ids, "query id", uni_path)
    index = {q: i for i, q in enumerate(ids)}
    systems: list[tuple[str, str]] = []
    for entry in sorted(os.listdir(path)):
        full = os.path.join(path, entry)
        if full == uni_path or entry in UNIVERSE_NAMES or entry.startswith("."):
            continue
        if os.path.isdir(full):
            for cand in ("results/results.json", "results.json"):
                if os.path.exists(os.path.join(full, cand)):
                    systems.append((entry, os.path.join(full, cand)))
                    break
        elif entry.lower().endswith((".txt", ".json")):
            systems.append((os.path.splitext(entry)[0], full))
    cols = []
    for name, file in systems:
        col = np.zeros(len(ids), dtype=bool)
        for q in _read_id_list(file):
            if q not in index:
                raise InputError(f"lists id {q!r}, which is not in the universe", source=file,
                                 hint=f"add it to {os.path.basename(uni_path)} or remove it")
            col[index[q]] = True
        cols.append(col)
    correct = np.stack(cols, axis=1) if cols else np.zeros((len(ids), 0), dtype=bool)
    m = OutcomeMatrix(correct=correct, query_ids=tuple(ids), models=tuple(s for s, _ in systems),
                      source=path)
    return check_sizes(m)


# ---- lm-evaluation-harness samples -------------------------------------------------------
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
    newest (by the timestamp in the file name) instead of raising."""
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
            notes.append(choice(f"kept the newest sample file per model (--latest); "
                                f"ignored {len(dropped)} older: "
                                + ", ".join(os.path.basename(f) for f in dropped[:3])
                                + (" ..." if len(dropped) > 3 else "")))
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
    ``fast_errors()``; the caller then reads record by record, whose message names it."""
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
        filters = ([] if given.count(None) == len(given) else
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
        if args.count(None) < len(args) else args,
        "raw_answer": [None if x is None else _first_text(
            x[0] if type(x) is list and x and type(x[0]) is list and x[0] else x)
            for x in resps] if resps.count(None) < len(resps) else resps,
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
        if values.count(None) < len(values):
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


def _decode_lines(file: str, dec: Any) -> list[Any]:
    """The lines of a JSONL file decoded by ``dec``, when the file is plain: UTF-8
    (a BOM is skipped), one object on each line, no blank lines inside, no lone carriage
    return. Anything else raises Fallback (or msgspec's error)."""
    with open(file, "rb") as f:
        data = f.read()
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    if b"\r" in data and data.count(b"\r") != data.count(b"\r\n"):
        raise Fallback("a lone carriage return")
    body = data.strip(b" \t\r\n")  # JSON's whitespace only
    if not body:
        return []
    if _BLANK_LINE.search(body):
        raise Fallback("a blank line")
    recs = dec.decode_lines(body)
    if len(recs) != body.count(b"\n") + 1:
        raise Fallback("not one object per line")
    return recs


_BLANK_LINE = re.compile(rb"\n[ \t\r]*\n")


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


def _jsonl_numbered(path: str) -> list[tuple[int, dict]]:
    """(line number, record) for each non-blank line; errors name the line."""
    with _open_text(path) as f:
        try:
            return list(iter_jsonl(f, path))
        except UnicodeDecodeError:
            raise InputError("is not UTF-8 text", source=path, hint="save it as UTF-8") from None
        except RecursionError:
            raise InputError("nests JSON too deeply", source=path,
                             hint="each line must be one flat JSON object") from None


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


register_format("h5", _detect_h5, load_h5)
register_format("wide", _detect_wide, load_wide_csv)
register_format("long-csv", _detect_long_csv, load_long_csv)
register_format("long-jsonl", _detect_jsonl, load_long_jsonl)
register_format("solved-folder", _detect_solved, load_solved_folder)
register_format("lm-eval", _detect_lmeval, load_lmeval)
