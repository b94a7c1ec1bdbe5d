"""The pair solver: safeguarded Halley/Newton on Phi_2(tau_i, tau_j; rho) = target, all pairs
at once, with the psych-style continuity correction and delta-method standard errors."""

from __future__ import annotations

import functools
import math

import jax
import jax.numpy as jnp
from jax.scipy.special import ndtri
from jaxtyping import ArrayLike

from ..bvn import _bvn_core, _cond_cdf, _pdf_impl
from .results import BOUNDARY_HIGH, BOUNDARY_LOW, DEGENERATE, NOT_CONVERGED, OK, PairResult


def _initial_guess(p_i, p_j, p_ij):
    """Bonett & Price (2005) cosine approximation, kept strictly inside (-1, 1)."""
    p10 = p_i - p_ij
    p01 = p_j - p_ij
    p00 = 1 - p_i - p_j + p_ij
    tiny = 1e-300
    log_or = (jnp.log(jnp.maximum(p_ij, tiny)) + jnp.log(jnp.maximum(p00, tiny))
              - jnp.log(jnp.maximum(p10, tiny)) - jnp.log(jnp.maximum(p01, tiny)))
    p_min = jnp.minimum(jnp.minimum(p_i, 1 - p_i), jnp.minimum(p_j, 1 - p_j))
    c = (1 - jnp.abs(p_i - p_j) / 5 - (0.5 - p_min) ** 2) / 2
    rho0 = jnp.cos(math.pi / (1 + jnp.exp(jnp.clip(c * log_or, -700.0, 700.0))))
    return jnp.clip(rho0, -1 + 1e-6, 1 - 1e-6)


def _solve(tau_i, tau_j, target, rho0, tol, max_iter):
    """Safeguarded Halley/Newton for Phi_2(tau_i, tau_j; rho) = target on [-1, 1], all at once.

    Returns (rho, n_iter, converged). Assumes target strictly inside the attainable range
    (callers mask the other pairs and pass safe values for them).
    """
    dtype = rho0.dtype
    lo = jnp.full_like(rho0, -1.0)
    hi = jnp.full_like(rho0, 1.0)
    step = jnp.full_like(rho0, jnp.inf)
    n_iter = jnp.zeros(rho0.shape, jnp.int32)

    def cond(state):
        _, _, _, step, _, it = state
        return (it < max_iter) & jnp.any(jnp.abs(step) > tol)

    def body(state):
        x, lo, hi, step, n_iter, it = state
        active = jnp.abs(step) > tol
        f = _bvn_core(tau_i, tau_j, x) - target
        fp = _pdf_impl(tau_i, tau_j, x)
        lo2 = jnp.where(f < 0, x, lo)
        hi2 = jnp.where(f < 0, hi, x)
        fp_s = jnp.where(fp > 0, fp, 1.0)
        # Halley: f'' / f' = d log phi_2 / d rho, in closed form
        s2 = jnp.maximum((1 - x) * (1 + x), 1e-300)
        q = tau_i * tau_i - 2 * x * tau_i * tau_j + tau_j * tau_j
        dlog = (tau_i * tau_j * s2 - x * q) / (s2 * s2) + x / s2
        nstep = f / fp_s
        denom = 1 - nstep * dlog / 2
        halley = jnp.where(jnp.abs(denom) > 0.5, nstep / denom, nstep)
        newton = jnp.where(fp > 0, x - halley, jnp.nan)
        inside = (newton > lo2) & (newton < hi2)
        new_x = jnp.where(inside, newton, (lo2 + hi2) / 2)
        new_x = jnp.where(f == 0, x, new_x)
        new_step = new_x - x
        return (jnp.where(active, new_x, x), jnp.where(active, lo2, lo),
                jnp.where(active, hi2, hi), jnp.where(active, new_step, step),
                n_iter + active.astype(jnp.int32), it + 1)

    x, _, _, step, n_iter, _ = jax.lax.while_loop(
        cond, body, (rho0.astype(dtype), lo, hi, step, n_iter, jnp.int32(0)))
    return x, n_iter, jnp.abs(step) <= tol


