"""Non-identification: the range of beta that marginal and pairwise error rates allow.

Pairwise error statistics (each model's error rate p_i and each pair's both-wrong rate
p_ij, equivalently the pairwise Pearson or tetrachoric correlations) do not determine
beta = P(all k models wrong) once k >= 3. This module computes exactly how wide the
undetermined range is, builds the two extremal joint laws as objects, samples outcome
matrices from them, and places the Gaussian-copula value inside the range.

* :func:`beta_bounds_lp`: exact [beta_min, beta_max] over every joint law of k binary
  variables with the given p_i and p_ij: a linear program over the 2^k atoms (k <= ~16).
* :func:`beta_bounds_moments`: the same problem reduced to the distribution of the
  number S of wrong models (k + 1 atoms, any k). Exact when the pool is exchangeable;
  a valid relaxation otherwise (the discrete moment problem).
* :func:`beta_bounds`: picks the exact method when it can and says which bound is exact.
* :func:`counterexample`: the two extremal laws for an exchangeable specification, with
  their statistics; :func:`gaussian_copula_beta` the tetrachoric-calibrated Gaussian value.
* :func:`sample_law`, :func:`simulate_law_stats`, :func:`verify_by_simulation`: a JAX
  sampler (inverse-CDF draw over atoms or counts, then bits) and a streaming check that
  two laws agree on marginals and pairwise correlations within Monte Carlo error while
  their beta differs.
* :func:`identify`: all of the above for an observed error matrix.

Conventions: ``errors`` is True where a model is wrong. In a probability table over
atoms, bit i of the atom index is 1 when model i is wrong, so atom 2^k - 1 is the
all-wrong event. LP results are numpy arrays (they come from scipy's HiGHS); the sampler
returns JAX arrays.

References:
  Boros, E. and Prekopa, A. (1989). Closed form two-sided bounds for probabilities that
  at least r and exactly r out of n events occur. Mathematics of Operations Research
  14(2), 317-342.
  Prekopa, A. (1990). The discrete moment problem and linear programming. Discrete
  Applied Mathematics 27, 235-254.
  Huangfu, Q. and Hall, J. A. J. (2018). Parallelizing the dual revised simplex method.
  Mathematical Programming Computation 10, 119-142 (HiGHS).
  Bernstein, S. N. (1946). Theory of Probability (pairwise independent events that are
  not mutually independent; the three-variable parity example).
  Pearson, K. (1900). Mathematical contributions to the theory of evolution VII: on the
  correlation of characters not quantitatively measurable (tetrachoric correlation).
"""

from __future__ import annotations

import functools
import math
from typing import NamedTuple

import numpy as np

__all__ = [
    "ErrorLaw", "BetaBounds", "GaussianBeta", "Counterexample", "LawStats", "SimulationCheck",
    "IdentifyResult", "pairwise_rates", "exchangeable_rates", "check_pairwise_rates",
    "law_from_table", "law_from_counts", "beta_bounds_lp", "beta_bounds_moments",
    "beta_bounds", "tetrachoric_matrix", "gaussian_copula_beta", "counterexample",
    "sample_law", "simulate_law_stats", "verify_by_simulation", "identify",
]

MAX_EXACT_K = 16
"""Largest k for which :func:`beta_bounds` uses the exact 2^k-atom LP by default."""

_FEAS_TOL = 1e-9


# ---------------------------------------------------------------------------------------
# Result types
# ---------------------------------------------------------------------------------------
class ErrorLaw(NamedTuple):
    """A joint law of k binary error indicators and its pairwise statistics.

    Attributes:
      k: number of models.
      table: float64 (2^k,) atom probabilities (bit i of the index = model i wrong), or
        None when k is too large to tabulate.
      counts: float64 (k + 1,) distribution of the number of wrong models S, always set.
        For an exchangeable law it determines the law.
      exchangeable: True when the law is the exchangeable law with ``counts`` (every
        subset of size s equally likely given S = s).
      p: float64 (k,) marginal error rates.
      p2: float64 (k, k) both-wrong rates P(i and j wrong); diagonal = p.
      pearson: float64 (k, k) Pearson (phi) correlations of the error indicators (NaN
        where a model never or always errs).
      tetrachoric: float64 (k, k) tetrachoric correlations implied by (p_i, p_j, p_ij).
      beta: P(all k wrong).
      name: a label ("beta_min law", "beta_max law", ...).
    """

    k: int
    table: np.ndarray | None
    counts: np.ndarray
    exchangeable: bool
    p: np.ndarray
    p2: np.ndarray
    pearson: np.ndarray
    tetrachoric: np.ndarray
    beta: float
    name: str


class BetaBounds(NamedTuple):
    """The range of beta over all joint laws matching given marginal and pairwise rates.

    Attributes:
      beta_min, beta_max: the bounds (NaN unless ``status == "OK"``).
      lower_exact, upper_exact: True when the bound is attained by some law matching the
        inputs (sharp); False when it is a valid but possibly loose relaxation.
      method: ``"exact-lp"`` (2^k atoms), ``"exchangeable-lp"`` (k + 1 atoms, exact for an
        exchangeable pool) or ``"moment-relaxation"`` (k + 1 atoms on the sums of the
        rates, plus the three-model bounds on the upper side).
      status: ``"OK"``, ``"INCONSISTENT"`` (the rates violate a necessary condition, named
        in ``message``), ``"INFEASIBLE"`` (no joint law has these rates) or ``"LP_FAILED"``.
      message: what was found and what to do.
      law_min, law_max: extremal laws attaining the bounds (None for a relaxation or a
        failure).
      k: number of models.
    """

    beta_min: float
    beta_max: float
    lower_exact: bool
    upper_exact: bool
    method: str
    status: str
    message: str
    law_min: ErrorLaw | None
    law_max: ErrorLaw | None
    k: int

    def to_dict(self) -> dict:
        return {"beta_min": self.beta_min, "beta_max": self.beta_max,
                "lower_exact": self.lower_exact, "upper_exact": self.upper_exact,
                "method": self.method, "status": self.status, "message": self.message,
                "k": self.k}


