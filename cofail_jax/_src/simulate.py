"""Simulator: outcome matrices drawn from dependence laws whose beta is known.

A user cannot check an estimator on real data, where the truth is unknown. Each law here
prices the all-wrong probability exactly (closed form) or by deterministic quadrature of
stated precision, so estimators (Clopper-Pearson, tetrachoric, one-factor pricing) can be
validated against it.

Conventions: ``errors`` True = wrong. A law is a :class:`Law` (kind, per-model marginal
error rates, law parameters, artefact fraction). :func:`sample_errors` draws an (n, k)
error matrix with an explicit key; query ``j`` uses ``jax.random.fold_in(key, j)``, so a
matrix does not depend on the chunk size used to bound memory. :func:`true_beta` prices
P(all models in a subset wrong) under the law.

Laws:
  * ``independent``: model i wrong with probability p_i, independently.
  * ``onefactor``: Gaussian latent Z_i = l_i F + sqrt(1 - l_i^2) e_i, wrong iff
    Z_i <= tau_i = Phi^-1(p_i). True beta by a 1-D trapezoid rule over F (log space).
  * ``gaussian``: Z ~ N(0, corr) (full correlation matrix). True beta: exact for m <= 2
    (bivariate normal), a one-factor quadrature when corr is one-factor, otherwise Genz's
    randomised quasi-Monte Carlo (scipy) with a stated absolute error.
  * ``clayton``: Clayton copula via gamma frailty (Marshall & Olkin 1988): V ~ Gamma(1/theta),
    U_i = (1 + E_i / V)^(-1/theta), wrong iff U_i <= p_i. True beta in closed form
    C(p) = (sum p_i^-theta - m + 1)^(-1/theta).
  * ``student_t``: Student-t copula, T = Z / sqrt(W / nu), Z ~ N(0, corr), W ~ chi^2_nu;
    wrong iff T_i <= t_nu^-1(p_i). True beta: the marginal / bivariate t CDF for m <= 2,
    otherwise randomized QMC-SOV (the library's, 2^18 points) with 4 standard errors as
    the stated error.
  * The copula laws (``onefactor``, ``gaussian``, ``clayton``, ``student_t``) draw their
    queries through the same copula's ``sample`` that prices it
    (:mod:`cofail_jax._src.copulas`), so a law and its pricer cannot drift.
  * ``common_shock``: with probability omega a query is co-hard and every model errs;
    otherwise model i errs independently with probability alpha_i. True beta
    omega + (1 - omega) prod alpha_i (exact).
  * ``irt``: two-parameter logistic item response (Birnbaum 1968): query difficulty
    b ~ N(mu_b, sd_b), log discrimination log a ~ N(mu_a, sd_a), model ability theta_i;
    P(i correct on the query) = sigmoid(a (theta_i - b)). True beta of the *law* by a 2-D
    quadrature (trapezoid in b x Gauss-Hermite in log a) over the query latent.
  * ``table`` / ``exchangeable``: an explicit law on the 2^k error patterns, or the
    distribution of the number of wrong models (exchangeable); :func:`from_error_law`
    turns the non-identification counterexample laws into these. True beta exact (a finite sum).
  * artefacts (any law, :func:`with_artefacts`): a fraction f of queries is marked wrong
    for every model (a broken grader); beta_f = f + (1 - f) beta.

References:
  Marshall, A. W. and Olkin, I. (1988). Families of multivariate distributions. JASA 83.
  Birnbaum, A. (1968). Some latent trait models and their use in inferring an examinee's
    ability. In Lord & Novick, Statistical Theories of Mental Test Scores.
  Genz, A. (1992). Numerical computation of multivariate normal probabilities. JCGS 1.
  Clayton, D. G. (1978). A model for association in bivariate life tables. Biometrika 65.
  Sheppard, W. F. (1898/1900); Plackett, R. L. (1954). A reduction formula for normal
    multivariate integrals. Biometrika 41 (the bivariate normal integral over rho).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

import numpy as np

from .identify.sample import draw_query
from .outcomes import outcome_array

KINDS = (
    "independent",
    "onefactor",
    "gaussian",
    "clayton",
    "student_t",
    "common_shock",
    "irt",
    "table",
    "exchangeable",
)


class Law(NamedTuple):
    """A dependence law for k models' errors on a random query.

    Attributes:
      kind: one of ``KINDS``.
      p_wrong: float64 (k,) marginal error rates *before* artefacts.
      params: law parameters (numpy arrays / floats), see the ``*_law`` constructors.
      artefact: fraction of queries marked wrong for every model (0 for none).
    """

    kind: str
    p_wrong: np.ndarray
    params: Mapping[str, Any]
    artefact: float = 0.0

    @property
    def k(self) -> int:
        return int(np.shape(self.p_wrong)[0])

    @property
    def marginal_error(self) -> np.ndarray:
        """Each model's error rate including artefacts: f + (1 - f) p_i."""
        return self.artefact + (1.0 - self.artefact) * np.asarray(self.p_wrong)


