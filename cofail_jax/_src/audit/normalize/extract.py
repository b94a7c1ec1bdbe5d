"""Answers out of raw model text, and the forms a reference may take given its choices."""

from __future__ import annotations

import re

from .latex import _unwrap_last_command
from .answer import normalize_answer


_ANSWER_IS_RE = re.compile(r"(?:final answer|answer)\s*(?:is|:)\s*:?\s*(.+?)(?:\.\s|\.?$|\n)",
                           re.I)


def extract_answer(raw) -> str:
    """A final answer pulled from a raw response: the last ``\\boxed{}``, else the text
    after the last "answer is"/"answer:", else the last number; ``""`` if none."""
    if raw is None:
        return ""
    s = str(raw)
    if s.lower() in ("nan", "none"):
        return ""
    boxed = _unwrap_last_command(s, ("boxed", "fbox"))
    if boxed is not None:
        return boxed.strip()
    hits = _ANSWER_IS_RE.findall(s)
    if hits:
        return hits[-1].strip()
    nums = re.findall(r"-?\d[\d,]*(?:\.\d+)?(?:/\d+)?", s)
    return nums[-1] if nums else ""


_LETTER_PREFIX_RE = re.compile(r"^\s*(?:\(([a-jA-J])\)|([a-jA-J])[).:])\s*")


def parse_choices(text) -> list[str]:
    """The options of a multiple-choice question, in order, from a ``choices`` cell.

    Accepts a JSON list (``["Paris", "Lyon"]``), or options separated by newlines, ``|``
    or ``;``, each optionally prefixed ``A)``, ``(A)``, ``A.`` or ``A:``; ``[]`` if none.
    """
    if text is None:
        return []
    s = str(text).strip()
    if not s or s.lower() in ("nan", "none", "null"):
        return []
    if s.startswith("["):
        import json

        try:
            got = json.loads(s)
            if isinstance(got, list):
                return [str(x).strip() for x in got]
        except ValueError:
            pass
    for sep in ("\n", "|", ";"):
        if sep in s:
            parts = [p.strip() for p in s.split(sep) if p.strip()]
            break
    else:
        return []
    return [_LETTER_PREFIX_RE.sub("", p, count=1).strip() for p in parts]


def reference_forms(reference, choices=None) -> list[tuple[str, str]]:
    """The reference and, for a multiple-choice question, its other spelling.

    Returns ``(form, how)`` pairs: the reference itself (``how=""``), plus the option
    text when the reference is a letter, or the letter when the reference is an
    option's text (``how="via choices"``).
    """
    ref = "" if reference is None else str(reference).strip()
    if not ref:
        return []
    out = [(ref, "")]
    opts = parse_choices(choices)
    if not opts:
        return out
    letters = "abcdefghij"
    nref = normalize_answer(ref)
    if len(nref) == 1 and nref in letters and letters.index(nref) < len(opts):
        out.append((opts[letters.index(nref)], "via choices"))
    else:
        for i, o in enumerate(opts[: len(letters)]):
            if normalize_answer(o) == nref:
                out.append((letters[i].upper(), "via choices"))
                break
    return out
