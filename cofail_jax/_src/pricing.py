"""The pricing core: one function prices a pool, or any subset of it, under any copulas.

``cofail price``, the sweep's subsets and its bootstrap replicates all go through
:func:`price_pool`, so the full-pool row of a sweep and ``cofail price`` on the same file,
seed and estimator settings give the same numbers (tested to 1e-12).

* :func:`pool_stats`: thresholds, all-pairs tetrachoric and Pearson correlations and
  both-wrong rates of a K-model pool under query weights (computed once per pool or
  bootstrap replicate).
* :func:`price_pool`: for a subset ``mask`` (a model outside it gets threshold +inf, an
  exact factor 1, and no pair weight), the observed beta, the correlation summaries and,
  for every copula, calibrate -> log_beta with the copula's own key
  (:func:`..copulas.copula_key`), plus its summary.
* :func:`subset_key`: the key of subset j of size k in a sweep; ``cofail price`` uses
  ``subset_key(run_key(seed), K, 0)``, the key of the sweep's single k = K subset.

Pairs calibrate by one rule (:func:`..copulas.pair_weights`: subset pairs with
tetrachoric status OK); ``mean_rho`` is over those pairs, as in ``cofail correlations``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp

from . import copulas as C
from . import onefactor as _of
from . import tetrachoric as _tet
from .sharding import cpu_compiler_options

# Reasons a row (bootstrap replicate, subset) is unusable.
OK = 0
ALWAYS_RIGHT = 1
ALWAYS_WRONG = 2
FIT_FAILED = 3
NO_ALL_WRONG = 4


class PoolStats(NamedTuple):
    """Pairwise summaries of a K-model pool under query weights.

    Attributes:
      p_wrong: (K,) weighted error rate of each model.
      tau: (K,) latent thresholds, Phi^{-1}(p_wrong) (wrong <=> Z <= tau).
      rho: (K, K) tetrachoric correlations (1 on the diagonal).
      phi: (K, K) Pearson (phi) correlations of the error indicators.
      p_both: (K, K) weighted rate of both wrong.
      status: (K, K) tetrachoric status codes (0 = OK).
      total: () total weight (number of queries).
    """

    p_wrong: jax.Array
    tau: jax.Array
    rho: jax.Array
    phi: jax.Array
    p_both: jax.Array
    status: jax.Array
    total: jax.Array


class PoolPrice(NamedTuple):
    """Observed and predicted beta of one (sub)pool (leading batch axes when vmapped).

    Attributes:
      beta_obs: () weighted share of queries on which every model of the subset is wrong.
      beta_pred: (M,) predicted beta per copula, in the order given.
      beta_pred_se: (M,) standard error of each (0 when exact to quadrature precision).
      log_beta_pred: (M,) log of each prediction.
      status: (M,) pricing status per copula (:data:`..copulas.STATUS_MESSAGES`).
      method: (M,) estimator per copula (index into :data:`..copulas.ESTIMATORS`).
      n_samples: (M,) points or draws per copula.
      mean_rho: () mean tetrachoric correlation over the calibrating pairs.
      mean_phi: () mean Pearson correlation of the error indicators over the subset's pairs.
      rho_eff: () the equal correlation whose equal-loading model reproduces beta_obs.
      min_eig: () smallest eigenvalue of the subset's tetrachoric matrix before repair.
      n_negative: () its eigenvalues below -1e-12.
      n_pairs_ok: () calibrating pairs; n_pairs_boundary: () pairs left out.
      reason: () drop code (``OK`` when the row is usable).
      summaries: tuple of per-copula summary dicts.
    """

    beta_obs: jax.Array
    beta_pred: jax.Array
    beta_pred_se: jax.Array
    log_beta_pred: jax.Array
    status: jax.Array
    method: jax.Array
    n_samples: jax.Array
    mean_rho: jax.Array
    mean_phi: jax.Array
    rho_eff: jax.Array
    min_eig: jax.Array
    n_negative: jax.Array
    n_pairs_ok: jax.Array
    n_pairs_boundary: jax.Array
    reason: jax.Array
    summaries: tuple[Any, ...]


def pool_stats(errors, weights, devices=None) -> PoolStats:
    """Thresholds, tetrachoric and phi correlations of the whole pool under weights.

    Args:
      errors: bool (n, K), True where the model is wrong.
      weights: (n,) non-negative query weights (bootstrap counts or ones).
      devices: passed to :func:`..tetrachoric.tetrachoric` (outside jit only: its
        pair-chunked solver spreads the chunks over these devices, same numbers).
    """
    errors = jnp.asarray(errors)
    w = jnp.asarray(weights, dtype=jnp.float64)
    e = errors.astype(jnp.float64)
    total = jnp.sum(w)
    p = (w @ e) / total
    p_both = (e.T * w[None, :]) @ e / total
    r = _tet.tetrachoric(errors, w, devices=devices)
    return PoolStats(p, r.tau, r.rho, r.phi, p_both, r.status, total)


_pool_stats_jit = jax.jit(pool_stats)


def whole_pool_stats(errors, weights, devices=None) -> PoolStats:
    """:func:`pool_stats` of a whole pool, as ``cofail price`` and the sweep's full pool
    compute it: one jitted program, or above ``tetrachoric.PAIR_CHUNK`` pairs outside jit,
    where the tetrachoric solves its pairs in bounded-memory chunks spread over
    ``devices`` (the fused all-pairs program would hold every pair's iterate at once:
    9.3 GB at 4,000 models against 2.6 GB chunked; same numbers on any device count)."""
    if _tet.chunked_pairs(jnp.shape(errors)[1]):
        return jax.tree.map(jnp.asarray, pool_stats(errors, weights, devices))
    return _pool_stats_jit(errors, weights)


def run_key(seed: int):
    """The sweep's subset key from the run seed (``fold_in(key(seed), 1)``)."""
    return jax.random.fold_in(jax.random.key(seed), 1)


