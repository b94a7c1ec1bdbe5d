"""Simulator: sampled beta vs the law's true beta, underpricing ratio, calibration."""

import math
import os

import jax
import numpy as np
import pytest
from scipy.special import ndtri
from scipy.stats import multivariate_normal

from cofail_jax._src import simulate as S

import oracles

N = 60_000
KEY = jax.random.key(20261126)

P4 = np.array([0.35, 0.5, 0.6, 0.45])


def _laws():
    corr = np.array(
        [[1.0, 0.5, 0.3, 0.2], [0.5, 1.0, 0.4, 0.1], [0.3, 0.4, 1.0, 0.6], [0.2, 0.1, 0.6, 1.0]]
    )
    return {
        "independent": S.independent_law(P4),
        "onefactor": S.onefactor_law(P4, [0.8, 0.6, 0.7, 0.5]),
        "gaussian": S.gaussian_law(P4, corr),
        "clayton": S.clayton_law(P4, 1.5),
        "common_shock": S.common_shock_law(0.05, [0.3, 0.5, 0.4, 0.6]),
        "irt": S.irt_law([-0.5, 0.0, 0.4, 1.0], difficulty_sd=1.5, log_disc_sd=0.4),
        "artefacts": S.with_artefacts(S.independent_law(P4), 0.03),
    }


LAWS = _laws()


def _within(emp_count, n, truth, z=4.0):
    se = math.sqrt(truth * (1 - truth) / n)
    return abs(emp_count / n - truth) < z * se, (emp_count / n, truth, se)


@pytest.mark.parametrize("name", sorted(LAWS))
def test_empirical_beta_matches_true_beta(name):
    law = LAWS[name]
    err = S.sample_errors(jax.random.fold_in(KEY, hash(name) % 1000), law, N)
    assert err.shape == (N, 4) and err.dtype == bool
    for subset in ([0, 1, 2, 3], [1, 2], [0, 3, 2]):
        tb = S.true_beta(law, subset)
        ok, info = _within(err[:, subset].all(axis=1).sum(), N, tb.beta)
        assert ok, (name, subset, info, tb.method)
    # marginals too: the law's stated error rates
    for i in range(4):
        ok, info = _within(err[:, i].sum(), N, law.marginal_error[i])
        assert ok, (name, i, info)


def test_true_beta_closed_forms():
    law = LAWS["common_shock"]
    assert S.true_beta(law).beta == pytest.approx(0.05 + 0.95 * 0.3 * 0.5 * 0.4 * 0.6, rel=1e-14)
    cl = LAWS["clayton"]
    th = 1.5
    assert S.true_beta(cl, [0, 1]).beta == pytest.approx(
        (0.35**-th + 0.5**-th - 1) ** (-1 / th), rel=1e-14
    )
    art = LAWS["artefacts"]
    assert S.true_beta(art).beta == pytest.approx(0.03 + 0.97 * np.prod(P4), rel=1e-14)


def test_onefactor_quadrature_matches_scipy_mvn():
    lam = np.array([0.8, 0.6, 0.7, 0.5])
    corr = np.outer(lam, lam)
    np.fill_diagonal(corr, 1.0)
    want = multivariate_normal.cdf(
        ndtri(P4),
        mean=np.zeros(4),
        cov=corr,
        abseps=1e-8,
        releps=1e-8,
        maxpts=2_000_000,
        rng=np.random.default_rng(1),
    )
    assert S.true_beta(LAWS["onefactor"]).beta == pytest.approx(want, abs=1e-6)
    # and the full-Gaussian path of the same matrix agrees with the one-factor path
    g = S.gaussian_law(P4, corr)
    assert S.true_beta(g).beta == pytest.approx(S.true_beta(LAWS["onefactor"]).beta, abs=1e-5)


def test_bvn_matches_closed_form_orthant():
    # P(X<=0, Y<=0) = 1/4 + arcsin(rho)/(2 pi)
    rho = np.array([-0.9, -0.3, 0.0, 0.4, 0.95])
    got = oracles.bvn_cdf(0.0, 0.0, rho)
    np.testing.assert_allclose(got, 0.25 + np.arcsin(rho) / (2 * np.pi), atol=1e-12)


