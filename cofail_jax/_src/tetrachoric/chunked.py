"""Many pairs: counts by one matrix product, pairs solved in chunks (sharded over devices)."""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np
from jax.scipy.special import ndtri
from jaxtyping import ArrayLike

from .results import (BOUNDARY_HIGH, BOUNDARY_LOW, DEGENERATE, NOT_CONVERGED, OK,
                      TetrachoricResult)
from .solve import _pairs


PAIR_CHUNK = 16384
"""Pairs per compiled call of the chunked path (the solver's working set stays in cache;
about 2 microseconds per pair on one CPU core)."""


def pair_counts(errors: ArrayLike, weights: ArrayLike | None = None,
                block: int = 4096) -> tuple[np.ndarray, np.ndarray, float]:
    """(count_i, both_ij, n_obs): per-model and per-pair (weighted) error counts.

    ``both = E^T diag(w) E`` as a float32 symmetric rank-k update (BLAS ``ssyrk``) over
    blocks of ``block`` queries, accumulated in float64: exact, since every partial sum
    is an integer below 2^24. Weighted counts use float64 products. Memory: the (k, k)
    result plus one block.
    """
    from scipy.linalg import blas

    e = np.asarray(errors)
    n, k = e.shape
    both = np.zeros((k, k), np.float64)
    count = np.zeros(k, np.float64)
    w = None if weights is None else np.asarray(weights, np.float64)
    for start in range(0, n, block):
        blk = e[start:start + block]
        if w is None:
            f = blk.astype(np.float32)
            both += blas.ssyrk(1.0, f, trans=1, lower=0)
            count += f.sum(axis=0, dtype=np.float64)
        else:
            f = blk.astype(np.float64)
            fw = f * np.sqrt(w[start:start + block, None])
            both += blas.dsyrk(1.0, fw, trans=1, lower=0) if np.all(w >= 0) else \
                np.triu((f * w[start:start + block, None]).T @ f)
            count += (f * w[start:start + block, None]).sum(axis=0)
    _symmetrize(both)
    n_obs = float(n) if w is None else float(w.sum())
    return count, both, n_obs


_ndtri_jit = jax.jit(ndtri)


def _symmetrize(m: np.ndarray) -> None:
    """Copy the upper triangle of a square array onto its lower triangle, in place."""
    k = m.shape[0]
    np.copyto(m, m.T, where=np.tri(k, k, -1, dtype=bool))


@functools.lru_cache(maxsize=32)
def _pair_block_fn(correction: float, tol: float, max_iter: int, mesh_key):
    """Jitted solver of D x C pairs (flat), sharded over the D devices of the mesh.

    Inputs are per-pair arrays, so one compilation serves every k.
    """
    from jax.sharding import PartitionSpec as P

    from ..sharding import device_mesh

    def block(p_i, p_j, p_ij, deg_i, deg_j, n_obs):
        res, corrected = _pairs(p_i, p_j, p_ij, n_obs, correction=correction, tol=tol,
                                max_iter=max_iter)
        sd_i = jnp.sqrt(jnp.where(deg_i, 1.0, p_i * (1 - p_i)))
        sd_j = jnp.sqrt(jnp.where(deg_j, 1.0, p_j * (1 - p_j)))
        phi = (p_ij - p_i * p_j) / (sd_i * sd_j)
        phi = jnp.where(deg_i | deg_j, jnp.nan, phi)
        return res.rho, res.se, res.status, res.n_iter, corrected, phi

    # one device is a one-device mesh: the per-device program is the same, so results do
    # not depend on the number of devices
    mesh = device_mesh(jax.devices()[:1]) if mesh_key is None else mesh_key[1]
    axis = mesh.axis_names[0]
    spec = P(axis)
    f = jax.shard_map(block, mesh=mesh, in_specs=(spec,) * 6,
                      out_specs=spec, check_vma=False)
    return jax.jit(f)


