"""Votes: hand-checked plurality with each tie rule, majority over bits, log-odds
weights, every-triplet votes against a brute-force loop, jackknife slope by hand."""

import itertools
import math

import jax
import numpy as np
import pytest

from cofail_jax._src.policies.votes import (
    evaluate_votes,
    log_odds_weights,
    majority_vote,
    plurality_vote,
    subset_votes,
)

# A 3-model table: answers and grades (reference answers: A, B, B, B, A, C).
ANSWERS = np.array(
    [
        ["A", "A", "B"],  # q1: A wins 2-1, right
        ["A", "B", "C"],  # q2: three-way tie; model 1 (B) is right
        ["A", "B", "B"],  # q3: B wins 2-1, B is right
        ["A", None, "C"],  # q4: two-way tie, model 1 abstains; nobody right
        [" A", "A ", "b"],  # q5: whitespace is stripped, A wins and is right
        ["D", "E", "C"],  # q6: three-way tie, model 2 (C) right
    ],
    dtype=object,
)
CORRECT = np.array([[1, 1, 0], [0, 1, 0], [0, 1, 1], [0, 0, 0], [1, 1, 0], [0, 0, 1]], bool)


def test_plurality_tie_rules_by_hand():
    s, ties, inc = plurality_vote(ANSWERS, CORRECT, tie="wrong")
    assert s.tolist() == [1, 0, 1, 0, 1, 0] and ties == 3 and inc == 0
    # priority: model 1 first, then 2, then 0 (q2: model 1's B, right; q6: model 1's E, wrong)
    s, _, _ = plurality_vote(ANSWERS, CORRECT, tie="first", priority=[1, 2, 0])
    assert s.tolist() == [1, 1, 1, 0, 1, 0]
    # model 2 first: q2 goes to C (wrong), q6 to C (right); q4 to C (wrong)
    s, _, _ = plurality_vote(ANSWERS, CORRECT, tie="first", priority=[2, 0, 1])
    assert s.tolist() == [1, 0, 1, 0, 1, 1]
    s, _, _ = plurality_vote(ANSWERS, CORRECT, tie="first")  # column order: model 0 wins ties
    assert s.tolist() == [1, 0, 1, 0, 1, 0]
    s, _, _ = plurality_vote(ANSWERS, CORRECT, tie="expected")
    np.testing.assert_allclose(s, [1, 1 / 3, 1, 0, 1, 1 / 3])


def test_weighted_plurality_and_inconsistent_grades():
    # model 2 outweighs models 0 and 1 together
    s, ties, _ = plurality_vote(ANSWERS, CORRECT, weights=[1.0, 1.0, 2.5])
    assert s.tolist() == [0, 0, 1, 0, 0, 1] and ties == 0
    ans = np.array([["A", "A", "B"]], object)
    s, _, inc = plurality_vote(ans, np.array([[1, 0, 0]], bool))  # equal answers graded differently
    assert s.tolist() == [0.5] and inc == 1


def test_majority_over_bits():
    c = np.array([[1, 1, 0], [1, 0, 0], [0, 0, 0], [1, 1, 1]], bool)
    assert majority_vote(c).tolist() == [1, 0, 0, 1]
    assert majority_vote(c, weights=[3, 1, 1]).tolist() == [1, 1, 0, 1]
    even = np.array([[1, 0], [1, 1], [0, 1]], bool)
    assert majority_vote(even, tie="wrong").tolist() == [0, 1, 0]
    assert majority_vote(even, tie="expected").tolist() == [0.5, 1, 0.5]
    assert majority_vote(even, tie="first").tolist() == [1, 1, 0]


def test_log_odds_weights():
    w = log_odds_weights([0.9, 0.5, 0.2])
    np.testing.assert_allclose(w, [math.log(9), 0.0, math.log(0.25)])
    assert log_odds_weights([0.2], clip_negative=True).tolist() == [0.0]


def _random_matrix(key, n, k):
    # models of varied accuracy sharing a difficulty factor, so correlations vary
    k1, k2, k3 = jax.random.split(key, 3)
    z = np.asarray(jax.random.normal(k1, (n, 1)))
    load = np.asarray(jax.random.uniform(k2, (1, k), minval=0.0, maxval=1.5))
    thr = np.asarray(jax.random.uniform(k3, (1, k), minval=-1.0, maxval=0.5))
    e = np.asarray(jax.random.normal(jax.random.fold_in(key, 9), (n, k)))
    return (load * z + e) > thr


