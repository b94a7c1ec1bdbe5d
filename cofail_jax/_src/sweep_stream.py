"""The sweep's query bootstrap for pools too large for its micro-batch program.

:func:`..sweep.make_bootstrap` computes each replicate's all-pairs statistics inside a
jitted micro-batch of :data:`..sweep.MICRO` replicates: every pair's Newton iterate of
every replicate is held at once, which does not fit at K in the thousands (8 million
pairs at 4,000 models). Above ``tetrachoric.PAIR_CHUNK`` pairs the sweep driver uses
:func:`make_streamed_bootstrap` instead: one replicate at a time, its statistics by the
pair-chunked tetrachoric outside jit (bounded memory, spread over ``devices``, as the
full pool's statistics and ``cofail price``), then the pool priced by one jitted program.

Replicate i draws its resample and its Monte Carlo key exactly as in
:func:`..sweep.make_bootstrap` (``split(fold_in(key_boot, i))``), so the resamples are
identical; the statistics agree with the fused program's to rounding (the chunked and
fused tetrachoric solve the same equations), and a replicate's numbers depend on i alone.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

import jax
import jax.numpy as jnp
import numpy as np

from . import pricing as P
from . import sweep as S
from .errors import renamed_keyword
from .sharding import cpu_compiler_options


@renamed_keyword("methods", "copulas")
@functools.lru_cache(maxsize=4)
def make_streamed_bootstrap(copulas: Sequence[str] = S.COPULAS, devices="all", **pricer_kw):
    """Build ``boot(key_boot, errors, mask, indices, batch=None, watch=None) -> Prices``
    (numpy, one row per index), the same contract as :func:`..sweep.make_bootstrap`.

    ``devices``: where each replicate's pair-chunked tetrachorics run (as in
    :func:`..tetrachoric.tetrachoric`); the pricing runs on the default device.
    """
    price = S.make_subset_pricer(copulas, **pricer_kw)
    prepare = jax.jit(lambda stats: P.prepare_pool(stats, price.copulas))
    priced = jax.jit(lambda key_p, stats, errors, w, mask, prepared: price(
        jax.random.wrap_key_data(key_p), stats, errors, w, mask, prepared),
        compiler_options=cpu_compiler_options())

    def boot(key_boot, errors, mask, indices, batch=None, watch=None):
        del batch  # one replicate at a time: the chunk size changes nothing
        errors = jnp.asarray(errors, bool)
        mask = jnp.asarray(mask, bool)
        n = errors.shape[0]
        rows = []
        for i in np.asarray(indices, np.int64):
            key_w, key_p = jax.random.split(jax.random.fold_in(key_boot, int(i)))
            w = S.bootstrap_weights(key_w, n)

            def one(key_p=key_p, w=w):
                stats = jax.tree.map(jnp.asarray, P.pool_stats(errors, w, devices))
                return jax.block_until_ready(priced(jax.random.key_data(key_p), stats, errors,
                                                    w, mask, prepare(stats)))
            if watch is None:
                rows.append(one())
            else:
                with watch(("streamed bootstrap", 0), f"bootstrap replicate {int(i)}"):
                    rows.append(one())
        if not rows:
            raise ValueError("streamed bootstrap: no replicate indices given")
        return jax.tree_util.tree_map(lambda *a: np.stack([np.asarray(x) for x in a]), *rows)

    boot.precompile = lambda *a: []  # type: ignore[attr-defined]  # no jobs: compiled by the first replicate
    return boot