def test_irt_pairwise_matches_sampling():
    law = LAWS["irt"]
    err = S.sample_errors(jax.random.fold_in(KEY, 7), law, N)
    q = S.pair_both_wrong(law)
    emp = (err[:, :, None] & err[:, None, :]).mean(axis=0)
    se = np.sqrt(q * (1 - q) / N)
    assert np.all(np.abs(emp - q) < 4 * se)


def test_sampling_independent_of_chunk_size():
    # block b of S.BLOCK queries comes from fold_in(key, b): one, two or three blocks per
    # compiled call give the same matrix, and a shorter matrix is a prefix of a longer one
    law = LAWS["onefactor"]
    n = 2 * S.BLOCK + 300
    a = S.sample_errors(KEY, law, n, chunk_size=S.BLOCK)
    b = S.sample_errors(KEY, law, n, chunk_size=S.BLOCK)  # same compiled function
    np.testing.assert_array_equal(a, b)
    for chunk in (100, 2 * S.BLOCK, 10 ** 6):
        np.testing.assert_array_equal(a, S.sample_errors(KEY, law, n, chunk_size=chunk))
    np.testing.assert_array_equal(a[:1000], S.sample_errors(KEY, law, 1000))
    assert not np.array_equal(a[:S.BLOCK], a[S.BLOCK:2 * S.BLOCK])


def test_common_shock_underpricing_is_one_at_two_and_grows():
    law = S.common_shock_law(0.02, np.full(12, 0.4))
    u = S.underpricing_curve(law)
    assert u.ratio[1] == pytest.approx(1.0, abs=1e-6)  # m = 2: the 2x2 table is the model
    assert np.all(np.diff(u.ratio[2:]) > 0)  # strictly increasing from m = 3
    assert u.ratio[-1] > 10
    # ... and the pairwise-calibrated price is exact under a one-factor Gaussian law
    g = S.onefactor_law(np.linspace(0.2, 0.6, 8), np.linspace(0.3, 0.8, 8))
    np.testing.assert_allclose(S.underpricing_curve(g).ratio, 1.0, atol=1e-5)


def test_common_shock_ratio_heterogeneous_alpha():
    alpha = np.linspace(0.25, 0.6, 10)
    u = S.underpricing_curve(S.common_shock_law(0.03, alpha))
    assert u.ratio[1] == pytest.approx(1.0, abs=1e-6)
    assert u.ratio[-1] > u.ratio[4] > u.ratio[2] > 1


def test_tetrachoric_inversion_recovers_rho():
    p = np.array([0.2, 0.5, 0.7])
    lam = np.array([0.9, 0.5, 0.6])
    law = S.onefactor_law(p, lam)
    want = np.outer(lam, lam)
    np.fill_diagonal(want, 1.0)
    for r in (S.exact_tetrachoric(p, S.pair_both_wrong(law)),  # the library's engine
              oracles.tetrachoric_from_rates(p, S.pair_both_wrong(law))):  # numpy bisection
        np.testing.assert_allclose(r, want, atol=1e-9)
    np.testing.assert_allclose(np.abs(oracles.fit_onefactor(want)), lam, atol=1e-6)
    np.testing.assert_allclose(S.onefactor_loadings(want), lam, atol=1e-12)
    assert S.onefactor_loadings(np.array([[1, .5, .1], [.5, 1, .6], [.1, .6, 1]])) is None


def test_benchmark_pool_is_deterministic():
    a = S.benchmark_pool(jax.random.key(3))
    b = S.benchmark_pool(jax.random.key(3))
    assert a.correct.shape == (330, 67)
    np.testing.assert_array_equal(a.correct, b.correct)
    assert not np.array_equal(a.correct, S.benchmark_pool(jax.random.key(4)).correct)
    law = S.benchmark_law(67)
    np.testing.assert_allclose(1 - law.p_wrong, np.linspace(0.3, 0.9, 67), atol=1e-9)
    # accuracies within sampling error of the law (4 SE, per model; a few may stray)
    se = np.sqrt(law.p_wrong * (1 - law.p_wrong) / 330)
    assert np.mean(np.abs(a.accuracy - (1 - law.p_wrong)) < 4 * se) > 0.98


