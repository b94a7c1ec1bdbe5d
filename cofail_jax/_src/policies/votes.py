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
  naive one is far too narrow). It lives in :mod:`.vote_subsets`, re-exported here.

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

import math
from typing import NamedTuple

import jax
import numpy as np

from ..outcomes import outcome_array
from .reference import ReferencePoints
from .tree import Var
from .vote_subsets import BINARY_LABEL, SubsetVoteResult, error_correlation, subset_votes

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
