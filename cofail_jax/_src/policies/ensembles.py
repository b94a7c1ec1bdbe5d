"""Same-model versus mixed-model ensembles at matched quality, information-fair.

With S repeated samples per model (``OutcomeMatrix.samples``, (S, n, k), -1 missing), an
ensemble of size m is either m samples of **one** model (errors highly correlated) or
one sample each of m **different** models whose accuracies lie in a chosen band (matched
quality, errors less correlated). Both use m samples (information-fair), and both are
scored by the majority over correctness bits (the optimistic binary approximation; the
samples carry no answers). A random *partition* assigns, for every model, which of its
samples go to the same-model ensemble and which one goes to the mixed ensemble, so the
two never share a sample; the comparison is repeated over ``n_partitions`` partitions
(default 60) and summarised by the mean difference (mixed - same), its range, the share
of partitions where mixing wins, and a query-bootstrap interval on the mean difference.

A second comparison shows the other side: mixing the best model with much weaker ones
loses to the best model alone (Condorcet's theorem needs voters better than chance and
comparable; Kuncheva et al. 2003 give the limits).

References:
  Kuncheva, L. I. and Whitaker, C. J. (2003). Measures of diversity in classifier
  ensembles and their relationship with the ensemble accuracy. Machine Learning 51,
  181-207.
  Wang, X. et al. (2023). Self-consistency improves chain of thought reasoning in
  language models. ICLR.
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from .tree import Var

__all__ = ["band_models", "ensemble_comparison"]


def band_models(accuracy, band=None, *, size: int = 3, width: float = 0.1) -> np.ndarray:
    """Models whose accuracy lies in ``band`` = (lo, hi); without a band, the window of
    the given width holding the most models (ties: the higher-accuracy window)."""
    acc = np.asarray(accuracy, np.float64)
    if band is not None:
        lo, hi = band
        return np.flatnonzero((acc >= lo) & (acc <= hi))
    best, best_n = None, -1
    for a in np.sort(acc)[::-1]:
        members = np.flatnonzero((acc <= a) & (acc >= a - width))
        if members.size > best_n:
            best, best_n = members, members.size
    return best


def _majority(samples_bits):
    """Majority of the last axis (m samples, 1/0, m odd) -> float."""
    m = samples_bits.shape[-1]
    return (2 * samples_bits.sum(axis=-1) > m).astype(samples_bits.dtype)


class EnsembleComparison(NamedTuple):
    """Same-model vs mixed-model ensembles at matched quality.

    Attributes:
      size, n_partitions, n_samples, n_queries, n_dropped: the design.
      accuracy: (k,) each model's accuracy over all samples.
      band_models: indices of the mixed pool; band: its accuracy range.
      mixed_subsets_per_partition: mixed ensembles drawn per partition.
      same, mixed, diff: (P,) per-partition accuracies and mixed - same.
      mean_diff, min_diff, max_diff, share_positive: over partitions.
      diff_ci, diff_se: query bootstrap of the partition-averaged difference.
      unequal: best model mixed with the weakest ones vs the best alone: {"best",
        "weak_models", "diff", "mean_diff", "share_positive", "diff_ci", "diff_se"}.
      label, method: how votes were formed and intervals computed.
    """

    size: int
    n_partitions: int
    n_samples: int
    n_queries: int
    n_dropped: int
    accuracy: np.ndarray
    band_models: np.ndarray
    band: tuple[float, float]
    mixed_subsets_per_partition: int
    same: np.ndarray
    mixed: np.ndarray
    diff: np.ndarray
    mean_diff: float
    min_diff: float
    max_diff: float
    share_positive: float
    diff_ci: tuple[float, float]
    diff_se: float
    unequal: dict
    label: str
    method: str

    def to_tree(self, models) -> dict:
        """The result tree (see :mod:`.tree`); ``models`` names the columns."""
        part = ("partition",)
        t = self._asdict()
        for v in ("same", "mixed", "diff"):
            t[v] = Var(np.asarray(t[v]), part)
        t["band_models"] = [models[j] for j in self.band_models]
        t["accuracy"] = Var(np.asarray(self.accuracy), ("model",), models)
        u = self.unequal
        t["unequal"] = {k: v for k, v in u.items() if k not in ("best", "weak_models")}
        t["unequal"]["diff"] = Var(np.asarray(u["diff"]), part)
        t["unequal"]["best"] = models[u["best"]]
        t["unequal"]["weak_models"] = [models[j] for j in u["weak_models"]]
        return t


def ensemble_comparison(
    key,
    samples,
    *,
    size: int = 3,
    band=None,
    width: float = 0.1,
    n_partitions: int = 60,
    weak_models=None,
    n_boot: int = 1000,
    level: float = 0.95,
    progress=None,
) -> EnsembleComparison:
    """Same-model vs mixed-model ensembles of ``size`` samples over random partitions.

    Args:
      key: PRNG key; partition ``r`` uses ``fold_in(key, r)``.
      samples: int8 (S, n, k), 1 correct / 0 wrong / -1 missing. Queries with a missing
        sample for a band model are dropped (counted in ``n_dropped``).
      size: ensemble size m (odd, at most S - 1 so the mixed ensemble has its own sample).
      band: (lo, hi) accuracy band of the mixed pool (default: the densest window of
        ``width``). Accuracy is the mean over samples.
      n_partitions: random sample-to-ensemble partitions.
      weak_models: models mixed with the best one in the "very different quality"
        comparison (default: the m - 1 least accurate models).
      n_boot, level: query bootstrap of the mean difference.
      progress: optional ``progress(done, total)`` callback over the partitions, then the
        bootstrap replicates; the results are the same with and without it.

    Returns:
      dict with per-partition arrays ``same`` (mean same-model vote accuracy over band
      models), ``mixed`` (mixed vote accuracy, averaged over random size-m subsets of the
      band when it holds more than m models), ``diff``; summaries ``mean_diff``,
      ``min_diff``, ``max_diff``, ``share_positive``, ``diff_ci``; and ``unequal`` (best
      model + weak models vs best model's single sample) with its own interval.

    Long: the partition loop, the matched-quality draw and the bootstrap share one set of per-sample arrays.
    """
    from .bootstrap import make_query_bootstrap

    s = np.asarray(samples, np.int8)
    if s.ndim != 3:
        raise ValueError(f"ensemble_comparison: samples must be (S, n, k), got {s.shape}")
    S, n, k = s.shape
    if size < 1 or size % 2 == 0:
        raise ValueError(f"ensemble_comparison: size must be odd, got {size}")
    if S < size + 1:
        raise ValueError(
            f"ensemble_comparison: size {size} needs at least {size + 1} samples per "
            f"model (m for the same-model ensemble, one for the mixed), found {S}"
        )
    valid = np.where(s >= 0, s, 0).astype(np.float64)
    present = s >= 0
    with np.errstate(invalid="ignore"):
        acc = valid.sum(axis=(0, 1)) / np.maximum(present.sum(axis=(0, 1)), 1)
    members = band_models(acc, band, size=size, width=width)
    if members is None or members.size < size:
        raise ValueError(
            f"ensemble_comparison: the band holds {0 if members is None else members.size} "
            f"models, need at least {size}; widen it"
        )
    best = int(np.argmax(acc))
    weak = (
        np.argsort(acc, kind="stable")[: size - 1]
        if weak_models is None
        else np.asarray(weak_models, np.int64)
    )
    weak = weak[weak != best][: size - 1]
    used = np.unique(np.concatenate([members, weak, [best]]))
    keep = present[:, :, used].all(axis=(0, 2))
    n_dropped = int((~keep).sum())
    x = jnp.asarray(valid[:, keep])  # (S, n', k)
    nk = int(keep.sum())
    mem = jnp.asarray(members)
    n_sub_draws = 16 if members.size > size else 1

    @jax.jit
    def partition(kr):
        k_perm, k_sub = jax.random.split(kr)
        # a permutation of the S samples for every model
        perms = jax.vmap(lambda kk: jax.random.permutation(kk, S))(
            jax.random.split(k_perm, k)
        )  # (k, S)
        # same-model: samples perms[j, :m] of model j, for each band model
        same_idx = perms[mem][:, :size]  # (B, m)
        sb = jnp.stack([x[same_idx[b], :, mem[b]].T for b in range(mem.shape[0])])  # (B, n, m)
        same_q = _majority(sb)  # (B, n)
        mixed_sample = perms[:, size]  # (k,) sample of each model reserved for mixing

        def mixed_one(kk):
            sub = jax.random.choice(kk, mem, (size,), replace=False)
            bits = x[mixed_sample[sub], :, sub].T  # (n, m)
            return _majority(bits)

        mixed_q = jax.vmap(mixed_one)(jax.random.split(k_sub, n_sub_draws)).mean(axis=0)  # (n,)
        unequal_models = jnp.concatenate([jnp.asarray([best]), jnp.asarray(weak)])
        ub = x[mixed_sample[unequal_models], :, unequal_models].T
        unequal_q = _majority(ub)
        best_q = x[mixed_sample[best], :, best]
        return same_q.mean(axis=0), mixed_q, unequal_q, best_q

    total = n_partitions + n_boot  # one bar: the partitions, then the bootstrap replicates
    if progress is not None:
        progress(0, total)
    outs = []
    for r in range(n_partitions):
        outs.append(jax.block_until_ready(partition(jax.random.fold_in(key, r))))
        if progress is not None:
            progress(r + 1, total)
    same = np.stack([np.asarray(o[0]) for o in outs])  # (R, n)
    mixed = np.stack([np.asarray(o[1]) for o in outs])
    unequal = np.stack([np.asarray(o[2]) for o in outs])
    bestq = np.stack([np.asarray(o[3]) for o in outs])
    diff_r = mixed.mean(axis=1) - same.mean(axis=1)
    boot = make_query_bootstrap(lambda mm: mm, n_boot=n_boot, level=level)
    vals = np.stack([(mixed - same).mean(axis=0), (unequal - bestq).mean(axis=0)], axis=1)
    b = boot(jax.random.fold_in(key, n_partitions), vals,
             None if progress is None else lambda d, t: progress(n_partitions + d, total))
    unequal_r = unequal.mean(axis=1) - bestq.mean(axis=1)
    return EnsembleComparison(**{
        "size": size,
        "n_partitions": n_partitions,
        "n_samples": S,
        "n_queries": nk,
        "n_dropped": n_dropped,
        "accuracy": acc,
        "band_models": members,
        "band": (float(acc[members].min()), float(acc[members].max())),
        "mixed_subsets_per_partition": n_sub_draws,
        "same": same.mean(axis=1),
        "mixed": mixed.mean(axis=1),
        "diff": diff_r,
        "mean_diff": float(diff_r.mean()),
        "min_diff": float(diff_r.min()),
        "max_diff": float(diff_r.max()),
        "share_positive": float((diff_r > 0).mean()),
        "diff_ci": (float(b.lower[0]), float(b.upper[0])),
        "diff_se": float(b.se[0]),
        "unequal": {
            "best": best,
            "weak_models": weak,
            "diff": unequal_r,
            "mean_diff": float(unequal_r.mean()),
            "share_positive": float((unequal_r > 0).mean()),
            "diff_ci": (float(b.lower[1]), float(b.upper[1])),
            "diff_se": float(b.se[1]),
        },
        "label": "majority over correctness bits of m samples (optimistic binary approximation)",
        "method": f"{n_partitions} random sample partitions; percentile query bootstrap "
        f"({n_boot} replicates) of the partition-averaged per-query difference",
    })
