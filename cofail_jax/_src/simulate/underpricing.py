"""Exact underpricing: the law's true beta against the pricing core's fitted one-factor
price calibrated to the law's own 2 x 2 tables (no sampling)."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from .. import copulas as C
from .. import pricing as P
from ..tetrachoric import tetrachoric_from_rates
from .exact import pair_both_wrong, true_beta
from .laws import Law


def exact_tetrachoric(p_wrong, both_wrong, *, with_status: bool = False):
    """(k, k) tetrachoric matrix of exact error and both-wrong rates (the library's
    ``tetrachoric_from_rates``; boundary pairs at +-1, unit diagonal), and with
    ``with_status`` its (k, k) status codes (OK on the diagonal)."""
    p = np.asarray(p_wrong, np.float64)
    q = np.asarray(both_wrong, np.float64)
    pi, pj = np.broadcast_arrays(p[:, None], p[None, :])
    res = tetrachoric_from_rates(pi, pj, q)
    r = np.asarray(res.rho)
    r = 0.5 * (r + r.T)
    np.fill_diagonal(r, 1.0)
    if not with_status:
        return r
    status = np.asarray(res.status, np.int32).copy()
    np.fill_diagonal(status, 0)
    return r, status


class Underpricing(NamedTuple):
    """Ratio of the true beta to the pairwise-calibrated one-factor price, by pool size.

    Attributes:
      m: pool sizes (the first m models of ``order``).
      beta_true: the law's beta of each sub-pool.
      beta_pred: fitted one-factor price (the pricing core's ``fitted_loading`` copula)
        calibrated to the law's exact 2 x 2 tables.
      ratio: beta_true / beta_pred.
    """

    m: np.ndarray
    beta_true: np.ndarray
    beta_pred: np.ndarray
    ratio: np.ndarray


@functools.lru_cache(maxsize=1)
def _fitted_price():
    cop = C.get("fitted_loading")

    def price(stats, mask):
        ps, pair_w = P.subset_stats(stats, mask)
        return cop.log_beta(jax.random.key(0), cop.calibrate(ps, pair_w)).log_beta

    return jax.jit(jax.vmap(price, in_axes=(None, 0)))


def underpricing_curve(
    law: Law, order: Sequence[int] | None = None, sizes: Sequence[int] | None = None
) -> Underpricing:
    """Exact (no sampling) underpricing ratio beta_true / beta_pred(fitted one-factor).

    The tetrachoric correlations come from the law's own pairwise error rates
    (:func:`pair_both_wrong`), so the only discrepancy is the model: under a Gaussian law
    the ratio is 1, under common-shock and Clayton laws it grows with the pool size. Every
    pool size is priced by one compiled call of the pricing core's copula.
    """
    from scipy.special import ndtri

    order = np.arange(law.k) if order is None else np.asarray(order)
    sizes = np.arange(1, order.size + 1) if sizes is None else np.asarray(sizes)
    q = pair_both_wrong(law)
    p = law.marginal_error
    r, status = exact_tetrachoric(p, q, with_status=True)
    k = p.size
    # padded to a multiple of 16 models (outside every mask) and one mask per prefix size,
    # so pools up to 16, 32, ... models share one compiled program
    kp = -(-k // 16) * 16
    pp = np.full(kp, 0.5)
    pp[:k] = p
    rp, qp, sp = np.eye(kp), np.zeros((kp, kp)), np.zeros((kp, kp), np.int32)
    rp[:k, :k], qp[:k, :k], sp[:k, :k] = r, q, status
    stats = P.PoolStats(p_wrong=jnp.asarray(pp), tau=jnp.asarray(ndtri(pp)), rho=jnp.asarray(rp),
                        phi=jnp.zeros((kp, kp)), p_both=jnp.asarray(qp),
                        status=jnp.asarray(sp), total=jnp.asarray(1.0))
    masks = np.zeros((kp, kp), bool)
    for m in range(1, order.size + 1):
        masks[m - 1, order[:m]] = True
    bp_all = np.exp(np.asarray(_fitted_price()(stats, jnp.asarray(masks))))
    bp = bp_all[np.asarray(sizes) - 1]
    bt = np.array([true_beta(law, order[:m]).beta for m in sizes])
    return Underpricing(np.asarray(sizes), bt, bp, bt / bp)
