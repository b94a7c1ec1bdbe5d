"""How fragile is a tail claim? Beta, the certificate and the one-factor ratio if
0, 1, ..., K of the all-wrong events were grading artefacts.

Every all-wrong query has the same error vector (all ones), so which j of the K
events are artefacts does not matter: dropping any j of them (the treatment of
adjudicated artefacts, see :mod:`.adjudicate`) gives n - j queries with K - j
all-wrong, the same per-model counts on the other queries, and the same pairwise
tables. The table is therefore exact, not a Monte Carlo over choices.

The one-factor (equal-loading) ratio is beta_obs / beta_pred, with beta_pred the
all-wrong probability of the equicorrelated Gaussian copula calibrated on the pairs
(thresholds ``Phi^-1(error rate)``, correlation = mean tetrachoric correlation;
:func:`~cofail_jax._src.onefactor.equal_loading_beta`). Dropping j rows is a query
weight of ``(K - j) / K`` on each all-wrong row, so all K + 1 rows are one vmapped,
jitted computation over weight vectors.

References:
  Clopper, C. J. and Pearson, E. S. (1934). The use of confidence or fiducial limits
  illustrated in the case of the binomial. Biometrika 26, 404-413.
  Vasicek, O. (1987). Probability of loss on loan portfolio. KMV Corporation
  (the equicorrelated one-factor model).
"""

from __future__ import annotations

import functools
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from ..certificate import certificate
from ..matrix import OutcomeMatrix

__all__ = ["Sensitivity", "artefact_sensitivity"]

RATIO_OK = "ok"


class Sensitivity(NamedTuple):
    """One row per number j of all-wrong events that were artefacts (j = 0..J).

    Attributes:
      j: (J+1,) artefacts assumed.
      n: (J+1,) queries left, n0 - j.
      K: (J+1,) all-wrong events left, K0 - j.
      beta: (J+1,) (K0 - j) / (n0 - j).
      beta_ci: (J+1, 2) two-sided Clopper-Pearson interval at level 1 - alpha.
      oracle_gain: (J+1,) (1 - beta) - single-best accuracy.
      gain_bound: (J+1,) certified gain bound at confidence 1 - delta.
      beta_pred: (J+1,) equal-loading one-factor beta (NaN where unavailable).
      mean_rho: (J+1,) mean tetrachoric correlation of the errors.
      ratio: (J+1,) beta / beta_pred (NaN where undefined).
      ratio_status: (J+1,) ``"ok"`` or why the ratio is undefined.
      alpha, delta: the levels used.
    """

    j: np.ndarray
    n: np.ndarray
    K: np.ndarray
    beta: np.ndarray
    beta_ci: np.ndarray
    oracle_gain: np.ndarray
    gain_bound: np.ndarray
    beta_pred: np.ndarray
    mean_rho: np.ndarray
    ratio: np.ndarray
    ratio_status: tuple[str, ...]
    alpha: float
    delta: float

    def rows(self) -> list[dict]:
        """Plain per-row dicts (for tables, CSV and JSON)."""
        out = []
        for i in range(len(self.j)):
            out.append({
                "artefacts": int(self.j[i]), "n": int(self.n[i]), "K": int(self.K[i]),
                "beta": float(self.beta[i]), "beta_ci_lower": float(self.beta_ci[i, 0]),
                "beta_ci_upper": float(self.beta_ci[i, 1]),
                "oracle_gain": float(self.oracle_gain[i]), "gain_bound": float(self.gain_bound[i]),
                "mean_rho": float(self.mean_rho[i]), "beta_pred": float(self.beta_pred[i]),
                "ratio": float(self.ratio[i]), "ratio_status": self.ratio_status[i]})
        return out


@functools.cache
def _pricer():
    from ..onefactor import equal_loading_beta
    from ..tetrachoric import tetrachoric

    def one(errors, weights):
        res = tetrachoric(errors, weights)
        return equal_loading_beta(res.tau, res.mean_rho), res.mean_rho

    return jax.jit(jax.vmap(one, in_axes=(None, 0)))


