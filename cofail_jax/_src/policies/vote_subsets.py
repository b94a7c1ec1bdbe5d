"""The gain of every size-m subset vote over its best member, against the subset's
error correlation.

:func:`subset_votes` scores the majority vote (over correctness bits, the optimistic
binary approximation, see :mod:`.votes`) of every size-m subset (all triplets by
default, vectorized in JAX), its gain over its best member (chosen on the training
queries), the share of subsets where the vote loses, and the slope of the gain on the
subset's mean pairwise error correlation, with a jackknife-over-models interval next to
the naive interval that treats subsets as independent (they share models, so the naive
one is far too narrow).

References:
  Kuncheva, L. I. et al. (2003). Limits on the majority vote accuracy in classifier
  fusion. Pattern Analysis and Applications 6, 22-31.
  Efron, B. and Stein, C. (1981). The jackknife estimate of variance. Annals of
  Statistics 9, 586-596.
"""

from __future__ import annotations

import itertools
import math
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from scipy import stats

from ..outcomes import outcome_array
from .bootstrap import batched_map
from .tree import Var

__all__ = ["BINARY_LABEL", "SubsetVoteResult", "error_correlation", "subset_votes"]

BINARY_LABEL = "majority over correctness bits (optimistic binary approximation)"


def error_correlation(correct) -> np.ndarray:
    """(k, k) Pearson (phi) correlation of the models' error indicators; NaN for a model
    that is always right or always wrong."""
    e = (~np.asarray(correct, dtype=bool)).astype(np.float64)
    e = e - e.mean(axis=0)
    cov = e.T @ e
    sd = np.sqrt(np.diag(cov))
    with np.errstate(invalid="ignore", divide="ignore"):
        return cov / np.outer(sd, sd)


class SubsetVoteResult(NamedTuple):
    """Majority votes of every size-m subset of models, scored on the test queries.

    Attributes:
      subsets: int (C, m) model indices.
      vote_accuracy: (C,) vote accuracy on the test queries.
      best_member: (C,) index of the member with the best training accuracy.
      best_member_accuracy: (C,) that member's test accuracy.
      gain: (C,) vote_accuracy - best_member_accuracy.
      mean_rho: (C,) mean pairwise error correlation within the subset (training queries).
      share_loses: share of subsets whose vote loses to its best member.
      mean_gain: mean gain over subsets.
      slope, intercept: least-squares fit of gain on mean_rho.
      slope_se_naive, slope_ci_naive: OLS standard error and 95 % interval treating the
        subsets as independent observations.
      slope_se_jackknife, slope_ci_jackknife: leave-one-model-out jackknife standard
        error and 95 % interval (t with k - 1 degrees of freedom).
      label: how the vote was formed.
      status: "ok", or why the slope is not available.
    """

    subsets: np.ndarray
    vote_accuracy: np.ndarray
    best_member: np.ndarray
    best_member_accuracy: np.ndarray
    gain: np.ndarray
    mean_rho: np.ndarray
    share_loses: float
    mean_gain: float
    slope: float
    intercept: float
    slope_se_naive: float
    slope_ci_naive: tuple[float, float]
    slope_se_jackknife: float
    slope_ci_jackknife: tuple[float, float]
    label: str
    status: str

    def to_tree(self, models=None) -> dict:
        """Summary (JSON and HDF5) and the per-subset arrays (HDF5 only)."""
        q = np.quantile(self.gain, [0, 0.25, 0.5, 0.75, 1]).tolist()
        per = ("subset",)
        return {
            "size": int(self.subsets.shape[1]),
            "count": int(self.subsets.shape[0]),
            "label": self.label,
            "share_vote_loses": self.share_loses,
            "mean_gain": self.mean_gain,
            "gain_quantiles": dict(zip(("min", "q25", "median", "q75", "max"), q)),
            "slope_gain_on_rho": self.slope,
            "intercept": self.intercept,
            "slope_se_naive": self.slope_se_naive,
            "slope_ci_naive": self.slope_ci_naive,
            "slope_se_jackknife": self.slope_se_jackknife,
            "slope_ci_jackknife": self.slope_ci_jackknife,
            "status": self.status,
            "members": Var(self.subsets, ("subset", "member"), json=False),
            "vote_accuracy": Var(self.vote_accuracy, per, json=False),
            "best_member": Var(self.best_member, per, json=False),
            "best_member_accuracy": Var(self.best_member_accuracy, per, json=False),
            "gain": Var(self.gain, per, json=False),
            "mean_rho": Var(self.mean_rho, per, json=False),
        }


@jax.jit
def _subset_vote_acc(correct_f, subsets):
    """(C,) majority-vote accuracy of each subset; correct_f float (n, k), subsets (C, m)."""
    m = subsets.shape[1]
    k = correct_f.shape[1]
    # membership rows (C, k): a batch of subsets' vote counts is one matrix product
    # vote counts are small integers, exact in float32 (up to 2**24 models), which halves
    # the memory traffic of the product; the accuracy is averaged in the caller's dtype
    member = jax.nn.one_hot(subsets, k, dtype=jnp.float32).sum(axis=1)
    c32 = correct_f.astype(jnp.float32)

    def one(row):
        votes = c32 @ row
        return (2 * votes > m).astype(correct_f.dtype).mean()

    return batched_map(one, member, 256)