def _tetrachoric_chunked(errors, weights, *, correction, tol, max_iter, chunk, devices
                         ) -> TetrachoricResult:
    from ..sharding import resolve_mesh

    e = np.asarray(errors)
    if e.dtype != bool:
        e = e.astype(bool)
    n, k = e.shape
    count, both, n_obs = pair_counts(e, weights)
    p = count / n_obs
    degenerate = (p <= 0) | (p >= 1)
    mesh = resolve_mesh(devices)
    n_dev = 1 if mesh is None else mesh.size
    fn = _pair_block_fn(float(correction), float(tol), int(max_iter),
                        None if mesh is None else (id(mesh), mesh))
    rho = np.empty((k, k), np.float64)
    se = np.empty((k, k), np.float64)
    phi = np.empty((k, k), np.float64)
    status = np.empty((k, k), np.int32)
    n_iter = np.zeros((k, k), np.int32)
    outs = (rho, se, status, n_iter, None, phi)
    n_pairs = k * (k - 1) // 2
    per_round = chunk * n_dev
    row_start = np.concatenate([[0], np.cumsum(np.arange(k - 1, 0, -1))])  # first pair of row i
    sums = []  # per-chunk partial sums, reduced in chunk order (device-count independent)
    for start in range(0, n_pairs, per_round):
        stop = min(start + per_round, n_pairs)
        iu, ju = _pair_index(k, start, stop)
        m = stop - start
        pad = per_round - m
        args = [p[iu], p[ju], both[iu, ju] / n_obs, degenerate[iu], degenerate[ju]]
        args = [np.concatenate([a, np.full(pad, 0.5 if a.dtype.kind == "f" else False,
                                           a.dtype)]) for a in args]
        args[2][m:] = 0.3
        res = [np.asarray(x)[:m] for x in fn(*args, np.full(per_round, n_obs))]
        # rows i of this round: contiguous slices of the upper triangle
        i0, i1 = int(iu[0]), int(iu[-1])
        for i in range(i0, i1 + 1):
            a = max(int(row_start[i]), start) - start
            b = min(int(row_start[i]) + (k - 1 - i), stop) - start
            j0 = int(ju[a])
            for out, vals in zip(outs, res):
                if out is not None:
                    out[i, j0:j0 + (b - a)] = vals[a:b]
        for c0 in range(0, m, chunk):  # partial sums per chunk, whatever the device count
            r, st, ph, corr = (x[c0:c0 + chunk] for x in (res[0], res[2], res[5], res[4]))
            ok = st == OK
            sums.append((int(ok.sum()), float(np.sum(np.where(ok, r, 0.0))),
                         float(np.sum(np.where(ok, ph, 0.0))), int(np.sum(st == BOUNDARY_LOW)),
                         int(np.sum(st == BOUNDARY_HIGH)), int(np.sum(st == NOT_CONVERGED)),
                         int(corr.sum())))
    for out in (rho, se, status, n_iter, phi):
        _symmetrize(out)
    rows = np.arange(k)
    rho[rows, rows] = np.where(degenerate, np.nan, 1.0)
    se[rows, rows] = np.where(degenerate, np.nan, 0.0)
    status[rows, rows] = np.where(degenerate, DEGENERATE, OK)
    n_iter[rows, rows] = 0
    phi[rows, rows] = np.where(degenerate, np.nan, 1.0)
    tot = np.asarray(sums, dtype=np.float64).reshape(-1, 7)
    n_ok = int(tot[:, 0].sum())
    sum_rho = float(np.sum(tot[:, 1]))
    sum_phi = float(np.sum(tot[:, 2]))
    tau = np.asarray(_ndtri_jit(jnp.asarray(p)))
    n_low, n_high = int(tot[:, 3].sum()), int(tot[:, 4].sum())
    return TetrachoricResult(
        rho=rho, tau=tau, se=se, status=status, phi=phi,
        mean_rho=np.float64(sum_rho / n_ok if n_ok else np.nan),
        mean_phi=np.float64(sum_phi / n_ok if n_ok else np.nan),
        n_ok=np.int64(n_ok), n_boundary=np.int64(n_low + n_high), n_boundary_low=np.int64(n_low),
        n_boundary_high=np.int64(n_high), n_degenerate=np.int64(degenerate.sum()),
        n_not_converged=np.int64(tot[:, 5].sum()), n_corrected=np.int64(tot[:, 6].sum()),
        n_iter=n_iter, error_rate=p, both_wrong=both, n_obs=np.float64(n_obs))


def _pair_index(k: int, start: int, stop: int) -> tuple[np.ndarray, np.ndarray]:
    """Rows and columns of upper-triangle pairs number start..stop-1 (np.triu_indices order)."""
    t = np.arange(start, stop, dtype=np.int64)
    # pairs before row i: i k - i (i + 1) / 2; invert the quadratic, then fix rounding
    b = 2 * k - 1
    i = np.floor((b - np.sqrt(np.maximum(b * b - 8.0 * t, 0.0))) / 2).astype(np.int64)
    i[i * k - i * (i + 1) // 2 > t] -= 1
    i[(i + 1) * k - (i + 1) * (i + 2) // 2 <= t] += 1
    j = t - (i * k - i * (i + 1) // 2) + i + 1
    return i, j
