"""Non-identification: exact and moment bounds on beta, counterexample laws, sampler, CLI.

References used here: hand-computed cases (the three-model parity example, independence,
comonotone errors), brute-force vertex enumeration of the LP polytope for k <= 4, the
closed-form three-model range, enumeration of 3-point supports for the moment problem,
the trivariate equicorrelated orthant closed form 1/8 + 3 asin(rho)/(4 pi), and the
real matrices of tests/fixtures/shared.
"""

import itertools
import json
import math
import os

import h5py
import jax
import numpy as np
import pytest

from cofail_jax import load_matrix
from cofail_jax._src import identify as I
from cofail_jax._src.identify import rates as rates_mod
from cofail_jax._src.identify import sample as sample_mod
from cofail_jax.cli.main import main


# ------------------------------------------------------------------------------------
# references
# ------------------------------------------------------------------------------------
def vertex_bounds(p, p2):
    """min/max of P(all wrong) over the vertices of {x >= 0 : A x = b}: every basis of
    rank(A) atoms, solved directly (no LP solver)."""
    k = len(p)
    A, _, iu, ju = rates_mod._atom_design(k)
    A = A.toarray()
    b = np.concatenate([[1.0], p, p2[iu, ju]])
    r = np.linalg.matrix_rank(A)
    vals = []
    for cols in itertools.combinations(range(1 << k), r):
        B = A[:, cols]
        if np.linalg.matrix_rank(B) < r:
            continue
        x, *_ = np.linalg.lstsq(B, b, rcond=None)
        if np.abs(B @ x - b).max() > 1e-9 or x.min() < -1e-10:
            continue
        full = np.zeros(1 << k)
        full[list(cols)] = x
        vals.append(full[-1])
    return min(vals), max(vals)


def triple_range(p, p2):
    """Closed-form range of P(all three wrong) for k = 3 (the 2x2x2 table is one free cell)."""
    a, b, c = p
    ab, ac, bc = p2[0, 1], p2[0, 2], p2[1, 2]
    lo = max(0.0, ab + ac - a, ab + bc - b, ac + bc - c)
    hi = min(ab, ac, bc, 1 - a - b - c + ab + ac + bc)
    return lo, hi


def rates_of(table):
    law = I.law_from_table(table)
    return law.p, law.p2


def moment_bounds_by_support(k, s1, s2):
    """Discrete moment problem by enumeration: LP vertices have <= 3 support points."""
    s = np.arange(k + 1, dtype=float)
    rows = np.stack([np.ones(k + 1), s, s * (s - 1) / 2])
    b = np.array([1.0, s1, s2])
    vals = []
    for sup in itertools.combinations(range(k + 1), 3):
        B = rows[:, sup]
        if abs(np.linalg.det(B)) < 1e-12:
            continue
        q = np.linalg.solve(B, b)
        if q.min() < -1e-12:
            continue
        vals.append(q[2] if sup[2] == k else 0.0)
    return min(vals), max(vals)


# ------------------------------------------------------------------------------------
# hand cases
# ------------------------------------------------------------------------------------
def test_classic_three_model_example():
    ce = I.counterexample(3, 0.5, 0.25)
    b = ce.bounds
    assert b.status == "OK" and b.lower_exact and b.upper_exact
    assert b.beta_min == pytest.approx(0.0, abs=1e-12)
    assert b.beta_max == pytest.approx(0.25, abs=1e-12)
    lo, hi = ce.law_min, ce.law_max
    # parity law: S in {0, 2}; the other: S in {1, 3}
    np.testing.assert_allclose(lo.counts, [0.25, 0, 0.75, 0], atol=1e-12)
    np.testing.assert_allclose(hi.counts, [0, 0.75, 0, 0.25], atol=1e-12)
    np.testing.assert_allclose(lo.table, [0.25, 0, 0, 0.25, 0, 0.25, 0.25, 0], atol=1e-12)
    for law in (lo, hi):
        np.testing.assert_allclose(law.p, 0.5, atol=1e-12)
        iu = np.triu_indices(3, 1)
        np.testing.assert_allclose(law.p2[iu], 0.25, atol=1e-12)
        np.testing.assert_allclose(law.pearson[iu], 0.0, atol=1e-12)
        np.testing.assert_allclose(law.tetrachoric[iu], 0.0, atol=1e-9)
    # the exact atom LP agrees with the exchangeable reduction
    bl = I.beta_bounds_lp(*I.exchangeable_rates(3, 0.5, 0.25))
    assert (bl.beta_min, bl.beta_max) == pytest.approx((0.0, 0.25), abs=1e-12)
    assert ce.gaussian.beta == pytest.approx(0.125, abs=1e-9)  # rho = 0: independence


