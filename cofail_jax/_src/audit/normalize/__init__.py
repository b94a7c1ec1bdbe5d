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

Modules: :mod:`.latex` (LaTeX commands), :mod:`.units`, :mod:`.number` (exact rationals),
:mod:`.answer` (:func:`normalize_answer`), :mod:`.sets` (lists, sets, tuples),
:mod:`.symbolic` (the optional sympy layer), :mod:`.equivalence`
(:func:`answers_equivalent`) and :mod:`.extract` (answers out of raw text, reference forms).
"""

from __future__ import annotations

from .latex import (
    _braced as _braced,
    _unwrap_last_command as _unwrap_last_command,
    _replace_command as _replace_command,
    _atom as _atom,
    _replace_all as _replace_all,
)
from .units import (
    unit_signature as unit_signature,
    _UNITS as _UNITS,
    _UNIT_RE as _UNIT_RE,
    _UNIT_WORD_RE as _UNIT_WORD_RE,
    _UNIT_CANON as _UNIT_CANON,
    _TEXT_CMD_RE as _TEXT_CMD_RE,
)
from .number import (
    parse_number as parse_number,
    _NUM_RE as _NUM_RE,
)
from .answer import (
    normalize_answer as normalize_answer,
    _PREFIX_RE as _PREFIX_RE,
    _VAR_EQ_RE as _VAR_EQ_RE,
    _FUNC_EQ_RE as _FUNC_EQ_RE,
    _THOUSANDS_RE as _THOUSANDS_RE,
    _SPACE_THOUSANDS_RE as _SPACE_THOUSANDS_RE,
    _strip_outer_braces as _strip_outer_braces,
)
from .sets import (
    _split_top as _split_top,
    _container as _container,
    _as_list as _as_list,
)
from .symbolic import (
    sympy_available as sympy_available,
    _import_sympy as _import_sympy,
    _FUNCS as _FUNCS,
    _SAFE_RE as _SAFE_RE,
    _to_sympy_text as _to_sympy_text,
    _sympy_expr as _sympy_expr,
    _small_powers as _small_powers,
    _NUMERIC_SCREEN as _NUMERIC_SCREEN,
    _symbolic_equal as _symbolic_equal,
)
from .equivalence import (
    RULES as RULES,
    Match as Match,
    answers_equivalent as answers_equivalent,
    _scalar_equal as _scalar_equal,
    _normalized_equal as _normalized_equal,
    _is_reference_list as _is_reference_list,
    _expand_pm as _expand_pm,
)
from .extract import (
    extract_answer as extract_answer,
    parse_choices as parse_choices,
    reference_forms as reference_forms,
    _ANSWER_IS_RE as _ANSWER_IS_RE,
    _LETTER_PREFIX_RE as _LETTER_PREFIX_RE,
)


__all__ = ["Match", "normalize_answer", "parse_number", "answers_equivalent", "unit_signature",
           "extract_answer", "sympy_available", "RULES", "parse_choices", "reference_forms"]
