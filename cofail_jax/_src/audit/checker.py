"""The answer checker the audit uses: HuggingFace ``math-verify`` for free-form math,
the built-in layer (:mod:`.normalize`) for everything it is better at, and both
verdicts where they disagree.

``math-verify`` (Apache-2.0; ``pip install 'cofail_jax[audit]'``) parses LaTeX into
sympy and compares sets, intervals, equations, ``\\pm`` and factorials; it recognises
grader defects the string rules miss (``10,\\!080``, ``864 \\mbox{ inches}^2``,
``k(x) = -\\frac{1}{2x}``). It is not used where it is weak:

* multiple-choice letters, option text and other words (it reads a word as a product
  of one-letter symbols, so ``paris`` would equal ``sirap``): a reference or answer
  that is one letter, or that has a bare word outside ``\\text{}``, keeps the built-in
  verdict, and so does a match through the ``choices``;
* two plain numbers: the built-in layer compares exact rationals (``0.33`` is not
  ``1/3``; ``--rel-tol`` allows rounding) where ``math-verify`` rounds to 6 digits;
* units: the built-in unit signature decides first (two different units never match;
  in strict mode units must agree) and ``math-verify`` only sees answers whose units
  passed.

Everything else (expressions, sets, intervals, tuples, equations) is decided by
``math-verify``; when it cannot parse an answer the built-in verdict stands. Every
:class:`Verdict` names the checker that decided and carries the other's verdict, so a
disagreement is visible in the audit sheet and the regrade table.

Cost and safety: model answers are untrusted and sympy can hang on adversarial input
(``9^{9^{9^9}}``, 100 kB of nested braces). Each pair runs under a wall-clock
``timeout`` (``SIGALRM``; in the main thread of a process, which a worker of the
process pool always is), so a bad pair costs at most the timeout and is reported as
``timeout``; answers over ``max_chars`` are not parsed at all. :func:`check_pairs`
checks each distinct (answer, reference) pair once and can spread the pairs over a
process pool, reporting progress through a callback.

References:
  Kydlicek, H. et al. (2025). Math-Verify: a robust mathematical expression evaluation
  system (https://github.com/huggingface/Math-Verify).
"""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import functools
import logging
import re
import signal
import threading
from collections.abc import Callable, Iterable
from typing import NamedTuple

from .normalize import answers_equivalent, normalize_answer, parse_number

__all__ = ["CHECKERS", "Verdict", "check_answer", "check_pairs", "checker_info",
           "math_verify_available", "resolve_checker"]

CHECKERS = ("auto", "math-verify", "builtin")
MAX_CHARS = 4000
# built-in rules trusted over math-verify: string identity, exact rationals, tolerance
_TRUSTED = ("exact", "numeric", "numeric-tolerance")
_MATH_WORDS = frozenset({"sqrt", "frac", "dfrac", "tfrac", "pi", "log", "ln", "sin", "cos",
                         "tan", "exp", "infty", "oo", "pm", "cdot", "times", "left", "right",
                         "le", "ge", "leq", "geq", "neq", "cup", "cap", "emptyset", "in", "mp"})


class Verdict(NamedTuple):
    """One (answer, reference) decision.

    Attributes:
      equal: the answer is equivalent to the reference.
      rule: the rule that decided: a built-in rule (``normalized``, ``numeric``, ...),
        ``math-verify``, ``different``, ``timeout`` or ``different; too long``.
      checker: ``"builtin"`` or ``"math-verify"``: which one decided.
      builtin: the built-in verdict, ``"yes: <rule>"`` or ``"no: <rule>"``.
      math_verify: ``"yes"``, ``"no"``, ``"unparsed"`` or ``""`` (not consulted).
    """

    equal: bool
    rule: str
    checker: str
    builtin: str
    math_verify: str

    @property
    def disagree(self) -> bool:
        """Both checkers gave a verdict and the verdicts differ."""
        if self.math_verify not in ("yes", "no"):
            return False
        return self.builtin.startswith("yes") != (self.math_verify == "yes")

    @property
    def note(self) -> str:
        """``"builtin: yes: symbolic; math-verify: no"`` where they disagree, else ``""``."""
        return (f"builtin: {self.builtin}; math-verify: {self.math_verify}"
                if self.disagree else "")


