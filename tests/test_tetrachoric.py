"""Tetrachoric engine against an independent scipy brentq solver, R psych, a parametric
bootstrap for the standard errors, and hand-built boundary cases."""

import json
import os

import jax
import numpy as np
import pytest
from scipy import optimize, stats

from cofail_jax._src import tetrachoric as T
from cofail_jax._src.tetrachoric import tetrachoric, tetrachoric_from_rates

FIXTURES = os.path.join(os.path.dirname(__file__), "fixtures")


def _scipy_bvn(h, k, r):
    return stats.multivariate_normal.cdf([h, k], cov=[[1, r], [r, 1]], allow_singular=True)


def _brentq_pair(p_i, p_j, p_ij):
    """Independent solver: scipy's bivariate CDF and brentq."""
    h, k = stats.norm.ppf(p_i), stats.norm.ppf(p_j)
    return optimize.brentq(lambda r: _scipy_bvn(h, k, r) - p_ij, -1 + 1e-10, 1 - 1e-10,
                           xtol=1e-14, rtol=1e-15, maxiter=200)


def _load_errors(path):
    import csv

    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    names = rows[0][1:]
    correct = np.array([[int(v) for v in r[1:]] for r in rows[1:]])
    return correct == 0, names


_CACHE = {}


def _math_l5(shared_data):
    """The MATH level-5 error matrix and its tetrachoric result, computed once."""
    if "math" not in _CACHE:
        E, names = _load_errors(os.path.join(shared_data, "zeroeval_math-l5.csv"))
        _CACHE["math"] = (E, names, tetrachoric(E))
    return _CACHE["math"]


def _cells(E, i, j):
    a, b = E[:, i], E[:, j]
    return (np.sum(a & b), np.sum(a & ~b), np.sum(~a & b), np.sum(~a & ~b))


def test_all_pairs_match_brentq_on_real_data(shared_data):
    E, names, res = _math_l5(shared_data)
    k = E.shape[1]
    p = E.mean(0)
    n_checked = 0
    for i in range(k):
        for j in range(i + 1, k):
            n11, n10, n01, n00 = _cells(E, i, j)
            st = int(res.status[i, j])
            if min(n11, n00) == 0:
                assert st == T.BOUNDARY_LOW and float(res.rho[i, j]) == -1.0
            elif min(n10, n01) == 0:
                assert st == T.BOUNDARY_HIGH and float(res.rho[i, j]) == 1.0
            else:
                assert st == T.OK, (i, j, st)
                ref = _brentq_pair(p[i], p[j], n11 / E.shape[0])
                assert abs(float(res.rho[i, j]) - ref) < 1e-9, (i, j)
                n_checked += 1
    assert n_checked == int(res.n_ok) > 600
    assert int(res.n_boundary) == k * (k - 1) // 2 - n_checked
    rho = np.asarray(res.rho)
    np.testing.assert_array_equal(rho, rho.T)
    np.testing.assert_array_equal(np.diag(rho), 1.0)
    # phi is the Pearson correlation of the indicators; means are over status-OK pairs
    np.testing.assert_allclose(np.asarray(res.phi), np.corrcoef(E.T.astype(float)), atol=1e-12)
    ok = np.triu(np.asarray(res.status) == T.OK, 1)
    assert abs(float(res.mean_rho) - rho[ok].mean()) < 1e-12
    assert abs(float(res.mean_phi) - np.asarray(res.phi)[ok].mean()) < 1e-12
    np.testing.assert_allclose(np.asarray(res.tau), stats.norm.ppf(p), atol=1e-12)


def test_rates_solver_matches_brentq_over_a_grid():
    pi = np.array([0.03, 0.1, 0.3, 0.5, 0.8, 0.97])
    PI, PJ, F = np.meshgrid(pi, pi, np.linspace(0.02, 0.98, 9), indexing="ij")
    lo = np.maximum(0, PI + PJ - 1)
    hi = np.minimum(PI, PJ)
    PIJ = lo + F * (hi - lo)
    res = tetrachoric_from_rates(PI, PJ, PIJ)
    assert np.all(np.asarray(res.status) == T.OK)
    ref = np.array([_brentq_pair(a, b, c) for a, b, c in zip(PI.ravel(), PJ.ravel(), PIJ.ravel())])
    np.testing.assert_allclose(np.asarray(res.rho).ravel(), ref, rtol=0, atol=1e-9)
    # targets outside the attainable range [max(0, p_i + p_j - 1), min(p_i, p_j)]
    out = tetrachoric_from_rates(np.array([0.3, 0.3, 0.7, 0.0]), np.array([0.4, 0.4, 0.6, 0.5]),
                                 np.array([0.35, -0.01, 0.25, 0.0]))
    np.testing.assert_array_equal(np.asarray(out.status), [T.BOUNDARY_HIGH, T.BOUNDARY_LOW,
                                                           T.BOUNDARY_LOW, T.DEGENERATE])
    np.testing.assert_array_equal(np.asarray(out.rho)[:3], [1.0, -1.0, -1.0])


