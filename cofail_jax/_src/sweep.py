"""Underpricing sweeps: how much do pairwise-calibrated copulas underprice P(all wrong)?

A pairwise-calibrated latent model (thresholds from each model's error rate, tetrachoric
correlations from each 2 x 2 table) reproduces every pair of models exactly, but its
prediction for the all-wrong rate beta of a pool of k models is an extrapolation. The
underpricing ratio beta_obs / beta_pred measures how far off it is. This module holds
the array kernels of the sweep:

* :func:`pool_stats`: thresholds, all-pairs tetrachoric and Pearson correlations and
  pairwise both-wrong rates of a fixed K-model pool under query weights (bootstrap
  resample counts, or ones).
* :func:`make_subset_pricer`: one compiled function that prices any subset of the pool,
  given as a boolean mask (a model outside the subset gets threshold +inf, an exact
  factor 1, and pair weight 0), under each copula: equal-loading one-factor, fitted
  one-factor, full-correlation Gaussian (after eigenvalue repair) and Clayton.
* :func:`make_bootstrap` / :func:`make_subset_sweep`: micro-batches (rows by ``lax.map``,
  compiled ahead of time, round-robin over accelerator devices) of
  query-bootstrap replicates and of model subsets, with keys folded from the run seed
  (replicate i uses ``fold_in(key_boot, i)``; subset j of size k uses
  ``fold_in(fold_in(key_sub, k), j)``), so results do not depend on chunk size or
  device count.
* :func:`draw_subsets` (host side, keyed) and :func:`summarize_ratios` (aggregation).

File formats, configs, checkpoints and the stall watchdog live in
:mod:`cofail_jax._src.sweep_io`.

References:
  Pearson, K. (1900). Mathematical contributions to the theory of evolution VII: on the
  correlation of characters not quantitatively measurable. Phil. Trans. R. Soc. A 195.
  Efron, B. and Tibshirani, R. (1993). An Introduction to the Bootstrap. Chapman & Hall
  (percentile intervals).
  Clayton, D. G. (1978). A model for association in bivariate life tables. Biometrika 65.
  Higham, N. J. (2002). Computing the nearest correlation matrix. IMA J. Numer. Anal. 22.
"""

from __future__ import annotations

import functools
import itertools
import math
from collections.abc import Sequence
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from . import copulas as C
from . import pricing as P
from . import tetrachoric as _tet
from .errors import renamed_keyword
from .pricing import ALWAYS_RIGHT, ALWAYS_WRONG, FIT_FAILED, NO_ALL_WRONG, OK, PoolStats, pool_stats
# the micro-batch runner (MICRO, CPU_WORKERS and precompile re-exported for the driver)
from .sweep_batches import CPU_WORKERS as CPU_WORKERS
from .sweep_batches import MICRO, _abstract_rows, _micro_rows, _Program, _run_rows, _runner
from .sweep_batches import precompile as precompile

COPULAS = C.NAMES
"""Copula models the sweep can price (the copula registry), in output order."""

REPAIRS = C.REPAIRS
ORTHANT_METHODS = ("mc", "qmc", "tilting")

DROP_REASONS = {
    OK: "ok",
    ALWAYS_RIGHT: "a model is always right in the replicate (no finite threshold)",
    ALWAYS_WRONG: "a model is always wrong in the replicate (no finite threshold)",
    FIT_FAILED: "a correlation, fit or prediction came out non-finite",
    NO_ALL_WRONG: "no all-wrong query in the replicate (beta_obs = 0, ratio undefined)",
}

__all__ = ["PoolStats", "pool_stats", "Prices", "make_subset_pricer", "make_bootstrap",
           "make_subset_sweep", "draw_subsets", "subset_masks", "summarize_ratios", "ratios"]