# ---- math-verify (optional) -----------------------------------------------------------
@functools.cache
def _import_math_verify():
    try:
        import math_verify
        from math_verify import parse, verify
    except ImportError:
        return None
    # we run it with its own signal timeouts off and guard every pair ourselves; silence
    # its one-off "timeout is disabled" warning and per-pair debug noise
    logging.getLogger("math_verify").setLevel(logging.ERROR)
    try:
        from importlib.metadata import version

        ver = version("math-verify")
    except Exception:  # noqa: BLE001
        ver = getattr(math_verify, "__version__", "unknown")
    return parse, verify, ver


def math_verify_available() -> bool:
    """Whether ``math-verify`` can be imported (the ``audit`` extra)."""
    return _import_math_verify() is not None


def resolve_checker(checker: str) -> str:
    """``"math-verify"`` or ``"builtin"``: what ``checker`` means here (``auto``: the
    first when installed). Asking for ``math-verify`` without it raises ImportError."""
    if checker not in CHECKERS:
        raise ValueError(f"checker must be one of {', '.join(CHECKERS)}, got {checker!r}")
    if checker == "builtin":
        return "builtin"
    if math_verify_available():
        return "math-verify"
    if checker == "math-verify":
        raise ImportError("checker 'math-verify' needs the math-verify package: "
                          "pip install 'cofail_jax[audit]'")
    return "builtin"


def checker_info(checker: str = "auto") -> dict:
    """Name and version of the checker that runs, for provenance records."""
    from importlib.metadata import PackageNotFoundError, version

    name = resolve_checker(checker)
    try:
        own = version("cofail_jax")
    except PackageNotFoundError:
        own = "unknown"
    info = {"checker": name if name == "builtin" else "math-verify+builtin",
            "builtin_version": f"cofail_jax {own}"}
    if name == "math-verify":
        info["math_verify_version"] = _import_math_verify()[2]
    return info


def _for_math_verify(text: str) -> str:
    """An answer as math-verify should read it: inside ``$...$`` unless it already has
    delimiters or a box; an escaped dollar (currency) dropped."""
    s = text.strip().replace("\\$", "")
    s = re.sub(r"(?<![\\a-zA-Z])(pi|infty)(?![a-zA-Z])", r"\\\1", s)  # pi/2 -> \pi/2
    s = _plain_sqrt(s)
    if not re.search(r"\$|\\\(|\\\[|\\boxed|\\fbox", s):
        s = f"${s}$"
    return s


def _plain_sqrt(s: str) -> str:
    """``sqrt(8)`` (plain text) as ``\\sqrt{8}``; other text unchanged."""
    out, i = [], 0
    for m in re.finditer(r"(?<![\\a-zA-Z])sqrt\s*\(", s):
        if m.start() < i:
            continue
        depth, j = 0, m.end() - 1
        for j in range(m.end() - 1, len(s)):
            depth += {"(": 1, ")": -1}.get(s[j], 0)
            if depth == 0:
                break
        if depth != 0:
            break
        out.append(s[i:m.start()] + "\\sqrt{" + s[m.end():j] + "}")
        i = j + 1
    out.append(s[i:])
    return "".join(out)


@functools.lru_cache(maxsize=1 << 16)
def _mv_parse(text: str):
    """math-verify's parse of one answer, cached (a reference is parsed once, not once
    per model); a timeout inside is not cached (the exception propagates)."""
    parse = _import_math_verify()[0]
    got = parse(_for_math_verify(text), parsing_timeout=None)
    return tuple(got) if got and not isinstance(got[0], str) else None


def _math_verify_equal(answer: str, reference: str) -> bool | None:
    """math-verify's verdict (reference as gold), or None if either side did not parse."""
    verify = _import_math_verify()[1]
    gold = _mv_parse(reference)
    pred = _mv_parse(answer) if gold is not None else None
    if gold is None or pred is None:
        return None
    if _differ_at_a_point(gold[0], pred[0]):
        return False
    return bool(verify(list(gold), list(pred), timeout_seconds=None, float_rounding=10))


def _differ_at_a_point(g, p) -> bool:
    """Cheap screen before math-verify's ``simplify``: two plain expressions (no floats,
    sets, relations or matrices) of math-verify's own parse that take different finite
    values at a fixed rational point are different; anything else goes to ``verify``.
    Equal expressions agree wherever both are defined, so the screen never hides a
    match."""
    import sympy

    if not (isinstance(g, sympy.Expr) and isinstance(p, sympy.Expr)):
        return False
    if g.atoms(sympy.Float) or p.atoms(sympy.Float):
        return False
    syms = sorted(g.free_symbols | p.free_symbols, key=str)
    pt = {x: sympy.Rational(3, 7) + sympy.Rational(i, 5) for i, x in enumerate(syms)}
    try:
        a = complex(g.subs(pt).evalf(30))
        b = complex(p.subs(pt).evalf(30))
    except (TypeError, ValueError, ZeroDivisionError, AttributeError, OverflowError):
        return False
    if not all(map(np_isfinite, (a.real, a.imag, b.real, b.imag))):
        return False
    return abs(a - b) > 1e-9 * (1.0 + abs(a) + abs(b))