class TrueBeta(NamedTuple):
    """P(every model of a subset wrong) under a law.

    Attributes:
      beta: the probability.
      abs_err: a bound (quadrature) or estimate (QMC) of its absolute numerical error;
        0 for closed forms.
      method: how it was computed.
    """

    beta: float
    abs_err: float
    method: str


# ---------------------------------------------------------------------------------------
# constructors
# ---------------------------------------------------------------------------------------
def _rates(p, name="p_wrong") -> np.ndarray:
    p = np.asarray(p, dtype=np.float64)
    if p.ndim != 1 or p.size == 0:
        raise ValueError(f"{name} must be a non-empty 1-D array, got shape {p.shape}")
    if not np.all((p > 0) & (p < 1)):
        raise ValueError(f"{name} must lie strictly in (0, 1); got min {p.min()}, max {p.max()}")
    return p


def independent_law(p_wrong: Sequence[float]) -> Law:
    """Independent errors with per-model error rates ``p_wrong``."""
    return Law("independent", _rates(p_wrong), {})


def onefactor_law(p_wrong: Sequence[float], loadings: Sequence[float] | float) -> Law:
    """One-factor Gaussian latent law: corr(Z_i, Z_j) = l_i l_j.

    Args:
      p_wrong: (k,) marginal error rates; thresholds tau_i = Phi^-1(p_i).
      loadings: (k,) loadings in (-1, 1), or one scalar for all models.
    """
    p = _rates(p_wrong)
    lam = np.broadcast_to(np.asarray(loadings, dtype=np.float64), p.shape).copy()
    if not np.all(np.abs(lam) < 1):
        raise ValueError("onefactor_law: loadings must lie in (-1, 1)")
    return Law("onefactor", p, {"loadings": lam})


def gaussian_law(p_wrong: Sequence[float], corr) -> Law:
    """Full Gaussian copula: Z ~ N(0, corr), wrong iff Z_i <= Phi^-1(p_i)."""
    p = _rates(p_wrong)
    c = np.asarray(corr, dtype=np.float64)
    if c.shape != (p.size, p.size):
        raise ValueError(f"gaussian_law: corr must be ({p.size}, {p.size}), got {c.shape}")
    if not np.allclose(c, c.T) or not np.allclose(np.diag(c), 1.0):
        raise ValueError("gaussian_law: corr must be symmetric with unit diagonal")
    try:
        chol = np.linalg.cholesky(c)
    except np.linalg.LinAlgError:
        raise ValueError(
            "gaussian_law: corr is not positive definite; project it with nearest_correlation()"
        ) from None
    return Law("gaussian", p, {"corr": c, "chol": chol})


def clayton_law(p_wrong: Sequence[float], theta: float) -> Law:
    """Clayton copula on the error indicators (lower-tail dependence), theta > 0."""
    p = _rates(p_wrong)
    if not theta > 0:
        raise ValueError(f"clayton_law: theta must be > 0 (0 is independence), got {theta}")
    return Law("clayton", p, {"theta": float(theta)})


def student_t_law(p_wrong: Sequence[float], corr, nu: float) -> Law:
    """Student-t copula law: wrong iff T_i <= t_nu^-1(p_i), T multivariate t_nu(0, corr)."""
    g = gaussian_law(p_wrong, corr)
    if not nu > 0:
        raise ValueError(f"student_t_law: nu must be > 0, got {nu}")
    return Law("student_t", g.p_wrong, {**g.params, "nu": float(nu)})


def common_shock_law(omega: float, alpha: Sequence[float]) -> Law:
    """Common shock: all wrong with probability omega, else independent with rates alpha."""
    a = _rates(alpha, "alpha")
    if not 0 <= omega < 1:
        raise ValueError(f"common_shock_law: omega must lie in [0, 1), got {omega}")
    return Law("common_shock", omega + (1 - omega) * a, {"omega": float(omega), "alpha": a})


def irt_law(
    ability: Sequence[float],
    *,
    difficulty_mean: float = 0.0,
    difficulty_sd: float = 1.5,
    log_disc_mean: float = 0.0,
    log_disc_sd: float = 0.3,
) -> Law:
    """Two-parameter logistic item-response law.

    P(model i correct on a query with difficulty b, discrimination a) = sigmoid(a (theta_i - b)),
    with b ~ N(difficulty_mean, difficulty_sd^2) and log a ~ N(log_disc_mean, log_disc_sd^2)
    drawn independently per query.
    """
    th = np.asarray(ability, dtype=np.float64)
    if th.ndim != 1 or th.size == 0:
        raise ValueError("irt_law: ability must be a non-empty 1-D array")
    if difficulty_sd < 0 or log_disc_sd < 0:
        raise ValueError("irt_law: standard deviations must be >= 0")
    params = {
        "ability": th,
        "difficulty_mean": float(difficulty_mean),
        "difficulty_sd": float(difficulty_sd),
        "log_disc_mean": float(log_disc_mean),
        "log_disc_sd": float(log_disc_sd),
    }
    p = np.array([_irt_beta(params, np.array([i]))[0] for i in range(th.size)])
    return Law("irt", np.clip(p, 1e-300, 1 - 1e-16), params)


