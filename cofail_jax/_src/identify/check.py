"""Simulation check: two laws agree on pairwise statistics within Monte Carlo error, not on beta."""

from __future__ import annotations

import math

import jax
import numpy as np

from .sample import simulate_law_stats
from .types import ErrorLaw, SimulationCheck


def _max_z(est, se, truth, floor):
    est, se, truth = (np.asarray(v, dtype=np.float64) for v in (est, se, truth))
    ok = np.isfinite(est) & np.isfinite(truth)
    if not ok.any():
        return 0.0
    z = np.abs(est[ok] - truth[ok]) / np.maximum(se[ok], floor)
    return float(z.max())


def verify_by_simulation(key, law_min: ErrorLaw, law_max: ErrorLaw, n: int = 1_000_000, *,
                         z_tol: float | None = None, chunk_size: int = 1 << 16) -> SimulationCheck:
    """Draw n queries from each law; pairwise statistics agree, beta differs.

    For each law, compares empirical error rates, both-wrong rates and Pearson
    correlations with the law's exact values in units of their standard errors, and
    tests the beta difference against its combined standard error.

    Args:
      key: JAX PRNG key; the laws use ``fold_in(key, 0)`` and ``fold_in(key, 1)``.
      law_min, law_max: two laws with equal marginals and pairwise rates.
      n: draws per law (>= 1,000,000 for the published check).
      z_tol: threshold in standard errors; default max(4, the two-sided Bonferroni
        normal quantile at family level 1e-4 over all the comparisons made).

    Returns:
      :class:`SimulationCheck`.
    """
    st = [simulate_law_stats(jax.random.fold_in(key, i), law, n, chunk_size=chunk_size)
          for i, law in enumerate((law_min, law_max))]
    floor = 1.0 / n
    if z_tol is None:
        from scipy.special import ndtri

        mm = st[0].p2.shape[0]
        n_tests = 2 * (st[0].p.shape[0] + mm * (mm + 1) // 2 + mm * (mm - 1) // 2)
        z_tol = max(4.0, float(-ndtri(1e-4 / (2 * n_tests))))
    zm = zp = zr = 0.0
    for s, law in zip(st, (law_min, law_max)):
        m = s.p2.shape[0]
        zm = max(zm, _max_z(s.p, s.p_se, law.p[: s.p.shape[0]], floor))
        zp = max(zp, _max_z(s.p2, s.p2_se, law.p2[:m, :m], floor))
        zr = max(zr, _max_z(s.pearson, s.pearson_se, law.pearson[:m, :m], floor))
    se = math.sqrt(st[0].beta_se ** 2 + st[1].beta_se ** 2)
    zb = (st[1].beta - st[0].beta) / max(se, floor)
    return SimulationCheck(st[0], st[1], zm, zp, zr, float(zb),
                           bool(max(zm, zp, zr) < z_tol), bool(zb > z_tol), z_tol,
                           "law_min: fold_in(key, 0); law_max: fold_in(key, 1); query j: "
                           "fold_in(., j)")

