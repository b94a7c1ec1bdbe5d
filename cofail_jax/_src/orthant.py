"""Full-covariance Gaussian copula: P(Z <= tau), Z ~ N(0, corr), three estimators.

* ``"mc"``: plain Monte Carlo. ``Z = L e`` with ``L`` the Cholesky factor; every chunk
  makes its standard normals from a counter-based hash of (chunk key, counter) (two
  rounds of a 32-bit avalanche mixer, then the inverse error function, in float32), does
  the product, the comparison and the count in one fused kernel, and returns an exact
  integer hit count. Memory is bounded by the chunk, whatever the number of draws.
* ``"qmc"``: Genz's separation of variables (SOV). After a greedy reordering that puts the
  tightest conditional constraints first (Genz and Bretz 2009, section 4.1.3), the
  probability is the integral over the unit cube of ``prod_i e_i(w)``,
  ``e_i = Phi((tau_i - sum_{j<i} L_ij w_j) / L_ii)``, ``w_i = Phi^{-1}(u_i e_i)``. The points
  are a randomly shifted Richtmyer (Kronecker) lattice with the baker's (tent)
  transform; the error comes from independent random shifts. All in log space.
* ``"tilting"``: Botev's minimax exponential tilting. The same sequential conditioning,
  but each ``w_i`` is drawn from a normal with mean ``mu_i`` truncated to the constraint;
  ``mu`` comes from the saddle point of a convex-concave function ``psi(x, mu)`` solved by
  damped Newton steps. ``exp(psi*)`` bounds every importance weight, which keeps the
  relative error bounded as the probability shrinks (1e-5 and far below).

Every estimator is ``(key, tau, corr) -> OrthantResult``, pure and fixed-shape, built
with :func:`make_orthant_estimator`. Its chunks are spread over all devices
(:mod:`cofail_jax._src.sharding`); chunk ``c`` uses ``fold_in(key, c)`` alone and the
per-chunk sums are reduced in a fixed order, so the same key and sample count give the same
bits on 1 or many devices. ``tau_i = +inf`` excludes model i (exact factor 1).

References:
  Genz, A. (1992). Numerical computation of multivariate normal probabilities. Journal of
  Computational and Graphical Statistics 1, 141-149.
  Genz, A. and Bretz, F. (2009). Computation of Multivariate Normal and t Probabilities.
  Lecture Notes in Statistics 195, Springer.
  Richtmyer, R. D. (1951). The evaluation of definite integrals, and a quasi-Monte-Carlo
  method based on the properties of algebraic numbers. Report LA-1342, Los Alamos.
  Hickernell, F. J. (2002). Obtaining O(N^{-2+eps}) convergence for lattice quadrature
  rules (the baker's transform). In Monte Carlo and Quasi-Monte Carlo Methods 2000.
  Botev, Z. I. (2017). The normal law under linear restrictions: simulation and
  estimation via minimax tilting. JRSS B 79(1), 125-148.
  Wellons, C. (2018). Prospecting for hash functions (the 32-bit mixer constants).
  Giles, M. (2011). Approximating the erfinv function. GPU Computing Gems Jade Edition.
"""

from __future__ import annotations

import functools
import math
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jax.scipy.special import log_ndtr, ndtri
from jaxtyping import Array, ArrayLike, Float, Int

from .sharding import map_chunks, resolve_mesh

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

    def body(i, st):
        A, L, t, perm, y = st
        var = jnp.diag(A) - jnp.sum(L * L, axis=1)
        sd = jnp.sqrt(jnp.maximum(var, tiny))
        b = (t - L @ y) / sd
        score = jnp.where(idx >= i, log_ndtr(b), jnp.inf)
        j = jnp.argmin(score)
        p = idx.at[i].set(j).at[j].set(i)
        A = A[p][:, p]
        L = L[p]
        t = t[p]
        perm = perm[p]
        lii = jnp.sqrt(jnp.maximum(A[i, i] - jnp.sum(L[i] * L[i]), tiny))
        col = (A[:, i] - L @ L[i]) / lii
        col = jnp.where(idx > i, col, 0.0).at[i].set(lii)
        L = L.at[:, i].set(col)
        bi = (t[i] - L[i] @ y) / lii
        y = y.at[i].set(-jnp.exp(-0.5 * bi * bi - _LOG_SQRT_2PI - log_ndtr(bi)))
        return A, L, t, perm, y

    init = (corr, jnp.zeros_like(corr), tau, idx, jnp.zeros_like(tau))
    _, L, t, perm, _ = jax.lax.fori_loop(0, k, body, init)
    return t, L, perm


