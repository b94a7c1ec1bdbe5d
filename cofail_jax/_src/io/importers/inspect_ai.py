"""Inspect AI evaluation logs: ``.eval`` archives and ``.json`` logs.

An Inspect log records one task run by one model. The ``.json`` form is one object
(``version``, ``status``, ``eval``, ``plan``, ``results``, ``stats``, ``samples``); the
``.eval`` form is a zip archive holding the same header in ``header.json`` and one
``samples/<id>_epoch_<n>.json`` per sample and epoch (entries are deflate- or, in
current Inspect, zstd-compressed; zstd needs Python 3.14's ``compression.zstd`` or the
``zstandard``/``pyzstd``/``backports.zstd`` package, else the message says so). Each sample carries ``id``,
``epoch``, ``input``, ``target``, ``output`` (with ``usage`` token counts) and
``scores``: a dict from scorer name to a ``Score`` whose ``value`` is a letter
(``C`` correct, ``I`` incorrect, ``P`` partial, ``N`` no answer), a number, a bool, or
a dict of those, with the extracted ``answer``.

Rules (stated here and configurable): ``C`` is correct and ``I`` wrong; ``P`` and
``N`` are wrong by default (``partial=``/``noanswer=`` ``"wrong"|"correct"|"missing"``);
a numeric value is correct when it is at least ``threshold`` (default 1.0, full
credit). Epoch 1 is the matrix; epochs 2, 3, ... become repeated samples. A sample
whose run errored (no score) is a missing cell.

References:
  UK AI Security Institute, Inspect AI documentation: "Log Files" and the
  ``inspect_ai.log`` reference (EvalLog, EvalSample, Score; the ``.eval`` zip layout),
  https://inspect.aisi.org.uk/eval-logs.html, 2024-2025.
"""

from __future__ import annotations

import os
import re
import zipfile
import zlib
from typing import Any

from ...errors import InputError
from ...matrix import OutcomeMatrix
from ..options import choice
from ._common import (
    as_text,
    build_matrix,
    check_rule,
    choose_task,
    content_text,
    _BOM,
    dedupe_notes,
    fast_errors,
    files_with_suffix,
    gc_paused_loader,
    msgspec_ok,
    parse_json_bytes,
    read_json,
    reject_options,
    score_to_cell,
)

_JSON_LOG_HEAD = re.compile(r'\s*\{\s*"version"\s*:\s*\d')
_SAMPLE_RE = re.compile(r"^samples/(?P<id>.+)_epoch_(?P<epoch>\d+)\.json$")


def _is_json_log(path: str) -> bool:
    if not path.lower().endswith(".json") or not os.path.isfile(path):
        return False
    with open(path, encoding="utf-8", errors="replace") as f:
        head = f.read(4096)
    # An EvalLog starts {"version": N, ...}; an eval-set's logs.json index starts with
    # a file name, so it is not mistaken for a log.
    return bool(_JSON_LOG_HEAD.match(head)) and '"eval"' in head


def _is_eval_zip(path: str) -> bool:
    """A ``.eval`` file: taken by its name, so a damaged archive gets a precise message."""
    return path.lower().endswith(".eval") and os.path.isfile(path)


def _log_files(path: str) -> list[str]:
    return [
        f
        for f in files_with_suffix(path, (".eval", ".json"))
        if f.lower().endswith(".eval") or _is_json_log(f)
    ]


def detect(path: str) -> bool:
    if os.path.isfile(path):
        return _is_eval_zip(path) or _is_json_log(path)
    return os.path.isdir(path) and bool(_log_files(path))


def _sample_order(name: str) -> tuple:
    """Sort archive entries by epoch, then id (numerically when ids are numbers)."""
    mt = _SAMPLE_RE.match(name)
    sid = mt.group("id")
    return (int(mt.group("epoch")), (0, int(sid), "") if sid.isdigit() else (1, 0, sid))


ZIP_ZSTD = 93  # zip compression method id of Zstandard (APPNOTE 6.3.7, section 4.4.5)


def _zstd_decompress(data: bytes) -> bytes | None:
    """Decompress a zstd frame with whichever zstd binding is installed, else None."""
    for mod in ("compression.zstd", "backports.zstd", "pyzstd"):
        try:
            lib = __import__(mod, fromlist=["decompress"])
        except ImportError:
            continue
        return lib.decompress(data)
    try:
        import zstandard
    except ImportError:
        return None
    return zstandard.ZstdDecompressor().decompressobj().decompress(data)


def _read_zstd_entry(z: zipfile.ZipFile, info: zipfile.ZipInfo, path: str) -> bytes:
    """The bytes of a zstd-compressed entry (Inspect writes these since 2025), read from
    the local file header, for Pythons whose zipfile lacks zstd (before 3.14)."""
    import struct

    fp = z.fp
    fp.seek(info.header_offset)
    head = fp.read(30)
    if len(head) < 30 or head[:4] != b"PK\x03\x04":
        raise zipfile.BadZipFile(f"bad local header for {info.filename}")
    n_name, n_extra = struct.unpack("<HH", head[26:30])
    fp.seek(info.header_offset + 30 + n_name + n_extra)
    data = _zstd_decompress(fp.read(info.compress_size))
    if data is None:
        raise InputError(
            "uses zstd compression, and no zstd module is installed",
            source=path,
            where=info.filename,
            hint="pip install zstandard, or convert it with "
            "'inspect log convert --to json' and read the .json log",
        )
    if zlib.crc32(data) != info.CRC:
        raise zipfile.BadZipFile(f"CRC mismatch in {info.filename}")
    return data


