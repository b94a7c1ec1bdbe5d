"""HELM run folders: ``per_instance_stats.json`` with the model from ``run_spec.json``.

HELM (``helm-run``) writes one folder per run under
``benchmark_output/runs/<suite>/<run_name>/``. ``run_spec.json`` names the run
(``name``, e.g. ``mmlu:subject=anatomy,method=multiple_choice_joint,model=openai_gpt-4``)
and the model (``adapter_spec.model``). ``per_instance_stats.json`` is a list with one
entry per instance and train trial: ``instance_id``, ``train_trial_index``, an optional
``perturbation``, and ``stats``, each stat a ``name`` object (``name``, ``split``,
optional ``perturbation``) with ``count``, ``sum`` and ``mean``. Optional siblings are
read when present: ``display_predictions.json`` (``predicted_text``,
``mapped_output``) for the answers and ``instances.json`` (``input.text``,
``references`` tagged ``correct``) for prompts and references, else
``scenario_state.json`` (``request_states[].instance`` and ``result.completions``, mapped
through ``output_mapping`` for multiple choice) for both.

Rules: the metric (``metric=``, default the first of ``exact_match``,
``quasi_exact_match``, ``prefix_exact_match``, ``math_equiv``,
``math_equiv_chain_of_thought``, ``final_number_exact_match``, ``pass``) must be 0/1
(``mean`` at or above ``threshold``, default 1.0, is correct); perturbed instances
(robustness/fairness variants) are dropped and counted in the notes; train trial 0 is
the matrix and later trials are repeated samples. Runs are grouped by their name with
the ``model=`` part removed; a suite with several scenarios needs ``task=``.

References:
  Liang et al., Holistic Evaluation of Language Models, TMLR 2023; HELM documentation
  "Tutorial" and "Code structure" (benchmark_output layout, per_instance_stats.json,
  run_spec.json), https://crfm-helm.readthedocs.io, 2022-2025.
"""

from __future__ import annotations

import os
import re
from typing import Any

import numpy as np

from ...errors import InputError
from ...matrix import OutcomeMatrix
from ._common import (
    build_matrix,
    choose_task,
    dedupe_notes,
    factorize_repeated,
    fast_errors,
    gc_paused_loader,
    msgspec_ok,
    read_json,
    reject_options,
)
from ..tables.columns import Factorized
from .helm_typed import read_entries_typed

HELM_METRICS = (
    "exact_match",
    "quasi_exact_match",
    "prefix_exact_match",
    "math_equiv",
    "math_equiv_chain_of_thought",
    "final_number_exact_match",
    "pass",
)
STATS = "per_instance_stats.json"
SPEC = "run_spec.json"


def _run_dirs(path: str) -> list[str]:
    if os.path.isfile(path):
        path = os.path.dirname(os.path.abspath(path))
    if os.path.isfile(os.path.join(path, STATS)):
        return [path]
    out = []
    for root, dirs, files in os.walk(path):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        if STATS in files:
            out.append(root)
    return sorted(out)


def detect(path: str) -> bool:
    if os.path.isfile(path):
        return os.path.basename(path) == STATS
    runs = _run_dirs(path) if os.path.isdir(path) else []
    return bool(runs) and all(os.path.isfile(os.path.join(d, SPEC)) for d in runs[:1])


def _group_name(run_name: str) -> str:
    """The run name with its model=/model_deployment= arguments removed."""
    head, _, args = run_name.partition(":")
    kept = [a for a in args.split(",") if a and not re.match(r"(model|model_deployment)=", a)]
    return head + (":" + ",".join(kept) if kept else "")


def _stat_name(stat: dict) -> tuple[str, str | None, Any]:
    name = stat.get("name")
    if isinstance(name, dict):
        return str(name.get("name")), name.get("split"), name.get("perturbation")
    return str(name), None, None