def _one_factor(errors: np.ndarray, weights: np.ndarray):
    """(beta_pred, mean_rho) per weight row, or None when the pricing modules are absent."""
    try:
        price = _pricer()
    except ImportError:
        return None
    bp, mr = price(jnp.asarray(errors), jnp.asarray(weights))  # the caller's float dtype
    return np.asarray(bp, dtype=np.float64), np.asarray(mr, dtype=np.float64)


def artefact_sensitivity(matrix: OutcomeMatrix, *, max_artefacts: int | None = None,
                         alpha: float = 0.05, delta: float = 0.05,
                         best_selection: str = "in-sample", ratio: bool = True) -> Sensitivity:
    """Beta, its certificate and the one-factor ratio if 0..J all-wrong events were artefacts.

    Args:
      matrix: the outcome matrix (as graded, or already corrected by an audit).
      max_artefacts: J, the most artefacts to consider (default: all K events).
      alpha: two-sided Clopper-Pearson level of the beta interval.
      delta: confidence 1 - delta of the certified gain bound.
      best_selection: ``"in-sample"`` or ``"fixed"`` (see :func:`~cofail_jax.certificate`).
      ratio: compute the one-factor ratio (needs the tetrachoric and one-factor modules).

    Returns:
      :class:`Sensitivity`.

    Examples:
      >>> import numpy as np
      >>> from cofail_jax import OutcomeMatrix
      >>> m = OutcomeMatrix(np.array([[0, 0], [0, 0], [1, 0], [0, 1], [1, 1]], bool),
      ...                   tuple("abcde"), ("m1", "m2"))
      >>> s = artefact_sensitivity(m, ratio=False)
      >>> s.j.tolist(), s.beta.round(3).tolist()
      ([0, 1, 2], [0.4, 0.25, 0.0])
    """
    correct = matrix.correct
    n0 = matrix.n
    aw = matrix.all_wrong
    K0 = int(aw.sum())
    J = K0 if max_artefacts is None else int(max_artefacts)
    if not 0 <= J <= K0:
        raise ValueError(f"artefact_sensitivity: max_artefacts must lie in [0, K={K0}], got {J}")
    if J == n0:
        J = n0 - 1  # at least one query must remain
    js = np.arange(J + 1)
    rows = []
    aw_idx = np.flatnonzero(aw)
    for j in js:
        keep = np.ones(n0, dtype=bool)
        keep[aw_idx[:j]] = False
        c = certificate(correct[keep], models=matrix.models, alpha=alpha, delta=delta,
                        best_selection=best_selection)
        rows.append(c)
    beta = np.array([c.beta for c in rows])
    nan = np.full(J + 1, np.nan)
    beta_pred, mean_rho = nan.copy(), nan.copy()
    status = ["one-factor ratio not requested"] * (J + 1)
    if ratio:
        weights = np.ones((J + 1, n0))
        if K0 > 0:
            weights[:, aw] = ((K0 - js) / K0)[:, None]
        got = _one_factor(~correct, weights)
        if got is None:
            status = ["one-factor pricing modules not available"] * (J + 1)
        else:
            beta_pred, mean_rho = got
            status = []
            for i in range(J + 1):
                if not np.isfinite(mean_rho[i]):
                    status.append("no pair of models with a finite tetrachoric correlation")
                elif not np.isfinite(beta_pred[i]) or beta_pred[i] <= 0:
                    status.append("one-factor beta is zero or undefined (a model always right?)")
                elif beta[i] == 0:
                    status.append("no all-wrong event left: ratio 0")
                else:
                    status.append(RATIO_OK)
    defined = np.array([st == RATIO_OK or st.startswith("no all-wrong") for st in status])
    with np.errstate(divide="ignore", invalid="ignore"):
        r = np.where(defined & np.isfinite(beta_pred) & (beta_pred > 0), beta / beta_pred, np.nan)
    return Sensitivity(
        j=js, n=n0 - js, K=K0 - js, beta=beta,
        beta_ci=np.array([c.beta_ci for c in rows]).reshape(J + 1, 2),
        oracle_gain=np.array([c.oracle_gain for c in rows]),
        gain_bound=np.array([c.gain_bound for c in rows]),
        beta_pred=beta_pred, mean_rho=mean_rho, ratio=r, ratio_status=tuple(status),
        alpha=alpha, delta=delta)