def table_law(table) -> Law:
    """An explicit joint law of k error indicators: probabilities of the 2^k error patterns.

    Bit i of an atom's index is model i wrong (the convention of ``cofail_jax.ErrorLaw``).
    """
    t = np.asarray(table, dtype=np.float64)
    k = round(math.log2(t.size)) if t.size else 0
    if t.ndim != 1 or t.size != 2**k or k < 1:
        raise ValueError(f"table_law: table must have 2^k entries, got shape {t.shape}")
    if np.any(t < -1e-12) or abs(t.sum() - 1) > 1e-9:
        raise ValueError("table_law: table must be a probability vector (>= 0, sums to 1)")
    t = np.clip(t, 0.0, None)
    t = t / t.sum()
    bits = (np.arange(t.size)[:, None] >> np.arange(k)[None, :]) & 1
    return Law("table", t @ bits, {"table": t, "bits": bits.astype(bool)})


def exchangeable_law(counts) -> Law:
    """An exchangeable law given the distribution of the number S of wrong models.

    ``counts[s]`` = P(S = s), s = 0..k; given S = s every set of s models is equally likely.
    """
    c = np.asarray(counts, dtype=np.float64)
    k = c.size - 1
    if c.ndim != 1 or k < 1 or np.any(c < -1e-12) or abs(c.sum() - 1) > 1e-9:
        raise ValueError("exchangeable_law: counts must be a probability vector of length k + 1")
    c = np.clip(c, 0.0, None)
    c = c / c.sum()
    p = float(c @ np.arange(k + 1)) / k
    return Law("exchangeable", np.full(k, p), {"counts": c})


def from_error_law(error_law) -> Law:
    """A simulator :class:`Law` from a non-identification ``ErrorLaw`` (``cofail_jax.counterexample``).

    Uses its atom table when present, else its exchangeable count distribution.
    """
    if getattr(error_law, "table", None) is not None:
        return table_law(error_law.table)
    if getattr(error_law, "exchangeable", False):
        return exchangeable_law(error_law.counts)
    raise NotImplementedError(
        "from_error_law: the law has neither an atom table nor an exchangeable count distribution"
    )


def with_artefacts(law: Law, fraction: float) -> Law:
    """The same law with a fraction of queries marked wrong for every model (grading artefacts)."""
    if not 0 <= fraction < 1:
        raise ValueError(f"with_artefacts: fraction must lie in [0, 1), got {fraction}")
    return law._replace(artefact=float(fraction))


def select(law: Law, subset: Sequence[int]) -> Law:
    """The law of a subset of the models (marginal law of those columns)."""
    idx = np.asarray(subset, dtype=np.int64)
    p = law.p_wrong[idx]
    P = dict(law.params)
    if law.kind == "onefactor":
        P["loadings"] = P["loadings"][idx]
    elif law.kind in ("gaussian", "student_t"):
        c = P["corr"][np.ix_(idx, idx)]
        P = {**P, "corr": c, "chol": np.linalg.cholesky(c)}
    elif law.kind == "common_shock":
        P["alpha"] = P["alpha"][idx]
    elif law.kind == "irt":
        P["ability"] = P["ability"][idx]
    elif law.kind in ("table", "exchangeable"):
        raise NotImplementedError(
            f"select: not available for {law.kind!r} laws; use true_beta(law, subset)"
        )
    return Law(law.kind, p, P, law.artefact)


# ---------------------------------------------------------------------------------------
# true beta
# ---------------------------------------------------------------------------------------
_Z = np.linspace(-12.0, 12.0, 2401)
_LOGW_Z = -0.5 * _Z**2 - 0.5 * math.log(2 * math.pi) + math.log(_Z[1] - _Z[0])


def _logsumexp(a, axis=None):
    from scipy.special import logsumexp

    return logsumexp(a, axis=axis)


def _onefactor_log_beta(tau, lam) -> float:
    """log P(Z_i <= tau_i for all i), Z one-factor; trapezoid over the factor on [-12, 12]."""
    from scipy.special import log_ndtr

    s = np.sqrt(1.0 - lam**2)
    arg = (tau[None, :] - lam[None, :] * _Z[:, None]) / s[None, :]
    return float(_logsumexp(_LOGW_Z + log_ndtr(arg).sum(axis=1)))


@functools.lru_cache(maxsize=8)
def _gh(n: int):
    x, w = np.polynomial.hermite_e.hermegauss(n)
    return x, np.log(w / math.sqrt(2 * math.pi))


def _irt_nodes(params):
    """Quadrature nodes (b, a, log w) for the 2PL query latent."""
    zb = np.linspace(-10.0, 10.0, 801)
    lwb = -0.5 * zb**2 - 0.5 * math.log(2 * math.pi) + math.log(zb[1] - zb[0])
    b = params["difficulty_mean"] + params["difficulty_sd"] * zb
    if params["log_disc_sd"] > 0:
        xa, lwa = _gh(32)
    else:
        xa, lwa = np.zeros(1), np.zeros(1)
    a = np.exp(params["log_disc_mean"] + params["log_disc_sd"] * xa)
    B, A = np.meshgrid(b, a, indexing="ij")
    LW = lwb[:, None] + lwa[None, :]
    return B.ravel(), A.ravel(), LW.ravel()


