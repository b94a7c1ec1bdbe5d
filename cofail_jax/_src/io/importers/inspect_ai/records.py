"""The record path: samples as dicts (any log), converted cell by cell with messages that
name the sample; the score rules and the columns both paths fill."""

from __future__ import annotations

from typing import Any

from ....errors import InputError
from .._common import as_text, content_text, score_to_cell


def _pick_value(value: Any, score_key: str | None, *, source: str, where: str) -> Any:
    if isinstance(value, dict):
        if score_key is None:
            if len(value) == 1:
                return next(iter(value.values()))
            raise InputError(
                f"score value is a dict with keys {', '.join(map(str, value))}",
                source=source,
                where=where,
                hint="choose one with score_key=",
            )
        if score_key not in value:
            raise InputError(
                f"score value has no key {score_key!r}",
                source=source,
                where=where,
                hint=f"choose one of {', '.join(map(str, value))}",
            )
        return value[score_key]
    return value


META = ("score", "answer", "raw_answer", "finish_reason", "input_tokens", "output_tokens",
        "total_tokens", "prompt", "reference", "choices")
_USAGE = ("input_tokens", "output_tokens", "total_tokens")


class _Columns:
    """The matrix's columns, one entry per sample read (None: absent)."""

    def __init__(self) -> None:
        self.query_id: list[str] = []
        self.model: list[str] = []
        self.correct: list[int] = []
        self.sample: list[int] = []
        self.meta: dict[str, list] = {c: [] for c in META}


class _ScoreRules:
    """score value -> 1 / 0 / -1 (missing) by the loader's rules; each distinct string
    or number is converted once."""

    def __init__(self, partial: str, noanswer: str, threshold: float, score_key: str | None):
        self.partial, self.noanswer, self.threshold = partial, noanswer, threshold
        self.score_key = score_key
        self.cache: dict[Any, int] = {}

    def cell(self, value: Any) -> int:
        """Raises ValueError for a value that is not a score (see score_to_cell)."""
        key = (type(value), value)
        try:
            return self.cache[key]
        except KeyError:
            pass
        except TypeError:  # unhashable (a list): not a score
            raise ValueError(value) from None
        c = score_to_cell(value, partial=self.partial, noanswer=self.noanswer,
                          threshold=self.threshold)
        code = -1 if c is None else c
        if value == value:  # not NaN
            self.cache[key] = code
        return code


