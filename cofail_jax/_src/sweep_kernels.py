"""Adapters from the pricing engines to the mask convention the sweep uses.

The sweep prices every subset of a fixed K-model pool with one compiled function: a
model outside the subset gets threshold tau = +inf (P(wrong) = 1, an exact factor 1 in
every estimator) and pair weight 0. This module is the only place in the sweep that
knows the engines' signatures (:mod:`tetrachoric`, :mod:`repair`, :mod:`onefactor`,
:mod:`orthant`, :mod:`clayton`); each adapter is a pure, vmappable function of arrays.
"""

from __future__ import annotations

import jax.numpy as jnp

from . import clayton as _clay
from . import onefactor as _of
from . import orthant as _orth
from . import repair as _rep
from . import tetrachoric as _tet

REPAIRS = ("nearest", "clip")
ORTHANT_METHODS = _orth.METHODS


def engines() -> dict[str, str]:
    """Which engine computes each quantity (recorded in the provenance)."""
    return {
        "tetrachoric": "cofail_jax._src.tetrachoric.tetrachoric",
        "fit": "cofail_jax._src.onefactor.fit_loadings (least squares on tetrachoric rho)",
        "one_factor": "cofail_jax._src.onefactor.onefactor_log_beta (quadrature)",
        "repair": "cofail_jax._src.repair",
        "gaussian": "cofail_jax._src.orthant.make_orthant_estimator",
        "clayton": "cofail_jax._src.clayton.calibrate_clayton + clayton_log_beta_exact (closed form)",
        "effective_correlation": "cofail_jax._src.onefactor.effective_correlation",
    }


def tetrachoric_all(errors, weights):
    """(rho, tau, status, phi) for all K x K pairs under query weights."""
    r = _tet.tetrachoric(errors, weights)
    return r.rho, r.tau, r.status, r.phi


def repair(corr, method: str = "nearest", eps: float = 1e-10, max_iter: int = 200):
    """(repaired corr, n_negative, min_eig_before, min_eig_after, frobenius, converged)."""
    if method == "nearest":
        r = _rep.nearest_correlation(corr, eps=eps, max_iter=max_iter)
    elif method == "clip":
        r = _rep.clip_correlation(corr, eps=eps)
    else:
        raise NotImplementedError(f"repair: method must be one of {REPAIRS}, got {method!r}")
    return r.corr, r.n_negative, r.min_eig_before, r.min_eig_after, r.frobenius_distance, r.converged


def log_onefactor_beta(tau, loadings):
    """log P(all wrong) under the one-factor Gaussian copula; tau_i = +inf excludes i."""
    return _of.onefactor_log_beta(tau, loadings)


def fit_loadings(rho, pair_w):
    """(loadings, residual rms) of the one-factor fit to rho over pairs with weight > 0."""
    r = _of.fit_loadings(rho, weights=pair_w)
    return r.loadings, r.residual_rms


def effective_correlation(tau, beta):
    """Equal correlation reproducing beta (NaN when beta = 0 or unattainable)."""
    return _of.effective_correlation(tau, beta)


def make_orthant(n_samples: int, method: str | None = None):
    """(key, tau, corr) -> (prob, std_err) for P(Z <= tau), Z ~ N(0, corr), one device
    (the sweep shards its own batch axis across devices)."""
    est = _orth.make_orthant_estimator(method or "qmc", n_samples, devices=None, jit=False)

    def f(key, tau, corr):
        r = est(key, tau, corr)
        return r.prob, r.std_err
    return f


def clayton_beta(p_wrong, p_both_mean, pair_w):
    """(beta, theta) for the Clayton copula calibrated to the mean pairwise P(both wrong);
    p_wrong = 1 excludes a model (closed form, no sampling)."""
    fit = _clay.calibrate_clayton(None, p_wrong, p_both_mean, weights=pair_w)
    return jnp.exp(_clay.clayton_log_beta_exact(p_wrong, fit.theta)), fit.theta
