"""Drawing outcome matrices from a law: blocks of queries from counter-based keys.

Sampling definition: queries are drawn in blocks of :data:`BLOCK` rows; block ``b`` (rows
``b * BLOCK`` to ``(b + 1) * BLOCK - 1``) uses ``fold_in(key, b)`` alone, split into a law
key (``jax.random`` draws of the copula, table and exchangeable laws) and a seed key
(four 64-bit seeds of SplitMix64 streams: the cells' uint32 words, two per-query
variables, the artefact flag), and draws the whole block at once (one Cholesky factor,
one call of the copula's ``sample``). A matrix of n rows is the first n rows of its blocks, so it
does not depend on the chunk size that bounds memory; :data:`BLOCK` is part of the law's
sampling definition (changing it changes the draws).
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

import jax
import jax.numpy as jnp
import numpy as np
from jax.scipy.special import ndtr, ndtri

from ..identify.sample import draw_query
from .exact import true_beta
from .laws import Law, benchmark_law

BLOCK = 1024
"""Queries per counter-based block (part of the sampling definition)."""


def _copula_params(kind: str, P):
    """The copula (registry name) and its ``Params`` of a copula law (jnp parameters)."""
    from .. import copulas as C
    from ..copulas import clayton, gaussian, student_t

    if kind == "gaussian":
        return C.get("gaussian"), gaussian.Params(P["tau"], P["corr"], {})
    if kind == "clayton":
        return C.get("clayton"), clayton.Params(P["p_wrong"], P["theta"], jnp.nan, 0)
    return C.get("student_t"), student_t.Params(P["t"], P["corr"], P["nu"], jnp.nan, jnp.nan, {})


COPULA_LAWS = ("gaussian", "clayton", "student_t")
"""Laws drawn through their copula's ``sample``: the law and its pricer cannot drift.

