"""LaTeX commands: braced arguments, the last ``\\boxed{}``-like command, ``\\frac`` and
``\\text{}`` rewritten to plain text."""

from __future__ import annotations

import re


def _braced(s: str, start: int) -> tuple[str, int] | None:
    """Content of the balanced ``{...}`` starting at s[start] == '{', and the end index."""
    if start >= len(s) or s[start] != "{":
        return None
    depth = 0
    for i in range(start, len(s)):
        if s[i] == "{":
            depth += 1
        elif s[i] == "}":
            depth -= 1
            if depth == 0:
                return s[start + 1:i], i + 1
    return None


def _unwrap_last_command(s: str, names: tuple[str, ...]) -> str | None:
    """Content of the last ``\\name{...}`` for any name, or None."""
    best = None
    for name in names:
        for m in re.finditer(re.escape("\\" + name) + r"\s*(?=\{)", s):
            got = _braced(s, m.end())
            if got is not None and (best is None or m.start() > best[0]):
                best = (m.start(), got[0])
    return None if best is None else best[1]


def _replace_command(s: str, name: str, fmt) -> str:
    """Replace each ``\\name{a}`` (or ``\\name{a}{b}`` when fmt takes two) by fmt(...)."""
    nargs = fmt.__code__.co_argcount
    out = []
    i = 0
    pat = re.compile(re.escape("\\" + name) + r"(?![a-zA-Z])\s*")
    while True:
        m = pat.search(s, i)
        if m is None:
            out.append(s[i:])
            break
        out.append(s[i:m.start()])
        j = m.end()
        args = []
        for _ in range(nargs):
            if j < len(s) and s[j] == "{":
                got = _braced(s, j)
                if got is None:
                    break
                args.append(got[0])
                j = got[1]
            elif j < len(s) and (s[j].isalnum()):
                args.append(s[j])  # \frac43, \sqrt2
                j += 1
            else:
                break
            while j < len(s) and s[j] == " " and len(args) < nargs:
                j += 1
        if len(args) != nargs:
            out.append(s[m.start():m.end()])
            i = m.end()
            continue
        out.append(fmt(*[_replace_all(a) for a in args]))
        i = j
    return "".join(out)


def _atom(x: str) -> str:
    """x unchanged if it is one number, one symbol or one parenthesised group, else
    parenthesised: ``\\frac1{2x}`` is ``1/(2x)``, never ``1/2x`` (which reads x/2)."""
    x = x.strip()
    return x if re.fullmatch(r"-?[0-9.]+|-?[a-z]|-?\([^()]*\)", x) else f"({x})"


def _replace_all(s: str) -> str:
    for name in ("dfrac", "tfrac", "frac"):
        s = _replace_command(s, name, lambda a, b: f"{_atom(a)}/{_atom(b)}")
    s = _replace_command(s, "sqrt", lambda a: f"sqrt({a.strip()})")
    for name in ("text", "textbf", "mathrm", "mathbf", "textrm", "operatorname", "mbox"):
        s = _replace_command(s, name, lambda a: a)
    return s