@gc_paused_loader
def load_helm(
    path: str,
    *,
    missing: str = "error",
    metric: str | None = None,
    task: str | None = None,
    threshold: float = 1.0,
    split: str | None = None,
    **unknown,
) -> OutcomeMatrix:
    """Load HELM run folders (one per model) into an outcome matrix.

    Args:
      path: a run folder (with ``per_instance_stats.json``), or a suite folder holding
        several run folders.
      missing: the missing-cell policy.
      metric: the per-instance stat that decides correctness (see module docstring).
      task: the run group (run name without ``model=``), when the folder holds several.
      threshold: a stat mean at or above it is correct (default 1.0).
      split: only stats of this split (default: any, usually ``test``).

    Returns:
      The matrix with ``score`` (the stat mean), ``output_tokens`` (``num_output_tokens``),
      ``answer`` (from ``display_predictions.json``) per cell, and ``prompt`` and
      ``reference`` (from ``instances.json``) per query.
    """
    reject_options("load_helm", unknown)
    runs = _run_dirs(path)
    if not runs:
        raise InputError(
            f"has no HELM run folders ({STATS})",
            source=path,
            hint="point at benchmark_output/runs/<suite> or one run folder",
        )
    groups: dict[str, list[tuple[str, str, dict]]] = {}
    for run in runs:
        spec_path = os.path.join(run, SPEC)
        if not os.path.isfile(spec_path):
            raise InputError(
                f"has {STATS} but no {SPEC}",
                source=run,
                hint="copy the whole run folder; the model name comes from run_spec.json",
            )
        spec = read_json(spec_path, what="HELM run_spec.json")
        if not isinstance(spec, dict):
            raise InputError(
                "is not a JSON object", source=spec_path, hint="is this a HELM run_spec.json?"
            )
        adapter = spec.get("adapter_spec") or {}
        model = adapter.get("model") or adapter.get("model_deployment")
        if not model:
            raise InputError(
                "has no adapter_spec.model",
                source=spec_path,
                where="adapter_spec",
                hint="is this a HELM run_spec.json?",
            )
        name = str(spec.get("name") or os.path.basename(run))
        groups.setdefault(_group_name(name), []).append((run, str(model), spec))
    task = choose_task(
        groups, task, source=path, several="holds several HELM scenarios", absent="has no runs for"
    )
    if msgspec_ok():
        try:
            return _load_runs(path, groups[task], task, metric, split, threshold, missing,
                              typed=True)
        except fast_errors():
            pass  # anything irregular: the dict read below names it
    return _load_runs(path, groups[task], task, metric, split, threshold, missing, typed=False)


def _load_runs(path: str, runs: list[tuple[str, str, dict]], task: str, metric: str | None,
               split: str | None, threshold: float, missing: str, *,
               typed: bool) -> OutcomeMatrix:
    """The matrix of the runs of ``task``, their stats read through msgspec (``typed``)
    or the dict way."""
    notes: list[str] = []
    cols: dict[str, list] = {c: [] for c in ("query_id", "correct", "sample", *_META)}
    used: set[str] = set()
    other_stats: set[str] = set()
    seen: dict[str, str] = {}
    id_parts: list[list] = []  # per run: its instance ids
    for run, model, _spec in runs:
        if model in seen:
            raise InputError(
                f"model {model!r} has two runs of {task!r}",
                source=run,
                hint=f"keep one (the other is {seen[model]})",
            )
        seen[model] = run
        stats_path = os.path.join(run, STATS)
        before = len(cols["query_id"])
        if typed:
            n_pert = read_entries_typed(stats_path, _predictions(run), metric, split,
                                        threshold, cols, used, other_stats, HELM_METRICS)
        else:
            entries = read_json(stats_path, what=f"HELM {STATS}")
            if not isinstance(entries, list):
                raise InputError("is not a list of instances", source=stats_path,
                                 hint=f"is this a HELM {STATS}?")
            n_pert = _read_entries(entries, stats_path, _predictions(run), metric, split,
                                   threshold, cols, used, other_stats)
        id_parts.append(cols["query_id"][before:])
        if n_pert:
            notes.append(
                f"{model}: dropped {n_pert} perturbed instance entries "
                "(robustness/fairness variants)"
            )
    ids = factorize_repeated(id_parts)
    runs_n = [(mo, len(part)) for mo, part in zip(seen, id_parts) if part]  # models distinct
    models_f = Factorized(np.repeat(np.arange(len(runs_n)), [n for _, n in runs_n]),
                          [mo for mo, _ in runs_n])
    m = build_matrix(cols["query_id"] if ids is None else ids, models_f, cols["correct"],
                     sample=cols["sample"],
                     meta={c: cols[c] for c in _META}, source=path, missing=missing,
                     where_prefix="instance")
    m = _attach_instances(m, [r for r, _, _ in runs])
    notes.insert(
        0, f"run {task!r}, stat {', '.join(sorted(used))}: mean >= {threshold:g} is correct"
    )
    if other_stats:
        names = sorted(other_stats)
        notes.append(
            f"other per-instance stats not imported: {', '.join(names[:12])}"
            + (" ..." if len(names) > 12 else "")
        )
    return m.with_notes(*dedupe_notes(notes))


_META = ("score", "output_tokens", "input_tokens", "answer")
_TOKENS = {"num_output_tokens": "output_tokens", "num_prompt_tokens": "input_tokens"}


