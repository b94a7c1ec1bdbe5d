"""cofail price end to end: JSON = HDF5, the observed beta and its interval, the
quadrature one-factor prediction against an independent scipy integral, bad input -> exit 2."""

import json

import h5py
import numpy as np
import pytest
from scipy import integrate, special, stats

from cofail_jax.cli.main import main


def run(capsys, *argv):
    rc = main(list(argv))
    out, err = capsys.readouterr()
    return rc, out, err


@pytest.fixture
def csv_file(tmp_path):
    rng = np.random.default_rng(0)
    n, k = 400, 6
    f = rng.normal(size=(n, 1))
    z = 0.7 * f + np.sqrt(1 - 0.49) * rng.normal(size=(n, k))
    correct = (z > stats.norm.ppf(rng.uniform(0.3, 0.6, k))).astype(int)
    correct[:, 5] = 1  # an always-right model: dropped with a note
    path = tmp_path / "pool.csv"
    with open(path, "w") as fh:
        fh.write("query_id," + ",".join(f"m{i}" for i in range(k)) + "\n")
        for q in range(n):
            fh.write(f"q{q}," + ",".join(map(str, correct[q])) + "\n")
    return path, correct


def test_price_one_factor_json_and_h5(csv_file, tmp_path, capsys):
    path, correct = csv_file
    out = tmp_path / "p.h5"
    rc, js, err = run(capsys, "price", str(path), "--copula", "one-factor", "--json",
                      "--out", str(out))
    assert rc == 0 and "always right" in err and "now called 'equal_loading'" in err
    assert "deprecated" not in err
    doc = json.loads(js)
    r = doc["result"]
    wrong = correct[:, :5] == 0
    K = int(wrong.all(axis=1).sum())
    assert r["k"] == 5 and r["K"] == K and r["beta_obs"] == K / 400
    lo, hi = stats.beta.ppf(0.025, K, 400 - K + 1), stats.beta.ppf(0.975, K + 1, 400 - K)
    np.testing.assert_allclose(r["beta_obs_ci"], [lo, hi], rtol=1e-10)
    p = r["predictions"]["equal_loading"]  # old name one-factor still works
    tau = stats.norm.ppf(wrong.mean(axis=0))
    lam = np.sqrt(p["rho_bar"])
    ref = integrate.quad(lambda z: stats.norm.pdf(z) * np.exp(
        special.log_ndtr((tau - lam * z) / np.sqrt(1 - lam ** 2)).sum()), -np.inf, np.inf,
        epsabs=0, epsrel=1e-12)[0]
    np.testing.assert_allclose(p["beta"], ref, rtol=1e-8)
    np.testing.assert_allclose(p["ratio"], r["beta_obs"] / ref, rtol=1e-8)
    assert doc["provenance"]["seed"] == 0 and "pricing_methods" in doc["provenance"]
    with h5py.File(out) as f:
        assert list(f["predictions/copula"].asstr()[()]) == ["equal_loading"]
        assert f["predictions/beta"][0] == pytest.approx(p["beta"], abs=0)
        assert f["observed/K"][()] == K


def test_price_bad_input_exits_2(csv_file, tmp_path, capsys):
    path, _ = csv_file
    out = tmp_path / "never.h5"
    rc, _, err = run(capsys, "price", str(path), "--copula", "gaussian", "--method",
                     "quadrature", "--out", str(out))
    assert rc == 2 and "quadrature" in err and "Traceback" not in err
    # the option's old name: the same error, and one note that it is deprecated
    rc2, _, err2 = run(capsys, "price", str(path), "--model", "gaussian", "--method",
                       "quadrature", "--out", str(out))
    assert rc2 == 2 and err2.splitlines()[1:] == err.splitlines()
    assert err2.splitlines()[0] == "note: --model is deprecated; use --copula (it works the same)"
    assert not out.exists()
    rc, _, err = run(capsys, "price", str(path), "--samples", "1")
    assert rc == 2 and "--samples" in err