def _irt_log_pwrong(params, idx, nodes=None):
    """(nodes, m) log P(wrong) = log sigmoid(a (b - theta))."""
    B, A, LW = nodes if nodes is not None else _irt_nodes(params)
    th = np.asarray(params["ability"])[idx]
    x = A[:, None] * (B[:, None] - th[None, :])
    return -np.logaddexp(0.0, -x), LW


def _irt_beta(params, idx) -> np.ndarray:
    lp, lw = _irt_log_pwrong(params, idx)
    return np.array([math.exp(_logsumexp(lw + lp.sum(axis=1)))])


def _bvn_cdf_np(h, k, rho):
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
    p = law.p_wrong[idx]
    P = law.params
    f = law.artefact
    if law.kind == "independent":
        b, err, how = float(np.exp(np.log(p).sum())), 0.0, "closed form prod p_i"
    elif law.kind == "common_shock":
        b = P["omega"] + (1 - P["omega"]) * float(np.exp(np.log(P["alpha"][idx]).sum()))
        err, how = 0.0, "closed form omega + (1-omega) prod alpha_i"
    elif law.kind == "clayton":
        th = P["theta"]
        s = float(np.sum(p ** (-th)) - idx.size + 1)
        b, err, how = s ** (-1.0 / th), 0.0, "closed form Clayton copula C(p)"
    elif law.kind == "onefactor":
        from scipy.special import ndtri

        b = math.exp(_onefactor_log_beta(ndtri(p), P["loadings"][idx]))
        err, how = (
            1e-12 * max(b, 1e-300) + 1e-300,
            "trapezoid quadrature over the factor (2401 nodes on [-12, 12])",
        )
    elif law.kind == "irt":
        b = float(_irt_beta(P, idx)[0])
        err, how = (
            1e-10 * b,
            "2-D quadrature over the query latent (801 trapezoid x 32 Gauss-Hermite)",
        )
    elif law.kind == "table":
        b = float(P["table"][P["bits"][:, idx].all(axis=1)].sum())
        err, how = 1e-15, "sum of the atom table"
    elif law.kind == "exchangeable":
        from scipy.special import comb

        kk, m = law.k, idx.size
        s_ = np.arange(kk + 1)
        b = float(P["counts"] @ (comb(s_, m) / comb(kk, m)))
        err, how = 1e-15, "exchangeable: sum_s P(S=s) C(s,m)/C(k,m)"
    elif law.kind == "gaussian":
        from scipy.special import ndtri
        from scipy.stats import multivariate_normal

        tau = ndtri(p)
        c = P["corr"][np.ix_(idx, idx)]
        if idx.size == 1:
            b, err, how = float(p[0]), 0.0, "marginal"
        elif idx.size == 2:
            b, err, how = (
                float(_bvn_cdf_np(tau[0], tau[1], c[0, 1])),
                1e-12,
                "bivariate normal (Plackett)",
            )
        elif _is_onefactor(c):
            lam = fit_onefactor(c)
            b = math.exp(_onefactor_log_beta(tau, lam))
            err, how = 1e-12 * b, "one-factor correlation: trapezoid quadrature over the factor"
        else:
            b = float(
                multivariate_normal.cdf(
                    tau,
                    mean=np.zeros(idx.size),
                    cov=c,
                    abseps=gaussian_abseps,
                    releps=1e-4,
                    maxpts=50_000 * idx.size,
                    rng=np.random.default_rng(0),
                )
            )
            err = gaussian_abseps
            how = (
                f"Genz randomised QMC (scipy), target abs. error {gaussian_abseps:g}, "
                "at most 50,000 points per dimension"
            )
    elif law.kind == "student_t":
        import jax
        import jax.numpy as jnp

        from . import mvt

        nu = P["nu"]
        c = P["corr"][np.ix_(idx, idx)]
        t = np.asarray(mvt.t_quantile(jnp.asarray(p), nu))
        if idx.size == 1:
            b, err, how = float(p[0]), 0.0, "marginal"
        elif idx.size == 2:
            b = float(mvt.bvt_cdf(t[0], t[1], c[0, 1], nu))
            err, how = 1e-9, "bivariate t CDF (mixture quadrature)"
        else:
            lp, se, _, n_used = mvt.mvt_orthant(jax.random.key(0), jnp.asarray(t), jnp.asarray(c),
                                                nu, n_samples=2 ** 18)
            b, err = float(np.exp(lp)), 4.0 * float(se)
            how = f"randomized QMC-SOV for the multivariate t ({int(n_used)} points), 4 s.e."
    else:
        raise NotImplementedError(f"true_beta: unknown law kind {law.kind!r}")
    if f > 0:
        b = f + (1 - f) * b
        err = (1 - f) * err
        how += f" with artefacts f={f:g}: f + (1-f) beta"
    return TrueBeta(float(b), float(err), how)


