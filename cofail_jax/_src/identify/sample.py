"""Sampling outcome matrices from a joint error law, and their streamed statistics (JAX)."""

from __future__ import annotations

import functools
import math

import jax
import jax.numpy as jnp
import numpy as np

from .rates import _pearson_from_rates
from .types import ErrorLaw, LawStats


def _law_kind(law: ErrorLaw) -> str:
    if law.table is not None and law.k <= 20:
        return "table"
    if law.exchangeable:
        return "counts"
    raise ValueError("sampler: the law has neither a table nor an exchangeable count law")


def draw_query(kind: str, key, cdf, k: int):
    """Errors (k,) of one query from a table or exchangeable count law.

    One uniform u from the first half of ``split(key)`` picks the atom (``searchsorted``
    on the cumulative probabilities ``cdf``). For ``kind == "table"`` the atom index's bits
    are the errors (bit i = model i wrong); for ``kind == "counts"`` it is the number S of
    wrong models, and the second half of the key draws k uniforms whose S smallest mark a
    uniformly random subset of size S. This is the one sampler of these two law families
    (``cofail_jax.sample_errors`` calls it for its ``table`` and ``exchangeable`` laws).

    Args:
      kind: ``"table"`` or ``"counts"``.
      key: the query's PRNG key.
      cdf: float (2^k,) or (k + 1,) cumulative probabilities, last entry 1.
      k: number of models.

    Returns:
      bool (k,), True = wrong.
    """
    key_atom, key_perm = jax.random.split(key)
    idx = _draw_atom(key_atom, cdf)
    if kind == "table":
        return ((idx >> jnp.arange(k, dtype=jnp.int32)) & 1).astype(bool)
    v = jax.random.uniform(key_perm, (k,), dtype=cdf.dtype)
    thr = jnp.sort(v)[jnp.maximum(idx - 1, 0)]
    return (v <= thr) & (idx > 0)


def _draw_atom(key, cdf):
    u = jax.random.uniform(key, (), dtype=cdf.dtype)
    return jnp.minimum(jnp.searchsorted(cdf, u, side="right"), cdf.shape[0] - 1).astype(jnp.int32)


def _draw_partial(key, cdf, k: int, m: int):
    """The first m of k exchangeable errors of one query, and its count S, in O(m).

    Same S as :func:`draw_query` for the same key; then model j is wrong with probability
    (S - wrong so far) / (k - j), exactly the first m coordinates of a uniform S-subset.
    """
    key_atom, key_seq = jax.random.split(key)
    S = _draw_atom(key_atom, cdf)
    v = jax.random.uniform(key_seq, (m,), dtype=cdf.dtype)

    def step(w, xs):
        j, vj = xs
        bit = vj * (k - j) < (S - w)
        return w + bit.astype(jnp.int32), bit

    _, bits = jax.lax.scan(step, jnp.int32(0), (jnp.arange(m), v))
    return bits, S


def _row_keys(key, start, chunk: int):
    """Query j's key is ``fold_in(key, j)``: rows do not depend on the chunking."""
    idx = (start + jnp.arange(chunk)).astype(jnp.uint32)
    return jax.vmap(jax.random.fold_in, (None, 0))(key, idx)


def _law_cdf(law: ErrorLaw):
    probs = law.table if _law_kind(law) == "table" else law.counts
    cdf = np.cumsum(probs)
    cdf = cdf / cdf[-1]
    return jnp.asarray(cdf)  # the law's own float dtype (float64 from numpy; float32 without x64)


@functools.lru_cache(maxsize=32)
def _sample_fn(kind: str, k: int, chunk: int, n_chunks: int):
    """One compiled program per (law family, k, chunking): a module-level cache."""
    draw = jax.vmap(lambda kq, cdf: draw_query(kind, kq, cdf, k), (0, None))

    @jax.jit
    def sample(key, cdf):
        out = jax.lax.map(lambda c: draw(_row_keys(key, c * chunk, chunk), cdf),
                          jnp.arange(n_chunks))
        return out.reshape(n_chunks * chunk, k)

    return sample


