"""The whole (k, k) matrix in one jitted call, and :func:`tetrachoric`, which picks the dense
or the chunked path."""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np
from jax.scipy.special import ndtri
from jaxtyping import ArrayLike

from ..outcomes import outcome_array
from .chunked import PAIR_CHUNK, _tetrachoric_chunked
from .results import (BOUNDARY_HIGH, BOUNDARY_LOW, DEGENERATE, NOT_CONVERGED, OK,
                      TetrachoricResult, status_message)
from .solve import _correction_value, _pairs


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


def chunked_pairs(k: int) -> bool:
    """Whether ``k`` models have more pairs than :data:`PAIR_CHUNK`: :func:`tetrachoric`
    (outside jit) then solves them in bounded-memory chunks, and whoever computes a whole
    pool's statistics does so outside jit (:func:`..pricing.whole_pool_stats`)."""
    return k * (k - 1) // 2 > PAIR_CHUNK


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

    Long: 70 of its lines are the docstring (definition, examples, references); the code is 33 lines.
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