def _is_onefactor(c, tol: float = 1e-9) -> bool:
    lam = fit_onefactor(c)
    d = c - np.outer(lam, lam)
    np.fill_diagonal(d, 0.0)
    return bool(np.max(np.abs(d)) < tol)


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
        out = _bvn_cdf_np(tau[:, None], tau[None, :], np.clip(r, -0.999999, 0.999999))
    elif law.kind == "student_t":
        import jax.numpy as jnp

        from . import mvt

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


# ---------------------------------------------------------------------------------------
# sampling (JAX)
# ---------------------------------------------------------------------------------------
def _one_query(kind: str, key, p, params, artefact):
    """Errors (k,) of one query. ``params`` holds jnp arrays for ``kind``."""
    import jax
    import jax.numpy as jnp

    k = p.shape[0]
    key_law, key_art = jax.random.split(key)
    if kind == "independent":
        err = jax.random.uniform(key_law, (k,)) < p
    elif kind == "common_shock":
        ks, ku = jax.random.split(key_law)
        shock = jax.random.uniform(ks, ()) < params["omega"]
        err = (jax.random.uniform(ku, (k,)) < params["alpha"]) | shock
    elif kind in _COPULA_LAWS:
        # the copula's own sampler: the law and its pricer cannot drift
        cop = _COPULA_LAWS[kind]
        err = cop[0]().sample(key_law, cop[1](params), 1)[0]
    elif kind == "irt":
        kb, ka, ku = jax.random.split(key_law, 3)
        b = params["difficulty_mean"] + params["difficulty_sd"] * jax.random.normal(kb, ())
        a = jnp.exp(params["log_disc_mean"] + params["log_disc_sd"] * jax.random.normal(ka, ()))
        pw = jax.nn.sigmoid(a * (b - params["ability"]))
        err = jax.random.uniform(ku, (k,)) < pw
    elif kind in ("table", "exchangeable"):  # the identify sampler of these laws
        err = draw_query("table" if kind == "table" else "counts", key_law, params["cdf"], k)
    else:
        raise NotImplementedError(f"sample_errors: unknown law kind {kind!r}")
    art = jax.random.uniform(key_art, ()) < artefact
    return err | art


def _copula(name):
    from . import copulas as C

    return lambda: C.get(name)


def _params(name):
    def build(P):
        import jax.numpy as jnp

        from .copulas import clayton, equal_loading, gaussian, student_t

        if name == "equal_loading":
            return equal_loading.Params(P["tau"], P["loadings"], jnp.nan)
        if name == "gaussian":
            return gaussian.Params(P["tau"], P["corr"], {})
        if name == "clayton":
            return clayton.Params(P["p_wrong"], P["theta"], jnp.nan, 0)
        return student_t.Params(P["t"], P["corr"], P["nu"], jnp.nan, jnp.nan, {})
    return build


_COPULA_LAWS = {"onefactor": (_copula("equal_loading"), _params("equal_loading")),
                "gaussian": (_copula("gaussian"), _params("gaussian")),
                "clayton": (_copula("clayton"), _params("clayton")),
                "student_t": (_copula("student_t"), _params("student_t"))}
"""Laws drawn through a copula's ``sample``: law kind -> (copula, params from the law)."""


@functools.lru_cache(maxsize=64)
def _chunk_sampler(kind: str):
    import jax
    import jax.numpy as jnp

    def chunk(key, start, size_arr, p, params, artefact):
        idx = start + jnp.arange(size_arr.shape[0], dtype=jnp.uint32)
        keys = jax.vmap(jax.random.fold_in, (None, 0))(key, idx)
        return jax.vmap(lambda kq: _one_query(kind, kq, p, params, artefact))(keys)

    return jax.jit(chunk)


def _jax_params(law: Law):
    import jax.numpy as jnp
    from scipy.special import ndtri

    P = law.params
    if law.kind == "onefactor":
        return {"loadings": jnp.asarray(P["loadings"]), "tau": jnp.asarray(ndtri(law.p_wrong))}
    if law.kind == "gaussian":
        return {"corr": jnp.asarray(P["corr"]), "tau": jnp.asarray(ndtri(law.p_wrong))}
    if law.kind == "student_t":
        from scipy.stats import t as t_dist

        return {"corr": jnp.asarray(P["corr"]), "nu": jnp.asarray(P["nu"]),
                "t": jnp.asarray(t_dist.ppf(law.p_wrong, P["nu"]))}
    if law.kind == "clayton":
        return {"theta": jnp.asarray(P["theta"]), "p_wrong": jnp.asarray(law.p_wrong)}
    if law.kind == "common_shock":
        return {"omega": jnp.asarray(P["omega"]), "alpha": jnp.asarray(P["alpha"])}
    if law.kind == "irt":
        return {k: jnp.asarray(v) for k, v in P.items()}
    if law.kind == "table":
        return {"prob": jnp.asarray(P["table"]), "cdf": jnp.asarray(np.cumsum(P["table"]))}
    if law.kind == "exchangeable":
        return {"counts": jnp.asarray(P["counts"]), "cdf": jnp.asarray(np.cumsum(P["counts"]))}
    return {}


