"""The answer-equivalence checker: the documented table, exact rationals, the optional
sympy layer (and life without it), unsafe input, answer extraction."""

import os
from fractions import Fraction

import pytest

from cofail_jax import answers_equivalent, normalize_answer
from cofail_jax._src.audit import checker as C
from cofail_jax._src.audit import normalize as N

TABLE = os.path.join(os.path.dirname(__file__), "..", "docs", "equivalence_table.md")


def table_rows():
    rows = []
    with open(TABLE, encoding="utf-8") as f:
        for line in f:
            if not line.startswith("| `"):
                continue
            cells = [c.strip() for c in line.strip().strip("|").split(" | ")]
            a, b, match, rule, builtin, why = cells
            assert a.startswith("`") and a.endswith("`") and b.startswith("`") and b.endswith("`")
            assert match in ("yes", "no")
            assert rule in N.RULES or rule in ("different", "math-verify"), rule
            assert builtin in N.RULES or builtin == "no", builtin
            rows.append((a[1:-1], b[1:-1], match == "yes", rule, builtin, why))
    return rows


ROWS = table_rows()
MV = C.math_verify_available()


def test_table_is_substantial_and_balanced():
    must = [r for r in ROWS if r[2]]
    must_not = [r for r in ROWS if not r[2]]
    assert len(must) >= 45 and len(must_not) >= 24
    # every layer of the built-in checker, and math-verify, decide at least one pair
    assert {r[4] for r in must} >= {"exact", "normalized", "numeric", "unordered-list",
                                     "ordered-tuple", "symbolic", "pm-expanded"}
    assert "math-verify" in {r[3] for r in must}


@pytest.mark.parametrize("a, b, match, rule, builtin, why", ROWS, ids=[r[5] for r in ROWS])
def test_equivalence_table(a, b, match, rule, builtin, why):
    # the built-in layer on its own (what runs without math-verify)
    got = answers_equivalent(a, b)
    assert got.equal == (builtin != "no"), (a, b, got)
    if builtin != "no":
        assert got.rule == builtin, (a, b, got)
        assert answers_equivalent(b, a).equal  # symmetric
    # no false match with or without math-verify
    if not match:
        assert not got.equal and not C.check_answer(a, b, checker="builtin").equal
    if not MV:
        return
    v = C.check_answer(a, b)
    assert v.equal == match, (a, b, v)
    assert v.rule.split(";")[0] == rule, (a, b, v)
    assert v.checker == ("math-verify" if rule == "math-verify" else v.checker)
    if rule == "math-verify" or (v.math_verify in ("yes", "no") and not match):
        assert C.check_answer(b, a).equal == match  # symmetric on these rows too


def test_numeric_layer_is_exact_rational_unless_tolerance():
    assert N.parse_number("0.75") == Fraction(3, 4)
    assert N.parse_number("(4)/(3)") == Fraction(4, 3)
    assert N.parse_number("-1.5e2") == Fraction(-150)
    assert N.parse_number("1/0") is None and N.parse_number("abc") is None
    assert N.parse_number("1 2") is None
    assert not answers_equivalent("0.3333", "1/3").equal
    got = answers_equivalent("0.3333", "1/3", rel_tol=1e-3)
    assert got.equal and got.rule == "numeric-tolerance"
    assert not answers_equivalent("0.33", "1/3", rel_tol=1e-3).equal


def test_without_sympy_the_symbolic_layer_is_skipped(monkeypatch):
    from cofail_jax._src.audit.normalize import symbolic

    monkeypatch.setattr(symbolic, "_import_sympy", lambda: None)
    assert not N.sympy_available()
    got = answers_equivalent(r"2\sqrt{2}", r"\sqrt{8}")
    assert not got.equal and "symbolic-unavailable" in got.rule
    # everything that does not need sympy still works
    for a, b, match, rule, builtin, _ in ROWS:
        if builtin not in ("symbolic", "pm-expanded"):
            assert answers_equivalent(a, b).equal == (builtin != "no"), (a, b)
    # and symbolic=False never reports the missing dependency
    assert answers_equivalent("x+1", "x-1", symbolic=False).rule == "different"


def test_symbolic_layer_refuses_unsafe_text():
    for text in ("__import__('os').system('true')", "open('f')", "x.__class__", "lambda: 1",
                 "9^9^9^9", "2^(10^10)", "x" * 200, "x.n(2)", "e.g"):
        assert N._to_sympy_text(normalize_answer(text)) is None or not N._symbolic_equal(
            normalize_answer(text), "1")


def test_normalize_examples():
    assert normalize_answer(r"The answer is $\boxed{\frac43}$.") == "4/3"
    assert normalize_answer("x = 1,000 cm") == "1000"
    assert normalize_answer(r"\left( 1, 2 \right)") == "(1,2)"
    assert normalize_answer(None) == "" and normalize_answer("nan") == ""
    # the last box wins (a response may box an intermediate result first)
    assert normalize_answer(r"first \boxed{2} then \boxed{3}") == "3"


def test_extract_answer():
    assert N.extract_answer(r"so \boxed{\frac{1}{2}} done") == r"\frac{1}{2}"
    assert N.extract_answer("Thus the final answer is 42. Done") == "42"
    assert N.extract_answer("3 apples and then 17") == "17"
    assert N.extract_answer("no digits here") == ""
    assert N.extract_answer(None) == ""


def test_parse_choices_and_reference_forms():
    assert N.parse_choices('["Paris", "Lyon"]') == ["Paris", "Lyon"]
    assert N.parse_choices("A) Paris | B) Lyon") == ["Paris", "Lyon"]
    assert N.parse_choices("(A) 12\n(B) 14") == ["12", "14"]
    assert N.parse_choices("") == [] and N.parse_choices(None) == []
    assert N.reference_forms("B", "A) Paris | B) Lyon") == [("B", ""), ("Lyon", "via choices")]
    assert N.reference_forms("lyon", '["Paris", "Lyon"]') == [("lyon", ""), ("B", "via choices")]
    assert N.reference_forms("E", "A) x | B) y") == [("E", "")]  # letter out of range
    assert N.reference_forms("", "A) x") == []