def engines() -> dict[str, str]:
    """Which engine computes each quantity (recorded in the provenance)."""
    return {
        "tetrachoric": "cofail_jax._src.tetrachoric.tetrachoric",
        "pricing": "cofail_jax._src.pricing.price_pool",
        **{name: f"cofail_jax._src.copulas.{name}" for name in C.NAMES},
        "repair": "cofail_jax._src.repair",
        "effective_correlation": "cofail_jax._src.onefactor.effective_correlation",
    }


class Prices(NamedTuple):
    """beta observed and predicted for one subset (leading batch axes when vmapped).

    Attributes:
      beta_obs: () weighted share of queries on which every model of the subset is wrong.
      beta_pred: (M,) predicted beta under each copula in the order configured.
      beta_pred_se: (M,) Monte Carlo standard error of each prediction (0 if exact).
      n_samples: (M,) points or draws each prediction used (0 for closed forms and
        quadrature; adaptive QMC: where it reached its target error or the cap).
      mean_rho: () mean tetrachoric correlation over the subset's calibrating pairs
        (tetrachoric status OK).
      mean_phi: () mean Pearson correlation of the error indicators over its pairs.
      rho_eff: () the equal correlation whose equal-loading model reproduces beta_obs
        (NaN when beta_obs = 0).
      fit_rms: () residual rms of the one-factor loading fit (NaN without fitted_loading).
      min_eig: () smallest eigenvalue of the subset's tetrachoric matrix before repair.
      n_negative: () number of negative eigenvalues before repair.
      reason: () drop code (``OK`` when everything is usable).
    """

    beta_obs: jax.Array
    beta_pred: jax.Array
    beta_pred_se: jax.Array
    n_samples: jax.Array
    mean_rho: jax.Array
    mean_phi: jax.Array
    rho_eff: jax.Array
    fit_rms: jax.Array
    min_eig: jax.Array
    n_negative: jax.Array
    reason: jax.Array


def pricing_options(*, orthant_samples: int | None = None, orthant_method: str | None = None,
                    repair: str = "nearest", nu: float = 4.0,
                    rel_error: float = C.QMC_REL_ERROR,
                    max_samples: int = C.QMC_MAX_SAMPLES) -> C.PricingOptions:
    """The sweep's :class:`..copulas.PricingOptions` (config keys of the same names);
    the defaults are :class:`..copulas.PricingOptions`'s, which ``cofail price`` uses too."""
    return C.PricingOptions(orthant_method=orthant_method or "qmc",
                            orthant_samples=int(orthant_samples) if orthant_samples else None,
                            repair=repair, nu=float(nu), rel_error=float(rel_error),
                            max_samples=int(max_samples))


@renamed_keyword("methods", "copulas")
def make_subset_pricer(copulas: Sequence[str] = COPULAS, **pricer_kw):
    """Build ``price(key, stats, errors, weights, mask) -> Prices`` for any subset.

    A thin view of :func:`..pricing.price_pool` (the core ``cofail price`` uses too) with
    the copulas named in ``copulas`` built from ``pricer_kw`` (:func:`pricing_options`).
    """
    names = tuple(copulas)
    for m in names:
        if m not in COPULAS:
            raise ValueError(f"make_subset_pricer: unknown copula {m!r}; choose from {COPULAS}")
    built = C.make_copulas(names, pricing_options(**pricer_kw))

    def price(key, stats: PoolStats, errors, weights, mask, prepared=None) -> Prices:
        r = P.price_pool(key, stats, errors, weights, mask, built, prepared)
        fit_rms = jnp.asarray(jnp.nan)
        for m, s in zip(names, r.summaries):
            if m == "fitted_loading":
                fit_rms = s["residual_rms"]
        return Prices(r.beta_obs, r.beta_pred, r.beta_pred_se, r.n_samples, r.mean_rho,
                      r.mean_phi,
                      r.rho_eff, fit_rms, r.min_eig, r.n_negative, r.reason)

    price.copulas = built
    return price


