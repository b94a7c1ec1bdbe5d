"""Botev's minimax exponential tilting (method ``"tilting"``, Botev 2017)."""

from __future__ import annotations

import jax
import jax.numpy as jnp
from jax.scipy.special import log_ndtr

from ..sharding import map_chunks
from .common import NONFINITE, NOT_CONVERGED, OK, OrthantResult, _factor, ndtri_log
from .progress import ticking

N_TILT_NEWTON = 40
N_BACKTRACK = 12


def _psi(y, Lt, ut):
    """Botev's psi(x, mu) for upper limits only, y = (x_1..x_{d-1}, mu_1..mu_{d-1})."""
    d = ut.shape[0]
    x = jnp.concatenate([y[: d - 1], jnp.zeros((1,), y.dtype)])
    mu = jnp.concatenate([y[d - 1:], jnp.zeros((1,), y.dtype)])
    c = Lt @ x  # strictly lower part
    return jnp.sum(0.5 * mu * mu - x * mu + log_ndtr(ut - c - mu))


def tilting_saddle(t, L):
    """Solve grad psi = 0 by damped Newton; returns (x, mu, psi*, grad norm)."""
    d = t.shape[0]
    diag = jnp.diag(L)
    Lt = L / diag[:, None] - jnp.eye(d, dtype=L.dtype)
    ut = t / diag
    grad = jax.grad(_psi)
    hess = jax.hessian(_psi)
    steps = 0.5 ** jnp.arange(N_BACKTRACK, dtype=t.dtype)

    def body(_, y):
        g = grad(y, Lt, ut)
        H = hess(y, Lt, ut)
        dy = jnp.linalg.solve(H, -g)
        dy = jnp.where(jnp.all(jnp.isfinite(dy)), dy, -g)
        cand = y[None, :] + steps[:, None] * dy[None, :]
        norms = jax.vmap(lambda z: jnp.sum(grad(z, Lt, ut) ** 2))(cand)
        norms = jnp.where(jnp.isfinite(norms), norms, jnp.inf)
        g0 = jnp.sum(g * g)
        better = norms < g0
        first = jnp.argmax(better)
        return jnp.where(jnp.any(better), cand[first], y)

    y = jax.lax.fori_loop(0, N_TILT_NEWTON, body, jnp.zeros((2 * (d - 1),), t.dtype))
    gnorm = jnp.sqrt(jnp.sum(grad(y, Lt, ut) ** 2))
    x = jnp.concatenate([y[: d - 1], jnp.zeros((1,), t.dtype)])
    mu = jnp.concatenate([y[d - 1:], jnp.zeros((1,), t.dtype)])
    return x, mu, _psi(y, Lt, ut), gnorm, Lt, ut


def _tilt_logw(U, Lt, ut, mu):
    n, d = U.shape

    def body(i, st):
        z, lw = st
        c = z @ Lt[i]
        b = ut[i] - c - mu[i]
        lp = log_ndtr(b)
        zi = mu[i] + ndtri_log(jnp.log(U[:, i]) + lp)
        lw = lw + 0.5 * mu[i] * mu[i] - zi * mu[i] + lp
        return z.at[:, i].set(zi), lw

    _, lw = jax.lax.fori_loop(0, d, body, (jnp.zeros_like(U), jnp.zeros((n,), U.dtype)))
    return lw


def _tilting(key, tau, corr, *, n_chunks, chunk, mesh, reorder, progress=None):
    d = tau.shape[0]
    dtype = tau.dtype
    t, L, ok = _factor(tau, corr, reorder)
    _, mu, psi_star, gnorm, Lt, ut = tilting_saddle(t, L)

    def one(c, key, Lt, ut, mu, psi_star):
        U = jax.random.uniform(jax.random.fold_in(key, c), (chunk, d), dtype,
                               minval=jnp.finfo(dtype).tiny)
        lw = _tilt_logw(U, Lt, ut, mu) - psi_star
        w = jnp.exp(lw)
        return jnp.sum(w), jnp.sum(w * w)

    one = ticking(one, progress, n_chunks, chunk)
    s1, s2 = map_chunks(one, n_chunks, mesh, key, Lt, ut, mu, psi_star)
    n = n_chunks * chunk
    m1 = jnp.sum(s1) / n
    m2 = jnp.sum(s2) / n
    var = jnp.maximum(m2 - m1 * m1, 0.0) * n / (n - 1)
    logp = psi_star + jnp.log(m1)
    se = jnp.exp(psi_star) * jnp.sqrt(var / n)
    status = jnp.where(ok & jnp.isfinite(logp), OK, NONFINITE)
    status = jnp.where((status == OK) & ~(gnorm < 1e-6), NOT_CONVERGED, status)
    return OrthantResult(prob=jnp.exp(logp), std_err=se, log_prob=logp,
                         n_samples=jnp.asarray(n), hits=jnp.asarray(-1),
                         status=status.astype(jnp.int32), method=jnp.asarray(2))

