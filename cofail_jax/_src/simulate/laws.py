"""Laws of the simulator: the :class:`Law` value, its constructors and sub-laws.

See :mod:`cofail_jax._src.simulate` for the laws and their conventions.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

import numpy as np

from .irt import BENCHMARK_IRT, _benchmark_abilities, _irt_beta

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


def benchmark_law(n_models: int = 67) -> Law:
    """The 2PL law behind :func:`benchmark_pool` (accuracies 0.30..0.90)."""
    return irt_law(np.array(_benchmark_abilities(n_models)), **BENCHMARK_IRT)
