"""Clayton copula: frailty Monte Carlo vs the closed form and a full Marshall-Olkin
simulation, tail dependence, calibration round trip, exclusion."""

import jax
import jax.numpy as jnp
import numpy as np

from cofail_jax._src.clayton import (
    calibrate_clayton,
    clayton_beta,
    clayton_beta_exact,
    clayton_tail_dependence,
)

P = np.array([0.1, 0.25, 0.4, 0.15, 0.3, 0.6, 0.05, 0.2])


def test_frailty_mc_matches_closed_form_and_joint_simulation():
    theta = 1.7
    exact = float(clayton_beta_exact(jnp.asarray(P), theta))
    b, se = jax.jit(clayton_beta, static_argnums=3)(jax.random.key(0), jnp.asarray(P), theta,
                                                     2 ** 16)
    assert abs(float(b) - exact) < 4 * float(se)
    # independent check: simulate U_i = (1 + E_i / V)^(-1/theta) in numpy, count all-wrong
    rng = np.random.default_rng(1)
    n = 400_000
    v = rng.gamma(1 / theta, size=(n, 1))
    u = (1 + rng.exponential(size=(n, len(P))) / v) ** (-1 / theta)
    hit = np.all(u <= P, axis=1).mean()
    assert abs(hit - exact) < 4 * np.sqrt(exact * (1 - exact) / n)


def test_limits_tail_dependence_and_exclusion():
    # theta -> 0: independence
    np.testing.assert_allclose(float(clayton_beta_exact(jnp.asarray(P), 1e-9)), np.prod(P),
                               rtol=1e-6)
    # lower-tail dependence: C(u, u) / u -> 2^(-1/theta)
    theta = 2.5
    u = 1e-9
    lim = float(clayton_beta_exact(jnp.asarray([u, u]), theta)) / u
    np.testing.assert_allclose(lim, 2 ** (-1 / theta), rtol=1e-6)
    np.testing.assert_allclose(float(clayton_tail_dependence(theta)), 2 ** (-1 / theta))
    assert float(clayton_tail_dependence(0.0)) == 0.0
    # p = 1 (excluded) is an exact factor 1
    p2 = np.concatenate([P, [1.0, 1.0]])
    assert float(clayton_beta_exact(jnp.asarray(p2), 1.3)) == float(
        clayton_beta_exact(jnp.asarray(P), 1.3))


def test_calibration_round_trip():
    theta = 0.8
    a = P ** (-theta) - 1
    pair = (1 + a[:, None] + a[None, :]) ** (-1 / theta)
    iu = np.triu_indices(len(P), 1)
    target = pair[iu].mean()
    fit = jax.jit(calibrate_clayton)(None, jnp.asarray(P), target)
    assert int(fit.status) == 0
    np.testing.assert_allclose(float(fit.theta), theta, rtol=1e-8)
    np.testing.assert_allclose(float(fit.p_both_mean), target, rtol=1e-10)
    # at or below independence: boundary status
    indep = np.outer(P, P)[iu].mean()
    assert int(jax.jit(calibrate_clayton)(None, jnp.asarray(P), indep * 0.9).status) == 1
