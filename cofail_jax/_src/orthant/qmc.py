"""Separation of variables on a randomly shifted lattice (method ``"qmc"``, Genz 1992)."""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np
from jax.scipy.special import log_ndtr

from ..sharding import map_chunks
from .common import NONFINITE, OK, OrthantResult, _factor, ndtri_log


def _sov_logf(U, t, L):
    """log prod e_i for a block of points U (n, k) in the unit cube."""
    n, k = U.shape
    diag = jnp.diag(L)

    def body(i, st):
        w, lf = st
        m = w @ L[i]
        b = (t[i] - m) / diag[i]
        le = log_ndtr(b)
        wi = ndtri_log(jnp.log(U[:, i]) + le)
        return w.at[:, i].set(wi), lf + le

    _, lf = jax.lax.fori_loop(0, k, body, (jnp.zeros_like(U), jnp.zeros((n,), U.dtype)))
    return lf


def _primes(n):
    out, c = [], 2
    while len(out) < n:
        if all(c % p for p in out if p * p <= c):
            out.append(c)
        c += 1
    return np.asarray(out, dtype=np.float64)


def richtmyer_alpha(k: int) -> np.ndarray:
    """Fractional parts of sqrt(prime_j), j = 1..k: the Richtmyer generating vector."""
    r = np.sqrt(_primes(k))
    return r - np.floor(r)


def _lattice_block(alpha, shifts, start, n):
    """Tent-transformed shifted lattice points start+1 .. start+n for every shift:
    (n_shifts * n, k), shift-major."""
    j = (start + 1 + jnp.arange(n, dtype=alpha.dtype))[:, None]
    base = jnp.mod(j * alpha[None, :], 1.0)  # (n, k)
    x = jnp.mod(base[None, :, :] + shifts[:, None, :], 1.0)
    u = jnp.abs(2.0 * x - 1.0)
    u = jnp.clip(u, 1e-300 if alpha.dtype == jnp.float64 else 1e-30, 1.0)
    return u.reshape(shifts.shape[0] * n, alpha.shape[0])


def _qmc(key, tau, corr, *, n_shifts, n_points, block, mesh, reorder):
    k = tau.shape[0]
    dtype = tau.dtype
    t, L, ok = _factor(tau, corr, reorder)
    alpha = jnp.asarray(richtmyer_alpha(k), dtype)
    n_blocks = n_points // block
    shifts = jax.random.uniform(key, (n_shifts, k), dtype)

    def one(c, shifts, t, L):
        # chunk c: lattice points c*block+1 .. (c+1)*block under every shift at once
        U = _lattice_block(alpha, shifts, c * block, block)
        lf = _sov_logf(U, t, L).reshape(n_shifts, block)
        m = jnp.max(lf, axis=1)
        return m, jnp.sum(jnp.exp(lf - m[:, None]), axis=1)

    m_c, s_c = map_chunks(one, n_blocks, mesh, shifts, t, L)  # (n_blocks, n_shifts)
    # per-shift log mean
    M = jnp.max(m_c, axis=0, keepdims=True)
    lm = M[0] + jnp.log(jnp.sum(s_c * jnp.exp(m_c - M), axis=0)) - math.log(n_points)
    top = jnp.max(lm)
    r = jnp.exp(lm - top)
    mean_r = jnp.mean(r)
    sd_r = jnp.std(r, ddof=1) / math.sqrt(n_shifts)
    logp = top + jnp.log(mean_r)
    status = jnp.where(ok & jnp.isfinite(logp), OK, NONFINITE)
    return OrthantResult(prob=jnp.exp(logp), std_err=jnp.exp(top) * sd_r, log_prob=logp,
                         n_samples=jnp.asarray(n_shifts * n_points),
                         hits=jnp.asarray(-1), status=status.astype(jnp.int32),
                         method=jnp.asarray(1))


