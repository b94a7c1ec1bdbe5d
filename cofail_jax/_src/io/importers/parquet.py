"""Leaderboard detail tables in Parquet (pyarrow, an optional dependency).

Leaderboards publish per-sample details as Parquet: the Open LLM Leaderboard's
``details_<model>`` datasets hold, per task, one row per document with ``doc_id``,
``doc``, ``target``, ``arguments``, ``resps``, ``filtered_resps`` and 0/1 metric columns
(``acc``, ``acc_norm``, ``exact_match``, ...), the lm-evaluation-harness sample layout;
other tables carry a ``model`` column with one row per sample and model (Every Eval
Ever instance tables: ``model_id``, ``sample_id`` and an ``evaluation`` struct whose
``is_correct`` is the cell).

Rules: the query id is the first of ``query_id``, ``doc_id``, ``sample_id``, ``id``;
the model is the ``model`` (or ``model_name``) column, else the file's folder name
(``org__name`` read as ``org/name``, the leaderboard's convention), else the file
name; correctness is ``correct``, ``is_correct``, or the first 0/1 metric of ``acc``,
``exact_match``, ``acc_norm``, ``pass@1`` (``metric=`` overrides). The first of
``filtered_resps`` is the answer and ``target`` the reference; the columns listed in
``CELL_COLUMNS``/``QUERY_COLUMNS`` are kept.

References:
  Apache Arrow, pyarrow.parquet.read_table documentation; Hugging Face, Open LLM
  Leaderboard details datasets (open-llm-leaderboard/<model>-details), 2024;
  EleutherAI lm-evaluation-harness, ``--log_samples`` output format, 2024.
"""

from __future__ import annotations

import json
import os
import re
from typing import Any

import numpy as np

from ...errors import InputError
from ...matrix import OutcomeMatrix
from ..tables import (
    BAD_CELL,
    CELL_COLUMNS,
    CELL_HINT,
    CELL_VOCABULARY,
    QUERY_COLUMNS,
    encode_arrow,
)
from ..options import choice
from ._common import (
    as_text,
    build_matrix,
    dedupe_notes,
    files_with_suffix,
    gc_paused_loader,
    reject_options,
)

ID_COLUMNS = ("query_id", "doc_id", "sample_id", "id")
MODEL_COLUMNS = ("model", "model_name", "model_id")
CORRECT_COLUMNS = ("correct", "is_correct", "acc", "exact_match", "acc_norm", "pass@1")


def detect(path: str) -> bool:
    if os.path.isfile(path):
        return path.lower().endswith(".parquet")
    return os.path.isdir(path) and bool(files_with_suffix(path, (".parquet",)))


def require_pyarrow():
    """``pyarrow.parquet``, or an :class:`InputError` saying how to install it."""
    try:
        import pyarrow.parquet as pq
    except ImportError:
        raise InputError(
            "reading Parquet needs pyarrow, which is not installed",
            hint="pip install 'cofail_jax[io]' (or pip install pyarrow)",
        ) from None
    return pq


_TASK_RE = re.compile(r"samples_(?P<task>.+?)_(?P<stamp>\d{4}-\d{2}-\d{2}T[\d\-\.:]+)\.parquet$")


def _model_from_path(file: str, root: str) -> str:
    folder = os.path.basename(os.path.dirname(os.path.abspath(file)))
    if os.path.isdir(root) and os.path.abspath(os.path.dirname(file)) != os.path.abspath(root):
        return folder.removesuffix("-details").replace("__", "/")
    return os.path.splitext(os.path.basename(file))[0]


def _task_of(file: str) -> str:
    mt = _TASK_RE.search(os.path.basename(file))
    return mt.group("task") if mt else ""


