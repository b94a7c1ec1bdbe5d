"""Answer-format comparison and judge panels against scipy, scikit-learn and hand counts."""

import os

import numpy as np
import pytest
from scipy import stats

from cofail_jax import InputError
from cofail_jax._src.certificate import clopper_pearson
from cofail_jax._src.policies.formats import compare_formats, mcnemar_exact
from cofail_jax._src.policies.judges import (
    cohen_kappa,
    combine_judges,
    fleiss_kappa,
    judge_panel,
    read_judge_labels,
)

FIX = os.path.join(os.path.dirname(__file__), "fixtures", "policies")


def test_compare_formats_by_hand():
    # a: 6 questions q0..q5; b: q2..q7. all-wrong rows: a: q0, q2, q3; b: q3, q4, q6, q7
    a = np.array([[0, 0], [1, 0], [0, 0], [0, 0], [0, 1], [1, 1]], bool)
    b = np.array([[1, 0], [0, 0], [0, 0], [1, 1], [0, 0], [0, 0]], bool)
    r = compare_formats(a, [f"q{i}" for i in range(6)], b, [f"q{i}" for i in range(2, 8)])
    c = r.common
    assert c.n == 4 and c.a.K == 2 and c.b.K == 2
    assert (c.only_a, c.only_b, c.both) == (1, 1, 1)
    assert c.p_value == 1.0 and c.difference == 0.0
    f = r.full
    assert (f.a.K, f.a.n, f.b.K, f.b.n) == (3, 6, 4, 6)
    assert f.p_value == pytest.approx(stats.fisher_exact([[3, 3], [4, 2]]).pvalue)
    lo, hi = clopper_pearson(3, 6)
    assert f.a.ci == pytest.approx((float(lo), float(hi)))
    rb = compare_formats(
        a, [f"q{i}" for i in range(6)], b, [f"q{i}" for i in range(2, 8)], unpaired="boschloo"
    )
    assert rb.full.p_value == pytest.approx(stats.boschloo_exact([[3, 3], [4, 2]]).pvalue)


def test_mcnemar_exact_and_interval():
    assert mcnemar_exact(0, 0) == 1.0
    assert mcnemar_exact(1, 9) == pytest.approx(stats.binomtest(1, 10, 0.5).pvalue)
    # 40 common questions: 8 all wrong only in a, 2 only in b
    a = np.zeros((40, 1), bool)
    b = np.zeros((40, 1), bool)
    a[:2] = True  # a right, b wrong -> only b all wrong
    b[2:10] = True  # b right, a wrong -> only a all wrong
    a[10:] = b[10:] = True
    r = compare_formats(a, range(40), b, range(40)).common
    assert (r.only_a, r.only_b) == (8, 2)
    assert r.difference == pytest.approx(6 / 40)
    lo, hi = clopper_pearson(8, 10)
    assert r.difference_ci == pytest.approx(
        (10 / 40 * (2 * float(lo) - 1), 10 / 40 * (2 * float(hi) - 1))
    )
    assert r.p_value == pytest.approx(stats.binomtest(8, 10, 0.5).pvalue)


def test_fleiss_two_raters_is_scotts_pi():
    rng_a = np.array([1, 1, 0, 0, 1, 0, 1, 1, 0, 1], bool)
    rng_b = np.array([1, 0, 0, 0, 1, 1, 1, 1, 0, 0], bool)
    yes = rng_a.astype(int) + rng_b
    fk = fleiss_kappa(np.stack([yes, 2 - yes], axis=1))
    po = (rng_a == rng_b).mean()
    pbar = (rng_a.mean() + rng_b.mean()) / 2
    pe = pbar**2 + (1 - pbar) ** 2
    assert fk == pytest.approx((po - pe) / (1 - pe))


def test_cohen_kappa_matches_sklearn():
    from sklearn.metrics import cohen_kappa_score

    a = np.array([1, 1, 0, 0, 1, 0, 1, 1, 0, 1], bool)
    b = np.array([1, 0, 0, 0, 1, 1, 1, 1, 0, 0], bool)
    assert cohen_kappa(a, b) == pytest.approx(cohen_kappa_score(a, b))


def test_combine_rules_and_ties():
    # 4 judges, 1 query, 3 models: votes 4-0 yes, 2-2 tie, 1 yes of 2 graded (two -1)
    lab = np.array([[[1, 1, 1]], [[1, 1, -1]], [[1, 0, 0]], [[1, 0, -1]]], np.int8)
    assert combine_judges(lab, "unanimous").tolist() == [[True, False, False]]
    assert combine_judges(lab, "lenient").tolist() == [[True, True, True]]
    assert combine_judges(lab, "majority").tolist() == [[True, False, False]]
    assert combine_judges(lab, "majority", tie="correct").tolist() == [[True, True, True]]


def test_judge_panel_fixture_orders_betas():
    lab, q, m, j = read_judge_labels(os.path.join(FIX, "judges_long.csv"))
    assert lab.shape == (3, 40, 3) and j == ("strict", "fair", "lenient")
    r = judge_panel(lab, j)
    b = {k: v.beta for k, v in r.rules.items()}
    assert b["unanimous"] >= b["majority"] >= b["lenient"]
    assert r.cohen_kappa[0, 1] == pytest.approx(
        cohen_kappa(lab[0].ravel() == 1, lab[1].ravel() == 1)
    )
    u = r.unanimous_vs_lenient
    assert u.only_lenient == 0
    assert u.difference == pytest.approx(b["unanimous"] - b["lenient"])


def test_read_judge_labels_errors(tmp_path):
    p = tmp_path / "j.csv"
    p.write_text("query_id,model,judge,correct\nq,a,j1,1\nq,a,j1,0\n")
    with pytest.raises(InputError, match="duplicate label"):
        read_judge_labels(str(p))
    p.write_text("query_id,model,judge,correct\nq,a,j1,1\n")
    with pytest.raises(InputError, match="at least 2"):
        read_judge_labels(str(p))
    p.write_text("query_id,model,judge,correct\nq,a,j1,maybe\n")
    with pytest.raises(InputError, match="row 2"):
        read_judge_labels(str(p))


def test_compare_formats_model_accuracy_by_name():
    """Per-model accuracy per format over the union of the two pools (NaN where a model
    is absent), with Clopper-Pearson intervals, on the full sets and the common questions."""
    a = np.array([[0, 0], [1, 0], [0, 0], [0, 0], [0, 1], [1, 1]], bool)
    b = np.array([[1, 0], [0, 0], [0, 0], [1, 1], [0, 0], [0, 0]], bool)
    r = compare_formats(a, [f"q{i}" for i in range(6)], b, [f"q{i}" for i in range(2, 8)],
                        models_a=("x", "y"), models_b=("y", "z"))
    f, c = r.full.accuracy, r.common.accuracy
    assert f.models == c.models == ("x", "y", "z")
    np.testing.assert_allclose(f.a, [2 / 6, 2 / 6, np.nan])
    np.testing.assert_allclose(f.b, [np.nan, 2 / 6, 1 / 6])
    np.testing.assert_allclose(c.a, [1 / 4, 2 / 4, np.nan])
    np.testing.assert_allclose(c.b, [np.nan, 2 / 4, 1 / 4])
    lo, hi = clopper_pearson(1, 6)
    assert (f.b_lower[2], f.b_upper[2]) == pytest.approx((float(lo), float(hi)))
    lo, hi = clopper_pearson(2, 4)
    assert (c.a_lower[1], c.a_upper[1]) == pytest.approx((float(lo), float(hi)))
    assert np.isnan(f.a_lower[2]) and np.isnan(c.b_upper[0])
