"""The public orthant estimators: :func:`make_orthant_estimator` and :func:`mvn_orthant`."""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
from jaxtyping import Array, ArrayLike

from ..sharding import cpu_compiler_options, resolve_mesh
from .common import METHODS, NOT_PD, OrthantResult, _check, is_pd
from .mc import _mc
from .qmc import QMC_BLOCK, _qmc, _qmc_adaptive
from .tilting import _tilting


def make_orthant_estimator(method: str = "qmc", n_samples: int = 2 ** 16, *,
                           chunk_size: int | None = None, n_shifts: int = 16,
                           reorder: bool = True, devices="all", jit: bool = True,
                           rel_error: float | None = None, progress=None):
    """Build an estimator ``(key, tau, corr) -> OrthantResult`` of P(Z <= tau).

    Long: most of it is the docstring of eight options; the body is one dispatch on method.

    Args:
      method: ``"mc"`` (plain Monte Carlo, exact integer counts), ``"qmc"`` (Genz SOV on a
        randomly shifted lattice) or ``"tilting"`` (Botev minimax tilting).
      n_samples: total draws (MC, tilting) or points over all shifts (QMC); rounded up to
        whole chunks (the result's ``n_samples`` says how many were used).
      chunk_size: draws per chunk (default: 65536 MC, 1024 tilting; QMC: lattice points
        per shift per chunk, default 16384 / n_shifts, every shift in one chunk); memory
        is O(chunk * k) whatever ``n_samples``. Results depend on it (chunk keys), not on
        the number of devices.
      n_shifts: independent random lattice shifts for the QMC error (default 16).
      reorder: Genz-Bretz variable reordering (QMC and tilting).
      devices: ``"all"`` (every device of every host), None (one device), an int (the
        first n devices), a list of devices or a Mesh.
      jit: return the jitted function (default; compiled with
        :func:`..sharding.cpu_compiler_options`).
      rel_error: QMC only: a target relative standard error; the lattice grows by
        64 points per shift, checking after each step, until the error across the
        shifts reaches it (and so does the error at the last power of two, scaled to
        the current size: :data:`.qmc.QMC_POOLED_STOP`) or ``n_samples``
        (the cap) is used (:func:`.qmc.grow_lattice`; one device, ``chunk_size``
        ignored). The result's ``n_samples`` and ``std_err`` say where it stopped. None
        (default): exactly ``n_samples`` points.
      progress: optional ``callback(done, total)`` (draws or points): called with
        ``done = 0`` when the estimator is traced (before compilation) and after every
        chunk (:mod:`.progress`; not for the adaptive QMC loop, which is short). Without
        it, the innermost :func:`.progress.reporting` callback if any; the estimate is
        the same with or without it.

    Returns:
      A pure function ``(key, tau, corr) -> OrthantResult``; ``tau`` (k,), ``+inf`` excludes a
      model; ``corr`` (k, k) positive definite. vmappable over keys, tau and corr.

    Examples:
      >>> import jax, jax.numpy as jnp
      >>> est = make_orthant_estimator("qmc", 2 ** 12)
      >>> r = est(jax.random.key(0), jnp.zeros(2), jnp.array([[1.0, 0.5], [0.5, 1.0]]))
      >>> abs(float(r.prob) - 1 / 3) < 4 * float(r.std_err) + 1e-6
      True

    References:
      Genz (1992); Genz and Bretz (2009); Botev (2017): see the module docstring.
    """
    if method not in METHODS:
        raise NotImplementedError(f"make_orthant_estimator: method must be one of {METHODS}, "
                                  f"got {method!r}")
    n_samples = int(n_samples)
    if n_samples < 2:
        raise ValueError(f"make_orthant_estimator: n_samples must be >= 2, got {n_samples}")
    if rel_error is not None and method != "qmc":
        raise NotImplementedError(f"make_orthant_estimator: rel_error needs method='qmc', "
                                  f"got {method!r}")
    mesh = resolve_mesh(devices)
    if method == "mc":
        chunk = int(chunk_size or min(65536, n_samples))
        n_chunks = -(-n_samples // chunk)
        core = functools.partial(_mc, n_chunks=n_chunks, chunk=chunk, mesh=mesh,
                                 progress=progress)
    elif method == "qmc":
        if n_shifts < 2:
            raise ValueError("make_orthant_estimator: n_shifts must be >= 2 for an error estimate")
        per_shift = -(-n_samples // n_shifts)
        if rel_error is not None:
            core = functools.partial(_qmc_adaptive, n_shifts=n_shifts,
                                     max_blocks=max(1, -(-per_shift // QMC_BLOCK)),
                                     rel_error=float(rel_error), reorder=reorder)
        else:
            block = int(chunk_size or min(max(1, 16384 // n_shifts), per_shift))
            n_points = -(-per_shift // block) * block
            core = functools.partial(_qmc, n_shifts=n_shifts, n_points=n_points, block=block,
                                     mesh=mesh, reorder=reorder, progress=progress)
    else:
        chunk = int(chunk_size or min(1024, n_samples))
        n_chunks = -(-n_samples // chunk)
        core = functools.partial(_tilting, n_chunks=n_chunks, chunk=chunk, mesh=mesh,
                                 reorder=reorder, progress=progress)

    def estimate(key, tau, corr) -> OrthantResult:
        tau, corr = _check(tau, corr, f"orthant[{method}]")
        pd = is_pd(corr)
        res = core(key, tau, jnp.where(pd, corr, jnp.eye(corr.shape[0], dtype=corr.dtype)))
        never = jnp.any(tau == -jnp.inf)
        nan = jnp.asarray(jnp.nan, res.prob.dtype)
        return res._replace(prob=jnp.where(pd, jnp.where(never, 0.0, res.prob), nan),
                            std_err=jnp.where(pd, jnp.where(never, 0.0, res.std_err), nan),
                            log_prob=jnp.where(pd, jnp.where(never, -jnp.inf, res.log_prob), nan),
                            status=jnp.where(pd, res.status, NOT_PD).astype(jnp.int32))

    return jax.jit(estimate, compiler_options=cpu_compiler_options()) if jit else estimate


@functools.lru_cache(maxsize=32)
def _cached(method, n_samples, n_shifts, devices):
    return make_orthant_estimator(method, n_samples, n_shifts=n_shifts, devices=devices,
                                  jit=False)


AUTO_THRESHOLD = 1e-4


def mvn_orthant(key: Array, tau: ArrayLike, corr: ArrayLike, *, method: str = "auto",
                n_samples: int = 2 ** 16, n_shifts: int = 16, devices="all") -> OrthantResult:
    """P(Z <= tau) for Z ~ N(0, corr), choosing the estimator.

    ``method="auto"`` runs a quick QMC-SOV estimate (4096 points) and uses minimax tilting
    when it is below ``AUTO_THRESHOLD`` (1e-4), QMC-SOV otherwise (``lax.cond``: jittable).

    Args:
      key: PRNG key.
      tau: (k,) thresholds; ``+inf`` excludes a model.
      corr: (k, k) correlation matrix, positive definite to working precision (smallest
        eigenvalue above :func:`pd_tol`); otherwise the result has status ``NOT_PD`` and
        NaN: repair it first (``nearest_correlation(corr, eps=1e-6)``).
      method: ``"auto"``, ``"mc"``, ``"qmc"`` or ``"tilting"``.
      n_samples: draws or points.
      n_shifts: QMC random shifts.
      devices: see :func:`make_orthant_estimator`.

    Returns:
      :class:`OrthantResult`.

    References:
      Genz and Bretz (2009); Botev (2017).
    """
    return _mvn_orthant_jit()(key, tau, corr, method=method, n_samples=n_samples,
                              n_shifts=n_shifts, devices=devices)


@functools.lru_cache(maxsize=1)
def _mvn_orthant_jit():
    """:func:`mvn_orthant`'s program, jitted on first use with
    :func:`..sharding.cpu_compiler_options` (as :func:`make_orthant_estimator`'s)."""
    return jax.jit(_mvn_orthant, static_argnames=("method", "n_samples", "n_shifts", "devices"),
                   compiler_options=cpu_compiler_options())


def _mvn_orthant(key, tau, corr, *, method, n_samples, n_shifts, devices):
    if method != "auto":
        return _cached(method, n_samples, n_shifts, devices)(key, tau, corr)
    key_quick, key_main = jax.random.split(key)
    quick = _cached("qmc", 4096, 8, devices)(key_quick, tau, corr)
    qmc = _cached("qmc", n_samples, n_shifts, devices)
    tilt = _cached("tilting", n_samples, n_shifts, devices)
    return jax.lax.cond(quick.prob < AUTO_THRESHOLD, tilt, qmc, key_main, tau, corr)
