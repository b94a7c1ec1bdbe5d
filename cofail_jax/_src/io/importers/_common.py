"""Helpers shared by the harness importers: JSON reading with located errors, score
rules, and text extraction from chat-style content."""

from __future__ import annotations

import functools
import json
import math
import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, TypeVar, cast

import numpy as np

from ...errors import InputError
from ...matrix import OutcomeMatrix
from ..tables import CELL_COLUMNS, matrix_from_columns
from ..tables.columns import Factorized, LazyColumn, factorize_ids
from ..typed import Fallback as Fallback  # the typed fast paths' switch and errors,
from ..typed import fast_errors as fast_errors  # one layer down so that the loaders
from ..typed import gc_paused as gc_paused  # of io/formats/ reach them too
from ..typed import msgspec_ok as msgspec_ok
from ..typed import all_none as all_none

try:  # the optional fast parser (the io extra); the standard library otherwise
    import orjson as _orjson
except ImportError:  # pragma: no cover - exercised where orjson is not installed
    _orjson = None

_BOM = b"\xef\xbb\xbf"


def loads(data: bytes | str) -> Any:
    """``json.loads``, through orjson when it is installed (same values: dicts, lists,
    str, int, float, bool, None). Errors are left to the caller, which re-parses with
    the standard library to name the line and column."""
    if _orjson is not None:
        return _orjson.loads(data)
    return json.loads(data)


_F = TypeVar("_F", bound=Callable[..., Any])


def gc_paused_loader(fn: _F) -> _F:
    """The loader ``fn`` run with the cyclic GC paused (see :func:`gc_paused`)."""

    @functools.wraps(fn)
    def inner(*args: Any, **kwargs: Any) -> Any:
        with gc_paused():
            return fn(*args, **kwargs)

    return cast(_F, inner)


# What a score of "partial" (P) or "no answer" (N) counts as; "missing" leaves the cell
# empty so the --missing policy decides.
SCORE_RULES = ("wrong", "correct", "missing")


def read_json(path: str, *, what: str = "JSON file") -> Any:
    """Parse a JSON file; a syntax error names the file, line and column."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as e:
        raise InputError(
            f"cannot be read ({e.strerror})", source=path, hint="check the path and permissions"
        ) from None
    try:
        return loads(data[3:] if data.startswith(_BOM) else data)
    except ValueError:  # orjson's error: the standard parser names line and column
        pass
    return _read_json_std(path, what=what)


def _read_json_std(path: str, *, what: str) -> Any:
    try:
        with open(path, encoding="utf-8-sig") as f:
            return json.load(f)
    except json.JSONDecodeError as e:
        raise InputError(
            f"is not a valid {what} ({e.msg})",
            source=path,
            where=f"line {e.lineno}, column {e.colno}",
            hint="the file may be truncated; re-export it from the harness",
        ) from None
    except UnicodeDecodeError:
        raise InputError(
            f"is not a UTF-8 {what}", source=path, hint="re-export it as UTF-8"
        ) from None
    except OSError as e:
        raise InputError(
            f"cannot be read ({e.strerror})", source=path, hint="check the path and permissions"
        ) from None


def parse_json_bytes(data: bytes, *, source: str, where: str, what: str) -> Any:
    try:
        return loads(data)
    except ValueError:
        pass
    try:
        return json.loads(data.decode("utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        msg = getattr(e, "msg", str(e))
        raise InputError(
            f"is not a valid {what} ({msg})",
            source=source,
            where=where,
            hint="the file may be truncated; re-export it from the harness",
        ) from None


def check_rule(name: str, value: str) -> str:
    if value not in SCORE_RULES:
        raise InputError(
            f"unknown rule {value!r}",
            where=f"--{name}",
            hint=f"use one of {', '.join(SCORE_RULES)}",
        )
    return value


def score_to_cell(
    value: Any, *, partial: str = "wrong", noanswer: str = "wrong", threshold: float = 1.0
) -> int | None:
    """Map one score value to 1 (correct), 0 (wrong) or None (missing).

    Letters follow Inspect AI's constants: ``C`` correct, ``I`` incorrect, ``P`` partial,
    ``N`` no answer; ``P`` and ``N`` go by the ``partial`` and ``noanswer`` rules.
    Booleans map directly; ``yes``/``no``, ``correct``/``incorrect`` likewise.
    A number counts as correct when it is at least ``threshold`` (default 1.0: only
    full credit is correct). Anything else raises ``ValueError``.
    """
    if value is None:
        return None
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, (int, float)):
        if isinstance(value, float) and math.isnan(value):
            return None
        return int(value >= threshold)
    if isinstance(value, str):
        v = value.strip()
        up = v.upper()
        if up in ("C", "CORRECT", "YES", "TRUE"):
            return 1
        if up in ("I", "INCORRECT", "NO", "FALSE"):
            return 0
        if up in ("P", "PARTIAL"):
            return _rule(partial)
        if up in ("N", "NOANSWER", "NO_ANSWER"):
            return _rule(noanswer)
        try:
            return score_to_cell(float(v), threshold=threshold)
        except ValueError:
            pass
    raise ValueError(value)


def _rule(rule: str) -> int | None:
    return {"wrong": 0, "correct": 1, "missing": None}[rule]


def content_text(content: Any) -> str:
    """Plain text of a chat message's content (a string or a list of content parts)."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = []
        for c in content:
            if isinstance(c, str):
                parts.append(c)
            elif isinstance(c, dict) and c.get("type", "text") == "text":
                parts.append(str(c.get("text", "")))
        return "\n".join(p for p in parts if p)
    if isinstance(content, dict):
        return str(content.get("text", content.get("content", "")))
    return str(content)


