"""Independent numpy/scipy reference implementations (oracles) for the tests.

They used to live in ``cofail_jax._src.simulate``; the library now calls its JAX engines
(one code path, the pricing core) and the tests compare those engines with these:
the bivariate normal CDF by Plackett's reduction, the tetrachoric inversion by bisection,
principal-axis one-factor loadings, a trapezoid one-factor quadrature, eigenvalue-clipping
repair, and the pairwise-calibrated one-factor prediction.
"""

import math

import numpy as np
from scipy.special import log_ndtr, logsumexp, ndtri

_Z = np.linspace(-12.0, 12.0, 2401)
_LOGW_Z = -0.5 * _Z**2 - 0.5 * math.log(2 * math.pi) + math.log(_Z[1] - _Z[0])


def onefactor_log_beta(tau, lam) -> float:
    """log P(Z_i <= tau_i for all i), Z one-factor; trapezoid over the factor on [-12, 12]."""
    s = np.sqrt(1.0 - lam**2)
    arg = (tau[None, :] - lam[None, :] * _Z[:, None]) / s[None, :]
    return float(logsumexp(_LOGW_Z + log_ndtr(arg).sum(axis=1)))


def bvn_cdf(h, k, rho):
    """Bivariate standard normal CDF P(X <= h, Y <= k; rho), vectorised (numpy).

    Plackett's (1954) reduction: Phi(h)Phi(k) + (1/2pi) int_0^asin(rho) exp(-(h^2 - 2 hk
    sin t + k^2) / (2 cos^2 t)) dt, by 64-point Gauss-Legendre (accurate to ~1e-12 for
    |rho| <= 0.99).
    """
    from scipy.special import ndtr

    h, k, rho = np.broadcast_arrays(
        np.asarray(h, float), np.asarray(k, float), np.asarray(rho, float)
    )
    x, w = np.polynomial.legendre.leggauss(64)
    amax = np.arcsin(np.clip(rho, -1 + 1e-15, 1 - 1e-15))
    t = 0.5 * amax[..., None] * (x + 1.0)
    st, ct2 = np.sin(t), np.cos(t) ** 2
    hh, kk = h[..., None], k[..., None]
    f = np.exp(-(hh**2 - 2 * hh * kk * st + kk**2) / (2 * ct2))
    integral = 0.5 * amax * (f * w).sum(axis=-1) / (2 * math.pi)
    return ndtr(h) * ndtr(k) + integral


def tetrachoric_from_rates(p_wrong, both_wrong, *, rho_max: float = 0.995) -> np.ndarray:
    """Tetrachoric correlations from marginal and pairwise error rates (no sampling).

    Solves Phi_2(tau_i, tau_j; rho_ij) = P(i and j both wrong) with tau = Phi^-1(p) by
    vectorised bisection (the bivariate normal CDF is increasing in rho; Pearson 1900).
    Rates outside what a Gaussian can reach are clipped to +-rho_max.

    Args:
      p_wrong: (k,) marginal error rates in (0, 1).
      both_wrong: (k, k) P(both wrong); the diagonal is ignored.
      rho_max: clip |rho| to this.

    Returns:
      (k, k) correlation matrix with unit diagonal.

    References:
      Pearson, K. (1900). Mathematical contributions to the theory of evolution VII: on the
        correlation of characters not quantitatively measurable. Phil. Trans. A 195.
    """
    p = np.asarray(p_wrong, dtype=np.float64)
    q = np.asarray(both_wrong, dtype=np.float64)
    tau = ndtri(p)
    h, kk = np.broadcast_arrays(tau[:, None], tau[None, :])
    lo = np.full(q.shape, -rho_max)
    hi = np.full(q.shape, rho_max)
    for _ in range(55):
        mid = 0.5 * (lo + hi)
        up = bvn_cdf(h, kk, mid) < q
        lo = np.where(up, mid, lo)
        hi = np.where(up, hi, mid)
    r = 0.5 * (lo + hi)
    r = 0.5 * (r + r.T)
    np.fill_diagonal(r, 1.0)
    return r


def fit_onefactor(corr, *, n_iter: int = 500, max_loading: float = 0.999) -> np.ndarray:
    """One-factor loadings l with corr_ij ~ l_i l_j (i != j), by iterated principal axes.

    For k = 2 the loadings are not identified; the symmetric split l_1 = l_2 = sqrt|rho|
    (sign of rho on the second) reproduces the pair exactly.

    References:
      Harman, H. H. (1976). Modern Factor Analysis, 3rd ed. (principal-axis factoring).
    """
    r = np.array(corr, dtype=np.float64)
    k = r.shape[0]
    if k == 1:
        return np.zeros(1)
    if k == 2:
        s = math.sqrt(min(abs(r[0, 1]), max_loading**2))
        return np.array([s, math.copysign(s, r[0, 1])])
    off = r[~np.eye(k, dtype=bool)]
    h = np.full(k, max(float(off.mean()), 1e-6))
    lam = np.sqrt(h)
    for _ in range(n_iter):
        a = r.copy()
        np.fill_diagonal(a, h)
        w, v = np.linalg.eigh(a)
        lam = v[:, -1] * math.sqrt(max(w[-1], 0.0))
        if lam.sum() < 0:
            lam = -lam
        lam = np.clip(lam, -max_loading, max_loading)
        h_new = lam**2
        if np.max(np.abs(h_new - h)) < 1e-12:
            break
        h = h_new
    return lam


def onefactor_price(p_wrong, loadings, subset=None) -> float:
    """P(all wrong) under the one-factor Gaussian model (quadrature over the factor)."""
    p = np.asarray(p_wrong, dtype=np.float64)
    lam = np.asarray(loadings, dtype=np.float64)
    idx = np.arange(p.size) if subset is None else np.asarray(subset)
    return math.exp(onefactor_log_beta(ndtri(p[idx]), lam[idx]))


def onefactor_prediction(p_wrong, both_wrong, subset=None) -> float:
    """beta predicted by a one-factor Gaussian calibrated to pairwise (2x2) error rates.

    Tetrachoric correlations of the subset -> principal-axis loadings -> quadrature. This
    is the pairwise-calibrated pricing whose underpricing the simulator validates.
    """
    p = np.asarray(p_wrong, dtype=np.float64)
    q = np.asarray(both_wrong, dtype=np.float64)
    idx = np.arange(p.size) if subset is None else np.asarray(subset)
    r = tetrachoric_from_rates(p[idx], q[np.ix_(idx, idx)])
    lam = fit_onefactor(r)
    return onefactor_price(p[idx], lam)


def nearest_correlation(corr, *, min_eig: float = 1e-3) -> np.ndarray:
    """A positive-definite correlation matrix near ``corr`` (eigenvalue clipping, rescaled).

    References:
      Higham, N. J. (2002). Computing the nearest correlation matrix. IMA J. Numer. Anal. 22
        (this is the one-step clipping approximation, not Higham's alternating projections).
    """
    c = 0.5 * (np.asarray(corr, dtype=np.float64) + np.asarray(corr, dtype=np.float64).T)
    w, v = np.linalg.eigh(c)
    c = (v * np.maximum(w, min_eig)) @ v.T
    d = np.sqrt(np.diag(c))
    c = c / np.outer(d, d)
    np.fill_diagonal(c, 1.0)
    return c
