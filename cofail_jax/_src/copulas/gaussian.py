"""Full-correlation Gaussian copula: the repaired tetrachoric matrix, orthant estimators.

The subset's tetrachoric matrix (boundary pairs at +-1) is repaired to a positive-definite
correlation matrix (:func:`.repair_matrix`: nearest correlation, eigenvalue floor
:data:`.EIG_FLOOR` by default) and P(Z <= tau) is estimated by QMC-SOV, minimax tilting
or plain Monte Carlo (:mod:`..orthant`); k = 2 reproduces the pair's both-wrong rate.
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp

from . import Copula, PairStats, PricingOptions, orthant_log_beta, repair_matrix


class Params(NamedTuple):
    tau: jax.Array  # (K,)
    corr: jax.Array  # (K, K) repaired, identity outside the subset
    repair: dict


def sample_gaussian(key, tau, corr, n: int):
    """(n, K) errors: Z = L e <= tau, L the Cholesky factor of corr."""
    L = jnp.linalg.cholesky(corr)
    e = jax.random.normal(key, (n, tau.shape[0]), tau.dtype)
    return e @ L.T <= tau[None, :]


def make(opts: PricingOptions) -> Copula:
    price = orthant_log_beta(opts)

    def calibrate(stats: PairStats, pair_w) -> Params:
        del pair_w  # every entry is needed; boundary pairs enter at +-1
        eye = jnp.eye(stats.tau.shape[0], dtype=stats.rho.dtype)
        corr, rep = repair_matrix(jnp.where(stats.pair, stats.rho, eye), stats.pair, opts)
        return Params(stats.tau, corr, rep)

    return Copula(
        name="gaussian", label="full-correlation Gaussian", colour="tab:green",
        calibrate=calibrate,
        log_beta=lambda key, p: price(key, p.tau, p.corr),
        sample=lambda key, p, n: sample_gaussian(key, p.tau, p.corr, n),
        tail_dependence=lambda p: jnp.where(jnp.abs(p.corr) >= 1.0, 1.0, 0.0),
        summary=lambda p: dict(p.repair))
