"""Student-t copula: the Gaussian's elliptical sibling with tail dependence.

Latent ``T = Z / sqrt(W / nu)`` (``Z ~ N(0, R)``, ``W ~ chi^2_nu``); model i is wrong when
``T_i <= t_i = t_nu^-1(p_i)``. Calibration: every calibrating pair's correlation solves
``T_2(t_i, t_j; r_ij, nu) = P(i and j both wrong)`` (bivariate t CDF, :mod:`..mvt`; the
Dunnett-Sobel closed form for integer nu), so the copula reproduces every 2 x 2 table, as
the Gaussian does; boundary pairs enter at +-1; the matrix is repaired like the
Gaussian's. The pairs are solved once per pool (``prepare``, over all K(K-1)/2 pairs) and
a subset takes its own pairs' entries. Pricing: randomized QMC separation of
variables for the multivariate t (Genz and Bretz 2009) with the error from random
shifts, or plain Monte Carlo. Unlike the Gaussian, a pair has tail dependence
``lambda = 2 t_{nu+1}(-sqrt((nu + 1)(1 - r)/(1 + r)))`` > 0; nu -> infinity is the
Gaussian copula.

References:
  Demarta, S. and McNeil, A. J. (2005). The t copula and related copulas. International
  Statistical Review 73, 111-129.
  Genz, A. and Bretz, F. (2009). Computation of Multivariate Normal and t Probabilities.
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp

from .. import mvt as _mvt
from . import MC, QMC, Copula, PairStats, PricingOptions, estimate, mean_over, repair_matrix


class PoolCalibration(NamedTuple):
    """The pool's pairwise t calibration (:func:`make`'s ``prepare``), indexed by subsets."""

    t: jax.Array  # (K,) t thresholds t_nu^-1(p_i)
    corr: jax.Array  # (K, K) calibrated t correlations (the tetrachoric where not calibrated)
    err: jax.Array  # (K, K) |T_2 - p_both| per calibrated pair (0 elsewhere)


class Params(NamedTuple):
    t: jax.Array  # (K,) t thresholds, +inf excludes a model
    corr: jax.Array  # (K, K) repaired t correlation matrix
    nu: jax.Array  # degrees of freedom
    calibration_error: jax.Array  # max |T_2 - p_both| over calibrating pairs
    mean_tail_dependence: jax.Array  # over calibrating pairs
    repair: dict


def make(opts: PricingOptions) -> Copula:
    method = {"auto": "qmc", "qmc": "qmc", "mc": "mc"}.get(opts.orthant_method)
    if method is None:
        raise NotImplementedError(f"student_t: orthant method {opts.orthant_method!r} is not "
                                  "available for the Student-t copula; use qmc or mc")
    if opts.fit_nu:
        raise NotImplementedError(
            "student_t: fit_nu is not available: with a free correlation per pair the pairwise "
            "2 x 2 likelihood is saturated (flat in nu); give nu")
    n = opts.n_samples()
    target = opts.target() if method == "qmc" else None
    nu = float(opts.nu)
    if not nu > 0:
        raise ValueError(f"student_t: nu must be > 0, got {nu}")

    def prepare(stats: PairStats, pair_w) -> PoolCalibration:
        t = _mvt.t_quantile(stats.p_wrong, nu)
        r, err = _mvt.calibrate_pairs_all(t, stats.p_both, stats.rho, nu, pair_w > 0)
        return PoolCalibration(t, r, err)

    def calibrate(stats: PairStats, pair_w, pool: PoolCalibration | None = None) -> Params:
        if pool is None:
            pool = prepare(stats, pair_w)
        # a subset's pairs are the pool's pairs: same thresholds, rates and tetrachorics
        t = jnp.where(stats.mask, pool.t, jnp.inf)
        eye = jnp.eye(t.shape[0], dtype=pool.corr.dtype)
        err = jnp.max(jnp.where(pair_w > 0, pool.err, 0.0), initial=0.0)
        corr, rep = repair_matrix(jnp.where(stats.pair, pool.corr, eye), stats.pair, opts)
        lam = mean_over(_mvt.tail_dependence(corr, nu), pair_w)
        return Params(t, corr, jnp.asarray(nu), err, lam, rep)

    def log_beta(key, p: Params):
        # the static nu (not p.nu): a concrete integer nu takes the closed-form chi quantile
        lb, se, status, n_used = _mvt.mvt_orthant(key, p.t, p.corr, nu, method=method,
                                                  n_samples=n, rel_error=target)
        return estimate(lb, se, status, QMC if method == "qmc" else MC, n_used)

    def sample(key, p: Params, n_rows: int):
        kz, kw = jax.random.split(key)
        L = jnp.linalg.cholesky(p.corr)
        z = jax.random.normal(kz, (n_rows, p.t.shape[0]), p.corr.dtype) @ L.T
        s = jnp.sqrt(2.0 * jax.random.gamma(kw, 0.5 * p.nu, (n_rows, 1), p.corr.dtype) / p.nu)
        return z <= p.t[None, :] * s

    def tail(p: Params):
        lam = _mvt.tail_dependence(p.corr, p.nu)
        return jnp.where(jnp.eye(p.t.shape[0], dtype=bool), 1.0, lam)

    return Copula(
        name="student_t", label=f"Student-t (nu = {nu:g})", colour="tab:purple",
        calibrate=calibrate, log_beta=log_beta, sample=sample, tail_dependence=tail,
        summary=lambda p: {"nu": p.nu, "calibration_error": p.calibration_error,
                           "mean_tail_dependence": p.mean_tail_dependence, **p.repair},
        prepare=prepare)