def subset_key(key_sub, k, j):
    """Key of subset j of size k: ``fold_in(fold_in(fold_in(key_sub, k), j), 1)``."""
    return jax.random.fold_in(jax.random.fold_in(jax.random.fold_in(key_sub, k), j), 1)


def subset_stats(stats: PoolStats, mask) -> tuple[C.PairStats, jax.Array]:
    """The subset's masked :class:`..copulas.PairStats` and its calibrating pair weights."""
    mask = jnp.asarray(mask, bool)
    kk = mask.shape[0]
    eye = jnp.eye(kk, dtype=bool)
    pair = mask[:, None] & mask[None, :] & ~eye
    ps = C.PairStats(p_wrong=jnp.where(mask, stats.p_wrong, 1.0),
                     tau=jnp.where(mask, stats.tau, jnp.inf),
                     rho=jnp.where(pair, stats.rho, eye.astype(stats.rho.dtype)),
                     p_both=jnp.where(pair, stats.p_both, 0.0), pair=pair, mask=mask,
                     total=stats.total)
    return ps, C.pair_weights(pair, stats.status)


def prepare_pool(stats: PoolStats, copulas: Sequence[C.Copula]) -> tuple[Any, ...]:
    """Every copula's pool-level work (``Copula.prepare`` on the whole pool's pairs; None
    for copulas without one), done once per pool or bootstrap replicate and indexed by each
    subset (:func:`price_pool`'s ``prepared``)."""
    full = jnp.ones(stats.p_wrong.shape, bool)
    ps, pair_w = subset_stats(stats, full)
    return tuple(None if c.prepare is None else c.prepare(ps, pair_w) for c in copulas)


def compact_prepared(prepared, idx):
    """``prepared`` (:func:`prepare_pool`) restricted to the models ``idx`` (in that order):
    per-model leaves (K,) -> ``a[idx]``, per-pair leaves (K, K) -> ``a[idx][:, idx]``."""
    def take(a):
        a = jnp.asarray(a)
        return a[idx] if a.ndim == 1 else a[idx][:, idx] if a.ndim == 2 else a
    return jax.tree_util.tree_map(take, prepared)