def np_isfinite(x: float) -> bool:
    return x == x and abs(x) != float("inf")


def _bare_words(text: str) -> bool:
    """Whether the text has a word of two or more letters outside LaTeX commands and
    ``\\text{}`` (math-verify would read it as a product of one-letter symbols)."""
    s = re.sub(r"\\(?:text|mbox|mathrm|textrm|textbf|operatorname)\s*\{[^{}]*\}", " ", text)
    s = re.sub(r"\\[a-zA-Z]+", " ", s)
    return any(w.lower() not in _MATH_WORDS for w in re.findall(r"[A-Za-z]{2,}", s))


def _is_choice_or_number(na: str, nb: str) -> bool:
    if re.fullmatch(r"[a-j]", nb) or re.fullmatch(r"[a-j]", na):
        return True
    return parse_number(na) is not None and parse_number(nb) is not None


# ---- timeouts ---------------------------------------------------------------------------
class PairTimeout(BaseException):
    """Raised inside a pair check when its time is up (a BaseException, so that the
    ``except Exception`` blocks in sympy and math-verify do not swallow it)."""


def _on_alarm(signum, frame):
    raise PairTimeout()


@contextlib.contextmanager
def _time_limit(seconds: float | None):
    """Wall-clock limit via SIGALRM; a no-op off the main thread or without a limit."""
    if (not seconds or seconds <= 0 or threading.current_thread() is not threading.main_thread()
            or not hasattr(signal, "setitimer")):
        yield
        return
    old = signal.signal(signal.SIGALRM, _on_alarm)
    signal.setitimer(signal.ITIMER_REAL, float(seconds))
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


# ---- one pair ---------------------------------------------------------------------------
def _decide(answer: str, reference: str, checker: str, symbolic: bool, rel_tol: float,
            strict_units: bool) -> Verdict:
    ours = answers_equivalent(answer, reference, symbolic=symbolic, rel_tol=rel_tol,
                              strict_units=strict_units)
    b_txt = ("yes: " if ours.equal else "no: ") + ours.rule
    builtin = Verdict(ours.equal, ours.rule, "builtin", b_txt, "")
    if checker == "builtin" or not str(answer).strip() or not str(reference).strip():
        return builtin
    if ours.equal and ours.rule in _TRUSTED:
        return builtin
    if "units differ" in ours.rule:
        return builtin
    na, nb = normalize_answer(answer), normalize_answer(reference)
    if _is_choice_or_number(na, nb) or _bare_words(answer) or _bare_words(reference):
        return builtin  # letters, plain numbers, words: the built-in layer's ground
    mv = _math_verify_equal(answer, reference)
    if mv is None:
        return builtin._replace(math_verify="unparsed")
    mv_txt = "yes" if mv else "no"
    return Verdict(mv, "math-verify" if mv else "different", "math-verify", b_txt, mv_txt)


def check_answer(answer, reference, *, checker: str = "auto", symbolic: bool = True,
                 rel_tol: float = 0.0, strict_units: bool = False, timeout: float | None = 5.0,
                 max_chars: int | None = MAX_CHARS) -> Verdict:
    """Whether ``answer`` is equivalent to ``reference``, and which checker said so.

    Args:
      answer, reference: the two answers (strings; None or empty never match).
      checker: ``"auto"`` (math-verify where installed, else the built-in layer),
        ``"math-verify"`` (ImportError if missing) or ``"builtin"``.
      symbolic: let the built-in layer use sympy.
      rel_tol: numeric tolerance of the built-in layer (0: exact rationals).
      strict_units: units must agree (``5 cm`` is not ``5``); by default units are
        dropped unless both sides carry different ones.
      timeout: wall-clock seconds for this pair (``SIGALRM``; only enforced in the main
        thread of a process); past it the verdict is ``timeout`` (not equal).
      max_chars: answers longer than this are not parsed (``different; too long``);
        None: no limit.

    Returns:
      A :class:`Verdict`.

    Examples:
      >>> check_answer(r"10,\\!080", r"7! \\times 2!").equal
      True
      >>> check_answer(r"-\\frac{1}{2}x", r"-\\frac1{2x}").equal
      False
    """
    name = resolve_checker(checker)
    a = "" if answer is None else str(answer)
    r = "" if reference is None else str(reference)
    if max_chars is not None and (len(a) > max_chars or len(r) > max_chars):
        return Verdict(False, "different; too long", "builtin", "", "")
    try:
        with _time_limit(timeout):
            return _decide(a, r, name, symbolic, rel_tol, strict_units)
    except PairTimeout:
        return Verdict(False, "timeout", name, "", "")
    except RecursionError:
        return Verdict(False, "different; too deeply nested", name, "", "")


