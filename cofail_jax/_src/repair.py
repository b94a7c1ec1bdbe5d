"""Repair an indefinite correlation matrix into a valid one (PSD, unit diagonal).

Tetrachoric matrices of large pools are usually indefinite: each entry is estimated
from its own 2 x 2 table, so the matrix as a whole need not be a correlation matrix of
any latent vector. Two repairs:

* :func:`clip_correlation`: eigenvalues below ``eps`` are raised to ``eps`` and the
  result is rescaled to a unit diagonal (the common quick fix).
* :func:`nearest_correlation`: the nearest correlation matrix in Frobenius norm, by
  Higham's (2002) alternating projections with Dykstra's correction (``method="higham"``,
  linear convergence, the default) or by the semismooth Newton method of Qi and Sun (2006)
  on the dual problem as refined by Borsdorf and Higham (2010) (``method="newton"``,
  quadratic convergence, warm-startable from a dual vector), each a jitted
  ``lax.while_loop`` that ``vmap`` batches.
* :func:`nearest_correlation_factored`: the Newton repair returning what a pricing
  step needs from its eigendecompositions only (the repaired matrix, a square-root
  factor, the eigenvalue report of the input, the dual vector for the next warm start).

Callers drop degenerate models (NaN rows) before repairing; NaN input gives NaN output
with ``converged = False``.
"""

from __future__ import annotations

import functools
from typing import NamedTuple

import jax
import jax.numpy as jnp
from jaxtyping import Array, ArrayLike, Bool, Float, Int

__all__ = ["RepairResult", "FactoredRepair", "nearest_correlation",
           "nearest_correlation_factored", "clip_correlation", "REPAIR_METHODS"]

REPAIR_METHODS = ("higham", "newton")
"""Methods of :func:`nearest_correlation` (both give the nearest correlation matrix)."""


class RepairResult(NamedTuple):
    """A repaired correlation matrix and what the repair did.

    Attributes:
      corr: (k, k) repaired matrix: symmetric, unit diagonal, PSD (eigenvalues >= eps
        up to rounding).
      n_negative: eigenvalues of the input below ``-neg_tol`` (roundoff excluded).
      min_eig_before: smallest eigenvalue of the (symmetrised) input.
      min_eig_after: smallest eigenvalue of ``corr``.
      frobenius_distance: ``||corr - input||_F``.
      n_iter: iterations used (1 for clipping).
      converged: whether the iteration met its tolerance (always True for clipping
        of finite input; False for NaN input).
      dual: (k,) dual vector ``y`` of the nearest-correlation problem: the repaired
        matrix before its final unit-diagonal rescaling is ``eps I + (A - eps I +
        diag(y))_+``. Pass it as ``y0`` to warm-start the Newton method on a nearby
        matrix. NaN for clipping.
    """

    corr: Float[Array, "k k"]
    n_negative: Int[Array, ""]
    min_eig_before: Float[Array, ""]
    min_eig_after: Float[Array, ""]
    frobenius_distance: Float[Array, ""]
    n_iter: Int[Array, ""]
    converged: Bool[Array, ""]
    dual: Float[Array, " k"]


def _check(corr):
    corr = jnp.asarray(corr)
    if corr.ndim != 2 or corr.shape[0] != corr.shape[1]:
        raise ValueError(f"repair: corr must be a square (k, k) matrix, got {corr.shape}")
    if not jnp.issubdtype(corr.dtype, jnp.floating):
        corr = corr.astype(jnp.result_type(float))
    return corr


def _psd_project(a, eps):
    lam, v = jnp.linalg.eigh(a)
    lam = jnp.maximum(lam, eps)
    return (v * lam[None, :]) @ v.T


def _unit_diag(x):
    d = jnp.sqrt(jnp.diagonal(x))
    y = x / (d[:, None] * d[None, :])
    y = (y + y.T) / 2
    return y.at[jnp.diag_indices(x.shape[0])].set(1.0)


