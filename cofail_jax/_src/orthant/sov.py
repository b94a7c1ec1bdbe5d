"""The separation-of-variables integrand of the Gaussian orthant probability (Genz 1992).

For a point ``u`` of the unit cube, ``f(u) = prod_i e_i`` with
``e_i = Phi((t_i - sum_{j<i} L_ij w_j) / L_ii)`` and ``w_i = Phi^{-1}(u_i e_i)``. Two kernels:

* :func:`sov_f32`: the fast path. The point block is laid out dimension-major
  ``(k, n)``, so every step of the sequential loop over dimensions is one matrix-vector
  product (``L[i] @ W``, over the dimensions of its segment: :func:`segments`) and one
  fused elementwise pass over ``n`` points in float32
  (``Phi`` by :func:`ndtr32`, Numerical Recipes' ``erfcc``: one ``exp``, one division;
  ``Phi^{-1}`` by Wichura's AS 241 PPND7 rational approximation, relative error 3e-7,
  one division), in probability space (one product, no logarithm per dimension): about
  3 ns per point and dimension (with :func:`..sharding.cpu_compiler_options`) against
  242 for the exact kernel on this project's CPU. The adaptive QMC path passes
  :class:`LatticeRows`: the lattice points of dimension i are made inside step i (no
  ``(k, n)`` array of points). Pointwise, float32 rounding (mostly in the conditional
  means, whose weights reach 1 / L_ii) moves single values by up to 1e-3 relative, but
  it does not add up: on the 67-model pool the mean over 65,536 lattice points moved by
  at most 6e-7 relative against the float64 kernel on the same points (checked in the
  issue 18 follow-up), below :func:`arithmetic_rel_error` (1e-7 per dimension, which
  the estimators add to their standard error); valid while the values stay above
  float32 underflow. (Computing ``Phi`` in float64 made the whole kernel three times
  slower.)
* :func:`sov_logf_exact`: the reference path, in the caller's float dtype and in log
  space (``log_ndtr`` and :func:`..common.ndtri_log`), accurate far below ``1e-300``.

:func:`sov_logf` (the fixed-size QMC path) runs the fast kernel and falls back to the
exact one for a block whose largest value is below ``FAST_MIN`` (the far tail, where
float32 would underflow) or not finite (the adaptive path decides once per estimate:
:data:`.qmc.FAST_MIN_PROB`); the fallback is a ``while_loop`` that runs zero or one time, so under ``vmap``
it costs nothing unless some member of the batch needs it.

References:
  Genz, A. (1992). Numerical computation of multivariate normal probabilities. Journal of
  Computational and Graphical Statistics 1, 141-149.
  Wichura, M. J. (1988). Algorithm AS 241: the percentage points of the normal
  distribution. Applied Statistics 37, 477-484.
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
from jax.scipy.special import log_ndtr
from jaxtyping import Array

from .common import ndtri_log

FAST_MIN = 1e-25
"""A block whose largest integrand value is below this is recomputed by the exact kernel."""

_F32 = jnp.float32
# AS 241 PPND7 (Wichura 1988): |q| <= 0.425, then r = sqrt(-log min(p, 1 - p)) <= 5, > 5
_A = (3.3871327179, 50.434271938, 159.29113202, 59.109374720)
_B = (17.895169469, 78.757757664, 67.187563600)
_C = (1.4234372777, 2.7568153900, 1.3067284816, 0.17023821103)
_D = (0.73700164250, 0.12021132975)
_E = (6.6579051150, 3.0812263860, 0.42868294337, 0.017337203997)
_F = (0.24197894225, 0.012258202635)


def ndtri32(p):
    """Phi^{-1}(p) in float32 for p in (0, 1) (AS 241 PPND7, relative error about 3e-7).

    The two tail rationals share one evaluation (coefficients selected by branch) and
    the central and tail rationals one division: the same approximation as evaluating
    each branch separately, at a third of the divisions (the kernel's hot loop)."""
    q = p - 0.5
    r = 0.180625 - q * q
    num_m = q * (((_A[3] * r + _A[2]) * r + _A[1]) * r + _A[0])
    den_m = ((_B[2] * r + _B[1]) * r + _B[0]) * r + 1.0
    s = jnp.sqrt(-jnp.log(jnp.minimum(p, 1.0 - p)))
    near = s <= 5.0

    def sel(a, b):
        return jnp.where(near, _F32(a), _F32(b))

    s1 = s - sel(1.6, 5.0)
    num_t = (((sel(_C[3], _E[3]) * s1 + sel(_C[2], _E[2])) * s1 + sel(_C[1], _E[1])) * s1
             + sel(_C[0], _E[0]))
    den_t = (sel(_D[1], _F[1]) * s1 + sel(_D[0], _F[0])) * s1 + 1.0
    num_t = jnp.where(q < 0, -num_t, num_t)
    mid = jnp.abs(q) <= 0.425
    return jnp.where(mid, num_m, num_t) / jnp.where(mid, den_m, den_t)


# Numerical Recipes' erfcc (a Chebyshev fit of erfc(x) exp(x^2); relative error below
# 1.2e-7 for every x >= 0): one exponential and one division
_NR = (-1.26551223, 1.00002368, 0.37409196, 0.09678418, -0.18628806, 0.27886807,
       -1.13520398, 1.48851587, -0.82215223, 0.17087277)


def ndtr32(b):
    """Phi(b) in float32: ``erfc(|b| / sqrt 2) / 2`` by Numerical Recipes' ``erfcc``, and
    its complement for b > 0. Relative error (float32 arithmetic included, checked against
    scipy's float64 ``ndtr`` on a grid) below 2e-6 for b in [-5, 0], 1.4e-5 at b = -12 (the
    rounding of ``b^2`` in ``exp(-b^2 / 2)``, as for XLA's ``erfc``); absolute error below
    2e-7 for b > 0. Cheaper to fuse than ``lax.erfc`` (one ``exp`` and one division
    instead of two divisions and three polynomials)."""
    x = jnp.abs(b) * _F32(0.7071067811865476)
    t = 1.0 / (1.0 + 0.5 * x)
    poly = _F32(_NR[9])
    for a in _NR[8:0:-1]:
        poly = poly * t + _F32(a)
    h = 0.5 * t * jnp.exp(poly * t + _F32(_NR[0]) - x * x)
    return jnp.where(b < 0, h, 1.0 - h)


def scaled_factor(t, L):
    """``(t / diag(L), L / diag(L)[:, None])`` in float32: the fast kernel's inputs."""
    diag = jnp.diag(L)
    return (t / diag).astype(_F32), (L / diag[:, None]).astype(_F32)


class LatticeRows(NamedTuple):
    """A block of tent-transformed shifted lattice points, generated row by row inside
    :func:`sov_f32` (no ``(k, n)`` array of points is written): point ``s * b + j`` of
    dimension ``i`` is ``|2 frac(base[i, j] + offset[i, s]) - 1|``.

    Attributes:
      base: (k, b) float32, ``frac(alpha_i * (1 + j))``: the same for every block of b.
      offset: (k, n_shifts) float32, ``frac(alpha_i * start + shift_s,i)``.
    """

    base: Array
    offset: Array

    @property
    def shape(self):
        """(k, n_shifts, b): the kernel keeps the points as an (n_shifts, b) grid."""
        return self.base.shape[0], self.offset.shape[1], self.base.shape[1]

    def row(self, i):
        x = self.base[i][None, :] + self.offset[i][:, None]
        return jnp.abs(2.0 * (x - jnp.floor(x)) - 1.0)


SEGMENT_DIMS = 16
"""Dimensions per segment of :func:`sov_f32` (at most :data:`MAX_SEGMENTS` segments)."""

MAX_SEGMENTS = 8
"""Cap on the segments of :func:`sov_f32`: each is one loop in the compiled program."""


def segments(k: int) -> list[int]:
    """Boundaries ``[0, ..., k]`` of :func:`sov_f32`'s segments of about
    :data:`SEGMENT_DIMS` dimensions (one segment below 24 dimensions)."""
    n = min(MAX_SEGMENTS, max(1, round(k / SEGMENT_DIMS)))
    return [round(k * s / n) for s in range(n + 1)]


def sov_f32(UT, tw, Lw, scale=None):
    """prod_i e_i for a dimension-major block ``UT`` (k, n) of unit-cube points, float32.

    ``UT`` is an array or a :class:`LatticeRows` (the adaptive QMC path: the points are
    made where they are used). ``tw, Lw`` from :func:`scaled_factor`. Conditional bounds
    are clipped at -12 (where ``Phi`` is 2e-33): only points whose value is below that
    are affected. ``scale`` (n,) multiplies the thresholds point by point (the
    multivariate t's chi variable, ``mvt.py``); None for the Gaussian.

    The dimensions run in :func:`segments` (one loop each): a segment's conditional
    means are the finished segments' part, one matrix product per segment, plus a
    matrix-vector product over the segment's own rows, so the loop reads about half of
    ``L`` (the lower triangle) instead of all of it per dimension. On the 67-model pool
    (four segments) 1.25x faster per point than one loop over all 67 dimensions, for 0.5 s
    more compilation (benchmarks/RESULTS.md, issue 18 fourth stop).
    """
    k, *grid = UT.shape  # grid: (n,), or (n_shifts, b) for LatticeRows
    row = UT.row if isinstance(UT, LatticeRows) else (lambda i: UT[i])
    lo, hi = _F32(1e-37), _F32(1.0 - 2.0 ** -24)
    bounds = segments(k)
    done: list = []  # finished segments' W, (m_r, *grid) each
    f = jnp.ones(grid, _F32)
    for s in range(len(bounds) - 1):
        a, b = bounds[s], bounds[s + 1]
        # conditional means' part from the finished segments: one product each
        prior = sum((jnp.tensordot(Lw[a:b, bounds[r]:bounds[r + 1]], done[r], axes=1)
                     for r in range(s)), jnp.zeros((b - a, *grid), _F32))

        def body(j, st, a=a, L_own=Lw[a:b, a:b], prior=prior):
            W, f = st
            ti = tw[a + j] if scale is None else tw[a + j] * scale
            e = ndtr32(jnp.maximum(ti - prior[j] - jnp.tensordot(L_own[j], W, axes=1), -12.0))
            w = ndtri32(jnp.clip(row(a + j) * e, lo, hi))  # (unused for the last dimension)
            return W.at[j].set(w), f * e

        W, f = jax.lax.fori_loop(0, b - a, body, (jnp.zeros((b - a, *grid), _F32), f))
        done.append(W)
    return f.reshape(-1)


def arithmetic_rel_error(k: int) -> float:
    """Relative error bound of the fast kernel's float32 arithmetic for k dimensions
    (1e-7 per dimension: ``Phi`` through float32 ``erfc`` is good to about 1e-7 relative
    where the integrand has its mass), added to the reported standard error."""
    return 1e-7 * k


def sov_logf_exact(U, t, L):
    """log prod e_i for a block of points U (n, k) in the unit cube, in log space."""
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


def fast_or_exact(f, exact, dtype):
    """log of the fast kernel's values ``f`` (float32), or ``exact()`` (log f in ``dtype``)
    for the whole block when they cannot be trusted: largest value below ``FAST_MIN`` or
    any value not finite. A ``while_loop`` that runs zero or one time (vmap-friendly)."""
    lf = jnp.log(f.astype(dtype))
    bad = ~(jnp.max(f) >= FAST_MIN) | ~jnp.all(jnp.isfinite(f))
    lf, _ = jax.lax.while_loop(lambda st: st[1], lambda st: (exact(), jnp.asarray(False)),
                               (lf, bad))
    return lf


def sov_logf(points, t, L, fast):
    """log f for a block: the fast float32 kernel, the exact one where it cannot be trusted.

    Args:
      points: ``dtype -> (n, k)`` unit-cube points (called with float32 for the fast
        kernel, which takes them transposed, and with ``t.dtype`` for the fallback).
      t, L: thresholds and lower Cholesky factor (same order as the points' columns).
      fast: ``scaled_factor(t, L)``.
    """
    tw, Lw = fast
    f = sov_f32(points(_F32).T, tw, Lw)
    return fast_or_exact(f, lambda: sov_logf_exact(points(t.dtype), t, L), t.dtype)