QMC_BLOCK = 64
"""Lattice points per shift per step of the adaptive QMC loop (16 shifts: 1,024 points)."""


def adaptive_lattice(logf, alpha, shifts, *, rel_error, max_blocks, block=QMC_BLOCK):
    """Randomized-lattice mean of ``exp(logf(U))`` grown until a target relative error.

    Processes the lattice points ``1 .. block`` of every shift, then keeps appending blocks
    of ``block`` points (the Richtmyer lattice is extensible: no point is recomputed) and,
    whenever the number of blocks reaches a power of two (1, 2, 4, ... points doubled),
    stops if the standard error across the shifts is at most ``rel_error`` times the
    estimate, or at ``max_blocks``. One ``lax.while_loop``: jit- and vmap-friendly (a
    vmapped batch runs until its slowest member is done; every member's result depends on
    its own inputs only, not on the batch it falls in).

    Args:
      logf: ``U (n_shifts * block, d) -> log f (n_shifts * block,)`` (shift-major).
      alpha: (d,) lattice generating vector; shifts: (n_shifts, d) random shifts.
      rel_error: target relative standard error (0 or negative: run to ``max_blocks``).
      max_blocks: cap on blocks per shift (points per shift = blocks * block).

    Returns:
      (log estimate, standard error, points used over all shifts).
    """
    n_shifts = shifts.shape[0]
    dtype = shifts.dtype

    def estimate(m, s, c):
        lm = m + jnp.log(s) - jnp.log((c * block).astype(dtype))
        top = jnp.max(lm)
        r = jnp.exp(lm - top)
        mean_r = jnp.mean(r)
        sd_r = jnp.std(r, ddof=1) / math.sqrt(n_shifts)
        return top + jnp.log(mean_r), jnp.exp(top) * sd_r, sd_r / mean_r

    def cond(st):
        _, _, c, done = st
        return ~done & (c < max_blocks)

    def body(st):
        m_acc, s_acc, c, _ = st
        U = _lattice_block(alpha, shifts, c * block, block)
        lf = logf(U).reshape(n_shifts, block)
        m = jnp.maximum(m_acc, jnp.max(lf, axis=1))
        m_safe = jnp.where(jnp.isfinite(m), m, 0.0)
        s_new = s_acc * jnp.exp(m_acc - m_safe) + jnp.sum(jnp.exp(lf - m_safe[:, None]), axis=1)
        m = jnp.where(s_new > 0, m_safe, -jnp.inf)
        c = c + 1
        _, _, rel = estimate(m, s_new, c)
        done = ((c & (c - 1)) == 0) & (rel <= rel_error)
        return m, s_new, c, done

    st0 = (jnp.full((n_shifts,), -jnp.inf, dtype), jnp.zeros((n_shifts,), dtype),
           jnp.int32(0), jnp.asarray(False))
    m, s, c, _ = jax.lax.while_loop(cond, body, st0)
    logp, se, _ = estimate(m, s, c)
    return logp, se, (c * block * n_shifts).astype(jnp.int32)


def _qmc_adaptive(key, tau, corr, *, n_shifts, max_blocks, rel_error, reorder):
    k = tau.shape[0]
    dtype = tau.dtype
    t, L, ok = _factor(tau, corr, reorder)
    alpha = jnp.asarray(richtmyer_alpha(k), dtype)
    shifts = jax.random.uniform(key, (n_shifts, k), dtype)
    logp, se, n_used = adaptive_lattice(lambda U: _sov_logf(U, t, L), alpha, shifts,
                                        rel_error=rel_error, max_blocks=max_blocks)
    status = jnp.where(ok & jnp.isfinite(logp), OK, NONFINITE)
    return OrthantResult(prob=jnp.exp(logp), std_err=se, log_prob=logp, n_samples=n_used,
                         hits=jnp.asarray(-1), status=status.astype(jnp.int32),
                         method=jnp.asarray(1))