@pytest.mark.parametrize(
    "kind", ["independent", "onefactor", "gaussian", "clayton", "common_shock", "irt"]
)
def test_calibrated_generators_reproduce_accuracies(kind, shared_data):
    from cofail_jax import load_matrix

    m = load_matrix(os.path.join(shared_data, "zeroeval_math-l5.csv"))
    cols = [0, 5, 10, 20, 25, 30, 36, 37]
    c = m.correct[:, cols]
    cal = S.calibrate(kind, c)
    pair_matched = cal.status == "OK"
    assert pair_matched or kind == "common_shock", cal.status
    target_acc = 1 - cal.target_error
    np.testing.assert_allclose(cal.law.marginal_error, cal.target_error, rtol=1e-6, atol=1e-8)
    n = 20_000
    err = S.sample_errors(jax.random.fold_in(KEY, 99), cal.law, n)
    se = np.sqrt(target_acc * (1 - target_acc) / n)
    assert np.all(np.abs((1 - err.mean(axis=0)) - target_acc) < 4 * se)
    q = S.pair_both_wrong(cal.law)
    iu = np.triu_indices(len(cols), 1)
    if kind in ("clayton", "common_shock", "irt") and pair_matched:
        assert q[iu].mean() == pytest.approx(cal.target_both_wrong[iu].mean(), rel=1e-3)
    if kind == "gaussian":  # the tetrachoric matrix is reproduced (up to PD projection)
        np.testing.assert_allclose(q[iu], cal.target_both_wrong[iu], atol=2e-3)


def test_bad_parameters_raise():
    with pytest.raises(ValueError, match="strictly in"):
        S.independent_law([0.0, 0.5])
    with pytest.raises(ValueError, match="theta"):
        S.clayton_law([0.5], 0.0)
    with pytest.raises(ValueError, match="positive definite"):
        S.gaussian_law([0.5, 0.5, 0.5], [[1, 0.99, -0.99], [0.99, 1, 0.99], [-0.99, 0.99, 1]])


# ---- CLI --------------------------------------------------------------------------------
def _cli(capsys, *argv):
    from cofail_jax.cli.main import main

    rc = main(list(argv))
    out, err = capsys.readouterr()
    return rc, out, err


@pytest.mark.parametrize("ext", ["csv", "jsonl", "h5"])
def test_cli_simulate_roundtrips_through_loaders(ext, tmp_path, capsys):
    import json

    import h5py

    from cofail_jax import load_matrix

    out = tmp_path / f"pool.{ext}"
    rc, text, _ = _cli(
        capsys,
        "simulate",
        "--law",
        "common-shock",
        "--models",
        "6",
        "--queries",
        "400",
        "--omega",
        "0.05",
        "--seed",
        "3",
        "--out",
        str(out),
        "--json",
    )
    assert rc == 0
    doc = json.loads(text)
    truth = doc["result"]
    assert doc["provenance"]["seed"] == 3
    m = load_matrix(str(out))
    assert m.correct.shape == (400, 6)
    assert truth["observed_all_wrong"] == int(m.all_wrong.sum())
    law = S.common_shock_law(0.05, (1 - np.linspace(0.3, 0.9, 6) - 0.05) / 0.95)
    assert truth["true_beta"] == pytest.approx(S.true_beta(law).beta, rel=1e-12)
    assert truth["true_beta_curve"]["beta"][-1] == pytest.approx(truth["true_beta"])
    if ext == "h5":
        with h5py.File(out) as f:
            assert json.loads(f.attrs["truth"])["true_beta"] == pytest.approx(truth["true_beta"])
            assert "jax_version" in f.attrs
    else:
        side = json.loads((tmp_path / f"pool.{ext}.truth.json").read_text())
        assert side["result"]["true_beta"] == truth["true_beta"]
        assert side["provenance"]["method"] == "simulate:common_shock"