def price_pool(key, stats: PoolStats, errors, weights, mask,
               copulas: Sequence[C.Copula], prepared: tuple[Any, ...] | None = None) -> PoolPrice:
    """Price the subset ``mask`` of a pool under every copula of ``copulas``.

    Pure and fixed-shape: vmappable over ``key``/``mask`` (and ``stats``/``weights`` for a
    bootstrap); every subset goes through the same compiled code whatever its size.

    Args:
      key: PRNG key of this (sub)pool; copula c uses ``copula_key(key, c.name)``.
      stats: :class:`PoolStats` of the whole pool (under ``weights``).
      errors: bool (n, K), True = wrong.
      weights: (n,) query weights (ones, or bootstrap counts).
      mask: bool (K,), the subset.
      copulas: built copulas (:func:`..copulas.make_copulas`).
      prepared: :func:`prepare_pool` of ``stats`` (computed here when None; a sweep computes
        it once per pool and passes it to every subset).

    Returns:
      :class:`PoolPrice`.
    """
    mask = jnp.asarray(mask, dtype=bool)
    ps, pair_w = subset_stats(stats, mask)
    w = jnp.asarray(weights, dtype=jnp.float64)
    all_wrong = jnp.all(jnp.asarray(errors) | ~mask[None, :], axis=1)
    beta_obs = jnp.sum(jnp.where(all_wrong, w, 0.0)) / stats.total
    pair_f = ps.pair.astype(jnp.float64)
    n_pairs = jnp.sum(pair_f)
    mean_rho = jnp.sum(jnp.where(pair_w > 0, stats.rho, 0.0)) / jnp.maximum(jnp.sum(pair_w), 1.0)
    # phi over the same calibrating pairs as rho (status OK), as `cofail correlations` does
    mean_phi = jnp.sum(jnp.where(pair_w > 0, stats.phi, 0.0)) / jnp.maximum(jnp.sum(pair_w), 1.0)
    eig = jnp.linalg.eigvalsh(jnp.where(jnp.isfinite(ps.rho), ps.rho, 0.0))
    ests, summaries = [], []
    token = eig[0]
    if prepared is None:
        prepared = prepare_pool(stats, copulas)
    for c, aux in zip(copulas, prepared):
        # One dependency chain: copula c starts after the previous one's estimate. On CPU
        # (jaxlib 0.10) two batched LAPACK calls in flight at once in one program can
        # deadlock XLA's intra-op pool (benchmarks/stall_repro.py); independent copula
        # branches (each with its eigendecompositions and Cholesky factors) were exactly
        # that. Serialising them costs nothing on CPU (each call is already threaded).
        (ps_c, pair_w_c, aux_c), _ = jax.lax.optimization_barrier(((ps, pair_w, aux), token))
        params = c.calibrate(ps_c, pair_w_c) if aux is None else c.calibrate(ps_c, pair_w_c,
                                                                             aux_c)
        e = c.log_beta(C.copula_key(key, c.name), params)
        ests.append(e)
        summaries.append(c.summary(params))
        token = e.log_beta
    if ests:
        est = jax.tree_util.tree_map(lambda *a: jnp.stack(a), *ests)
    else:
        est = C.Estimate(*(jnp.zeros((0,)) for _ in range(5)))
    log_beta = est.log_beta.astype(jnp.float64)
    beta_pred = jnp.exp(log_beta)
    rho_eff = _of.effective_correlation(ps.tau, beta_obs)
    p_in = jnp.where(mask, stats.p_wrong, 0.5)
    reason = jnp.where(jnp.any(p_in <= 0.0), ALWAYS_RIGHT,
             jnp.where(jnp.any(p_in >= 1.0), ALWAYS_WRONG,
             jnp.where(~jnp.all(jnp.isfinite(beta_pred)) | ~jnp.isfinite(mean_rho), FIT_FAILED,
             jnp.where(beta_obs <= 0.0, NO_ALL_WRONG, OK))))
    return PoolPrice(beta_obs=beta_obs, beta_pred=beta_pred,
                     beta_pred_se=est.std_err.astype(jnp.float64), log_beta_pred=log_beta,
                     status=est.status, method=est.method, n_samples=est.n_samples,
                     mean_rho=mean_rho, mean_phi=mean_phi, rho_eff=rho_eff, min_eig=eig[0],
                     n_negative=jnp.sum(eig < -1e-12),
                     n_pairs_ok=jnp.sum(pair_w) / 2, n_pairs_boundary=(n_pairs - jnp.sum(pair_w)) / 2,
                     reason=reason.astype(jnp.int32), summaries=tuple(summaries))


def price_matrix(key, errors, copulas: Sequence[C.Copula],
                 weights=None, devices=None) -> tuple[PoolStats, PoolPrice]:
    """:func:`price_pool` on the whole matrix (every model in the subset): the pool's
    :class:`PoolStats` and its :class:`PoolPrice`. ``cofail price`` calls this.

    The pair statistics are one jitted program and the pricing another, as in the sweep's
    full-pool row, so the two agree to rounding (:func:`whole_pool_stats`: above
    ``tetrachoric.PAIR_CHUNK`` pairs the statistics run outside jit, in bounded-memory
    chunks spread over ``devices``).
    """
    errors = jnp.asarray(errors, bool)
    n, kk = errors.shape
    w = jnp.ones((n,), jnp.float64) if weights is None else jnp.asarray(weights, jnp.float64)
    copulas = tuple(copulas)
    stats = whole_pool_stats(errors, w, devices)
    priced = jax.jit(lambda key, stats, errors, w, mask: price_pool(key, stats, errors, w,
                                                                    mask, copulas),
                     compiler_options=cpu_compiler_options())
    return stats, priced(key, stats, errors, w, jnp.ones((kk,), bool))
