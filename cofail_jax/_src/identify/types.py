"""Result types of the non-identification analysis (laws, bounds, checks)."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

MAX_EXACT_K = 16
"""Largest k for which :func:`beta_bounds` uses the exact 2^k-atom LP by default."""

_FEAS_TOL = 1e-9


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
        eigenvalues clipped), ``"UNAVAILABLE"`` or ``"SKIPPED"`` (more models than
        ``full_corr_max_k``: unaffordable; see message).
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


