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

The models need not be the same in both files (beta is a property of each pool).

References:
  McNemar, Q. (1947). Note on the sampling error of the difference between correlated
  proportions or percentages. Psychometrika 12, 153-157.
  Fisher, R. A. (1935). The logic of inductive inference. JRSS 98, 39-82.
  Boschloo, R. D. (1970). Raised conditional level of significance for the 2 x 2-table
  when testing the equality of two probabilities. Statistica Neerlandica 24, 1-9.
  Clopper, C. J. and Pearson, E. S. (1934). Biometrika 26, 404-413.
"""

from __future__ import annotations

import numpy as np
from scipy import stats

from ..certificate import clopper_pearson

__all__ = ["compare_formats", "mcnemar_exact"]


def mcnemar_exact(b: int, c: int) -> float:
    """Two-sided exact McNemar p-value for b, c discordant pairs (1 when b + c = 0)."""
    if b + c == 0:
        return 1.0
    return float(stats.binomtest(int(b), int(b + c), 0.5).pvalue)


def _beta_block(allwrong: np.ndarray, alpha: float) -> dict:
    n = int(allwrong.size)
    K = int(allwrong.sum())
    lo, hi = clopper_pearson(K, n, alpha)
    return {"n": n, "K": K, "beta": K / n if n else float("nan"), "ci": (float(lo), float(hi))}


def compare_formats(
    correct_a, ids_a, correct_b, ids_b, *, alpha: float = 0.05, unpaired: str = "fisher"
) -> dict:
    """beta under two formats, on the common questions and on each full set.

    Args:
      correct_a, correct_b: bool (n_a, k_a), (n_b, k_b) outcome matrices.
      ids_a, ids_b: their query ids (questions are matched by id).
      alpha: intervals at level 1 - alpha.
      unpaired: ``"fisher"`` or ``"boschloo"`` for the full-set test.

    Returns:
      dict with ``common`` {n, a, b (beta blocks), discordant counts ``only_a``/``only_b``,
      ``difference`` and its exact ``difference_ci``, ``p_value`` (McNemar exact),
      ``test``}, and ``full`` {a, b, difference, p_value, test}.

    Examples:
      >>> import numpy as np
      >>> a = np.array([[0, 0], [1, 0], [0, 0], [1, 1]], bool)
      >>> b = np.array([[0, 1], [1, 0], [0, 0], [0, 0]], bool)
      >>> r = compare_formats(a, ["q1", "q2", "q3", "q4"], b, ["q1", "q2", "q3", "q4"])
      >>> r["common"]["only_a"], r["common"]["only_b"]
      (1, 1)
    """
    if unpaired not in ("fisher", "boschloo"):
        raise ValueError(
            f"compare_formats: unpaired must be 'fisher' or 'boschloo', got {unpaired!r}"
        )
    ca = np.asarray(correct_a, dtype=bool)
    cb = np.asarray(correct_b, dtype=bool)
    ids_a = [str(q) for q in ids_a]
    ids_b = [str(q) for q in ids_b]
    pos_b = {q: i for i, q in enumerate(ids_b)}
    common = [q for q in ids_a if q in pos_b]
    pos_a = {q: i for i, q in enumerate(ids_a)}
    wa = ~ca.any(axis=1)
    wb = ~cb.any(axis=1)
    ia = np.asarray([pos_a[q] for q in common], np.int64)
    ib = np.asarray([pos_b[q] for q in common], np.int64)
    out: dict = {"common": {"n": len(common)}}
    if common:
        pa, pb = wa[ia], wb[ib]
        only_a = int((pa & ~pb).sum())
        only_b = int((~pa & pb).sum())
        nc = len(common)
        d = (only_a - only_b) / nc
        m = only_a + only_b
        if m:
            lo, hi = clopper_pearson(only_a, m, alpha)
            dci = (m / nc * (2 * float(lo) - 1), m / nc * (2 * float(hi) - 1))
        else:
            dci = (0.0, 0.0)
        out["common"].update(
            a=_beta_block(pa, alpha),
            b=_beta_block(pb, alpha),
            both=int((pa & pb).sum()),
            only_a=only_a,
            only_b=only_b,
            difference=d,
            difference_ci=dci,
            p_value=mcnemar_exact(only_a, only_b),
            test="McNemar exact (binomial on discordant all-wrong indicators)",
            difference_ci_method="conditional exact: Clopper-Pearson on only_a / (only_a + only_b)",
        )
    else:
        out["common"].update(p_value=float("nan"), test="none: no common questions")
    A, B = _beta_block(wa, alpha), _beta_block(wb, alpha)
    table = np.array([[A["K"], A["n"] - A["K"]], [B["K"], B["n"] - B["K"]]])
    if unpaired == "fisher":
        p = float(stats.fisher_exact(table).pvalue)
        test = "Fisher exact (two-sided); treats the two sets as independent samples"
    else:
        p = float(stats.boschloo_exact(table, alternative="two-sided").pvalue)
        test = "Boschloo exact (two-sided); treats the two sets as independent samples"
    out["full"] = {"a": A, "b": B, "difference": A["beta"] - B["beta"], "p_value": p, "test": test}
    out["alpha"] = alpha
    return out