def test_independence():
    p = np.array([0.2, 0.3, 0.4, 0.5])
    p2 = np.outer(p, p)
    b = I.beta_bounds(p, p2)
    assert b.method == "exact-lp" and b.status == "OK"
    assert b.beta_min - 1e-12 <= np.prod(p) <= b.beta_max + 1e-12
    assert (b.beta_min, b.beta_max) == pytest.approx(vertex_bounds(p, p2), abs=1e-10)
    # k = 2 is identified: beta = p_12
    b2 = I.beta_bounds(p[:2], p2[:2, :2])
    assert (b2.beta_min, b2.beta_max) == pytest.approx((0.06, 0.06), abs=1e-12)


def test_comonotone_forces_min_p():
    p = np.array([0.1, 0.2, 0.3, 0.45])
    p2 = np.minimum.outer(p, p)
    b = I.beta_bounds(p, p2)
    assert (b.beta_min, b.beta_max) == pytest.approx((0.1, 0.1), abs=1e-10)
    # exchangeable comonotone: all wrong together
    ce = I.counterexample(6, 0.3, 0.3)
    assert ce.bounds.beta_min == pytest.approx(0.3, abs=1e-10)
    assert ce.bounds.beta_max == pytest.approx(0.3, abs=1e-10)
    assert ce.gaussian.beta == pytest.approx(0.3, abs=1e-8)


def test_gaussian_trivariate_closed_form():
    # P(Z1,Z2,Z3 < 0) with equal correlation rho: 1/8 + 3 asin(rho)/(4 pi)
    for rho_t in (0.3, 0.5):
        ce = I.counterexample(3, 0.5, rho_tetrachoric=rho_t)
        truth = 0.125 + 3 * math.asin(rho_t) / (4 * math.pi)
        assert ce.gaussian.beta == pytest.approx(truth, rel=1e-6)
        assert ce.bounds.beta_min - 1e-12 <= ce.gaussian.beta <= ce.bounds.beta_max + 1e-12
        np.testing.assert_allclose(ce.law_min.tetrachoric[0, 1], rho_t, atol=1e-8)


# ------------------------------------------------------------------------------------
# brute force
# ------------------------------------------------------------------------------------
def test_exact_lp_matches_closed_form_k3_and_vertices_k4():
    rng = np.random.default_rng(0)
    for _ in range(5):
        p, p2 = rates_of(rng.dirichlet(np.full(8, 0.7)))
        b = I.beta_bounds_lp(p, p2)
        assert (b.beta_min, b.beta_max) == pytest.approx(triple_range(p, p2), abs=1e-9)
    for _ in range(3):
        p, p2 = rates_of(rng.dirichlet(np.full(16, 0.5)))
        b = I.beta_bounds_lp(p, p2)
        assert (b.beta_min, b.beta_max) == pytest.approx(vertex_bounds(p, p2), abs=1e-9)
        # the extremal laws match the inputs and attain the bounds
        for law, val in ((b.law_min, b.beta_min), (b.law_max, b.beta_max)):
            np.testing.assert_allclose(law.p, p, atol=1e-9)
            np.testing.assert_allclose(law.p2, p2, atol=1e-9)
            assert law.beta == pytest.approx(val, abs=1e-12)
        # the moment reduction is a valid relaxation
        iu = np.triu_indices(4, 1)
        rel = I.beta_bounds_moments(4, p.sum(), p2[iu].sum(), laws=False)
        assert not rel.lower_exact and rel.method == "moment-relaxation"
        assert rel.beta_min <= b.beta_min + 1e-9 and rel.beta_max >= b.beta_max - 1e-9


