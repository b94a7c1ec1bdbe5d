"""True beta of a law: closed forms, quadrature or randomized QMC of stated precision,
and the law's exact pairwise both-wrong rates.

Gaussian and one-factor laws are priced with the library's engines (``bvn_cdf``,
``onefactor_log_beta``, ``mvt``); the tests check them against independent numpy/scipy
oracles (``tests/oracles.py``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from ..bvn import bvn_cdf
from ..onefactor import onefactor_log_beta
from .irt import _irt_beta, _irt_log_pwrong
from .laws import Law, TrueBeta


_PAD = 16  # one-factor subsets are priced padded to a multiple of this (one compilation)


def _onefactor_beta(tau, loadings) -> float:
    """The library's one-factor quadrature; models padded with tau = +inf (an exact factor 1)
    so every subset size up to a multiple of 16 shares one compiled program."""
    tau = np.asarray(tau, np.float64)
    m = -(-tau.size // _PAD) * _PAD
    t = np.full(m, np.inf)
    t[: tau.size] = tau
    lam = np.zeros(m)
    lam[: tau.size] = loadings
    return math.exp(float(onefactor_log_beta(t, lam)))  # jitted in onefactor


def onefactor_loadings(corr, tol: float = 1e-9) -> np.ndarray | None:
    """Loadings l with corr_ij = l_i l_j (i != j) to ``tol``, or None when ``corr`` is not
    one-factor. Exact algebra (the tetrad identity l_i^2 = c_ij c_ik / c_jk with the
    largest |c_jk|), no fitting; k <= 2 has no unique answer and returns None."""
    c = np.asarray(corr, dtype=np.float64)
    k = c.shape[0]
    if k < 3:
        return None
    off = c - np.diag(np.diag(c))
    if np.max(np.abs(off)) < tol:
        return np.zeros(k)
    lam2 = np.empty(k)
    for i in range(k):
        rest = off.copy()
        rest[i, :] = 0.0
        rest[:, i] = 0.0
        j, m = np.unravel_index(np.argmax(np.abs(rest)), rest.shape)
        if abs(rest[j, m]) < tol:
            return None
        lam2[i] = off[i, j] * off[i, m] / off[j, m]
    if np.any(lam2 < -tol) or np.any(lam2 >= 1):
        return None
    i0 = int(np.argmax(lam2))
    lam = off[:, i0] / math.sqrt(lam2[i0])
    lam[i0] = math.sqrt(lam2[i0])
    d = off - np.outer(lam, lam)
    np.fill_diagonal(d, 0.0)
    return lam if np.max(np.abs(d)) < tol else None


def _beta_independent(law, idx, p, abseps):
    return float(np.exp(np.log(p).sum())), 0.0, "closed form prod p_i"


def _beta_common_shock(law, idx, p, abseps):
    P = law.params
    b = P["omega"] + (1 - P["omega"]) * float(np.exp(np.log(P["alpha"][idx]).sum()))
    return b, 0.0, "closed form omega + (1-omega) prod alpha_i"


def _beta_clayton(law, idx, p, abseps):
    th = law.params["theta"]
    s = float(np.sum(p ** (-th)) - idx.size + 1)
    return s ** (-1.0 / th), 0.0, "closed form Clayton copula C(p)"


def _beta_onefactor(law, idx, p, abseps):
    from scipy.special import ndtri

    b = _onefactor_beta(ndtri(p), law.params["loadings"][idx])
    return (b, 1e-12 * max(b, 1e-300) + 1e-300,
            "one-factor quadrature over the factor (the library's onefactor_log_beta)")


def _beta_irt(law, idx, p, abseps):
    b = float(_irt_beta(law.params, idx)[0])
    return b, 1e-10 * b, "2-D quadrature over the query latent (801 trapezoid x 32 Gauss-Hermite)"


def _beta_table(law, idx, p, abseps):
    P = law.params
    return float(P["table"][P["bits"][:, idx].all(axis=1)].sum()), 1e-15, "sum of the atom table"


def _beta_exchangeable(law, idx, p, abseps):
    from scipy.special import comb

    kk, m = law.k, idx.size
    s_ = np.arange(kk + 1)
    b = float(law.params["counts"] @ (comb(s_, m) / comb(kk, m)))
    return b, 1e-15, "exchangeable: sum_s P(S=s) C(s,m)/C(k,m)"


def _beta_gaussian(law, idx, p, abseps):
    from scipy.special import ndtri
    from scipy.stats import multivariate_normal

    tau = ndtri(p)
    c = law.params["corr"][np.ix_(idx, idx)]
    if idx.size == 1:
        return float(p[0]), 0.0, "marginal"
    if idx.size == 2:
        return (float(bvn_cdf(tau[0], tau[1], c[0, 1])), 1e-12,
                "bivariate normal (the library's bvn_cdf)")
    if (lam := onefactor_loadings(c)) is not None:
        b = _onefactor_beta(tau, lam)
        return b, 1e-12 * b, "one-factor correlation: quadrature over the factor"
    b = float(
        multivariate_normal.cdf(
            tau,
            mean=np.zeros(idx.size),
            cov=c,
            abseps=abseps,
            releps=1e-4,
            maxpts=50_000 * idx.size,
            rng=np.random.default_rng(0),
        )
    )
    return b, abseps, (f"Genz randomised QMC (scipy), target abs. error {abseps:g}, "
                       "at most 50,000 points per dimension")


def _beta_student_t(law, idx, p, abseps):
    import jax
    import jax.numpy as jnp

    from .. import mvt

    nu = law.params["nu"]
    c = law.params["corr"][np.ix_(idx, idx)]
    t = np.asarray(mvt.t_quantile(jnp.asarray(p), nu))
    if idx.size == 1:
        return float(p[0]), 0.0, "marginal"
    if idx.size == 2:
        return (float(mvt.bvt_cdf(t[0], t[1], c[0, 1], nu)), 1e-9,
                "bivariate t CDF (mixture quadrature)")
    lp, se, _, n_used = mvt.mvt_orthant(jax.random.key(0), jnp.asarray(t), jnp.asarray(c),
                                        nu, n_samples=2 ** 18)
    return (float(np.exp(lp)), 4.0 * float(se),
            f"randomized QMC-SOV for the multivariate t ({int(n_used)} points), 4 s.e.")


# law kind -> (law, subset indices, their error rates, gaussian abseps) -> (beta, err, how)
_TRUE_BETA = {
    "independent": _beta_independent,
    "common_shock": _beta_common_shock,
    "clayton": _beta_clayton,
    "onefactor": _beta_onefactor,
    "irt": _beta_irt,
    "table": _beta_table,
    "exchangeable": _beta_exchangeable,
    "gaussian": _beta_gaussian,
    "student_t": _beta_student_t,
}


def true_beta(
    law: Law, subset: Sequence[int] | None = None, *, gaussian_abseps: float = 1e-6
) -> TrueBeta:
    """P(every model in ``subset`` is wrong) under ``law`` (default: all models).

    Args:
      law: a :class:`Law`.
      subset: model indices (default all).
      gaussian_abseps: absolute error target for full-Gaussian laws priced by Genz's QMC.

    Returns:
      :class:`TrueBeta` with the probability, a numerical error bound/estimate and the method.
    """
    idx = np.arange(law.k) if subset is None else np.asarray(subset, dtype=np.int64)
    if idx.size == 0:
        return TrueBeta(1.0, 0.0, "empty subset")
    if law.kind not in _TRUE_BETA:
        raise NotImplementedError(f"true_beta: unknown law kind {law.kind!r}")
    b, err, how = _TRUE_BETA[law.kind](law, idx, law.p_wrong[idx], gaussian_abseps)
    f = law.artefact
    if f > 0:
        b = f + (1 - f) * b
        err = (1 - f) * err
        how += f" with artefacts f={f:g}: f + (1-f) beta"
    return TrueBeta(float(b), float(err), how)


def true_beta_curve(law: Law, order: Sequence[int] | None = None) -> np.ndarray:
    """True beta of the first m models in ``order``, m = 1..k."""
    order = np.arange(law.k) if order is None else np.asarray(order)
    return np.array([true_beta(law, order[: m + 1]).beta for m in range(order.size)])


def pair_both_wrong(law: Law) -> np.ndarray:
    """(k, k) exact P(i and j both wrong) under the law (diagonal: marginal error rates)."""
    k = law.k
    out = np.empty((k, k))
    f = law.artefact
    p = law.p_wrong
    P = law.params
    if law.kind == "independent":
        out = np.outer(p, p)
    elif law.kind == "common_shock":
        out = P["omega"] + (1 - P["omega"]) * np.outer(P["alpha"], P["alpha"])
    elif law.kind == "clayton":
        th = P["theta"]
        out = (p[:, None] ** -th + p[None, :] ** -th - 1) ** (-1 / th)
    elif law.kind in ("onefactor", "gaussian"):
        from scipy.special import ndtri

        tau = ndtri(p)
        r = np.outer(P["loadings"], P["loadings"]) if law.kind == "onefactor" else P["corr"]
        out = np.asarray(bvn_cdf(tau[:, None], tau[None, :], np.clip(r, -0.999999, 0.999999)))
    elif law.kind == "student_t":
        import jax.numpy as jnp

        from .. import mvt

        t = mvt.t_quantile(jnp.asarray(p), P["nu"])
        out = np.asarray(mvt.bvt_cdf(t[:, None], t[None, :], jnp.asarray(P["corr"]), P["nu"]))
    elif law.kind == "irt":
        lp, lw = _irt_log_pwrong(P, np.arange(k))
        pw = np.exp(lp)
        out = np.einsum("q,qi,qj->ij", np.exp(lw), pw, pw)
    elif law.kind == "table":
        bits = P["bits"].astype(np.float64)
        out = np.einsum("a,ai,aj->ij", P["table"], bits, bits)
    elif law.kind == "exchangeable":
        s_ = np.arange(k + 1)
        out = np.full((k, k), float(P["counts"] @ (s_ * (s_ - 1))) / (k * (k - 1)))
    out = np.array(out, dtype=np.float64)
    np.fill_diagonal(out, p)
    return f + (1 - f) * out
