"""beta under the Gaussian copula calibrated to the pairwise tables (tetrachoric correlations)."""

from __future__ import annotations

import math

import jax.numpy as jnp
import numpy as np
from scipy.special import ndtri

from ..onefactor import equal_loading_log_beta
from ..orthant import METHODS, mvn_orthant
from ..repair import nearest_correlation

from .rates import _as_rates, _is_exchangeable, tetrachoric_matrix
from .types import GaussianBeta

# The one compiled program of this module: the equal-loading quadrature (jitted where it
# is defined, in onefactor), fed thresholds padded with +inf (an excluded model, factor 1)
# to a power-of-two length >= 8, so pools of different sizes share a compilation.


def _pad_inf(tau: np.ndarray) -> np.ndarray:
    size = max(8, 1 << (tau.shape[0] - 1).bit_length())
    return np.concatenate([tau, np.full(size - tau.shape[0], np.inf)])


FULL_CORR_MAX_K = 500
"""Largest pool priced by the full-matrix Gaussian (repair O(k^3), QMC-SOV O(k^2) a
point); the sweep's ``full_corr_max_k`` default, the same concept."""


def gaussian_copula_beta(key, p, p2, *, rho=None, n_samples: int = 2 ** 16,
                         full_corr_max_k: int | None = FULL_CORR_MAX_K) -> GaussianBeta:
    """beta under the Gaussian copula calibrated to the marginal and pairwise tables.

    Model: model i is wrong when Z_i < tau_i = Phi^-1(p_i), Z ~ N(0, R), R the tetrachoric
    correlations of the pairwise 2x2 tables, so every marginal and pairwise table is
    matched; beta = Phi_k(tau; R). Exchangeable inputs with rho >= 0 use the one-factor
    quadrature (:func:`cofail_jax.equal_loading_log_beta`, any k); otherwise the
    project's orthant estimator (:func:`cofail_jax.mvn_orthant`, QMC-SOV with its
    standard error over random shifts) under ``key``. A
    non-PSD R is replaced by the nearest correlation matrix (Higham 2002) and flagged
    ``"REPAIRED"``.

    Args:
      key: JAX PRNG key of the orthant estimator's random shifts (unused by the
        quadrature branches).
      p: (k,) error rates; p2: (k, k) both-wrong rates.
      rho: optional precomputed tetrachoric matrix.
      n_samples: orthant estimator points.
      full_corr_max_k: above this many (non-degenerate, non-exchangeable) models the
        full-matrix estimate is not attempted: status ``"SKIPPED"``, NaN, and a message
        saying why (None: no limit). The tetrachoric matrix is still returned.

    Returns:
      :class:`GaussianBeta`.

    References:
      Genz, A. (1992). Numerical computation of multivariate normal probabilities.
      J. Comput. Graph. Statist. 1, 141-149.
      Vasicek, O. (1987). Probability of loss on loan portfolio (one-factor model).
      Higham, N. J. (2002). Computing the nearest correlation matrix. IMA J. Numer.
      Anal. 22, 329-343.

    Long: one early return per degenerate, exchangeable or unaffordable case, then the estimate.
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
        r = max(float(off[0]), 0.0)
        if r >= 1 - 1e-9:
            return GaussianBeta(float(pk[0]), 0.0, R, "one-factor-quadrature", "OK",
                                "comonotone latent factors: beta = p")
        beta = math.exp(float(equal_loading_log_beta(jnp.asarray(_pad_inf(tau)), r)))
        return GaussianBeta(beta, 1e-8 * beta, R, "one-factor-quadrature", "OK",
                            f"exchangeable, latent correlation {r:.6g} (relative error < 1e-8)")
    if full_corr_max_k is not None and kk > full_corr_max_k:
        flops = 10 * 10.0 * kk ** 3 + float(n_samples) * kk ** 2
        return GaussianBeta(float("nan"), float("nan"), R, "none", "SKIPPED",
                            f"unaffordable at k = {kk}: O(k^3) repair + QMC-SOV in dimension "
                            f"{kk} ({n_samples} points), about {flops:.2g} flops; k > "
                            f"full_corr_max_k = {full_corr_max_k} (raise it to price)")
    w = np.linalg.eigvalsh(Rk)
    repaired = bool(w.min() < 1e-10)
    Rr = np.asarray(nearest_correlation(Rk, eps=1e-8).corr) if repaired else Rk
    res = mvn_orthant(key, jnp.asarray(tau), jnp.asarray(Rr), method="qmc",
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
                        + f"{int(res.n_samples)} points; abs_err is the standard "
                        "error")

