"""Every Eval Ever (EEE) instance-level records: import and export.

Every Eval Ever is the EvalEval Coalition's shared schema for evaluation results. Its
instance-level sidecar, ``<uuid>_samples.jsonl`` (schema
``instance_level_eval.schema.json``, ``InstanceLevelEvaluationLog``), holds one JSON
object per line and per (model, sample, evaluation): ``schema_version``,
``evaluation_id``, ``model_id``, ``evaluation_name``, ``sample_id``, optional
``sample_hash``, ``interaction_type``, ``input`` (``raw``, ``reference`` list,
``choices``), ``output`` (``raw`` list), ``answer_attribution`` (``extracted_value``,
``extraction_method``, ``is_terminal``), ``evaluation`` (``score``, ``is_correct``),
optional ``token_usage``, ``performance``, ``error`` and ``metadata`` (string values).

Import rules: ``evaluation.is_correct`` is the cell, ``model_id`` the model,
``sample_id`` the query; a file (or folder) holding several ``evaluation_name`` values
needs ``task=``; records of several aggregate results (``evaluation_result_id``, schema
0.3.0: one record per metric) or answer filters need ``metric=`` / ``filter=`` (defaults
noted, see :func:`load_eee`); ``metadata.epoch`` (1, 2, ...), when present, numbers repeated
samples. The terminal ``answer_attribution`` value is the answer, ``output.raw[0]``
the raw answer, ``evaluation.score`` the score.

Export (:func:`save_eee`) writes the same records from an outcome matrix, one line per
cell (and per repeated sample), as single-turn interactions.

References:
  EvalEval Coalition, Every Eval Ever: a shared schema and crowdsourced database of
  AI evaluation results, github.com/evaleval/every_eval_ever,
  ``instance_level_eval.schema.json`` (version 0.3.0, as shipped in the
  ``every-eval-ever`` 0.3.0 wheel), 2025.
"""

from __future__ import annotations

import hashlib
import json
import os
from typing import Any

import numpy as np

from ...errors import InputError
from ...matrix import OutcomeMatrix
from ..options import DEFAULT_METRICS, choice
from ._common import (
    as_text,
    build_matrix,
    choose_task,
    dedupe_notes,
    fast_errors,
    files_with_suffix,
    gc_paused_loader,
    msgspec_ok,
    read_jsonl,
    reject_options,
)
from .eee_typed import load_eee_typed

EEE_SCHEMA_VERSION = "0.3.0"
REQUIRED = (
    "schema_version",
    "evaluation_id",
    "model_id",
    "evaluation_name",
    "sample_id",
    "evaluation",
)


def _is_eee(path: str) -> bool:
    if not path.lower().endswith(".jsonl") or not os.path.isfile(path):
        return False
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.strip():
                rec = json.loads(line)
                return isinstance(rec, dict) and {
                    "evaluation_id",
                    "sample_id",
                    "evaluation",
                } <= set(rec)
    return False


def detect(path: str) -> bool:
    if os.path.isfile(path):
        return _is_eee(path)
    return os.path.isdir(path) and any(
        _is_eee(f) for f in files_with_suffix(path, (".jsonl",))[:20]
    )


