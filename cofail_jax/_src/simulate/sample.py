"""Drawing outcome matrices from a law: blocks of queries from counter-based keys.

Sampling definition: queries are drawn in blocks of :data:`BLOCK` rows; block ``b`` (rows
``b * BLOCK`` to ``(b + 1) * BLOCK - 1``) uses ``fold_in(key, b)`` alone, split into a law
key and an artefact key, and draws the whole block at once (one Cholesky factor, one call
of the copula's ``sample``). A matrix of n rows is the first n rows of its blocks, so it
does not depend on the chunk size that bounds memory; :data:`BLOCK` is part of the law's
sampling definition (changing it changes the draws).
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

import jax
import jax.numpy as jnp
import numpy as np

from ..identify.sample import draw_query
from .exact import true_beta
from .laws import Law, benchmark_law

BLOCK = 1024
"""Queries per counter-based block (part of the sampling definition)."""


def _copula_params(kind: str, P):
    """The copula (registry name) and its ``Params`` of a copula law (jnp parameters)."""
    from .. import copulas as C
    from ..copulas import clayton, equal_loading, gaussian, student_t

    if kind == "onefactor":
        return C.get("equal_loading"), equal_loading.Params(P["tau"], P["loadings"], jnp.nan)
    if kind == "gaussian":
        return C.get("gaussian"), gaussian.Params(P["tau"], P["corr"], {})
    if kind == "clayton":
        return C.get("clayton"), clayton.Params(P["p_wrong"], P["theta"], jnp.nan, 0)
    return C.get("student_t"), student_t.Params(P["t"], P["corr"], P["nu"], jnp.nan, jnp.nan, {})


COPULA_LAWS = ("onefactor", "gaussian", "clayton", "student_t")
"""Laws drawn through their copula's ``sample``: the law and its pricer cannot drift."""


def _draw_block(kind: str, key, p, params, artefact):
    """Errors (BLOCK, k) of one block from its key ``fold_in(key, b)``."""
    k = p.shape[0]
    key_law, key_art = jax.random.split(key)
    if kind == "independent":
        err = jax.random.uniform(key_law, (BLOCK, k), p.dtype) < p[None, :]
    elif kind == "common_shock":
        ks, ku = jax.random.split(key_law)
        shock = jax.random.uniform(ks, (BLOCK, 1), p.dtype) < params["omega"]
        err = (jax.random.uniform(ku, (BLOCK, k), p.dtype) < params["alpha"][None, :]) | shock
    elif kind in COPULA_LAWS:
        cop, cp = _copula_params(kind, params)
        err = cop.sample(key_law, cp, BLOCK)
    elif kind == "irt":
        kb, ka, ku = jax.random.split(key_law, 3)
        b = params["difficulty_mean"] + params["difficulty_sd"] * jax.random.normal(kb, (BLOCK, 1))
        a = jnp.exp(params["log_disc_mean"]
                    + params["log_disc_sd"] * jax.random.normal(ka, (BLOCK, 1)))
        # wrong iff U < sigmoid(x), x = a (b - theta), i.e. U (1 + exp(-x)) < 1
        x = a * (b - params["ability"][None, :])
        u = jax.random.uniform(ku, (BLOCK, k), p.dtype)
        err = u * (1.0 + jnp.exp(-x)) < 1.0
    elif kind in ("table", "exchangeable"):  # the identify sampler of these laws, per query
        keys = jax.vmap(jax.random.fold_in, (None, 0))(key_law, jnp.arange(BLOCK, dtype=jnp.uint32))
        how = "table" if kind == "table" else "counts"
        err = jax.vmap(lambda kq: draw_query(how, kq, params["cdf"], k))(keys)
    else:
        raise NotImplementedError(f"sample_errors: unknown law kind {kind!r}")
    art = jax.random.uniform(key_art, (BLOCK, 1), p.dtype) < artefact
    return err | art


@functools.lru_cache(maxsize=64)
def _chunk_sampler(kind: str):
    def chunk(key, first_block, blocks_arr, p, params, artefact):
        idx = first_block + jnp.arange(blocks_arr.shape[0], dtype=jnp.uint32)
        keys = jax.vmap(jax.random.fold_in, (None, 0))(key, idx)
        out = jax.vmap(lambda kb: _draw_block(kind, kb, p, params, artefact))(keys)
        return out.reshape(-1, p.shape[0])

    return jax.jit(chunk)


def _jax_params(law: Law):
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

    Block b of :data:`BLOCK` queries uses ``fold_in(key, b)``: the result does not depend
    on ``chunk_size``, which only bounds memory (rounded up to whole blocks).

    Args:
      key: a ``jax.random`` key.
      law: the :class:`Law`.
      n_queries: number of rows.
      chunk_size: rows drawn per compiled call.

    Returns:
      numpy bool array (n_queries, k).
    """
    if n_queries < 0:
        raise ValueError(f"sample_errors: n_queries must be >= 0, got {n_queries}")
    if chunk_size < 1:
        raise ValueError(f"sample_errors: chunk_size must be >= 1, got {chunk_size}")
    fn = _chunk_sampler(law.kind)
    p = jnp.asarray(law.p_wrong)
    params = _jax_params(law)
    art = jnp.asarray(law.artefact, dtype=p.dtype)
    out = np.empty((n_queries, law.k), dtype=bool)
    n_blocks = -(-n_queries // BLOCK)
    per_call = min(max(-(-chunk_size // BLOCK), 1), max(n_blocks, 1))
    dummy = jnp.zeros((per_call,), dtype=jnp.int8)
    for first in range(0, n_blocks, per_call):
        start = first * BLOCK
        stop = min(start + per_call * BLOCK, n_queries)
        block = np.asarray(fn(key, jnp.uint32(first), dummy, p, params, art))
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
    from ..matrix import OutcomeMatrix

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


def benchmark_pool(key, n_queries: int = 330, n_models: int = 67):
    """The standard synthetic benchmark pool: a 2PL item-response law, deterministic per key.

    Model accuracies are spread evenly from 0.30 to 0.90 (the range of the real MATH
    level-5 / MMLU-Pro pools in ``/work/shared/data``); query difficulty
    b ~ N(0, 3.0^2), discrimination a = exp(N(0.3, 0.3^2)), abilities solved so each model's
    marginal accuracy is exact. With 67 models the law's beta is 2.8 % (about 9 of 330
    queries all wrong), like the real MATH level-5 pool's 2.5 %.

    Args:
      key: a ``jax.random`` key (block b of queries uses ``fold_in(key, b)``).
      n_queries: rows.
      n_models: columns.

    Returns:
      :class:`OutcomeMatrix`; ``model_meta['true_error_rate']`` holds each model's error
      rate and ``notes`` the law's true beta.
    """
    return simulate(key, benchmark_law(n_models), n_queries)
