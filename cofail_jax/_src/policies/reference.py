"""Reference points every policy is reported against: the single best, the oracle, G.

On the held-out (test) queries: the single best is the model with the most correct
answers on the *training* queries (ties to the lower column index), scored on the test
queries; the oracle answers correctly whenever some model does (accuracy 1 - beta); the
oracle gain G = oracle - single best. A policy's realized fraction of G is
(policy accuracy - single best accuracy) / G; it is negative when the policy loses to
the single best.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ..certificate import clopper_pearson
from ..outcomes import outcome_array

__all__ = ["ReferencePoints", "reference_points", "score_choices", "single_best_index"]


class ReferencePoints(NamedTuple):
    """Single best (chosen on train), oracle and G, scored on the test queries.

    Attributes:
      best: column index of the single best (chosen on the training queries).
      n_test: number of test queries.
      single_best_accuracy: its accuracy on the test queries.
      oracle_accuracy: 1 - beta on the test queries.
      beta: share of test queries every model gets wrong.
      beta_ci: 95 % Clopper-Pearson interval on beta.
      G: oracle_accuracy - single_best_accuracy.
      train_accuracy: (k,) each model's accuracy on the training queries.
    """

    best: int
    n_test: int
    single_best_accuracy: float
    oracle_accuracy: float
    beta: float
    beta_ci: tuple[float, float]
    G: float
    train_accuracy: np.ndarray


def single_best_index(correct, train=None) -> int:
    """Column with the highest accuracy on the training rows (ties: lower index)."""
    correct = np.asarray(correct, dtype=bool)
    rows = correct if train is None else correct[np.asarray(train, dtype=bool)]
    return int(np.argmax(rows.sum(axis=0)))


def reference_points(correct, train=None, test=None) -> ReferencePoints:
    """Single best on train scored on test, oracle 1 - beta and G on test.

    Args:
      correct: bool (n, k).
      train, test: boolean masks over the n queries; both None means in-sample (the
        best model is chosen and scored on the same queries, which flatters it).

    Examples:
      >>> import numpy as np
      >>> c = np.array([[1, 0], [0, 1], [0, 0], [1, 0]], bool)
      >>> r = reference_points(c)
      >>> r.best, r.single_best_accuracy, r.oracle_accuracy, r.G
      (0, 0.5, 0.75, 0.25)
    """
    correct = np.asarray(outcome_array(correct, "reference_points")[0], dtype=bool)
    n = correct.shape[0]
    train = np.ones(n, bool) if train is None else np.asarray(train, bool)
    test = np.ones(n, bool) if test is None else np.asarray(test, bool)
    best = single_best_index(correct, train)
    ct = correct[test]
    nt = int(ct.shape[0])
    K = int((~ct.any(axis=1)).sum())
    lo, hi = clopper_pearson(K, nt)
    asb = float(ct[:, best].mean())
    orc = 1.0 - K / nt
    return ReferencePoints(
        best=best,
        n_test=nt,
        single_best_accuracy=asb,
        oracle_accuracy=orc,
        beta=K / nt,
        beta_ci=(float(lo), float(hi)),
        G=orc - asb,
        train_accuracy=correct[train].mean(axis=0),
    )


def score_choices(correct, choices) -> np.ndarray:
    """bool (n,): whether the model chosen for each query answered it correctly.

    Args:
      correct: bool (n, k).
      choices: int (n,) column index chosen per query.
    """
    correct = np.asarray(correct, dtype=bool)
    choices = np.asarray(choices, dtype=np.int64)
    return correct[np.arange(correct.shape[0]), choices]
