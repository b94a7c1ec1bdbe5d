"""OpenAI evals record logs (JSONL, one file per model run).

``oaieval <completion_fn> <eval>`` writes a record file (``--record_path``, by default
``/tmp/evallogs/<run_id>_<model>_<eval>.jsonl``): a ``spec`` line (``completion_fns``,
``eval_name``, ``run_id``, ...), a ``final_report`` line, and one event per line with
``run_id``, ``event_id``, ``sample_id``, ``type`` and ``data``. ``sampling`` events hold
the ``prompt`` and ``sampled`` completion; ``match`` events hold ``correct``,
``expected``, ``picked``, ``sampled`` and ``options``.

Rules: the model is the first of ``spec.completion_fns`` (``model=`` overrides for a
single file); the query id is ``sample_id``; each ``match`` event decides its cell, a
sample with several ``match`` events gives repeated samples in ``event_id`` order;
``picked`` is the answer, ``expected`` the reference and the ``sampling`` event's
prompt the prompt. Other event types (``metrics``, ``info``, ...) are counted in the
notes and not imported.

References:
  OpenAI, openai/evals repository, docs "run-evals.md" and ``evals/record.py``
  (RecordEvent, record_match, record_sampling), 2023-2024.
"""

from __future__ import annotations

import functools
import json
import os
from collections import Counter
from typing import Any

from ...errors import InputError
from ...matrix import OutcomeMatrix
from ..formats import JSONL_HINT
from ._common import (
    as_text,
    build_matrix,
    choose_task,
    content_text,
    dedupe_notes,
    factorize_repeated,
    files_with_suffix,
    fast_errors,
    gather_columns,
    gc_paused_loader,
    loads,
    msgspec_ok,
    read_jsonl,
    reject_options,
)
from ..typed import FileSnapshot, plain_lines
from .openai_typed import match_meta, read_events_typed, read_log_typed


def _first_record(path: str) -> dict | None:
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.strip():
                rec = json.loads(line)
                return rec if isinstance(rec, dict) else None
    return None


def _is_record_log(path: str) -> bool:
    if not path.lower().endswith((".jsonl", ".log")) or not os.path.isfile(path):
        return False
    rec = _first_record(path)
    return rec is not None and ("spec" in rec or ({"run_id", "type", "data"} <= set(rec)))


def detect(path: str) -> bool:
    if os.path.isfile(path):
        return _is_record_log(path)
    return os.path.isdir(path) and any(
        _is_record_log(f) for f in files_with_suffix(path, (".jsonl", ".log"))[:20]
    )


def _prompt_text(prompt: Any) -> str:
    if isinstance(prompt, list):
        return "\n".join(
            content_text(m.get("content"))
            for m in prompt
            if isinstance(m, dict) and m.get("role") in ("system", "user")
        )
    return "" if prompt is None else str(prompt)


@gc_paused_loader
def load_openai_evals(
    path: str,
    *,
    missing: str = "error",
    task: str | None = None,
    model: str | None = None,
    **unknown,
) -> OutcomeMatrix:
    """Load OpenAI evals record logs: one JSONL file per model, or a folder of them.

    The metadata (answers, completions, references, choices, prompts) is decoded when
    first read, the logs read again then (an error if one has changed since; see
    :mod:`cofail_jax._src.io.tables.lazy`); at load when a sample has several matches.

    Args:
      path: a record file or a folder of them.
      missing: the missing-cell policy.
      task: the ``eval_name`` to keep when the folder holds several evals.
      model: the model name for a single file (default: ``spec.completion_fns[0]``).
    """
    reject_options("load_openai_evals", unknown)
    files = [f for f in files_with_suffix(path, (".jsonl", ".log")) if _is_record_log(f)]
    if not files:
        raise InputError(
            "has no OpenAI evals record logs",
            source=path,
            hint="point at the --record_path file or its folder",
        )
    if msgspec_ok():
        try:
            return _load_runs(path, files, task, model, missing, typed=True)
        except fast_errors():
            pass  # anything irregular: the record-by-record read below names it
    return _load_runs(path, files, task, model, missing, typed=False)


def _read_log(file: str) -> tuple[Any, list]:
    """(the ``spec``, the events with their line numbers) of one record log."""
    spec, events = None, []
    for ln, rec in read_jsonl(
        file, hint=JSONL_HINT,
        json_hint="each line must be one JSON object; the log may be truncated",
    ):
        if "spec" in rec:
            spec = rec["spec"]
        elif "final_report" in rec:
            continue
        else:
            events.append((ln, rec))
    return spec, events