def test_cli_simulate_bad_input_exits_2_without_output(tmp_path, capsys):
    from cofail_jax.cli.main import main

    out = tmp_path / "pool.csv"
    for argv in (
        ["--law", "common-shock", "--omega", "0.5"],
        ["--law", "clayton", "--theta", "-1"],
        ["--accuracy-range", "0.9"],
        ["--calibrate-to", str(tmp_path / "missing.csv")],
    ):
        assert main(["simulate", *argv, "--out", str(out)]) == 2
        _, err = capsys.readouterr()
        assert "Traceback" not in err and err.strip().count("\n") == 0
        assert not out.exists() and not (tmp_path / "pool.csv.truth.json").exists()


def test_agrees_with_pricing_and_tetrachoric_engines():
    """The library's engines against the numpy oracles (tests/oracles.py): one-factor
    quadrature, tetrachoric, and the underpricing curve's fitted one-factor price."""
    from cofail_jax._src import tetrachoric as tetra

    law = S.onefactor_law(np.linspace(0.1, 0.6, 12), np.linspace(0.3, 0.9, 12))
    want = oracles.onefactor_price(law.p_wrong, law.params["loadings"])
    assert S.true_beta(law).beta == pytest.approx(want, rel=1e-7)
    cs = S.common_shock_law(0.02, np.full(12, 0.4))  # exchangeable: one-factor tetrachorics
    u = S.underpricing_curve(cs, sizes=[2, 5, 12])
    q_cs = S.pair_both_wrong(cs)
    for m, b in zip(u.m, u.beta_pred):
        assert b == pytest.approx(oracles.onefactor_prediction(cs.p_wrong, q_cs, np.arange(m)),
                                  rel=1e-5)
    err = S.sample_errors(KEY, LAWS["gaussian"], 2000)
    e = err.astype(np.float64)
    q = e.T @ e / e.shape[0]
    mine = oracles.tetrachoric_from_rates(e.mean(axis=0), q)
    theirs = np.asarray(tetra.tetrachoric(err).rho)
    np.testing.assert_allclose(mine, theirs, atol=1e-7)


def test_counterexample_laws_plug_in():
    """Issue 6's extremal laws: same pairwise tables, different beta, both sampled correctly."""
    from cofail_jax._src import identify
    for ce in (
        identify.counterexample(3, 0.5, 0.25),  # atom tables (parity law)
        identify.counterexample(12, 0.3, rho_tetrachoric=0.4),
    ):  # exchangeable counts
        lo, hi = S.from_error_law(ce.law_min), S.from_error_law(ce.law_max)
        np.testing.assert_allclose(S.pair_both_wrong(lo), S.pair_both_wrong(hi), atol=1e-9)
        assert S.true_beta(lo).beta == pytest.approx(ce.law_min.beta, abs=1e-12)
        assert S.true_beta(hi).beta == pytest.approx(ce.law_max.beta, abs=1e-12)
        for law in (lo, hi):
            err = S.sample_errors(jax.random.fold_in(KEY, law.k), law, 20_000)
            for subset in (np.arange(law.k), [0, 1]):
                tb = S.true_beta(law, subset).beta
                if tb == 0:
                    assert not err[:, subset].all(axis=1).any()
                else:
                    ok, info = _within(err[:, subset].all(axis=1).sum(), 20_000, tb)
                    assert ok, (law.kind, info)


def test_sampling_does_not_depend_on_the_x64_switch():
    # the SplitMix64 cell words need uint64: sample_errors turns x64 on for its own calls
    law = LAWS["irt"]
    a = S.sample_errors(KEY, law, 500)
    with jax.enable_x64(False):
        b = S.sample_errors(KEY, law, 500)
    np.testing.assert_array_equal(a, b)