@gc_paused_loader
def load_eee(
    path: str,
    *,
    missing: str = "error",
    task: str | None = None,
    metric: str | None = None,
    filter: str | None = None,
    **unknown,
) -> OutcomeMatrix:
    """Load Every Eval Ever instance-level JSONL (a file, or a folder of ``*_samples.jsonl``).

    Schema 0.3.0 writes one record per sample *and* aggregate result
    (``evaluation_result_id``: ``acc``, ``acc_norm``, ``exact_match:strict-match``, ...),
    so the metric is a dimension to choose: ``metric=`` keeps the records whose
    ``evaluation_result_id`` is the metric (with or without its ``:filter`` suffix);
    by default the first present of ``acc``, ``exact_match``, ``em``, ``acc_norm``,
    ``pass@1``, ``correct`` (else the first in sorted order), and the notes say so.
    ``filter=`` keeps the records of one answer filter (``metadata.filter``, or the
    suffix of ``evaluation_result_id``); by default the first in the file. Without
    repeated epochs the metadata is decoded when first read, the files read again then
    (an error if one has changed since; see :mod:`cofail_jax._src.io.tables.lazy`).

    Args:
      path: a JSONL file or a folder searched recursively.
      missing: the missing-cell policy.
      task: the ``evaluation_name`` to keep when several are present.
      metric: the aggregate result (``evaluation_result_id``) whose records are the cells.
      filter: the answer filter whose records are the cells.
    """
    reject_options("load_eee", unknown)
    files = [f for f in files_with_suffix(path, (".jsonl",)) if os.path.isfile(path) or _is_eee(f)]
    if not files:
        raise InputError(
            "has no Every Eval Ever instance files (*_samples.jsonl)",
            source=path,
            hint="point at an instance-level JSONL file or its folder",
        )
    if msgspec_ok():
        try:
            m, chosen, names, n_err, task = load_eee_typed(
                files, path, missing=missing, task=task, metric=metric, filter=filter,
                select=_select_result, read_rows=_read_rows)
        except fast_errors():
            pass  # anything irregular: the record-by-record read below names it
        else:
            return _finish(m, chosen, names, n_err, task)
    rows: list[tuple[str, int, dict]] = []
    for file in files:
        for ln, rec in read_jsonl(file, hint="each line must be one instance record", bom=True):
            if not _REQUIRED <= rec.keys():
                key = next(k for k in REQUIRED if k not in rec)
                raise InputError(
                    f"instance record has no {key!r}",
                    source=file,
                    where=f"line {ln}",
                    hint="see instance_level_eval.schema.json of Every Eval Ever",
                )
            rows.append((file, ln, rec))
    rows, chosen = _select_result(rows, metric, filter, source=path)
    names = sorted({str(r["evaluation_name"]) for _, _, r in rows})
    task = choose_task(
        names, task, source=path, several="holds several evaluations", absent="has no evaluation"
    )
    cols: dict[str, list] = {c: [] for c in ("query_id", "model", "correct", "sample", *_META)}
    n_err = _read_rows(rows, task, cols)
    m = build_matrix(cols["query_id"], cols["model"], cols["correct"], sample=cols["sample"],
                     meta={c: cols[c] for c in _META}, source=path, missing=missing,
                     where_prefix="instance record")
    return _finish(m, chosen, names, n_err, task)


def _finish(m: OutcomeMatrix, chosen: list[str], names: list[str], n_err: int,
            task: str) -> OutcomeMatrix:
    """The matrix with the loader's notes: choices, errors, evaluations left out."""
    notes = []
    if n_err:
        notes.append(f"{n_err} instance records carry an 'error' (kept as scored)")
    if len(names) > 1:
        notes.append(
            f"kept evaluation {task!r}; ignored {', '.join(n for n in names if n != task)}"
        )
    notes.append("EEE messages, sample_hash and other metadata are not imported")
    return m.with_notes(*dedupe_notes(chosen + notes))


_REQUIRED = frozenset(REQUIRED)
_META = ("score", "prompt", "reference", "choices", "raw_answer", "answer", "input_tokens",
         "output_tokens", "total_tokens", "latency_ms", "domain")
_TOKENS = ("input_tokens", "output_tokens", "total_tokens")


def _read_rows(rows: list, task: str, cols: dict[str, list]) -> int:
    """Append the records of evaluation ``task`` to ``cols``; the number carrying an
    ``error``."""
    qs, ms, cs, ss = cols["query_id"], cols["model"], cols["correct"], cols["sample"]
    (score_l, prompt_l, ref_l, ch_l, raw_l, ans_l, in_l, out_l, tot_l, lat_l,
     dom_l) = (cols[c] for c in _META)
    n_err = 0
    for file, ln, r in rows:
        if str(r["evaluation_name"]) != task:
            continue
        ev = r["evaluation"]
        if type(ev) is not dict or "is_correct" not in ev:
            raise InputError(
                "evaluation has no is_correct",
                source=file,
                where=f"line {ln}",
                hint="every instance record needs evaluation.is_correct",
            )
        ok = ev["is_correct"]
        if not isinstance(ok, bool) and ok is not None:
            raise InputError(
                f"evaluation.is_correct is {ok!r}, not true/false",
                source=file,
                where=f"line {ln}",
                hint="write a JSON boolean",
            )
        meta = r.get("metadata") or {}
        sample = 0
        if type(meta) is dict and meta.get("epoch") not in (None, ""):
            try:
                sample = int(meta["epoch"]) - 1
            except (TypeError, ValueError):
                raise InputError(
                    f"metadata.epoch {meta['epoch']!r} is not an integer",
                    source=file,
                    where=f"line {ln}",
                    hint="number epochs 1, 2, ...",
                ) from None
        qs.append(str(r["sample_id"]))
        ms.append(str(r["model_id"]))
        cs.append(-1 if ok is None else int(ok))
        ss.append(sample)
        if r.get("error"):
            n_err += 1
        v = ev.get("score")
        score_l.append(float(v) if isinstance(v, (int, float)) else None)
        inp = r.get("input") or {}
        if type(inp) is not dict:
            inp = {}
        v = inp.get("raw")
        prompt_l.append(str(v) if v else None)
        v = inp.get("reference")
        ref_l.append(as_text(v) if v else None)
        v = inp.get("choices")
        ch_l.append(as_text(list(v)) if v else None)
        out = r.get("output") or {}
        v = out.get("raw") if type(out) is dict else None
        raw_l.append(as_text(v[0] if isinstance(v, list) else v) if v else None)
        attr = r.get("answer_attribution") or []
        ans_l.append(_terminal_answer(attr))
        tok = r.get("token_usage") or {}
        for key, col in zip(_TOKENS, (in_l, out_l, tot_l)):
            v = tok.get(key) if type(tok) is dict else None
            col.append(None if v is None else float(v))
        perf = r.get("performance") or {}
        v = perf.get("latency_ms") if type(perf) is dict else None
        lat_l.append(None if v is None else float(v))
        dom = None
        if type(meta) is dict:
            for key in ("domain", "subject", "category"):
                if meta.get(key):
                    dom = str(meta[key])
                    break
        dom_l.append(dom)
    return n_err