@gc_paused_loader
def load_parquet(
    path: str,
    *,
    missing: str = "error",
    metric: str | None = None,
    model: str | None = None,
    task: str | None = None,
    filter: str | None = None,
    **unknown,
) -> OutcomeMatrix:
    """Load Parquet detail tables: one file with a ``model`` column, or one file per model.

    Args:
      path: a ``.parquet`` file, or a folder searched recursively.
      missing: the missing-cell policy.
      metric: the 0/1 column that decides correctness.
      model: the model name for a single file without a ``model`` column.
      task: the task to read when the folder holds ``samples_<task>_<time>.parquet``
        files of several tasks.
      filter: the answer filter to keep when the table has a ``filter`` column (the
        lm-evaluation-harness writes one row per document and filter); by default the
        first in the file, and the notes say so.

    Long: per-file column choice, notes and checks, in the order the messages promise.
    """
    reject_options("load_parquet", unknown)
    pq = require_pyarrow()
    files = files_with_suffix(path, (".parquet",))
    if not files:
        raise InputError(
            "has no .parquet files", source=path, hint="point at a Parquet file or folder"
        )
    tasks = sorted({_task_of(f) for f in files})
    if task is None and len(tasks) > 1:
        raise InputError(
            f"holds several tasks: {', '.join(t or '(unnamed)' for t in tasks)}",
            source=path,
            hint="choose one with --task (or task= in load_matrix)",
        )
    if task is not None:
        if task not in tasks:
            raise InputError(
                f"has no files for task {task!r}",
                source=path,
                hint=f"choose one of {', '.join(tasks)}",
            )
        files = [f for f in files if _task_of(f) == task]
    acc: dict[str, Any] = {"query_id": [], "model": [], "correct": [], "values": _Values(),
                           "R": 0}
    notes: list[str] = []
    run: list[tuple] = []  # files alike (same columns and types), read as one table
    run_key: Any = None
    for file in files:
        try:
            pfile = pq.ParquetFile(file)  # opened once: schema, then only the wanted columns
            cols = list(pfile.schema_arrow.names)
        except Exception as e:  # noqa: BLE001  (pyarrow raises several types for corrupt files)
            raise InputError(
                f"is not a readable Parquet file ({type(e).__name__}: {e})",
                source=file,
                hint="the file may be truncated; download it again",
            ) from None
        idc = next((c for c in ID_COLUMNS if c in cols), None)
        if idc is None:
            raise InputError(
                f"has no query id column ({' / '.join(ID_COLUMNS)})",
                source=file,
                where="columns",
                hint=f"columns are: {', '.join(cols[:20])}",
            )
        mc = next((c for c in MODEL_COLUMNS if c in cols), None)
        cc = metric if metric is not None else next((c for c in CORRECT_COLUMNS if c in cols), None)
        nested = cc is None and metric is None and "evaluation" in cols  # Every Eval Ever rows
        if nested:
            cc = "evaluation"
        if cc is None or cc not in cols:
            raise InputError(
                f"has no correctness column {metric or ' / '.join(CORRECT_COLUMNS)!r}",
                source=file,
                where="columns",
                hint=f"choose one with --metric (or metric= in load_matrix) from {', '.join(cols[:20])}",
            )
        fixed_model = None
        if mc is None:
            fixed_model = model if (model and len(files) == 1) else _model_from_path(file, path)
        source_col = f"{cc}.is_correct" if nested else cc
        others = [c for c in CORRECT_COLUMNS if c in cols and c != cc] if metric is None else []
        note = (f"correctness from column {source_col!r}"
                + (f" (also present: {', '.join(others)}; choose with --metric)" if others else "")
                + (f", model from column {mc!r}" if mc else ""))
        notes.append(choice(note) if others else note)
        keep = [c for c in cols if c in CELL_COLUMNS or c in QUERY_COLUMNS or c == "sample"]
        dropped = [
            c
            for c in cols
            if c not in keep and c not in (idc, mc, cc, "filtered_resps", "target", "filter")
        ]
        if dropped:
            notes.append(
                f"{os.path.basename(file)}: columns not imported: {', '.join(dropped[:12])}"
                + (" ..." if len(dropped) > 12 else "")
            )
        wanted = [
            c
            for c in dict.fromkeys([idc, mc, cc, *keep, "filtered_resps", "target", "filter"])
            if c is not None and c in cols
        ]
        try:
            table = pfile.read(columns=wanted, use_threads=False)
        except Exception as e:  # noqa: BLE001
            raise InputError(
                f"is not a readable Parquet file ({type(e).__name__}: {e})",
                source=file,
                hint="the file may be truncated; download it again",
            ) from None
        table = _select_filter(table, filter, file, notes)
        val = _check_table(table, file, idc, mc, cc, nested)
        key = (table.schema, (idc, mc, cc, nested, tuple(keep)))
        if run and (key != run_key or "sample" in keep):
            _read_run(run, run_key[1], acc)
            run = []
        run.append((table, val, fixed_model, file))
        run_key = key
    if run:
        _read_run(run, run_key[1], acc)
    if filter is not None and not any("filter" in pq.read_schema(f).names for f in files):
        raise InputError(f"has no 'filter' column, so no filter {filter!r}", source=path,
                         where="--filter", hint="drop --filter")
    codes = np.concatenate(acc["correct"]) if acc["correct"] else np.zeros(0, np.int8)
    bad = np.flatnonzero(codes == BAD_CELL)
    if bad.size:
        j = int(bad[0])
        raise InputError(f"correct value {acc['values'][j]!r} is not {CELL_VOCABULARY}",
                         source=path, where=f"row {j + 1}", hint=CELL_HINT)
    meta = {c: v for c, v in acc.items() if c in CELL_COLUMNS or c in QUERY_COLUMNS}
    R = acc["R"]
    for c, v in meta.items():  # pad the columns of files that lacked them
        v.extend([None] * (R - len(v)))
    sample = acc.get("sample")
    if sample is not None:
        sample = [0 if x is None else x for x in sample] + [0] * (R - len(sample))
    m = build_matrix(_combine(acc["query_id"]), _combine(acc["model"]), codes, sample=sample,
                     meta=meta, source=path, missing=missing, where_prefix="row")
    return m.with_notes(*dedupe_notes(notes))


