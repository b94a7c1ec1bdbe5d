"""The exact range [beta_min, beta_max] allowed by marginal and pairwise rates (LP and moments)."""

from __future__ import annotations

import math

import numpy as np

from .rates import (
    _as_rates,
    _atom_design,
    _is_exchangeable,
    _triple_upper,
    check_pairwise_rates,
    law_from_counts,
    law_from_table,
)
from .types import _FEAS_TOL, MAX_EXACT_K, BetaBounds


def _nan_bounds(k, method, status, message, lower_exact=False, upper_exact=False) -> BetaBounds:
    return BetaBounds(float("nan"), float("nan"), lower_exact, upper_exact, method, status,
                      message, None, None, k)


def _colgen(c, A_csc, At, b, *, tol=1e-10, batch=128, max_iter=1000):
    """Column generation for min c.x, A x = b, x >= 0 over the atoms.

    The restricted master holds a few atom columns plus artificial columns +-e_r at cost
    1e3 (so it is always feasible); each round prices every atom at once (reduced costs
    c - A^T y, one sparse product) and adds the most negative ``batch``. Returns
    ``(x, artificial_mass, converged)``; a positive artificial mass means the caller must
    decide feasibility with the full LP.
    """
    from scipy.optimize import linprog

    m, N = A_csc.shape
    art = np.concatenate([np.eye(m), -np.eye(m)], axis=1)
    cols = np.array([0, N - 1], dtype=np.int64)
    res = None
    for _ in range(max_iter):
        Ar = np.concatenate([A_csc[:, cols].toarray(), art], axis=1)
        cr = np.concatenate([c[cols], np.full(2 * m, 1e3)])
        res = linprog(cr, A_eq=Ar, b_eq=b, bounds=(0, None), method="highs-ds")
        if res.status != 0:
            return None, float("inf"), False
        red = c - At @ res.eqlin.marginals
        red[cols] = np.inf
        neg = np.flatnonzero(red < -tol)
        if neg.size == 0:
            x = np.zeros(N)
            x[cols] = res.x[: cols.size]
            return x, float(res.x[cols.size:].sum()), True
        cols = np.concatenate([cols, neg[np.argsort(red[neg])[:batch]]])
    return None, float("inf"), False


def beta_bounds_lp(p, p2, *, laws: bool = True, check: bool = True,
                   solver: str = "auto") -> BetaBounds:
    """Exact range of beta over all joint laws of k binary errors with rates (p, p2).

    Solves

    .. math:: \\min / \\max\\; x_{2^k-1} \\quad \\text{s.t.}\\; \\sum_a x_a = 1,\\;
       \\sum_{a \\ni i} x_a = p_i,\\; \\sum_{a \\ni i, j} x_a = p_{ij},\\; x \\ge 0

    over the 2^k atoms a (subsets of wrong models) with HiGHS. The constraint matrix is
    sparse and built by bit arithmetic. Both bounds are sharp: the returned laws attain
    them. Memory grows as 2^k k^2; k = 16 takes seconds (see benchmarks/RESULTS.md).

    Args:
      p: (k,) marginal error rates P(model i wrong).
      p2: (k, k) both-wrong rates P(i and j wrong); the diagonal is ignored.
      laws: also return the extremal laws (``law_min``, ``law_max``).
      check: run :func:`check_pairwise_rates` first, for a precise message.
      solver: ``"full"`` (HiGHS dual simplex on all 2^k columns), ``"colgen"`` (column
        generation: a small restricted LP priced against every atom by one sparse
        product per round; falls back to ``"full"`` if it cannot certify feasibility) or
        ``"auto"`` (column generation for k > 12).

    Returns:
      :class:`BetaBounds` with ``method="exact-lp"``; a data problem comes back in
      ``status`` (``"INCONSISTENT"``, ``"INFEASIBLE"``, ``"LP_FAILED"``).

    Examples:
      >>> p, p2 = exchangeable_rates(3, 0.5, 0.25)
      >>> b = beta_bounds_lp(p, p2)
      >>> round(b.beta_min, 6), round(b.beta_max, 6)
      (0.0, 0.25)

    References:
      Boole's problem as a linear program: Hailperin, T. (1965). Best possible
      inequalities for the probability of a logical function of events. American
      Mathematical Monthly 72(4), 343-359.

    Long: 36 of its lines are the docstring with the LP; the code (51 lines) builds and solves one sparse LP.
    """
    from scipy.optimize import linprog

    p, p2 = _as_rates(p, p2)
    k = p.shape[0]
    if k < 1:
        raise ValueError("beta_bounds_lp: need at least one model")
    if k > 22:
        raise ValueError(f"beta_bounds_lp: 2^{k} atoms is too many; use beta_bounds_moments")
    if check:
        status, msg = check_pairwise_rates(p, p2)
        if status != "OK":
            return _nan_bounds(k, "exact-lp", status, msg + " (check the inputs)", True, True)
    if solver not in ("auto", "full", "colgen"):
        raise NotImplementedError(
            f"beta_bounds_lp: solver must be auto, full or colgen, got {solver!r}")
    use_cg = solver == "colgen" or (solver == "auto" and k > 12)
    A, _, iu, ju = _atom_design(k)
    b = np.concatenate([[1.0], p, p2[iu, ju]])
    if use_cg:
        A_csc, At = A.tocsc(), A.T.tocsr()
    out = []
    for sign in (1.0, -1.0):
        c = np.zeros(1 << k)
        c[-1] = sign
        if use_cg:
            x, art, ok = _colgen(c, A_csc, At, b)
            if ok and art <= 1e-12:
                out.append(np.clip(x, 0.0, None))
                continue
        # Dual simplex without presolve: about 3x faster than the default here (k = 16).
        res = linprog(c, A_eq=A, b_eq=b, bounds=(0, None), method="highs-ds",
                      options={"presolve": False})
        if res.status == 2:
            return _nan_bounds(k, "exact-lp", "INFEASIBLE",
                               "no joint law of binary errors has these marginal and pairwise "
                               "rates (they pass the pairwise and three-model checks but fail a "
                               "higher-order one); check that they come from one data set",
                               True, True)
        if res.status != 0:
            return _nan_bounds(k, "exact-lp", "LP_FAILED",
                               f"HiGHS stopped: {res.message}", True, True)
        out.append(np.clip(res.x, 0.0, None))
    x_min, x_max = out
    lo, hi = float(x_min[-1]), float(x_max[-1])
    law_min = law_from_table(x_min, "beta_min law") if laws else None
    law_max = law_from_table(x_max, "beta_max law") if laws else None
    return BetaBounds(lo, hi, True, True, "exact-lp", "OK",
                      "exact: both bounds are attained by joint laws matching the rates",
                      law_min, law_max, k)


