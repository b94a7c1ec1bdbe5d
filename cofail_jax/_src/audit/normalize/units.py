"""Units: the trailing unit words :func:`~.answer.normalize_answer` drops, and the unit
signature that keeps ``5 cm`` from matching ``5 m``."""

from __future__ import annotations

import re

from .latex import _braced, _unwrap_last_command


_UNITS = (
    "square units|sq units|units|unit|cm\\^2|cm\\^3|m\\^2|m\\^3|cm|mm|km|"
    "meters|meter|metres|metre|m|"
    "inches|inch|in|feet|foot|ft|yards|yard|miles|mile|mph|kg|grams|gram|g|mg|pounds|pound|lbs|lb|"
    "seconds|second|sec|s|minutes|minute|min|hours|hour|hrs|hr|days|day|weeks|week|years|year|"
    "dollars|dollar|cents|cent|degrees|degree|deg|liters|liter|l|ml|percent|people|students|ways|"
    "points|times|apples|cookies|marbles")
_UNIT_RE = re.compile(r"^(.*?[0-9.)])\s*(?:(?:square|sq\.?|cubic)\s+)?(?:" + _UNITS
                      + r")(?:\^\{?[23]\}?)?\.?$")
_UNIT_WORD_RE = re.compile(r"(?<![a-z])(?:(?:square|sq\.?|cubic)\s+)?(" + _UNITS
                           + r")(?:\^\{?[23]\}?)?\s*\.?\s*$")


_UNIT_CANON = {"inches": "in", "inch": "in", "feet": "ft", "foot": "ft", "dollars": "$",
               "dollar": "$", "usd": "$", "meters": "m", "meter": "m", "metres": "m", "metre": "m",
               "percent": "%", "degrees": "deg", "degree": "deg", "°": "deg", "circ": "deg"}
_TEXT_CMD_RE = re.compile(r"\\(?:text|mbox|mathrm|textrm|textnormal|operatorname)\s*(?=\{)")


def unit_signature(text) -> tuple[str, ...]:
    """The units an answer carries, canonical and sorted: words inside ``\\text{}`` or
    ``\\mbox{}``, one trailing unit word (``5 cm``), a currency sign, ``%`` and degrees.

    ``()`` for a bare number. Examples: ``864 \\mbox{ inches}^2`` gives ``('in^2',)``,
    ``\\$32,\\!348`` gives ``('$',)``.
    """
    if text is None:
        return ()
    s = str(text)
    boxed = _unwrap_last_command(s, ("boxed", "fbox"))
    if boxed is not None:
        s = boxed
    out: list[str] = []

    def add(word: str, power: str = "") -> None:
        w = word.lower().strip(". ")
        if not w:
            return
        w = _UNIT_CANON.get(w, w)
        if len(w) > 3 and w.endswith("s") and not w.endswith("ss"):
            w = w[:-1]
        out.append(w + (f"^{power}" if power else ""))

    rest = []
    i = 0
    for m in _TEXT_CMD_RE.finditer(s):
        got = _braced(s, m.end())
        if got is None or m.start() < i:
            continue
        rest.append(s[i:m.start()])
        power = re.match(r"\s*\^\s*\{?\s*([23])", s[got[1]:])
        words = re.findall(r"[A-Za-z]+", got[0])
        pw = power.group(1) if power else ""
        if len(words) >= 2 and words[0].lower() in ("square", "sq", "cubic"):
            pw = "3" if words[0].lower() == "cubic" else "2"
            words = words[1:]
        for w in words:
            add(w, pw if w is words[-1] else "")
        i = got[1] + (power.end() if power else 0)
    rest.append(s[i:])
    s2 = " ".join(rest)
    if re.search(r"\\\$|^\s*\$\s*\d[^$]*$|\bUSD\b", s2):
        out.append("$")
    if "%" in s2:
        out.append("%")
    if re.search(r"\^\s*\{?\s*\\circ|°|\\circ(?![a-zA-Z])", s2):
        out.append("deg")
    low = re.sub(r"\s+", " ", s2.replace("$", " ").lower()).strip()
    m = _UNIT_WORD_RE.search(low)
    if m and re.search(r"[0-9)}]\s*(?:(?:square|sq\.?|cubic)\s+)?$", low[:m.start(1)]):
        pw = re.search(r"\^\{?([23])", low[m.end(1):])
        sq = re.search(r"(square|sq\.?|cubic)\s+$", low[:m.start(1)])
        add(m.group(1), pw.group(1) if pw else ("3" if sq and sq.group(1) == "cubic"
                                                else "2" if sq else ""))
    return tuple(sorted(set(out)))