class GaussianBeta(NamedTuple):
    """beta implied by the Gaussian copula calibrated to the pairwise tables.

    Attributes:
      beta: P(Z_i < tau_i for all i), Z ~ N(0, R), tau_i = Phi^-1(p_i), R the tetrachoric
        correlations (NaN on failure).
      abs_err: numerical error bound or estimate of ``beta`` (quadrature / Genz).
      rho: (k, k) the correlation matrix used (after repair if it was not PSD).
      method: ``"one-factor-quadrature"`` or ``"genz"`` (scipy's multivariate normal CDF)
        or ``"degenerate"``.
      status: ``"OK"``, ``"REPAIRED"`` (tetrachoric matrix not positive semidefinite;
        eigenvalues clipped), or ``"UNAVAILABLE"`` (see message).
      message: details.
    """

    beta: float
    abs_err: float
    rho: np.ndarray
    method: str
    status: str
    message: str


class Counterexample(NamedTuple):
    """Two joint error laws with the same marginals and pairwise tables but different beta.

    Attributes:
      bounds: the :class:`BetaBounds` (with ``law_min`` / ``law_max``).
      law_min, law_max: the extremal laws.
      gaussian: the Gaussian-copula beta for the same pairwise tables.
      independent_beta: prod p_i, the value under independence (for reference).
    """

    bounds: BetaBounds
    law_min: ErrorLaw
    law_max: ErrorLaw
    gaussian: GaussianBeta
    independent_beta: float


class LawStats(NamedTuple):
    """Empirical statistics of n draws from a law (streamed: no matrix is kept).

    Attributes:
      n: draws.
      p, p_se: (k,) empirical error rates and binomial standard errors ((m,) for a large
        exchangeable law, see :func:`simulate_law_stats`).
      p2, p2_se: (m, m) empirical both-wrong rates of the first m = min(k, 64) models.
      pearson, pearson_se: (m, m) empirical Pearson correlations, delta-method s.e.
      beta, beta_se: empirical all-wrong rate and its binomial s.e.
      count_hist: (k + 1,) draws with s wrong models.
    """

    n: int
    p: np.ndarray
    p_se: np.ndarray
    p2: np.ndarray
    p2_se: np.ndarray
    pearson: np.ndarray
    pearson_se: np.ndarray
    beta: float
    beta_se: float
    count_hist: np.ndarray


class SimulationCheck(NamedTuple):
    """Simulation check of a counterexample pair.

    Attributes:
      stats_min, stats_max: :class:`LawStats` of each law.
      max_z_marginal, max_z_pairwise, max_z_pearson: largest |empirical - truth| / s.e.
        over laws and models / pairs (small: the pairwise statistics agree).
      z_beta: (beta_max_hat - beta_min_hat) / combined s.e. (large: beta differs).
      agree: every pairwise statistic within ``z_tol`` s.e. of its truth.
      beta_differs: ``z_beta > z_tol``.
      z_tol: the threshold used.
      seed_info: how the keys were derived.
    """

    stats_min: LawStats
    stats_max: LawStats
    max_z_marginal: float
    max_z_pairwise: float
    max_z_pearson: float
    z_beta: float
    agree: bool
    beta_differs: bool
    z_tol: float
    seed_info: str


class IdentifyResult(NamedTuple):
    """Observed beta against the pairwise-identified range for a real pool.

    Attributes:
      n, k: queries and models.
      beta_observed: share of queries with every model wrong.
      bounds: :class:`BetaBounds` from the observed p_i and p_ij.
      gaussian: :class:`GaussianBeta` from the same rates.
      p: (k,) observed error rates; p2: (k, k) observed both-wrong rates.
      exchangeable: whether the observed rates are exactly exchangeable.
      inside: beta_observed lies in [beta_min, beta_max] (up to LP tolerance).
    """

    n: int
    k: int
    beta_observed: float
    bounds: BetaBounds
    gaussian: GaussianBeta
    p: np.ndarray
    p2: np.ndarray
    exchangeable: bool
    inside: bool


# ---------------------------------------------------------------------------------------
# Rates
# ---------------------------------------------------------------------------------------
def pairwise_rates(errors, weights=None) -> tuple[np.ndarray, np.ndarray]:
    """Marginal and pairwise both-wrong rates of an error matrix.

    Args:
      errors: bool (n, k), True = wrong.
      weights: optional (n,) nonnegative query weights.

    Returns:
      ``(p, p2)``: float64 (k,) error rates and (k, k) both-wrong rates, diag(p2) = p.
    """
    e = np.asarray(errors).astype(np.float64)
    if e.ndim != 2:
        raise ValueError(f"pairwise_rates: errors must be (n, k), got shape {e.shape}")
    w = np.ones(e.shape[0]) if weights is None else np.asarray(weights, dtype=np.float64)
    if w.shape != (e.shape[0],):
        raise ValueError(f"pairwise_rates: weights must be ({e.shape[0]},), got {w.shape}")
    w = w / w.sum()
    p2 = (e * w[:, None]).T @ e
    p2 = 0.5 * (p2 + p2.T)
    return np.diag(p2).copy(), p2