def _select_filter(table, filter: str | None, file: str, notes: list[str]):
    """The rows of one answer filter when the table has a ``filter`` column."""
    if "filter" not in table.column_names:
        return table
    import pyarrow.compute as pc

    present = [f for f in dict.fromkeys(table.column("filter").to_pylist()) if f is not None]
    if filter is None:
        if len(present) <= 1:
            return table.drop_columns(["filter"])
        filter = present[0]
        notes.append(choice(f"answer filter {filter!r} (also present: "
                            f"{', '.join(map(str, present[1:]))}; choose with --filter)"))
    elif filter not in present:
        raise InputError(f"has no answer filter {filter!r}", source=file, where="--filter",
                         hint=f"choose one of {', '.join(map(str, present)) or '(none)'}")
    return table.filter(pc.equal(table.column("filter"), filter)).drop_columns(["filter"])


class _Values:
    """The raw ``correct`` values of every file read, looked up only for a message."""

    def __init__(self) -> None:
        self.cols: list[tuple[int, Any]] = []  # (first record index, arrow column)

    def add(self, start: int, col) -> None:
        self.cols.append((start, col))

    def __getitem__(self, j: int) -> Any:
        for start, col in reversed(self.cols):
            if j >= start:
                return col[j - start].as_py()
        raise IndexError(j)