def _load_runs(path: str, files: list[str], task: str | None, model: str | None,
               missing: str, *, typed: bool) -> OutcomeMatrix:
    """The matrix of the record logs ``files``, read through msgspec (``typed``) or
    record by record.

    Long: both paths share the per-run checks and notes, in the order of the messages.
    """
    runs = []
    for file in files:
        if typed:  # the run's matrix columns now, its decoded lines dropped
            snap = FileSnapshot.of(file)
            spec, lines, _ = read_log_typed(file)
            run_cols: dict[str, list] = {"query_id": [], "correct": [], "sample": []}
            events: Any = (read_events_typed(lines, file, run_cols, None), run_cols, snap)
            del lines
        else:
            spec, events = _read_log(file)
        if not isinstance(spec, dict):
            raise InputError(
                "has no 'spec' line",
                source=file,
                where="line 1",
                hint="is this an OpenAI evals record log?",
            )
        fns = spec.get("completion_fns") or []
        name = model if (model and len(files) == 1) else (fns[0] if fns else None)
        if not name:
            raise InputError(
                "spec has no completion_fns",
                source=file,
                where="spec",
                hint="pass `cofail convert --model` (or model= in load_matrix) to name the model",
            )
        runs.append((file, str(spec.get("eval_name", "")), str(name), events))
    task = choose_task(
        {r[1] for r in runs},
        task,
        source=path,
        several="holds several evals",
        absent="has no records of eval",
    )
    cols: dict[str, list] = {c: [] for c in ("query_id", "correct", "sample", *_META)}
    models: list[str] = []
    notes: list[str] = []
    seen: dict[str, str] = {}
    segments: list[tuple[int, Any]] = []  # per run: (its matches, its metadata later)
    id_parts: list[list] = []  # per run read typed: its match events' sample ids
    for file, ev, name, events in runs:
        if ev != task:
            continue
        if name in seen:
            raise InputError(
                f"model {name!r} has two record logs of {task!r}",
                source=file,
                hint=f"keep one (the other is {seen[name]})",
            )
        seen[name] = file
        before = len(cols["query_id"])
        if typed:
            (counts, n_match), run_cols, snap = events
            for c, values in run_cols.items():
                cols[c] += values
            id_parts.append(run_cols["query_id"])
        else:
            counts, n_match = _read_events(events, file, cols)
        models.extend([name] * (len(cols["query_id"]) - before))
        segments.append((len(cols["query_id"]) - before,
                         functools.partial(_meta_later, snap) if typed else None))
        if counts:
            notes.append(
                f"{name}: not imported: "
                + ", ".join(f"{c} {t} events" for t, c in sorted(counts.items()))
            )
        if not n_match:
            raise InputError(
                "has no match events",
                source=file,
                hint="only evals that record matches (Match, Includes, FuzzyMatch, ...) "
                "give correctness",
            )
    ids = factorize_repeated(id_parts) if typed else None
    m = build_matrix(cols["query_id"] if ids is None else ids, models, cols["correct"], sample=cols["sample"],
                     meta=None if typed else {c: cols[c] for c in _META}, source=path,
                     missing=missing, where_prefix="match event", what="openai-evals",
                     deferred=functools.partial(gather_columns, segments, _META, cols)
                     if typed else None)
    return m.with_notes(*dedupe_notes(notes))


def _meta_later(snap: FileSnapshot) -> dict[str, list]:
    """A run's match metadata columns, its file read again (unchanged since, else
    InputError): decoded with every field the loader reads, else record by record (as
    the loader's dict path reads them)."""
    file = snap.path
    body = plain_lines(file, snap.read())
    try:
        return match_meta(read_log_typed(file, body, full=True)[1], _prompt_text)
    except fast_errors():
        pass
    recs = ((ln, loads(line)) for ln, line in enumerate(body.split(b"\n"), start=1)
            if line.strip())
    events = [(ln, rec) for ln, rec in recs
              if type(rec) is dict and "spec" not in rec and "final_report" not in rec]
    cols: dict[str, list] = {c: [] for c in ("query_id", "correct", "sample", *_META)}
    _read_events(events, file, cols)
    return {c: cols[c] for c in _META}


_META = ("answer", "raw_answer", "reference", "choices", "prompt")


def _event_order(events: list) -> list:
    """Events in ``event_id`` order (file order among equal ids), as the records were."""
    ids = [e.get("event_id", 0) or 0 for _, e in events]
    if all(type(i) is int for i in ids) and all(a <= b for a, b in zip(ids, ids[1:])):
        return events  # already in order (oaieval writes them so)
    return [t for _, t in sorted(zip(ids, events), key=lambda p: (p[0], p[1][0]))]


def _read_events(events: list, file: str, cols: dict[str, list]) -> tuple[Counter, Counter]:
    """Append one run's match events to ``cols``; (other event types, matches per sample)."""
    qs, cs, ss = cols["query_id"], cols["correct"], cols["sample"]
    ans_l, raw_l, ref_l, ch_l, prompt_l = (cols[c] for c in _META)
    first = len(qs)
    prompts: dict[str, str] = {}
    counts: Counter = Counter()
    n_match: Counter = Counter()
    for ln, e in _event_order(events):
        typ = e.get("type")
        if "sample_id" not in e or typ is None:
            raise InputError(
                "event has no sample_id or type",
                source=file,
                where=f"line {ln}",
                hint="is this an OpenAI evals record log?",
            )
        sid = str(e["sample_id"])
        data = e.get("data") or {}
        if typ == "sampling":
            prompts.setdefault(sid, _prompt_text(data.get("prompt")))
            continue
        if typ != "match":
            counts[typ] += 1
            continue
        if "correct" not in data:
            raise InputError(
                "match event has no data.correct",
                source=file,
                where=f"line {ln}",
                hint="is this an OpenAI evals record log?",
            )
        ok = data["correct"]
        if not isinstance(ok, bool) and ok not in (0, 1):
            raise InputError(
                f"data.correct is {ok!r}, not true/false",
                source=file,
                where=f"line {ln}",
                hint="check the record log",
            )
        qs.append(sid)
        cs.append(int(ok))
        ss.append(n_match[sid])
        n_match[sid] += 1
        v = data.get("picked")
        ans_l.append(None if v is None else str(v))
        v = data.get("sampled")
        raw_l.append(None if v is None else as_text(v))
        v = data.get("expected")
        ref_l.append(None if v is None else v if type(v) is str else as_text(v))
        v = data.get("options")
        ch_l.append(as_text(list(v)) if v else None)
    if prompts:
        prompt_l.extend(prompts.get(q) or None for q in qs[first:])
    else:
        prompt_l.extend([None] * (len(qs) - first))
    return counts, n_match
