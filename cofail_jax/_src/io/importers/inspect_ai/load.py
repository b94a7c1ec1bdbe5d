""":func:`load_inspect`: one log per model, or a folder of them, into one matrix."""

from __future__ import annotations

import functools
import os
from typing import Any

from ....errors import InputError
from ....matrix import OutcomeMatrix
from ...options import latest_note
from .._common import (build_matrix, check_rule, choose_task, dedupe_notes, fast_errors,
                       factorize_repeated, gather_columns, gc_paused_loader,
                       reject_options)
from .logs import _log_files, _read_log, _ScoreSamples, _TypedSamples
from .records import META, _Columns, _ScoreRules, _read_samples
from .typed_samples import _read_score_samples, _read_typed_samples, _ScoreLog


@gc_paused_loader
def load_inspect(
    path: str,
    *,
    missing: str = "error",
    scorer: str | None = None,
    partial: str = "wrong",
    noanswer: str = "wrong",
    threshold: float = 1.0,
    score_key: str | None = None,
    task: str | None = None,
    latest: bool = False,
    **unknown,
) -> OutcomeMatrix:
    """Load one Inspect AI log per model (``.eval`` or ``.json``), or a folder of them.

    Args:
      path: a log file, or a folder searched recursively for ``*.eval`` / ``*.json`` logs.
      missing: the missing-cell policy (``error``, ``drop-queries``, ``drop-models``).
      scorer: which scorer's value decides correctness (needed when a log has several).
      partial: what ``P`` counts as: ``"wrong"`` (default), ``"correct"`` or ``"missing"``.
      noanswer: what ``N`` counts as (same choices; default ``"wrong"``).
      threshold: numeric scores at or above it are correct (default 1.0).
      score_key: for dict-valued scores, the key to read.
      task: which task, when the folder holds logs of several.
      latest: when a model has several logs for the task (a rerun), keep the newest
        (by ``eval.created``, then file name) instead of raising.

    Returns:
      The matrix; ``cell_meta`` holds ``answer`` (the scorer's extracted answer),
      ``raw_answer`` (the completion), ``input_tokens``, ``output_tokens``,
      ``total_tokens``, ``finish_reason`` and ``score`` (numeric scores); ``query_meta``
      holds ``prompt``, ``reference`` and ``choices``; epochs beyond the first are
      ``samples``. ``notes`` say what was dropped. Without repeated epochs the
      metadata is decoded when first read, the logs read again then (an error if one
      has changed since; see :mod:`cofail_jax._src.io.tables.lazy`).

    Long: log grouping, per-log notes and the typed/dict dispatch share the loader's state.
    """
    reject_options("load_inspect", unknown)
    check_rule("partial", partial)
    check_rule("noanswer", noanswer)
    files = _log_files(path)
    if not files:
        raise InputError(
            "has no Inspect AI logs (*.eval or *.json)",
            source=path,
            hint="point at a log file or the log folder (./logs)",
        )
    logs = []
    rules = _ScoreRules(partial, noanswer, threshold, score_key)
    for file in files:
        header, samples = _read_log(file)
        if isinstance(samples, _ScoreSamples):  # its columns now, the samples dropped
            samples = _ScoreLog(samples, file, scorer, rules)
        ev = header.get("eval")
        if not isinstance(ev, dict) or "model" not in ev:
            raise InputError(
                "has no eval.model", source=file, where="eval", hint="is this an Inspect AI log?"
            )
        logs.append((file, header, samples))
    tasks: dict[str, list] = {}
    for entry in logs:
        tasks.setdefault(str(entry[1]["eval"].get("task", "")), []).append(entry)
    task = choose_task(
        tasks,
        task,
        source=path,
        several="holds logs of several tasks",
        absent="has no logs for task",
    )
    notes: list[str] = []
    cols = _Columns()
    used_scorers: set[str] = set()
    seen_models: dict[str, str] = {}
    status_notes: list[str] = []
    task_logs = tasks[task]
    if latest:
        task_logs, older = _newest_logs(task_logs)
        if older:
            notes.append(latest_note("log", older))
    segments: list[tuple[int, Any]] = []  # per log: (its samples, its metadata later or None)
    id_parts: list[list] = []  # the query ids of each log read for the matrix only
    for file, header, samples in task_logs:
        model = str(header["eval"]["model"])
        if model in seen_models:
            raise InputError(
                f"model {model!r} has two logs for task {task!r}",
                source=file,
                hint=f"keep one (the other is {seen_models[model]}), or pass --latest "
                "to keep the newest",
            )
        seen_models[model] = file
        status = header.get("status")
        if status not in (None, "success"):
            why = _log_error(header)
            status_notes.append(
                f"{os.path.basename(file)} ({model}): log status is {status!r}"
                + (f" ({why})" if why else "")
                + "; its unscored samples are missing cells"
            )
            notes.append(status_notes[-1])
        if not samples:
            raise InputError(
                "has no samples",
                source=file,
                hint="the run was logged without samples; re-run with samples logged",
            )
        n0, res, later = len(cols.query_id), None, None
        if isinstance(samples, _ScoreLog):
            got = _read_score_samples(samples, file, model, cols, used_scorers, scorer, rules)
            if got is not None:  # the metadata is decoded when first read
                res, later = got[:2], got[2]
                id_parts.append(samples.columns[0])
            else:
                typed = _typed_or_none(samples)
                samples = samples if typed is None else typed
        if isinstance(samples, _TypedSamples):
            res = _read_typed_samples(samples, file, model, scorer, rules, cols, used_scorers)
        if res is None:  # something the typed walks do not handle: the slow path
            if isinstance(samples, (_ScoreLog, _TypedSamples)):
                samples = _read_log(file, typed=False)[1]
            res = _read_samples(samples, file, model, scorer, rules, cols, used_scorers)
        segments.append((len(cols.query_id) - n0, later))
        n_err, other_scorers = res
        if n_err:
            notes.append(
                f"{model}: {n_err} samples have no score (errored or unscored); "
                "they are missing cells"
            )
        if other_scorers:
            notes.append(f"{model}: ignored scorers {', '.join(sorted(other_scorers))}")
    lazy = any(later is not None for _, later in segments)
    ids = (factorize_repeated(id_parts) if len(id_parts) == len(segments) else None)
    try:
        m = build_matrix(cols.query_id if ids is None else ids, cols.model, cols.correct, sample=cols.sample,
                         meta=None if lazy else cols.meta, source=path, missing=missing,
                         where_prefix="sample", what="inspect",
                         deferred=functools.partial(gather_columns, segments, META, cols.meta)
                         if lazy else None)
    except InputError as e:
        if not status_notes:
            raise
        raise InputError(f"{e.message}; {'; '.join(status_notes)}", source=e.source,
                         where=e.where, hint=e.hint) from None
    used = sorted(used_scorers)
    notes.insert(
        0,
        f"task {task!r}, scorer {', '.join(used) or '(none)'}"
        + (f" key {score_key!r}" if score_key else "")
        + f": C=correct, I=wrong, P={partial}, N={noanswer}, numbers >= {threshold:g} correct",
    )
    notes.append("Inspect messages, events, store and sample metadata are not imported")
    return m.with_notes(*dedupe_notes(notes))


def _log_error(header: dict) -> str:
    """The first line of the log's ``error.message``, if any (why the run stopped)."""
    err = header.get("error")
    msg = err.get("message") if isinstance(err, dict) else err
    if not msg:
        return ""
    return " ".join(str(msg).split())[:160]


def _newest_logs(logs: list) -> tuple[list, list[str]]:
    """(the newest log per model, the files of the older ones)."""
    best: dict[str, tuple] = {}
    for entry in logs:
        file, header, _ = entry
        model = str(header["eval"]["model"])
        key = (str(header["eval"].get("created", "")), os.path.basename(file))
        if model not in best or key > best[model][0]:
            best[model] = (key, entry)
    keep = {id(e) for _, e in best.values()}
    return [e for e in logs if id(e) in keep], [e[0] for e in logs if id(e) not in keep]


def _typed_or_none(samples: _ScoreLog) -> _TypedSamples | None:
    """The samples decoded with every field the loader reads, None if they cannot be."""
    try:
        return samples.typed()
    except fast_errors():
        return None

