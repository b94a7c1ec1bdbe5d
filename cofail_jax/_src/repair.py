"""Repair an indefinite correlation matrix into a valid one (PSD, unit diagonal).

Tetrachoric matrices of large pools are usually indefinite: each entry is estimated
from its own 2 x 2 table, so the matrix as a whole need not be a correlation matrix of
any latent vector. Two repairs:

* :func:`clip_correlation`: eigenvalues below ``eps`` are raised to ``eps`` and the
  result is rescaled to a unit diagonal (the common quick fix).
* :func:`nearest_correlation`: the nearest correlation matrix in Frobenius norm
  (Higham 2002), by alternating projections onto the PSD cone and the unit-diagonal
  set with Dykstra's correction, in a jitted ``lax.while_loop``.

Callers drop degenerate models (NaN rows) before repairing; NaN input gives NaN output
with ``converged = False``.
"""

from __future__ import annotations

import functools
from typing import NamedTuple

import jax
import jax.numpy as jnp
from jaxtyping import Array, ArrayLike, Bool, Float, Int

__all__ = ["RepairResult", "nearest_correlation", "clip_correlation"]


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
    """

    corr: Float[Array, "k k"]
    n_negative: Int[Array, ""]
    min_eig_before: Float[Array, ""]
    min_eig_after: Float[Array, ""]
    frobenius_distance: Float[Array, ""]
    n_iter: Int[Array, ""]
    converged: Bool[Array, ""]


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


def _report(a, out, n_iter, converged, neg_tol):
    lam_before = jnp.linalg.eigvalsh(a)
    lam_after = jnp.linalg.eigvalsh(out)
    return RepairResult(
        corr=out, n_negative=jnp.sum(lam_before < -neg_tol),
        min_eig_before=lam_before[0], min_eig_after=lam_after[0],
        frobenius_distance=jnp.linalg.norm(out - a), n_iter=jnp.asarray(n_iter, jnp.int32),
        converged=jnp.asarray(converged) & jnp.all(jnp.isfinite(out)))


@functools.partial(jax.jit, static_argnames=("eps", "neg_tol"))
def _clip(a, *, eps, neg_tol):
    a = (a + a.T) / 2
    x = _unit_diag(_psd_project(a, eps))
    return _report(a, x, 1, True, neg_tol)


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
    y, _, x, it, delta = jax.lax.while_loop(cond, body, init)
    # Finish on the PSD iterate rescaled to a unit diagonal: PSD by construction and,
    # at convergence, within rounding of the unit-diagonal iterate y.
    out = _unit_diag(x)
    return _report(a, out, it, delta <= tol, neg_tol)


def nearest_correlation(corr: ArrayLike, *, tol: float = 1e-10, max_iter: int = 1000,
                        eps: float = 0.0, neg_tol: float = 1e-12) -> RepairResult:
    """Nearest correlation matrix in Frobenius norm (Higham 2002).

    Alternating projections between ``S = {X PSD}`` (eigenvalues clipped at ``eps``)
    and ``U = {X : diag(X) = 1}``, with Dykstra's correction on the projection onto
    the non-affine set ``S``:

    .. code-block:: text

        dS = 0; Y = A
        repeat: R = Y - dS; X = P_S(R); dS = X - R; Y = P_U(X)

    until ``||Y_new - Y||_F / ||Y||_F <= tol``. The returned matrix is the final ``X``
    rescaled to a unit diagonal, which is PSD by construction and agrees with ``Y`` to
    rounding at convergence.

    Args:
      corr: (k, k) symmetric matrix with unit diagonal; it is symmetrised first.
      tol: relative change of the iterate at which to stop.
      max_iter: iteration cap (``converged`` is False if reached).
      eps: eigenvalue floor of the PSD projection (0: nearest PSD correlation matrix).
      neg_tol: eigenvalues below ``-neg_tol`` count as negative in the report.

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
    """
    return _higham(_check(corr), tol=float(tol), max_iter=int(max_iter), eps=float(eps),
                   neg_tol=float(neg_tol))