def sample_errors(key, law: Law, n_queries: int, *, chunk_size: int = 65536):
    """Draw an (n_queries, k) bool error matrix (True = wrong) from ``law``.

    Query j uses ``fold_in(key, j)``: the result does not depend on ``chunk_size``, which
    only bounds memory (one chunk of chunk_size x k latent draws at a time).

    Args:
      key: a ``jax.random`` key.
      law: the :class:`Law`.
      n_queries: number of rows.
      chunk_size: rows drawn per compiled call.

    Returns:
      numpy bool array (n_queries, k).
    """
    import jax.numpy as jnp

    if n_queries < 0:
        raise ValueError(f"sample_errors: n_queries must be >= 0, got {n_queries}")
    fn = _chunk_sampler(law.kind)
    p = jnp.asarray(law.p_wrong)
    params = _jax_params(law)
    art = jnp.asarray(law.artefact, dtype=p.dtype)
    out = np.empty((n_queries, law.k), dtype=bool)
    size = min(chunk_size, max(n_queries, 1))
    dummy = jnp.zeros((size,), dtype=jnp.int8)
    for start in range(0, n_queries, size):
        block = np.asarray(fn(key, jnp.uint32(start), dummy, p, params, art))
        stop = min(start + size, n_queries)
        out[start:stop] = block[: stop - start]
    return out


def simulate(
    key,
    law: Law,
    n_queries: int,
    *,
    models: Sequence[str] | None = None,
    seed: int | None = None,
    chunk_size: int = 65536,
):
    """Draw an :class:`OutcomeMatrix` from ``law`` (correct = not wrong).

    The law's parameters and true beta of the whole pool go in ``model_meta`` / ``notes``.
    """
    from .matrix import OutcomeMatrix

    err = sample_errors(key, law, n_queries, chunk_size=chunk_size)
    k = law.k
    names = tuple(models) if models is not None else tuple(f"sim-{i:02d}" for i in range(k))
    tb = true_beta(law)
    width = max(4, len(str(max(n_queries - 1, 0))))
    return OutcomeMatrix(
        correct=~err,
        query_ids=tuple(f"q{j:0{width}d}" for j in range(n_queries)),
        models=names,
        model_meta={"true_error_rate": law.marginal_error},
        source=f"<simulate {law.kind}{'' if seed is None else f' seed={seed}'}>",
        notes=(
            f"simulated from the {law.kind} law; true beta of the pool {tb.beta:.6g} ({tb.method})",
        ),
    )


# ---------------------------------------------------------------------------------------
# calibration helpers
# ---------------------------------------------------------------------------------------
def irt_abilities(
    target_accuracy: Sequence[float],
    *,
    difficulty_mean: float = 0.0,
    difficulty_sd: float = 1.5,
    log_disc_mean: float = 0.0,
    log_disc_sd: float = 0.3,
) -> np.ndarray:
    """Abilities theta_i whose 2PL marginal accuracy equals ``target_accuracy`` (bisection)."""
    acc = np.asarray(target_accuracy, dtype=np.float64)
    params = {
        "ability": np.zeros(1),
        "difficulty_mean": difficulty_mean,
        "difficulty_sd": difficulty_sd,
        "log_disc_mean": log_disc_mean,
        "log_disc_sd": log_disc_sd,
    }
    B, A, LW = _irt_nodes(params)
    w = np.exp(LW)
    lo = np.full(acc.shape, -40.0)
    hi = np.full(acc.shape, 40.0)
    for _ in range(80):
        mid = 0.5 * (lo + hi)
        x = A[:, None] * (mid[None, :] - B[:, None])
        a_mid = w @ (0.5 * (1 + np.tanh(0.5 * x)))
        up = a_mid < acc
        lo = np.where(up, mid, lo)
        hi = np.where(up, hi, mid)
    return 0.5 * (lo + hi)


def benchmark_pool(key, n_queries: int = 330, n_models: int = 67):
    """The standard synthetic benchmark pool: a 2PL item-response law, deterministic per key.

    Model accuracies are spread evenly from 0.30 to 0.90 (the range of the real MATH
    level-5 / MMLU-Pro pools in ``/work/shared/data``); query difficulty
    b ~ N(0, 3.0^2), discrimination a = exp(N(0.3, 0.3^2)), abilities solved so each model's
    marginal accuracy is exact. With 67 models the law's beta is 2.8 % (about 9 of 330
    queries all wrong), like the real MATH level-5 pool's 2.5 %.

    Args:
      key: a ``jax.random`` key (query j uses ``fold_in(key, j)``).
      n_queries: rows.
      n_models: columns.

    Returns:
      :class:`OutcomeMatrix`; ``model_meta['true_error_rate']`` holds each model's error
      rate and ``notes`` the law's true beta.
    """
    return simulate(key, benchmark_law(n_models), n_queries)


