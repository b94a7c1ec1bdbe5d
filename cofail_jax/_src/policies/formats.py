"""Answer-format regimes: beta under two formats of the same questions.

Two outcome matrices of the same questions under different answer formats (for example
multiple choice vs free response): beta (all models wrong) in each, with Clopper-Pearson
intervals, on the questions common to both and on each full set, and exact tests of
the difference:

* **common questions (paired)**: McNemar's exact test on the paired all-wrong
  indicators: under H0 the discordant questions (all wrong in one format only) split
  Binomial(b + c, 1/2). The difference of paired proportions gets an exact interval
  from the Clopper-Pearson interval on b / (b + c) (conditional on b + c, the
  interval for the discordant share, mapped to (b + c)/n (2 theta - 1)).
* **full sets (unpaired)**: Fisher's exact test on the 2 x 2 table (all wrong, not) x
  (format). The two sets share questions, which Fisher's test treats as independent
  samples; the paired test on the common questions is the sharper one there. Boschloo's
  (unconditional) exact test is used when ``unpaired="boschloo"`` and n is small.

The models need not be the same in both files (beta is a property of each pool). Each
model's accuracy under each format (on the common questions and on each full set) comes
with a Clopper-Pearson interval, over the union of the two model lists (NaN where a model
is absent from a format).

References:
  McNemar, Q. (1947). Note on the sampling error of the difference between correlated
  proportions or percentages. Psychometrika 12, 153-157.
  Fisher, R. A. (1935). The logic of inductive inference. JRSS 98, 39-82.
  Boschloo, R. D. (1970). Raised conditional level of significance for the 2 x 2-table
  when testing the equality of two probabilities. Statistica Neerlandica 24, 1-9.
  Clopper, C. J. and Pearson, E. S. (1934). Biometrika 26, 404-413.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np
from scipy import stats

from ..certificate import clopper_pearson
from .tree import Interval, Split, Var

__all__ = [
    "BetaBlock",
    "FormatComparison",
    "FullSets",
    "ModelAccuracy",
    "PairedFormats",
    "compare_formats",
    "mcnemar_exact",
]

CI_METHOD = "conditional exact: Clopper-Pearson on only_a / (only_a + only_b)"
MCNEMAR = "McNemar exact (binomial on discordant all-wrong indicators)"


def mcnemar_exact(b: int, c: int) -> float:
    """Two-sided exact McNemar p-value for b, c discordant pairs (1 when b + c = 0)."""
    if b + c == 0:
        return 1.0
    return float(stats.binomtest(int(b), int(b + c), 0.5).pvalue)


class BetaBlock(NamedTuple):
    """beta of one format on one set of questions: K of n all wrong, Clopper-Pearson ci."""

    n: int
    K: int
    beta: float
    ci: tuple[float, float]

    def to_tree(self) -> dict:
        return {"n": self.n, "K": self.K, "beta": self.beta, "ci": Interval(*self.ci)}


class ModelAccuracy(NamedTuple):
    """Each model's accuracy under formats a and b on one set of questions, with
    Clopper-Pearson intervals; rows follow ``models`` (the union of both pools), NaN
    where a model is absent from a format."""

    models: tuple[str, ...]
    a: np.ndarray
    a_lower: np.ndarray
    a_upper: np.ndarray
    b: np.ndarray
    b_lower: np.ndarray
    b_upper: np.ndarray

    def to_tree(self) -> Var:
        fields = ("a", "a_lower", "a_upper", "b", "b_lower", "b_upper")
        return Var({f: getattr(self, f) for f in fields}, ("model",), self.models)


class PairedFormats(NamedTuple):
    """The questions common to both formats: paired beta, McNemar exact test.

    ``a``, ``b``, ``accuracy`` and the counts are None when no question is common."""

    n: int
    a: BetaBlock | None
    b: BetaBlock | None
    both: int | None
    only_a: int | None
    only_b: int | None
    difference: float | None
    difference_ci: tuple[float, float] | None
    p_value: float
    test: str
    accuracy: ModelAccuracy | None

    def to_tree(self) -> dict:
        if self.a is None or self.b is None or self.difference_ci is None:
            return {"n": self.n, "p_value": self.p_value, "test": self.test}
        return {
            "n": self.n,
            "a": self.a.to_tree(),
            "b": self.b.to_tree(),
            "both": self.both,
            "only_a": self.only_a,
            "only_b": self.only_b,
            "difference": self.difference,
            "difference_ci": Interval(*self.difference_ci),
            "p_value": self.p_value,
            "test": self.test,
            "difference_ci_method": Split(CI_METHOD, None),
            "accuracy": None if self.accuracy is None else self.accuracy.to_tree(),
        }


class FullSets(NamedTuple):
    """Each full set: beta per format, Fisher (or Boschloo) exact test."""

    a: BetaBlock
    b: BetaBlock
    difference: float
    p_value: float
    test: str
    accuracy: ModelAccuracy

    def to_tree(self) -> dict:
        return {
            "a": self.a.to_tree(),
            "b": self.b.to_tree(),
            "difference": self.difference,
            "p_value": self.p_value,
            "test": self.test,
            "accuracy": self.accuracy.to_tree(),
        }


class FormatComparison(NamedTuple):
    """Result of :func:`compare_formats`."""

    models_a: tuple[str, ...]
    models_b: tuple[str, ...]
    common: PairedFormats
    full: FullSets
    alpha: float

    def to_tree(self, names: Sequence[str] = ("A", "B")) -> dict:
        """The result tree (``--json`` and ``--out``, see ``tree.py``); ``names`` label
        the two formats."""
        return {
            "names": Split(list(names), {"a": names[0], "b": names[1]}),
            "models_a": Split(list(self.models_a), None),
            "models_b": Split(list(self.models_b), None),
            "common": self.common.to_tree(),
            "full": self.full.to_tree(),
            "alpha": Split(self.alpha, None),
        }


def _beta_block(allwrong: np.ndarray, alpha: float) -> BetaBlock:
    n = int(allwrong.size)
    K = int(allwrong.sum())
    lo, hi = clopper_pearson(K, n, alpha)
    return BetaBlock(n, K, K / n if n else float("nan"), (float(lo), float(hi)))


def _model_accuracy(ca, models_a, cb, models_b, alpha: float) -> ModelAccuracy:
    models = tuple(dict.fromkeys([*models_a, *models_b]))
    cols = {}
    for side, c, names in (("a", ca, models_a), ("b", cb, models_b)):
        n = c.shape[0]
        k_right = c.sum(axis=0)
        lo, hi = clopper_pearson(k_right, n, alpha)
        pos = {m: j for j, m in enumerate(names)}
        idx = np.asarray([pos.get(m, -1) for m in models])
        for f, v in ((side, k_right / n if n else np.full(len(names), np.nan)),
                     (f"{side}_lower", lo), (f"{side}_upper", hi)):
            v = np.asarray(v, np.float64).reshape(-1)
            cols[f] = np.where(idx >= 0, v[np.maximum(idx, 0)] if v.size else np.nan, np.nan)
    return ModelAccuracy(models, **cols)


def compare_formats(
    correct_a, ids_a, correct_b, ids_b, *, alpha: float = 0.05, unpaired: str = "fisher",
    models_a: Sequence[str] | None = None, models_b: Sequence[str] | None = None,
) -> FormatComparison:
    """beta under two formats, on the common questions and on each full set.

    Args:
      correct_a, correct_b: bool (n_a, k_a), (n_b, k_b) outcome matrices.
      ids_a, ids_b: their query ids (questions are matched by id).
      alpha: intervals at level 1 - alpha.
      unpaired: ``"fisher"`` or ``"boschloo"`` for the full-set test.
      models_a, models_b: model names of the two matrices (per-model accuracies are
        matched by name; default ``"0"``, ``"1"``, ... by position).

    Returns:
      :class:`FormatComparison`: ``common`` (:class:`PairedFormats`: n, beta blocks a
      and b, discordant counts ``only_a``/``only_b``, ``difference`` and its exact
      ``difference_ci``, ``p_value`` (McNemar exact), ``test``, per-model
      ``accuracy``), ``full`` (:class:`FullSets`: a, b, difference, p_value, test,
      accuracy) and ``alpha``.

    Examples:
      >>> import numpy as np
      >>> a = np.array([[0, 0], [1, 0], [0, 0], [1, 1]], bool)
      >>> b = np.array([[0, 1], [1, 0], [0, 0], [0, 0]], bool)
      >>> r = compare_formats(a, ["q1", "q2", "q3", "q4"], b, ["q1", "q2", "q3", "q4"])
      >>> r.common.only_a, r.common.only_b
      (1, 1)
    """
    if unpaired not in ("fisher", "boschloo"):
        raise ValueError(
            f"compare_formats: unpaired must be 'fisher' or 'boschloo', got {unpaired!r}"
        )
    ca = np.asarray(correct_a, dtype=bool)
    cb = np.asarray(correct_b, dtype=bool)
    names_a = tuple(str(m) for m in (models_a if models_a is not None else range(ca.shape[1])))
    names_b = tuple(str(m) for m in (models_b if models_b is not None else range(cb.shape[1])))
    ids_a = [str(q) for q in ids_a]
    ids_b = [str(q) for q in ids_b]
    pos_b = {q: i for i, q in enumerate(ids_b)}
    pos_a = {q: i for i, q in enumerate(ids_a)}
    common = [q for q in ids_a if q in pos_b]
    ia = np.asarray([pos_a[q] for q in common], np.int64)
    ib = np.asarray([pos_b[q] for q in common], np.int64)
    paired = _paired(ca[ia], names_a, cb[ib], names_b, alpha)
    return FormatComparison(names_a, names_b, paired,
                            _full_sets(ca, names_a, cb, names_b, alpha, unpaired), alpha)


def _paired(ca, names_a, cb, names_b, alpha: float) -> PairedFormats:
    """McNemar on the common questions (rows of ca and cb are the same questions)."""
    nc = ca.shape[0]
    if nc == 0:
        return PairedFormats(0, None, None, None, None, None, None, None, float("nan"),
                             "none: no common questions", None)
    pa, pb = ~ca.any(axis=1), ~cb.any(axis=1)
    only_a = int((pa & ~pb).sum())
    only_b = int((~pa & pb).sum())
    m = only_a + only_b
    if m:
        lo, hi = clopper_pearson(only_a, m, alpha)
        dci = (m / nc * (2 * float(lo) - 1), m / nc * (2 * float(hi) - 1))
    else:
        dci = (0.0, 0.0)
    return PairedFormats(
        nc, _beta_block(pa, alpha), _beta_block(pb, alpha), int((pa & pb).sum()), only_a,
        only_b, (only_a - only_b) / nc, dci, mcnemar_exact(only_a, only_b), MCNEMAR,
        _model_accuracy(ca, names_a, cb, names_b, alpha),
    )


def _full_sets(ca, names_a, cb, names_b, alpha: float, unpaired: str) -> FullSets:
    """Fisher (or Boschloo) on the all-wrong counts of the two full sets."""
    A, B = _beta_block(~ca.any(axis=1), alpha), _beta_block(~cb.any(axis=1), alpha)
    table = np.array([[A.K, A.n - A.K], [B.K, B.n - B.K]])
    if unpaired == "fisher":
        p = float(stats.fisher_exact(table).pvalue)
        test = "Fisher exact (two-sided); treats the two sets as independent samples"
    else:
        p = float(stats.boschloo_exact(table, alternative="two-sided").pvalue)
        test = "Boschloo exact (two-sided); treats the two sets as independent samples"
    return FullSets(A, B, A.beta - B.beta, p, test,
                    _model_accuracy(ca, names_a, cb, names_b, alpha))
