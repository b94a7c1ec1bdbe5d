"""Clayton copula: theta matched to the mean pairwise both-wrong rate; lower-tail
dependence 2^(-1/theta). Closed form C(p_1..p_k), or Monte Carlo over the gamma frailty
(:mod:`..clayton`, Marshall and Olkin 1988)."""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp

from .. import clayton as _clay
from . import CLOSED_FORM, MC, Copula, PairStats, PricingOptions, estimate, mean_over


class Params(NamedTuple):
    p_wrong: jax.Array  # (K,), 1 excludes a model
    theta: jax.Array
    p_both_mean: jax.Array  # the calibration target (mean over calibrating pairs)
    fit_status: jax.Array  # 0 ok, 1 theta at its floor (no positive dependence), 2 ceiling


def make(opts: PricingOptions) -> Copula:
    if opts.clayton_method not in ("closed form", "mc"):
        raise NotImplementedError(f"clayton: method must be 'closed form' or 'mc', got "
                                  f"{opts.clayton_method!r}")
    n_mc = opts.n_samples()

    def calibrate(stats: PairStats, pair_w) -> Params:
        target = mean_over(stats.p_both, pair_w)
        fit = _clay.calibrate_clayton(None, stats.p_wrong, target, weights=pair_w)
        return Params(stats.p_wrong, fit.theta, target, fit.status)

    def log_beta(key, p: Params):
        if opts.clayton_method == "mc":
            b, se = _clay.clayton_beta(key, p.p_wrong, p.theta, n_mc)
            return estimate(jnp.log(b), se, 0, MC, n_mc)
        return estimate(_clay.clayton_log_beta_exact(p.p_wrong, p.theta), 0.0, 0, CLOSED_FORM, 0)

    def sample(key, p: Params, n: int):
        kv, ke = jax.random.split(key)
        th = p.theta
        v = jax.random.gamma(kv, 1.0 / th, (n, 1), p.p_wrong.dtype)
        e = jax.random.exponential(ke, (n, p.p_wrong.shape[0]), p.p_wrong.dtype)
        # U = (1 + E/V)^(-1/theta) <= p  <=>  log1p(E/V) >= -theta log p
        return jnp.log1p(e / v) >= -th * jnp.log(p.p_wrong)[None, :]

    def tail(p: Params):
        k = p.p_wrong.shape[0]
        return jnp.where(jnp.eye(k, dtype=bool), 1.0, _clay.clayton_tail_dependence(p.theta))

    return Copula(
        name="clayton", label="Clayton", colour="tab:red", calibrate=calibrate,
        log_beta=log_beta, sample=sample, tail_dependence=tail,
        summary=lambda p: {"theta": p.theta, "tail_dependence": _clay.clayton_tail_dependence(p.theta),
                           "p_both_mean": p.p_both_mean, "fit_status": p.fit_status})