def as_text(value: Any) -> str:
    """A reference or choice list as one string: a single item as itself, more as JSON."""
    if value is None:
        return ""
    if isinstance(value, (list, tuple)):
        if len(value) == 1:
            return as_text(value[0])
        return json.dumps(list(value), ensure_ascii=False)
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def files_with_suffix(path: str, suffixes: tuple[str, ...]) -> list[str]:
    """``path`` itself if a file, else every file under it (recursively) with a suffix."""
    if os.path.isfile(path):
        return [path]
    out = []
    for root, dirs, files in os.walk(path):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(files):
            if name.lower().endswith(suffixes) and not name.startswith("."):
                out.append(os.path.join(root, name))
    return out


def dedupe_notes(notes: Iterable[str]) -> tuple[str, ...]:
    seen: dict[str, None] = {}
    for n in notes:
        seen.setdefault(n, None)
    return tuple(seen)


def choose_task(
    names: Iterable[str], task: str | None, *, source: str, several: str, absent: str
) -> str:
    """The task to read from a folder that may hold several: ``task`` when given, else
    the only one. Several and no ``task`` raise ``"{several}: a, b"``; a ``task`` not
    among ``names`` raises ``"{absent} 'task'"``; both hint at the choices."""
    names = sorted(names)
    if task is None:
        if len(names) > 1:
            raise InputError(
                f"{several}: {', '.join(names)}",
                source=source,
                hint="choose one with --task (or task= in load_matrix)",
            )
        task = names[0]
    if task not in names:
        raise InputError(
            f"{absent} {task!r}", source=source, hint=f"choose one of {', '.join(names)}"
        )
    return task


def reject_options(loader: str, options: dict) -> None:
    """An option the loader does not know is an error, never silently ignored."""
    if options:
        names = ", ".join(f"{k}=" for k in sorted(options))
        raise InputError(
            f"{loader} does not take {names}",
            where=names,
            hint="see the loader's docstring for its options, or pass --format "
            "if the input was detected as the wrong format",
        )


