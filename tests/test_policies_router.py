"""Routers: oracle = 1 - beta exactly, always-single-best = 0 of G exactly, the learned
baseline on the simulated fixture, the cost frontier, external choices files."""

import os
import sys

import jax
import numpy as np
import pytest

from cofail_jax import InputError, load_matrix
from cofail_jax._src.policies.reference import reference_points, score_choices
from cofail_jax._src.policies.router import (
    cost_frontier,
    cross_fit_router,
    evaluate_choices,
    fit_router_probabilities,
    oracle_choices,
    read_choices,
    route_argmax,
    single_best_choices,
)

FIX = os.path.join(os.path.dirname(__file__), "fixtures", "policies")


@pytest.fixture(scope="module")
def fixture_matrix():
    return load_matrix(os.path.join(FIX, "queries_long.csv"))


def test_oracle_reaches_one_minus_beta_and_single_best_zero(shared_data):
    m = load_matrix(os.path.join(shared_data, "zeroeval_math-l5.csv"))
    c = m.correct
    beta = m.all_wrong.mean()
    orc = evaluate_choices(jax.random.key(0), c, oracle_choices(c), best=0, n_boot=100)
    assert orc["accuracy"] == 1 - beta  # exactly
    best = int(np.argmax(c.sum(axis=0)))
    sb = evaluate_choices(jax.random.key(0), c, single_best_choices(c), best=best, n_boot=100)
    b = sb["bootstrap"]
    assert b["gain"]["estimate"] == 0.0 and b["realized_fraction"]["estimate"] == 0.0
    assert b["gain"]["lower"] == 0.0 and b["gain"]["upper"] == 0.0  # exactly 0 in every replicate
    o = evaluate_choices(jax.random.key(0), c, oracle_choices(c), best=best, n_boot=100)
    assert o["realized_fraction"] == pytest.approx(1.0, abs=1e-12)
    ref = reference_points(c)
    assert ref.oracle_accuracy == 1 - beta and ref.G == pytest.approx(1 - beta - c[:, best].mean())


def test_oracle_choices_prefers_tie_break_model():
    c = np.array([[1, 1], [0, 1], [0, 0]], bool)
    assert oracle_choices(c).tolist() == [0, 1, 0]
    assert oracle_choices(c, tie_break=1).tolist() == [1, 1, 1]
    assert score_choices(c, [1, 1, 1]).tolist() == [True, True, False]


def test_learned_router_on_fixture(fixture_matrix):
    """The fixture's models are domain specialists, so a router that sees the prompt and
    domain recovers a positive share of G on held-out queries."""
    m = fixture_matrix
    cf = cross_fit_router(
        jax.random.key(0), m.correct, m.query_meta["prompt"], m.query_meta["domain"], n_folds=4
    )
    assert cf.test.all() and cf.proba.shape == (m.n, m.k)
    ch = route_argmax(cf.proba)
    r = evaluate_choices(jax.random.key(1), m.correct, ch, best=cf.best, n_boot=300)
    assert r["bootstrap"]["realized_fraction"]["lower"] > 0
    assert r["realized_fraction"] < 1
    # a single split scores only held-out queries
    sp = cross_fit_router(
        jax.random.key(0),
        m.correct,
        m.query_meta["prompt"],
        m.query_meta["domain"],
        test_fraction=0.25,
    )
    assert sp.test.sum() == 60 and sp.proba.shape == (60, m.k)


def test_router_features_constant_labels():
    y = np.array([[1, 0], [1, 1], [1, 0], [1, 1]], bool)
    fit = fit_router_probabilities(y, ["a b", "c d", "a c", "d d"], ["a b", "d"], None, None)
    assert fit.constant_models == (0,) and np.all(fit.proba[:, 0] == 1.0)


def test_cost_frontier_ends():
    c = np.array([[1, 0], [1, 1], [0, 1]], bool)
    proba = np.array([[0.9, 0.2], [0.6, 0.7], [0.1, 0.8]])
    f = cost_frontier(c, proba, np.array([1.0, 0.1]), [0.0, 100.0])
    assert f["accuracy"].tolist() == [
        1.0,
        2 / 3,
    ]  # lambda 0: argmax p; large: always the cheap model
    assert f["mean_cost"].tolist() == pytest.approx([(1 + 0.1 + 0.1) / 3, 0.1])


def test_read_choices(tmp_path, fixture_matrix):
    m = fixture_matrix
    rows, ch = read_choices(os.path.join(FIX, "router_choices.csv"), m.query_ids, m.models)
    assert rows.tolist() == list(range(m.n)) and set(ch.tolist()) == {0, 1, 2}
    p = tmp_path / "c.jsonl"
    p.write_text('{"query_id": "q001", "model": "large"}\n{"query_id": "q000", "model": "tiny"}\n')
    rows, ch = read_choices(str(p), m.query_ids, m.models)
    assert rows.tolist() == [0, 1] and ch.tolist() == [0, 3]
    for text, match in (
        ("query_id,model\nq000,gpt9\n", "model 'gpt9'"),
        ("query_id,model\nzzz,tiny\n", "query id 'zzz'"),
        ("query_id,model\nq000,tiny\nq000,large\n", "routed twice"),
        ("qid,m\nq000,tiny\n", "lacks query_id"),
    ):
        bad = tmp_path / "bad.csv"
        bad.write_text(text)
        with pytest.raises(InputError, match=match):
            read_choices(str(bad), m.query_ids, m.models)


def test_sklearn_missing_message(monkeypatch):
    monkeypatch.setitem(sys.modules, "sklearn", None)
    with pytest.raises(ImportError, match="scikit-learn"):
        fit_router_probabilities(np.ones((2, 2), bool), ["a", "b"], ["a"])