def _corrected_target(p_i, p_j, cells, correct, n_obs):
    """psych-style continuity correction: empty cells (in count units) are set to
    ``correct`` and P(both wrong) is the maximum-likelihood value given the fixed
    (uncorrected) marginal thresholds, i.e. the root in pi11 of

        n11/pi11 - n10/(p_i - pi11) - n01/(p_j - pi11) + n00/(1 - p_i - p_j + pi11) = 0,

    which is decreasing in pi11 on (max(0, p_i + p_j - 1), min(p_i, p_j)); found by
    bisection (fixed 200 halvings of the interval, to machine precision)."""
    n11, n10, n01, n00 = (jnp.where(c > 0, c, correct / n_obs) for c in cells)
    lo = jnp.maximum(0.0, p_i + p_j - 1)
    hi = jnp.minimum(p_i, p_j)

    def score(q):
        return n11 / q - n10 / (p_i - q) - n01 / (p_j - q) + n00 / (1 - p_i - p_j + q)

    def body(_, lh):
        lo, hi = lh
        mid = (lo + hi) / 2
        s = score(mid)
        return jnp.where(s > 0, mid, lo), jnp.where(s > 0, hi, mid)

    lo, hi = jax.lax.fori_loop(0, 200, body, (lo, hi))
    return (lo + hi) / 2


def _pairs(p_i, p_j, p_ij, n_obs, *, correction, tol, max_iter):
    """Solve arrays of pairs given marginal error rates and the joint rate."""
    dtype = p_ij.dtype
    eps = 8 * jnp.finfo(dtype).eps
    degenerate = (p_i <= 0) | (p_i >= 1) | (p_j <= 0) | (p_j >= 1)
    p_i_s = jnp.where(degenerate, 0.5, p_i)
    p_j_s = jnp.where(degenerate, 0.5, p_j)
    p_ij_s = jnp.where(degenerate, 0.3, p_ij)
    lower = jnp.maximum(0.0, p_i_s + p_j_s - 1)
    upper = jnp.minimum(p_i_s, p_j_s)
    at_low = p_ij_s <= lower + eps
    at_high = p_ij_s >= upper - eps
    target = p_ij_s
    corrected = jnp.zeros(p_ij.shape, bool)
    if correction:
        cells = (p_ij_s, p_i_s - p_ij_s, p_j_s - p_ij_s, 1 - p_i_s - p_j_s + p_ij_s)
        empty = at_low | at_high
        corrected = empty & ~degenerate
        t_corr = _corrected_target(p_i_s, p_j_s, [jnp.where(c > eps, c, 0.0) for c in cells],
                                   correction, n_obs)
        target = jnp.where(corrected, t_corr, p_ij_s)
        at_low = at_low & ~corrected
        at_high = at_high & ~corrected
    interior = ~(at_low | at_high | degenerate)
    target_s = jnp.where(interior, target, 0.3)
    tau_i = ndtri(p_i_s)
    tau_j = ndtri(p_j_s)
    p_i_q = jnp.where(interior, p_i_s, 0.5)
    p_j_q = jnp.where(interior, p_j_s, 0.5)
    rho0 = _initial_guess(p_i_q, p_j_q, target_s)
    rho_s, n_iter, conv = _solve(jnp.where(interior, tau_i, 0.0), jnp.where(interior, tau_j, 0.0),
                                 target_s, rho0, tol, max_iter)
    rho = jnp.where(interior, rho_s, jnp.where(at_low, -1.0, 1.0))
    rho = jnp.where(degenerate, jnp.nan, rho).astype(dtype)
    status = jnp.where(degenerate, DEGENERATE,
                       jnp.where(at_low, BOUNDARY_LOW,
                                 jnp.where(at_high, BOUNDARY_HIGH,
                                           jnp.where(conv, OK, NOT_CONVERGED)))).astype(jnp.int32)
    n_iter = jnp.where(interior, n_iter, 0)
    # delta-method variance per observation, at the fitted cell probabilities
    r = jnp.where(interior, rho_s, 0.0)
    ti = jnp.where(interior, tau_i, 0.0)
    tj = jnp.where(interior, tau_j, 0.0)
    dens = _pdf_impl(ti, tj, r)
    dens = jnp.where(interior & (dens > 0), dens, 1.0)
    a = _cond_cdf(ti, tj, r)  # dPhi_2/dtau_i / phi(tau_i)
    b = _cond_cdf(tj, ti, r)
    g11 = (1 - a - b) / dens
    g10 = -a / dens
    g01 = -b / dens
    q11 = target_s
    q10 = p_i_q - q11
    q01 = p_j_q - q11
    mean_g = q11 * g11 + q10 * g10 + q01 * g01
    var1 = q11 * g11 ** 2 + q10 * g10 ** 2 + q01 * g01 ** 2 - mean_g ** 2
    se = jnp.sqrt(jnp.maximum(var1, 0.0) / n_obs)
    se = jnp.where(interior, se, jnp.nan).astype(dtype)
    return PairResult(rho, se, status, n_iter, jnp.where(degenerate, jnp.nan, target)), corrected