def _zip_read(z: zipfile.ZipFile, name: str, path: str) -> bytes:
    try:
        info = z.getinfo(name)
        if info.compress_type == ZIP_ZSTD and not _zipfile_has_zstd():
            return _read_zstd_entry(z, info, path)
        return z.read(name)
    except InputError:
        raise
    except NotImplementedError as e:
        raise InputError(
            f"uses a zip compression this Python cannot read ({e})",
            source=path,
            where=name,
            hint="convert it with 'inspect log convert --to json' and read the .json log",
        ) from None
    except (zipfile.BadZipFile, zlib.error, EOFError, ValueError) as e:
        raise InputError(
            f"is a damaged .eval archive ({e})",
            source=path,
            where=name,
            hint="the log may be truncated; re-run or re-copy it",
        ) from None


def _zipfile_has_zstd() -> bool:
    return getattr(zipfile, "ZIP_ZSTANDARD", None) == ZIP_ZSTD


class _TypedSamples(list):
    """A log's samples decoded by msgspec (``_typed.InspectSample``); ``names`` are the
    archive members they came from (None for a .json log)."""

    names: list[str] | None = None


def _read_log_typed(path: str) -> tuple[dict, _TypedSamples]:
    """:func:`_read_log` through msgspec, decoding only the fields the loader reads;
    any problem raises one of ``fast_errors()`` and the caller reads the slow way."""
    from . import _typed

    if path.lower().endswith(".eval"):
        with zipfile.ZipFile(path) as z:
            names = z.namelist()
            head = "header.json" if "header.json" in names else "_journal/start.json"
            header = parse_json_bytes(_zip_read(z, head, path), source=path, where=head,
                                      what="Inspect log header")
            if type(header) is not dict:
                raise ValueError(path)
            members = sorted((n for n in names if _SAMPLE_RE.match(n)), key=_sample_order)
            dec = _typed.INSPECT_SAMPLE.decode
            samples = _TypedSamples(dec(_zip_read(z, n, path)) for n in members)
            samples.names = members
        return header, samples
    with open(path, "rb") as f:
        data = f.read()
    log = _typed.INSPECT_LOG.decode(data[3:] if data.startswith(_BOM) else data)
    return (_typed.present(log, ("eval", "status", "error")),
            _TypedSamples(log.samples or ()))


def _read_log(path: str, typed: bool = True) -> tuple[dict, list]:
    """The log header and its samples, each with a location string for messages (or,
    through msgspec when installed, a :class:`_TypedSamples`)."""
    if typed and msgspec_ok():
        try:
            return _read_log_typed(path)
        except (zipfile.BadZipFile, OSError, *fast_errors()):
            pass
    if path.lower().endswith(".eval"):
        try:
            z = zipfile.ZipFile(path)
        except zipfile.BadZipFile:
            raise InputError(
                "is not a valid .eval archive (bad zip file)",
                source=path,
                hint="the log may be truncated; re-run or re-copy it",
            ) from None
        with z:
            names = z.namelist()
            if "header.json" in names:
                header = parse_json_bytes(
                    _zip_read(z, "header.json", path),
                    source=path,
                    where="header.json",
                    what="Inspect log header",
                )
            elif "_journal/start.json" in names:  # a run that never finished
                header = parse_json_bytes(
                    _zip_read(z, "_journal/start.json", path),
                    source=path,
                    where="_journal/start.json",
                    what="Inspect log header",
                )
            else:
                raise InputError(
                    "has no header.json", source=path, hint="is this an Inspect AI .eval log?"
                )
            samples = []
            for name in sorted((n for n in names if _SAMPLE_RE.match(n)), key=_sample_order):
                if _SAMPLE_RE.match(name):
                    s = parse_json_bytes(
                        _zip_read(z, name, path), source=path, where=name, what="Inspect sample"
                    )
                    samples.append((s, name))
        return header, samples
    log = read_json(path, what="Inspect log")
    if not isinstance(log, dict):
        raise InputError(
            "is not an Inspect log (top level is not an object)",
            source=path,
            hint="write logs with inspect eval --log-format json",
        )
    samples = log.get("samples") or []
    if not isinstance(samples, list):
        raise InputError(
            "'samples' is not a list",
            source=path,
            where="samples",
            hint="is this an Inspect AI log?",
        )
    return log, [(s, None) for s in samples]  # where: samples[i], named on error


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
      ``samples``. ``notes`` say what was dropped.
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
    for file in files:
        header, samples = _read_log(file)
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
            notes.append(choice(f"kept the newest log per model (--latest); ignored "
                                f"{len(older)} older: "
                                + ", ".join(os.path.basename(f) for f in older[:3])
                                + (" ..." if len(older) > 3 else "")))
    rules = _ScoreRules(partial, noanswer, threshold, score_key)
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
        res = None
        if isinstance(samples, _TypedSamples):
            res = _read_typed_samples(samples, file, model, scorer, rules, cols, used_scorers)
            if res is None:  # something the typed walk does not handle: the slow path
                samples = _read_log(file, typed=False)[1]
        if res is None:
            res = _read_samples(samples, file, model, scorer, rules, cols, used_scorers)
        n_err, other_scorers = res
        if n_err:
            notes.append(
                f"{model}: {n_err} samples have no score (errored or unscored); "
                "they are missing cells"
            )
        if other_scorers:
            notes.append(f"{model}: ignored scorers {', '.join(sorted(other_scorers))}")
    try:
        m = build_matrix(cols.query_id, cols.model, cols.correct, sample=cols.sample,
                         meta=cols.meta, source=path, missing=missing, where_prefix="sample")
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
    """Append one log's samples to ``cols``; (samples without a score, other scorers)."""
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
