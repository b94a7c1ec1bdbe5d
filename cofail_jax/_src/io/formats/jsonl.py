"""JSONL: the line reader every JSONL importer shares, and the long JSONL format."""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Iterator
from typing import Any


from ...errors import InputError
from ...matrix import OutcomeMatrix
from ..tables import (
    matrix_from_records,
)
from .text import LONG_KEYS, _open_text


def _detect_jsonl(path: str) -> bool:
    if not os.path.isfile(path) or not path.lower().endswith((".jsonl", ".ndjson")):
        return False
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.strip():
                rec = json.loads(line)
                return isinstance(rec, dict) and LONG_KEYS <= set(rec)
    return False


JSONL_HINT = "each line must be one JSON object"


def iter_jsonl(lines: Iterable[str], source: str, *, hint: str = JSONL_HINT,
               json_hint: str | None = None, invalid: str = "is not valid JSON",
               objects_only: bool = True) -> Iterator[tuple[int, Any]]:
    """(line number, value) for each non-blank line of an open JSONL file (or any
    iterable of lines), lazily, so callers may check each record as it comes.

    A line that is not JSON raises :class:`InputError` ``"{invalid} ({reason})"`` naming
    ``source`` and the line, with ``json_hint`` (default ``hint``) as the remedy; with
    ``objects_only``, a value that is not a JSON object raises ``"is not a JSON object"``
    with ``hint``.
    """
    for ln, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            rec = json.loads(line)
        except json.JSONDecodeError as e:
            raise InputError(f"{invalid} ({e.msg})", source=source, where=f"line {ln}",
                             hint=hint if json_hint is None else json_hint) from None
        if objects_only and not isinstance(rec, dict):
            raise InputError("is not a JSON object", source=source, where=f"line {ln}", hint=hint)
        yield ln, rec


def read_jsonl(path: str) -> list[dict]:
    """Records of a JSONL file; a bad line raises InputError naming the line."""
    return [rec for _, rec in _jsonl_numbered(path)]


def load_long_jsonl(path: str, *, missing: str = "error", **_) -> OutcomeMatrix:
    """Long JSONL: one object per line with the long-CSV keys."""
    return matrix_from_records(read_jsonl(path), source=path, missing=missing, where_prefix="line")


def _jsonl_numbered(path: str) -> list[tuple[int, dict]]:
    """(line number, record) for each non-blank line; errors name the line."""
    with _open_text(path) as f:
        try:
            return list(iter_jsonl(f, path))
        except UnicodeDecodeError:
            raise InputError("is not UTF-8 text", source=path, hint="save it as UTF-8") from None
        except RecursionError:
            raise InputError("nests JSON too deeply", source=path,
                             hint="each line must be one flat JSON object") from None
