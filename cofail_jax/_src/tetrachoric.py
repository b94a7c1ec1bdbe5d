"""Tetrachoric correlations of models' error indicators, every pair at once.

Each model ``i`` is read as a latent standard normal ``Z_i`` that is wrong on a query
when ``Z_i <= tau_i``, with ``tau_i = Phi^-1(P(model i wrong))``. The tetrachoric
correlation ``rho_ij`` is the latent correlation that reproduces the joint error rate:
``Phi_2(tau_i, tau_j; rho_ij) = P(i and j both wrong)``. Because the 2 x 2 model is
saturated (three parameters, three free cell probabilities), this plug-in solution is
the maximum-likelihood estimate, and its standard error is the delta-method (Fisher
information) standard error with the thresholds estimated too.

All ``k (k - 1) / 2`` pairs are solved in one vectorized safeguarded Newton iteration
(Newton steps inside a shrinking bracket, bisection when a step leaves it) under a
``lax.while_loop`` capped at ``max_iter``; there is no Python branching on data, so
:func:`tetrachoric` is jittable with fixed shapes and ``vmap``-able over query weights
(the bootstrap passes resample counts).

Status codes (module constants, per pair): :data:`OK`, :data:`BOUNDARY_LOW` (the table
has an empty "both wrong" or "both right" cell, or the target is below the attainable
range: the estimate is rho = -1), :data:`BOUNDARY_HIGH` (one model's errors are a
subset of the other's, or the target is above the attainable range: rho = +1),
:data:`DEGENERATE` (a model is always right or always wrong: rho undefined, NaN) and
:data:`NOT_CONVERGED`. Boundary pairs are never silently clamped into the interior.
"""

from __future__ import annotations

import functools
import math
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jax.scipy.special import ndtri
from jaxtyping import Array, ArrayLike, Float, Int

from .bvn import _bvn_core, _cond_cdf, _pdf_impl
from .outcomes import outcome_array

__all__ = [
    "OK", "BOUNDARY_LOW", "BOUNDARY_HIGH", "DEGENERATE", "NOT_CONVERGED", "STATUS_NAMES",
    "TetrachoricResult", "PairResult", "tetrachoric", "tetrachoric_from_rates",
    "status_message", "TetrachoricBootstrap", "tetrachoric_bootstrap", "pair_counts",
    "PAIR_CHUNK",
]

OK = 0
BOUNDARY_LOW = 1
BOUNDARY_HIGH = 2
DEGENERATE = 3
NOT_CONVERGED = 4

STATUS_NAMES = {
    OK: "ok",
    BOUNDARY_LOW: "boundary_low",
    BOUNDARY_HIGH: "boundary_high",
    DEGENERATE: "degenerate",
    NOT_CONVERGED: "not_converged",
}

_MESSAGES = {
    OK: "solved",
    BOUNDARY_LOW: ("the 2x2 table has an empty both-wrong or both-right cell: the estimate is "
                   "rho = -1 (use correction=True to add 1/2 to empty cells, as psych does)"),
    BOUNDARY_HIGH: ("one model's errors are a subset of the other's (an empty off-diagonal "
                    "cell): the estimate is rho = +1 (use correction=True to add 1/2 to empty "
                    "cells, as psych does)"),
    DEGENERATE: ("a model is always right or always wrong on these queries: rho is undefined; "
                 "drop the model (OutcomeMatrix.degenerate_models())"),
    NOT_CONVERGED: "the solver hit max_iter: raise max_iter or loosen tol",
}


def status_message(code: int) -> str:
    """What a status code means and what to do about it."""
    return f"{STATUS_NAMES.get(int(code), 'unknown')}: {_MESSAGES.get(int(code), '?')}"


