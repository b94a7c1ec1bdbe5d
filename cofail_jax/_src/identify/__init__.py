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

import jax
import numpy as np

from .bounds import beta_bounds as beta_bounds
from .bounds import beta_bounds_lp as beta_bounds_lp
from .bounds import beta_bounds_moments as beta_bounds_moments
from .check import verify_by_simulation as verify_by_simulation
from .counterexample import counterexample as counterexample
from .gaussian import FULL_CORR_MAX_K as FULL_CORR_MAX_K
from .gaussian import gaussian_copula_beta as gaussian_copula_beta
from ..outcomes import outcome_array
from .rates import _is_exchangeable
from .rates import check_pairwise_rates as check_pairwise_rates
from .rates import exchangeable_rates as exchangeable_rates
from .rates import law_from_counts as law_from_counts
from .rates import law_from_table as law_from_table
from .rates import pairwise_rates as pairwise_rates
from .rates import tetrachoric_matrix as tetrachoric_matrix
from .sample import sample_law as sample_law
from .sample import simulate_law_stats as simulate_law_stats
from .types import MAX_EXACT_K as MAX_EXACT_K
from .types import BetaBounds as BetaBounds
from .types import Counterexample as Counterexample
from .types import ErrorLaw as ErrorLaw
from .types import GaussianBeta as GaussianBeta
from .types import IdentifyResult as IdentifyResult
from .types import LawStats as LawStats
from .types import SimulationCheck as SimulationCheck

__all__ = [
    "ErrorLaw", "BetaBounds", "GaussianBeta", "Counterexample", "LawStats", "SimulationCheck",
    "IdentifyResult", "pairwise_rates", "exchangeable_rates", "check_pairwise_rates",
    "law_from_table", "law_from_counts", "beta_bounds_lp", "beta_bounds_moments",
    "beta_bounds", "tetrachoric_matrix", "gaussian_copula_beta", "counterexample",
    "sample_law", "simulate_law_stats", "verify_by_simulation", "identify",
]


def identify(errors, *, max_exact_k: int = MAX_EXACT_K, weights=None, key=None,
             full_corr_max_k: int | None = FULL_CORR_MAX_K) -> IdentifyResult:
    """Observed beta against the range the pool's pairwise statistics allow.

    Args:
      errors: bool (n, k), True = wrong (``OutcomeMatrix.errors``).
      max_exact_k: largest k for the exact 2^k-atom LP; larger pools get the relaxation.
      weights: optional query weights.
      key: JAX PRNG key of the Gaussian value's orthant estimator (QMC random shifts);
        None means ``jax.random.key(0)``.
      full_corr_max_k: the Gaussian value is skipped (status ``"SKIPPED"``, NaN, with the
        reason) above this many models (:func:`gaussian_copula_beta`).

    Returns:
      :class:`IdentifyResult`. The empirical law itself matches its own rates, so the
      observed beta always lies inside an exact range (``inside`` checks it).
    """
    e = np.asarray(outcome_array(errors, "identify", kind="errors")[0], dtype=bool)
    n, k = e.shape
    p, p2 = pairwise_rates(e, weights)
    w = np.ones(n) if weights is None else np.asarray(weights, dtype=np.float64)
    beta_obs = float((w * e.all(axis=1)).sum() / w.sum())
    bounds = beta_bounds(p, p2, max_exact_k=max_exact_k, laws=False)
    gauss = gaussian_copula_beta(jax.random.key(0) if key is None else key, p, p2,
                                 full_corr_max_k=full_corr_max_k)
    tol = 1e-7
    inside = bool(bounds.status == "OK"
                  and bounds.beta_min - tol <= beta_obs <= bounds.beta_max + tol)
    return IdentifyResult(n, k, beta_obs, bounds, gauss, p, p2, _is_exchangeable(p, p2), inside)