def _report(a, out, n_iter, converged, neg_tol, dual, lam_before=None):
    # Tie the report's eigendecompositions to the repair's result so that XLA cannot run
    # them concurrently with the iteration's: on CPU (jaxlib 0.10) two batched LAPACK
    # calls in flight at once can deadlock the intra-op thread pool (each blocks in
    # ParallelBatchMap waiting for sub-tasks queued on the exhausted pool; see
    # benchmarks/stall_repro.py).
    a, out = jax.lax.optimization_barrier((a, out))
    if lam_before is None:
        lam_before = jnp.linalg.eigvalsh(a)
    lam_after = jnp.linalg.eigvalsh(out)
    return RepairResult(
        corr=out, n_negative=jnp.sum(lam_before < -neg_tol),
        min_eig_before=lam_before[0], min_eig_after=lam_after[0],
        frobenius_distance=jnp.linalg.norm(out - a), n_iter=jnp.asarray(n_iter, jnp.int32),
        converged=jnp.asarray(converged) & jnp.all(jnp.isfinite(out)), dual=dual)


@functools.partial(jax.jit, static_argnames=("eps", "neg_tol"))
def _clip(a, *, eps, neg_tol):
    a = (a + a.T) / 2
    x = _unit_diag(_psd_project(a, eps))
    return _report(a, x, 1, True, neg_tol, jnp.full(a.shape[:1], jnp.nan, a.dtype))


def clip_correlation(corr: ArrayLike, eps: float = 0.0, *,
                     neg_tol: float = 1e-12) -> RepairResult:
    """Eigenvalue clipping with rescaling to a unit diagonal.

    The symmetrised input ``A = V diag(lam) V^T`` becomes ``X = V diag(max(lam, eps))
    V^T`` and then ``D^-1/2 X D^-1/2`` with ``D = diag(X)``. Quick and PSD, but not the
    nearest correlation matrix (the rescaling moves it further than necessary).

    Args:
      corr: (k, k) symmetric matrix with unit diagonal (e.g. a tetrachoric matrix
        without degenerate models).
      eps: eigenvalue floor (``0`` keeps it PSD; a small positive value keeps it
        positive definite, e.g. for a Cholesky factor).
      neg_tol: eigenvalues below ``-neg_tol`` count as negative in the report.

    Returns:
      :class:`RepairResult`.

    References:
      Rousseeuw, P. J. and Molenberghs, G. (1993). Transformation of non positive
      semidefinite correlation matrices. Communications in Statistics 22, 965--984.
    """
    return _clip(_check(corr), eps=float(eps), neg_tol=float(neg_tol))


@functools.partial(jax.jit, static_argnames=("tol", "max_iter", "eps", "neg_tol"))
def _higham(a, *, tol, max_iter, eps, neg_tol):
    a = (a + a.T) / 2
    k = a.shape[0]
    diag = jnp.diag_indices(k)

    def cond(state):
        _, _, _, it, delta = state
        return (it < max_iter) & (delta > tol)

    def body(state):
        y, ds, _, it, _ = state
        r = y - ds
        x = _psd_project(r, eps)
        ds = x - r
        y_new = x.at[diag].set(1.0)
        delta = jnp.linalg.norm(y_new - y) / jnp.maximum(jnp.linalg.norm(y), 1e-300)
        delta = jnp.where(jnp.isfinite(delta), delta, 0.0)
        return y_new, ds, x, it + 1, delta

    init = (a, jnp.zeros_like(a), a, jnp.int32(0), jnp.asarray(jnp.inf, a.dtype))
    y, ds, x, it, delta = jax.lax.while_loop(cond, body, init)
    # Finish on the PSD iterate rescaled to a unit diagonal: PSD by construction and,
    # at convergence, within rounding of the unit-diagonal iterate y.
    out = _unit_diag(x)
    # Dykstra's R = Y - dS accumulates only diagonal corrections: R = A + diag(dual),
    # and x = P_S(R), so (x - dS) - A is the dual vector of the Newton method.
    dual = jnp.diagonal(x - ds - a)
    return _report(a, out, it, delta <= tol, neg_tol, dual)