class PairResult(NamedTuple):
    """Tetrachoric solution for arrays of pairs (see :func:`tetrachoric_from_rates`).

    Attributes:
      rho: latent correlation; -1 / +1 at the boundaries, NaN when degenerate.
      se: delta-method standard error (NaN without ``n_obs``, at boundaries, degenerate).
      status: per-pair status code (module constants).
      n_iter: solver iterations the pair needed.
      target: the joint rate that was matched (differs from ``p_ij`` only with the
        continuity correction).
    """

    rho: Float[Array, "..."]
    se: Float[Array, "..."]
    status: Int[Array, "..."]
    n_iter: Int[Array, "..."]
    target: Float[Array, "..."]


class TetrachoricResult(NamedTuple):
    """Tetrachoric and Pearson (phi) correlations of k models' error indicators.

    Attributes:
      rho: (k, k) tetrachoric correlations, unit diagonal; -1/+1 for boundary pairs,
        NaN in the rows/columns of degenerate models.
      tau: (k,) thresholds Phi^-1(error rate); -inf/+inf for degenerate models.
      se: (k, k) delta-method standard errors (thresholds estimated); 0 on the
        diagonal, NaN for boundary and degenerate pairs. Pairs corrected by the
        continuity correction get the delta-method SE at their fitted cells.
      status: (k, k) int status per pair (OK on the diagonal of a non-degenerate model).
      phi: (k, k) Pearson correlations of the error indicators (weighted), NaN for
        degenerate models.
      mean_rho: mean tetrachoric rho over off-diagonal pairs with status OK.
      mean_phi: mean phi over the same pairs (status OK), so the two are comparable.
      n_ok: number of pairs (i < j) with status OK.
      n_boundary: number of pairs (i < j) at the boundary (low or high).
      n_boundary_low: pairs at rho = -1.
      n_boundary_high: pairs at rho = +1.
      n_degenerate: number of degenerate models.
      n_not_converged: number of pairs (i < j) that hit ``max_iter``.
      n_corrected: pairs whose empty cells were replaced by 1/2 (correction=True).
      n_iter: (k, k) solver iterations per pair.
      error_rate: (k,) weighted error rate of each model.
      both_wrong: (k, k) weighted count of queries both models got wrong.
      n_obs: total query weight (the number of queries when unweighted).
    """

    rho: Float[Array, "k k"]
    tau: Float[Array, " k"]
    se: Float[Array, "k k"]
    status: Int[Array, "k k"]
    phi: Float[Array, "k k"]
    mean_rho: Float[Array, ""]
    mean_phi: Float[Array, ""]
    n_ok: Int[Array, ""]
    n_boundary: Int[Array, ""]
    n_boundary_low: Int[Array, ""]
    n_boundary_high: Int[Array, ""]
    n_degenerate: Int[Array, ""]
    n_not_converged: Int[Array, ""]
    n_corrected: Int[Array, ""]
    n_iter: Int[Array, "k k"]
    error_rate: Float[Array, " k"]
    both_wrong: Float[Array, "k k"]
    n_obs: Float[Array, ""]


# ------------------------------------------------------------------------------------
# pair solver
# ------------------------------------------------------------------------------------

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


# ------------------------------------------------------------------------------------
# whole matrix
# ------------------------------------------------------------------------------------

