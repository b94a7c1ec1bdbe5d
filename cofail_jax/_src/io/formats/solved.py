"""A folder of solved-id lists (SWE-bench style)."""

from __future__ import annotations

import json
import os

import numpy as np

from ...errors import InputError
from ...matrix import OutcomeMatrix, check_unique
from ..tables import (
    check_sizes,
)


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
