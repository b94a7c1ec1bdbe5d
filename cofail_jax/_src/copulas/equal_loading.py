"""Equal-loading one-factor Gaussian copula (the equicorrelated copula).

Every loading is ``sqrt(rho_bar)``, ``rho_bar`` the mean tetrachoric correlation over the
calibrating pairs (clipped to [0, 1): an equicorrelated matrix with negative mean has no
one-factor form). Priced by the one-dimensional quadrature of :mod:`..onefactor`
(relative error < 1e-8), or by an orthant estimator on its full matrix.
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp

from .. import onefactor as _of
from . import QUADRATURE, Copula, PairStats, PricingOptions, estimate, mean_over, orthant_log_beta


class Params(NamedTuple):
    tau: jax.Array  # (K,) thresholds, +inf excludes a model
    loadings: jax.Array  # (K,)
    rho_bar: jax.Array  # () mean tetrachoric over the calibrating pairs


def factor_matrix(loadings):
    """The one-factor correlation matrix lambda lambda^T with a unit diagonal."""
    c = loadings[:, None] * loadings[None, :]
    return jnp.where(jnp.eye(loadings.shape[0], dtype=bool), 1.0, c)


def factor_log_beta(opts: PricingOptions):
    """(key, tau, loadings) -> Estimate: quadrature, or an orthant method on the matrix."""
    if opts.factor_method == "quadrature":
        def f(key, tau, lam):
            return estimate(_of.onefactor_log_beta(tau, lam), 0.0, 0, QUADRATURE, 0)
        return f
    orth = orthant_log_beta(opts, opts.factor_method)
    return lambda key, tau, lam: orth(key, tau, factor_matrix(lam))


def factor_sample(key, tau, lam, n: int):
    """(n, K) errors: Z = lambda F + sqrt(1 - lambda^2) E <= tau."""
    kf, ke = jax.random.split(key)
    f = jax.random.normal(kf, (n, 1), tau.dtype)
    e = jax.random.normal(ke, (n, tau.shape[0]), tau.dtype)
    return lam[None, :] * f + jnp.sqrt(1.0 - lam ** 2)[None, :] * e <= tau[None, :]


def factor_tail_dependence(lam):
    """Gaussian copulas have no tail dependence below |rho| = 1 (Nelsen 2006, ex. 5.22)."""
    return jnp.where(jnp.eye(lam.shape[0], dtype=bool), 1.0, 0.0)


def make(opts: PricingOptions) -> Copula:
    price = factor_log_beta(opts)

    def calibrate(stats: PairStats, pair_w) -> Params:
        rho_bar = mean_over(stats.rho, pair_w)
        lam = jnp.full(stats.tau.shape, jnp.sqrt(jnp.clip(rho_bar, 0.0, 1.0 - 1e-12)))
        return Params(stats.tau, lam, rho_bar)

    return Copula(
        name="equal_loading", label="equal-loading one-factor", colour="tab:blue",
        calibrate=calibrate,
        log_beta=lambda key, p: price(key, p.tau, p.loadings),
        sample=lambda key, p, n: factor_sample(key, p.tau, p.loadings, n),
        tail_dependence=lambda p: factor_tail_dependence(p.loadings),
        summary=lambda p: {"rho_bar": p.rho_bar, "loading": p.loadings[0]})