# ---- many pairs ---------------------------------------------------------------------------
def _check_chunk(pairs: list[tuple[str, str]], opts: dict) -> list[Verdict]:
    return [check_answer(a, r, **opts) for a, r in pairs]


def _kill_pool(pool: cf.ProcessPoolExecutor) -> None:
    for p in list(getattr(pool, "_processes", {}).values()):
        with contextlib.suppress(Exception):
            p.kill()
    pool.shutdown(wait=False, cancel_futures=True)


def check_pairs(pairs: Iterable[tuple[str, str]], *, checker: str = "auto",
                symbolic: bool = True, rel_tol: float = 0.0, strict_units: bool = False,
                timeout: float | None = 5.0, max_chars: int | None = MAX_CHARS,
                workers: int = 0, chunk_size: int = 32,
                progress: Callable[[int, int], None] | None = None,
                cache: dict | None = None) -> dict[tuple[str, str], Verdict]:
    """Verdicts for many (answer, reference) pairs, each distinct pair checked once.

    Args:
      pairs: (answer, reference) pairs, repeats allowed.
      checker, symbolic, rel_tol, strict_units, timeout, max_chars: as in
        :func:`check_answer` (``timeout`` is per pair).
      workers: processes of the pool (0 or 1: in this process). A worker that stops
        answering (a pair stuck where SIGALRM cannot reach) is killed after
        ``chunk_size * timeout + 60`` seconds and its pairs are marked ``timeout``.
      chunk_size: pairs sent to a worker at a time.
      progress: called as ``progress(done, total)`` with distinct pairs checked so far.
      cache: a dict of earlier verdicts to reuse and extend (keys are the pairs; use
        one cache per set of options).

    Returns:
      ``cache`` (or a new dict) holding a :class:`Verdict` for every pair.
    """
    name = resolve_checker(checker)
    out = {} if cache is None else cache
    todo = list(dict.fromkeys(p for p in pairs if p not in out))
    total = len(todo)
    opts = dict(checker=name, symbolic=symbolic, rel_tol=rel_tol, strict_units=strict_units,
                timeout=timeout, max_chars=max_chars)
    if progress is not None:
        progress(0, total)
    if workers <= 1 or total <= chunk_size:
        for i, (a, r) in enumerate(todo):
            out[(a, r)] = check_answer(a, r, **opts)
            if progress is not None and ((i + 1) % chunk_size == 0 or i + 1 == total):
                progress(i + 1, total)
        return out
    import multiprocessing as mp

    chunks = [todo[i:i + chunk_size] for i in range(0, total, chunk_size)]
    guard = chunk_size * (timeout or 60.0) + 60.0
    done = 0
    pool = cf.ProcessPoolExecutor(max_workers=workers, mp_context=mp.get_context("spawn"))
    try:
        futs = {pool.submit(_check_chunk, c, opts): c for c in chunks}
        pending = set(futs)
        while pending:
            finished, pending = cf.wait(pending, timeout=guard, return_when=cf.FIRST_COMPLETED)
            if not finished:  # a worker is stuck beyond SIGALRM's reach: give up on the rest
                _kill_pool(pool)
                for f in pending:
                    for p in futs[f]:
                        out[p] = Verdict(False, "timeout", name, "", "")
                break
            for f in finished:
                chunk = futs[f]
                try:
                    got = f.result()
                except Exception:  # noqa: BLE001 - a dead worker: report, never crash
                    got = [Verdict(False, "timeout", name, "", "")] * len(chunk)
                out.update(zip(chunk, got))
                done += len(chunk)
                if progress is not None:
                    progress(done, total)
    finally:
        pool.shutdown(wait=False, cancel_futures=True)
    return out