@functools.partial(jax.jit, static_argnames=("correction", "tol", "max_iter"))
def _tetrachoric(errors, weights, *, correction, tol, max_iter):
    n, k = errors.shape
    dtype = jnp.result_type(float) if weights is None else jnp.result_type(weights, float)
    e = errors.astype(dtype)
    w = jnp.ones((n,), dtype) if weights is None else weights.astype(dtype)
    n_obs = jnp.sum(w)
    count_i = w @ e
    both = (e * w[:, None]).T @ e
    p = count_i / n_obs
    pij = both / n_obs
    iu, ju = np.triu_indices(k, 1)
    iu = jnp.asarray(iu)
    ju = jnp.asarray(ju)
    n_pairs = iu.shape[0]
    res, corrected = _pairs(p[iu], p[ju], pij[iu, ju], jnp.full((n_pairs,), n_obs),
                            correction=correction, tol=tol, max_iter=max_iter)

    def sym(vals, diag, dt):
        m = jnp.zeros((k, k), dt).at[iu, ju].set(vals.astype(dt))
        m = m + m.T
        return m.at[jnp.arange(k), jnp.arange(k)].set(diag)

    degenerate = (p <= 0) | (p >= 1)
    diag_status = jnp.where(degenerate, DEGENERATE, OK).astype(jnp.int32)
    rho = sym(res.rho, jnp.where(degenerate, jnp.nan, 1.0), dtype)
    se = sym(res.se, jnp.where(degenerate, jnp.nan, 0.0), dtype)
    status = sym(res.status, diag_status, jnp.int32)
    n_iter = sym(res.n_iter, 0, jnp.int32)
    tau = ndtri(p)
    # phi: Pearson correlation of the 0/1 error indicators
    var = p * (1 - p)
    sd = jnp.sqrt(jnp.where(degenerate, 1.0, var))
    cov = pij - p[:, None] * p[None, :]
    phi = cov / (sd[:, None] * sd[None, :])
    bad = degenerate[:, None] | degenerate[None, :]
    phi = jnp.where(bad, jnp.nan, phi)
    phi = phi.at[jnp.arange(k), jnp.arange(k)].set(jnp.where(degenerate, jnp.nan, 1.0))
    ok = res.status == OK
    n_ok = jnp.sum(ok)
    denom = jnp.maximum(n_ok, 1)
    nan = jnp.asarray(jnp.nan, dtype)
    mean_rho = jnp.where(n_ok > 0, jnp.sum(jnp.where(ok, res.rho, 0.0)) / denom, nan)
    phi_pairs = phi[iu, ju]
    mean_phi = jnp.where(n_ok > 0, jnp.sum(jnp.where(ok, phi_pairs, 0.0)) / denom, nan)
    n_low = jnp.sum(res.status == BOUNDARY_LOW)
    n_high = jnp.sum(res.status == BOUNDARY_HIGH)
    return TetrachoricResult(
        rho=rho, tau=tau, se=se, status=status, phi=phi, mean_rho=mean_rho,
        mean_phi=mean_phi, n_ok=n_ok, n_boundary=n_low + n_high, n_boundary_low=n_low,
        n_boundary_high=n_high, n_degenerate=jnp.sum(degenerate),
        n_not_converged=jnp.sum(res.status == NOT_CONVERGED),
        n_corrected=jnp.sum(corrected), n_iter=n_iter, error_rate=p, both_wrong=both,
        n_obs=n_obs)