def _terminal_answer(attr: Any) -> str | None:
    """The extracted value of the last terminal attribution (else of the last one)."""
    if type(attr) is list and len(attr) == 1:
        a = attr[0]
        v = a.get("extracted_value") if type(a) is dict else None
        return None if v is None else str(v)
    attr = [a for a in (attr or []) if isinstance(a, dict)]
    term = [a for a in attr if a.get("is_terminal")] or attr
    if term and term[-1].get("extracted_value") is not None:
        return str(term[-1]["extracted_value"])
    return None


def _result_parts(r: dict) -> tuple[str | None, str | None]:
    """(metric, filter) of an instance record: ``evaluation_result_id`` is ``metric`` or
    ``metric:filter`` (the EEE lm-eval converter's join key); ``metadata.filter`` wins."""
    rid = r.get("evaluation_result_id")
    metric, _, filt = (str(rid).partition(":") if rid not in (None, "") else (None, "", ""))
    meta = r.get("metadata")
    if isinstance(meta, dict) and meta.get("filter") not in (None, ""):
        filt = str(meta["filter"])
    return metric, (filt or None)


def _select_result(rows: list, metric: str | None, filter: str | None, *, source: str,
                   parts: list | None = None):
    """The rows of one answer filter and one metric, and the choice notes; ``parts``
    the (metric, filter) of each row when already known."""
    chosen: list[str] = []
    if parts is None:
        parts = [_result_parts(r) for _, _, r in rows]
    filters = list(dict.fromkeys(f for _, f in parts if f not in (None, "none")))
    if filter is not None:
        if filter not in filters and not (filter == "none" and any(f in (None, "none") for _, f in parts)):
            raise InputError(f"has no answer filter {filter!r}", source=source, where="--filter",
                             hint=f"choose one of {', '.join(filters) or '(none)'}")
        keep = [f == filter or (filter == "none" and f is None) for _, f in parts]
    elif len(filters) > 1:
        keep = [f in (None, "none", filters[0]) for _, f in parts]
        chosen.append(choice(f"answer filter {filters[0]!r} (also present: "
                             f"{', '.join(filters[1:])}; choose with --filter)"))
    else:
        keep = [True] * len(rows)
    rows = [r for r, k in zip(rows, keep) if k]
    parts = [p for p, k in zip(parts, keep) if k]
    metrics = list(dict.fromkeys(mt for mt, _ in parts if mt is not None))
    if metric is not None:
        if metric not in metrics:
            raise InputError(f"has no metric {metric!r} (evaluation_result_id)", source=source,
                             where="--metric", hint=f"choose one of {', '.join(metrics) or '(none)'}")
        pick = metric
    elif len(metrics) > 1:
        pick = next((mt for mt in DEFAULT_METRICS if mt in metrics), sorted(metrics)[0])
        chosen.append(choice(f"metric {pick!r} (also present: "
                             f"{', '.join(mt for mt in metrics if mt != pick)}; choose with --metric)"))
    else:
        return rows, chosen
    return [r for r, (mt, _) in zip(rows, parts) if mt in (None, pick)], chosen


