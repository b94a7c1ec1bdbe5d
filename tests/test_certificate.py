"""The certificate against closed forms, scipy and the paper's published table."""

import numpy as np
import pytest
from scipy import stats

from cofail_jax import certificate, certificate_from_counts, clopper_pearson, beta_curve
from cofail_jax._src.certificate import cp_lower, cp_upper


def test_reference_values():
    assert 17 / 330 == pytest.approx(0.0515, abs=5e-5)
    assert float(cp_lower(17, 330, 0.05)) == pytest.approx(0.0331, abs=5e-5)
    lo, hi = clopper_pearson(10, 79)
    assert (round(float(lo), 3), round(float(hi), 3)) == (0.062, 0.220)
    assert float(cp_lower(0, 50, 0.05)) == 0.0
    assert float(cp_upper(50, 50, 0.05)) == 1.0


def test_cp_closed_forms():
    # K = 0: the upper limit solves (1 - p)^n = level; K = n: lower limit p^n = level.
    n = 42
    assert float(cp_upper(0, n, 0.025)) == pytest.approx(1 - 0.025 ** (1 / n), rel=1e-12)
    assert float(cp_lower(n, n, 0.025)) == pytest.approx(0.025 ** (1 / n), rel=1e-12)
    # Definition: at the lower limit, P(X >= K) = level.
    K, n, a = 7, 90, 0.05
    assert stats.binom.sf(K - 1, n, float(cp_lower(K, n, a))) == pytest.approx(a, rel=1e-9)
    assert stats.binom.cdf(K, n, float(cp_upper(K, n, a))) == pytest.approx(a, rel=1e-9)


@pytest.mark.parametrize("m, n, K, asb, want", [
    (67, 330, 0, 0.988, (0.011, 0.952, 0.048)),
    (52, 42, 0, 0.881, (0.084, 0.642, 0.358)),
    (15, 200, 2, 0.910, (0.036, 0.835, 0.164)),
])
def test_paper_corrected_table(m, n, K, asb, want):
    c = certificate_from_counts(K, n, asb, pool_size=m)
    got = (round(c.beta_ci[1], 3), round(c.asb_lower, 3), round(c.gain_bound, 3))
    assert got == want


def test_lower_not_upper_asb_limit():
    """The gain bound pairs LOWER limits on beta and a_sb; an upper a_sb limit would make
    the bound smaller than the truth can be (unsound)."""
    c = certificate_from_counts(2, 200, 0.91, pool_size=15)
    assert c.asb_lower < c.asb
    assert c.gain_bound > c.oracle_gain
    unsound = (1 - c.beta_lower_one_sided) - float(cp_upper(c.best_count, c.n, c.delta / 2))
    assert c.gain_bound > unsound
    assert c.gain_bound == pytest.approx((1 - c.beta_lower_one_sided) - c.asb_lower, abs=0)


def test_in_sample_vs_fixed():
    c = certificate_from_counts(3, 300, 0.9, pool_size=20)
    f = certificate_from_counts(3, 300, 0.9)
    assert c.best_selection == "in-sample" and f.best_selection == "fixed"
    assert c.asb_lower < f.asb_lower  # simultaneous limit is lower
    assert c.asb_lower == pytest.approx(float(cp_lower(270, 300, 0.05 / 40)))
    assert f.gain_bound == pytest.approx(c.gain_bound_fixed)


def test_matrix_certificate_hand_case():
    correct = np.array([[1, 0, 0], [0, 0, 0], [0, 1, 0], [1, 1, 1], [0, 0, 0]], bool)
    c = certificate(correct, models=["a", "b", "c"], overhead=0.999)
    assert (c.n, c.k, c.K) == (5, 3, 2)
    assert c.beta == 0.4 and c.best_model == "a" and c.asb == 0.4
    assert c.oracle_gain == pytest.approx(0.2) and c.resolvable == 1
    assert c.gain_bound < 0.999 and "no selection policy can pay" in c.verdict
    c2 = certificate(correct, overhead=0.1)
    assert c2.gain_bound > 0.1 and "might pay" in c2.verdict


def test_beta_curve_greedy_and_given():
    correct = np.array([[1, 0, 0], [1, 0, 0], [0, 1, 0], [0, 0, 1], [0, 0, 1], [0, 0, 0]], bool)
    order, betas = beta_curve(correct)
    assert list(order) == [0, 2, 1]
    np.testing.assert_allclose(betas, [4 / 6, 2 / 6, 1 / 6])
    order, betas = beta_curve(correct, [1, 0, 2])
    np.testing.assert_allclose(betas, [5 / 6, 3 / 6, 1 / 6])


def test_standalone_script_matches(shared_data):
    import os
    import subprocess
    import sys

    script = os.path.join(os.path.dirname(__file__), "..", "scripts", "beta_certificate.py")
    out = subprocess.run([sys.executable, script, "--K", "2", "--n", "200", "--asb", "0.91",
                          "--pool-size", "15"], capture_output=True, text=True, check=True).stdout
    assert "certified gain bound = 0.1635" in out
    c = certificate_from_counts(2, 200, 0.91, pool_size=15)
    assert f"{c.gain_bound:.4f}" in out
    bad = subprocess.run([sys.executable, script, "--K", "5"], capture_output=True, text=True)
    assert bad.returncode == 2 and "Traceback" not in bad.stderr