class _NewtonInfo(NamedTuple):
    lam0: Float[Array, " k"]       # eigenvalues of A - eps I + diag(y0)
    n_iter: Int[Array, ""]        # Newton steps
    n_eigh: Int[Array, ""]        # eigendecompositions (one per line-search trial + 1)
    n_cg: Int[Array, ""]          # CG matrix-vector products, all steps together
    grad_norm: Float[Array, ""]   # ||diag(X) - 1||_2 at the end
    converged: Bool[Array, ""]


@jax.custom_batching.custom_vmap
def _eigh(a):
    """``jnp.linalg.eigh`` whose ``vmap`` is a loop of single-matrix LAPACK calls.

    jaxlib 0.10.2's batched CPU ``syevd`` splits its batch into tasks on XLA's intra-op
    pool and blocks a pool thread until they finish; two such calls in flight deadlock a
    2-thread pool (benchmarks/stall_repro.py), and the vmapped Newton repair inside the
    sweep's micro-batch program reproducibly did (the 38-model example, 2026-11-29). One
    matrix per call never enters that path; on CPU the loop costs nothing measurable (one
    OpenBLAS thread per call either way).
    """
    lam, v = jnp.linalg.eigh(a)
    return lam, v


@_eigh.def_vmap
def _eigh_vmap(axis_size, in_batched, a):
    del axis_size
    if not in_batched[0]:
        return _eigh(a), (False, False)
    return jax.lax.map(_eigh, a), (True, True)


def _omega(lam):
    """First divided differences of max(., 0) at the eigenvalues: 1 on (+, +) pairs, 0 on
    (-, -), lam_i / (lam_i - lam_j) on mixed pairs (never 0 / 0)."""
    pos = lam > 0
    lp = jnp.maximum(lam, 0)
    mixed = pos[:, None] != pos[None, :]
    den = jnp.where(mixed, lam[:, None] - lam[None, :], 1.0)
    return jnp.where(pos[:, None] & pos[None, :], 1.0,
                     jnp.where(mixed, (lp[:, None] - lp[None, :]) / den, 0.0))


def _pcg(matvec, rhs, cdiag, rtol, max_iter):
    """Preconditioned conjugate gradients from 0 with a Jacobi preconditioner ``cdiag``;
    stops at ``||r|| <= rtol ||rhs||``, on a non-positive curvature or at ``max_iter``."""
    tol = rtol * jnp.linalg.norm(rhs)
    z = rhs / cdiag

    def cond(st):
        _, r, _, _, _, it, ok = st
        return ok & (it < max_iter) & (jnp.linalg.norm(r) > tol)

    def body(st):
        x, r, z, p, rz, it, _ = st
        q = matvec(p)
        pq = p @ q
        ok = pq > 0
        alpha = jnp.where(ok, rz / jnp.where(ok, pq, 1.0), 0.0)
        x = x + alpha * p
        r = r - alpha * q
        z = r / cdiag
        rz_new = r @ z
        p = z + (rz_new / jnp.where(rz != 0, rz, 1.0)) * p
        return x, r, z, p, rz_new, it + 1, ok

    st = (jnp.zeros_like(rhs), rhs, z, z, rhs @ z, jnp.int32(0), jnp.asarray(True))
    x, _, _, _, _, it, _ = jax.lax.while_loop(cond, body, st)
    return x, it


