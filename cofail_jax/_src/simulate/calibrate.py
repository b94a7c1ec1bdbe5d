"""Laws fitted to a real outcome matrix (accuracies exactly, pairwise structure by law).

The tetrachoric matrix, the one-factor loadings and the positive-definite repair come
from the library's engines (``tetrachoric_from_rates``, ``fit_loadings``,
``nearest_correlation``).
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from ..onefactor import fit_loadings
from ..outcomes import outcome_array
from ..repair import nearest_correlation
from .irt import _irt_log_pwrong, irt_abilities
from .laws import (KINDS, Law, clayton_law, common_shock_law, gaussian_law, independent_law,
                   irt_law, onefactor_law)
from .underpricing import exact_tetrachoric


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


def _cal_independent(p, q, target_pair, **_):
    return Calibration(independent_law(p), p, q, "accuracies", "OK")


def _cal_onefactor(p, q, target_pair, **_):
    k = p.size
    r = exact_tetrachoric(p, q)
    lam = (np.asarray(fit_loadings(np.where(np.eye(k, dtype=bool), 0.0, r)).loadings)
           if k > 1 else np.zeros(1))
    return Calibration(onefactor_law(p, np.clip(lam, -0.995, 0.995)), p, q,
                       "accuracies; loadings fitted to the tetrachoric matrix", "OK")


def _cal_gaussian(p, q, target_pair, **_):
    r = exact_tetrachoric(p, q)
    return Calibration(gaussian_law(p, np.asarray(nearest_correlation(r, eps=1e-3).corr)), p, q,
                       "accuracies; correlation = tetrachoric matrix (made positive definite)",
                       "OK")


def _cal_clayton(p, q, target_pair, *, theta=None, **_):
    iu = np.triu_indices(p.size, 1)
    if theta is None:

        def loss(lt):
            th = math.exp(lt)
            pij = (p[iu[0]] ** -th + p[iu[1]] ** -th - 1) ** (-1 / th)
            return (pij.mean() - target_pair) ** 2

        theta = math.exp(_golden(loss, math.log(1e-3), math.log(50.0)))
        matched = "accuracies; theta matches the mean pairwise both-wrong rate"
    else:
        matched = "accuracies; theta given"
    return Calibration(clayton_law(p, theta), p, q, matched, "OK")


def _cal_common_shock(p, q, target_pair, *, omega=None, **_):
    iu = np.triu_indices(p.size, 1)
    pmin = float(p.min())
    status = "OK"
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


def _cal_irt(p, q, target_pair, *, irt_log_disc=(0.3, 0.3), **_):
    k = p.size
    lm, ls = irt_log_disc
    status = "OK"

    def law_for(sd):
        th = irt_abilities(1 - p, difficulty_sd=sd, log_disc_mean=lm, log_disc_sd=ls)
        return {
            "ability": th,
            "difficulty_mean": 0.0,
            "difficulty_sd": sd,
            "log_disc_mean": lm,
            "log_disc_sd": ls,
        }

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
    return Calibration(law, p, q,
                       "accuracies; difficulty spread matches the mean pairwise both-wrong rate",
                       status)


# law kind -> (p, q, target mean pairwise both-wrong rate, options) -> Calibration
_CALIBRATE = {
    "independent": _cal_independent,
    "onefactor": _cal_onefactor,
    "gaussian": _cal_gaussian,
    "clayton": _cal_clayton,
    "common_shock": _cal_common_shock,
    "irt": _cal_irt,
}


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
    if kind not in _CALIBRATE:
        raise NotImplementedError(f"calibrate: unknown law kind {kind!r}; choose from {KINDS}")
    return _CALIBRATE[kind](p, q, target_pair, omega=omega, theta=theta,
                            irt_log_disc=irt_log_disc)


calibrate = calibrate_law  # short name used by the CLI and tests
