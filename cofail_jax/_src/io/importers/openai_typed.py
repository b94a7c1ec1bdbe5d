"""The typed (msgspec) reading of OpenAI evals record logs: the lines decoded into one
Struct naming only the fields :func:`.openai_evals.load_openai_evals` reads, the match
events' columns built in bulk. Anything irregular raises one of ``fast_errors()``; the
loader then reads the logs record by record, whose message names the line."""

from __future__ import annotations

import operator
from collections import Counter
from collections.abc import Callable
from operator import attrgetter
from typing import Any

import numpy as np

from ..typed import Fallback, all_none, decode_lines
from ._common import as_text


def read_log_typed(file: str) -> tuple[Any, list[tuple[int, Any]]]:
    """(the ``spec``, the events) of one record log (line numbers are not kept: any
    problem sends the loader to the record-by-record read)."""
    from msgspec import UNSET

    from ._typed import OAI_LINE

    spec = None
    events = []
    for rec in decode_lines(file, OAI_LINE):
        if rec.spec is not UNSET:
            spec = rec.spec
        elif rec.final_report is UNSET:
            events.append((0, rec))
    return spec, events


def read_events_typed(events: list[tuple[int, Any]], file: str, cols: dict[str, list],
                      prompt_text: Callable[[Any], str]) -> tuple[Counter, int]:
    """``_read_events`` for typed events: append one run's match events to ``cols``;
    (other event types, the number of match events)."""
    from msgspec import UnsetType

    evs = [e for _, e in events]
    ids = list(map(attrgetter("event_id"), evs))
    if set(map(type, ids)) - {int}:
        ids = [0 if type(i) is UnsetType else i or 0 for i in ids]
    if set(map(type, ids)) - {int}:
        raise Fallback("an event_id that is not an integer")
    if any(map(operator.gt, ids, ids[1:])):  # event_id order, file order among equal ids
        evs = [evs[i] for i in sorted(range(len(ids)), key=ids.__getitem__)]
    types = list(map(attrgetter("type"), evs))
    sids = list(map(attrgetter("sample_id"), evs))
    if UnsetType in set(map(type, sids)) or set(map(type, types)) - {str}:
        raise Fallback("an event without sample_id or type")
    if set(map(type, sids)) - {str}:
        sids = list(map(str, sids))
    counts: Counter = Counter()
    prompts: dict[str, str] = {}
    if set(types) == {"match"}:
        matches, msids = evs, sids
    else:
        matches, msids = [], []
        for typ, sid, e in zip(types, sids, evs):
            if typ == "match":
                matches.append(e)
                msids.append(sid)
            elif typ == "sampling":
                prompts.setdefault(sid, prompt_text(None if e.data is None else e.data.prompt))
            else:
                counts[typ] += 1
    datas = list(map(attrgetter("data"), matches))
    if None in datas:
        raise Fallback("a match event without data")
    oks = list(map(attrgetter("correct"), datas))
    if set(map(type, oks)) - {bool} and not all(type(o) in (int, float) and o in (0, 1)
                                                for o in oks if type(o) is not bool):
        raise Fallback("data.correct not true/false")
    n = len(matches)
    cols["correct"].extend(np.asarray(oks, dtype=np.int8).tolist() if n else [])
    cols["query_id"].extend(msids)
    if len(set(msids)) == n:
        cols["sample"].extend([0] * n)
    else:
        seen: Counter = Counter()
        for sid in msids:
            cols["sample"].append(seen[sid])
            seen[sid] += 1
    cols["answer"].extend(_texts(list(map(attrgetter("picked"), datas)), str))
    cols["raw_answer"].extend(_texts(list(map(attrgetter("sampled"), datas)), as_text))
    cols["reference"].extend(_texts(list(map(attrgetter("expected"), datas)), as_text))
    opts = list(map(attrgetter("options"), datas))
    cols["choices"].extend([None] * n if all_none(opts) else
                           [as_text(list(v)) if v else None for v in opts])
    cols["prompt"].extend([prompts.get(q) or None for q in msids] if prompts else [None] * n)
    return counts, n


def _texts(values: list[Any], convert: Callable[[Any], str]) -> list[Any]:
    """None stays None, a string itself, anything else ``convert(v)``."""
    if not set(map(type, values)) - {str, type(None)}:
        return values
    return [None if v is None else v if type(v) is str else convert(v) for v in values]