def _ols(x, y):
    xm, ym = x.mean(), y.mean()
    sxx = ((x - xm) ** 2).sum()
    if x.size < 3 or sxx <= 0:
        return np.nan, np.nan, np.nan
    b = ((x - xm) * (y - ym)).sum() / sxx
    a = ym - b * xm
    resid = y - a - b * x
    se = math.sqrt((resid**2).sum() / (x.size - 2) / sxx)
    return b, a, se


def subset_votes(
    correct, *, size: int = 3, train=None, test=None, rho=None, max_subsets: int = 200_000
) -> SubsetVoteResult:
    """Majority vote (correctness bits) of every size-m subset against its best member.

    Args:
      correct: bool (n, k).
      size: subset size m (odd, so a majority over bits is never tied).
      train, test: boolean masks; the best member and the error correlations come from
        train, accuracies from test. Both None: in-sample.
      rho: optional (k, k) pairwise correlation to use instead of the error phi
        coefficient (for example tetrachoric correlations).
      max_subsets: refuse to enumerate more subsets than this.

    Returns:
      A :class:`SubsetVoteResult`.

    Long: the enumeration, the OLS fit and its leave-one-model-out jackknife read as one computation.
    """
    c = np.asarray(outcome_array(correct, "subset_votes")[0], dtype=bool)
    n, k = c.shape
    if size < 2 or size > k:
        raise ValueError(f"subset_votes: size must lie in [2, {k}], got {size}")
    if size % 2 == 0:
        raise ValueError(
            f"subset_votes: size must be odd so a majority over bits has no ties, got {size}"
        )
    n_sub = math.comb(k, size)
    if n_sub > max_subsets:
        raise ValueError(
            f"subset_votes: {n_sub} subsets of size {size} from {k} models exceeds "
            f"max_subsets={max_subsets}; choose fewer models"
        )
    train = np.ones(n, bool) if train is None else np.asarray(train, bool)
    test = np.ones(n, bool) if test is None else np.asarray(test, bool)
    subsets = np.asarray(list(itertools.combinations(range(k), size)), dtype=np.int64)
    ctest = c[test]
    cf = jnp.asarray(ctest, jnp.result_type(float))  # the default float (float64 under x64)
    vote_acc = np.asarray(_subset_vote_acc(cf, jnp.asarray(subsets)))
    train_acc = c[train].mean(axis=0)
    test_acc = ctest.mean(axis=0)
    best_member = subsets[np.arange(n_sub), np.argmax(train_acc[subsets], axis=1)]
    best_acc = test_acc[best_member]
    gain = vote_acc - best_acc
    r = error_correlation(c[train]) if rho is None else np.asarray(rho, np.float64)
    pairs = list(itertools.combinations(range(size), 2))
    mean_rho = np.mean([r[subsets[:, a], subsets[:, b]] for a, b in pairs], axis=0)
    ok = np.isfinite(mean_rho)
    status = "ok"
    slope, intercept, se_naive = _ols(mean_rho[ok], gain[ok])
    ci_naive = (np.nan, np.nan)
    se_jk = np.nan
    ci_jk = (np.nan, np.nan)
    if not np.isfinite(slope):
        status = "SLOPE_UNDEFINED: fewer than 3 subsets with a finite correlation, or all equal"
    else:
        tq = stats.t.ppf(0.975, ok.sum() - 2)
        ci_naive = (slope - tq * se_naive, slope + tq * se_naive)
        thetas = []
        for drop in range(k):
            keep = ok & ~np.any(subsets == drop, axis=1)
            b, _, _ = _ols(mean_rho[keep], gain[keep])
            thetas.append(b)
        th = np.asarray(thetas)
        if k >= 3 and np.all(np.isfinite(th)):
            se_jk = math.sqrt((k - 1) / k * ((th - th.mean()) ** 2).sum())
            tq = stats.t.ppf(0.975, k - 1)
            ci_jk = (slope - tq * se_jk, slope + tq * se_jk)
        else:
            status = "JACKKNIFE_UNDEFINED: a leave-one-model-out fit had too few subsets"
    return SubsetVoteResult(
        subsets=subsets,
        vote_accuracy=vote_acc,
        best_member=best_member,
        best_member_accuracy=best_acc,
        gain=gain,
        mean_rho=mean_rho,
        share_loses=float((gain < 0).mean()),
        mean_gain=float(gain.mean()),
        slope=float(slope),
        intercept=float(intercept),
        slope_se_naive=float(se_naive),
        slope_ci_naive=(float(ci_naive[0]), float(ci_naive[1])),
        slope_se_jackknife=float(se_jk),
        slope_ci_jackknife=(float(ci_jk[0]), float(ci_jk[1])),
        label=BINARY_LABEL,
        status=status,
    )
