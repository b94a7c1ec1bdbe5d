"""Answer normalization and equivalence: is a graded-wrong answer in fact the reference?

A grader that compares strings marks ``x = 5`` wrong against ``5``, ``\\frac{4}{3}``
wrong against ``4/3`` and ``{3, 1}`` wrong against ``1, 3``. This module is the
checker the audit and ``cofail regrade`` use instead. It works in layers, and
:func:`answers_equivalent` reports the first layer that matched, so every flip can be
traced to a rule:

1. ``exact``: the stripped strings are equal.
2. ``normalized``: equal after :func:`normalize_answer` (``\\boxed{}``, ``$``, case,
   whitespace, thousands separators, units, a leading ``x =``, ``\\frac`` forms,
   ``\\text{}``, multiple-choice letters such as ``(B)``).
3. ``numeric``: both are numbers (integers, decimals, fractions, percentages after
   the unit is dropped) with the same exact rational value, so ``0.5 == 1/2`` but
   ``0.33 != 1/3``; ``rel_tol > 0`` allows rounding (rule ``numeric-tolerance``).
4. ``unordered-list`` / ``ordered-tuple``: comma, semicolon, ``and``/``or`` lists and
   ``\\{ \\}`` sets are compared as multisets, elementwise with layers 1-3 and 5;
   parenthesised tuples and intervals are compared in order, brackets included.
5. ``symbolic``: both parse as safe arithmetic expressions and sympy simplifies their
   difference to zero (``2\\sqrt{2}`` vs ``\\sqrt{8}``, ``(x+1)^2`` vs ``x^2+2x+1``).
   sympy is optional: it is imported lazily and, if absent, this layer is skipped.

The table of pairs that must and must not match is ``docs/equivalence_table.md``; a
test reads it, so the documented behaviour is the tested behaviour.

Safety: model answers are untrusted text. sympy's parser evaluates Python, so only
strings made of digits, operators, parentheses, single-letter symbols and a short
list of function names reach it, with short exponents, and a length limit.

References:
  Hendrycks, D. et al. (2021). Measuring mathematical problem solving with the MATH
  dataset (the ``is_equiv`` string normalization that this extends).
  Lewkowycz, A. et al. (2022). Solving quantitative reasoning problems with language
  models (Minerva; normalization of final answers and sympy equivalence).
"""

from __future__ import annotations

import functools
import math
import re
from fractions import Fraction
from typing import NamedTuple

__all__ = ["Match", "normalize_answer", "parse_number", "answers_equivalent", "unit_signature",
           "extract_answer", "sympy_available", "RULES", "parse_choices", "reference_forms"]

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


# ---- helpers -----------------------------------------------------------------------
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


# ---- lists -------------------------------------------------------------------------
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


# ---- sympy (optional) -----------------------------------------------------------------
@functools.cache
def _import_sympy():
    try:
        import sympy
        from sympy.parsing import sympy_parser
    except ImportError:
        return None
    return sympy, sympy_parser


def sympy_available() -> bool:
    """Whether the optional symbolic layer can run (sympy importable)."""
    return _import_sympy() is not None


_FUNCS = ("sqrt", "pi", "log", "ln", "sin", "cos", "tan", "exp", "oo", "factorial")
_SAFE_RE = re.compile(r"[0-9a-z+\-*/^().\s]*")


def _to_sympy_text(s: str) -> str | None:
    """The normalized answer as safe sympy input, or None if it is not safe arithmetic."""
    if len(s) > 120 or not s:
        return None
    t = s.replace("{", "(").replace("}", ")")
    t = re.sub(r"\\(sin|cos|tan|log|ln|exp)(?![a-z])", r"\1", t)
    if "!" in t:  # 7!*2! -> factorial(7)*factorial(2), small arguments only
        t = re.sub(r"(?<![0-9])([0-9]{1,2})!(?!=)", r"factorial(\1)", t)
        if "!" in t or any(int(x) > 30 for x in re.findall(r"factorial\((\d+)\)", t)):
            return None
    if "\\" in t or not _SAFE_RE.fullmatch(t):
        return None
    if re.search(r"\.(?!\d)|[a-z)]\s*\.", t):  # a dot only inside a decimal number
        return None
    if t.count("(") != t.count(")"):
        return None
    for word in re.findall(r"[a-z]{2,}", t):
        if word not in _FUNCS:
            return None
    t = t.replace("^", "**")
    if t.count("**") > 3 or re.search(r"\*\*\s*\(?\s*[-+]?\d{3,}", t):
        return None
    return t.replace("ln", "log")