def test_exchangeable_reduction_is_exact():
    for k, p, rho in ((4, 0.3, 0.2), (5, 0.4, -0.1), (6, 0.2, 0.5)):
        pv, P = I.exchangeable_rates(k, p, rho=rho)
        ex = I.beta_bounds(pv, P)
        assert ex.method == "exchangeable-lp" and ex.lower_exact and ex.upper_exact
        lp = I.beta_bounds_lp(pv, P, laws=False)
        assert (ex.beta_min, ex.beta_max) == pytest.approx((lp.beta_min, lp.beta_max), abs=1e-9)
        # the count laws' tables have the right pairwise rates
        np.testing.assert_allclose(I.law_from_table(ex.law_max.table).p2, P, atol=1e-12)


def test_moment_lp_large_k_against_support_enumeration():
    k = 40
    for p, rho in ((0.3, 0.2), (0.1, 0.05), (0.5, 0.6)):
        s1 = k * p
        s2 = k * (k - 1) / 2 * (p * p + rho * p * (1 - p))
        b = I.beta_bounds_moments(k, s1, s2, exact=True, laws=False)
        ref = moment_bounds_by_support(k, s1, s2)
        assert (b.beta_min, b.beta_max) == pytest.approx(ref, abs=1e-9)
    k = 1000
    b = I.beta_bounds_moments(k, 0.3 * k, k * (k - 1) / 2 * (0.09 + 0.2 * 0.21), exact=True,
                              laws=False)
    assert b.status == "OK" and b.beta_min == pytest.approx(0.0, abs=1e-12)
    assert 0.05 < b.beta_max < 0.3


# ------------------------------------------------------------------------------------
# infeasible inputs
# ------------------------------------------------------------------------------------
def test_inconsistent_and_infeasible_inputs():
    b = I.counterexample(3, 0.5, 0.6).bounds
    assert b.status == "INCONSISTENT" and "exceeds min" in b.message and math.isnan(b.beta_min)
    b = I.counterexample(3, 0.2, rho=-0.5).bounds
    assert b.status == "INCONSISTENT" and "negative" in b.message
    p, p2 = I.exchangeable_rates(3, 0.5, rho=-0.5)  # pairwise fine, no 2x2x2 table
    assert I.check_pairwise_rates(p, p2)[0] == "INCONSISTENT"
    assert "models 0, 1, 2" in I.beta_bounds_lp(p, p2).message
    # exchangeable Pearson below -1/(k-1): every triple is fine, the whole pool is not
    p, p2 = I.exchangeable_rates(5, 0.5, rho=-0.3)
    assert I.check_pairwise_rates(p, p2)[0] == "OK"
    assert I.beta_bounds_lp(p, p2).status == "INFEASIBLE"
    assert I.beta_bounds(p, p2).status == "INCONSISTENT"  # the count reduction explains why


# ------------------------------------------------------------------------------------
# real data: the empirical law is feasible, so the observed beta lies inside
# ------------------------------------------------------------------------------------
def test_observed_beta_inside_range_shared_data(shared_data):
    names = sorted(f for f in os.listdir(shared_data) if f.endswith(".csv"))
    assert len(names) == 3, names
    for name in names:
        m = load_matrix(os.path.join(shared_data, name))
        top = np.argsort(-m.accuracy, kind="stable")[:8]
        for idx in (top, np.arange(8)):
            e = m.errors[:, idx]
            p, p2 = I.pairwise_rates(e)
            b = I.beta_bounds(p, p2, laws=False)
            beta = e.all(axis=1).mean()
            assert b.status == "OK" and b.method == "exact-lp", name
            assert b.beta_min - 1e-7 <= beta <= b.beta_max + 1e-7, name
        # every model: relaxed bounds, still valid
        p, p2 = I.pairwise_rates(m.errors)
        rel = I.beta_bounds(p, p2, laws=False)
        assert rel.method == "moment-relaxation" and not rel.upper_exact
        beta = m.errors.all(axis=1).mean()
        assert rel.beta_min - 1e-7 <= beta <= rel.beta_max + 1e-7, name