COMPACT_DIMS = (8, 16, 32, 48)
"""Subset dimensions the sweep compiles: a k-subset of a K-model pool is priced in the
smallest of these that holds it (its models first, then other models of the pool masked
out), then of the powers of two 64, 128, ... up to 2K/3 (pools of 96 models and more:
at K in the thousands a 100-model subset is priced in 128 dimensions, not K), or at K.
One compilation per dimension used; a row's numbers depend only on its k (and K), never
on the chunk it falls in."""


def _compact_dim(k: int, n_models: int) -> int:
    for d in COMPACT_DIMS:
        if k <= d < n_models:
            return d
    d = 64
    while 3 * d <= 2 * n_models:
        if k <= d:
            return d
        d *= 2
    return n_models


def bootstrap_weights(key, n: int):
    """Multinomial resample counts (n,) of n queries drawn with replacement."""
    idx = jax.random.randint(key, (n,), 0, n)
    return jnp.zeros((n,), jnp.float64).at[idx].add(1.0)


class _CompileJob(NamedTuple):
    """One program to compile for inputs shaped like ``static``/``rows`` (concrete or
    ``jax.ShapeDtypeStruct``), a zero-argument callable for :func:`precompile`, which runs
    each distinct program once however many builders ask for it."""

    program: _Program
    static: object
    rows: object
    d: int | None

    def __call__(self):
        return self.program.compile(self.static, self.rows, self.d)

    def ident(self):
        return id(self.program), self.program._key(self.static, self.rows, self.d)


def _pool_row(n_queries: int, n_models: int, copulas, key):
    """The shapes of one row of the pool program (:func:`_pool_program`), abstract."""
    stats = jax.eval_shape(pool_stats, jax.ShapeDtypeStruct((n_queries, n_models), jnp.bool_),
                           jax.ShapeDtypeStruct((n_queries,), jnp.float64))
    prepared = jax.eval_shape(lambda s: P.prepare_pool(s, copulas), stats)
    return (jax.eval_shape(jax.random.key_data, key),
            jax.ShapeDtypeStruct((n_queries,), jnp.float64), stats, prepared,
            jax.ShapeDtypeStruct((n_models,), jnp.bool_))


@functools.lru_cache(maxsize=8)
def _pool_program(copulas: tuple[str, ...], **pricer_kw):
    """The full-width pricing program (no compaction), shared by the bootstrap and the
    sweep's subsets priced in K dimensions (the full pool, pool sizes above the largest
    compacted dimension), so one compilation serves both: ``static = (errors,)``, each row
    ``(key data, query weights, PoolStats, prepared, mask)``. Returns (runner, pricer)."""
    price = make_subset_pricer(copulas, **pricer_kw)

    def one(static, row, d=None):
        (errors,) = static
        key_p, w, stats, prepared, mask = row
        return price(jax.random.wrap_key_data(key_p), stats, errors, w, mask, prepared)

    return _runner(one), price


def _shares_pool_program(n_models: int) -> bool:
    """Whether the sweep prices its K-dimensional subsets with the bootstrap's full-width
    program: up to ``tetrachoric.PAIR_CHUNK`` pairs (above, the bootstrap streams its
    replicates, and a micro-batch of rows would carry 8 copies of (K, K) statistics)."""
    return not _tet.chunked_pairs(n_models)


@jax.jit
def _subset_key_data(key_sub, ks, js):
    """Key data of subsets (k, j) (:func:`..pricing.subset_key`), one micro-batch."""
    return jax.vmap(lambda k, j: jax.random.key_data(P.subset_key(key_sub, k, j)))(ks, js)


class _WarmKeys(NamedTuple):
    """A :func:`precompile` job compiling :func:`_subset_key_data` for one micro-batch."""

    key_sub: object

    def __call__(self):
        zero = np.zeros(MICRO, np.int64)
        return _subset_key_data(self.key_sub, zero, zero)

    def ident(self):
        return ("_subset_key_data",)