def test_boundary_and_degenerate_status():
    # model 0: errors on 0-4; model 1: errors on 0-1 (subset of 0); model 2: errors on 5-7
    # (disjoint from 0); model 3: never wrong; model 4: errors on 2, 5, 9
    n = 12
    E = np.zeros((n, 5), bool)
    E[0:5, 0] = True
    E[0:2, 1] = True
    E[5:8, 2] = True
    E[[2, 5, 9], 4] = True
    res = tetrachoric(E)
    st = np.asarray(res.status)
    assert st[0, 1] == T.BOUNDARY_HIGH and float(res.rho[0, 1]) == 1.0
    assert st[0, 2] == T.BOUNDARY_LOW and float(res.rho[0, 2]) == -1.0
    assert np.all(st[3, [0, 1, 2, 4]] == T.DEGENERATE) and st[3, 3] == T.DEGENERATE
    assert np.all(np.isnan(np.asarray(res.rho)[3])) and float(res.tau[3]) == -np.inf
    assert int(res.n_degenerate) == 1
    assert st[0, 4] == T.OK and np.isfinite(float(res.se[0, 4]))
    assert np.isnan(float(res.se[0, 1])) and np.isnan(float(res.se[0, 2]))
    assert int(res.n_boundary) == int(res.n_boundary_low) + int(res.n_boundary_high)
    assert T.status_message(T.DEGENERATE).startswith("degenerate")
    # an iteration cap too small: status NOT_CONVERGED, and throw=True raises
    capped = tetrachoric(E, max_iter=1)
    assert int(np.asarray(capped.status)[0, 4]) == T.NOT_CONVERGED
    assert int(capped.n_not_converged) >= 1
    with pytest.raises(RuntimeError, match="max_iter"):
        tetrachoric(E, max_iter=1, throw=True)


def test_weights_equal_repeated_rows_and_vmap():
    rng = np.random.default_rng(1)
    E = rng.random((40, 6)) < np.array([0.2, 0.3, 0.4, 0.5, 0.35, 0.25])
    counts = rng.integers(0, 4, size=40)
    a = tetrachoric(np.repeat(E, counts, axis=0))
    b = tetrachoric(E, counts.astype(float))
    for name in ("rho", "se", "phi", "tau"):
        np.testing.assert_allclose(np.asarray(getattr(b, name)), np.asarray(getattr(a, name)),
                                   atol=1e-11, equal_nan=True)
    np.testing.assert_array_equal(np.asarray(a.status), np.asarray(b.status))
    W = rng.multinomial(40, np.full(40, 1 / 40), size=5).astype(float)
    batched = jax.jit(jax.vmap(lambda w: tetrachoric(E, w)))(W)
    for r in range(5):
        one = tetrachoric(E, W[r])
        np.testing.assert_allclose(np.asarray(batched.rho[r]), np.asarray(one.rho), atol=1e-12,
                                   equal_nan=True)


def test_second_call_does_not_recompile():
    E = np.random.default_rng(2).random((12, 5)) < 0.4  # the shape of the boundary test
    tetrachoric(E)
    before = T._tetrachoric._cache_size()
    tetrachoric(~E)
    assert T._tetrachoric._cache_size() == before


def _read_fixture(name):
    path = os.path.join(FIXTURES, name)
    with open(path) as f:
        header = f.readline().strip().split(",")[1:]
        models = [h.strip('"') for h in header]
        rows = [line.strip().split(",")[1:] for line in f]
    vals = np.array([[np.nan if v == "NA" else float(v) for v in r] for r in rows])
    return models, vals


