"""2PL item-response quadrature and abilities (numpy, deterministic).

The 2PL law's query latent (difficulty b, discrimination a) is integrated by a trapezoid
rule in b times Gauss-Hermite in log a; :func:`irt_abilities` solves each model's ability
for a target accuracy by bisection; :data:`BENCHMARK_IRT` is the standard synthetic pool's law.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence

import numpy as np


def logsumexp(a, axis=None):
    from scipy.special import logsumexp as lse

    return lse(a, axis=axis)


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
    return np.array([math.exp(logsumexp(lw + lp.sum(axis=1)))])


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