def _newton(a, y0, *, tol, max_iter, eps, cg_max_iter=200, max_ls=30, sigma=1e-4):
    """Dual semismooth Newton for min ||X - A||_F s.t. diag X = 1, X >= eps I.

    With X = eps I + Z, Z PSD: min ||Z - G||, diag Z = b, G = A - eps I, b = 1 - eps.
    The dual is min_y theta(y) = ||(G + diag y)_+||^2 / 2 - b'y, whose gradient is
    F(y) = diag((G + diag y)_+) - b; Newton on F = 0 with the generalised Jacobian
    V h = diag(P (Omega o (P' diag(h) P)) P'), P the eigenvectors of G + diag y.
    Returns (y, eigenvalues, eigenvectors of G + diag y, info).
    """
    k = a.shape[0]
    dt = a.dtype
    g = a - eps * jnp.eye(k, dtype=dt)
    b = jnp.full((k,), 1.0 - eps, dt)

    def evaluate(y):
        lam, p = _eigh(g + jnp.diag(y))
        lp = jnp.maximum(lam, 0)
        f = (p * p) @ lp - b
        theta = 0.5 * jnp.sum(lp * lp) - b @ y
        return lam, p, f, theta

    def cond(st):
        _, _, _, f, _, it, _, _ = st
        nf = jnp.linalg.norm(f)
        return (it < max_iter) & (nf > tol) & jnp.isfinite(nf)

    def body(st):
        y, lam, p, f, theta, it, n_eigh, n_cg = st
        om = _omega(lam)
        q = p * p
        cdiag = jnp.maximum(jnp.sum((q @ om) * q, axis=1), 1e-10)

        def matvec(h):
            m = om * ((p.T * h[None, :]) @ p)
            return jnp.sum((p @ m) * p, axis=1)

        nf = jnp.linalg.norm(f)
        d, cg_it = _pcg(matvec, -f, cdiag, jnp.minimum(1e-2, nf), cg_max_iter)
        slope = f @ d
        # CG from 0 on a PSD system gives a descent direction; fall back to -F if not
        d = jnp.where(slope < 0, d, -f)
        slope = jnp.where(slope < 0, slope, -(f @ f))
        # Armijo backtracking on theta, with a rounding allowance so that the full step
        # is accepted once theta's change drops below its rounding error.
        slack = 64 * jnp.finfo(dt).eps * (jnp.abs(theta) + 1)

        def ls_cond(ls):
            _, j, done = ls[0], ls[1], ls[2]
            return ~done & (j < max_ls)

        def ls_body(ls):
            _, j, _, _ = ls
            alpha = jnp.asarray(0.5, dt) ** j
            y_t = y + alpha * d
            out = evaluate(y_t)
            done = out[3] - theta <= sigma * alpha * slope + slack
            return (y_t, out), j + 1, done, None

        init_eval = (y, (lam, p, f, theta))
        (y_new, (lam, p, f, theta)), j, _, _ = jax.lax.while_loop(
            ls_cond, ls_body, (init_eval, jnp.int32(0), jnp.asarray(False), None))
        return y_new, lam, p, f, theta, it + 1, n_eigh + j, n_cg + cg_it

    lam0, p0, f0, theta0 = evaluate(y0)
    st = (y0, lam0, p0, f0, theta0, jnp.int32(0), jnp.int32(1), jnp.int32(0))
    y, lam, p, f, _, it, n_eigh, n_cg = jax.lax.while_loop(cond, body, st)
    nf = jnp.linalg.norm(f)
    return y, lam, p, _NewtonInfo(lam0, it, n_eigh, n_cg, nf, nf <= tol)


def _newton_output(lam, p, eps):
    """Repaired matrix (unit diagonal, symmetric) and a factor L with corr = L L'."""
    s = jnp.maximum(lam, 0) + eps            # eigenvalues of X = eps I + (G + diag y)_+
    d = (p * p) @ s                          # diag(X)
    rd = 1 / jnp.sqrt(d)
    factor = (p * jnp.sqrt(s)[None, :]) * rd[:, None]
    x = (p * s[None, :]) @ p.T
    corr = x * (rd[:, None] * rd[None, :])
    corr = (corr + corr.T) / 2
    return corr.at[jnp.diag_indices(lam.shape[0])].set(1.0), factor


def _dual0(a, y0):
    if y0 is None:
        return jnp.zeros(a.shape[:1], a.dtype)
    y0 = jnp.asarray(y0, a.dtype)
    if y0.shape != a.shape[:1]:
        raise ValueError(f"repair: y0 must be ({a.shape[0]},) to match corr, got {y0.shape}")
    return jnp.where(jnp.isfinite(y0), y0, 0.0)


@functools.partial(jax.jit, static_argnames=("tol", "max_iter", "eps", "neg_tol", "cold"))
def _newton_repair(a, y0, *, tol, max_iter, eps, neg_tol, cold):
    a = (a + a.T) / 2
    y, lam, p, info = _newton(a, y0, tol=tol, max_iter=max_iter, eps=eps)
    out, _ = _newton_output(lam, p, eps)
    # a cold start eigendecomposes A - eps I first: the input's eigenvalues come free
    lam_before = info.lam0 + eps if cold else None
    return _report(a, out, info.n_iter, info.converged, neg_tol, y, lam_before)


