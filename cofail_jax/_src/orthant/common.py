"""Shared pieces of the Gaussian orthant estimators: statuses, the result type, input
checks, the log-space normal quantile and the Genz-Bretz reordered Cholesky factor."""

from __future__ import annotations

import math
from typing import NamedTuple

import jax
import jax.numpy as jnp
from jax.scipy.special import log_ndtr, ndtri
from jaxtyping import Array, ArrayLike, Float, Int

METHODS = ("mc", "qmc", "tilting")
BIG = 1e4  # +inf thresholds are replaced by this inside the kernels (Phi(BIG) == 1 exactly)
_LOG_SQRT_2PI = 0.5 * math.log(2.0 * math.pi)

OK = 0
NONFINITE = 1  # corr not positive definite or a non-finite threshold
NOT_CONVERGED = 2  # tilting: the saddle-point equations were not solved
NOT_PD = 3  # corr not positive definite to working precision: rejected, prob NaN

STATUS_MESSAGES = {
    OK: "ok",
    NONFINITE: "corr is not positive definite (repair it with nearest_correlation) or "
               "tau has NaN",
    NOT_CONVERGED: "tilting saddle point not found; the estimate is unbiased but may be "
                   "noisy: use method='qmc' or more samples",
    NOT_PD: "corr is not positive definite to working precision (smallest eigenvalue below "
            "1e-12): repair it, e.g. nearest_correlation(corr, eps=1e-6), and price the "
            "repaired matrix",
}


def pd_tol(dtype) -> float:
    """Smallest eigenvalue below which ``corr`` counts as not positive definite to working
    precision: 1e-12 in float64, 1e-5 in float32. A singular or indefinite matrix is
    rejected (status ``NOT_PD``, NaN) instead of priced: the factorizations clamp tiny
    pivots and would return a wrong number."""
    return 1e-12 if dtype == jnp.float64 else 1e-5


def is_pd(corr):
    """True when the smallest eigenvalue of ``corr`` is above :func:`pd_tol` (and every
    entry is finite): ``corr - pd_tol * I`` has a (finite) Cholesky factor. The same test
    as ``eigvalsh(corr)[0] > pd_tol`` up to rounding, at a fraction of its cost (one
    factorization instead of an eigendecomposition: 0.04 ms against 12 ms at k = 67)."""
    finite = jnp.all(jnp.isfinite(corr))
    k = corr.shape[-1]
    shifted = jnp.where(finite, corr, jnp.eye(k, dtype=corr.dtype)) - pd_tol(corr.dtype) * jnp.eye(
        k, dtype=corr.dtype)
    return finite & jnp.all(jnp.isfinite(jnp.linalg.cholesky(shifted)))


class OrthantResult(NamedTuple):
    """An orthant probability with its Monte Carlo error.

    Attributes:
      prob: the estimate of P(Z <= tau).
      std_err: its standard error (MC: binomial; QMC: across random shifts; tilting: of
        the importance weights).
      log_prob: log of ``prob`` (finite far below float underflow for QMC/tilting).
      n_samples: draws or points actually used (rounded up to whole chunks).
      hits: MC only: the exact number of draws in the orthant (-1 otherwise).
      status: 0 OK, 1 non-finite input, 2 tilting solver not converged, 3 corr not
        positive definite to working precision (prob NaN: repair it first).
      method: 0 MC, 1 QMC-SOV, 2 tilting (``METHODS[method]``; useful after ``"auto"``).
    """

    prob: Float[Array, ""]
    std_err: Float[Array, ""]
    log_prob: Float[Array, ""]
    n_samples: Int[Array, ""]
    hits: Int[Array, ""]
    status: Int[Array, ""]
    method: Int[Array, ""]


# ---------------------------------------------------------------------------------------
# helpers


def _check(tau, corr, who):
    tau = jnp.asarray(tau)
    corr = jnp.asarray(corr)
    if tau.ndim != 1:
        raise ValueError(f"{who}: tau must be (k,), got shape {tau.shape}")
    k = tau.shape[0]
    if corr.shape != (k, k):
        raise ValueError(f"{who}: corr must be {(k, k)} to match tau, got {corr.shape}")
    dtype = jnp.result_type(tau.dtype, corr.dtype, jnp.float32)
    return tau.astype(dtype), corr.astype(dtype)


