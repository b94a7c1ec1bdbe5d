"""Cascades by cost, checked by hand on small tables."""

import jax
import numpy as np
import pytest

from cofail_jax._src.policies.cascade import (
    confidence_cascade,
    cost_per_correct,
    disagreement_cascade,
    evaluate_cascades,
    model_costs,
)

# models: 0 cheap (cost 1), 1 middle (cost 3), 2 dear (cost 10)
CORRECT = np.array([[1, 1, 1], [0, 1, 1], [0, 0, 1], [1, 0, 0], [0, 0, 0]], bool)
CONF = np.array(
    [[0.9, 0.9, 0.9], [0.4, 0.8, 0.9], [0.3, 0.2, 0.9], [0.6, 0.1, 0.1], [0.1, 0.7, 0.2]]
)
COST = np.array([10.0, 1.0, 3.0])  # given in column order 0, 1, 2: cost order is 1, 2, 0


def test_confidence_cascade_by_hand():
    c = CORRECT[:, [2, 0, 1]]  # columns now: dear, cheap, middle (cost order 1, 2, 0)
    conf = CONF[:, [2, 0, 1]]
    r = confidence_cascade(c, COST, conf, thresholds=[-np.inf, 0.5, np.inf])
    assert r.order.tolist() == [1, 2, 0]
    # never escalate: the cheap model answers everything
    assert r.accuracy[0] == pytest.approx(2 / 5) and r.mean_cost[0] == pytest.approx(1.0)
    # t = 0.5: q1 cheap (0.9, right); q2 cheap 0.4 -> middle 0.8 (right); q3 cheap 0.3 -> middle
    # 0.2 -> dear (right); q4 cheap 0.6 (right); q5 cheap 0.1 -> middle 0.7 (wrong)
    assert r.accuracy[1] == pytest.approx(4 / 5)
    assert r.mean_cost[1] == pytest.approx((1 + 4 + 14 + 1 + 4) / 5)
    assert r.escalation_rate[1] == pytest.approx(3 / 5)
    # always escalate: every model is asked, the dear one answers
    assert r.accuracy[2] == pytest.approx(3 / 5) and r.mean_cost[2] == pytest.approx(14.0)
    assert r.cost_per_correct[1] == pytest.approx(r.mean_cost[1] / r.accuracy[1])


def test_disagreement_cascade_bits_and_answers():
    cost = np.array([1.0, 3.0, 10.0])
    r = disagreement_cascade(CORRECT, cost)
    # bits of models 0 and 1 differ on q2 and q4: escalate those to model 2
    assert r.targets.tolist() == [2]
    assert r.escalation_rate[0] == pytest.approx(2 / 5)
    assert r.accuracy[0] == pytest.approx((1 + 1 + 0 + 0 + 0) / 5)
    assert r.mean_cost[0] == pytest.approx(4 + 2 * 10 / 5)
    assert "binary approximation" in r.label
    answers = np.array(
        [["7", "7", "7"], ["3", "5", "5"], ["1", "2", "9"], ["4", "0", "0"], ["8", "8", "6"]],
        object,
    )
    r = disagreement_cascade(CORRECT, cost, answers=answers)
    # answers differ on q2, q3, q4: escalate; q1 and q5 agree (q5 both wrong, "8")
    assert r.escalation_rate[0] == pytest.approx(3 / 5)
    assert r.accuracy[0] == pytest.approx((1 + 1 + 1 + 0 + 0) / 5)


def test_costs_and_cost_per_correct():
    c = model_costs(np.array([[1.0, np.nan], [3.0, 2.0]]), 2, 2)
    assert c.tolist() == [[1.0, 2.0], [3.0, 2.0]]
    assert cost_per_correct(2.0, 0.0) == np.inf
    with pytest.raises(ValueError):
        model_costs(np.array([-1.0, 1.0]), 3, 2)


def test_evaluate_cascades_extremes_match_single_models():
    key = jax.random.key(0)
    rng_c = np.asarray(jax.random.uniform(key, (60, 3)) < 0.6)
    conf = np.asarray(jax.random.uniform(jax.random.fold_in(key, 1), (60, 3)))
    cost = np.array([1.0, 2.0, 5.0])
    r = evaluate_cascades(key, rng_c, cost, confidence=conf, n_boot=100)
    cc = r.cascades["confidence"]
    # threshold -inf = the cheapest model alone; +inf = every model asked, the dearest answers
    assert cc["accuracy"][0] == pytest.approx(rng_c[:, 0].mean())
    assert cc["mean_cost"][-1] == pytest.approx(8.0)
    assert cc["accuracy"][-1] == pytest.approx(rng_c[:, 2].mean())
    sb = r.single_best
    assert sb["accuracy"] == pytest.approx(rng_c[:, sb["index"]].mean())
    lo, hi = cc["accuracy_ci"][0]
    assert lo <= cc["accuracy"][0] <= hi


def test_evaluate_cascades_progress_does_not_change_the_result():
    key = jax.random.key(0)
    rng_c = np.asarray(jax.random.uniform(key, (60, 3)) < 0.6)
    cost = np.array([1.0, 2.0, 5.0])
    conf = np.asarray(jax.random.uniform(jax.random.fold_in(key, 1), (60, 3)))
    kw = dict(confidence=conf, n_thresholds=4, n_boot=40)
    a = evaluate_cascades(key, rng_c, cost, **kw)
    calls = []
    b = evaluate_cascades(key, rng_c, cost, **kw, progress=lambda d, t: calls.append((d, t)))
    assert calls[0][0] == 0 and calls[-1][0] == calls[-1][1] > 40
    for name, cv in a.cascades.items():
        for f in ("accuracy_ci", "cost_per_correct_ci"):
            if f in cv:
                np.testing.assert_array_equal(np.asarray(cv[f]), np.asarray(b.cascades[name][f]))