def _pool_rows(key_sub, stats, prepared, n_queries: int, ks, js, masks):
    """Rows of the pool program for subsets (k, j) of one pool (weights one): the pool's
    statistics and prepared work are repeated per row as read-only broadcast views."""
    n = len(ks)
    keys = []
    for s in range(0, n, MICRO):
        kb, jb = (np.resize(a[s:s + MICRO], MICRO) for a in (ks, js))
        keys.append(np.asarray(_subset_key_data(key_sub, kb, jb))[:min(MICRO, n - s)])

    def rep(a):
        a = np.asarray(a)
        return np.broadcast_to(a, (n,) + a.shape)

    return (np.concatenate(keys), rep(np.ones(n_queries)),
            jax.tree_util.tree_map(rep, stats), jax.tree_util.tree_map(rep, prepared), masks)


@renamed_keyword("methods", "copulas")
@functools.lru_cache(maxsize=8)
def make_bootstrap(copulas: Sequence[str] = COPULAS, **pricer_kw):
    """Build ``boot(key_boot, errors, mask, indices, batch=None) -> Prices``.

    Replicate i draws its resample and its Monte Carlo key from ``fold_in(key_boot, i)``
    alone and is computed by the same compiled micro-batch body wherever it falls, so a
    replicate's numbers are bit-for-bit the same whichever chunk or device computes it.
    Builders are cached: the same options give the same compiled function. The pricing
    program is the sweep's full-width one (:func:`_pool_program`).
    """
    (run_mesh, price) = _pool_program(tuple(copulas), **pricer_kw)

    # Two programs per micro-batch (resample + pool statistics, then pricing) rather than
    # one: the combined 67-model program with all four copulas stopped using CPU on this
    # jaxlib (XLA CPU runtime), each stage alone runs.
    def stats_one(static, i, d=None):
        key_boot, errors, _ = static
        key_w, key_p = jax.random.split(jax.random.fold_in(key_boot, i))
        w = bootstrap_weights(key_w, errors.shape[0])
        stats = pool_stats(errors, w)
        # the copulas' pool-level work (Student-t pair calibration) with the statistics
        return jax.random.key_data(key_p), w, stats, P.prepare_pool(stats, price.copulas)

    run_stats = _runner(stats_one)

    def boot(key_boot, errors, mask, indices, batch=None, watch=None):
        indices = np.asarray(indices, dtype=np.int64)
        errors = jnp.asarray(errors)
        mask = np.asarray(mask, bool)
        static = (key_boot, errors, jnp.asarray(mask))
        rows = _run_rows(run_stats, static, indices, len(indices), batch, watch=watch,
                         label="bootstrap statistics ")
        rows = (*rows, np.broadcast_to(mask, (len(indices),) + mask.shape))
        return _run_rows(run_mesh, (errors,), rows, len(indices), batch, watch=watch,
                         label="bootstrap pricing ")

    def boot_precompile(key_boot, errors, mask):
        """The bootstrap's two programs as :class:`_CompileJob`s (for :func:`precompile`)."""
        errors = jnp.asarray(errors)
        static = (key_boot, errors, jnp.asarray(mask, bool))
        row = _pool_row(*errors.shape, price.copulas, key_boot)
        return [_CompileJob(run_mesh[0], (errors,), _abstract_rows(row), None),
                _CompileJob(run_stats[0], static, _micro_rows(np.zeros(1, np.int64)), None)]

    boot.jitted = run_mesh[0]
    boot.stats_program = run_stats[0]
    boot.precompile = boot_precompile
    return boot