def _read_samples(samples: list, file: str, model: str, scorer: str | None,
                  rules: _ScoreRules, cols: _Columns, used_scorers: set[str]
                  ) -> tuple[int, set[str]]:
    """Append one log's samples to ``cols``; (samples without a score, other scorers).

    Long: one located check per field of a sample, in the order the messages promise.
    """
    n_err = 0
    other_scorers: set[str] = set()
    qs, cs, es = cols.query_id, cols.correct, cols.sample
    meta = cols.meta
    score_l, answer_l, raw_l, finish_l = (meta["score"], meta["answer"], meta["raw_answer"],
                                          meta["finish_reason"])
    prompt_l, ref_l, choices_l = meta["prompt"], meta["reference"], meta["choices"]
    usage_l = [meta[k] for k in _USAGE]
    one_scorer: tuple | None = None  # (the scores' keys, the name read) seen last
    for i, (s, where) in enumerate(samples):
        if type(s) is not dict or "id" not in s:
            raise InputError(
                "sample has no 'id'",
                source=file,
                where=where or f"samples[{i}]",
                hint="is this an Inspect AI log?",
            )
        epoch = s.get("epoch", 1)
        if type(epoch) is not int:
            try:
                epoch = int(epoch)
            except (TypeError, ValueError):
                raise InputError(
                    f"epoch {epoch!r} is not an integer",
                    source=file,
                    where=_where(s, where, i),
                    hint="epochs are numbered 1, 2, ...",
                ) from None
        scores = s.get("scores") or {}
        if type(scores) is not dict:
            raise InputError(
                "'scores' is not an object",
                source=file,
                where=_where(s, where, i),
                hint="is this an Inspect AI log?",
            )
        score = answer = None
        if not scores:
            n_err += 1
            code = -1
        else:
            keys = scores.keys()
            if one_scorer is not None and keys == one_scorer[0]:
                name = one_scorer[1]
            else:
                name = _scorer_of(scores, scorer, file, _where(s, where, i))
                other_scorers.update(k for k in scores if k != name)
                used_scorers.add(name)
                one_scorer = (keys, name)
            sc = scores[name]
            if type(sc) is not dict or "value" not in sc:
                raise InputError(
                    f"score {name!r} has no 'value'",
                    source=file,
                    where=_where(s, where, i),
                    hint="is this an Inspect AI log?",
                )
            value = sc["value"]
            if type(value) is dict:
                value = _pick_value(value, rules.score_key, source=file,
                                    where=_where(s, where, i))
            try:
                code = rules.cell(value)
            except ValueError:
                raise InputError(
                    f"score value {value!r} of scorer {name!r} is not C/I/P/N, "
                    "a number or a bool",
                    source=file,
                    where=_where(s, where, i),
                    hint="choose another scorer= or score_key=",
                ) from None
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                score = float(value)
            answer = sc.get("answer")
            if answer is not None and type(answer) is not str:
                answer = str(answer)
        qs.append(str(s["id"]))
        cs.append(code)
        es.append(epoch - 1)
        score_l.append(score)
        answer_l.append(answer)
        _extras(s, raw_l, finish_l, prompt_l, ref_l, choices_l, usage_l)
    cols.model.extend([model] * len(samples))
    return n_err, other_scorers


def _where(s: dict, where: str | None, i: int) -> str:
    return f"{where or f'samples[{i}]'} (id {s['id']!r})"


def _scorer_of(scores: dict, scorer: str | None, file: str, where: str) -> str:
    if scorer is None:
        if len(scores) > 1:
            raise InputError(
                f"has several scorers: {', '.join(scores)}",
                source=file,
                where=where,
                hint="choose one with --scorer (or scorer= in load_matrix)",
            )
        return next(iter(scores))
    if scorer not in scores:
        raise InputError(
            f"has no scorer {scorer!r}",
            source=file,
            where=where,
            hint=f"choose one of {', '.join(scores)}",
        )
    return scorer


def _extras(s: dict, raw_l: list, finish_l: list, prompt_l: list, ref_l: list,
            choices_l: list, usage_l: list) -> None:
    """The sample's prompt, reference, choices, completion, stop reason and token counts
    appended to their columns (None where absent)."""
    inp = s.get("input")
    if type(inp) is str:
        prompt_l.append(inp)
    elif isinstance(inp, list):
        prompt_l.append("\n".join(
            content_text(m.get("content"))
            for m in inp
            if isinstance(m, dict) and m.get("role") in ("system", "user")
        ))
    else:
        prompt_l.append(None)
    target = s.get("target")
    if type(target) is str:
        ref_l.append(target or None)
    else:
        ref_l.append(None if target in (None, "", []) else as_text(target))
    ch = s.get("choices")
    choices_l.append(as_text(list(ch)) if ch else None)
    raw = finish = usage = None
    out = s.get("output")
    if type(out) is dict:
        choices = out.get("choices") or []
        if choices and type(choices[0]) is dict:
            c0 = choices[0]
            msg = c0.get("message") or {}
            content = msg.get("content")
            raw = content if type(content) is str else content_text(content)
            if c0.get("stop_reason") is not None:
                finish = str(c0["stop_reason"])
        elif out.get("completion") is not None:
            raw = str(out["completion"])
        usage = out.get("usage")
    raw_l.append(raw)
    finish_l.append(finish)
    if type(usage) is dict:
        for key, col in zip(_USAGE, usage_l):
            v = usage.get(key)
            col.append(None if v is None else float(v))
    else:
        for col in usage_l:
            col.append(None)
