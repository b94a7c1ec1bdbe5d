"""Audit of all-wrong events: evidence and suggested classes on the hand-made fixture,
the audit sheet (reading, errors), beta before/after adjudication against hand counts
and scipy's beta quantiles, regrading, and the artefact sensitivity table against a
direct recomputation on the reduced matrix."""

import csv
import os

import jax
import numpy as np
import pytest
from scipy import stats

from cofail_jax import (InputError, OutcomeMatrix, apply_adjudications, artefact_sensitivity,
                        audit_evidence, audited_beta, load_matrix, read_adjudications, regrade)
from cofail_jax._src.audit.adjudicate import VERDICTS, Adjudications

FIX = os.path.join(os.path.dirname(__file__), "fixtures", "audit")
POOL = os.path.join(FIX, "pool.csv")
SHEET = os.path.join(FIX, "pool_verdicts.csv")


@pytest.fixture(scope="module")
def pool():
    return load_matrix(POOL)


@pytest.fixture(scope="module")
def evidence(pool):
    return {e.query_id: e for e in audit_evidence(pool, include_near_all_wrong=True)}


def cp(K, n, alpha=0.05):
    """Clopper-Pearson from scipy's beta quantiles, written out independently."""
    lo = 0.0 if K == 0 else stats.beta.ppf(alpha / 2, K, n - K + 1)
    hi = 1.0 if K == n else stats.beta.ppf(1 - alpha / 2, K + 1, n - K)
    return lo, hi


# ---- evidence and suggested classes ----------------------------------------------------
def test_flags_all_wrong_and_near(pool, evidence):
    assert pool.all_wrong.sum() == 7
    assert [e.query_id for e in audit_evidence(pool)] == [
        "g_equiv", "g_extract", "wrong_ref", "trunc", "ambig", "genuine1", "genuine2"]
    assert evidence["near"].flag == "near-all-wrong"
    assert evidence["near"].correct_models == ("alpha",)
    assert all(e.flag == "all-wrong" for q, e in evidence.items() if q != "near")


@pytest.mark.parametrize("qid, cls, rule", [
    ("g_equiv", "grader defect", "R1"),
    ("trunc", "truncation", "R2"),
    ("g_extract", "grader defect", "R3"),
    ("wrong_ref", "wrong reference", "R4"),
    ("near", "wrong reference", "R4"),
    ("ambig", "ambiguous", "R5"),
    ("genuine1", "genuine", "R6"),
    ("genuine2", "genuine", "R6"),
])
def test_suggested_class_and_rule(evidence, qid, cls, rule):
    e = evidence[qid]
    assert e.suggested_class == cls
    assert e.suggested_rule.startswith(rule + ":")


def test_equivalence_evidence(evidence):
    e = evidence["g_equiv"]
    assert e.n_equiv_reference == 3 and e.equiv_models == ("alpha", "beta", "gamma")
    assert set(e.equiv_rules) == {"normalized"}
    # the three equivalent answers form one agreement class, the reference's
    assert e.top_count == 3 and not e.majority_differs and e.n_distinct == 2


def test_agreement_evidence(evidence):
    e = evidence["wrong_ref"]
    assert e.top_answer == "14" and e.top_count == 3  # "14.0" joins "14" (numeric)
    assert e.majority_differs and e.n_equiv_reference == 0 and e.n_distinct == 2
    a = evidence["ambig"]
    assert a.top_count == 2 and a.n_distinct == 2 and not a.majority_differs
    g = evidence["genuine1"]
    assert g.n_distinct == 4 and g.top_count == 1 and not g.majority_differs


def test_extraction_and_truncation_evidence(evidence):
    e = evidence["g_extract"]
    # three answers are empty (and the raw text has no number to re-extract), flagged too
    assert (e.n_empty, e.n_not_extracted, e.n_extraction_fail) == (3, 3, 3)
    t = evidence["trunc"]
    assert t.n_truncated == 3 and t.truncated_models == ("alpha", "beta", "gamma")
    assert (t.n_empty, t.n_not_extracted, t.n_extraction_fail) == (1, 1, 1)
    assert all(evidence[q].n_truncated == 0 for q in ("g_equiv", "ambig", "genuine1"))