@renamed_keyword("methods", "copulas")
@functools.lru_cache(maxsize=8)
def make_subset_sweep(copulas: Sequence[str] = COPULAS, **pricer_kw):
    """Build ``sweep(key_sub, stats, errors, ks, js, masks, batch=None) -> Prices``.

    Row r prices the subset ``masks[r]`` (bool (K,)) with the Monte Carlo key
    ``fold_in(fold_in(fold_in(key_sub, k), j), 1)`` for its pool size k = ``ks[r]`` and
    index j = ``js[r]``; rows run in micro-batches split across devices (see
    :func:`make_bootstrap`): a k-subset in the smallest compacted dimension that holds it
    (:data:`COMPACT_DIMS`), or in the full-width program the bootstrap uses. Builders are
    cached.

    Long: the per-row program, the call splitting rows by dimension and its precompile
    jobs share one closure.
    """
    price = make_subset_pricer(copulas, **pricer_kw)
    pool_mesh, _ = _pool_program(tuple(copulas), **pricer_kw)

    def one(static, row, d=None):
        key_sub, stats, errors, *rest = static
        prepared = rest[0] if rest else None
        k, j, mask = row
        key = P.subset_key(key_sub, k, j)
        w = jnp.ones((errors.shape[0],), jnp.float64)
        if d is not None and d < mask.shape[0]:
            # the subset's models first (pool order), then pad models up to d
            idx = jnp.argsort(~mask, stable=True)[:d]
            sq = lambda a: a[idx][:, idx]
            stats = PoolStats(stats.p_wrong[idx], stats.tau[idx], sq(stats.rho), sq(stats.phi),
                              sq(stats.p_both), sq(stats.status), stats.total)
            errors, mask = errors[:, idx], mask[idx]
            prepared = P.compact_prepared(prepared, idx)
        return price(key, stats, errors, w, mask, prepared)

    run_mesh = _runner(one)
    # pool-level copula work (Student-t pair calibration): once per call, on the whole pool
    prepare = jax.jit(lambda stats: P.prepare_pool(stats, price.copulas))

    def sweep(key_sub, stats, errors, ks, js, masks, batch=None, watch=None):
        ks = np.asarray(ks, np.int64)
        js = np.asarray(js, np.int64)
        masks = np.asarray(masks, bool)
        errors = jnp.asarray(errors)
        prepared = prepare(stats)
        static = (key_sub, stats, errors, prepared)
        n_models = masks.shape[1]
        dims = np.asarray([_compact_dim(int(k), n_models) for k in ks], np.int64)
        parts = {}
        for d in np.unique(dims):
            sel = np.flatnonzero(dims == d)
            label = f"subsets k={int(ks[sel][0])} "
            if d == n_models and _shares_pool_program(n_models):
                rows = _pool_rows(key_sub, stats, prepared, errors.shape[0], ks[sel], js[sel],
                                  masks[sel])
                part = _run_rows(pool_mesh, (errors,), rows, len(sel), batch, watch=watch,
                                 label=label)
            else:
                part = _run_rows(run_mesh, static, (ks[sel], js[sel], masks[sel]), len(sel),
                                 batch, d=int(d), watch=watch, label=label)
            parts[int(d)] = (sel, part)
        if len(parts) == 1:
            return next(iter(parts.values()))[1]
        first = next(iter(parts.values()))[1]
        out = jax.tree_util.tree_map(lambda a: np.empty((len(ks),) + a.shape[1:], a.dtype), first)
        for sel, part in parts.values():
            for o, v in zip(out, part):
                o[sel] = v
        return out

    def sweep_precompile(key_sub, stats, errors, ks):
        """The programs the pool sizes ``ks`` need, as :class:`_CompileJob`s (for
        :func:`precompile`), largest dimension first; ``stats`` may be abstract
        (``jax.eval_shape`` of :func:`pool_stats`)."""
        errors = jnp.asarray(errors)
        n_queries, n_models = errors.shape
        static = (key_sub, stats, errors, jax.eval_shape(prepare, stats))
        jobs = []
        for d in sorted({_compact_dim(int(k), n_models) for k in ks}, reverse=True):
            if d == n_models and _shares_pool_program(n_models):
                row = _pool_row(n_queries, n_models, price.copulas, key_sub)
                jobs.append(_CompileJob(pool_mesh[0], (errors,), _abstract_rows(row), None))
                jobs.append(_WarmKeys(key_sub))
                continue
            mask = np.zeros((1, n_models), bool)
            mask[0, :2] = True
            rows = _micro_rows((np.full(1, 2, np.int64), np.zeros(1, np.int64), mask))
            jobs.append(_CompileJob(run_mesh[0], static, rows, d))
        return jobs

    sweep.jitted = run_mesh[0]
    sweep.pool_program = pool_mesh[0]
    sweep.runner = run_mesh
    sweep.prepare = prepare
    sweep.precompile = sweep_precompile
    return sweep