def _meta(m: OutcomeMatrix, group: str, name: str, i: int, j: int | None = None):
    src = m.cell_meta if group == "cell" else m.query_meta
    if name not in src:
        return None
    v = src[name][i] if j is None else src[name][i, j]
    if v is None or (isinstance(v, float) and np.isnan(v)):
        return None
    return v


def eee_records(
    m: OutcomeMatrix, *, evaluation_name: str | None = None, evaluation_id: str | None = None
) -> list[dict]:
    """The matrix as Every Eval Ever instance-level records (one per cell and sample).

    Long: one record layout of the schema, written out field by field.
    """
    name = evaluation_name or os.path.splitext(os.path.basename(m.source))[0] or "cofail"
    if evaluation_id is None:
        h = hashlib.sha256()
        h.update(name.encode())
        h.update(m.correct.tobytes())
        evaluation_id = f"cofail-{h.hexdigest()[:16]}"
    S = 1 if m.samples is None else m.samples.shape[0]
    out = []
    for j, model in enumerate(m.models):
        for i, q in enumerate(m.query_ids):
            prompt = _meta(m, "query", "prompt", i)
            ref = _meta(m, "query", "reference", i)
            choices = _meta(m, "query", "choices", i)
            for s in range(S):
                if m.samples is not None:
                    v = int(m.samples[s, i, j])
                    if v < 0:
                        continue
                    ok = bool(v)
                else:
                    ok = bool(m.correct[i, j])
                first = s == 0
                answer = _meta(m, "cell", "answer", i, j) if first else None
                raw = _meta(m, "cell", "raw_answer", i, j) if first else None
                score = _meta(m, "cell", "score", i, j) if first else None
                rec: dict[str, Any] = {
                    "schema_version": EEE_SCHEMA_VERSION,
                    "evaluation_id": evaluation_id,
                    "model_id": model,
                    "evaluation_name": name,
                    "sample_id": q,
                    "interaction_type": "single_turn",
                    "input": {
                        "raw": "" if prompt is None else str(prompt),
                        "reference": [] if ref is None else [str(ref)],
                    },
                    "output": {
                        "raw": [
                            ""
                            if raw is None and answer is None
                            else str(raw if raw is not None else answer)
                        ]
                    },
                    "answer_attribution": [
                        {
                            "turn_idx": 0,
                            "source": "output.raw",
                            "extracted_value": "" if answer is None else str(answer),
                            "extraction_method": "as graded in the source (cofail_jax export)",
                            "is_terminal": True,
                        }
                    ],
                    "evaluation": {
                        "score": float(ok) if score is None else float(score),
                        "is_correct": ok,
                    },
                }
                if choices is not None:
                    try:
                        ch = json.loads(choices)
                        rec["input"]["choices"] = (
                            [str(c) for c in ch] if isinstance(ch, list) else [str(choices)]
                        )
                    except (json.JSONDecodeError, TypeError):
                        rec["input"]["choices"] = [str(choices)]
                toks = [
                    _meta(m, "cell", k, i, j) if first else None
                    for k in ("input_tokens", "output_tokens", "total_tokens")
                ]
                if all(t is not None for t in toks):
                    rec["token_usage"] = {
                        k: int(t)
                        for k, t in zip(("input_tokens", "output_tokens", "total_tokens"), toks)
                    }
                meta = {}
                if m.samples is not None:
                    meta["epoch"] = str(s + 1)
                dom = _meta(m, "query", "domain", i)
                if dom is not None:
                    meta["domain"] = str(dom)
                if meta:
                    rec["metadata"] = meta
                out.append(rec)
    return out


def save_eee(
    m: OutcomeMatrix,
    path: str,
    *,
    evaluation_name: str | None = None,
    evaluation_id: str | None = None,
) -> str:
    """Write the matrix as Every Eval Ever instance-level JSONL, atomically.

    Every cell becomes one single-turn record with ``evaluation.is_correct``; repeated
    samples become one record each with ``metadata.epoch``. Returns the path.
    """
    from ...h5 import atomic_output

    recs = eee_records(m, evaluation_name=evaluation_name, evaluation_id=evaluation_id)
    with atomic_output(path) as tmp, open(tmp, "w", encoding="utf-8") as f:
        f.writelines(json.dumps(r, ensure_ascii=False) + "\n" for r in recs)
    return os.fspath(path)