def tetrachoric(errors: ArrayLike, weights: ArrayLike | None = None, *,
                correction: float | bool = False, tol: float = 1e-12,
                max_iter: int = 100, throw: bool = False, chunk_size: int | None = None,
                devices=None) -> TetrachoricResult:
    """Tetrachoric correlations between the error indicators of k models, all pairs.

    ``errors[q, i]`` is True (or 1) when model ``i`` got query ``q`` WRONG. Thresholds
    are ``tau_i = Phi^-1(P(model i wrong))`` so "wrong" is latent ``Z_i <= tau_i``, and
    ``rho_ij`` solves ``Phi_2(tau_i, tau_j; rho) = P(i and j both wrong)`` (this is the
    maximum-likelihood estimate of the 2 x 2 latent-normal model). Flipping both
    indicators (correct instead of wrong) leaves ``rho`` unchanged, so this matches
    ``psych::tetrachoric`` on the 0/1 correct matrix with ``correct=0, smooth=FALSE``.

    Boundary pairs: an empty "both wrong" or "both right" cell gives the estimate
    ``rho = -1`` with status ``BOUNDARY_LOW``; an empty off-diagonal cell (one model's
    errors inside the other's) gives ``rho = +1`` with ``BOUNDARY_HIGH``. They are
    excluded from ``mean_rho`` and their ``se`` is NaN. With ``correction=True`` (or a
    count ``c``) empty cells of those pairs are replaced by ``1/2`` (``c``) query and
    ``rho`` is the maximum-likelihood value with the thresholds held at the observed
    marginals, as ``psych::tetrachoric(correct=.5)`` does; such pairs then have status
    ``OK`` and are counted in ``n_corrected``. The correction is off by default: it pulls
    every boundary pair to a value that depends on ``n`` and ``c``, not on the data.

    Standard errors come from the delta method on the multinomial 2 x 2 table with
    the thresholds estimated, which for this saturated model equals the inverse Fisher
    information: with ``a = Phi((tau_j - rho tau_i)/s)``, ``b = Phi((tau_i - rho
    tau_j)/s)``, ``s = sqrt(1 - rho^2)`` and density ``phi_2``, the gradient of rho
    with respect to the cell probabilities (11, 10, 01, 00) is
    ``((1 - a - b), -a, -b, 0) / phi_2`` and ``Var = (sum pi g^2 - (sum pi g)^2) / n``
    with ``n`` the total weight.

    Args:
      errors: (n, k) bool or 0/1, True = model wrong on the query; an ``OutcomeMatrix``
        (its errors are used) or a wide pandas DataFrame of error bits are accepted too.
        Result rows and columns follow the models' order.
      weights: optional (n,) nonnegative query weights (e.g. bootstrap resample counts);
        rates are weighted means and ``n_obs`` is their sum.
      correction: ``False`` (default), ``True`` (= 0.5) or a nonnegative count put into
        empty cells.
      tol: convergence tolerance on the Newton step in rho (the solution is then
        accurate to far better than ``tol``: the last steps converge quadratically).
      max_iter: cap on solver iterations (static); pairs still moving get status
        ``NOT_CONVERGED``.
      throw: raise ``RuntimeError`` if any pair did not converge (outside ``jit`` /
        ``vmap`` only; there, read ``status``).
      chunk_size: pairs solved per compiled call (default :data:`PAIR_CHUNK`). With more
        pairs than this (and concrete inputs, outside ``jit``/``vmap``) the pair counts
        come from one matrix product ``E^T E`` and the pairs are solved chunk by chunk,
        so memory is the k x k outputs plus one chunk's work (about 1 GB at k = 4,000);
        the outputs are then numpy arrays. Every pair's result is the same either way.
      devices: ``"all"``, a device count, a list or a ``Mesh``: the chunks of each round
        are spread over these devices with ``shard_map`` (results identical to one
        device). None: the default device.

    Returns:
      :class:`TetrachoricResult`.

    Examples:
      >>> import numpy as np
      >>> errs = np.array([[1, 1], [1, 0], [0, 1], [0, 0], [1, 1], [0, 0]], bool)
      >>> res = tetrachoric(errs)
      >>> round(float(res.rho[0, 1]), 6)
      0.5

    References:
      Pearson, K. (1900). Mathematical contributions to the theory of evolution VII.
      Phil. Trans. R. Soc. A 195, 1--47.
      Brown, M. B. and Benedetti, J. K. (1977). On the mean and variance of the
      tetrachoric correlation coefficient. Psychometrika 42, 347--355.
      Olsson, U. (1979). Maximum likelihood estimation of the polychoric correlation
      coefficient. Psychometrika 44, 443--460.
      Revelle, W. psych: Procedures for Psychological, Psychometric, and Personality
      Research (R package), function tetrachoric.
    """
    errors = jnp.asarray(outcome_array(errors, "tetrachoric", kind="errors")[0])
    if errors.ndim != 2:
        raise ValueError(f"tetrachoric: errors must be (n, k), got shape {errors.shape}")
    if errors.shape[1] < 2:
        raise ValueError(f"tetrachoric: need at least 2 models, got {errors.shape[1]}")
    if weights is not None:
        weights = jnp.asarray(weights)
        if weights.shape != errors.shape[:1]:
            raise ValueError(f"tetrachoric: weights must be ({errors.shape[0]},) to match "
                             f"errors, got {weights.shape}")
    corr_value = _correction_value(correction)
    k = errors.shape[1]
    traced = isinstance(errors, jax.core.Tracer) or isinstance(weights, jax.core.Tracer)
    chunk = PAIR_CHUNK if chunk_size is None else int(chunk_size)
    if chunk < 1:
        raise ValueError(f"tetrachoric: chunk_size must be >= 1, got {chunk_size}")
    if not traced and (k * (k - 1) // 2 > chunk or devices is not None):
        res = _tetrachoric_chunked(errors, weights, correction=corr_value, tol=tol,
                                   max_iter=max_iter, chunk=chunk, devices=devices)
    else:
        res = _tetrachoric(errors, weights, correction=corr_value, tol=tol, max_iter=max_iter)
    if throw:
        if isinstance(res.n_not_converged, jax.core.Tracer):
            raise ValueError("tetrachoric: throw=True needs concrete values; under jit/vmap "
                             "read result.status instead")
        if int(res.n_not_converged):
            raise RuntimeError(f"tetrachoric: {int(res.n_not_converged)} pairs: "
                               + status_message(NOT_CONVERGED))
    return res


# ------------------------------------------------------------------------------------
# many pairs: counts by one matrix product, pairs solved in chunks
# ------------------------------------------------------------------------------------

PAIR_CHUNK = 16384
"""Pairs per compiled call of the chunked path (the solver's working set stays in cache;
about 2 microseconds per pair on one CPU core)."""


def pair_counts(errors: ArrayLike, weights: ArrayLike | None = None,
                block: int = 4096) -> tuple[np.ndarray, np.ndarray, float]:
    """(count_i, both_ij, n_obs): per-model and per-pair (weighted) error counts.

    ``both = E^T diag(w) E`` as a float32 symmetric rank-k update (BLAS ``ssyrk``) over
    blocks of ``block`` queries, accumulated in float64: exact, since every partial sum
    is an integer below 2^24. Weighted counts use float64 products. Memory: the (k, k)
    result plus one block.
    """
    from scipy.linalg import blas

    e = np.asarray(errors)
    n, k = e.shape
    both = np.zeros((k, k), np.float64)
    count = np.zeros(k, np.float64)
    w = None if weights is None else np.asarray(weights, np.float64)
    for start in range(0, n, block):
        blk = e[start:start + block]
        if w is None:
            f = blk.astype(np.float32)
            both += blas.ssyrk(1.0, f, trans=1, lower=0)
            count += f.sum(axis=0, dtype=np.float64)
        else:
            f = blk.astype(np.float64)
            fw = f * np.sqrt(w[start:start + block, None])
            both += blas.dsyrk(1.0, fw, trans=1, lower=0) if np.all(w >= 0) else \
                np.triu((f * w[start:start + block, None]).T @ f)
            count += (f * w[start:start + block, None]).sum(axis=0)
    _symmetrize(both)
    n_obs = float(n) if w is None else float(w.sum())
    return count, both, n_obs


_ndtri_jit = jax.jit(ndtri)


def _symmetrize(m: np.ndarray) -> None:
    """Copy the upper triangle of a square array onto its lower triangle, in place."""
    k = m.shape[0]
    np.copyto(m, m.T, where=np.tri(k, k, -1, dtype=bool))


@functools.lru_cache(maxsize=32)
def _pair_block_fn(correction: float, tol: float, max_iter: int, mesh_key):
    """Jitted solver of D x C pairs (flat), sharded over the D devices of the mesh.

    Inputs are per-pair arrays, so one compilation serves every k.
    """
    from jax.sharding import PartitionSpec as P

    from .sharding import device_mesh

    def block(p_i, p_j, p_ij, deg_i, deg_j, n_obs):
        res, corrected = _pairs(p_i, p_j, p_ij, n_obs, correction=correction, tol=tol,
                                max_iter=max_iter)
        sd_i = jnp.sqrt(jnp.where(deg_i, 1.0, p_i * (1 - p_i)))
        sd_j = jnp.sqrt(jnp.where(deg_j, 1.0, p_j * (1 - p_j)))
        phi = (p_ij - p_i * p_j) / (sd_i * sd_j)
        phi = jnp.where(deg_i | deg_j, jnp.nan, phi)
        return res.rho, res.se, res.status, res.n_iter, corrected, phi

    # one device is a one-device mesh: the per-device program is the same, so results do
    # not depend on the number of devices
    mesh = device_mesh(jax.devices()[:1]) if mesh_key is None else mesh_key[1]
    axis = mesh.axis_names[0]
    spec = P(axis)
    f = jax.shard_map(block, mesh=mesh, in_specs=(spec,) * 6,
                      out_specs=spec, check_vma=False)
    return jax.jit(f)


def _tetrachoric_chunked(errors, weights, *, correction, tol, max_iter, chunk, devices
                         ) -> TetrachoricResult:
    from .sharding import resolve_mesh

    e = np.asarray(errors)
    if e.dtype != bool:
        e = e.astype(bool)
    n, k = e.shape
    count, both, n_obs = pair_counts(e, weights)
    p = count / n_obs
    degenerate = (p <= 0) | (p >= 1)
    mesh = resolve_mesh(devices)
    n_dev = 1 if mesh is None else mesh.size
    fn = _pair_block_fn(float(correction), float(tol), int(max_iter),
                        None if mesh is None else (id(mesh), mesh))
    rho = np.empty((k, k), np.float64)
    se = np.empty((k, k), np.float64)
    phi = np.empty((k, k), np.float64)
    status = np.empty((k, k), np.int32)
    n_iter = np.zeros((k, k), np.int32)
    outs = (rho, se, status, n_iter, None, phi)
    n_pairs = k * (k - 1) // 2
    per_round = chunk * n_dev
    row_start = np.concatenate([[0], np.cumsum(np.arange(k - 1, 0, -1))])  # first pair of row i
    sums = []  # per-chunk partial sums, reduced in chunk order (device-count independent)
    for start in range(0, n_pairs, per_round):
        stop = min(start + per_round, n_pairs)
        iu, ju = _pair_index(k, start, stop)
        m = stop - start
        pad = per_round - m
        args = [p[iu], p[ju], both[iu, ju] / n_obs, degenerate[iu], degenerate[ju]]
        args = [np.concatenate([a, np.full(pad, 0.5 if a.dtype.kind == "f" else False,
                                           a.dtype)]) for a in args]
        args[2][m:] = 0.3
        res = [np.asarray(x)[:m] for x in fn(*args, np.full(per_round, n_obs))]
        # rows i of this round: contiguous slices of the upper triangle
        i0, i1 = int(iu[0]), int(iu[-1])
        for i in range(i0, i1 + 1):
            a = max(int(row_start[i]), start) - start
            b = min(int(row_start[i]) + (k - 1 - i), stop) - start
            j0 = int(ju[a])
            for out, vals in zip(outs, res):
                if out is not None:
                    out[i, j0:j0 + (b - a)] = vals[a:b]
        for c0 in range(0, m, chunk):  # partial sums per chunk, whatever the device count
            r, st, ph, corr = (x[c0:c0 + chunk] for x in (res[0], res[2], res[5], res[4]))
            ok = st == OK
            sums.append((int(ok.sum()), float(np.sum(np.where(ok, r, 0.0))),
                         float(np.sum(np.where(ok, ph, 0.0))), int(np.sum(st == BOUNDARY_LOW)),
                         int(np.sum(st == BOUNDARY_HIGH)), int(np.sum(st == NOT_CONVERGED)),
                         int(corr.sum())))
    for out in (rho, se, status, n_iter, phi):
        _symmetrize(out)
    rows = np.arange(k)
    rho[rows, rows] = np.where(degenerate, np.nan, 1.0)
    se[rows, rows] = np.where(degenerate, np.nan, 0.0)
    status[rows, rows] = np.where(degenerate, DEGENERATE, OK)
    n_iter[rows, rows] = 0
    phi[rows, rows] = np.where(degenerate, np.nan, 1.0)
    tot = np.asarray(sums, dtype=np.float64).reshape(-1, 7)
    n_ok = int(tot[:, 0].sum())
    sum_rho = float(np.sum(tot[:, 1]))
    sum_phi = float(np.sum(tot[:, 2]))
    tau = np.asarray(_ndtri_jit(jnp.asarray(p)))
    n_low, n_high = int(tot[:, 3].sum()), int(tot[:, 4].sum())
    return TetrachoricResult(
        rho=rho, tau=tau, se=se, status=status, phi=phi,
        mean_rho=np.float64(sum_rho / n_ok if n_ok else np.nan),
        mean_phi=np.float64(sum_phi / n_ok if n_ok else np.nan),
        n_ok=np.int64(n_ok), n_boundary=np.int64(n_low + n_high), n_boundary_low=np.int64(n_low),
        n_boundary_high=np.int64(n_high), n_degenerate=np.int64(degenerate.sum()),
        n_not_converged=np.int64(tot[:, 5].sum()), n_corrected=np.int64(tot[:, 6].sum()),
        n_iter=n_iter, error_rate=p, both_wrong=both, n_obs=np.float64(n_obs))


def _pair_index(k: int, start: int, stop: int) -> tuple[np.ndarray, np.ndarray]:
    """Rows and columns of upper-triangle pairs number start..stop-1 (np.triu_indices order)."""
    t = np.arange(start, stop, dtype=np.int64)
    # pairs before row i: i k - i (i + 1) / 2; invert the quadratic, then fix rounding
    b = 2 * k - 1
    i = np.floor((b - np.sqrt(np.maximum(b * b - 8.0 * t, 0.0))) / 2).astype(np.int64)
    i[i * k - i * (i + 1) // 2 > t] -= 1
    i[(i + 1) * k - (i + 1) * (i + 2) // 2 <= t] += 1
    j = t - (i * k - i * (i + 1) // 2) + i + 1
    return i, j


# ------------------------------------------------------------------------------------
# query bootstrap
# ------------------------------------------------------------------------------------

class TetrachoricBootstrap(NamedTuple):
    """Query-bootstrap replicates of the tetrachoric summary.

    Attributes:
      mean_rho: (B,) mean tetrachoric rho of each replicate (over its status-OK pairs).
      mean_phi: (B,) mean phi of each replicate (same pairs).
      rho_sd: (k, k) bootstrap standard deviation of each rho over the replicates in
        which that pair had status OK (NaN with fewer than 2 such replicates).
      n_ok: (k, k) number of replicates in which each pair had status OK.
      n_not_converged: (B,) pairs that hit ``max_iter`` in each replicate.
    """

    mean_rho: Float[Array, " B"]
    mean_phi: Float[Array, " B"]
    rho_sd: Float[Array, "k k"]
    n_ok: Int[Array, "k k"]
    n_not_converged: Int[Array, " B"]


def _replicates(key, errors, start, *, n_boot, correction, batch_size, tol, max_iter):
    n = errors.shape[0]

    def one(i):
        idx = jax.random.randint(jax.random.fold_in(key, i), (n,), 0, n)
        w = jnp.zeros((n,), jnp.result_type(float)).at[idx].add(1.0)
        r = _tetrachoric(errors, w, correction=correction, tol=tol, max_iter=max_iter)
        return r.mean_rho, r.mean_phi, r.rho, r.status == OK, r.n_not_converged

    return jax.lax.map(one, start + jnp.arange(n_boot), batch_size=batch_size)


_replicates_jit = jax.jit(_replicates, static_argnames=("n_boot", "correction", "batch_size",
                                                        "tol", "max_iter"))


@functools.partial(jax.jit, static_argnames=("n_boot", "correction", "batch_size", "tol",
                                             "max_iter"))
def _bootstrap(key, errors, *, n_boot, correction, batch_size, tol, max_iter):
    reps = _replicates(key, errors, 0, n_boot=n_boot, correction=correction,
                       batch_size=batch_size, tol=tol, max_iter=max_iter)
    return _summarize(*reps)


def _summarize(mr, mp, rho, ok, nnc):
    cnt = jnp.sum(ok, axis=0)
    x = jnp.where(ok, rho, 0.0)
    mean = jnp.sum(x, axis=0) / jnp.maximum(cnt, 1)
    var = jnp.sum(jnp.where(ok, (rho - mean[None]) ** 2, 0.0), axis=0) / jnp.maximum(cnt - 1, 1)
    sd = jnp.where(cnt >= 2, jnp.sqrt(var), jnp.nan)
    return TetrachoricBootstrap(mr, mp, sd, cnt.astype(jnp.int32), nnc)


def tetrachoric_bootstrap(key: Array, errors: ArrayLike, n_boot: int = 200, *,
                          correction: float | bool = False, batch_size: int = 2,
                          tol: float = 1e-12, max_iter: int = 100,
                          progress=None, block: int = 64) -> TetrachoricBootstrap:
    """Query-bootstrap replicates of :func:`tetrachoric`, all in one jitted call.

    Replicate ``i`` resamples the n queries with replacement using
    ``jax.random.fold_in(key, i)`` (so results do not depend on ``batch_size``) and
    solves every pair with the resample counts as weights; ``lax.map`` runs
    ``batch_size`` replicates at a time through ``vmap`` to bound memory.

    Args:
      key: PRNG key.
      errors: (n, k) bool, True = model wrong.
      n_boot: number of replicates (static).
      correction: as in :func:`tetrachoric`.
      batch_size: replicates vectorized together (static).
      tol: solver tolerance.
      max_iter: solver iteration cap.
      progress: optional ``progress(done, total)`` callback: the replicates then run in
        host-side blocks of ``block`` (one compilation, reused), called with 0 before
        the first block and after each; the results are the same as without it.
      block: replicates per block when ``progress`` is given.

    Returns:
      :class:`TetrachoricBootstrap`; ``std(mean_rho)`` is the bootstrap standard error
      of the mean tetrachoric correlation.

    References:
      Efron, B. and Tibshirani, R. J. (1993). An Introduction to the Bootstrap.
      Chapman & Hall.
    """
    errors = jnp.asarray(outcome_array(errors, "tetrachoric_bootstrap", kind="errors")[0])
    if errors.ndim != 2 or errors.shape[1] < 2:
        raise ValueError(f"tetrachoric_bootstrap: errors must be (n, k) with k >= 2, got "
                         f"{errors.shape}")
    corr = _correction_value(correction)
    if progress is None:
        return _bootstrap(key, errors, n_boot=int(n_boot), correction=corr,
                          batch_size=int(batch_size), tol=tol, max_iter=max_iter)
    n_boot, block = int(n_boot), max(1, min(int(block), int(n_boot)))
    parts = []
    progress(0, n_boot)
    for start in range(0, n_boot, block):
        # the last block is padded to the same shape (no second compilation) and trimmed
        reps = _replicates_jit(key, errors, jnp.asarray(start), n_boot=block, correction=corr,
                               batch_size=int(batch_size), tol=tol, max_iter=max_iter)
        reps = jax.block_until_ready(reps)
        parts.append(tuple(r[: n_boot - start] for r in reps))
        progress(min(start + block, n_boot), n_boot)
    return _summarize(*(jnp.concatenate(cols) for cols in zip(*parts)))