def _read_entries(entries: list, stats_path: str, preds: dict, metric: str | None,
                  split: str | None, threshold: float, cols: dict[str, list],
                  used: set[str], other_stats: set[str]) -> int:
    """Append one run's instances to ``cols``; the number of perturbed entries dropped."""
    qs, cs, ss = cols["query_id"], cols["correct"], cols["sample"]
    score_l, out_l, in_l, ans_l = (cols[c] for c in _META)
    n_pert = 0
    last_names: tuple | None = None  # (stat names, metric key) of the previous entry
    for i, e in enumerate(entries):
        if type(e) is not dict or "instance_id" not in e or "stats" not in e:
            raise InputError(
                "has no instance_id or stats",
                source=stats_path,
                where=f"entry {i + 1}",
                hint=f"is this a HELM {STATS}?",
            )
        if e.get("perturbation"):
            n_pert += 1
            continue
        stats = {}
        for st in e["stats"] or []:
            name = st.get("name")
            if type(name) is dict:
                if name.get("perturbation") or (split is not None and name.get("split") != split):
                    continue
                stats[str(name.get("name"))] = st
            else:
                sname, ssplit, spert = _stat_name(st)
                if spert or (split is not None and ssplit != split):
                    continue
                stats[sname] = st
        names = stats.keys()
        if last_names is not None and names == last_names[0]:
            key = last_names[1]
        else:
            key = metric or next((k for k in HELM_METRICS if k in stats), None)
            used.add(str(key))
            other_stats.update(
                k for k in stats if k not in (key, "num_output_tokens", "num_prompt_tokens")
            )
            if key is None or key not in stats:
                raise InputError(
                    f"has no stat {metric or ' / '.join(HELM_METRICS)!r}",
                    source=stats_path,
                    where=f"entry {i + 1} (instance {e['instance_id']!r})",
                    hint=f"choose one with --metric (or metric= in load_matrix) from {', '.join(sorted(stats))}",
                )
            last_names = (names, key)
        st = stats[key]
        mean = st.get("mean")
        if mean is None and st.get("count"):
            mean = st["sum"] / st["count"]
        if not isinstance(mean, (int, float)):
            raise InputError(
                f"stat {key!r} has no numeric mean ({mean!r})",
                source=stats_path,
                where=f"entry {i + 1} (instance {e['instance_id']!r})",
                hint="check the file is complete",
            )
        trial = int(e.get("train_trial_index", 0) or 0)
        qid = str(e["instance_id"])
        qs.append(qid)
        cs.append(int(mean >= threshold))
        ss.append(trial)
        score_l.append(float(mean))
        for name, col in (("num_output_tokens", out_l), ("num_prompt_tokens", in_l)):
            t = stats.get(name)
            v = None if t is None else t.get("mean")
            col.append(None if v is None else float(v))
        ans_l.append(preds.get((qid, trial)) if preds else None)
    return n_pert


def _scenario_states(run: str) -> list[dict]:
    """The unperturbed request states of ``scenario_state.json`` (one per instance and
    trial; multiple-choice-separate runs, with one request per reference, are skipped)."""
    p = os.path.join(run, "scenario_state.json")
    if not os.path.isfile(p):
        return []
    data = read_json(p, what="HELM scenario_state.json")
    out = []
    for rs in (data.get("request_states") or []) if isinstance(data, dict) else []:
        inst = rs.get("instance") if isinstance(rs, dict) else None
        if (
            not isinstance(inst, dict)
            or inst.get("perturbation")
            or rs.get("reference_index") is not None
        ):
            continue
        out.append(rs)
    return out


def _predictions(run: str) -> dict[tuple[str, int], str]:
    p = os.path.join(run, "display_predictions.json")
    if not os.path.isfile(p):
        out = {}
        for rs in _scenario_states(run):
            comps = (rs.get("result") or {}).get("completions") or []
            if not comps or not isinstance(comps[0], dict):
                continue
            text = str(comps[0].get("text", "")).strip()
            mapping = rs.get("output_mapping") or {}
            out[(str(rs["instance"].get("id")), int(rs.get("train_trial_index", 0) or 0))] = str(
                mapping.get(text, text)
            )
        return out
    data = read_json(p, what="HELM display_predictions.json")
    out = {}
    for d in data if isinstance(data, list) else []:
        if isinstance(d, dict) and "instance_id" in d and not d.get("perturbation"):
            text = d.get("mapped_output") or d.get("predicted_text")
            if text is not None:
                out[(str(d["instance_id"]), int(d.get("train_trial_index", 0) or 0))] = str(text)
    return out


def _attach_instances(m: OutcomeMatrix, runs: list[str]) -> OutcomeMatrix:
    """Prompts and references from the first run's instances.json, if there is one."""
    import dataclasses

    for run in runs:
        p = os.path.join(run, "instances.json")
        if os.path.isfile(p):
            data = read_json(p, what="HELM instances.json")
        else:
            data = [rs["instance"] for rs in _scenario_states(run)]
            if not data:
                continue
        index = {q: i for i, q in enumerate(m.query_ids)}
        prompt = np.full(m.n, None, dtype=object)
        ref = np.full(m.n, None, dtype=object)
        for d in data if isinstance(data, list) else []:
            if not isinstance(d, dict) or d.get("perturbation") or str(d.get("id")) not in index:
                continue
            i = index[str(d["id"])]
            prompt[i] = str((d.get("input") or {}).get("text", ""))
            refs = [
                str((r.get("output") or {}).get("text", ""))
                for r in d.get("references") or []
                if isinstance(r, dict) and "correct" in (r.get("tags") or [])
            ]
            ref[i] = refs[0] if len(refs) == 1 else ("; ".join(refs) if refs else "")
        qm = dict(m.query_meta)
        if any(v is not None for v in prompt):
            qm["prompt"] = prompt
        if any(v is not None for v in ref):
            qm["reference"] = ref
        return dataclasses.replace(m, query_meta=qm)
    return m
