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
import math
import os
import re
from typing import Any

from ...errors import InputError
from ...matrix import OutcomeMatrix
from ..tables import CELL_COLUMNS, QUERY_COLUMNS, matrix_from_records
from ..options import choice
from ._common import as_text, dedupe_notes, files_with_suffix, reject_options

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
    records: list[dict] = []
    notes: list[str] = []
    for file in files:
        try:
            cols = list(pq.read_schema(file).names)
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
            table = pq.read_table(file, columns=wanted)
        except Exception as e:  # noqa: BLE001
            raise InputError(
                f"is not a readable Parquet file ({type(e).__name__}: {e})",
                source=file,
                hint="the file may be truncated; download it again",
            ) from None
        table = _select_filter(table, filter, file, notes)
        data = table.to_pydict()
        for r in range(table.num_rows):
            val = data[cc][r]
            if nested:
                val = val.get("is_correct") if isinstance(val, dict) else None
            if isinstance(val, float) and val not in (0.0, 1.0) and not math.isnan(val):
                raise InputError(
                    f"{cc} value {val!r} is not 0/1",
                    source=file,
                    where=f"row {r + 1}",
                    hint="choose a 0/1 column with --metric (or metric= in load_matrix)",
                )
            rec: dict[str, Any] = {
                "query_id": data[idc][r],
                "model": data[mc][r] if mc else fixed_model,
                "correct": "" if val is None else val,
            }
            for c in keep:
                v = data[c][r]
                if v is not None:
                    rec[c] = v if not isinstance(v, (list, dict)) else as_text(v)
            if "answer" not in rec and "filtered_resps" in data:
                fr = data["filtered_resps"][r]
                if isinstance(fr, list) and fr:
                    first = fr[0]
                    rec["answer"] = (
                        json.dumps(first) if isinstance(first, (list, dict)) else str(first)
                    )
            if "reference" not in rec and "target" in data and data["target"][r] is not None:
                rec["reference"] = as_text(data["target"][r])
            for key in ("query_id", "model"):
                if rec[key] is None:
                    raise InputError(
                        f"has an empty {key}",
                        source=file,
                        where=f"row {r + 1}",
                        hint=f"every row needs a {key}",
                    )
            records.append(rec)
    if filter is not None and not any("filter" in pq.read_schema(f).names for f in files):
        raise InputError(f"has no 'filter' column, so no filter {filter!r}", source=path,
                         where="--filter", hint="drop --filter")
    m = matrix_from_records(records, source=path, missing=missing, where_prefix="row")
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
