"""Fitted one-factor Gaussian copula: loadings fitted to the tetrachoric matrix.

Weighted least squares on ``rho_ij ~ lambda_i lambda_j`` over the calibrating pairs
(:func:`..onefactor.fit_loadings`, L-BFGS); the residual says how far the matrix is from
one-factor. Priced like :mod:`.equal_loading`.
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp

from .. import onefactor as _of
from . import Copula, PairStats, PricingOptions
from .equal_loading import factor_log_beta, factor_sample, factor_tail_dependence


class Params(NamedTuple):
    tau: jax.Array
    loadings: jax.Array
    residual_rms: jax.Array
    max_residual: jax.Array
    fit_status: jax.Array  # 0 ok, 1 a loading at the boundary (|lambda| > 0.999)


def make(opts: PricingOptions) -> Copula:
    price = factor_log_beta(opts)

    def calibrate(stats: PairStats, pair_w) -> Params:
        fit = _of.fit_loadings(jnp.where(pair_w > 0, stats.rho, 0.0), pair_w)
        return Params(stats.tau, fit.loadings, fit.residual_rms, fit.max_residual, fit.status)

    return Copula(
        name="fitted_loading", label="fitted one-factor", colour="tab:orange",
        calibrate=calibrate,
        log_beta=lambda key, p: price(key, p.tau, p.loadings),
        sample=lambda key, p, n: factor_sample(key, p.tau, p.loadings, n),
        tail_dependence=lambda p: factor_tail_dependence(p.loadings),
        summary=lambda p: {"residual_rms": p.residual_rms, "max_residual": p.max_residual,
                           "fit_status": p.fit_status, "loadings": p.loadings})