# ---------------------------------------------------------------------------------------
# plain Monte Carlo with a fused counter-hash generator


def _mix32(x):
    # 32-bit avalanche mixer (Wellons 2018, "lowbias32" constants)
    x = x ^ (x >> 16)
    x = x * jnp.uint32(0x7FEB352D)
    x = x ^ (x >> 15)
    x = x * jnp.uint32(0x846CA68B)
    return x ^ (x >> 16)


def hash_normals(seed: Array, shape: tuple[int, int]) -> Array:
    """float32 standard normals from a counter hash keyed by two uint32 words.

    ``u = (mix(mix(counter ^ s0) + s1) >> 8 + 1/2) / 2^24`` lies in (0, 1) on a 2^-24
    grid, ``z = sqrt(2) erfinv(2u - 1)``; the counter is the element's position, so a chunk
    is reproducible from its key alone. The grid truncates the normal at |z| ~ 5.42
    (two-sided mass 6e-8 per coordinate), far below the Monte Carlo error at any
    feasible draw count; the hash is fast and well mixed but not cryptographic.
    """
    n = shape[0] * shape[1]
    ctr = jax.lax.iota(jnp.uint32, n).reshape(shape)
    bits = _mix32(_mix32(ctr ^ seed[0]) + seed[1])
    u = ((bits >> 8).astype(jnp.float32) + 0.5) * jnp.float32(2.0 ** -24)
    return jnp.float32(math.sqrt(2.0)) * jax.lax.erf_inv(2.0 * u - 1.0)


def _chunk_seed(key, c):
    return jax.random.bits(jax.random.fold_in(key, c), (2,), jnp.uint32)


def _mc(key, tau, corr, *, n_chunks, chunk, mesh):
    k = tau.shape[0]
    L, ok = _cholesky(corr)
    L32 = L.astype(jnp.float32)
    t32 = jnp.minimum(tau, BIG).astype(jnp.float32)
    if chunk * k >= 2 ** 32:
        raise ValueError(f"mc: chunk_size * k must be < 2^32, got {chunk} * {k}")

    def one(c, key, L32, t32):
        e = hash_normals(_chunk_seed(key, c), (chunk, k))
        z = jnp.matmul(e, L32.T, precision=jax.lax.Precision.DEFAULT)
        return jnp.sum(jnp.all(z <= t32[None, :], axis=1), dtype=jnp.int32)

    hits_c = map_chunks(one, n_chunks, mesh, key, L32, t32)
    itype = jnp.int64 if jax.config.jax_enable_x64 else jnp.int32
    hits = jnp.sum(hits_c.astype(itype))
    n = n_chunks * chunk
    dtype = tau.dtype
    p = hits.astype(dtype) / n
    se = jnp.sqrt(p * (1.0 - p) / n)
    status = jnp.where(ok & ~jnp.any(jnp.isnan(tau)), OK, NONFINITE)
    return OrthantResult(prob=p, std_err=se, log_prob=jnp.log(p), n_samples=jnp.asarray(n),
                         hits=hits, status=status.astype(jnp.int32), method=jnp.asarray(0))


# ---------------------------------------------------------------------------------------
# separation of variables: shared sequential-conditioning kernel


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


# ---------------------------------------------------------------------------------------
# minimax exponential tilting (Botev 2017)