@functools.lru_cache(maxsize=4096)
def _sympy_expr(t: str):
    mods = _import_sympy()
    if mods is None:
        return None
    sympy, sp = mods
    trans = sp.standard_transformations + (sp.implicit_multiplication_application,)
    names = {c: sympy.Symbol(c) for c in "abcdefghijklmnopqrstuvwxyz"}
    names.update(factorial=sympy.factorial)
    names.update(sqrt=sympy.sqrt, pi=sympy.pi, log=sympy.log, sin=sympy.sin, cos=sympy.cos,
                 tan=sympy.tan, exp=sympy.exp, oo=sympy.oo)
    glob = {"__builtins__": {}, **{k: getattr(sympy, k)
                                    for k in ("Integer", "Float", "Rational", "Symbol", "Add",
                                              "Mul", "Pow")}}
    try:
        raw = sp.parse_expr(t, local_dict=names, global_dict=glob, transformations=trans,
                            evaluate=False)
        if not _small_powers(sympy, raw):
            return None
        return sp.parse_expr(t, local_dict=names, global_dict=glob, transformations=trans)
    except Exception:  # noqa: BLE001 - any parse failure means "not symbolic"
        return None


def _small_powers(sympy, expr) -> bool:
    """No power tower and no exponent above 100, so evaluation cannot explode."""
    for node in sympy.preorder_traversal(expr):
        if isinstance(node, sympy.Pow):
            exp = node.exp
            if any(isinstance(x, sympy.Pow) for x in sympy.preorder_traversal(exp)):
                return False
            if any(x.is_Number and abs(x) > 100 for x in sympy.preorder_traversal(exp)):
                return False
    return True


_NUMERIC_SCREEN = True


@functools.lru_cache(maxsize=16384)
def _symbolic_equal(a: str, b: str) -> bool:
    ta, tb = _to_sympy_text(a), _to_sympy_text(b)
    if ta is None or tb is None:
        return False
    ea, eb = _sympy_expr(ta), _sympy_expr(tb)
    if ea is None or eb is None:
        return False
    sympy = _import_sympy()[0]
    try:
        if not _NUMERIC_SCREEN:
            raise TypeError  # benchmarks/bench_audit.py times the layer without the screen
        # cheap deterministic screen: two expressions that differ at a fixed rational
        # point are different; only pairs that agree numerically go to simplify
        syms = sorted(ea.free_symbols | eb.free_symbols, key=str)
        for base in (sympy.Rational(3, 7), sympy.Rational(11, 13)):
            pt = {s: base + sympy.Rational(i, 5) for i, s in enumerate(syms)}
            da = complex((ea - eb).subs(pt).evalf(30))
            scale = 1.0 + abs(complex(ea.subs(pt).evalf(30)))
            if abs(da) > 1e-12 * scale:
                return False
    except (TypeError, ValueError, ZeroDivisionError, AttributeError, OverflowError):
        pass  # not a finite number at the point: let simplify decide
    try:
        diff = sympy.simplify(ea - eb)
        return bool(diff == 0)
    except Exception:  # noqa: BLE001
        return False


# ---- the checker ------------------------------------------------------------------------
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
    if symbolic and _import_sympy() is not None and _symbolic_equal(na, nb):
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
    if symbolic and _import_sympy() is None:
        return Match(False, "different; symbolic-unavailable")
    return Match(False, "different")


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
