"""Numbers as exact rationals: integers, decimals, fractions, scientific notation."""

from __future__ import annotations

import re
from fractions import Fraction


_NUM_RE = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:e[+-]?\d+)?")


def parse_number(s) -> Fraction | None:
    """The exact rational value of a number written as an integer, decimal or fraction.

    ``"-4/3"``, ``"(4)/(3)"``, ``"0.50"``, ``".5"``, ``"1e3"``; anything else gives None.
    """
    if s is None:
        return None
    s = str(s).strip()
    while s.startswith("(") and s.endswith(")") and s.count("(") == 1:
        s = s[1:-1]
    if not s:
        return None
    if "/" in s:
        parts = s.split("/")
        if len(parts) != 2:
            return None
        a, b = (p.strip() for p in parts)
        for _ in range(2):
            if a.startswith("(") and a.endswith(")"):
                a = a[1:-1]
            if b.startswith("(") and b.endswith(")"):
                b = b[1:-1]
        if not (_NUM_RE.fullmatch(a) and _NUM_RE.fullmatch(b)):
            return None
        fb = Fraction(b)
        if fb == 0:
            return None
        return Fraction(a) / fb
    if _NUM_RE.fullmatch(s):
        if "e" in s:
            mant, _, exp = s.partition("e")
            if abs(int(exp)) > 30:
                return None
            return Fraction(mant) * Fraction(10) ** int(exp)
        return Fraction(s)
    return None