def test_subset_votes_against_brute_force():
    c = _random_matrix(jax.random.key(0), 120, 6)
    train = np.arange(120) % 2 == 0
    test = ~train
    r = subset_votes(c, size=3, train=train, test=test)
    subsets = list(itertools.combinations(range(6), 3))
    assert r.subsets.tolist() == [list(s) for s in subsets]
    tr_acc = c[train].mean(axis=0)
    e = (~c[train]).astype(float)
    rho = np.corrcoef(e.T)
    gains, rhos = [], []
    for s in subsets:
        vote = (c[test][:, list(s)].sum(axis=1) >= 2).mean()
        best = s[int(np.argmax(tr_acc[list(s)]))]
        gains.append(vote - c[test][:, best].mean())
        rhos.append(np.mean([rho[a, b] for a, b in itertools.combinations(s, 2)]))
    gains, rhos = np.array(gains), np.array(rhos)
    np.testing.assert_allclose(r.gain, gains, atol=1e-12)
    np.testing.assert_allclose(r.mean_rho, rhos, atol=1e-12)
    assert r.share_loses == pytest.approx(np.mean(gains < 0))
    slope, intercept = np.polyfit(rhos, gains, 1)
    assert r.slope == pytest.approx(slope) and r.intercept == pytest.approx(intercept)
    # jackknife over models by hand
    thetas = []
    for drop in range(6):
        keep = [i for i, s in enumerate(subsets) if drop not in s]
        thetas.append(np.polyfit(rhos[keep], gains[keep], 1)[0])
    thetas = np.array(thetas)
    se = math.sqrt(5 / 6 * ((thetas - thetas.mean()) ** 2).sum())
    assert r.slope_se_jackknife == pytest.approx(se)
    # naive OLS standard error
    resid = gains - (intercept + slope * rhos)
    se_naive = math.sqrt((resid**2).sum() / (len(gains) - 2) / ((rhos - rhos.mean()) ** 2).sum())
    assert r.slope_se_naive == pytest.approx(se_naive)
    assert r.status == "ok" and "optimistic binary approximation" in r.label


def test_subset_votes_rejects_even_sizes():
    with pytest.raises(ValueError, match="odd"):
        subset_votes(np.ones((4, 4), bool), size=2)


def test_evaluate_votes_reference_points():
    c = np.array([[1, 0, 0], [1, 1, 0], [0, 1, 1], [0, 0, 0], [1, 0, 1], [0, 1, 0]], bool)
    r = evaluate_votes(
        jax.random.key(0), c, answers=np.where(c, "R", "W").astype(object), n_boot=50
    )
    ref = r.reference
    assert ref.best == 0 and ref.single_best_accuracy == 0.5
    assert ref.oracle_accuracy == pytest.approx(5 / 6) and ref.G == pytest.approx(1 / 3)
    maj = r.policies["majority"]
    assert maj["accuracy"] == pytest.approx(3 / 6)
    assert "optimistic binary approximation" in maj["label"]
    # with answers R/W, plurality with "tie counts as wrong" equals majority over bits here
    assert r.policies["plurality"]["accuracy"] == pytest.approx(3 / 6)
    assert maj["realized_fraction"] == pytest.approx(0.0)


def test_weights_and_single_best_come_from_train_only():
    c = _random_matrix(jax.random.key(5), 80, 5)
    train = np.arange(80) < 40
    r1 = evaluate_votes(jax.random.key(0), c, train=train, test=~train, n_boot=20)
    c2 = c.copy()
    c2[~train] = ~c2[~train]  # change every test answer
    r2 = evaluate_votes(jax.random.key(0), c2, train=train, test=~train, n_boot=20)
    w1 = r1.policies["weighted_majority"]["weights"]
    np.testing.assert_array_equal(w1, r2.policies["weighted_majority"]["weights"])
    np.testing.assert_array_equal(w1, log_odds_weights(c[train].mean(axis=0), clip_negative=True))
    assert r1.reference.best == r2.reference.best == int(np.argmax(c[train].sum(0)))
