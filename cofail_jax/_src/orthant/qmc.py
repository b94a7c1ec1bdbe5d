"""Separation of variables on a randomly shifted lattice (method ``"qmc"``, Genz 1992)."""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np

from ..sharding import map_chunks
from .common import NONFINITE, OK, OrthantResult, _factor
from .progress import ticking
from .sov import (
    LatticeRows,
    arithmetic_rel_error,
    scaled_factor,
    sov_f32,
    sov_logf,
    sov_logf_exact,
)


_sov_logf = sov_logf_exact  # the old name of the exact kernel


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


def lattice_base(alpha, b):
    """(k, b) float32: ``frac(alpha * j)`` for j = 1 .. b (:class:`.sov.LatticeRows`)."""
    j = jnp.arange(1, b + 1, dtype=alpha.dtype)
    x = alpha[:, None] * j[None, :]
    return (x - jnp.floor(x)).astype(jnp.float32)


def lattice_offset(alpha, shifts, start):
    """(k, n_shifts) float32: ``frac(alpha * start + shift)`` (:class:`.sov.LatticeRows`):
    lattice points ``start + 1 .. start + b`` are ``frac(lattice_base + offset)``."""
    x = alpha[:, None] * start.astype(alpha.dtype) + shifts.T
    return (x - jnp.floor(x)).astype(jnp.float32)


def _qmc(key, tau, corr, *, n_shifts, n_points, block, mesh, reorder, progress=None):
    k = tau.shape[0]
    dtype = tau.dtype
    t, L, ok = _factor(tau, corr, reorder)
    alpha = jnp.asarray(richtmyer_alpha(k), dtype)
    n_blocks = n_points // block
    shifts = jax.random.uniform(key, (n_shifts, k), dtype)

    def one(c, shifts, t, L):
        # chunk c: lattice points c*block+1 .. (c+1)*block under every shift at once
        lf = _sov_block(alpha, shifts, t, L, scaled_factor(t, L))(c * block, block)
        lf = lf.reshape(n_shifts, block)
        m = jnp.max(lf, axis=1)
        return m, jnp.sum(jnp.exp(lf - m[:, None]), axis=1)

    one = ticking(one, progress, n_blocks, block * n_shifts)
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
    se = jnp.hypot(jnp.exp(top) * sd_r, arithmetic_rel_error(k) * jnp.exp(logp))
    return OrthantResult(prob=jnp.exp(logp), std_err=se, log_prob=logp,
                         n_samples=jnp.asarray(n_shifts * n_points),
                         hits=jnp.asarray(-1), status=status.astype(jnp.int32),
                         method=jnp.asarray(1))


QMC_BLOCK = 64
"""Lattice points per shift per step of the adaptive QMC loop (16 shifts: 1,024 points)."""

# The Gaussian QMC-SOV also steps by QMC_BLOCK points per shift throughout (it grew to 512
# once): 1,024 points, so the kernel's (k, 1024) float32 state stays in a core's L2 cache,
# beat steps of 512 per shift (8,192 points, 2.2 MB at k = 67) by 1.5x per point on this
# CPU, despite the per-step cost of the loop over dimensions (measured on the 67-model
# pool, issue 18 follow-up in benchmarks/RESULTS.md).


def _estimate(m, s, n, n_shifts):
    """(log mean, standard error, relative error) from per-shift log-sum-exp parts."""
    lm = m + jnp.log(s) - jnp.log(n.astype(s.dtype))
    top = jnp.max(lm)
    r = jnp.exp(lm - top)
    mean_r = jnp.mean(r)
    sd_r = jnp.std(r, ddof=1) / math.sqrt(n_shifts)
    return top + jnp.log(mean_r), jnp.exp(top) * sd_r, sd_r / mean_r


def grow_lattice(block_logf, n_shifts, dtype, *, rel_error, max_points, block,
                 check_every_step=False, pooled_stop=False):
    """The adaptive loop of :func:`adaptive_lattice`.

    ``block_logf(start, b)`` returns log f at lattice points ``start+1 .. start+b`` of every
    shift, shift-major ``(n_shifts * b,)``; each step adds ``block`` points per shift, up to
    ``max_points`` (a multiple of ``block``). The stopping rule is checked whenever the
    points per shift reach ``block`` times a power of two and, with ``check_every_step``,
    after every step. With
    ``pooled_stop``, the stop also needs the relative error recorded at the last power of
    two before, scaled to the current size at the Monte Carlo rate (``sqrt(c_ref / c)``;
    the lattice converges faster, so this is conservative), to be within the target: a
    first passage of one noisy error estimate below the target no longer suffices (the
    reported error is still the current estimate). One ``while_loop``.

    Returns:
      (log estimate, standard error, points used over all shifts).
    """
    def cond(st):
        _, _, n, done, _, _ = st
        return ~done & (n + block <= max_points)

    def body(st):
        m_acc, s_acc, n, _, rel_ref, c_ref = st
        lf = block_logf(n, block).reshape(n_shifts, block)
        m = jnp.maximum(m_acc, jnp.max(lf, axis=1))
        m_safe = jnp.where(jnp.isfinite(m), m, 0.0)
        s_new = (s_acc * jnp.exp(m_acc - m_safe)
                 + jnp.sum(jnp.exp(lf - m_safe[:, None]), axis=1))
        m = jnp.where(s_new > 0, m_safe, -jnp.inf)
        n = n + block
        _, _, rel = _estimate(m, s_new, n, n_shifts)
        c = n // block
        pow2 = (c & (c - 1)) == 0
        stop_rel = rel
        if pooled_stop:  # the estimate at the last power of two must agree, at MC rate
            stop_rel = jnp.maximum(rel, rel_ref * jnp.sqrt(c_ref / c.astype(dtype)))
            rel_ref = jnp.where(pow2, rel, rel_ref)
            c_ref = jnp.where(pow2, c.astype(dtype), c_ref)
        done = (check_every_step | pow2) & (stop_rel <= rel_error)
        return m, s_new, n, done, rel_ref, c_ref

    st = (jnp.full((n_shifts,), -jnp.inf, dtype), jnp.zeros((n_shifts,), dtype),
          jnp.int32(0), jnp.asarray(False), jnp.zeros((), dtype), jnp.ones((), dtype))
    m, s, n, _, _, _ = jax.lax.while_loop(cond, body, st)
    logp, se, _ = _estimate(m, s, n, n_shifts)
    return logp, se, (n * n_shifts).astype(jnp.int32)


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
    return grow_lattice(lambda start, b: logf(_lattice_block(alpha, shifts, start, b)),
                        shifts.shape[0], shifts.dtype, rel_error=rel_error,
                        max_points=max_blocks * block, block=block)


