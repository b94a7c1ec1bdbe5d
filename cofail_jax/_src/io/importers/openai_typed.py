"""The typed (msgspec) reading of OpenAI evals record logs: the lines decoded into one
Struct naming only the fields :func:`.openai_evals.load_openai_evals` reads, the match
events' columns built in bulk. At load only what the matrix needs is decoded
(``OaiMatchLine``); the metadata (answers, completions, references, choices, prompts)
is decoded from the kept bytes when first read. Anything irregular raises one of
``fast_errors()``; the loader then reads the logs record by record, whose message names
the line."""

from __future__ import annotations

import operator
from collections import Counter
from collections.abc import Callable
from operator import attrgetter
from typing import Any

from ..typed import Fallback, all_none, decode_body, plain_lines
from ._common import as_text


def read_log_typed(file: str, body: bytes | None = None, *, full: bool = False
                   ) -> tuple[Any, list[Any], bytes]:
    """(the ``spec``, the events, the file's bytes) of one record log, decoded for the
    matrix only (``full``: every field read); ``body``: the bytes, when already read
    (line numbers are not kept: any problem sends the loader to the record-by-record
    read)."""
    from msgspec import UNSET

    from ._typed import OAI_LINE, OAI_MATCH_LINE

    if body is None:
        body = plain_lines(file)
    recs = decode_body(body, OAI_LINE if full else OAI_MATCH_LINE)
    n = len(recs)
    specs = list(map(_SPEC, recs))
    finals = list(map(_FINAL, recs))
    n_spec, n_final = n - specs.count(UNSET), n - finals.count(UNSET)
    if (n_spec == 1 and specs[0] is not UNSET and finals[0] is UNSET
            and (n_final == 0 or (n_final == 1 and finals[-1] is not UNSET))):
        return specs[0], recs[1:n - n_final], body  # spec first, final report last
    spec = None
    events = []
    for rec in recs:
        if rec.spec is not UNSET:
            spec = rec.spec
        elif rec.final_report is UNSET:
            events.append(rec)
    return spec, events, body


_SPEC, _FINAL = attrgetter("spec"), attrgetter("final_report")


def _select(evs: list[Any]) -> tuple[list, list, list, Counter]:
    """(match events, their sample ids, the sampling events as (sample id, event), the
    counts of other event types), in ``event_id`` order."""
    from msgspec import UnsetType

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
    samplings: list[tuple[str, Any]] = []
    if set(types) == {"match"}:
        return evs, sids, samplings, counts
    matches, msids = [], []
    for typ, sid, e in zip(types, sids, evs):
        if typ == "match":
            matches.append(e)
            msids.append(sid)
        elif typ == "sampling":
            samplings.append((sid, e))
        else:
            counts[typ] += 1
    return matches, msids, samplings, counts


def read_events_typed(events: list[Any], file: str, cols: dict[str, list],
                      prompt_text: Callable[[Any], str] | None) -> tuple[Counter, int]:
    """``_read_events`` for typed events: append one run's match events to ``cols``;
    (other event types, the number of match events). ``prompt_text`` None: the
    metadata columns are left to :func:`match_meta`."""
    matches, msids, samplings, counts = _select(events)
    datas = list(map(attrgetter("data"), matches))
    if None in datas:
        raise Fallback("a match event without data")
    oks = list(map(attrgetter("correct"), datas))
    if set(map(type, oks)) - {bool} and not all(type(o) in (int, float) and o in (0, 1)
                                                for o in oks if type(o) is not bool):
        raise Fallback("data.correct not true/false")
    n = len(matches)
    cols["correct"].extend(oks)  # true/false (or 1/0): int8 codes in the builder
    cols["query_id"].extend(msids)
    if len(set(msids)) == n:
        cols["sample"].extend([0] * n)
    else:
        seen: Counter = Counter()
        for sid in msids:
            cols["sample"].append(seen[sid])
            seen[sid] += 1
    if prompt_text is not None:
        _append_meta(cols, datas, msids, samplings, prompt_text)
    return counts, n


def match_meta(events: list[Any], prompt_text: Callable[[Any], str]
               ) -> dict[str, list]:
    """The metadata columns of one run's match events (fully decoded), in match order."""
    matches, msids, samplings, _ = _select(events)
    cols: dict[str, list] = {c: [] for c in ("answer", "raw_answer", "reference", "choices",
                                             "prompt")}
    _append_meta(cols, list(map(attrgetter("data"), matches)), msids, samplings, prompt_text)
    return cols


def _append_meta(cols: dict[str, list], datas: list, msids: list, samplings: list,
                 prompt_text: Callable[[Any], str]) -> None:
    n = len(datas)
    prompts: dict[str, str] = {}
    for sid, e in samplings:
        prompts.setdefault(sid, prompt_text(None if e.data is None else e.data.prompt))
    cols["answer"].extend(_texts(list(map(attrgetter("picked"), datas)), str))
    cols["raw_answer"].extend(_texts(list(map(attrgetter("sampled"), datas)), as_text))
    cols["reference"].extend(_texts(list(map(attrgetter("expected"), datas)), as_text))
    opts = list(map(attrgetter("options"), datas))
    cols["choices"].extend([None] * n if all_none(opts) else
                           [as_text(list(v)) if v else None for v in opts])
    cols["prompt"].extend([prompts.get(q) or None for q in msids] if prompts else [None] * n)


def _texts(values: list[Any], convert: Callable[[Any], str]) -> list[Any]:
    """None stays None, a string itself, anything else ``convert(v)``."""
    if not set(map(type, values)) - {str, type(None)}:
        return values
    return [None if v is None else v if type(v) is str else convert(v) for v in values]
