"""Query bootstrap of the tetrachoric summary, in one jitted call or in host-side blocks."""

from __future__ import annotations

import functools
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Float, Int

from ..outcomes import outcome_array
from .chunked import PAIR_CHUNK, _tetrachoric_chunked
from .dense import _tetrachoric
from .results import OK
from .solve import _correction_value


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


@functools.partial(jax.jit, static_argnames=("n",))
def _resample_counts(key, i, n):
    """Replicate i's resample counts, exactly as :func:`_replicates` draws them."""
    idx = jax.random.randint(jax.random.fold_in(key, i), (n,), 0, n)
    return jnp.zeros((n,), jnp.result_type(float)).at[idx].add(1.0)


def _bootstrap_streamed(key, errors, n_boot, *, correction, tol, max_iter, chunk, devices,
                        progress) -> TetrachoricBootstrap:
    """One replicate at a time through the pair-chunked solver; per-pair count, mean and
    sum of squared deviations updated in place (Welford), so memory is a few (k, k)
    arrays whatever ``n_boot`` (about 1.5 GB at k = 4,000), never (n_boot, k, k)."""
    e = np.asarray(errors, dtype=bool)
    n, k = e.shape
    cnt = np.zeros((k, k), np.int32)
    mean = np.zeros((k, k), np.float64)
    m2 = np.zeros((k, k), np.float64)
    mr, mp, nnc = (np.empty(n_boot, np.float64), np.empty(n_boot, np.float64),
                   np.empty(n_boot, np.int64))
    if progress:
        progress(0, n_boot)
    for i in range(n_boot):
        w = np.asarray(_resample_counts(key, i, n))
        r = _tetrachoric_chunked(e, w, correction=correction, tol=tol, max_iter=max_iter,
                                 chunk=chunk, devices=devices)
        mr[i], mp[i], nnc[i] = r.mean_rho, r.mean_phi, r.n_not_converged
        ok = r.status == OK
        cnt += ok
        delta = np.where(ok, r.rho - mean, 0.0)
        mean += delta / np.maximum(cnt, 1)
        m2 += np.where(ok, delta * (r.rho - mean), 0.0)
        del r, ok, delta
        if progress:
            progress(i + 1, n_boot)
    sd = np.where(cnt >= 2, np.sqrt(m2 / np.maximum(cnt - 1, 1)), np.nan)
    return TetrachoricBootstrap(mr, mp, sd, cnt, nnc)


def tetrachoric_bootstrap(key: Array, errors: ArrayLike, n_boot: int = 200, *,
                          correction: float | bool = False, batch_size: int = 2,
                          tol: float = 1e-12, max_iter: int = 100,
                          progress=None, block: int = 64, chunk_size: int | None = None,
                          devices=None) -> TetrachoricBootstrap:
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
      chunk_size: pairs per compiled call (default :data:`PAIR_CHUNK`). With more pairs
        than this, replicates run one at a time through the pair-chunked solver of
        :func:`tetrachoric` (shared over ``devices``) and per-pair sums are accumulated
        in place: memory is a few (k, k) arrays whatever ``n_boot`` (about 1.5 GB at
        k = 4,000), never ``n_boot`` matrices; the numbers are those of the one-call path
        (the standard deviations to rounding). ``batch_size`` and ``block`` are then unused.
      devices: as in :func:`tetrachoric` (pair-chunked path only).

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
    k = errors.shape[1]
    chunk = PAIR_CHUNK if chunk_size is None else int(chunk_size)
    if k * (k - 1) // 2 > chunk:
        return _bootstrap_streamed(key, errors, int(n_boot), correction=corr, tol=tol,
                                   max_iter=max_iter, chunk=chunk, devices=devices,
                                   progress=progress)
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
