""":func:`answers_equivalent`: the layers in order, and the rule that decided."""

from __future__ import annotations

import math
from typing import NamedTuple

from .units import unit_signature
from .number import parse_number
from .answer import normalize_answer
from .sets import _as_list
from .symbolic import _symbolic_equal, sympy_available


RULES = ("exact", "normalized", "numeric", "numeric-tolerance", "ordered-tuple",
         "unordered-list", "pm-expanded", "symbolic")


class Match(NamedTuple):
    """Whether two answers are equivalent, and the rule that decided it.

    Attributes:
      equal: True if the answers are equivalent.
      rule: the first rule that matched (one of ``RULES``), or ``"different"``; with
        ``"symbolic-unavailable"`` appended when sympy was wanted but is not installed.
    """

    equal: bool
    rule: str


def _scalar_equal(na: str, nb: str, rel_tol: float, symbolic: bool) -> str | None:
    if na == nb:
        return "normalized"
    fa, fb = parse_number(na), parse_number(nb)
    if fa is not None and fb is not None:
        if fa == fb:
            return "numeric"
        if rel_tol > 0 and math.isclose(float(fa), float(fb), rel_tol=rel_tol):
            return "numeric-tolerance"
        return None
    if symbolic and sympy_available() and _symbolic_equal(na, nb):
        return "symbolic"
    return None


def _normalized_equal(na: str, nb: str, rel_tol: float, symbolic: bool) -> str | None:
    rule = _scalar_equal(na, nb, rel_tol, symbolic)
    if rule is not None:
        return rule
    la, lb = _as_list(na), _as_list(nb)
    if la is None and lb is None:
        return None
    if la is None or lb is None:
        return None
    (kind_a, ea), (kind_b, eb) = la, lb
    if len(ea) != len(eb):
        return None
    if kind_a.startswith("seq") or kind_b.startswith("seq"):
        if kind_a != kind_b:
            return None
        for x, y in zip(ea, eb):
            if _scalar_equal(normalize_answer(x, strip_variable=False),
                             normalize_answer(y, strip_variable=False), rel_tol, symbolic) is None:
                return None
        return "ordered-tuple"
    left = [normalize_answer(x, strip_variable=False) for x in ea]
    right = [normalize_answer(y, strip_variable=False) for y in eb]
    for x in left:
        for j, y in enumerate(right):
            if _scalar_equal(x, y, rel_tol, symbolic) is not None:
                right.pop(j)
                break
        else:
            return None
    return "unordered-list"


def _is_reference_list(ref: str) -> bool:
    """The reference is a comma list (so commas in the answer separate elements): it has
    a top-level comma even after its own thousands separators are read."""
    nb = normalize_answer(ref)
    return "," in nb and _as_list(nb) is not None


def _expand_pm(s: str) -> str | None:
    """A normalized answer with one ``\\pm`` as the set of its two readings
    (``3\\pm 2sqrt(2)`` is ``{3+2sqrt(2),3-2sqrt(2)}``), else None."""
    if s.count("\\pm") != 1 or "," in s or ";" in s:
        return None
    plus, minus = (s.replace("\\pm", op).replace(" ", "") for op in ("+", "-"))
    return f"{{{plus},{minus}}}"


def answers_equivalent(a, b, *, symbolic: bool = True, rel_tol: float = 0.0,
                       strict_units: bool = False) -> Match:
    """Whether answer ``a`` is equivalent to answer (or reference) ``b``.

    Args:
      a, b: the two answers (strings; None or empty never match anything); ``b`` is
        the reference where it matters: a comma in ``a`` separates list elements when
        ``b`` is a list, and is a thousands separator otherwise.
      symbolic: try sympy simplification when the cheaper rules fail (skipped,
        and the rule says so, when sympy is not installed).
      rel_tol: relative tolerance for numbers; 0 (default) means exact rational
        equality, so a rounded decimal does not match a fraction.
      strict_units: units must agree (:func:`unit_signature`): ``5 cm`` is not ``5``.
        By default units are dropped, except that two different explicit units never
        match (``5 cm`` is not ``5 m``).

    Returns:
      A :class:`Match` with the first rule that matched.

    Examples:
      >>> answers_equivalent("x = 5", "5")
      Match(equal=True, rule='normalized')
      >>> answers_equivalent("0.5", r"\\frac{1}{2}")
      Match(equal=True, rule='numeric')
      >>> answers_equivalent("(1, 2)", "(2, 1)").equal
      False
    """
    if a is None or b is None:
        return Match(False, "different")
    sa, sb = str(a).strip(), str(b).strip()
    if not sa or not sb:
        return Match(False, "different")
    if sa == sb:
        return Match(True, "exact")
    ua, ub = unit_signature(sa), unit_signature(sb)
    if ua != ub and (strict_units or (ua and ub)):
        return Match(False, "different; units differ")
    thousands = not (_is_reference_list(sb) or _is_reference_list(sa))
    na = normalize_answer(sa, thousands=thousands, units=not strict_units or bool(ua))
    nb = normalize_answer(sb, thousands=thousands, units=not strict_units or bool(ub))
    if not na or not nb:
        return Match(False, "different")
    rule = _normalized_equal(na, nb, rel_tol, symbolic)
    if rule is not None:
        return Match(True, rule)
    pa, pb = _expand_pm(na), _expand_pm(nb)
    if (pa is not None) != (pb is not None):
        if _normalized_equal(pa or na, pb or nb, rel_tol, symbolic) is not None:
            return Match(True, "pm-expanded")
    if symbolic and not sympy_available():
        return Match(False, "different; symbolic-unavailable")
    return Match(False, "different")