# ------------------------------------------------------------------------------------
# sampler and the simulation check
# ------------------------------------------------------------------------------------
def test_simulation_check_classic_example():
    ce = I.counterexample(3, 0.5, 0.25)
    chk = I.verify_by_simulation(jax.random.key(0), ce.law_min, ce.law_max, 1_000_000)
    assert chk.agree and chk.beta_differs
    assert chk.stats_min.n == 1_000_000 and chk.stats_min.beta == 0.0
    s = chk.stats_max
    assert abs(s.beta - 0.25) < 4 * s.beta_se
    np.testing.assert_array_less(np.abs(s.p - 0.5), 4 * s.p_se)
    assert chk.stats_min.count_hist[1] == 0 and chk.stats_min.count_hist[3] == 0
    # a second law of the same shape reuses the compiled kernel
    other = I.counterexample(3, 0.4, rho=0.1).law_max
    I.simulate_law_stats(jax.random.key(9), other, 1_000_000)
    fn = sample_mod._stats_fn("table", 3, 3, 1 << 16, -(-1_000_000 // (1 << 16)))
    assert fn._cache_size() == 1


def test_sampler_matches_streamed_stats_and_counts_law():
    ce = I.counterexample(3, 0.5, 0.25)
    key = jax.random.key(3)
    # not a multiple of the chunk; the shapes of the chunk-size test (compiled once)
    n = 200
    e = np.asarray(I.sample_law(key, ce.law_max, n, chunk_size=7))
    assert e.shape == (n, 3) and e.dtype == np.bool_
    st = I.simulate_law_stats(key, ce.law_max, n, chunk_size=7)
    np.testing.assert_array_equal(st.p * n, e.sum(0))
    np.testing.assert_array_equal(st.p2 * n, e.T.astype(int) @ e.astype(int))
    assert st.beta * n == e.all(1).sum()
    assert set(np.unique(e.sum(1))) <= {1, 3}
    # exchangeable count law beyond table size: subsets of the right size
    ce20 = I.counterexample(20, 0.3, rho=0.2)
    assert ce20.law_max.table is None
    e20 = np.asarray(I.sample_law(jax.random.key(2), ce20.law_max, 200, chunk_size=7))
    assert set(np.unique(e20.sum(1))) <= set(np.flatnonzero(ce20.law_max.counts > 1e-12))
    # k > 64: only the first 64 models are drawn, sequentially, besides the count
    ce = I.counterexample(100, 0.3, rho=0.2)
    chk = I.verify_by_simulation(jax.random.key(1), ce.law_min, ce.law_max, 50_000,
                                 chunk_size=1 << 12)
    assert chk.stats_max.p.shape == (64,) and chk.agree and chk.beta_differs
    assert abs(chk.stats_max.beta - ce.law_max.beta) < 4 * chk.stats_max.beta_se


def test_sampling_bit_identical_across_chunk_sizes():
    """Query j uses fold_in(key, j): the matrix and its streamed counts ignore the chunking."""
    key = jax.random.key(11)
    for law in (I.counterexample(3, 0.5, 0.25).law_max,  # atom table
                I.counterexample(20, 0.3, rho=0.2).law_max):  # exchangeable counts, no table
        a = np.asarray(I.sample_law(key, law, 200, chunk_size=200))
        b = np.asarray(I.sample_law(key, law, 200, chunk_size=7))
        np.testing.assert_array_equal(a, b)
        s1 = I.simulate_law_stats(key, law, 200, chunk_size=200)
        s2 = I.simulate_law_stats(key, law, 200, chunk_size=7)
        np.testing.assert_array_equal(s1.p2, s2.p2)
        np.testing.assert_array_equal(s1.count_hist, s2.count_hist)
        np.testing.assert_array_equal(s1.count_hist[: law.k + 1],
                                      np.bincount(a.sum(1), minlength=law.k + 1))
    # the simulator draws these laws with the same per-query sampler
    from cofail_jax._src import simulate as S

    law = I.counterexample(3, 0.5, 0.25).law_max
    e1 = S.sample_errors(key, S.from_error_law(law), 200, chunk_size=200)
    e2 = S.sample_errors(key, S.from_error_law(law), 200, chunk_size=7)
    np.testing.assert_array_equal(e1, e2)
    assert set(np.unique(e1.sum(1))) <= {1, 3}


# ------------------------------------------------------------------------------------
# CLI
# ------------------------------------------------------------------------------------
def run(capsys, *argv):
    rc = main(list(argv))
    out, err = capsys.readouterr()
    return rc, out, err


def test_cli_counterexample(tmp_path, capsys):
    out = tmp_path / "ce.h5"
    rc, text, _ = run(capsys, "counterexample", "--k", "3", "--p", "0.5", "--p2", "0.25",
                      "--out", str(out))
    assert rc == 0
    for word in ("beta_min law", "[0, 0.25]", "agree", "beta differs"):
        assert word in text
    rc, js, _ = run(capsys, "counterexample", "--k", "3", "--p", "0.5", "--rho", "0", "--n-sim",
                    "0", "--json")
    doc = json.loads(js)
    assert doc["schema"] == "cofail_jax.json/1" and doc["provenance"]["method"] == "exchangeable-lp"
    r = doc["result"]
    assert r["bounds"]["beta_max"] == pytest.approx(0.25)
    assert r["law_min"]["beta"] == pytest.approx(0)
    with h5py.File(out) as f:
        assert f["bounds/beta_max"][()] == pytest.approx(0.25)
        np.testing.assert_allclose(f["law_min/table"][:], [0.25, 0, 0, 0.25, 0, 0.25, 0.25, 0],
                                   atol=1e-12)
        assert f["simulation"].attrs["n"] == 1_000_000 and f.attrs["seed"] == 0


@pytest.mark.parametrize("argv, match", [
    (["--k", "3", "--p", "0.5", "--p2", "0.6"], "exceeds min"),
    (["--k", "3", "--p", "1.5", "--p2", "0.1"], "strictly between"),
    (["--k", "3", "--p", "0.2,0.3", "--p2", "0.1"], "2 rates for k = 3"),
    (["--k", "4", "--p", "0.3"], "pairwise dependence"),
])
def test_cli_counterexample_bad_input(tmp_path, capsys, argv, match):
    out = tmp_path / "bad.h5"
    rc, _, err = run(capsys, "counterexample", *argv, "--out", str(out))
    assert rc == 2 and match in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1
    assert not out.exists()


def test_cli_identify(shared_data, tmp_path, capsys):
    path = os.path.join(shared_data, "zeroeval_gsm8k.csv")
    out = tmp_path / "id.h5"
    rc, js, _ = run(capsys, "identify", path, "--top", "8", "--json", "--out", str(out))
    assert rc == 0
    r = json.loads(js)["result"]
    m = load_matrix(path)
    top = np.argsort(-m.accuracy, kind="stable")[:8]
    assert r["beta_observed"] == pytest.approx(m.errors[:, top].all(1).mean())
    b = r["bounds"]
    assert b["method"] == "exact-lp" and b["lower_exact"] and r["inside"]
    assert b["beta_min"] - 1e-7 <= r["beta_observed"] <= b["beta_max"] + 1e-7
    g = r["gaussian"]
    assert b["beta_min"] - 1e-7 <= g["beta"] <= b["beta_max"] + 1e-7
    with h5py.File(out) as f:
        assert f["identify/beta_max"][()] == pytest.approx(b["beta_max"], abs=0)
        assert list(f["identify/model"].asstr()[:]) == r["models"]
        assert "input_sha256" in f.attrs
    rc, text, _ = run(capsys, "identify", path, "--top", "8")
    assert rc == 0 and "exact (sharp)" in text and "observed beta" in text
    rc, _, err = run(capsys, "identify", path, "--top", "1")
    assert rc == 2 and "--top" in err


def test_column_generation_equals_full_lp():
    rng = np.random.default_rng(5)
    for k in (5, 6):
        p, p2 = rates_of(rng.dirichlet(np.full(1 << k, 0.3)))
        full = I.beta_bounds_lp(p, p2, solver="full", laws=False)
        cg = I.beta_bounds_lp(p, p2, solver="colgen")
        assert (cg.beta_min, cg.beta_max) == pytest.approx((full.beta_min, full.beta_max), abs=1e-9)
        np.testing.assert_allclose(cg.law_max.p2, p2, atol=1e-9)
    p, p2 = I.exchangeable_rates(5, 0.5, rho=-0.3)
    assert I.beta_bounds_lp(p, p2, solver="colgen").status == "INFEASIBLE"