N_TILT_NEWTON = 40
N_BACKTRACK = 12


def _psi(y, Lt, ut):
    """Botev's psi(x, mu) for upper limits only, y = (x_1..x_{d-1}, mu_1..mu_{d-1})."""
    d = ut.shape[0]
    x = jnp.concatenate([y[: d - 1], jnp.zeros((1,), y.dtype)])
    mu = jnp.concatenate([y[d - 1:], jnp.zeros((1,), y.dtype)])
    c = Lt @ x  # strictly lower part
    return jnp.sum(0.5 * mu * mu - x * mu + log_ndtr(ut - c - mu))


def tilting_saddle(t, L):
    """Solve grad psi = 0 by damped Newton; returns (x, mu, psi*, grad norm)."""
    d = t.shape[0]
    diag = jnp.diag(L)
    Lt = L / diag[:, None] - jnp.eye(d, dtype=L.dtype)
    ut = t / diag
    grad = jax.grad(_psi)
    hess = jax.hessian(_psi)
    steps = 0.5 ** jnp.arange(N_BACKTRACK, dtype=t.dtype)

    def body(_, y):
        g = grad(y, Lt, ut)
        H = hess(y, Lt, ut)
        dy = jnp.linalg.solve(H, -g)
        dy = jnp.where(jnp.all(jnp.isfinite(dy)), dy, -g)
        cand = y[None, :] + steps[:, None] * dy[None, :]
        norms = jax.vmap(lambda z: jnp.sum(grad(z, Lt, ut) ** 2))(cand)
        norms = jnp.where(jnp.isfinite(norms), norms, jnp.inf)
        g0 = jnp.sum(g * g)
        better = norms < g0
        first = jnp.argmax(better)
        return jnp.where(jnp.any(better), cand[first], y)

    y = jax.lax.fori_loop(0, N_TILT_NEWTON, body, jnp.zeros((2 * (d - 1),), t.dtype))
    gnorm = jnp.sqrt(jnp.sum(grad(y, Lt, ut) ** 2))
    x = jnp.concatenate([y[: d - 1], jnp.zeros((1,), t.dtype)])
    mu = jnp.concatenate([y[d - 1:], jnp.zeros((1,), t.dtype)])
    return x, mu, _psi(y, Lt, ut), gnorm, Lt, ut


def _tilt_logw(U, Lt, ut, mu):
    n, d = U.shape

    def body(i, st):
        z, lw = st
        c = z @ Lt[i]
        b = ut[i] - c - mu[i]
        lp = log_ndtr(b)
        zi = mu[i] + ndtri_log(jnp.log(U[:, i]) + lp)
        lw = lw + 0.5 * mu[i] * mu[i] - zi * mu[i] + lp
        return z.at[:, i].set(zi), lw

    _, lw = jax.lax.fori_loop(0, d, body, (jnp.zeros_like(U), jnp.zeros((n,), U.dtype)))
    return lw


def _tilting(key, tau, corr, *, n_chunks, chunk, mesh, reorder):
    d = tau.shape[0]
    dtype = tau.dtype
    t, L, ok = _factor(tau, corr, reorder)
    _, mu, psi_star, gnorm, Lt, ut = tilting_saddle(t, L)

    def one(c, key, Lt, ut, mu, psi_star):
        U = jax.random.uniform(jax.random.fold_in(key, c), (chunk, d), dtype,
                               minval=jnp.finfo(dtype).tiny)
        lw = _tilt_logw(U, Lt, ut, mu) - psi_star
        w = jnp.exp(lw)
        return jnp.sum(w), jnp.sum(w * w)

    s1, s2 = map_chunks(one, n_chunks, mesh, key, Lt, ut, mu, psi_star)
    n = n_chunks * chunk
    m1 = jnp.sum(s1) / n
    m2 = jnp.sum(s2) / n
    var = jnp.maximum(m2 - m1 * m1, 0.0) * n / (n - 1)
    logp = psi_star + jnp.log(m1)
    se = jnp.exp(psi_star) * jnp.sqrt(var / n)
    status = jnp.where(ok & jnp.isfinite(logp), OK, NONFINITE)
    status = jnp.where((status == OK) & ~(gnorm < 1e-6), NOT_CONVERGED, status)
    return OrthantResult(prob=jnp.exp(logp), std_err=se, log_prob=logp,
                         n_samples=jnp.asarray(n), hits=jnp.asarray(-1),
                         status=status.astype(jnp.int32), method=jnp.asarray(2))


