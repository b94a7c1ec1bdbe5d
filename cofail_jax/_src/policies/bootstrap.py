"""Query bootstrap and train/test splits for policy evaluation.

Every policy is scored on held-out queries; its uncertainty comes from resampling the
queries (the unit that was sampled from the benchmark's population), with replicate
``i`` drawn from ``jax.random.fold_in(key, i)`` so results do not depend on the batch
size. Intervals are percentile intervals.

References:
  Efron, B. and Tibshirani, R. J. (1993). An Introduction to the Bootstrap. Chapman &
  Hall, ch. 13 (percentile intervals).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jax.typing import ArrayLike
from jaxtyping import Array, Float

__all__ = [
    "BootstrapResult",
    "batched_map",
    "gain_statistic",
    "kfold_assignments",
    "make_query_bootstrap",
    "realized_fraction_bootstrap",
    "share_progress",
    "train_test_split",
]


def batched_map(f, xs: Array, batch_size: int) -> Array:
    """``jax.lax.map(f, xs)`` computing ``batch_size`` items at once with ``vmap``.

    Same as ``lax.map(f, xs, batch_size=...)`` of newer JAX, written out so that the
    oldest supported JAX (0.4.30) runs it: pads ``xs`` (along axis 0) to a multiple of
    the batch size, maps over batches, and drops the padding.
    """
    n = xs.shape[0]
    b = max(1, min(batch_size, n))
    nb = -(-n // b)
    pad = nb * b - n
    xp = jnp.concatenate([xs, jnp.repeat(xs[:1], pad, axis=0)], axis=0) if pad else xs
    out = jax.lax.map(jax.vmap(f), xp.reshape((nb, b) + xs.shape[1:]))
    return jax.tree_util.tree_map(lambda y: y.reshape((nb * b,) + y.shape[2:])[:n], out)


class BootstrapResult(NamedTuple):
    """A query bootstrap of statistics of column means.

    Attributes:
      estimate: (q,) the statistics on the data as observed.
      lower, upper: (q,) percentile interval at ``level``.
      se: (q,) bootstrap standard deviation (NaN replicates ignored).
      n_nan: (q,) replicates where the statistic was undefined (for example G = 0).
      n_boot: number of replicates.
      level: the interval's nominal coverage.
    """

    estimate: Array
    lower: Array
    upper: Array
    se: Array
    n_nan: Array
    n_boot: int
    level: float


def make_query_bootstrap(
    statistic: Callable[[Array], Array],
    *,
    n_boot: int = 1000,
    level: float = 0.95,
    batch_size: int = 128,
    block: int = 256,
):
    """Build ``bootstrap(key, values, progress=None) -> BootstrapResult`` for a statistic
    of column means.

    ``values`` is (n, p): one row per query, one column per per-query score (for example
    the router's correct bit, the single best's, the oracle's). ``statistic`` maps the
    (p,) column means to a (q,) vector; it is evaluated on every resample of the rows.

    Args:
      statistic: pure JAX function of the column means.
      n_boot: number of bootstrap replicates.
      level: coverage of the two-sided percentile interval.
      batch_size: replicates computed at once (memory only; results do not depend on it).
      block: replicates per host-side block when a ``progress`` callback is given.

    Returns:
      A function ``bootstrap(key, values, progress=None)``. Without ``progress`` it is
      one jitted call (and can be traced, e.g. under ``vmap``); with a
      ``progress(done, total)`` callback the replicates run in blocks of ``block`` (one
      compilation, reused), the callback is called with 0 before the first block and
      after each, and the result is the same as without it.

    Examples:
      >>> import jax, jax.numpy as jnp
      >>> boot = make_query_bootstrap(lambda m: m, n_boot=200)
      >>> r = boot(jax.random.key(0), jnp.ones((50, 1)))
      >>> float(r.lower[0]), float(r.upper[0])
      (1.0, 1.0)

    Long: a builder of two closures (one jitted call; blocks with progress) around one kernel; 28 lines are the docstring.
    """
    if n_boot < 2:
        raise ValueError(f"make_query_bootstrap: n_boot must be at least 2, got {n_boot}")
    if not 0 < level < 1:
        raise ValueError(f"make_query_bootstrap: level must lie in (0, 1), got {level}")
    alpha = 1.0 - level
    block = max(1, min(int(block), int(n_boot)))

    def _values(values):
        values = jnp.asarray(values)
        if values.ndim != 2:
            raise ValueError(f"bootstrap: values must be (n, p), got shape {values.shape}")
        return values

    def _replicates(key, values, ids):
        n = values.shape[0]

        def one(i):
            idx = jax.random.randint(jax.random.fold_in(key, i), (n,), 0, n)
            return statistic(values[idx].mean(axis=0))

        return batched_map(one, ids, batch_size)

    def _summary(values, reps):
        est = statistic(values.mean(axis=0))
        lo = jnp.nanquantile(reps, alpha / 2, axis=0)
        hi = jnp.nanquantile(reps, 1 - alpha / 2, axis=0)
        se = jnp.nanstd(reps, axis=0, ddof=1)
        n_nan = jnp.isnan(reps).sum(axis=0)
        return BootstrapResult(est, lo, hi, se, n_nan, n_boot, level)

    @jax.jit
    def _whole(key, values):
        values = _values(values)
        return _summary(values, _replicates(key, values, jnp.arange(n_boot)))

    @jax.jit
    def _block(key, values, start):
        return _replicates(key, _values(values), start + jnp.arange(block))

    _summary_jit = jax.jit(lambda values, reps: _summary(_values(values), reps))

    def bootstrap(key: ArrayLike, values: Float[ArrayLike, "n p"],
                  progress: Callable[[int, int], None] | None = None) -> BootstrapResult:
        if progress is None:
            return _whole(key, values)
        parts = []
        progress(0, n_boot)
        for start in range(0, n_boot, block):
            # the last block has the same shape (no second compilation) and is trimmed
            reps = jax.block_until_ready(_block(key, values, jnp.asarray(start)))
            parts.append(reps[: n_boot - start])
            progress(min(start + block, n_boot), n_boot)
        return _summary_jit(values, jnp.concatenate(parts))

    bootstrap._cache_size = _whole._cache_size  # type: ignore[attr-defined]
    return bootstrap


def share_progress(progress: Callable[[int, int], None] | None, i: int,
                   m: int) -> Callable[[int, int], None] | None:
    """The callback for call ``i`` of ``m`` equal calls that together fill one bar
    (None stays None, so the callee keeps its fastest path)."""
    if progress is None:
        return None
    return lambda done, total: progress(i * total + done, m * total)


def gain_statistic(means: Array) -> Array:
    """From the means of the per-query columns (policy, single best, oracle,
    policy - single best, oracle - single best):
    (policy accuracy, single-best accuracy, oracle accuracy, G, gain, realized fraction).

    The gain and G are means of the difference columns, so a policy that always agrees
    with the single best has a gain of exactly 0 in every replicate.

    The realized fraction of G is (policy - single best) / (oracle - single best); it is
    NaN where G = 0 (no query the single best misses is solved by another model).
    """
    pol, sb, orc, gain, g = means[0], means[1], means[2], means[3], means[4]
    safe_g = jnp.where(g > 0, g, 1.0)
    frac = jnp.where(g > 0, gain / safe_g, jnp.nan)
    return jnp.stack([pol, sb, orc, g, gain, frac])


GAIN_FIELDS = (
    "policy_accuracy",
    "single_best_accuracy",
    "oracle_accuracy",
    "G",
    "gain",
    "realized_fraction",
)

_gain_boot_cache: dict = {}


def realized_fraction_bootstrap(
    key: ArrayLike,
    policy_correct,
    single_best_correct,
    oracle_correct,
    *,
    n_boot: int = 1000,
    level: float = 0.95,
    progress: Callable[[int, int], None] | None = None,
) -> dict:
    """Bootstrap the policy's accuracy, gain over the single best and realized fraction of G.

    Args:
      key: PRNG key.
      policy_correct, single_best_correct, oracle_correct: (n,) per-query scores in [0, 1]
        on the held-out queries (the oracle's is 1 unless every model is wrong).
      n_boot, level: bootstrap replicates and interval coverage.
      progress: optional ``progress(done, total)`` callback over the replicates (the
        results are the same with and without it).

    Returns:
      A dict: for each of :data:`GAIN_FIELDS`, ``{"estimate", "lower", "upper", "se"}``,
      plus ``n_boot``, ``level``, ``n`` and ``n_undefined`` (replicates with G = 0).
    """
    cfg = (n_boot, level)
    if cfg not in _gain_boot_cache:
        _gain_boot_cache[cfg] = make_query_bootstrap(gain_statistic, n_boot=n_boot, level=level)
    boot = _gain_boot_cache[cfg]
    pol = np.asarray(policy_correct, np.float64)
    sb = np.asarray(single_best_correct, np.float64)
    orc = np.asarray(oracle_correct, np.float64)
    vals = np.stack([pol, sb, orc, pol - sb, orc - sb], axis=1)
    r = boot(key, vals, progress)
    out: dict = {}
    for j, name in enumerate(GAIN_FIELDS):
        out[name] = {
            "estimate": float(r.estimate[j]),
            "lower": float(r.lower[j]),
            "upper": float(r.upper[j]),
            "se": float(r.se[j]),
        }
    out.update(
        n_boot=n_boot,
        level=level,
        n=int(vals.shape[0]),
        n_undefined=int(r.n_nan[5]),
        method="percentile query bootstrap",
    )
    return out


def train_test_split(
    key: ArrayLike, n: int, test_fraction: float = 0.5
) -> tuple[np.ndarray, np.ndarray]:
    """Boolean (train, test) masks over n queries, from a random permutation under ``key``.

    Both parts get at least one query when n >= 2.
    """
    if not 0 < test_fraction < 1:
        raise ValueError(f"train_test_split: test_fraction must lie in (0, 1), got {test_fraction}")
    if n < 2:
        raise ValueError(f"train_test_split: need at least 2 queries, got {n}")
    perm = np.asarray(jax.random.permutation(key, n))
    n_test = int(min(max(round(test_fraction * n), 1), n - 1))
    test = np.zeros(n, dtype=bool)
    test[perm[:n_test]] = True
    return ~test, test


def kfold_assignments(key: ArrayLike, n: int, n_folds: int) -> np.ndarray:
    """int (n,): the fold (0..n_folds-1) of each query, balanced, random under ``key``."""
    if not 2 <= n_folds <= n:
        raise ValueError(f"kfold_assignments: need 2 <= n_folds <= n, got {n_folds} for n = {n}")
    perm = np.asarray(jax.random.permutation(key, n))
    folds = np.empty(n, dtype=np.int64)
    folds[perm] = np.arange(n) % n_folds
    return folds
