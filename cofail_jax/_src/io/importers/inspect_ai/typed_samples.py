"""The typed fast path: msgspec-decoded samples read into the same columns as
:func:`.records._read_samples`, falling back to it for anything irregular."""

from __future__ import annotations

from collections.abc import Callable
from itertools import repeat
from operator import attrgetter

from .._common import as_text, content_text, fast_errors
from .logs import _read_again, _ScoreSamples, _TypedSamples
from .records import _USAGE, _Columns, _pick_value, _read_samples, _scorer_of, _ScoreRules


def _read_typed_samples(samples: _TypedSamples, file: str, model: str, scorer: str | None,
                        rules: _ScoreRules, cols: _Columns, used_scorers: set[str]
                        ) -> tuple[int, set[str]] | None:
    """:func:`_read_samples` for msgspec-decoded samples, the same columns from the
    same values; None (with ``cols`` and ``used_scorers`` as they were) when a sample
    is anything but plain, so the caller re-reads the log the dict-walking way."""
    lists: list[list] = [cols.query_id, cols.correct, cols.sample, *cols.meta.values()]
    n0 = len(cols.query_id)
    used0 = set(used_scorers)
    try:
        return _walk_typed(samples, file, model, scorer, rules, cols, used_scorers)
    except fast_errors():
        for col in lists:
            del col[n0:]
        del cols.model[n0:]
        used_scorers.clear()
        used_scorers.update(used0)
        return None


def _walk_typed(samples: _TypedSamples, file: str, model: str, scorer: str | None,
                rules: _ScoreRules, cols: _Columns, used_scorers: set[str]
                ) -> tuple[int, set[str]]:
    """One log's typed samples appended to ``cols``, as ``_read_samples`` would.

    Long: the same fields as ``_read_samples``, inline for speed.
    """
    from msgspec import UNSET

    n_err = 0
    other_scorers: set[str] = set()
    qs, cs, es = cols.query_id, cols.correct, cols.sample
    meta = cols.meta
    score_l, answer_l, raw_l, finish_l = (meta["score"], meta["answer"], meta["raw_answer"],
                                          meta["finish_reason"])
    prompt_l, ref_l, choices_l = meta["prompt"], meta["reference"], meta["choices"]
    in_l, out_l, tot_l = (meta[k] for k in _USAGE)
    one_scorer: tuple | None = None
    cache = rules.cache
    for s in samples:
        sid, epoch, scores = s.id, s.epoch, s.scores
        if sid is UNSET or type(epoch) is not int:
            raise ValueError("irregular sample")
        score = answer = None
        if not scores:
            n_err += 1
            code = -1
        else:
            keys = scores.keys()
            if one_scorer is not None and keys == one_scorer[0]:
                name = one_scorer[1]
            else:
                name = _scorer_of(scores, scorer, file, "")
                other_scorers.update(k for k in scores if k != name)
                used_scorers.add(name)
                one_scorer = (keys, name)
            sc = scores[name]
            value = sc.value
            tv = type(value)
            if tv is dict:
                value = _pick_value(value, rules.score_key, source=file, where="")
                tv = type(value)
            try:
                code = cache[(tv, value)]
            except (KeyError, TypeError):
                code = rules.cell(value)  # ValueError (not a score): the slow path says so
            if (tv is int or tv is float):
                score = float(value)
            answer = sc.answer
            if answer is not None and type(answer) is not str:
                answer = str(answer)
        qs.append(sid if type(sid) is str else str(sid))
        cs.append(code)
        es.append(epoch - 1)
        score_l.append(score)
        answer_l.append(answer)
        inp = s.input
        if type(inp) is str:
            prompt_l.append(inp)
        elif inp is None:
            prompt_l.append(None)
        else:
            prompt_l.append("\n".join(content_text(m.content) for m in inp
                                       if m.role in ("system", "user")))
        target = s.target
        if type(target) is str:
            ref_l.append(target or None)
        else:
            ref_l.append(None if target in (None, "", []) else as_text(target))
        ch = s.choices
        choices_l.append(as_text(list(ch)) if ch else None)
        raw = finish = usage = None
        out = s.output
        if out is not None:
            if out.choices:
                c0 = out.choices[0]
                content = None if c0.message is None else c0.message.content
                raw = content if type(content) is str else content_text(content)
                if c0.stop_reason is not None:
                    finish = str(c0.stop_reason)
            elif out.completion is not None:
                raw = str(out.completion)
            usage = out.usage
        raw_l.append(raw)
        finish_l.append(finish)
        if usage is not None:
            v = usage.input_tokens
            in_l.append(None if v is None else float(v))
            v = usage.output_tokens
            out_l.append(None if v is None else float(v))
            v = usage.total_tokens
            tot_l.append(None if v is None else float(v))
        else:
            in_l.append(None)
            out_l.append(None)
            tot_l.append(None)
    cols.model.extend([model] * len(samples))
    return n_err, other_scorers


