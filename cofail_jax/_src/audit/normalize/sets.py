"""Lists, sets and tuples: top-level splitting and the containers around them."""

from __future__ import annotations

import re

from .answer import _VAR_EQ_RE


def _split_top(s: str) -> list[str]:
    """Split on top-level commas/semicolons and the words 'and'/'or'."""
    s = re.sub(r"\s*\b(?:and|or)\b\s*", ";", s)
    parts, depth, cur = [], 0, []
    for ch in s:
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        if ch in ",;" and depth == 0:
            parts.append("".join(cur).strip())
            cur = []
        else:
            cur.append(ch)
    parts.append("".join(cur).strip())
    return parts


def _container(s: str) -> tuple[str, str, str] | None:
    """(open, close, inside) when s is one bracketed group, else None."""
    if len(s) < 2 or s[0] not in "([{" or s[-1] not in ")]}":
        return None
    depth = 0
    for i, ch in enumerate(s):
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
            if depth == 0 and i != len(s) - 1:
                return None
    return s[0], s[-1], s[1:-1]


def _as_list(s: str) -> tuple[str, list[str]] | None:
    """('set'|'seq:<brackets>', elements) for a list answer, None for a single answer."""
    c = _container(s)
    if c is not None:
        o, cl, inside = c
        parts = _split_top(inside)
        if o == "{" and cl == "}":
            return ("set", parts) if len(parts) > 1 else None
        if len(parts) > 1:
            return (f"seq:{o}{cl}", parts)
        return None
    parts = _split_top(s)
    if len(parts) > 1 and all(parts):
        var = {p.split("=")[0] for p in parts if _VAR_EQ_RE.match(p)}
        if len(var) == 1 and all(_VAR_EQ_RE.match(p) for p in parts):
            parts = [_VAR_EQ_RE.sub("", p) for p in parts]
        return ("set", parts)
    return None