def ndtri_log(lp):
    """x with log Phi(x) = lp, accurate for lp from 0 down to far below log(1e-308)."""
    lp = jnp.minimum(lp, 0.0)
    tiny = lp < -600.0
    hi = lp > -0.6931471805599453  # p > 1/2: use the complement
    lp_safe = jnp.where(tiny, -1.0, lp)
    p = jnp.exp(lp_safe)
    x_mid = ndtri(p)
    x_hi = -ndtri(-jnp.expm1(lp_safe))
    x = jnp.where(hi, x_hi, x_mid)
    # far tail: asymptotic start, then Newton on log_ndtr (log-concave: monotone)
    t = -2.0 * jnp.where(tiny, lp, -700.0)
    x0 = -jnp.sqrt(t - jnp.log(t) - 2.0 * _LOG_SQRT_2PI)

    def newton(_, x):
        lx = log_ndtr(x)
        mills = jnp.exp(-0.5 * x * x - _LOG_SQRT_2PI - lx)
        return x - (lx - lp) / mills

    x0 = jax.lax.fori_loop(0, 3, newton, x0)
    return jnp.where(tiny, x0, x)


def _cholesky(corr):
    L = jnp.linalg.cholesky(corr)
    return L, jnp.all(jnp.isfinite(L))


def _factor(tau, corr, reorder):
    """Thresholds capped at BIG and the lower Cholesky factor of corr, both in Genz-Bretz
    order with ``reorder``; ``ok`` is False when the factor is not finite (corr not PD)."""
    t = jnp.minimum(tau, BIG)
    if reorder:
        t, L, _ = reorder_cholesky(t, corr)
    else:
        L = jnp.linalg.cholesky(corr)
    return t, L, jnp.all(jnp.isfinite(L))


def reorder_cholesky(tau: ArrayLike, corr: ArrayLike):
    """Genz-Bretz variable reordering with the Cholesky factor built alongside.

    At step i the remaining variable with the smallest conditional probability
    ``Phi((tau_j - E[.]) / sd_j)`` (given the truncated-normal means of the variables
    already placed) goes next. Fixed shape: k steps of O(k^2) work.

    Returns:
      (tau_perm, L, perm): thresholds and lower Cholesky factor in the new order, and the
      permutation (``tau_perm = tau[perm]``, ``L L^T = corr[perm][:, perm]``).
    """
    tau = jnp.asarray(tau)
    corr = jnp.asarray(corr)
    k = tau.shape[0]
    idx = jnp.arange(k)
    dtype = tau.dtype
    tiny = jnp.asarray(1e-300 if dtype == jnp.float64 else 1e-30, dtype)

    diag_a = jnp.diag(corr)

    def swap(v, i, j):  # exchange entries (rows) i and j
        vi, vj = v[i], v[j]
        return v.at[i].set(vj).at[j].set(vi)

    def body(i, st):
        L, t, perm, y = st  # corr itself stays in the input order, read through perm
        var = diag_a[perm] - jnp.sum(L * L, axis=1)
        sd = jnp.sqrt(jnp.maximum(var, tiny))
        b = (t - L @ y) / sd
        score = jnp.where(idx >= i, log_ndtr(b), jnp.inf)
        j = jnp.argmin(score)
        L, t, perm = swap(L, i, j), swap(t, i, j), swap(perm, i, j)
        lii = jnp.sqrt(jnp.maximum(diag_a[perm[i]] - jnp.sum(L[i] * L[i]), tiny))
        col = (corr[perm, perm[i]] - L @ L[i]) / lii
        col = jnp.where(idx > i, col, 0.0).at[i].set(lii)
        L = L.at[:, i].set(col)
        bi = (t[i] - L[i] @ y) / lii
        y = y.at[i].set(-jnp.exp(-0.5 * bi * bi - _LOG_SQRT_2PI - log_ndtr(bi)))
        return L, t, perm, y

    init = (jnp.zeros_like(corr), tau, idx, jnp.zeros_like(tau))
    L, t, perm, _ = jax.lax.fori_loop(0, k, body, init)
    return t, L, perm