def test_raw_answer_and_extracted_columns():
    # evidence reads 'extracted' first, then 'answer', then re-extracts from 'raw_answer';
    # a cell whose raw text holds the reference counts as equivalent (grader defect)
    m = OutcomeMatrix(
        np.zeros((1, 3), bool), ("q",), ("a", "b", "c"),
        query_meta={"reference": np.array(["1/2"], dtype=object)},
        cell_meta={"extracted": np.array([["", "0.4", ""]], dtype=object),
                   "raw_answer": np.array([[r"... so \boxed{\dfrac{1}{2}}", "0.4", "I give up"]],
                                          dtype=object)})
    (e,) = audit_evidence(m)
    assert e.answers == (r"\dfrac{1}{2}", "0.4", "")
    assert e.equiv_models == ("a",) and e.suggested_class == "grader defect"
    assert e.n_empty == 1


def test_matrix_without_answers_gives_genuine_with_reason():
    m = OutcomeMatrix(np.array([[0, 0], [1, 0]], bool), ("q1", "q2"), ("a", "b"))
    (e,) = audit_evidence(m)
    assert e.suggested_class == "genuine" and "no answers" in e.suggested_rule
    assert e.n_empty == 0 and e.n_extraction_fail == 0


def test_bad_thresholds_raise(pool):
    with pytest.raises(ValueError, match="truncation_share"):
        audit_evidence(pool, truncation_share=0.0)


# ---- adjudication ------------------------------------------------------------------------
def write_sheet(path, rows, header=("query_id", "verdict", "verdict_note")):
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(header)
        w.writerows(rows)
    return str(path)


def test_read_shipped_sheet(pool):
    adj = read_adjudications(SHEET, pool)
    assert adj.verdicts == {"g_equiv": "grader defect", "g_extract": "grader defect",
                            "wrong_ref": "wrong reference", "trunc": "truncation",
                            "ambig": "ambiguous", "genuine1": "genuine"}
    assert len(adj.listed) == 7 and "genuine2" not in adj.verdicts
    assert adj.notes["wrong_ref"] == "2 * 7 = 14"


def test_verdict_spellings(pool, tmp_path):
    p = write_sheet(tmp_path / "s.csv", [("g_equiv", " Grader_Defect ", ""),
                                          ("trunc", "ARTIFACT", ""), ("ambig", "", "")])
    adj = read_adjudications(p, pool)
    assert adj.verdicts == {"g_equiv": "grader defect", "trunc": "artefact"}
    assert adj.listed == ("g_equiv", "trunc", "ambig")


def test_semicolon_sheet(pool, tmp_path):
    # spreadsheets in many locales save CSV with semicolons
    p = tmp_path / "s.csv"
    p.write_text("query_id;verdict;verdict_note\ng_equiv;genuine;ok, really\n")
    assert read_adjudications(p, pool).verdicts == {"g_equiv": "genuine"}


@pytest.mark.parametrize("rows, header, match", [
    ([("nope", "genuine", "")], None, r"row 2: unknown query id 'nope'"),
    ([("g_equiv", "genuine", ""), ("trunc", "maybe", "")], None,
     r"row 3, column 'verdict': verdict 'maybe' is not allowed \(write one of: "
     + ", ".join(VERDICTS)),
    ([("g_equiv", "genuine", "")], ("query", "verdict"), r"has no 'query_id' column"),
    ([("g_equiv", "genuine")], ("query_id", "class"), r"has no 'verdict' column"),
    ([("g_equiv", "genuine", ""), ("g_equiv", "truncation", "")], None,
     r"row 3: query 'g_equiv' has two verdicts"),
])
def test_bad_sheets(pool, tmp_path, rows, header, match):
    p = write_sheet(tmp_path / "bad.csv", rows, header or ("query_id", "verdict", "verdict_note"))
    with pytest.raises(InputError, match=match) as e:
        read_adjudications(p, pool)
    assert "bad.csv" in str(e.value)


def test_missing_sheet(pool, tmp_path):
    with pytest.raises(InputError, match="no such audit sheet"):
        read_adjudications(tmp_path / "none.csv", pool)