_ID, _EPOCH, _SCORES, _VALUE = (attrgetter(a) for a in ("id", "epoch", "scores", "value"))


class _ScoreLog:
    """A log read for the matrix only: its samples' columns by :func:`_score_columns`
    (None when the log is not plain), computed as soon as it is decoded (the decoded
    samples are not kept), and how to read it again for the metadata."""

    def __init__(self, samples: _ScoreSamples, file: str, scorer: str | None,
                 rules: _ScoreRules) -> None:
        self.n, self.names, self.snap = len(samples), samples.names, samples.snap
        try:
            self.columns = _score_columns(samples, file, scorer, rules)
        except fast_errors():
            self.columns = None

    def __len__(self) -> int:
        return self.n

    def typed(self) -> _TypedSamples:
        """The samples decoded with every field the loader reads (the file read again)."""
        assert self.snap is not None
        out = _read_again(self.snap, self.names, typed=True)
        assert isinstance(out, _TypedSamples)
        return out

    def dicts(self) -> list:
        assert self.snap is not None
        return _read_again(self.snap, self.names, typed=False)


def _read_score_samples(log: _ScoreLog, file: str, model: str, cols: _Columns,
                        used_scorers: set[str], scorer: str | None, rules: _ScoreRules
                        ) -> tuple[int, set[str], Callable[[], dict[str, list]]] | None:
    """The matrix's columns of a log read for the matrix only appended to ``cols`` (not
    its metadata), as :func:`_walk_typed` would: (samples without a score, other
    scorers, a function giving the log's metadata columns, the file read again). None,
    with nothing appended, when the log is anything but plain (repeated epochs, scorers
    that differ between samples, a value that is not a score, ...): the caller reads it
    with every field."""
    if log.columns is None:
        return None
    ids, codes, n_err, name, other = log.columns
    n = len(ids)
    cols.query_id.extend(ids)
    cols.correct.extend(codes)
    cols.sample.extend([0] * n)
    cols.model.extend([model] * n)
    if name is not None:
        used_scorers.add(name)

    def meta() -> dict[str, list]:
        fresh = _Columns()
        try:
            typed = log.typed()
            _walk_typed(typed, file, model, scorer, rules, fresh, set())
        except fast_errors():
            fresh = _Columns()
            _read_samples(log.dicts(), file, model, scorer, rules, fresh, set())
        if len(fresh.query_id) != n:  # the same bytes, so never: a guard against a bug
            raise RuntimeError(f"{file}: the metadata decode found another sample count")
        return fresh.meta

    return n_err, other, meta


def _score_columns(samples: _ScoreSamples, file: str, scorer: str | None,
                   rules: _ScoreRules) -> tuple[list, list, int, str | None, set[str]] | None:
    """(query ids, cell codes, samples without a score, the scorer read, the other
    scorers) by whole-column operations; None when the log is not plain."""
    from msgspec import UnsetType

    n = len(samples)
    epochs = list(map(_EPOCH, samples))
    if epochs.count(1) != n or set(map(type, epochs)) != {int}:
        return None  # repeated (or odd) epochs: the full walk
    ids = list(map(_ID, samples))
    id_types = set(map(type, ids))
    if UnsetType in id_types:
        return None
    if id_types - {str, int}:
        ids = list(map(str, ids))  # str(s) is s itself for a str
    # (int ids are made text by the builder, once per distinct id)
    scores = list(map(_SCORES, samples))
    if None in scores:
        scores = [s or {} for s in scores]
    lens = set(map(len, scores))
    names: set[str] = set().union(*scores)
    n_scored = len(lens - {0})
    if n_scored > 1 or (n_scored == 1 and max(lens) != len(names)):
        return None  # the samples' scorers differ
    n_err = sum(1 for s in scores if not s) if 0 in lens else 0
    if not names:
        return ids, [-1] * n, n_err, None, set()
    first = next(s for s in scores if s)
    name = _scorer_of(first, scorer, file, "")
    other = names - {name}
    scs = list(map(dict.get, scores, repeat(name)))
    values = [None if s is None else s.value for s in scs] if n_err else list(map(_VALUE, scs))
    types = set(map(type, values))
    if dict in types:
        values = [_pick_value(v, rules.score_key, source=file, where="") if type(v) is dict
                  else v for v in values]
        types = set(map(type, values))
    if UnsetType in types:
        return None
    if len(types) == 1:  # one type: each distinct value converted once
        lut = {v: rules.cell(v) for v in set(values)}  # ValueError: not a score
        codes = list(map(lut.__getitem__, values))
    else:
        codes = [rules.cell(v) for v in values]
    return ids, codes, n_err, name, other
