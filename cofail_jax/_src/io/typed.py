"""The switch and shared pieces of the typed (msgspec) fast paths of the loaders.

A fast path decodes only the fields a loader reads (msgspec Structs, unknown fields
skipped without building objects) and builds the matrix's columns in bulk. It handles
the regular case only: anything else (a decode or validation error, a value of another
shape, any problem the loader would report) raises one of :func:`fast_errors`, and the
loader re-reads the input through its dict-walking path, which accepts it or names the
problem, so every message is the slow path's. msgspec is a core dependency; without it
every loader takes its dict-walking path.
"""

from __future__ import annotations

import contextlib
import functools
import gc
import itertools
import operator
import os
import re
from collections.abc import Iterator
from typing import Any, NamedTuple

import numpy as np

from ..errors import InputError

try:  # the typed decoder (a core dependency): decodes only the fields a loader reads
    import msgspec as _msgspec
except ImportError:  # pragma: no cover - exercised where msgspec is not installed
    _msgspec = None

# Set False (tests) to force the dict-walking path everywhere msgspec would be used.
USE_MSGSPEC = True


class Fallback(Exception):
    """A typed fast path met something it does not handle: the caller re-reads the
    input through the dict-walking path, which handles it or names the problem."""


def msgspec_ok() -> bool:
    """Whether the typed (msgspec) fast paths are available and enabled."""
    return _msgspec is not None and USE_MSGSPEC


def fast_errors() -> tuple[type[BaseException], ...]:
    """Exceptions that send a typed fast path back to the dict-walking path: any decode
    or validation problem, and any surprise in the walk (never shown to the user; the
    slow path produces the located message)."""
    errs: tuple[type[BaseException], ...] = (Fallback, InputError, ValueError, TypeError,
                                             KeyError, AttributeError, IndexError,
                                             UnicodeDecodeError, RecursionError)
    if _msgspec is not None:
        errs += (_msgspec.DecodeError, _msgspec.ValidationError)
    return errs


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while a loader builds millions of small
    objects (parsed JSON has no reference cycles, refcounting frees it); about half the
    cost of a parse is otherwise spent in collections that find nothing."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


@functools.lru_cache(maxsize=32)
def lmeval_decoder(metrics: tuple[str, ...]) -> Any:
    """A msgspec JSON decoder of one lm-evaluation-harness sample line (``decode_lines``
    for a whole file) into a Struct with the fields ``load_lmeval`` reads: ``doc_id``,
    ``filter``, ``target``, ``filtered_resps``, ``arguments``, ``resps``, and the metrics
    ``metrics`` as fields ``m0``, ``m1``, ... (any metric name, renamed). An absent
    ``doc_id``, ``target`` or metric is ``msgspec.UNSET``, any other absent field None
    (as ``dict.get`` gives). Raises ``ValueError``/``TypeError`` for metric names msgspec
    cannot map (then the loader takes its dict path)."""
    assert _msgspec is not None
    unset = _msgspec.UNSET
    fixed = {"doc_id": unset, "target": unset, "filter": None, "filtered_resps": None,
             "arguments": None, "resps": None}
    if len(set(metrics)) != len(metrics) or set(metrics) & set(fixed):
        raise ValueError("metric names overlap the sample's fields")
    fields: list[tuple[str, Any, Any]] = [(name, Any, d) for name, d in fixed.items()]
    fields += [(f"m{i}", Any, unset) for i in range(len(metrics))]
    struct = _msgspec.defstruct("LmevalSample", fields, gc=False,
                                rename={f"m{i}": m for i, m in enumerate(metrics)})
    return _msgspec.json.Decoder(struct)


def decode_lines(file: str, dec: Any) -> list[Any]:
    """The lines of a JSONL file decoded by ``dec``, when the file is plain: UTF-8
    (a BOM is skipped), one object on each line, no blank lines inside, no lone carriage
    return. Anything else raises Fallback (or msgspec's error)."""
    return decode_body(plain_lines(file), dec)


class FileSnapshot(NamedTuple):
    """A file as it was read (size and modification time), to read it again later (an
    importer's metadata, decoded when first asked for) only if it has not changed."""

    path: str
    size: int
    mtime_ns: int

    @classmethod
    def of(cls, path: str) -> FileSnapshot:
        st = os.stat(path)
        return cls(path, st.st_size, st.st_mtime_ns)

    def read(self) -> bytes:
        """The file's bytes, when still the ones loaded; else InputError."""
        try:
            st = os.stat(self.path)
            if (st.st_size, st.st_mtime_ns) == (self.size, self.mtime_ns):
                with open(self.path, "rb") as f:
                    data = f.read()
                if len(data) == self.size:
                    return data
        except OSError:
            pass
        raise InputError("has changed (or gone) since it was loaded, so its metadata "
                         "(answers, prompts, token counts) cannot be read", source=self.path,
                         hint="load it again")


def plain_lines(file: str, data: bytes | None = None) -> bytes:
    """A JSONL file's bytes (without a BOM; ``data``: the bytes, when already read),
    when it has no lone carriage return (else Fallback); :func:`decode_body` checks the
    lines. Nothing is copied but a BOM's removal."""
    if data is None:
        with open(file, "rb") as f:
            data = f.read()
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    if b"\r" in data and data.count(b"\r") != data.count(b"\r\n"):
        raise Fallback("a lone carriage return")
    return data


def decode_body(body: bytes, dec: Any) -> list[Any]:
    """The lines of :func:`plain_lines`'s ``body`` decoded by ``dec``, when each holds
    one object: no blank line inside (else Fallback)."""
    start, end = _span(body)
    if start == end:
        return []
    arr = np.frombuffer(body, np.uint8)[start:end]
    nl = np.flatnonzero(arr == 10)  # every newline has a byte after it (end is not space)
    if len(nl):
        after = arr[nl + 1]
        if ((after == 10) | (after == 13)).any():  # "\n\n" or "\n\r\n" (no lone CR)
            raise Fallback("a blank line")
        if (((after == 32) | (after == 9)).any()
                and _BLANK_LINE.search(body, start, end) is not None):
            raise Fallback("a blank line")
    recs = dec.decode_lines(body)
    if len(recs) != len(nl) + 1:
        raise Fallback("not one object per line")
    return recs


_JSON_SPACE = frozenset(b" \t\r\n")


def _span(data: bytes) -> tuple[int, int]:
    """(start, end) of ``data`` without JSON whitespace around it."""
    end = len(data)
    while end and data[end - 1] in _JSON_SPACE:
        end -= 1
    start = 0
    while start < end and data[start] in _JSON_SPACE:
        start += 1
    return start, end


_BLANK_LINE = re.compile(rb"\n[ \t\r]*\n")


def all_none(values: Any) -> bool:
    """Whether every value is None, at C speed both ways: ``list.count(None)`` is
    fast on Nones (identity) but compares every other value with ``==`` (slow), so a
    list whose first value is not None answers at once."""
    if type(values) is list:
        return not values or (values[0] is None and values.count(None) == len(values))
    return not any(map(operator.is_not, values, itertools.repeat(None)))