def test_audited_beta_by_hand(pool):
    adj = read_adjudications(SHEET, pool)
    r = audited_beta(pool, adj)
    n, K = 18, 7
    # artefacts: g_equiv, g_extract, wrong_ref, trunc, ambig (5); genuine: genuine1;
    # unadjudicated: genuine2
    assert (r.K, r.n_genuine, r.n_artefact, r.n_artefact_all_wrong, r.n_unadjudicated) == (
        7, 1, 5, 5, 1)
    assert (r.graded.n, r.graded.K) == (n, K)
    assert (r.genuine_only.n, r.genuine_only.K) == (n - 5 - 1, 1)
    assert (r.conservative.n, r.conservative.K) == (n - 5, 2)
    for c in (r.graded, r.genuine_only, r.conservative):
        assert c.beta == c.K / c.n
        np.testing.assert_allclose(c.beta_ci, cp(c.K, c.n), rtol=1e-12)
    assert r.beta_range == (1 / 12, 2 / 13)
    np.testing.assert_allclose(r.beta_range_ci, (cp(1, 12)[0], cp(2, 13)[1]), rtol=1e-12)
    assert r.status == "incomplete: 1 events not adjudicated"
    assert r.by_verdict == {"grader defect": 2, "wrong reference": 1, "truncation": 1,
                            "ambiguous": 1, "genuine": 1}


def test_complete_audit_collapses_the_range(pool):
    adj = Adjudications({q: "genuine" for q in np.asarray(pool.query_ids)[pool.all_wrong]},
                        (), {}, "sheet")
    r = audited_beta(pool, adj)
    assert r.status == "complete"
    assert r.genuine_only.beta == r.conservative.beta == r.graded.beta


def test_apply_adjudications_drops_artefacts_only(pool):
    adj = read_adjudications(SHEET, pool)
    cons = apply_adjudications(pool, adj)
    gen = apply_adjudications(pool, adj, unadjudicated="artefact")
    dropped = {"g_equiv", "g_extract", "wrong_ref", "trunc", "ambig"}
    assert set(pool.query_ids) - set(cons.query_ids) == dropped
    assert set(pool.query_ids) - set(gen.query_ids) == dropped | {"genuine2"}
    keep = [pool.query_ids.index(q) for q in cons.query_ids]
    np.testing.assert_array_equal(cons.correct, pool.correct[keep])
    assert cons.cell_meta["answer"].shape == (13, 4) and "audit" in cons.notes[-1]
    with pytest.raises(ValueError, match="unadjudicated"):
        apply_adjudications(pool, adj, unadjudicated="maybe")
    # a near-all-wrong query adjudicated as an artefact is dropped too
    adj2 = Adjudications({"near": "wrong reference"}, ("near",), {}, "s")
    assert apply_adjudications(pool, adj2).n == 17


# ---- regrade --------------------------------------------------------------------------------
def test_regrade_fixture(pool):
    r = regrade(pool)
    assert r.status == "ok"
    assert {(f.query_id, f.model) for f in r.flips} == {
        ("g_equiv", "alpha"), ("g_equiv", "beta"), ("g_equiv", "gamma")}
    assert all(not f.graded and f.regraded for f in r.flips)
    assert r.disagreements == ()
    assert r.n_checked == 72 - 3 - 1  # three empty answers on g_extract, one on trunc
    assert r.beta_before == 7 / 18 and r.beta_after == 6 / 18
    assert r.matrix.correct.sum() == pool.correct.sum() + 3


def test_regrade_disagreement_and_downgrade():
    correct = np.array([[True, False], [True, True]])
    m = OutcomeMatrix(correct, ("q1", "q2"), ("a", "b"),
                      query_meta={"reference": np.array(["12", "3/4"], dtype=object)},
                      cell_meta={"answer": np.array([["13", "1,2"], ["0.75", "x = 3/4"]],
                                                    dtype=object)},
                      samples=np.stack([correct.astype(np.int8), np.zeros((2, 2), np.int8)]))
    r = regrade(m)
    assert [(f.query_id, f.model) for f in r.disagreements] == [("q1", "a")]
    assert r.flips == () and np.array_equal(r.matrix.correct, correct)
    d = regrade(m, downgrade=True)
    assert not d.matrix.correct[0, 0] and d.beta_after == 0.5
    assert np.array_equal(d.matrix.samples[0] == 1, d.matrix.correct)
    assert np.array_equal(d.matrix.samples[1], m.samples[1])