BENCHMARK_IRT = {
    "difficulty_mean": 0.0,
    "difficulty_sd": 3.0,
    "log_disc_mean": 0.3,
    "log_disc_sd": 0.3,
}


@functools.lru_cache(maxsize=8)
def _benchmark_abilities(n_models: int) -> tuple:
    acc = np.linspace(0.30, 0.90, n_models) if n_models > 1 else np.array([0.6])
    return tuple(irt_abilities(acc, **BENCHMARK_IRT))


def benchmark_law(n_models: int = 67) -> Law:
    """The 2PL law behind :func:`benchmark_pool` (accuracies 0.30..0.90)."""
    return irt_law(np.array(_benchmark_abilities(n_models)), **BENCHMARK_IRT)


# ---------------------------------------------------------------------------------------
# pairwise (tetrachoric) calibration of a one-factor Gaussian model
# ---------------------------------------------------------------------------------------
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
    from scipy.special import ndtri

    p = np.asarray(p_wrong, dtype=np.float64)
    q = np.asarray(both_wrong, dtype=np.float64)
    tau = ndtri(p)
    h, kk = np.broadcast_arrays(tau[:, None], tau[None, :])
    lo = np.full(q.shape, -rho_max)
    hi = np.full(q.shape, rho_max)
    for _ in range(55):
        mid = 0.5 * (lo + hi)
        up = _bvn_cdf_np(h, kk, mid) < q
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
    from scipy.special import ndtri

    p = np.asarray(p_wrong, dtype=np.float64)
    lam = np.asarray(loadings, dtype=np.float64)
    idx = np.arange(p.size) if subset is None else np.asarray(subset)
    return math.exp(_onefactor_log_beta(ndtri(p[idx]), lam[idx]))


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


class Underpricing(NamedTuple):
    """Ratio of the true beta to the pairwise-calibrated one-factor price, by pool size.

    Attributes:
      m: pool sizes 1..k (the first m models of ``order``).
      beta_true: the law's beta of each sub-pool.
      beta_pred: one-factor Gaussian price calibrated to the law's exact 2x2 tables.
      ratio: beta_true / beta_pred.
    """

    m: np.ndarray
    beta_true: np.ndarray
    beta_pred: np.ndarray
    ratio: np.ndarray


def underpricing_curve(
    law: Law, order: Sequence[int] | None = None, sizes: Sequence[int] | None = None
) -> Underpricing:
    """Exact (no sampling) underpricing ratio beta_true / beta_pred(one-factor, tetrachoric).

    The tetrachoric correlations come from the law's own pairwise error rates
    (:func:`pair_both_wrong`), so the only discrepancy is the model: under a Gaussian law
    the ratio is 1, under common-shock and Clayton laws it grows with the pool size.
    """
    order = np.arange(law.k) if order is None else np.asarray(order)
    sizes = np.arange(1, order.size + 1) if sizes is None else np.asarray(sizes)
    q = pair_both_wrong(law)
    p = law.marginal_error
    r_all = tetrachoric_from_rates(p, q)
    bt, bp = [], []
    for m in sizes:
        sub = order[:m]
        bt.append(true_beta(law, sub).beta)
        bp.append(onefactor_price(p[sub], fit_onefactor(r_all[np.ix_(sub, sub)])))
    bt, bp = np.array(bt), np.array(bp)
    return Underpricing(np.asarray(sizes), bt, bp, bt / bp)


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


# ---------------------------------------------------------------------------------------
# calibration to a real outcome matrix
# ---------------------------------------------------------------------------------------
class Calibration(NamedTuple):
    """A law fitted to an outcome matrix, with what was matched.

    Attributes:
      law: the fitted :class:`Law`.
      target_error: (k,) the data's error rates (clipped to [0.5/n, 1 - 0.5/n]).
      target_both_wrong: (k, k) the data's pairwise both-wrong rates.
      matched: what the fit matches, in words.
      status: 'OK', or a message when a target could not be reached.
    """

    law: Law
    target_error: np.ndarray
    target_both_wrong: np.ndarray
    matched: str
    status: str


def _golden(f, lo, hi, n_iter=40):
    g = (math.sqrt(5) - 1) / 2
    a, b = lo, hi
    c, d = b - g * (b - a), a + g * (b - a)
    fc, fd = f(c), f(d)
    for _ in range(n_iter):
        if fc < fd:
            b, d, fd = d, c, fc
            c = b - g * (b - a)
            fc = f(c)
        else:
            a, c, fc = c, d, fd
            d = a + g * (b - a)
            fd = f(d)
    return 0.5 * (a + b)