# ---------------------------------------------------------------------------------------
# public API


def make_orthant_estimator(method: str = "qmc", n_samples: int = 2 ** 16, *,
                           chunk_size: int | None = None, n_shifts: int = 16,
                           reorder: bool = True, devices="all", jit: bool = True,
                           rel_error: float | None = None):
    """Build an estimator ``(key, tau, corr) -> OrthantResult`` of P(Z <= tau).

    Args:
      method: ``"mc"`` (plain Monte Carlo, exact integer counts), ``"qmc"`` (Genz SOV on a
        randomly shifted lattice) or ``"tilting"`` (Botev minimax tilting).
      n_samples: total draws (MC, tilting) or points over all shifts (QMC); rounded up to
        whole chunks (the result's ``n_samples`` says how many were used).
      chunk_size: draws per chunk (default: 65536 MC, 1024 tilting; QMC: lattice points
        per shift per chunk, default 16384 / n_shifts, every shift in one chunk); memory
        is O(chunk * k) whatever ``n_samples``. Results depend on it (chunk keys), not on
        the number of devices.
      n_shifts: independent random lattice shifts for the QMC error (default 16).
      reorder: Genz-Bretz variable reordering (QMC and tilting).
      devices: ``"all"`` (every device of every host), None (one device), an int (the
        first n devices), a list of devices or a Mesh.
      jit: return the jitted function (default).
      rel_error: QMC only: a target relative standard error; the lattice grows from
        ``n_shifts * 64`` points, doubling, until the error across the shifts reaches it
        or ``n_samples`` (the cap) is used (:func:`adaptive_lattice`; one device,
        ``chunk_size`` ignored). The result's ``n_samples`` and ``std_err`` say where it
        stopped. None (default): exactly ``n_samples`` points.

    Returns:
      A pure function ``(key, tau, corr) -> OrthantResult``; ``tau`` (k,), ``+inf`` excludes a
      model; ``corr`` (k, k) positive definite. vmappable over keys, tau and corr.

    Examples:
      >>> import jax, jax.numpy as jnp
      >>> est = make_orthant_estimator("qmc", 2 ** 12)
      >>> r = est(jax.random.key(0), jnp.zeros(2), jnp.array([[1.0, 0.5], [0.5, 1.0]]))
      >>> abs(float(r.prob) - 1 / 3) < 4 * float(r.std_err) + 1e-6
      True

    References:
      Genz (1992); Genz and Bretz (2009); Botev (2017): see the module docstring.
    """
    if method not in METHODS:
        raise NotImplementedError(f"make_orthant_estimator: method must be one of {METHODS}, "
                                  f"got {method!r}")
    n_samples = int(n_samples)
    if n_samples < 2:
        raise ValueError(f"make_orthant_estimator: n_samples must be >= 2, got {n_samples}")
    if rel_error is not None and method != "qmc":
        raise NotImplementedError(f"make_orthant_estimator: rel_error needs method='qmc', "
                                  f"got {method!r}")
    mesh = resolve_mesh(devices)
    if method == "mc":
        chunk = int(chunk_size or min(65536, n_samples))
        n_chunks = -(-n_samples // chunk)
        core = functools.partial(_mc, n_chunks=n_chunks, chunk=chunk, mesh=mesh)
    elif method == "qmc":
        if n_shifts < 2:
            raise ValueError("make_orthant_estimator: n_shifts must be >= 2 for an error estimate")
        per_shift = -(-n_samples // n_shifts)
        if rel_error is not None:
            core = functools.partial(_qmc_adaptive, n_shifts=n_shifts,
                                     max_blocks=max(1, -(-per_shift // QMC_BLOCK)),
                                     rel_error=float(rel_error), reorder=reorder)
        else:
            block = int(chunk_size or min(max(1, 16384 // n_shifts), per_shift))
            n_points = -(-per_shift // block) * block
            core = functools.partial(_qmc, n_shifts=n_shifts, n_points=n_points, block=block,
                                     mesh=mesh, reorder=reorder)
    else:
        chunk = int(chunk_size or min(1024, n_samples))
        n_chunks = -(-n_samples // chunk)
        core = functools.partial(_tilting, n_chunks=n_chunks, chunk=chunk, mesh=mesh,
                                 reorder=reorder)

    def estimate(key, tau, corr) -> OrthantResult:
        tau, corr = _check(tau, corr, f"orthant[{method}]")
        pd = jnp.linalg.eigvalsh(jnp.where(jnp.isfinite(corr), corr, 0.0))[0] > pd_tol(corr.dtype)
        pd = pd & jnp.all(jnp.isfinite(corr))
        res = core(key, tau, jnp.where(pd, corr, jnp.eye(corr.shape[0], dtype=corr.dtype)))
        never = jnp.any(tau == -jnp.inf)
        nan = jnp.asarray(jnp.nan, res.prob.dtype)
        return res._replace(prob=jnp.where(pd, jnp.where(never, 0.0, res.prob), nan),
                            std_err=jnp.where(pd, jnp.where(never, 0.0, res.std_err), nan),
                            log_prob=jnp.where(pd, jnp.where(never, -jnp.inf, res.log_prob), nan),
                            status=jnp.where(pd, res.status, NOT_PD).astype(jnp.int32))

    return jax.jit(estimate) if jit else estimate


@functools.lru_cache(maxsize=32)
def _cached(method, n_samples, n_shifts, devices):
    return make_orthant_estimator(method, n_samples, n_shifts=n_shifts, devices=devices,
                                  jit=False)


AUTO_THRESHOLD = 1e-4


@functools.partial(jax.jit, static_argnames=("method", "n_samples", "n_shifts", "devices"))
def mvn_orthant(key: Array, tau: ArrayLike, corr: ArrayLike, *, method: str = "auto",
                n_samples: int = 2 ** 16, n_shifts: int = 16, devices="all") -> OrthantResult:
    """P(Z <= tau) for Z ~ N(0, corr), choosing the estimator.

    ``method="auto"`` runs a quick QMC-SOV estimate (4096 points) and uses minimax tilting
    when it is below ``AUTO_THRESHOLD`` (1e-4), QMC-SOV otherwise (``lax.cond``: jittable).

    Args:
      key: PRNG key.
      tau: (k,) thresholds; ``+inf`` excludes a model.
      corr: (k, k) correlation matrix, positive definite to working precision (smallest
        eigenvalue above :func:`pd_tol`); otherwise the result has status ``NOT_PD`` and
        NaN: repair it first (``nearest_correlation(corr, eps=1e-6)``).
      method: ``"auto"``, ``"mc"``, ``"qmc"`` or ``"tilting"``.
      n_samples: draws or points.
      n_shifts: QMC random shifts.
      devices: see :func:`make_orthant_estimator`.

    Returns:
      :class:`OrthantResult`.

    References:
      Genz and Bretz (2009); Botev (2017).
    """
    if method != "auto":
        return _cached(method, n_samples, n_shifts, devices)(key, tau, corr)
    key_quick, key_main = jax.random.split(key)
    quick = _cached("qmc", 4096, 8, devices)(key_quick, tau, corr)
    qmc = _cached("qmc", n_samples, n_shifts, devices)
    tilt = _cached("tilting", n_samples, n_shifts, devices)
    return jax.lax.cond(quick.prob < AUTO_THRESHOLD, tilt, qmc, key_main, tau, corr)