def nearest_correlation(corr: ArrayLike, *, method: str = "higham", tol: float = 1e-10,
                        max_iter: int = 1000, eps: float = 0.0, neg_tol: float = 1e-12,
                        y0: ArrayLike | None = None) -> RepairResult:
    """Nearest correlation matrix in Frobenius norm (Higham 2002; Qi and Sun 2006).

    Both methods solve ``min ||X - A||_F`` over symmetric ``X`` with unit diagonal and
    eigenvalues ``>= eps`` and return the same matrix to their tolerance.

    ``method="higham"`` (default): alternating projections between ``S = {X PSD}``
    (eigenvalues clipped at ``eps``) and ``U = {X : diag(X) = 1}``, with Dykstra's
    correction on the projection onto the non-affine set ``S``:

    .. code-block:: text

        dS = 0; Y = A
        repeat: R = Y - dS; X = P_S(R); dS = X - R; Y = P_U(X)

    until ``||Y_new - Y||_F / ||Y||_F <= tol``. The returned matrix is the final ``X``
    rescaled to a unit diagonal, which is PSD by construction and agrees with ``Y`` to
    rounding at convergence. Linear convergence: 40-100 iterations (one eigendecomposition
    each) on indefinite 48-67-model tetrachoric matrices at ``tol = 1e-10``.

    ``method="newton"``: the semismooth Newton method of Qi and Sun (2006) on the dual
    problem ``min_y theta(y) = ||(G + diag y)_+||_F^2 / 2 - (1 - eps) sum(y)`` with
    ``G = A - eps I``, whose minimiser gives ``X = eps I + (G + diag y)_+``. Each step
    solves the generalised Newton system by conjugate gradients with the Jacobi
    preconditioner of Borsdorf and Higham (2010), then backtracks on ``theta``
    (Armijo); it stops when ``||diag(X) - 1||_2 <= tol``. Quadratic convergence: about
    5-10 steps (one eigendecomposition each, plus rare line-search trials). ``y0``
    warm-starts it (the ``dual`` of a nearby matrix's result, e.g. the full pool's or the
    previous bootstrap replicate's); the default is ``y = 0``. The result is ``X``
    rescaled to a unit diagonal (a change of order ``tol``).

    Args:
      corr: (k, k) symmetric matrix with unit diagonal; it is symmetrised first.
      method: ``"higham"`` or ``"newton"``.
      tol: higham: relative change of the iterate at which to stop; newton: 2-norm of
        the diagonal residual at which to stop.
      max_iter: iteration cap (``converged`` is False if reached).
      eps: eigenvalue floor (0: nearest PSD correlation matrix; > 0: positive definite).
      neg_tol: eigenvalues below ``-neg_tol`` count as negative in the report.
      y0: (k,) starting dual vector (newton only), e.g. ``result.dual`` of a nearby
        matrix; non-finite entries start at 0.

    Returns:
      :class:`RepairResult`.

    Examples:
      >>> import numpy as np
      >>> a = np.array([[1, 1, 0], [1, 1, 1], [0, 1, 1]], float)  # Higham's example
      >>> res = nearest_correlation(a)
      >>> round(float(res.corr[0, 1]), 4)
      0.7607

    References:
      Higham, N. J. (2002). Computing the nearest correlation matrix -- a problem from
      finance. IMA Journal of Numerical Analysis 22, 329--343.
      Dykstra, R. L. (1983). An algorithm for restricted least squares regression.
      Journal of the American Statistical Association 78, 837--842.
      Qi, H. and Sun, D. (2006). A quadratically convergent Newton method for computing
      the nearest correlation matrix. SIAM J. Matrix Anal. Appl. 28(2), 360--385.
      Borsdorf, R. and Higham, N. J. (2010). A preconditioned Newton algorithm for the
      nearest correlation matrix. IMA Journal of Numerical Analysis 30(1), 94--107.
    """
    a = _check(corr)
    kw = dict(tol=float(tol), max_iter=int(max_iter), eps=float(eps), neg_tol=float(neg_tol))
    if method == "newton":
        return _newton_repair(a, _dual0(a, y0), cold=y0 is None, **kw)
    if method != "higham":
        raise NotImplementedError(
            f"nearest_correlation: method must be one of {REPAIR_METHODS}, got {method!r}")
    if y0 is not None:
        raise NotImplementedError("nearest_correlation: y0 (warm start) needs method='newton'")
    return _higham(a, **kw)