The one-factor law is drawn from its conditional error rates instead (see
:func:`_draw_block`); its empirical beta is tested against the quadrature true beta."""


# ---------------------------------------------------------------------------------------
# counter-based bits of a block: SplitMix64 streams seeded from the block's threefry key

_GOLDEN = 0x9E3779B97F4A7C15
_MIX1 = 0xBF58476D1CE4E5B9
_MIX2 = 0x94D049BB133111EB
_STREAMS = 4
"""Seeds drawn per block: cells, first and second per-query variable, artefacts."""


def _splitmix64(seed, ctr):
    """SplitMix64 (Steele, Lea & Flood 2014) output number ``ctr`` from state ``seed``.

    Output j is ``mix(seed + (j + 1) * golden)``, a pure function of (seed, j): the
    counter-based form of the generator (its stream passes BigCrush), vectorised by XLA.
    """
    z = seed + (ctr + jnp.uint64(1)) * jnp.uint64(_GOLDEN)
    z = (z ^ (z >> jnp.uint64(30))) * jnp.uint64(_MIX1)
    z = (z ^ (z >> jnp.uint64(27))) * jnp.uint64(_MIX2)
    return z ^ (z >> jnp.uint64(31))


def _bits32(seed, rows: int, cols: int):
    """(rows, cols) uint32 words: the high halves of SplitMix64 outputs 0 .. rows * cols - 1.

    The counter is built from 2-D iotas (row-major): a flat counter reshaped to
    (rows, cols) makes XLA divide by ``cols`` per element and runs 8x slower.
    """
    ctr = (jax.lax.broadcasted_iota(jnp.uint64, (rows, cols), 0) * jnp.uint64(cols)
           + jax.lax.broadcasted_iota(jnp.uint64, (rows, cols), 1))
    return (_splitmix64(seed, ctr) >> jnp.uint64(32)).astype(jnp.uint32)


def _uniform(seed, rows: int):
    """(rows, 1) float64 uniforms on the open grid (j + 1/2) 2^-53 of (0, 1)."""
    z = _splitmix64(seed, jax.lax.broadcasted_iota(jnp.uint64, (rows, 1), 0)) >> jnp.uint64(11)
    return (z.astype(jnp.float64) + 0.5) * 2.0 ** -53


def _wrong(bits, p):
    """``bits >> 1 < floor(p 2^31)``: True with probability within 2^-31 below p.

    Compared as int32 (the float-to-signed conversion is a vector instruction on x86;
    float-to-unsigned is not, and costs ten times the rest of the cell).
    """
    top = jnp.nextafter(jnp.asarray(2.0 ** 31, p.dtype), jnp.asarray(0.0, p.dtype))
    thr = jnp.minimum(jnp.floor(jnp.clip(p, 0.0, 1.0) * jnp.asarray(2.0 ** 31, p.dtype)), top)
    return (bits >> jnp.uint32(1)).astype(jnp.int32) < thr.astype(jnp.int32)


F32 = jnp.float32

BITS_LAWS = ("independent", "onefactor", "common_shock", "irt")
"""Laws drawn by comparing uint32 bits with per-cell thresholds (resolution 2^-32)."""


def _draw_block(kind: str, key, p, params, artefact):
    """Errors (BLOCK, k) of one block from its key ``fold_in(key, b)``.

    The independent, one-factor, common-shock and 2PL laws give each cell (query j, model
    i) its conditional error probability p_ji given the query's own variables (none; the
    factor F_j; the shock; difficulty and discrimination) and mark it wrong iff the high
    31 bits of a uint32 word fall below floor(p_ji 2^31) (:func:`_wrong`). Query variables
    are float64 (53-bit uniforms, normals by ``ndtri``); words come from SplitMix64 streams
    seeded by ``jax.random.bits`` of the block key. Resolution: independent and
    common-shock rates are float64, so each cell's error probability is within 2^-31 of
    the law's; the one-factor Phi((tau - lam F) / sqrt(1 - lam^2)) and the 2PL
    sigmoid(a (b - theta)) are computed per cell in float32 (float64 ``ndtr`` costs 15x
    more), so within about 1e-7 relative (2^-24 absolute at worst) of the law's. The
    other laws use ``jax.random`` as before.
    """
    k = p.shape[0]
    key_law, key_seeds = jax.random.split(key)
    seeds = jax.random.bits(key_seeds, (_STREAMS,), jnp.uint64)
    cells = _bits32(seeds[0], BLOCK, k) if kind in BITS_LAWS else None
    if kind == "independent":
        err = _wrong(cells, p[None, :])
    elif kind == "onefactor":
        # Z_i = lam_i F + sqrt(1 - lam_i^2) E_i <= tau_i  <=>  wrong with probability
        # Phi((tau_i - lam_i F) / sqrt(1 - lam_i^2)) given F
        lam = params["loadings"]
        f = ndtri(_uniform(seeds[1], BLOCK))
        s = jnp.sqrt(1.0 - lam ** 2)
        c = (params["tau"] / s)[None, :].astype(F32) - (lam / s)[None, :].astype(F32) * f.astype(F32)
        err = _wrong(cells, ndtr(c))
    elif kind == "common_shock":
        shock = _uniform(seeds[1], BLOCK) < params["omega"]
        err = _wrong(cells, params["alpha"][None, :]) | shock
    elif kind == "irt":
        b = params["difficulty_mean"] + params["difficulty_sd"] * ndtri(_uniform(seeds[1], BLOCK))
        a = jnp.exp(params["log_disc_mean"]
                    + params["log_disc_sd"] * ndtri(_uniform(seeds[2], BLOCK)))
        # P(wrong | a, b) = sigmoid(a (b - theta_i))
        x = a.astype(F32) * (b.astype(F32) - params["ability"][None, :].astype(F32))
        err = _wrong(cells, 1.0 / (1.0 + jnp.exp(-x)))
    elif kind in COPULA_LAWS:
        cop, cp = _copula_params(kind, params)
        err = cop.sample(key_law, cp, BLOCK)
    elif kind in ("table", "exchangeable"):  # the identify sampler of these laws, per query
        keys = jax.vmap(jax.random.fold_in, (None, 0))(key_law, jnp.arange(BLOCK, dtype=jnp.uint32))
        how = "table" if kind == "table" else "counts"
        err = jax.vmap(lambda kq: draw_query(how, kq, params["cdf"], k))(keys)
    else:
        raise NotImplementedError(f"sample_errors: unknown law kind {kind!r}")
    art = _uniform(seeds[3], BLOCK) < artefact
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
    # the SplitMix64 streams need uint64 arithmetic, also when the caller turned x64 off
    with jax.enable_x64(True):
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