def beta_bounds_moments(k: int, s1: float, s2: float, *, exact: bool = False,
                        laws: bool = True) -> BetaBounds:
    """Range of P(S = k) over distributions of S in {0..k} with E[S] = s1, E[C(S,2)] = s2.

    S is the number of wrong models; s1 = sum_i p_i, s2 = sum_{i<j} p_ij. Every joint law
    matching the rates gives an S with these two binomial moments, so the range is a
    valid relaxation for any pool; for an exchangeable pool (all p_i equal, all p_ij
    equal) each feasible S-distribution is realised by an exchangeable law, so the range
    is exact (the discrete moment problem of Boros and Prekopa). A (k + 1)-variable LP
    with rows scaled to O(1): k = 1,000 takes milliseconds.

    Args:
      k: number of models.
      s1: E[S] = sum of error rates.
      s2: E[S(S-1)/2] = sum of pairwise both-wrong rates.
      exact: label the bounds exact (set by the caller when the pool is exchangeable).
      laws: return the extremal exchangeable laws.

    Returns:
      :class:`BetaBounds` with method ``"exchangeable-lp"`` (exact) or
      ``"moment-relaxation"``.

    References:
      Boros and Prekopa (1989); Prekopa (1990), see the module docstring.
    """
    from scipy.optimize import linprog

    method = "exchangeable-lp" if exact else "moment-relaxation"
    if k < 2:
        raise ValueError("beta_bounds_moments: need k >= 2")
    if not (np.isfinite(s1) and np.isfinite(s2)):
        return _nan_bounds(k, method, "INCONSISTENT", "rates contain NaN or inf", exact, exact)
    s = np.arange(k + 1, dtype=np.float64)
    A = np.stack([np.ones(k + 1), s / k, s * (s - 1) / (k * (k - 1))])
    b = np.array([1.0, s1 / k, 2 * s2 / (k * (k - 1))])
    # Necessary conditions with a readable message: E[S] in [0, k], and
    # Var(S) >= 0 at the integer level (s2 >= the convex minorant of C(S,2) at s1).
    m = s1
    if m < -_FEAS_TOL or m > k + _FEAS_TOL:
        return _nan_bounds(k, method, "INCONSISTENT",
                           f"sum of error rates {m:.6g} is outside [0, k={k}]", exact, exact)
    fl = math.floor(m)
    lo_s2 = fl * (fl - 1) / 2 + (m - fl) * fl  # C(S,2) is convex: minimum at S in {fl, fl+1}
    hi_s2 = m * (k - 1) / 2  # maximum: S in {0, k}
    if s2 < lo_s2 - 1e-9 * max(1.0, lo_s2) or s2 > hi_s2 + 1e-9 * max(1.0, hi_s2):
        return _nan_bounds(k, method, "INCONSISTENT",
                           f"sum of pairwise both-wrong rates {s2:.6g} is outside [{lo_s2:.6g}, "
                           f"{hi_s2:.6g}], the range a count of wrong models with mean {m:.6g} "
                           "allows", exact, exact)
    c = np.zeros(k + 1)
    sols = []
    for sign in (1.0, -1.0):
        c[-1] = sign
        res = linprog(c, A_eq=A, b_eq=b, bounds=(0, None), method="highs")
        if res.status == 2:
            return _nan_bounds(k, method, "INFEASIBLE",
                               "no distribution of the number of wrong models has these moments",
                               exact, exact)
        if res.status != 0:
            return _nan_bounds(k, method, "LP_FAILED", f"HiGHS stopped: {res.message}", exact,
                               exact)
        sols.append(np.clip(res.x, 0.0, None))
    q_min, q_max = sols
    lo, hi = float(q_min[-1]), float(q_max[-1])
    lmin = law_from_counts(q_min, "beta_min law") if laws else None
    lmax = law_from_counts(q_max, "beta_max law") if laws else None
    msg = ("exact: the pool is exchangeable, so every feasible count distribution is a "
           "matching law" if exact else
           "relaxation: bounds from sum p_i and sum p_ij only (valid, possibly loose); "
           "select at most 16 models for the exact LP")
    return BetaBounds(lo, hi, exact, exact, method, "OK", msg, lmin, lmax, k)