def _check_table(table, file: str, idc: str, mc: str | None, cc: str, nested: bool):
    """The correctness column of one file's table, after the checks that name a row of
    the file: a float value not 0/1, then an empty query id or model (the first row)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    n = table.num_rows
    val = table.column(cc)
    if nested:
        val = pc.struct_field(val, "is_correct") if pa.types.is_struct(val.type) and \
            val.type.get_field_index("is_correct") >= 0 else pa.nulls(n)
    errs = []  # (row, message, hint)
    if pa.types.is_floating(val.type):
        f = (pc.fill_null(val, 0.0) if val.null_count else val).to_numpy(zero_copy_only=False)
        bad = np.flatnonzero((f != 0.0) & (f != 1.0) & ~np.isnan(f))
        if bad.size:
            r = int(bad[0])
            errs.append((r, 0, f"{cc} value {float(f[r])!r} is not 0/1",
                         "choose a 0/1 column with --metric (or metric= in load_matrix)"))
    ids = table.column(idc)
    for key, col in (("query_id", ids), ("model", table.column(mc) if mc else None)):
        if col is not None and col.null_count:
            r = int(np.flatnonzero(col.is_null().to_numpy(zero_copy_only=False))[0])
            errs.append((r, 1 if key == "query_id" else 2, f"has an empty {key}",
                         f"every row needs a {key}"))
    if errs:
        r, _, msg, hint = min(errs)
        raise InputError(msg, source=file, where=f"row {r + 1}", hint=hint)
    return val


def _read_run(run: list[tuple], columns: tuple, cols: dict[str, Any]) -> None:
    """Append the records of a run of alike files (``(table, checked correctness
    column, fixed model, file)`` each) to ``cols``, the run read as one table: Arrow
    arrays straight to codes and ids, Python objects only for metadata. ``columns``:
    the id, model, correctness and kept columns' names (and whether correctness is
    nested), the same for every file of the run."""
    import pyarrow as pa

    idc, mc, _, _, keep = columns

    start = cols["R"]
    if len(run) == 1:
        table, val, _, file = run[0]
    else:
        table = pa.concat_tables([t for t, *_ in run])
        val = pa.chunked_array([c for _, v, *_ in run for c in _chunks(v)], type=run[0][1].type)
        file = run[0][3]
    n = table.num_rows
    cols["R"] = start + n
    cols["correct"].append(encode_arrow(val))
    cols["values"].add(start, val)
    cols["query_id"].append(_id_text(table.column(idc)))
    if mc:
        cols["model"].append(_id_text(table.column(mc)))
    else:
        for t, _, fixed_model, _ in run:
            cols["model"].append(pa.repeat(pa.scalar(fixed_model, pa.string()), t.num_rows))
    for c in keep:
        v = table.column(c).to_pylist()
        if c == "sample":
            v = [_sample(s, start + i, file) for i, s in enumerate(v)]
        else:
            v = [as_text(x) if isinstance(x, (list, dict)) else x for x in v] \
                if _nested(table.column(c)) else v
        cols.setdefault(c, []).extend([None] * (start - len(cols.get(c, []))))
        cols[c].extend(v)
    if "filtered_resps" in table.column_names:
        first = _first_items(table.column("filtered_resps"))
        ans = cols.setdefault("answer", [])
        ans.extend([None] * (start - len(ans)))
        if "answer" in keep:
            tail = ans[start:]
            ans[start:] = [a if a is not None else b for a, b in zip(tail, first)]
        else:
            ans.extend(first)
    if "target" in table.column_names:
        t = table.column("target")
        ref = cols.setdefault("reference", [])
        ref.extend([None] * (start - len(ref)))
        targets = t.to_pylist()
        if _nested(t):
            targets = [None if x is None else as_text(x) for x in targets]
        elif not pa.types.is_string(t.type) and not pa.types.is_large_string(t.type):
            targets = [None if x is None else str(x) for x in targets]
        if "reference" in keep:
            tail = ref[start:]
            ref[start:] = [a if a is not None else b for a, b in zip(tail, targets)]
        else:
            ref.extend(targets)


def _nested(col) -> bool:
    import pyarrow as pa

    t = col.type
    return pa.types.is_list(t) or pa.types.is_large_list(t) or pa.types.is_struct(t) \
        or pa.types.is_map(t) or pa.types.is_fixed_size_list(t)


def _chunks(col) -> list:
    import pyarrow as pa

    return col.chunks if isinstance(col, pa.ChunkedArray) else [col]


def _id_text(col) -> Any:
    """An id column as text: a string column as itself, integers cast to their text (as
    Arrow arrays), anything else as Python strings."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if pa.types.is_string(col.type):
        return col
    if pa.types.is_integer(col.type) or pa.types.is_large_string(col.type):
        return pc.cast(col, pa.string())
    return [str(v) for v in col.to_pylist()]


def _combine(parts: list) -> Any:
    """Id columns of several runs as one: an Arrow ChunkedArray when every part is a
    string array, else one list of Python strings."""
    import pyarrow as pa

    if parts and all(not isinstance(p, list) and p.type == pa.string() for p in parts):
        return pa.chunked_array([c for p in parts for c in _chunks(p)], type=pa.string())
    out: list = []
    for p in parts:
        out.extend(p if isinstance(p, list) else p.to_pylist())
    return out


def _first_items(col) -> list:
    """The answer of each row: the first of its ``filtered_resps`` (JSON for a nested
    value, else its text), None for an empty or absent list."""
    import pyarrow as pa
    import pyarrow.compute as pc

    t = col.type
    if (pa.types.is_list(t) or pa.types.is_large_list(t)) and (
            pa.types.is_string(t.value_type) or pa.types.is_large_string(t.value_type)):
        lengths = pc.fill_null(pc.list_value_length(col), 0)
        if len(col) and pc.min(lengths).as_py() >= 1:
            return pc.list_element(col, 0).to_pylist()
    out = []
    for fr in col.to_pylist():
        if isinstance(fr, list) and fr:
            f = fr[0]
            out.append(json.dumps(f) if isinstance(f, (list, dict)) else str(f))
        else:
            out.append(None)
    return out


def _sample(s: Any, i: int, source: str) -> int:
    if s is None or s == "":
        return 0
    try:
        return int(s)
    except (TypeError, ValueError):
        raise InputError(f"sample {s!r} is not an integer", source=source, where=f"row {i + 1}",
                         hint="number repeated samples 0, 1, 2, ...") from None
