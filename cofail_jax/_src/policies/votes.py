"""Votes: majority over correctness bits, plurality over answers, weighted votes, and
the gain of every size-m subset vote over its best member.

* :func:`majority_vote` works on correctness bits only. It treats every wrong answer as
  the same wrong answer, so it is the **optimistic binary approximation** to a real vote
  (with many distinct wrong answers a real plurality vote does at least as well on
  queries where the right answer has a majority, and it is the only thing computable
  from a 0/1 matrix). It is labelled as such wherever it is reported.
* :func:`plurality_vote` votes over actual answers (``cell_meta["answer"]``). Ties are
  broken by a stated rule: ``"wrong"`` (default, a tie counts as wrong), ``"first"``
  (the tied answer given by the earliest model in ``priority`` order wins) or
  ``"expected"`` (a uniformly random tie-break, scored by its expectation).
* Weighted votes use log-odds weights w_j = log(p_j / (1 - p_j)) of each model's
  training accuracy, the optimal weights for independent voters (Nitzan and Paroush
  1982), clipped at zero: a worse-than-coin model's negative weight would turn its
  wrong answer into a vote for the right one, true only of two-option tasks.
* :func:`subset_votes` scores the majority vote of every size-m subset (all triplets by
  default, vectorized in JAX), its gain over its best member (chosen on the training
  queries), the share of subsets where the vote loses, and the slope of the gain on the
  subset's mean pairwise error correlation, with a jackknife-over-models interval next
  to the naive interval that treats subsets as independent (they share models, so the
  naive one is far too narrow).

References:
  Condorcet, N. de (1785). Essai sur l'application de l'analyse a la probabilite des
  decisions rendues a la pluralite des voix.
  Nitzan, S. and Paroush, J. (1982). Optimal decision rules in uncertain dichotomous
  choice situations. International Economic Review 23, 289-297.
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
from .reference import ReferencePoints
from .tree import Var

__all__ = [
    "BINARY_LABEL",
    "TIE_RULES",
    "SubsetVoteResult",
    "VoteEvaluation",
    "error_correlation",
    "evaluate_votes",
    "log_odds_weights",
    "majority_vote",
    "plurality_vote",
    "subset_votes",
]

TIE_RULES = ("wrong", "first", "expected")
BINARY_LABEL = "majority over correctness bits (optimistic binary approximation)"


def log_odds_weights(
    train_accuracy, *, clip_negative: bool = False, eps: float = 1e-3
) -> np.ndarray:
    """Nitzan-Paroush weights log(p / (1 - p)) from training accuracies (p clipped to
    [eps, 1 - eps]); with ``clip_negative`` weights below zero become zero."""
    p = np.clip(np.asarray(train_accuracy, np.float64), eps, 1 - eps)
    w = np.log(p / (1 - p))
    return np.maximum(w, 0.0) if clip_negative else w


def majority_vote(correct, weights=None, *, tie: str = "wrong") -> np.ndarray:
    """Majority vote over correctness bits: the optimistic binary approximation.

    The vote is right when the (weighted) share of correct models exceeds one half.

    Args:
      correct: bool (n, k).
      weights: optional (k,) vote weights (default all 1).
      tie: ``"wrong"`` (a tie is wrong), ``"expected"`` (scored 1/2) or ``"first"`` (the
        first model, column 0, decides).

    Returns:
      float (n,) per-query score in {0, 1} ({0, 1/2, 1} with ``tie="expected"``).

    Examples:
      >>> import numpy as np
      >>> majority_vote(np.array([[1, 1, 0], [1, 0, 0], [1, 0, 1]], bool)).tolist()
      [1.0, 0.0, 1.0]
    """
    if tie not in TIE_RULES:
        raise ValueError(f"majority_vote: tie must be one of {TIE_RULES}, got {tie!r}")
    c = np.asarray(correct, dtype=bool)
    w = np.ones(c.shape[1]) if weights is None else np.asarray(weights, np.float64)
    if w.shape != (c.shape[1],):
        raise ValueError(f"majority_vote: weights must have shape ({c.shape[1]},), got {w.shape}")
    s = c.astype(np.float64) @ w
    total = w.sum()
    diff = 2 * s - total
    tol = 1e-12 * max(1.0, np.abs(w).sum())
    win = (diff > tol).astype(np.float64)
    is_tie = np.abs(diff) <= tol
    if tie == "expected":
        win = np.where(is_tie, 0.5, win)
    elif tie == "first":
        win = np.where(is_tie, c[:, 0].astype(np.float64), win)
    return win


def _norm_answer(a) -> str | None:
    if a is None:
        return None
    if isinstance(a, float) and math.isnan(a):
        return None
    s = str(a).strip()
    return s if s else None


def plurality_vote(answers, correct, weights=None, *, tie: str = "wrong", priority=None):
    """Plurality vote over the models' actual answers.

    The winning answer is the one with the largest (weighted) number of votes; models
    with no answer abstain. It is scored by the correctness of the models that gave it
    (the mean of their grades, which is 0 or 1 unless graders disagree on equal answers;
    such queries are counted in ``inconsistent``).

    Args:
      answers: (n, k) answers (strings; None/empty = no answer).
      correct: bool (n, k) grades.
      weights: optional (k,) non-negative weights.
      tie: ``"wrong"`` (default: a tie for first place counts as wrong), ``"first"``
        (the tied answer given by the model earliest in ``priority`` wins) or
        ``"expected"`` (uniform random tie-break, scored by its expectation).
      priority: (k,) model order for ``tie="first"`` (default column order); for example
        the models sorted by training accuracy, best first.

    Returns:
      (score, n_ties, inconsistent): float (n,) scores, number of tied queries, number
      of queries where equal answers were graded differently.

    Examples:
      >>> import numpy as np
      >>> ans = np.array([["A", "A", "B"], ["A", "B", "C"]], object)
      >>> ok = np.array([[1, 1, 0], [0, 1, 0]], bool)
      >>> plurality_vote(ans, ok)[0].tolist()
      [1.0, 0.0]
    """
    if tie not in TIE_RULES:
        raise ValueError(f"plurality_vote: tie must be one of {TIE_RULES}, got {tie!r}")
    answers = np.asarray(answers, dtype=object)
    c = np.asarray(correct, dtype=bool)
    n, k = c.shape
    if answers.shape != (n, k):
        raise ValueError(f"plurality_vote: answers {answers.shape} and correct {c.shape} differ")
    w = np.ones(k) if weights is None else np.asarray(weights, np.float64)
    if np.any(w < 0):
        raise ValueError("plurality_vote: weights must be non-negative")
    rank = np.arange(k)  # rank[j] = position of model j in the priority order
    if priority is not None:
        rank = np.empty(k, np.int64)
        rank[np.asarray(priority, np.int64)] = np.arange(k)
    score = np.zeros(n)
    n_ties = 0
    inconsistent = 0
    for i in range(n):
        votes: dict[str, float] = {}
        grades: dict[str, list[bool]] = {}
        first: dict[str, int] = {}
        for j in range(k):
            a = _norm_answer(answers[i, j])
            if a is None:
                continue
            votes[a] = votes.get(a, 0.0) + w[j]
            grades.setdefault(a, []).append(bool(c[i, j]))
            first[a] = min(first.get(a, k), int(rank[j]))
        if not votes:
            continue
        top = max(votes.values())
        tol = 1e-12 * max(1.0, float(w.sum()))
        winners = [a for a, v in votes.items() if v >= top - tol]
        vals = {a: float(np.mean(grades[a])) for a in winners}
        if any(0 < float(np.mean(g)) < 1 for g in grades.values()):
            inconsistent += 1
        if len(winners) == 1:
            score[i] = vals[winners[0]]
            continue
        n_ties += 1
        if tie == "wrong":
            score[i] = 0.0
        elif tie == "first":
            score[i] = vals[min(winners, key=lambda a: first[a])]
        else:
            score[i] = float(np.mean(list(vals.values())))
    return score, n_ties, inconsistent


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


class VoteEvaluation(NamedTuple):
    """Every vote on the test queries next to the single best and the oracle.

    Attributes:
      n, k: queries and models of the matrix.
      n_train, n_test: queries in each part.
      reference: the single best (chosen on train), the oracle and G on test.
      policies: {name: {"label", "accuracy", "realized_fraction", "bootstrap", and
        "weights" (k,), "ties", "inconsistent_grades" where they apply}}.
      tie: the plurality tie rule.
    """

    n: int
    k: int
    n_train: int
    n_test: int
    reference: ReferencePoints
    policies: dict
    tie: str

    def to_tree(self, models) -> dict:
        """The result tree (see :mod:`.tree`); ``models`` names the columns."""
        ref = self.reference
        pols = {}
        for name, p in self.policies.items():
            pols[name] = {k: v for k, v in p.items() if k != "weights"}
            if "weights" in p:
                pols[name]["weights"] = Var(np.asarray(p["weights"]), ("model",), models)
        return {
            "n": self.n,
            "k": self.k,
            "n_train": self.n_train,
            "n_test": self.n_test,
            "reference": {
                "single_best": models[ref.best],
                "single_best_accuracy": ref.single_best_accuracy,
                "oracle_accuracy": ref.oracle_accuracy,
                "beta": ref.beta,
                "beta_ci": ref.beta_ci,
                "G": ref.G,
            },
            "policies": pols,
            "tie_rule": self.tie,
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
    vote_acc = np.asarray(_subset_vote_acc(jnp.asarray(ctest, jnp.float64), jnp.asarray(subsets)))
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


def evaluate_votes(
    key,
    correct,
    *,
    answers=None,
    train=None,
    test=None,
    tie: str = "wrong",
    n_boot: int = 1000,
    level: float = 0.95,
    progress=None,
) -> VoteEvaluation:
    """Every vote on the test queries, next to the single best (chosen on train) and the
    oracle, each with its realized fraction of G and a query-bootstrap interval.

    Policies: ``majority`` (unweighted, correctness bits: optimistic binary
    approximation), ``weighted_majority`` (log-odds weights from training accuracy, bits),
    and with ``answers`` also ``plurality`` and ``weighted_plurality`` (tie rule ``tie``,
    priority = training accuracy order for ``tie="first"``).

    ``progress``: optional ``progress(done, total)`` callback (bootstrap replicates,
    and partitions where there are any); the results are the same with and without it.

    Returns:
      A :class:`VoteEvaluation`.
    """
    from .bootstrap import realized_fraction_bootstrap, share_progress
    from .reference import reference_points

    c = np.asarray(outcome_array(correct, "evaluate_votes")[0], dtype=bool)
    n, k = c.shape
    train = np.ones(n, bool) if train is None else np.asarray(train, bool)
    test = np.ones(n, bool) if test is None else np.asarray(test, bool)
    ref = reference_points(c, train, test)
    ct = c[test]
    sb = ct[:, ref.best].astype(np.float64)
    orc = ct.any(axis=1).astype(np.float64)
    # Negative log-odds (a model worse than a coin) would turn a wrong answer into a vote
    # for the right one, which holds only for truly two-option tasks; with many wrong
    # answers it manufactures accuracy, so weights are clipped at zero here too.
    w_bits = log_odds_weights(ref.train_accuracy, clip_negative=True)
    w_plur = log_odds_weights(ref.train_accuracy, clip_negative=True)
    priority = np.argsort(-ref.train_accuracy, kind="stable")
    scores: dict[str, tuple[str, np.ndarray, dict]] = {}
    bits_tie = "wrong" if tie == "first" else tie
    scores["majority"] = (BINARY_LABEL + f"; ties {bits_tie}", majority_vote(ct, tie=bits_tie), {})
    scores["weighted_majority"] = (
        "log-odds weighted majority over correctness bits (optimistic "
        "binary approximation); weights from the training split, negative ones clipped to 0",
        majority_vote(ct, w_bits, tie=bits_tie),
        {"weights": w_bits},
    )
    if answers is not None:
        at = np.asarray(answers, dtype=object)[test]
        s, nt, inc = plurality_vote(at, ct, tie=tie, priority=priority)
        scores["plurality"] = (
            f"plurality over answers; tie rule: {tie}",
            s,
            {"ties": nt, "inconsistent_grades": inc},
        )
        s, nt, inc = plurality_vote(at, ct, w_plur, tie=tie, priority=priority)
        scores["weighted_plurality"] = (
            f"log-odds weighted plurality over answers; tie rule: {tie}",
            s,
            {"ties": nt, "inconsistent_grades": inc, "weights": w_plur},
        )
    policies = {}
    for i, (name, (label, s, extra)) in enumerate(scores.items()):
        boot = realized_fraction_bootstrap(
            jax.random.fold_in(key, i), s, sb, orc, n_boot=n_boot, level=level,
            progress=share_progress(progress, i, len(scores)),
        )
        policies[name] = {
            "label": label,
            "accuracy": float(s.mean()),
            "realized_fraction": boot["realized_fraction"]["estimate"],
            "bootstrap": boot,
            **extra,
        }
    return VoteEvaluation(n, k, int(train.sum()), int(test.sum()), ref, policies, tie)