def read_jsonl(path: str, *, hint: str, json_hint: str | None = None,
               bom: bool = False) -> list[tuple[int, dict]]:
    """(line number, object) for each non-blank line of a JSONL file, parsed from bytes
    in one pass (orjson when installed). Any problem (a bad line, a value that is not an
    object, invalid UTF-8, a lone carriage return) re-reads the file through
    :func:`~cofail_jax._src.io.formats.iter_jsonl`, whose message names the line."""
    with open(path, "rb") as f:
        data = f.read()
    if bom and data.startswith(_BOM):
        data = data[3:]
    out: list[tuple[int, dict]] = []
    if data.count(b"\r") == data.count(b"\r\n"):
        try:
            for ln, line in enumerate(data.split(b"\n"), start=1):
                if line.strip():
                    rec = loads(line)
                    if type(rec) is not dict:
                        break
                    out.append((ln, rec))
            else:
                return out
        except ValueError:
            pass
    from ..formats import iter_jsonl

    with open(path, encoding="utf-8-sig" if bom else "utf-8") as f:
        return list(iter_jsonl(f, path, hint=hint, json_hint=json_hint))


def build_matrix(query_id: Any, model: Any, correct: Sequence[int] | np.ndarray, *,
                 source: str, missing: str, where_prefix: str,
                 sample: Sequence[int] | None = None,
                 meta: Mapping[str, list] | None = None,
                 deferred: Callable[[], Mapping[str, Sequence[Any]]] | None = None,
                 what: str = "long") -> OutcomeMatrix:
    """The matrix from an importer's columns (one entry per record), as
    :func:`~cofail_jax._src.io.tables.matrix_from_records` would build it from the same
    records without the per-record dicts: ids are stripped strings, an empty one is an
    error naming the record; ``correct`` holds 1, 0 or -1 (missing); ``meta`` maps
    ``CELL_COLUMNS``/``QUERY_COLUMNS`` names to columns with None where absent (columns
    all None are left out); ``deferred`` returns more such columns when the matrix's
    metadata is first read (see :mod:`~cofail_jax._src.io.tables.lazy`; ``what`` names
    the format in a message about a damaged file then)."""
    qs = factorize_ids(query_id)  # stripped text, each distinct id once
    ms = factorize_ids(model)
    iq, im = (int(np.argmax(f.codes == f.names.index(""))) if "" in f.names else len(f.codes)
              for f in (qs, ms))
    if min(iq, im) < len(qs.codes):
        raise InputError(f"has no {'query_id' if iq <= im else 'model'!r}", source=source,
                         where=f"{where_prefix} {min(iq, im) + 1}",
                         hint="each record needs query_id, model and correct")
    codes = np.asarray(correct, np.int8)
    s = None
    if sample is not None:
        s = np.asarray(sample, np.int64)
        if not s.any():
            s = None
    cell: dict[str, Sequence[Any]] = {}
    query: dict[str, Sequence[Any]] = {}
    for col, values in (meta or {}).items():
        if (not all_none(values) if type(values) is list
                else isinstance(values, LazyColumn) or any(v is not None for v in values)):
            (cell if col in CELL_COLUMNS else query)[col] = values
    return matrix_from_columns(qs, ms, codes, source=source, missing=missing, sample=s,
                               cell=cell, query=query, where_prefix=where_prefix,
                               deferred=deferred, what=what)



def gather_columns(segments: Sequence[tuple[int, Callable[[], Mapping[str, list]] | None]],
                   names: Sequence[str], eager: Mapping[str, list]) -> dict[str, list]:
    """Columns ``names`` over every record, in record order, from ``segments`` (one per
    file or log: its record count, and a function decoding its columns now, or None when
    its values went to ``eager`` at load)."""
    out: dict[str, list] = {c: [] for c in names}
    pos = 0
    for n, later in segments:
        if later is None:
            for c in names:
                out[c] += eager[c][pos:pos + n]
            pos += n
        else:
            part = later()
            for c in names:
                out[c] += part[c]
    return out


def factorize_repeated(parts: Sequence[list]) -> Factorized | None:
    """An id column made of ``parts`` (one list per file), factorized at once when every
    part is the same list of distinct strings (or integers, made text by the builder)
    (each model answered the same queries in the same order, the usual layout):
    ``factorize_ids``' result without a look at each record. None otherwise."""
    if not parts:
        return None
    first = parts[0]
    if (not first or set(map(type, first)) not in ({str}, {int})
            or any(p != first for p in parts[1:]) or len(set(first)) != len(first)):
        return None
    codes = np.tile(np.arange(len(first), dtype=np.int64), len(parts))
    return Factorized(codes, list(first))