def test_matches_r_psych(shared_data):
    """psych::tetrachoric on 10 models of MATH level 5 (tests/fixtures/psych_tetrachoric.R).

    psych's default optimize() tolerance (~1.2e-4 in rho) limits its own output to
    ~3e-5 from the exact root; psych's likelihood maximised with tol = 1e-12 (the
    "tight" fixture) agrees to 1e-6 (observed 3e-8: the sadmvn integration error).
    """
    models, tight = _read_fixture("psych_tetrachoric_tight.csv")
    _, default0 = _read_fixture("psych_tetrachoric_correct0.csv")
    _, default05 = _read_fixture("psych_tetrachoric_correct05.csv")
    E_all, names, res_all = _math_l5(shared_data)
    idx = [names.index(m) for m in models]
    E = E_all[:, idx]
    # pairwise estimates: the 10-model submatrix of the 38-model result
    rho = np.asarray(res_all.rho)[np.ix_(idx, idx)]
    ok = np.asarray(res_all.status)[np.ix_(idx, idx)] == T.OK
    assert ok.sum() == 10 * 10 - 2 * 2  # two boundary pairs (errors nested in o1-mini's)
    np.testing.assert_allclose(rho[ok], tight[ok], rtol=0, atol=1e-6)
    np.testing.assert_allclose(rho[ok], default0[ok], rtol=0, atol=1e-4)
    # psych's correct=0 leaves boundary pairs wherever optimize() stopped (0.93, 0.96);
    # we report the MLE rho = 1 with a status instead.
    assert np.all(rho[~ok] == 1.0)
    assert np.all(np.asarray(res_all.status)[np.ix_(idx, idx)][~ok] == T.BOUNDARY_HIGH)
    assert np.all(default0[~ok] < 0.99)
    # the continuity correction reproduces psych's correct = .5 on the boundary pairs
    n = float(E.shape[0])
    p = E.mean(0)
    for i, j in zip(*np.nonzero(np.triu(~ok, 1))):
        c = tetrachoric_from_rates(p[i], p[j], np.mean(E[:, i] & E[:, j]), n, correction=True)
        assert int(c.status) == T.OK
        assert abs(float(c.rho) - default05[i, j]) < 1e-4
    np.testing.assert_allclose(rho[ok], default05[ok], rtol=0, atol=1e-4)


def test_standard_error_matches_parametric_bootstrap():
    """Delta-method SE vs the spread of rho-hat over multinomial tables drawn from the
    model; tolerance 4 standard errors of a standard deviation (sd / sqrt(2 (R - 1)))."""
    rng = np.random.default_rng(3)
    n, reps = 400, 4000
    for p1, p2, rho in [(0.3, 0.4, 0.5), (0.15, 0.25, 0.85), (0.5, 0.45, -0.3)]:
        h, k = stats.norm.ppf(p1), stats.norm.ppf(p2)
        p11 = _scipy_bvn(h, k, rho)
        probs = np.array([p11, p1 - p11, p2 - p11, 1 - p1 - p2 + p11])
        tables = rng.multinomial(n, probs, size=reps) / n
        est = tetrachoric_from_rates(tables[:, 0] + tables[:, 1], tables[:, 0] + tables[:, 2],
                                     tables[:, 0], np.full(reps, float(n)))
        good = np.asarray(est.status) == T.OK
        assert good.mean() > 0.99
        r_hat = np.asarray(est.rho)[good]
        se_true = float(tetrachoric_from_rates(p1, p2, p11, float(n)).se)
        sd = r_hat.std(ddof=1)
        assert abs(sd - se_true) < 4 * sd / np.sqrt(2 * (good.sum() - 1)), (p1, p2, rho, sd,
                                                                             se_true)
        assert abs(r_hat.mean() - rho) < 4 * sd / np.sqrt(good.sum()) + 0.01
        # the plug-in SE of each replicate is centred on the same value
        assert abs(np.median(np.asarray(est.se)[good]) / se_true - 1) < 0.05


def test_correction_closed_form():
    """With ½ in an empty cell and thresholds at the observed marginals, the ML both-wrong
    rate solves the score equation; check the target against scipy's brentq on it."""
    n = 50.0
    p_i, p_j, p_ij = 10 / n, 20 / n, 10 / n  # i's errors inside j's: n10 = 0
    res = tetrachoric_from_rates(p_i, p_j, p_ij, n, correction=True)
    cells = np.array([10, 0.5, 10, 30]) / n

    def score(q):
        return (cells[0] / q - cells[1] / (p_i - q) - cells[2] / (p_j - q)
                + cells[3] / (1 - p_i - p_j + q))

    q = optimize.brentq(score, 1e-9, p_i - 1e-12, xtol=1e-15)
    assert abs(float(res.target) - q) < 1e-12
    assert int(res.status) == T.OK
    assert abs(float(res.rho) - _brentq_pair(p_i, p_j, q)) < 1e-9
    plain = tetrachoric_from_rates(p_i, p_j, p_ij, n)
    assert int(plain.status) == T.BOUNDARY_HIGH and float(plain.rho) == 1.0