class FactoredRepair(NamedTuple):
    """The Newton repair with everything a pricing step needs, from its own
    eigendecompositions (no separate eigenvalue report).

    Attributes:
      corr: (k, k) nearest correlation matrix with eigenvalues >= about ``eps``
        (unit diagonal, symmetric).
      factor: (k, k) square-root factor, ``corr = factor @ factor.T`` up to rounding
        (not triangular: feeds samplers, not variable-reordering Cholesky codes).
      dual: (k,) dual vector, the warm start for a nearby matrix.
      n_negative: eigenvalues of the input below ``-neg_tol`` (NaN-free input), or -1
        when warm-started (the first eigendecomposition is then not the input's).
      min_eig_before: smallest eigenvalue of the input (NaN when warm-started).
      min_eig_bound: lower bound on the smallest eigenvalue of ``corr``:
        ``eps / max(diag X)`` before rescaling (Ostrowski), no extra eigendecomposition.
      n_iter: Newton steps.
      n_eigh: eigendecompositions used (one per line-search trial, plus one).
      converged: whether ``||diag X - 1||_2 <= tol`` was reached (False for NaN input).
    """

    corr: Float[Array, "k k"]
    factor: Float[Array, "k k"]
    dual: Float[Array, " k"]
    n_negative: Int[Array, ""]
    min_eig_before: Float[Array, ""]
    min_eig_bound: Float[Array, ""]
    n_iter: Int[Array, ""]
    n_eigh: Int[Array, ""]
    converged: Bool[Array, ""]


def nearest_correlation_factored(corr: ArrayLike, y0: ArrayLike | None = None, *,
                                 eps: float = 0.0, tol: float = 1e-10, max_iter: int = 100,
                                 neg_tol: float = 1e-12) -> FactoredRepair:
    """Newton nearest-correlation repair reusing its eigendecompositions for the report.

    Same matrix as ``nearest_correlation(corr, method="newton", ...)``, but the
    eigenvalue report of the input comes from the first Newton eigendecomposition (cold
    start: ``y0=None``), the square-root factor from the last one, and no eigenvalue of
    the output is recomputed (a lower bound is given instead). Pure and vmappable: call it
    inside ``jax.jit`` / ``jax.vmap`` (pass ``y0`` for a warm start; a batch of warm
    starts is ``vmap(lambda c, y: nearest_correlation_factored(c, y, ...))``).

    Args:
      corr: (k, k) symmetric matrix with unit diagonal; it is symmetrised first.
      y0: optional (k,) starting dual vector (``dual`` of a nearby matrix's repair).
      eps: eigenvalue floor.
      tol: 2-norm of the diagonal residual at which to stop.
      max_iter: Newton step cap.
      neg_tol: eigenvalues below ``-neg_tol`` count as negative.

    Returns:
      :class:`FactoredRepair`.
    """
    a = _check(corr)
    a = (a + a.T) / 2
    y, lam, p, info = _newton(a, _dual0(a, y0), tol=float(tol), max_iter=int(max_iter),
                              eps=float(eps))
    out, factor = _newton_output(lam, p, float(eps))
    s = jnp.maximum(lam, 0) + eps
    bound = eps / jnp.max((p * p) @ s)
    if y0 is None:
        lam_before = info.lam0 + eps
        n_neg = jnp.sum(lam_before < -neg_tol).astype(jnp.int32)
        min_before = lam_before[0]
    else:
        n_neg = jnp.int32(-1)
        min_before = jnp.asarray(jnp.nan, a.dtype)
    ok = info.converged & jnp.all(jnp.isfinite(out))
    return FactoredRepair(out, factor, y, n_neg, min_before, bound, info.n_iter, info.n_eigh,
                          ok)