def sample_law(key, law: ErrorLaw, n: int, *, chunk_size: int = 1 << 16):
    """Draw an outcome matrix of n queries from a joint error law (JAX).

    A query is one inverse-CDF draw over the 2^k atoms (``searchsorted`` on the cumulative
    table), then its bits; for an exchangeable count law, a draw of the number S of wrong
    models then a uniformly random subset of size S (:func:`draw_query`). Query j uses
    ``jax.random.fold_in(key, j)``, so the result does not depend on ``chunk_size`` (which
    only bounds memory) and its rows are those :func:`simulate_law_stats` counts.

    Args:
      key: a JAX PRNG key.
      law: an :class:`ErrorLaw`.
      n: number of queries.
      chunk_size: rows per chunk.

    Returns:
      bool jax.Array (n, k), True = wrong.
    """
    kind = _law_kind(law)
    chunk = int(min(chunk_size, max(n, 1)))
    n_chunks = -(-n // chunk)
    out = _sample_fn(kind, law.k, chunk, n_chunks)(key, _law_cdf(law))
    return out[:n]


@functools.lru_cache(maxsize=32)
def _stats_fn(kind: str, k: int, m: int, chunk: int, n_chunks: int):
    """One compiled program per (law family, k, m, chunking): a module-level cache."""
    # Exchangeable law with more models than are tracked: draw S, then only the first m
    # models' bits (_draw_partial), O(m) a row.
    partial = kind == "counts" and m < k
    kt = m if partial else k
    draw = jax.vmap(lambda kq, cdf: draw_query(kind, kq, cdf, k), (0, None))
    draw_m = jax.vmap(lambda kq, cdf: _draw_partial(kq, cdf, k, m), (0, None))

    @jax.jit
    def stats(key, cdf, n):
        def body(c, carry):
            ni, nij, hist = carry
            valid = (c * chunk + jnp.arange(chunk)) < n
            keys = _row_keys(key, c * chunk, chunk)
            if partial:
                e, s = draw_m(keys, cdf)
            else:
                e = draw(keys, cdf)
                s = e.sum(1)
            e = e & valid[:, None]
            ef = e.astype(jnp.float32)
            ni = ni + ef.sum(0).astype(jnp.int64)
            em = ef[:, :m]
            nij = nij + jnp.round(em.T @ em).astype(jnp.int64)
            s = jnp.where(valid, s, k + 1)
            hist = hist + jnp.bincount(s, length=k + 2).astype(jnp.int64)
            return ni, nij, hist

        init = (jnp.zeros(kt, jnp.int64), jnp.zeros((m, m), jnp.int64),
                jnp.zeros(k + 2, jnp.int64))
        return jax.lax.fori_loop(0, n_chunks, body, init)

    return stats


def simulate_law_stats(key, law: ErrorLaw, n: int, *, chunk_size: int = 1 << 16,
                   max_pairs_models: int = 64) -> LawStats:
    """Empirical marginals, pairwise rates and correlations, and beta of n draws.

    Streams over chunks (memory O(chunk_size * k + k^2)); counts are exact integers. For
    an exchangeable count law with k > ``max_pairs_models`` only the first
    ``max_pairs_models`` models are drawn (sequentially, O(m) per row) besides the count S,
    so ``p`` then has that length; :func:`sample_law` always returns every model.
    Standard errors: binomial for rates and beta, delta method for Pearson correlations
    (multinomial covariance of the three indicator means).

    Args:
      key: JAX PRNG key (query j uses ``fold_in(key, j)``).
      law: the :class:`ErrorLaw`.
      n: draws.
      chunk_size: rows per chunk.
      max_pairs_models: pairwise statistics for the first this-many models.

    Returns:
      :class:`LawStats`.
    """
    kind = _law_kind(law)
    k = law.k
    m = min(k, max_pairs_models)
    chunk = int(min(chunk_size, max(n, 1)))
    n_chunks = -(-n // chunk)
    ni, nij, hist = _stats_fn(kind, k, m, chunk, n_chunks)(key, _law_cdf(law), jnp.int64(n))
    ni, nij, hist = np.asarray(ni), np.asarray(nij), np.asarray(hist)[: k + 1]
    p = ni / n
    p2 = nij / n
    pm = p[:m]
    p_se = np.sqrt(p * (1 - p) / n)
    p2_se = np.sqrt(p2 * (1 - p2) / n)
    pear = _pearson_from_rates(pm, p2)
    a, b, c = pm[:, None], pm[None, :], p2
    with np.errstate(invalid="ignore", divide="ignore"):
        D = np.sqrt(a * (1 - a) * b * (1 - b))
        ga = -b / D - pear * (1 - 2 * a) / (2 * a * (1 - a))
        gb = -a / D - pear * (1 - 2 * b) / (2 * b * (1 - b))
        gc = 1 / D
        var = (ga * ga * a * (1 - a) + gb * gb * b * (1 - b) + gc * gc * c * (1 - c)
               + 2 * ga * gb * (c - a * b) + 2 * ga * gc * c * (1 - a) + 2 * gb * gc * c * (1 - b))
        pear_se = np.sqrt(np.clip(var, 0, None) / n)
    np.fill_diagonal(pear, 1.0)
    np.fill_diagonal(pear_se, 0.0)
    beta = hist[k] / n
    return LawStats(n=n, p=p, p_se=p_se, p2=p2, p2_se=p2_se, pearson=pear, pearson_se=pear_se,
                    beta=float(beta), beta_se=float(math.sqrt(beta * (1 - beta) / n)),
                    count_hist=hist)