def draw_subsets(key_sub, n_models: int, k: int, n_subsets: int) -> np.ndarray:
    """P distinct random k-subsets of ``n_models`` models, as sorted index rows (P, k).

    Subset j is drawn from ``fold_in(fold_in(key_sub, k), j)`` (a random permutation's
    first k entries); a draw that repeats an earlier subset is redrawn from
    ``fold_in(that key, attempt)``. When C(K, k) <= P every subset is returned once, in
    lexicographic order, so the result then has C(K, k) rows (one at k = K).
    """
    if not 1 <= k <= n_models:
        raise ValueError(f"draw_subsets: need 1 <= k <= {n_models}, got k={k}")
    total = math.comb(n_models, k)
    if total <= n_subsets:
        return np.asarray(list(itertools.combinations(range(n_models), k)), dtype=np.int64)
    key_k = jax.random.fold_in(key_sub, k)
    keys = jax.vmap(lambda j: jax.random.fold_in(key_k, j))(jnp.arange(n_subsets))
    perms = np.asarray(jax.vmap(lambda kk: jax.random.permutation(kk, n_models))(keys))
    rows = np.sort(perms[:, :k], axis=1)
    seen: set[tuple[int, ...]] = set()
    out = np.empty((n_subsets, k), np.int64)
    for j in range(n_subsets):
        row = tuple(rows[j])
        attempt = 0
        while row in seen:
            attempt += 1
            kj = jax.random.fold_in(keys[j], attempt)
            row = tuple(np.sort(np.asarray(jax.random.permutation(kj, n_models))[:k]))
        seen.add(row)
        out[j] = row
    return out


def subset_masks(rows: np.ndarray, n_models: int) -> np.ndarray:
    """bool (P, K) membership masks of index rows (P, k)."""
    rows = np.asarray(rows, np.int64)
    masks = np.zeros((rows.shape[0], n_models), bool)
    np.put_along_axis(masks, rows, True, axis=1)
    return masks


class RatioSummary(NamedTuple):
    """Per-pool-size summary of beta_obs / beta_pred across subsets (host numpy)."""

    median: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    n_used: np.ndarray


def ratios(beta_obs, beta_pred):
    """beta_obs / beta_pred, NaN where beta_obs = 0 (never divided by; counted apart)."""
    beta_obs = np.asarray(beta_obs, np.float64)
    beta_pred = np.asarray(beta_pred, np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        r = beta_obs / beta_pred
    return np.where(beta_obs > 0, r, np.nan)


def summarize_ratios(r, q=(5.0, 95.0)) -> tuple[float, float, float, int]:
    """(median, lower, upper percentile, count) of the finite-or-inf, non-NaN ratios."""
    r = np.asarray(r, np.float64)
    r = r[~np.isnan(r)]
    if r.size == 0:
        return (np.nan, np.nan, np.nan, 0)
    method = "inverted_cdf" if np.isinf(r).any() else "linear"
    lo, med, hi = np.percentile(r, [q[0], 50.0, q[1]], method=method)
    return float(med), float(lo), float(hi), int(r.size)