def _boundary_csv(tmp_path):
    """The 12 x 5 matrix of test_boundary_and_degenerate_status as a wide CSV of CORRECT."""
    E = np.zeros((12, 5), bool)
    E[0:5, 0] = True
    E[0:2, 1] = True
    E[5:8, 2] = True
    E[[2, 5, 9], 4] = True
    path = tmp_path / "m.csv"
    names = ["a", "b", "c", "always-right", "e"]
    lines = ["query_id," + ",".join(names)]
    lines += [f"q{i}," + ",".join(str(int(not v)) for v in row) for i, row in enumerate(E)]
    path.write_text("\n".join(lines) + "\n")
    return path, E, names


def test_cli_json_and_hdf5(tmp_path, capsys):
    h5py = pytest.importorskip("h5py")
    from cofail_jax.cli.main import main

    path, E, names = _boundary_csv(tmp_path)
    out = tmp_path / "corr.h5"
    assert main(["correlations", str(path), "--repair", "higham", "--out", str(out),
                 "--json", "--bootstrap", "50", "--seed", "3"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["schema"] == "cofail_jax.json/1" and doc["command"] == "correlations"
    r = doc["result"]
    assert r["degenerate_models"] == [["always-right", "always right"]]
    assert r["n_boundary_low"] == 3 and r["n_boundary_high"] == 1  # a-c, b-c, b-e; a-b
    assert r["boundary_pairs"]["boundary_high"] == [["a", "b"]]
    lib = tetrachoric(E)
    assert abs(r["mean_rho"] - float(lib.mean_rho)) < 1e-15
    assert r["repair"]["models_used"] == 4 and r["repair"]["converged"]
    assert "input_sha256" in doc["provenance"] and doc["provenance"]["seed"] == 3
    b = r["bootstrap"]
    assert b["replicates"] == 50 and b["mean_rho_se"] > 0
    assert b["mean_rho_interval"][0] <= b["mean_rho_interval"][1]
    with h5py.File(out, "r") as f:
        g = f["correlations"]
        np.testing.assert_allclose(g["rho"][...], np.asarray(lib.rho), equal_nan=True)
        assert [s.decode() if isinstance(s, bytes) else s for s in g["model"][...]] == names
        assert g["rho"].dims[0][0].name.endswith("/model")
        assert g["rho"].dims[1][0].name.endswith("/model2")
        rep = g["rho_repaired"][...]
        keep = [0, 1, 2, 4]
        sub = rep[np.ix_(keep, keep)]
        assert np.linalg.eigvalsh(sub)[0] > -1e-12 and np.allclose(np.diag(sub), 1)
        assert np.all(np.isnan(rep[3]))
        assert "cofail_jax_version" in f.attrs


def test_cli_table_and_bad_input(tmp_path, capsys):
    from cofail_jax.cli.main import main

    path, _, _ = _boundary_csv(tmp_path)
    assert main(["correlations", str(path), "--repair", "clip", "--bootstrap", "0"]) == 0
    text = capsys.readouterr().out
    assert "mean tetrachoric rho" in text and "always-right (always right)" in text
    assert "eigenvalue-clip" in text
    out = tmp_path / "never.h5"
    assert main(["correlations", str(path), "--correction", "-1", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "--correction" in err and "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert not out.exists()


def test_bootstrap_independent_of_batch_size_and_progress_blocks():
    """One jitted call (batch 2) against host-side progress blocks of 6 (batch 3; the last
    block padded to the same shape and trimmed): the same replicates, the callback called
    before the first block and after each. Two compilations in all."""
    from cofail_jax import tetrachoric_bootstrap

    rng = np.random.default_rng(5)
    E = rng.random((40, 6)) < np.array([0.2, 0.3, 0.4, 0.5, 0.35, 0.25])
    key = jax.random.key(11)
    a = tetrachoric_bootstrap(key, E, 8, batch_size=2)
    calls = []
    b = tetrachoric_bootstrap(key, E, 8, batch_size=3, block=6,
                              progress=lambda d, t: calls.append((d, t)))
    assert calls == [(0, 8), (6, 8), (8, 8)]
    assert b.mean_rho.shape == (8,)
    np.testing.assert_allclose(np.asarray(a.mean_rho), np.asarray(b.mean_rho), atol=1e-13)
    np.testing.assert_allclose(np.asarray(a.rho_sd), np.asarray(b.rho_sd), atol=1e-12,
                               equal_nan=True)
    # replicate 0 is tetrachoric on the resample drawn with fold_in(key, 0)
    idx = jax.random.randint(jax.random.fold_in(key, 0), (40,), 0, 40)
    w = np.bincount(np.asarray(idx), minlength=40).astype(float)
    assert abs(float(tetrachoric(E, w).mean_rho) - float(a.mean_rho[0])) < 1e-13