def test_regrade_without_answers():
    m = OutcomeMatrix(np.array([[0, 1]], bool), ("q",), ("a", "b"))
    r = regrade(m)
    assert r.flips == () and r.n_checked == 0 and "nothing to regrade" in r.status


# ---- sensitivity ------------------------------------------------------------------------
def test_sensitivity_against_direct_recomputation(pool):
    from cofail_jax._src.onefactor import equal_loading_beta
    from cofail_jax._src.tetrachoric import tetrachoric

    s = artefact_sensitivity(pool)
    K, n = 7, 18
    assert s.j.tolist() == list(range(K + 1))
    np.testing.assert_array_equal(s.beta, (K - s.j) / (n - s.j))
    for i, j in enumerate(s.j):
        np.testing.assert_allclose(s.beta_ci[i], cp(K - j, n - j), rtol=1e-12)
    # drop j = 3 all-wrong rows for real (the last three, not the first: which ones must
    # not matter) and price the reduced matrix directly, unweighted
    aw = np.flatnonzero(pool.all_wrong)
    j = 3
    keep = np.ones(n, bool)
    keep[aw[-j:]] = False

    @jax.jit
    def direct(errs):
        tet = tetrachoric(errs)
        return equal_loading_beta(tet.tau, tet.mean_rho), tet.mean_rho

    pred, mean_rho = direct(~pool.correct[keep])
    np.testing.assert_allclose(s.mean_rho[j], float(mean_rho), rtol=1e-9)
    np.testing.assert_allclose(s.ratio[j], ((K - j) / (n - j)) / float(pred), rtol=1e-8)
    assert all(st == "ok" for st in s.ratio_status[:K])
    assert np.all(np.diff(s.ratio[:K]) > 0)  # fewer events, steeper underpricing here
    assert s.ratio[K] == 0 and "no all-wrong" in s.ratio_status[K]
    # the gain bound uses the certificate of the reduced matrix
    from cofail_jax import certificate
    keep = np.ones(n, bool)
    keep[aw[:2]] = False
    assert s.gain_bound[2] == certificate(pool.correct[keep]).gain_bound


def test_sensitivity_limits(pool):
    s = artefact_sensitivity(pool, max_artefacts=2, ratio=False)
    assert s.j.tolist() == [0, 1, 2] and np.isnan(s.ratio).all()
    with pytest.raises(ValueError, match="max_artefacts"):
        artefact_sensitivity(pool, max_artefacts=8, ratio=False)


def test_multiple_choice_letter_and_option_text():
    # reference "B" and the option text "Lyon" are the same answer
    m = OutcomeMatrix(
        np.zeros((1, 3), bool), ("q",), ("a", "b", "c"),
        query_meta={"reference": np.array(["B"], dtype=object),
                    "choices": np.array(["A) Paris | B) Lyon | C) Nice"], dtype=object)},
        cell_meta={"answer": np.array([["Lyon", "(B)", "Paris"]], dtype=object)})
    (e,) = audit_evidence(m)
    assert e.equiv_models == ("a", "b")
    assert e.equiv_rules == ("exact via choices", "normalized")
    r = regrade(m)
    assert [(f.model, f.rule) for f in r.flips] == [("a", "exact via choices"),
                                                    ("b", "normalized")]
    # without the choices column the option text is not the letter
    m2 = OutcomeMatrix(m.correct, m.query_ids, m.models,
                       query_meta={"reference": m.query_meta["reference"]}, cell_meta=m.cell_meta)
    assert audit_evidence(m2)[0].equiv_models == ("b",)


def test_sensitivity_degenerate_pool_has_no_ratio():
    # both models always wrong: no finite threshold, no correlation, so no ratio
    m = OutcomeMatrix(np.zeros((2, 2), bool), ("q1", "q2"), ("a", "b"))
    s = artefact_sensitivity(m)
    assert s.j.tolist() == [0, 1]  # at least one query is kept
    assert np.isnan(s.ratio).all() and all(st != "ok" for st in s.ratio_status)