def beta_bounds(p, p2, *, max_exact_k: int = MAX_EXACT_K, laws: bool = True) -> BetaBounds:
    """[beta_min, beta_max] from marginal and pairwise rates, exact where possible.

    * exchangeable rates (any k): the (k + 1)-atom LP, exact;
    * k <= ``max_exact_k``: the 2^k-atom LP, exact;
    * otherwise: the moment relaxation on sum p_i and sum p_ij, with the upper bound
      tightened by the exact three-model bounds and by the exact LP upper bound of the
      most accurate sub-pool (beta of the pool can be no larger than beta of any
      sub-pool); both bounds valid, neither claimed sharp.

    Args:
      p: (k,) error rates. p2: (k, k) both-wrong rates.
      max_exact_k: largest k for the exact LP.
      laws: return extremal laws when exact.

    Returns:
      :class:`BetaBounds`.
    """
    p, p2 = _as_rates(p, p2)
    k = p.shape[0]
    if k == 1:
        return BetaBounds(float(p[0]), float(p[0]), True, True, "exact-lp", "OK",
                          "one model: beta is its error rate", None, None, 1)
    if _is_exchangeable(p, p2):
        status, msg = check_pairwise_rates(p[:3], p2[:3, :3])
        if status != "OK":
            return _nan_bounds(k, "exchangeable-lp", status, msg, True, True)
        s2 = float(p2[0, 1]) * (k * (k - 1) / 2)
        return beta_bounds_moments(k, float(p.sum()), s2, exact=True, laws=laws)
    if k <= max_exact_k:
        return beta_bounds_lp(p, p2, laws=laws)
    status, msg = check_pairwise_rates(p, p2)
    if status != "OK":
        return _nan_bounds(k, "moment-relaxation", status, msg)
    iu, ju = np.triu_indices(k, 1)
    rel = beta_bounds_moments(k, float(p.sum()), float(p2[iu, ju].sum()), exact=False, laws=False)
    if rel.status != "OK":
        return rel
    upper = min(rel.beta_max, float(p2[iu, ju].min()), _triple_upper(p, p2))
    # beta of the whole pool <= beta of any sub-pool <= that sub-pool's exact beta_max:
    # use the min(max_exact_k, 10) most accurate models.
    sub = np.argsort(p, kind="stable")[: min(max_exact_k, 10)]
    sb = beta_bounds_lp(p[sub], p2[np.ix_(sub, sub)], laws=False, check=False)
    if sb.status == "OK":
        upper = min(upper, sb.beta_max)
    msg = rel.message + ("; upper bound also capped by the exact three-model bounds and the "
                         f"exact LP on the {sub.size} most accurate models")
    return rel._replace(beta_max=max(upper, rel.beta_min), message=msg)

