"""The beta certificate: the all-wrong rate, the ceiling it sets, and a finite-sample
bound on what any selection policy can gain over the single best model.

A selection policy (router, vote, cascade) answers each query with one member's answer,
so it is right at most on the queries where some member is right: accuracy <= 1 - beta,
beta = P(all members wrong). With K all-wrong queries out of n:

* beta_hat = K / n with an exact (Clopper-Pearson) interval;
* the oracle gain G = (1 - beta_hat) - a_sb over the single best accuracy a_sb;
* the certified bound on the gain of every selection policy at confidence 1 - delta,
  (1 - beta_lo) - a_sb_lo, with delta split evenly between a one-sided lower limit on
  beta and a lower limit on the single best's accuracy. When the best model is chosen
  in-sample from m models the accuracy limit must hold for all m at once (Bonferroni,
  delta / (2 m) each); the limit of the model with the largest count is then the
  largest of the m limits, so the best model's count suffices.

Both limits are *lower* limits: the gain bound is 1 - beta - a_sb, decreasing in a_sb,
so an upper limit on a_sb would make the bound too small and could wrongly certify that
no policy pays.

References:
  Clopper, C. J. and Pearson, E. S. (1934). The use of confidence or fiducial limits
  illustrated in the case of the binomial. Biometrika 26, 404-413.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

import numpy as np
from scipy import stats

from .outcomes import outcome_array

BEST_SELECTION = ("in-sample", "fixed")


def cp_lower(K, n, level):
    """One-sided Clopper-Pearson lower limit: P(true p < limit) <= level. 0 when K = 0."""
    K = np.asarray(K, dtype=np.float64)
    n = np.asarray(n, dtype=np.float64)
    with np.errstate(invalid="ignore"):
        lo = stats.beta.ppf(level, K, n - K + 1)
    return np.where(K <= 0, 0.0, lo)


def cp_upper(K, n, level):
    """One-sided Clopper-Pearson upper limit: P(true p > limit) <= level. 1 when K = n."""
    K = np.asarray(K, dtype=np.float64)
    n = np.asarray(n, dtype=np.float64)
    with np.errstate(invalid="ignore"):
        hi = stats.beta.ppf(1.0 - level, K + 1, n - K)
    return np.where(K >= n, 1.0, hi)


def clopper_pearson(K, n, alpha: float = 0.05):
    """Two-sided Clopper-Pearson interval at level 1 - alpha: (lower, upper).

    Examples:
      >>> lo, hi = clopper_pearson(10, 79)
      >>> round(float(lo), 3), round(float(hi), 3)
      (0.062, 0.22)
    """
    return cp_lower(K, n, alpha / 2), cp_upper(K, n, alpha / 2)


@dataclasses.dataclass(frozen=True)
class Certificate:
    """What no selection policy over this pool can exceed, with its uncertainty.

    All rates are fractions of queries. ``gain_bound`` is the certified upper bound on
    the accuracy gain of any selection policy over the (true) best single model at
    confidence ``1 - delta``; ``gain_bound_fixed`` is the same when the best model was
    fixed in advance (no multiplicity correction).
    """

    n: int
    k: int
    K: int
    beta: float
    beta_ci: tuple[float, float]
    beta_lower_one_sided: float
    beta_upper_one_sided: float
    ceiling: float
    best_model: str | None
    best_count: int
    asb: float
    asb_lower: float
    asb_lower_fixed: float
    oracle_accuracy: float
    oracle_gain: float
    resolvable: int
    gain_bound: float
    gain_bound_fixed: float
    alpha: float
    delta: float
    pool_size: int
    best_selection: str
    models: tuple[str, ...] = ()
    overhead: float | None = None

    @property
    def verdict(self) -> str | None:
        """With an overhead: whether any selection policy could pay for it."""
        if self.overhead is None:
            return None
        if self.gain_bound < self.overhead:
            return (f"no selection policy can pay for an overhead of {self.overhead:g}: the certified "
                    f"gain bound is {self.gain_bound:.4f} at confidence {1 - self.delta:g}")
        return (f"a selection policy might pay for an overhead of {self.overhead:g}: the certified "
                f"gain bound {self.gain_bound:.4f} exceeds it (an upper bound, not a promise)")

    def to_dict(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        d["beta_ci"] = list(self.beta_ci)
        d["models"] = list(self.models)
        d["verdict"] = self.verdict
        return d


def _certificate(K: int, n: int, best_count: int, *, k: int, pool_size: int, alpha: float,
                 delta: float, best_selection: str, best_model: str | None,
                 models: Sequence[str], overhead: float | None) -> Certificate:
    if not 0 < alpha < 1 or not 0 < delta < 1:
        raise ValueError(f"certificate: alpha and delta must lie in (0, 1), got {alpha}, {delta}")
    if best_selection not in BEST_SELECTION:
        raise ValueError(f"certificate: best_selection must be one of {BEST_SELECTION}")
    if not (0 <= K <= n and 0 <= best_count <= n) or n < 1:
        raise ValueError(f"certificate: need 0 <= K, best_count <= n and n >= 1, got K={K}, "
                         f"best_count={best_count}, n={n}")
    if K + best_count > n:
        raise ValueError(f"certificate: K + best_count = {K + best_count} exceeds n = {n}: the single "
                         "best is wrong on every all-wrong query")
    lo, hi = clopper_pearson(K, n, alpha)
    beta_lo = float(cp_lower(K, n, delta / 2))
    beta_hi = float(cp_upper(K, n, delta / 2))
    m = pool_size if best_selection == "in-sample" else 1
    asb_lo = float(cp_lower(best_count, n, delta / (2 * m)))
    asb_lo_fixed = float(cp_lower(best_count, n, delta / 2))
    beta = K / n
    asb = best_count / n
    return Certificate(
        n=n, k=k, K=K, beta=beta, beta_ci=(float(lo), float(hi)),
        beta_lower_one_sided=beta_lo, beta_upper_one_sided=beta_hi,
        ceiling=1 - beta, best_model=best_model, best_count=best_count, asb=asb,
        asb_lower=asb_lo, asb_lower_fixed=asb_lo_fixed,
        oracle_accuracy=1 - beta, oracle_gain=(1 - beta) - asb,
        resolvable=n - K - best_count,
        gain_bound=(1 - beta_lo) - asb_lo, gain_bound_fixed=(1 - beta_lo) - asb_lo_fixed,
        alpha=alpha, delta=delta, pool_size=m if best_selection == "in-sample" else pool_size,
        best_selection=best_selection, models=tuple(models), overhead=overhead)


def certificate(correct, *, models: Sequence[str] | None = None, alpha: float = 0.05,
                delta: float = 0.05, best_selection: str = "in-sample",
                overhead: float | None = None) -> Certificate:
    """The beta certificate of an outcome matrix.

    Args:
      correct: bool array (n, k), True where model j answered query i correctly; or an
        ``OutcomeMatrix``, or a wide pandas DataFrame (0/1 or bool model columns, an
        optional ``query_id`` column), whose model names are then kept.
      models: k model names, for reporting the single best (default: the names of a
        matrix or DataFrame, else column indices).
      alpha: the two-sided interval on beta is at level 1 - alpha.
      delta: the gain bound holds with probability at least 1 - delta.
      best_selection: ``"in-sample"`` (the single best is picked from these k models on
        these queries, so its accuracy limit is simultaneous over k) or ``"fixed"``.
      overhead: optional cost of the combination, in accuracy points; sets ``verdict``.

    Returns:
      A :class:`Certificate`.

    Examples:
      >>> import numpy as np
      >>> c = certificate(np.array([[1, 0], [0, 1], [0, 0], [1, 1]], bool))
      >>> c.K, c.beta, c.oracle_gain
      (1, 0.25, 0.25)
    """
    correct, names_in = outcome_array(correct, "certificate")
    if models is None:
        models = names_in
    correct = np.asarray(correct, dtype=bool)
    if correct.ndim != 2:
        raise ValueError(f"certificate: correct must be (n, k), got shape {correct.shape}")
    n, k = correct.shape
    counts = correct.sum(axis=0)
    best = int(np.argmax(counts))
    K = int((~correct.any(axis=1)).sum())
    names = tuple(models) if models is not None else tuple(str(i) for i in range(k))
    return _certificate(K, n, int(counts[best]), k=k, pool_size=k, alpha=alpha, delta=delta,
                        best_selection=best_selection, best_model=names[best], models=names,
                        overhead=overhead)


def certificate_from_counts(K: int, n: int, asb: float, *, pool_size: int | None = None,
                            alpha: float = 0.05, delta: float = 0.05,
                            overhead: float | None = None) -> Certificate:
    """The certificate from published numbers: K all-wrong of n, single-best accuracy.

    With ``pool_size`` the single best is treated as chosen in-sample from that many
    models; without it, as fixed in advance. ``asb`` may be an accuracy in [0, 1]
    (rounded to the nearest count) or a count (an integer above 1).
    """
    best_count = int(asb) if asb > 1 else int(round(asb * n))
    in_sample = pool_size is not None and pool_size > 1
    return _certificate(int(K), int(n), best_count, k=pool_size or 1, pool_size=pool_size or 1,
                        alpha=alpha, delta=delta,
                        best_selection="in-sample" if in_sample else "fixed", best_model=None,
                        models=(), overhead=overhead)


def beta_curve(correct, order: Sequence[int] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """beta as models are added one at a time.

    With ``order`` None the order is greedy: first the most accurate model, then at
    each step the model that most lowers the all-wrong count (ties to the lower index).
    Once no model lowers it any more, the rest follow in index order.

    The greedy search runs on bit-packed columns: each model's correct queries among the
    still all-wrong ones are 64-bit words, a step is one popcount pass over the k x n/64
    words, and the words are re-packed to the remaining all-wrong queries whenever half
    of them have been covered, so the later steps cost far less than the first.

    Returns:
      (order, beta): the model indices in the order added, and beta after each addition.
    """
    correct = np.asarray(outcome_array(correct, "beta_curve")[0], dtype=bool)
    n, k = correct.shape
    if order is not None:
        order = np.asarray(order, dtype=np.int64)
        covered = np.logical_or.accumulate(correct[:, order], axis=1)
        return order, 1.0 - covered.mean(axis=0)
    return _greedy_curve(correct)


_POP8 = np.array([bin(i).count("1") for i in range(256)], dtype=np.uint8)


def _popcount_rows(words: np.ndarray) -> np.ndarray:
    """Set bits per row of a (k, W) uint64 array, as int64 (k,)."""
    if hasattr(np, "bitwise_count"):  # numpy >= 2
        return np.bitwise_count(words).sum(axis=1, dtype=np.int64)
    return _POP8[words.view(np.uint8)].sum(axis=1, dtype=np.int64)


def _pack_columns(correct: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """(k, W) uint64: bit r of column j is correct[rows[r], j] (zero padding)."""
    sub = correct[rows]  # (m, k)
    m, k = sub.shape
    n_bytes = max(8, -(-m // 64) * 8)
    packed = np.zeros((k, n_bytes), np.uint8)
    if m:
        packed[:, : -(-m // 8)] = np.packbits(sub.T, axis=1)
    return packed.view(np.uint64)


def _greedy_curve(correct: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    n, k = correct.shape
    rows = np.arange(n)  # the queries held in ``words`` (a superset of the uncovered ones)
    alive = np.ones(n, bool)  # which of ``rows`` are still all-wrong
    words = _pack_columns(correct, rows)  # model j correct AND query uncovered, as bits
    remaining = np.ones(k, bool)
    chosen: list[int] = []
    covered = 0
    betas: list[float] = []
    while len(chosen) < k:
        gains = _popcount_rows(words)
        gains[~remaining] = -1
        j = int(np.argmax(gains))  # the first maximum: ties go to the lower index
        if gains[j] <= 0:
            break
        chosen.append(j)
        remaining[j] = False
        covered += int(gains[j])
        betas.append(1.0 - covered / n)
        alive &= ~correct[rows, j]
        n_alive = int(alive.sum())
        if n_alive * 2 <= rows.size:  # re-pack to the uncovered queries
            rows = rows[alive]
            alive = np.ones(rows.size, bool)
            words = _pack_columns(correct, rows)
        else:
            words &= ~words[j]
    rest = np.flatnonzero(remaining)
    final = 1.0 - covered / n
    order = np.concatenate([np.asarray(chosen, np.int64), rest.astype(np.int64)])
    return order, np.asarray(betas + [final] * rest.size, dtype=np.float64)
