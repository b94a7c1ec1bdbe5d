"""The optional sympy layer: safe arithmetic text only, parsed once and compared by a numeric
screen, then by simplifying the difference."""

from __future__ import annotations

import functools
import re


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