@functools.partial(jax.jit, static_argnames=("correction", "tol", "max_iter"))
def tetrachoric_from_rates(p_i: ArrayLike, p_j: ArrayLike, p_ij: ArrayLike,
                           n_obs: ArrayLike | None = None, *, correction: float | bool = False,
                           tol: float = 1e-12, max_iter: int = 100) -> PairResult:
    """Tetrachoric correlations from marginal and joint rates, for arrays of pairs.

    Solves ``Phi_2(Phi^-1(p_i), Phi^-1(p_j); rho) = p_ij`` elementwise (the inputs
    broadcast explicitly). Here the "event" is whatever the rates count; for
    co-failure, ``p_i`` is model i's error rate and ``p_ij`` the both-wrong rate.

    Args:
      p_i: marginal rate of the first variable.
      p_j: marginal rate of the second variable.
      p_ij: joint rate.
      n_obs: number of observations behind the rates (for the standard error and the
        continuity correction); without it ``se`` is NaN and ``correction`` needs it.
      correction: ``False`` (default) or the count put into empty 2 x 2 cells (``True``
        means 0.5, psych's default ``correct=.5``); see :func:`tetrachoric`.
      tol: convergence tolerance on the Newton step in rho.
      max_iter: iteration cap; pairs still moving get status ``NOT_CONVERGED``.

    Returns:
      :class:`PairResult`.

    References:
      Pearson, K. (1900). Mathematical contributions to the theory of evolution VII:
      on the correlation of characters not quantitatively measurable. Phil. Trans. R.
      Soc. A 195, 1--47.
      Bonett, D. G. and Price, R. M. (2005). Inferential methods for the tetrachoric
      correlation coefficient. J. Educational and Behavioral Statistics 30, 213--225.
    """
    p_i, p_j, p_ij = (jnp.asarray(x) for x in (p_i, p_j, p_ij))
    dtype = jnp.result_type(p_i, p_j, p_ij, float)
    shape = jnp.broadcast_shapes(p_i.shape, p_j.shape, p_ij.shape)
    p_i, p_j, p_ij = (jnp.broadcast_to(x.astype(dtype), shape) for x in (p_i, p_j, p_ij))
    correct = _correction_value(correction)
    if n_obs is None:
        if correct:
            raise ValueError("tetrachoric_from_rates: correction needs n_obs (the count "
                             "scale of the empty cells)")
        n = jnp.full(shape, jnp.nan, dtype)
    else:
        n = jnp.broadcast_to(jnp.asarray(n_obs, dtype), shape)
    res, _ = _pairs(p_i, p_j, p_ij, n, correction=correct, tol=tol, max_iter=max_iter)
    return res


def _correction_value(correction) -> float:
    if correction is True:
        return 0.5
    if correction is False or correction is None:
        return 0.0
    c = float(correction)
    if not c >= 0:
        raise ValueError(f"tetrachoric: correction must be False, True or a count >= 0, "
                         f"got {correction!r}")
    return c