def calibrate_law(
    kind: str,
    correct,
    *,
    omega: float | None = None,
    theta: float | None = None,
    irt_log_disc: tuple[float, float] = (0.3, 0.3),
) -> Calibration:
    """Fit a law of ``kind`` to an outcome matrix (bool (n, k), True = correct).

    Every law matches each model's error rate exactly. The pairwise structure:
      * ``onefactor``: loadings fitted (principal axes) to the tetrachoric matrix;
      * ``gaussian``: the tetrachoric matrix itself (projected to positive definite);
      * ``irt``: difficulty spread chosen so the mean pairwise both-wrong rate matches
        (discrimination law fixed at ``irt_log_disc`` = (mean, sd) of log a);
      * ``clayton``: theta matches the mean pairwise both-wrong rate unless given;
      * ``common_shock``: omega matches the mean pairwise both-wrong rate unless given
        (alpha_i then follows from the marginals);
      * ``independent``: none.
    """
    c = np.asarray(outcome_array(correct, "calibrate_law")[0], dtype=bool)
    n, k = c.shape
    e = (~c).astype(np.float64)
    p = np.clip(e.mean(axis=0), 0.5 / n, 1 - 0.5 / n)
    q = (e.T @ e) / n
    np.fill_diagonal(q, p)
    iu = np.triu_indices(k, 1)
    target_pair = float(q[iu].mean()) if k > 1 else 0.0
    status = "OK"
    if kind == "independent":
        return Calibration(independent_law(p), p, q, "accuracies", status)
    if kind in ("onefactor", "gaussian"):
        r = tetrachoric_from_rates(p, q)
        if kind == "onefactor":
            lam = fit_onefactor(r)
            return Calibration(
                onefactor_law(p, np.clip(lam, -0.995, 0.995)),
                p,
                q,
                "accuracies; loadings fitted to the tetrachoric matrix",
                status,
            )
        return Calibration(
            gaussian_law(p, nearest_correlation(r)),
            p,
            q,
            "accuracies; correlation = tetrachoric matrix (made positive definite)",
            status,
        )
    if kind == "clayton":
        if theta is None:

            def loss(lt):
                th = math.exp(lt)
                pij = (p[iu[0]] ** -th + p[iu[1]] ** -th - 1) ** (-1 / th)
                return (pij.mean() - target_pair) ** 2

            theta = math.exp(_golden(loss, math.log(1e-3), math.log(50.0)))
            matched = "accuracies; theta matches the mean pairwise both-wrong rate"
        else:
            matched = "accuracies; theta given"
        return Calibration(clayton_law(p, theta), p, q, matched, status)
    if kind == "common_shock":
        pmin = float(p.min())
        if omega is None:

            def loss(w):
                a = (p - w) / (1 - w)
                return ((w + (1 - w) * a[iu[0]] * a[iu[1]]).mean() - target_pair) ** 2

            omega = _golden(loss, 0.0, pmin * (1 - 1e-6))
            matched = "accuracies; omega matches the mean pairwise both-wrong rate"
            if math.sqrt(loss(omega)) > 1e-3 * target_pair:
                status = (
                    f"omega reached its bound {pmin:.4g} (the smallest error rate) without "
                    "matching the mean pairwise both-wrong rate: a common shock cannot make "
                    "models co-fail more often than the best model fails; try the clayton or irt law"
                )
        else:
            matched = "accuracies; omega given"
            if not 0 <= omega < pmin:
                raise ValueError(
                    f"calibrate: omega={omega} must lie in [0, {pmin:.4g}) (the smallest "
                    "error rate), since every model errs on co-hard queries"
                )
        alpha = np.clip((p - omega) / (1 - omega), 1e-12, 1 - 1e-12)
        return Calibration(common_shock_law(omega, alpha), p, q, matched, status)
    if kind == "irt":
        lm, ls = irt_log_disc

        def law_for(sd):
            th = irt_abilities(1 - p, difficulty_sd=sd, log_disc_mean=lm, log_disc_sd=ls)
            params = {
                "ability": th,
                "difficulty_mean": 0.0,
                "difficulty_sd": sd,
                "log_disc_mean": lm,
                "log_disc_sd": ls,
            }
            return params

        def mean_pair(params):
            lp, lw = _irt_log_pwrong(params, np.arange(k))
            pw = np.exp(lp)
            s = pw.sum(axis=1)
            return float(np.exp(lw) @ (s**2 - (pw**2).sum(axis=1))) / (k * (k - 1))

        if k > 1:
            sd = _golden(
                lambda sd: (mean_pair(law_for(sd)) - target_pair) ** 2, 0.05, 8.0, n_iter=25
            )
        else:
            sd = 1.5
        if sd > 7.9 or sd < 0.06:
            status = (
                f"difficulty sd hit its bound ({sd:.3g}); the pairwise structure is not matched"
                " - try another discrimination law"
            )
        params = law_for(sd)
        law = irt_law(params["ability"], difficulty_sd=sd, log_disc_mean=lm, log_disc_sd=ls)
        return Calibration(
            law,
            p,
            q,
            "accuracies; difficulty spread matches the mean pairwise both-wrong rate",
            status,
        )
    raise NotImplementedError(f"calibrate: unknown law kind {kind!r}; choose from {KINDS}")


calibrate = calibrate_law  # short name used by the CLI and tests