def exchangeable_rates(k: int, p: float, p2: float | None = None, *, rho: float | None = None,
                       rho_tetrachoric: float | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Rates of an exchangeable pool: every model errs at ``p``, every pair both at ``p2``.

    Give exactly one of ``p2`` (both-wrong rate), ``rho`` (Pearson/phi correlation of the
    error indicators: p2 = p^2 + rho p (1 - p)) or ``rho_tetrachoric`` (latent Gaussian
    correlation: p2 = Phi_2(tau, tau; rho), tau = Phi^-1(p)).

    Returns:
      ``(p, p2)`` as (k,) and (k, k) arrays.
    """
    given = [v is not None for v in (p2, rho, rho_tetrachoric)]
    if sum(given) != 1:
        raise ValueError("exchangeable_rates: give exactly one of p2, rho, rho_tetrachoric")
    if rho is not None:
        p2 = p * p + rho * p * (1 - p)
    elif rho_tetrachoric is not None:
        from scipy.special import ndtri

        t = float(ndtri(p))
        p2 = float(_bvn_cdf(np.array([t]), np.array([t]), np.array([rho_tetrachoric]))[0])
    pv = np.full(k, float(p))
    P = np.full((k, k), float(p2))
    np.fill_diagonal(P, pv)
    return pv, P


def _as_rates(p, p2) -> tuple[np.ndarray, np.ndarray]:
    p = np.asarray(p, dtype=np.float64)
    p2 = np.asarray(p2, dtype=np.float64)
    if p.ndim != 1:
        raise ValueError(f"p must be (k,), got shape {p.shape}")
    k = p.shape[0]
    if p2.shape != (k, k):
        raise ValueError(f"p2 must be ({k}, {k}) to match p, got {p2.shape}")
    p2 = p2.copy()
    np.fill_diagonal(p2, p)
    return p, p2


def check_pairwise_rates(p, p2, tol: float = _FEAS_TOL) -> tuple[str, str]:
    """Necessary conditions for (p, p2) to come from a joint law of binary variables.

    Checks 0 <= p_i <= 1, symmetry, the Frechet bounds max(0, p_i + p_j - 1) <= p_ij <=
    min(p_i, p_j), and, for every three models, that some value of P(i, j, l all wrong)
    keeps all eight cells of their 2x2x2 table nonnegative. For k <= 3 these conditions
    are also sufficient; for larger k the exact LP decides.

    Returns:
      ``(status, message)``: ``("OK", "")`` or ``("INCONSISTENT", <the first violation>)``.
    """
    p = np.asarray(p, dtype=np.float64)
    p2 = np.asarray(p2, dtype=np.float64)
    k = p.shape[0]
    if not np.all(np.isfinite(p)) or not np.all(np.isfinite(p2)):
        return "INCONSISTENT", "rates contain NaN or inf"
    bad = np.flatnonzero((p < -tol) | (p > 1 + tol))
    if bad.size:
        i = bad[0]
        return "INCONSISTENT", f"error rate p[{i}] = {p[i]:.6g} is outside [0, 1]"
    asym = np.abs(p2 - p2.T) > tol
    if asym.any():
        i, j = np.argwhere(asym)[0]
        return "INCONSISTENT", f"p2 is not symmetric: p2[{i},{j}] = {p2[i, j]:.6g} != p2[{j},{i}]"
    iu, ju = np.triu_indices(k, 1)
    pij = p2[iu, ju]
    hi = np.minimum(p[iu], p[ju])
    lo = np.maximum(0.0, p[iu] + p[ju] - 1.0)
    over = np.flatnonzero(pij > hi + tol)
    if over.size:
        m = over[0]
        i, j = iu[m], ju[m]
        return "INCONSISTENT", (f"p2[{i},{j}] = {pij[m]:.6g} exceeds min(p[{i}], p[{j}]) = "
                                f"{hi[m]:.6g}: "
                                "two models cannot both be wrong more often than either is wrong")
    under = np.flatnonzero(pij < lo - tol)
    if under.size:
        m = under[0]
        i, j = iu[m], ju[m]
        if pij[m] < 0:
            return "INCONSISTENT", (f"p2[{i},{j}] = {pij[m]:.6g} is negative: the pairwise "
                                    "correlation is below the smallest these error rates allow")
        return "INCONSISTENT", (f"p[{i}] + p[{j}] - p2[{i},{j}] = {p[i] + p[j] - pij[m]:.6g} > 1: "
                                f"P(model {i} or {j} wrong) cannot exceed 1")
    if 3 <= k <= 200:
        a, b, c = (np.asarray(t) for t in zip(*_triples(k)))
        pa, pb, pc = p[a], p[b], p[c]
        pab, pac, pbc = p2[a, b], p2[a, c], p2[b, c]
        t_lo = np.maximum.reduce([np.zeros_like(pa), pab + pac - pa, pab + pbc - pb,
                                  pac + pbc - pc])
        t_hi = np.minimum.reduce([pab, pac, pbc, 1 - pa - pb - pc + pab + pac + pbc])
        viol = np.flatnonzero(t_lo > t_hi + tol)
        if viol.size:
            m = viol[0]
            return "INCONSISTENT", (
                f"models {a[m]}, {b[m]}, {c[m]}: no 2x2x2 table has these rates (P(all three "
                f"wrong) would need to be >= {t_lo[m]:.6g} and <= {t_hi[m]:.6g}); the pairwise "
                "correlations are jointly too negative or too positive")
    return "OK", ""


@functools.lru_cache(maxsize=8)
def _triples(k: int) -> tuple[tuple[int, int, int], ...]:
    import itertools

    return tuple(itertools.combinations(range(k), 3))


def _triple_upper(p, p2) -> float:
    """min over triples of the exact three-model upper bound on P(all three wrong)."""
    k = p.shape[0]
    if k < 3 or k > 200:
        return float("inf")
    a, b, c = (np.asarray(t) for t in zip(*_triples(k)))
    t_hi = np.minimum.reduce([p2[a, b], p2[a, c], p2[b, c],
                              1 - p[a] - p[b] - p[c] + p2[a, b] + p2[a, c] + p2[b, c]])
    return float(t_hi.min())


# ---------------------------------------------------------------------------------------
# Law statistics
# ---------------------------------------------------------------------------------------
@functools.lru_cache(maxsize=4)
def _atom_design(k: int):
    """Sparse (1 + k + k(k-1)/2, 2^k) constraint matrix of the atom LP, built with bit
    arithmetic on arange(2^k): row 0 sums all atoms, rows 1..k pick atoms where bit i is
    set, the rest atoms where bits i and j are both set."""
    import scipy.sparse as sp

    atoms = np.arange(1 << k, dtype=np.int64)
    bits = ((atoms[:, None] >> np.arange(k, dtype=np.int64)) & 1).astype(bool)  # (2^k, k)
    iu, ju = np.triu_indices(k, 1)
    pair = bits[:, iu] & bits[:, ju]  # (2^k, m)
    ind = np.concatenate([np.ones((1 << k, 1), dtype=bool), bits, pair], axis=1)
    col, row = np.nonzero(ind)
    A = sp.csr_array((np.ones(row.shape[0]), (row, col)), shape=(ind.shape[1], 1 << k))
    return A, bits, iu, ju


def _pearson_from_rates(p, p2) -> np.ndarray:
    v = p * (1 - p)
    with np.errstate(invalid="ignore", divide="ignore"):
        r = (p2 - np.outer(p, p)) / np.sqrt(np.outer(v, v))
    r[~np.isfinite(r)] = np.nan
    return r


def law_from_table(table, name: str = "law") -> ErrorLaw:
    """An :class:`ErrorLaw` from a probability table over the 2^k atoms."""
    x = np.clip(np.asarray(table, dtype=np.float64), 0.0, None)
    x = x / x.sum()
    k = int(round(math.log2(x.shape[0])))
    if x.shape[0] != 1 << k:
        raise ValueError(f"law_from_table: table length must be a power of 2, got {x.shape[0]}")
    _, bits, _, _ = _atom_design(k)
    bf = bits.astype(np.float64)
    p = bf.T @ x
    p2 = (bf * x[:, None]).T @ bf
    counts = np.bincount(bits.sum(axis=1), weights=x, minlength=k + 1)
    return _finish_law(k, x, counts, False, p, p2, float(x[-1]), name)


def law_from_counts(counts, name: str = "law", table_max_k: int = MAX_EXACT_K) -> ErrorLaw:
    """The exchangeable :class:`ErrorLaw` whose number of wrong models S has ``counts``.

    Given S = s, each of the C(k, s) subsets of wrong models is equally likely, so
    p_i = E[S]/k, p_ij = E[S(S-1)]/(k(k-1)) and beta = P(S = k).
    """
    q = np.clip(np.asarray(counts, dtype=np.float64), 0.0, None)
    q = q / q.sum()
    k = q.shape[0] - 1
    s = np.arange(k + 1, dtype=np.float64)
    pm = float(q @ s) / k
    pp = float(q @ (s * (s - 1))) / (k * (k - 1)) if k > 1 else pm
    p, p2 = exchangeable_rates(k, pm, pp)
    table = None
    if k <= table_max_k:
        _, bits, _, _ = _atom_design(k)
        pop = bits.sum(axis=1)
        comb = np.array([math.comb(k, int(j)) for j in range(k + 1)], dtype=np.float64)
        table = q[pop] / comb[pop]
    return _finish_law(k, table, q, True, p, p2, float(q[-1]), name)


def _finish_law(k, table, counts, exch, p, p2, beta, name) -> ErrorLaw:
    p2 = 0.5 * (p2 + p2.T)
    np.fill_diagonal(p2, p)
    if exch and k > 2:  # one pair determines every pair
        pear = np.full((k, k), _pearson_from_rates(p[:2], p2[:2, :2])[0, 1])
        tet = np.full((k, k), tetrachoric_matrix(p[:2], p2[:2, :2])[0, 1])
        np.fill_diagonal(tet, 1.0)
    else:
        pear = _pearson_from_rates(p, p2)
        tet = tetrachoric_matrix(p, p2)
    np.fill_diagonal(pear, 1.0)
    return ErrorLaw(k=k, table=table, counts=counts, exchangeable=exch, p=p, p2=p2,
                    pearson=pear, tetrachoric=tet, beta=beta, name=name)


# ---------------------------------------------------------------------------------------
# Bounds
# ---------------------------------------------------------------------------------------
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


def _is_exchangeable(p, p2, tol=1e-12) -> bool:
    k = p.shape[0]
    if k < 2:
        return True
    iu, ju = np.triu_indices(k, 1)
    off = p2[iu, ju]
    return bool(np.ptp(p) <= tol and np.ptp(off) <= tol)


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


# ---------------------------------------------------------------------------------------
# Tetrachoric correlation and the Gaussian copula
# ---------------------------------------------------------------------------------------
def _bvn_cdf(h, k, rho) -> np.ndarray:
    """P(X <= h, Y <= k), standard bivariate normal (the project's :func:`bvn_cdf`)."""
    from .bvn import bvn_cdf

    return np.asarray(bvn_cdf(np.asarray(h, np.float64), np.asarray(k, np.float64),
                              np.asarray(rho, np.float64)))


def tetrachoric_matrix(p, p2) -> np.ndarray:
    """Tetrachoric correlations implied by error rates and both-wrong rates.

    Solves Phi_2(tau_i, tau_j; rho_ij) = p_ij, tau_i = Phi^-1(p_i), once per distinct
    (p_i, p_j, p_ij) (so an exchangeable pool is one solve), with the project's
    :func:`cofail_jax.tetrachoric_from_rates`. NaN where p_i is 0 or 1; -1 / +1 at the
    Frechet bounds.

    Args:
      p: (k,) error rates; p2: (k, k) both-wrong rates.

    Returns:
      float64 (k, k) with unit diagonal.

    References:
      Pearson (1900), see the module docstring.
    """
    from .tetrachoric import tetrachoric_from_rates

    p = np.asarray(p, dtype=np.float64)
    p2 = np.asarray(p2, dtype=np.float64)
    k = p.shape[0]
    R = np.eye(k)
    if k < 2:
        return R
    iu, ju = np.triu_indices(k, 1)
    trip, inv = np.unique(np.stack([np.minimum(p[iu], p[ju]), np.maximum(p[iu], p[ju]),
                                    p2[iu, ju]], axis=1), axis=0, return_inverse=True)
    res = tetrachoric_from_rates(trip[:, 0], trip[:, 1], trip[:, 2])
    r = np.asarray(res.rho)[inv.reshape(-1)]
    R[iu, ju] = r
    R[ju, iu] = r
    return R


def gaussian_copula_beta(p, p2, *, rho=None, seed: int = 0,
                         n_samples: int = 2 ** 16) -> GaussianBeta:
    """beta under the Gaussian copula calibrated to the marginal and pairwise tables.

    Model: model i is wrong when Z_i < tau_i = Phi^-1(p_i), Z ~ N(0, R), R the tetrachoric
    correlations of the pairwise 2x2 tables, so every marginal and pairwise table is
    matched; beta = Phi_k(tau; R). Exchangeable inputs with rho >= 0 use the one-factor
    quadrature (:func:`cofail_jax.equal_loading_log_beta`, any k); otherwise the
    project's orthant estimator (:func:`cofail_jax.mvn_orthant`, QMC-SOV with its
    standard error over random shifts) under the fixed key ``jax.random.key(seed)``. A
    non-PSD R is replaced by the nearest correlation matrix (Higham 2002) and flagged
    ``"REPAIRED"``.

    Args:
      p: (k,) error rates; p2: (k, k) both-wrong rates.
      rho: optional precomputed tetrachoric matrix.
      seed: seed of the orthant estimator's key (recorded by the CLI).
      n_samples: orthant estimator points.

    Returns:
      :class:`GaussianBeta`.

    References:
      Genz, A. (1992). Numerical computation of multivariate normal probabilities.
      J. Comput. Graph. Statist. 1, 141-149.
      Vasicek, O. (1987). Probability of loss on loan portfolio (one-factor model).
      Higham, N. J. (2002). Computing the nearest correlation matrix. IMA J. Numer.
      Anal. 22, 329-343.
    """
    p, p2 = _as_rates(p, p2)
    k = p.shape[0]
    if rho is not None:
        R = np.asarray(rho, dtype=np.float64)
    elif _is_exchangeable(p, p2) and k > 2:
        R = np.full((k, k), tetrachoric_matrix(p[:2], p2[:2, :2])[0, 1])
        np.fill_diagonal(R, 1.0)
    else:
        R = tetrachoric_matrix(p, p2)
    if np.any(p <= 0):
        return GaussianBeta(0.0, 0.0, R, "degenerate", "OK", "a model is never wrong: beta = 0")
    keep = p < 1
    if not keep.any():
        return GaussianBeta(1.0, 0.0, R, "degenerate", "OK", "every model is always wrong")
    import jax
    import jax.numpy as jnp
    from scipy.special import ndtri

    pk, Rk = p[keep], R[np.ix_(keep, keep)]
    kk = pk.shape[0]
    tau = ndtri(pk)
    if kk == 1:
        return GaussianBeta(float(pk[0]), 0.0, R, "degenerate", "OK", "one model with 0 < p < 1")
    if np.any(~np.isfinite(Rk)):
        return GaussianBeta(float("nan"), float("nan"), R, "none", "UNAVAILABLE",
                            "tetrachoric correlation undefined")
    iu, ju = np.triu_indices(kk, 1)
    off = Rk[iu, ju]
    if np.ptp(pk) <= 1e-12 and np.ptp(off) <= 1e-10 and off[0] >= -1e-10:
        from .onefactor import equal_loading_log_beta

        r = max(float(off[0]), 0.0)
        if r >= 1 - 1e-9:
            return GaussianBeta(float(pk[0]), 0.0, R, "one-factor-quadrature", "OK",
                                "comonotone latent factors: beta = p")
        beta = math.exp(float(equal_loading_log_beta(jnp.asarray(tau), r)))
        return GaussianBeta(beta, 1e-8 * beta, R, "one-factor-quadrature", "OK",
                            f"exchangeable, latent correlation {r:.6g} (relative error < 1e-8)")
    from .orthant import METHODS, mvn_orthant
    from .repair import nearest_correlation

    w = np.linalg.eigvalsh(Rk)
    repaired = bool(w.min() < 1e-10)
    Rr = np.asarray(nearest_correlation(Rk, eps=1e-8).corr) if repaired else Rk
    res = mvn_orthant(jax.random.key(seed), jnp.asarray(tau), jnp.asarray(Rr), method="qmc",
                      n_samples=n_samples, devices=None)
    Rout = R.copy()
    Rout[np.ix_(keep, keep)] = Rr
    method = f"orthant-{METHODS[int(res.method)]}"
    if int(res.status) != 0:
        return GaussianBeta(float(res.prob), float(res.std_err), Rout, method, "UNAVAILABLE",
                            f"orthant estimator status {int(res.status)}")
    return GaussianBeta(float(res.prob), float(res.std_err), Rout, method,
                        "REPAIRED" if repaired else "OK",
                        ("tetrachoric matrix was not positive definite: replaced by the nearest "
                         "correlation matrix; " if repaired else "")
                        + f"{int(res.n_samples)} points, seed {seed}; abs_err is the standard "
                        "error")


# ---------------------------------------------------------------------------------------
# Counterexamples
# ---------------------------------------------------------------------------------------
def counterexample(k: int, p, p2=None, *, rho=None, rho_tetrachoric=None,
                   max_exact_k: int = MAX_EXACT_K) -> Counterexample:
    """Two joint error laws with identical marginals and pairwise tables, extreme beta.

    For an exchangeable specification (one error rate p, one pairwise both-wrong rate p2,
    or a Pearson ``rho`` or latent ``rho_tetrachoric`` instead) the extremal laws are
    exchangeable count distributions (any k); for per-model rates ``p`` (length k) and a
    (k, k) ``p2`` the exact atom LP is used (k <= ``max_exact_k``).

    The classic case k = 3, p = 1/2, p2 = 1/4 (pairwise independent) gives beta = 0 (an
    even number of models wrong, the parity law) and beta = 1/4 (one or three wrong).

    Args:
      k: number of models.
      p: error rate (scalar, exchangeable) or (k,) rates.
      p2: both-wrong rate (scalar) or (k, k) matrix.
      rho: Pearson (phi) correlation of the error indicators, instead of p2 (scalar).
      rho_tetrachoric: latent Gaussian correlation, instead of p2 (scalar).

    Returns:
      :class:`Counterexample`; if the inputs are inconsistent, ``bounds.status`` says so
      and the laws are None.

    Examples:
      >>> ce = counterexample(3, 0.5, 0.25)
      >>> round(ce.law_min.beta, 9), round(ce.law_max.beta, 9)
      (0.0, 0.25)
    """
    if np.ndim(p) == 0:
        if np.ndim(p2) not in (0,) and p2 is not None:
            raise ValueError("counterexample: with a scalar p give a scalar p2")
        pv, P = exchangeable_rates(k, float(p), None if p2 is None else float(p2), rho=rho,
                                   rho_tetrachoric=rho_tetrachoric)
    else:
        pv = np.asarray(p, dtype=np.float64)
        if pv.shape != (k,):
            raise ValueError(f"counterexample: p must be scalar or ({k},), got {pv.shape}")
        if p2 is not None and np.ndim(p2) == 2:
            P = np.asarray(p2, dtype=np.float64)
        else:
            v = pv * (1 - pv)
            if p2 is not None:
                P = np.full((k, k), float(p2))
            elif rho is not None:
                P = np.outer(pv, pv) + rho * np.sqrt(np.outer(v, v))
            elif rho_tetrachoric is not None:
                from scipy.special import ndtri

                t = ndtri(pv)
                P = _bvn_cdf(t[:, None] + 0 * t[None, :], t[None, :] + 0 * t[:, None],
                             np.full((k, k), float(rho_tetrachoric)))
            else:
                raise ValueError("counterexample: give p2, rho or rho_tetrachoric")
        pv, P = _as_rates(pv, P)
    bounds = beta_bounds(pv, P, max_exact_k=max_exact_k, laws=True)
    gauss = (gaussian_copula_beta(pv, P) if bounds.status == "OK" else
             GaussianBeta(float("nan"), float("nan"), np.full((k, k), np.nan), "none",
                          "UNAVAILABLE", "inputs inconsistent"))
    return Counterexample(bounds, bounds.law_min, bounds.law_max, gauss, float(np.prod(pv)))


# ---------------------------------------------------------------------------------------
# Sampler (JAX)
# ---------------------------------------------------------------------------------------
def _law_kind(law: ErrorLaw) -> str:
    if law.table is not None and law.k <= 20:
        return "table"
    if law.exchangeable:
        return "counts"
    raise ValueError("sampler: the law has neither a table nor an exchangeable count law")


@functools.lru_cache(maxsize=32)
def _chunk_sampler(kind: str, k: int, chunk: int):
    """A function (key, cdf) -> bool (chunk, k) errors for one chunk."""
    import jax
    import jax.numpy as jnp

    shifts = jnp.arange(k, dtype=jnp.int32)

    def draw(key, cdf):
        key_atom, key_perm = jax.random.split(key)
        u = jax.random.uniform(key_atom, (chunk,), dtype=cdf.dtype)
        idx = jnp.minimum(jnp.searchsorted(cdf, u, side="right"), cdf.shape[0] - 1)
        idx = idx.astype(jnp.int32)
        if kind == "table":
            return ((idx[:, None] >> shifts[None, :]) & 1).astype(bool)
        # counts: S = idx wrong models, a uniformly random subset of that size.
        v = jax.random.uniform(key_perm, (chunk, k), dtype=cdf.dtype)
        thr = jnp.take_along_axis(jnp.sort(v, axis=1), jnp.maximum(idx - 1, 0)[:, None], axis=1)
        return (v <= thr) & (idx[:, None] > 0)

    return draw


def _law_cdf(law: ErrorLaw):
    import jax.numpy as jnp

    probs = law.table if _law_kind(law) == "table" else law.counts
    cdf = np.cumsum(probs)
    cdf = cdf / cdf[-1]
    return jnp.asarray(cdf, dtype=jnp.float64)


@functools.lru_cache(maxsize=32)
def _sample_fn(kind: str, k: int, chunk: int, n_chunks: int):
    import jax

    draw = _chunk_sampler(kind, k, chunk)

    @jax.jit
    def sample(key, cdf):
        out = jax.lax.map(lambda c: draw(jax.random.fold_in(key, c), cdf),
                          jax.numpy.arange(n_chunks))
        return out.reshape(n_chunks * chunk, k)

    return sample


def sample_law(key, law: ErrorLaw, n: int, *, chunk_size: int = 1 << 16):
    """Draw an outcome matrix of n queries from a joint error law (JAX).

    A query is one inverse-CDF draw over the 2^k atoms (``searchsorted`` on the cumulative
    table), then its bits; for an exchangeable count law, a draw of the number S of wrong
    models then a uniformly random subset of size S. Chunk c uses
    ``jax.random.fold_in(key, c)``, so the rows equal those :func:`simulate_law_stats` counts.

    Args:
      key: a JAX PRNG key.
      law: an :class:`ErrorLaw`.
      n: number of queries.
      chunk_size: rows per chunk.

    Returns:
      bool jax.Array (n, k), True = wrong.
    """
    kind = _law_kind(law)
    chunk = int(min(chunk_size, max(n, 1)))
    n_chunks = -(-n // chunk)
    out = _sample_fn(kind, law.k, chunk, n_chunks)(key, _law_cdf(law))
    return out[:n]


@functools.lru_cache(maxsize=32)
def _stats_fn(kind: str, k: int, m: int, chunk: int, n_chunks: int):
    import jax
    import jax.numpy as jnp

    draw = _chunk_sampler(kind, k, chunk)
    # Exchangeable law with more models than are tracked: draw S, then only the first m
    # models' bits, sequentially (model j is wrong with probability (S - wrong so far) /
    # (k - j)): exactly the first m coordinates of a uniform random S-subset, O(m) a row.
    partial = kind == "counts" and m < k
    kt = m if partial else k

    def draw_partial(key, cdf):
        key_atom, key_seq = jax.random.split(key)
        u = jax.random.uniform(key_atom, (chunk,), dtype=cdf.dtype)
        S = jnp.minimum(jnp.searchsorted(cdf, u, side="right"), cdf.shape[0] - 1)
        S = S.astype(jnp.int32)
        v = jax.random.uniform(key_seq, (m, chunk), dtype=cdf.dtype)

        def step(w, xs):
            j, vj = xs
            bit = vj * (k - j) < (S - w)
            return w + bit.astype(jnp.int32), bit

        _, bits = jax.lax.scan(step, jnp.zeros(chunk, jnp.int32), (jnp.arange(m), v))
        return bits.T, S

    @jax.jit
    def stats(key, cdf, n):
        def body(c, carry):
            ni, nij, hist = carry
            valid = (c * chunk + jnp.arange(chunk)) < n
            if partial:
                e, s = draw_partial(jax.random.fold_in(key, c), cdf)
            else:
                e = draw(jax.random.fold_in(key, c), cdf)
                s = e.sum(1)
            e = e & valid[:, None]
            ef = e.astype(jnp.float32)
            ni = ni + ef.sum(0).astype(jnp.int64)
            em = ef[:, :m]
            nij = nij + jnp.round(em.T @ em).astype(jnp.int64)
            s = jnp.where(valid, s, k + 1)
            hist = hist + jnp.bincount(s, length=k + 2).astype(jnp.int64)
            return ni, nij, hist

        init = (jnp.zeros(kt, jnp.int64), jnp.zeros((m, m), jnp.int64),
                jnp.zeros(k + 2, jnp.int64))
        return jax.lax.fori_loop(0, n_chunks, body, init)

    return stats


def simulate_law_stats(key, law: ErrorLaw, n: int, *, chunk_size: int = 1 << 16,
                   max_pairs_models: int = 64) -> LawStats:
    """Empirical marginals, pairwise rates and correlations, and beta of n draws.

    Streams over chunks (memory O(chunk_size * k + k^2)); counts are exact integers. For
    an exchangeable count law with k > ``max_pairs_models`` only the first
    ``max_pairs_models`` models are drawn (sequentially, O(m) per row) besides the count S,
    so ``p`` then has that length; :func:`sample_law` always returns every model.
    Standard errors: binomial for rates and beta, delta method for Pearson correlations
    (multinomial covariance of the three indicator means).

    Args:
      key: JAX PRNG key (chunk c uses ``fold_in(key, c)``).
      law: the :class:`ErrorLaw`.
      n: draws.
      chunk_size: rows per chunk.
      max_pairs_models: pairwise statistics for the first this-many models.

    Returns:
      :class:`LawStats`.
    """
    import jax.numpy as jnp

    kind = _law_kind(law)
    k = law.k
    m = min(k, max_pairs_models)
    chunk = int(min(chunk_size, max(n, 1)))
    n_chunks = -(-n // chunk)
    ni, nij, hist = _stats_fn(kind, k, m, chunk, n_chunks)(key, _law_cdf(law), jnp.int64(n))
    ni, nij, hist = np.asarray(ni), np.asarray(nij), np.asarray(hist)[: k + 1]
    p = ni / n
    p2 = nij / n
    pm = p[:m]
    p_se = np.sqrt(p * (1 - p) / n)
    p2_se = np.sqrt(p2 * (1 - p2) / n)
    pear = _pearson_from_rates(pm, p2)
    a, b, c = pm[:, None], pm[None, :], p2
    with np.errstate(invalid="ignore", divide="ignore"):
        D = np.sqrt(a * (1 - a) * b * (1 - b))
        ga = -b / D - pear * (1 - 2 * a) / (2 * a * (1 - a))
        gb = -a / D - pear * (1 - 2 * b) / (2 * b * (1 - b))
        gc = 1 / D
        var = (ga * ga * a * (1 - a) + gb * gb * b * (1 - b) + gc * gc * c * (1 - c)
               + 2 * ga * gb * (c - a * b) + 2 * ga * gc * c * (1 - a) + 2 * gb * gc * c * (1 - b))
        pear_se = np.sqrt(np.clip(var, 0, None) / n)
    np.fill_diagonal(pear, 1.0)
    np.fill_diagonal(pear_se, 0.0)
    beta = hist[k] / n
    return LawStats(n=n, p=p, p_se=p_se, p2=p2, p2_se=p2_se, pearson=pear, pearson_se=pear_se,
                    beta=float(beta), beta_se=float(math.sqrt(beta * (1 - beta) / n)),
                    count_hist=hist)


def _max_z(est, se, truth, floor):
    est, se, truth = (np.asarray(v, dtype=np.float64) for v in (est, se, truth))
    ok = np.isfinite(est) & np.isfinite(truth)
    if not ok.any():
        return 0.0
    z = np.abs(est[ok] - truth[ok]) / np.maximum(se[ok], floor)
    return float(z.max())


def verify_by_simulation(key, law_min: ErrorLaw, law_max: ErrorLaw, n: int = 1_000_000, *,
                         z_tol: float | None = None, chunk_size: int = 1 << 16) -> SimulationCheck:
    """Draw n queries from each law; pairwise statistics agree, beta differs.

    For each law, compares empirical error rates, both-wrong rates and Pearson
    correlations with the law's exact values in units of their standard errors, and
    tests the beta difference against its combined standard error.

    Args:
      key: JAX PRNG key; the laws use ``fold_in(key, 0)`` and ``fold_in(key, 1)``.
      law_min, law_max: two laws with equal marginals and pairwise rates.
      n: draws per law (>= 1,000,000 for the published check).
      z_tol: threshold in standard errors; default max(4, the two-sided Bonferroni
        normal quantile at family level 1e-4 over all the comparisons made).

    Returns:
      :class:`SimulationCheck`.
    """
    import jax

    st = [simulate_law_stats(jax.random.fold_in(key, i), law, n, chunk_size=chunk_size)
          for i, law in enumerate((law_min, law_max))]
    floor = 1.0 / n
    if z_tol is None:
        from scipy.special import ndtri

        mm = st[0].p2.shape[0]
        n_tests = 2 * (st[0].p.shape[0] + mm * (mm + 1) // 2 + mm * (mm - 1) // 2)
        z_tol = max(4.0, float(-ndtri(1e-4 / (2 * n_tests))))
    zm = zp = zr = 0.0
    for s, law in zip(st, (law_min, law_max)):
        m = s.p2.shape[0]
        zm = max(zm, _max_z(s.p, s.p_se, law.p[: s.p.shape[0]], floor))
        zp = max(zp, _max_z(s.p2, s.p2_se, law.p2[:m, :m], floor))
        zr = max(zr, _max_z(s.pearson, s.pearson_se, law.pearson[:m, :m], floor))
    se = math.sqrt(st[0].beta_se ** 2 + st[1].beta_se ** 2)
    zb = (st[1].beta - st[0].beta) / max(se, floor)
    return SimulationCheck(st[0], st[1], zm, zp, zr, float(zb),
                           bool(max(zm, zp, zr) < z_tol), bool(zb > z_tol), z_tol,
                           "law_min: fold_in(key, 0); law_max: fold_in(key, 1); chunk c: "
                           "fold_in(., c)")


# ---------------------------------------------------------------------------------------
# Real pools
# ---------------------------------------------------------------------------------------
def identify(errors, *, max_exact_k: int = MAX_EXACT_K, weights=None) -> IdentifyResult:
    """Observed beta against the range the pool's pairwise statistics allow.

    Args:
      errors: bool (n, k), True = wrong (``OutcomeMatrix.errors``).
      max_exact_k: largest k for the exact 2^k-atom LP; larger pools get the relaxation.
      weights: optional query weights.

    Returns:
      :class:`IdentifyResult`. The empirical law itself matches its own rates, so the
      observed beta always lies inside an exact range (``inside`` checks it).
    """
    e = np.asarray(errors, dtype=bool)
    n, k = e.shape
    p, p2 = pairwise_rates(e, weights)
    w = np.ones(n) if weights is None else np.asarray(weights, dtype=np.float64)
    beta_obs = float((w * e.all(axis=1)).sum() / w.sum())
    bounds = beta_bounds(p, p2, max_exact_k=max_exact_k, laws=False)
    gauss = gaussian_copula_beta(p, p2)
    tol = 1e-7
    inside = bool(bounds.status == "OK"
                  and bounds.beta_min - tol <= beta_obs <= bounds.beta_max + tol)
    return IdentifyResult(n, k, beta_obs, bounds, gauss, p, p2, _is_exchangeable(p, p2), inside)
