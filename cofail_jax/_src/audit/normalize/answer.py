""":func:`normalize_answer`: one canonical string per answer (boxes, dollars, case, spaces,
thousands separators, units, a leading ``x =``, fractions, choice letters)."""

from __future__ import annotations

import re

from .latex import _replace_all, _unwrap_last_command
from .units import _UNIT_RE
from .number import parse_number


_PREFIX_RE = re.compile(
    r"^(?:the\s+)?(?:final\s+)?(?:answer|result|solution)\s*(?:is|:|=)\s*:?\s*", re.I)
_VAR_EQ_RE = re.compile(r"^[a-z](?:_\{?[0-9a-z]+\}?)?\s*=\s*(?!=)")
_FUNC_EQ_RE = re.compile(r"^[a-z]\s*\(\s*[a-z]\s*\)\s*=\s*(?!=)")  # k(x) = ...
_THOUSANDS_RE = re.compile(r"(?<![\d.,])(\d{1,3})((?:,\d{3})+)(?![\d,])")
_SPACE_THOUSANDS_RE = re.compile(r"(?<![\d.])\d{1,3}(?: \d{3})+(?![\d])")


def normalize_answer(text, *, strip_variable: bool = True, thousands: bool = True,
                     units: bool = True) -> str:
    """A canonical string for an answer: equal strings mean equal answers.

    Removes ``\\boxed{}``/``\\fbox{}`` (keeping the last box), math delimiters
    (``$``, ``\\(``, ``\\[``), ``\\left``/``\\right`` and spacing commands, ``\\text{}``
    wrappers, a leading "the answer is" and a leading single-variable assignment
    (``x =``), a trailing full stop, degree signs, ``\\%``/``%``, a ``\\$``/``$`` currency
    sign, one trailing unit word after a number (``5 cm``, ``12 dollars``), thousands
    separators (``1,000``, ``1{,}000``, ``1\\,000``); writes ``\\frac{a}{b}``,
    ``\\frac ab``, ``\\dfrac``, ``\\tfrac`` as ``a/b`` and ``\\sqrt2`` as ``sqrt(2)``;
    lowercases; collapses whitespace and removes it next to symbols; writes a single
    multiple-choice letter such as ``(B)`` or ``B.`` as ``b``.

    Args:
      text: the answer (anything with a ``str``); None gives ``""``.
      strip_variable: drop a leading single-variable assignment (``x =``) or function
        name (``k(x) =``); list elements are compared with it off, so ``x=1, y=2`` keeps
        its variables.
      thousands: read ``1,000`` as one thousand (off when the reference is a list, so
        a comma there separates elements; ``10,\\!080`` is always a thousands separator).
      units: drop a currency sign, ``%`` and one trailing unit word (off in strict mode).

    Returns:
      The normalized string.

    Examples:
      >>> normalize_answer(r"The answer is $\\boxed{\\frac43}$.")
      '4/3'
      >>> normalize_answer("x = 1,000 cm")
      '1000'
    """
    if text is None:
        return ""
    s = str(text).strip()
    if s.lower() in ("nan", "none", "null"):
        return ""
    boxed = _unwrap_last_command(s, ("boxed", "fbox"))
    if boxed is not None:
        s = boxed
    s = s.replace("\\$", "$")
    s = re.sub(r"\\[\(\)\[\]]", " ", s)
    s = s.replace("$", " ")
    s = s.replace("{,}", ",")
    s = re.sub(r"(?<=\d)\\,(?=\d{3})", "", s)
    s = re.sub(r"(?<=\d)(?:\{,\}|,)\s*\\[!,;: ]\s*(?=\d{3}(?!\d))", "", s)
    s = re.sub(r"\\(?:left|right|displaystyle|big|Big|bigg|Bigg)(?![a-zA-Z])", "", s)
    s = re.sub(r"\\[!,;:> ]|\\q?quad(?![a-zA-Z])", " ", s)
    s = re.sub(r"\^\s*\{?\s*\\circ\s*\}?|°|\\circ(?![a-zA-Z])", "", s)
    s = s.replace("\\%", "%")
    s = s.replace("\\cdot", "*").replace("\\times", "*")
    s = s.replace("\\infty", "oo").replace("∞", "oo")
    s = _replace_all(s)
    s = s.replace("\\pi", "pi").replace("π", "pi")
    s = s.replace("\\{", "{").replace("\\}", "}")
    s = re.sub(r"\s+", " ", s).strip()
    s = _PREFIX_RE.sub("", s)
    s = s.lower().strip()
    s = re.sub(r"\s*\.$", "", s)
    if strip_variable and s.count("=") == 1:
        if _VAR_EQ_RE.match(s):
            s = _VAR_EQ_RE.sub("", s)
        elif _FUNC_EQ_RE.match(s):
            s = _FUNC_EQ_RE.sub("", s)
    if units:
        s = s.rstrip("%").strip()
        if s.startswith("$"):
            s = s[1:]
    if thousands:
        s = _THOUSANDS_RE.sub(lambda m: m.group(1) + m.group(2).replace(",", ""), s)
    s = _SPACE_THOUSANDS_RE.sub(lambda m: m.group(0).replace(" ", ""), s)
    m = _UNIT_RE.match(s) if units else None
    if m and parse_number(m.group(1).strip()) is not None:
        s = m.group(1).strip()
    s = re.sub(r"\s*([^\w\s])\s*", r"\1", s)
    s = s.strip()
    m = re.fullmatch(r"\(?([a-j])[).]?", s)
    if m:
        s = m.group(1)
    return _strip_outer_braces(s)


def _strip_outer_braces(s: str) -> str:
    """Drop redundant braces around the whole answer (``{{5}}`` is ``5``) in one pass,
    keeping them around a list (``{1,2}`` is a set); linear in len(s)."""
    lead = len(s) - len(s.lstrip("{"))
    if lead == 0 or not s.endswith("}"):
        return s
    match: dict[int, int] = {}
    stack: list[int] = []
    for i, ch in enumerate(s):
        if ch == "{":
            stack.append(i)
        elif ch == "}" and stack:
            j = stack.pop()
            if j < lead:
                match[j] = i
    r = 0
    while r < lead and match.get(r) == len(s) - 1 - r:
        r += 1
    # keep the innermost pair when it holds a list
    if r > 0 and ("," in s[r:len(s) - r] or ";" in s[r:len(s) - r]):
        r -= 1
    return s[r:len(s) - r] if r else s
