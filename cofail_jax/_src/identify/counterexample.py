"""Two joint error laws with identical marginal and pairwise tables and extreme beta."""

from __future__ import annotations

import jax
import numpy as np

from .bounds import beta_bounds
from .gaussian import gaussian_copula_beta
from .rates import _as_rates, _bvn_cdf, exchangeable_rates
from .types import MAX_EXACT_K, Counterexample, GaussianBeta


def counterexample(k: int, p, p2=None, *, rho=None, rho_tetrachoric=None,
                   max_exact_k: int = MAX_EXACT_K, key=None) -> Counterexample:
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
      max_exact_k: largest k for the exact 2^k-atom LP.
      key: JAX PRNG key of the Gaussian value's orthant estimator when it needs one
        (non-exchangeable rates); None means ``jax.random.key(0)``.

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
    key = jax.random.key(0) if key is None else key
    gauss = (gaussian_copula_beta(key, pv, P) if bounds.status == "OK" else
             GaussianBeta(float("nan"), float("nan"), np.full((k, k), np.nan), "none",
                          "UNAVAILABLE", "inputs inconsistent"))
    return Counterexample(bounds, bounds.law_min, bounds.law_max, gauss, float(np.prod(pv)))