def _sov_block(alpha, shifts, t, L, fast):
    """``(start, b) -> log f`` of the Gaussian SOV integrand on lattice points
    ``start+1 .. start+b`` of every shift (fast float32 kernel, exact fallback)."""
    def block_logf(start, b):
        return sov_logf(lambda dt: _lattice_block(alpha, shifts, start, b).astype(dt),
                        t, L, fast)
    return block_logf


QMC_CHECK_EVERY_STEP = True
"""Gaussian QMC-SOV: check the stopping rule after every step (1,024 points), not only at
powers of two. Like any first passage of a noisy error estimate below a target (16
shifts: the estimate of the SE has a relative spread of about 18 %), the plain rule's
reported SE at the stop is optimistic: on the 67-model pool with 48 keys, told 0.047 % /
0.027 %, the spread of the estimates was 0.059 % / 0.036 % against a reported 0.045 % /
0.026 % (main's 64-then-512 schedule: 0.059 % / 0.034 % against 0.041 % / 0.025 %;
power-of-two checks only: 0.050 % / 0.026 % against 0.035 % / 0.022 %, with more points).
At a fixed number of points the reported SE matches the spread (0.050 % vs 0.053 %,
0.029 % vs 0.030 %). Hence :data:`QMC_POOLED_STOP`."""

QMC_POOLED_STOP = True
"""Gaussian QMC-SOV: the pooled stopping rule of :func:`grow_lattice`. On the 67-model
pool with 48 keys, told 0.050 % / 0.024 %: spread of the estimates 0.055 % / 0.026 %
(reported 0.044 % / 0.022 %), with 26 to 32 % more points than the plain rule, whose
spread was 0.066 % / 0.032 % (reported 0.047 % / 0.023 %)."""

FAST_MIN_PROB = 1e-20
"""The adaptive QMC-SOV estimate from the float32 kernel is kept when it is at least this
(and finite); below, the whole estimate is redone by the exact log-space kernel. Points
whose conditional bound the fast kernel clips (true value below 2e-33) or whose value
underflows float32 then move the estimate by at most 2e-13 relative."""


def _qmc_adaptive(key, tau, corr, *, n_shifts, max_blocks, rel_error, reorder):
    k = tau.shape[0]
    dtype = tau.dtype
    t, L, ok = _factor(tau, corr, reorder)
    alpha = jnp.asarray(richtmyer_alpha(k), dtype)
    shifts = jax.random.uniform(key, (n_shifts, k), dtype)
    fast = scaled_factor(t, L)
    base_rows = lattice_base(alpha, QMC_BLOCK)  # outside the loop

    def fast_block(start, b):
        rows = LatticeRows(base_rows, lattice_offset(alpha, shifts, start))
        return jnp.log(sov_f32(rows, *fast).astype(dtype))

    logp, se, n_used = grow_lattice(fast_block, n_shifts, dtype, rel_error=rel_error,
                                    max_points=max_blocks * QMC_BLOCK, block=QMC_BLOCK,
                                    check_every_step=QMC_CHECK_EVERY_STEP,
                                    pooled_stop=QMC_POOLED_STOP)
    se = jnp.hypot(se, arithmetic_rel_error(k) * jnp.exp(logp))
    bad = ~(logp >= math.log(FAST_MIN_PROB))

    def exact(st):  # the far tail: the log-space kernel, one phase (compiled once)
        lp, e, n = adaptive_lattice(lambda U: sov_logf_exact(U, t, L), alpha, shifts,
                                    rel_error=rel_error, max_blocks=max_blocks)
        return lp, e, n, jnp.asarray(False)

    # a while_loop that runs zero or one time: under vmap, only when some member needs it
    logp, se, n_used, _ = jax.lax.while_loop(lambda st: st[3], exact, (logp, se, n_used, bad))
    status = jnp.where(ok & jnp.isfinite(logp), OK, NONFINITE)
    return OrthantResult(prob=jnp.exp(logp), std_err=se, log_prob=logp, n_samples=n_used,
                         hits=jnp.asarray(-1), status=status.astype(jnp.int32),
                         method=jnp.asarray(1))
