"""Marginal and pairwise error rates, their feasibility, and laws built from tables or counts."""

from __future__ import annotations

import functools
import math

import numpy as np

from ..bvn import bvn_cdf
from ..outcomes import outcome_array
from ..tetrachoric import tetrachoric_from_rates

from .types import _FEAS_TOL, MAX_EXACT_K, ErrorLaw


def pairwise_rates(errors, weights=None) -> tuple[np.ndarray, np.ndarray]:
    """Marginal and pairwise both-wrong rates of an error matrix.

    Args:
      errors: bool (n, k), True = wrong.
      weights: optional (n,) nonnegative query weights.

    Returns:
      ``(p, p2)``: float64 (k,) error rates and (k, k) both-wrong rates, diag(p2) = p.
    """
    e = np.asarray(outcome_array(errors, "pairwise_rates", kind="errors")[0]).astype(np.float64)
    if e.ndim != 2:
        raise ValueError(f"pairwise_rates: errors must be (n, k), got shape {e.shape}")
    w = np.ones(e.shape[0]) if weights is None else np.asarray(weights, dtype=np.float64)
    if w.shape != (e.shape[0],):
        raise ValueError(f"pairwise_rates: weights must be ({e.shape[0]},), got {w.shape}")
    w = w / w.sum()
    p2 = (e * w[:, None]).T @ e
    p2 = 0.5 * (p2 + p2.T)
    return np.diag(p2).copy(), p2


def exchangeable_rates(k: int, p: float, p2: float | None = None, *, rho: float | None = None,
                       rho_tetrachoric: float | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Rates of an exchangeable pool: every model errs at ``p``, every pair both at ``p2``.

    Give exactly one of ``p2`` (both-wrong rate), ``rho`` (Pearson/phi correlation of the
    error indicators: p2 = p^2 + rho p (1 - p)) or ``rho_tetrachoric`` (latent Gaussian
    correlation: p2 = Phi_2(tau, tau; rho), tau = Phi^-1(p)).

    Returns:
      ``(p, p2)`` as (k,) and (k, k) arrays.
    """
    given = [v is not None for v in (p2, rho, rho_tetrachoric)]
    if sum(given) != 1:
        raise ValueError("exchangeable_rates: give exactly one of p2, rho, rho_tetrachoric")
    if rho is not None:
        p2 = p * p + rho * p * (1 - p)
    elif rho_tetrachoric is not None:
        from scipy.special import ndtri

        t = float(ndtri(p))
        p2 = float(_bvn_cdf(np.array([t]), np.array([t]), np.array([rho_tetrachoric]))[0])
    pv = np.full(k, float(p))
    P = np.full((k, k), float(p2))
    np.fill_diagonal(P, pv)
    return pv, P


def _as_rates(p, p2) -> tuple[np.ndarray, np.ndarray]:
    p = np.asarray(p, dtype=np.float64)
    p2 = np.asarray(p2, dtype=np.float64)
    if p.ndim != 1:
        raise ValueError(f"p must be (k,), got shape {p.shape}")
    k = p.shape[0]
    if p2.shape != (k, k):
        raise ValueError(f"p2 must be ({k}, {k}) to match p, got {p2.shape}")
    p2 = p2.copy()
    np.fill_diagonal(p2, p)
    return p, p2


def check_pairwise_rates(p, p2, tol: float = _FEAS_TOL) -> tuple[str, str]:
    """Necessary conditions for (p, p2) to come from a joint law of binary variables.

    Checks 0 <= p_i <= 1, symmetry, the Frechet bounds max(0, p_i + p_j - 1) <= p_ij <=
    min(p_i, p_j), and, for every three models, that some value of P(i, j, l all wrong)
    keeps all eight cells of their 2x2x2 table nonnegative. For k <= 3 these conditions
    are also sufficient; for larger k the exact LP decides.

    Returns:
      ``(status, message)``: ``("OK", "")`` or ``("INCONSISTENT", <the first violation>)``.
    """
    p = np.asarray(p, dtype=np.float64)
    p2 = np.asarray(p2, dtype=np.float64)
    k = p.shape[0]
    if not np.all(np.isfinite(p)) or not np.all(np.isfinite(p2)):
        return "INCONSISTENT", "rates contain NaN or inf"
    bad = np.flatnonzero((p < -tol) | (p > 1 + tol))
    if bad.size:
        i = bad[0]
        return "INCONSISTENT", f"error rate p[{i}] = {p[i]:.6g} is outside [0, 1]"
    asym = np.abs(p2 - p2.T) > tol
    if asym.any():
        i, j = np.argwhere(asym)[0]
        return "INCONSISTENT", f"p2 is not symmetric: p2[{i},{j}] = {p2[i, j]:.6g} != p2[{j},{i}]"
    iu, ju = np.triu_indices(k, 1)
    pij = p2[iu, ju]
    hi = np.minimum(p[iu], p[ju])
    lo = np.maximum(0.0, p[iu] + p[ju] - 1.0)
    over = np.flatnonzero(pij > hi + tol)
    if over.size:
        m = over[0]
        i, j = iu[m], ju[m]
        return "INCONSISTENT", (f"p2[{i},{j}] = {pij[m]:.6g} exceeds min(p[{i}], p[{j}]) = "
                                f"{hi[m]:.6g}: "
                                "two models cannot both be wrong more often than either is wrong")
    under = np.flatnonzero(pij < lo - tol)
    if under.size:
        m = under[0]
        i, j = iu[m], ju[m]
        if pij[m] < 0:
            return "INCONSISTENT", (f"p2[{i},{j}] = {pij[m]:.6g} is negative: the pairwise "
                                    "correlation is below the smallest these error rates allow")
        return "INCONSISTENT", (f"p[{i}] + p[{j}] - p2[{i},{j}] = {p[i] + p[j] - pij[m]:.6g} > 1: "
                                f"P(model {i} or {j} wrong) cannot exceed 1")
    if 3 <= k <= 200:
        a, b, c = (np.asarray(t) for t in zip(*_triples(k)))
        pa, pb, pc = p[a], p[b], p[c]
        pab, pac, pbc = p2[a, b], p2[a, c], p2[b, c]
        t_lo = np.maximum.reduce([np.zeros_like(pa), pab + pac - pa, pab + pbc - pb,
                                  pac + pbc - pc])
        t_hi = np.minimum.reduce([pab, pac, pbc, 1 - pa - pb - pc + pab + pac + pbc])
        viol = np.flatnonzero(t_lo > t_hi + tol)
        if viol.size:
            m = viol[0]
            return "INCONSISTENT", (
                f"models {a[m]}, {b[m]}, {c[m]}: no 2x2x2 table has these rates (P(all three "
                f"wrong) would need to be >= {t_lo[m]:.6g} and <= {t_hi[m]:.6g}); the pairwise "
                "correlations are jointly too negative or too positive")
    return "OK", ""


@functools.lru_cache(maxsize=8)
def _triples(k: int) -> tuple[tuple[int, int, int], ...]:
    import itertools

    return tuple(itertools.combinations(range(k), 3))


def _triple_upper(p, p2) -> float:
    """min over triples of the exact three-model upper bound on P(all three wrong)."""
    k = p.shape[0]
    if k < 3 or k > 200:
        return float("inf")
    a, b, c = (np.asarray(t) for t in zip(*_triples(k)))
    t_hi = np.minimum.reduce([p2[a, b], p2[a, c], p2[b, c],
                              1 - p[a] - p[b] - p[c] + p2[a, b] + p2[a, c] + p2[b, c]])
    return float(t_hi.min())



@functools.lru_cache(maxsize=4)
def _atom_design(k: int):
    """Sparse (1 + k + k(k-1)/2, 2^k) constraint matrix of the atom LP, built with bit
    arithmetic on arange(2^k): row 0 sums all atoms, rows 1..k pick atoms where bit i is
    set, the rest atoms where bits i and j are both set."""
    import scipy.sparse as sp

    atoms = np.arange(1 << k, dtype=np.int64)
    bits = ((atoms[:, None] >> np.arange(k, dtype=np.int64)) & 1).astype(bool)  # (2^k, k)
    iu, ju = np.triu_indices(k, 1)
    pair = bits[:, iu] & bits[:, ju]  # (2^k, m)
    ind = np.concatenate([np.ones((1 << k, 1), dtype=bool), bits, pair], axis=1)
    col, row = np.nonzero(ind)
    A = sp.csr_array((np.ones(row.shape[0]), (row, col)), shape=(ind.shape[1], 1 << k))
    return A, bits, iu, ju


def _pearson_from_rates(p, p2) -> np.ndarray:
    v = p * (1 - p)
    with np.errstate(invalid="ignore", divide="ignore"):
        r = (p2 - np.outer(p, p)) / np.sqrt(np.outer(v, v))
    r[~np.isfinite(r)] = np.nan
    return r


def law_from_table(table, name: str = "law") -> ErrorLaw:
    """An :class:`ErrorLaw` from a probability table over the 2^k atoms."""
    x = np.clip(np.asarray(table, dtype=np.float64), 0.0, None)
    x = x / x.sum()
    k = int(round(math.log2(x.shape[0])))
    if x.shape[0] != 1 << k:
        raise ValueError(f"law_from_table: table length must be a power of 2, got {x.shape[0]}")
    _, bits, _, _ = _atom_design(k)
    bf = bits.astype(np.float64)
    p = bf.T @ x
    p2 = (bf * x[:, None]).T @ bf
    counts = np.bincount(bits.sum(axis=1), weights=x, minlength=k + 1)
    return _finish_law(k, x, counts, False, p, p2, float(x[-1]), name)


def law_from_counts(counts, name: str = "law", table_max_k: int = MAX_EXACT_K) -> ErrorLaw:
    """The exchangeable :class:`ErrorLaw` whose number of wrong models S has ``counts``.

    Given S = s, each of the C(k, s) subsets of wrong models is equally likely, so
    p_i = E[S]/k, p_ij = E[S(S-1)]/(k(k-1)) and beta = P(S = k).
    """
    q = np.clip(np.asarray(counts, dtype=np.float64), 0.0, None)
    q = q / q.sum()
    k = q.shape[0] - 1
    s = np.arange(k + 1, dtype=np.float64)
    pm = float(q @ s) / k
    pp = float(q @ (s * (s - 1))) / (k * (k - 1)) if k > 1 else pm
    p, p2 = exchangeable_rates(k, pm, pp)
    table = None
    if k <= table_max_k:
        _, bits, _, _ = _atom_design(k)
        pop = bits.sum(axis=1)
        comb = np.array([math.comb(k, int(j)) for j in range(k + 1)], dtype=np.float64)
        table = q[pop] / comb[pop]
    return _finish_law(k, table, q, True, p, p2, float(q[-1]), name)


def _finish_law(k, table, counts, exch, p, p2, beta, name) -> ErrorLaw:
    p2 = 0.5 * (p2 + p2.T)
    np.fill_diagonal(p2, p)
    if exch and k > 2:  # one pair determines every pair
        pear = np.full((k, k), _pearson_from_rates(p[:2], p2[:2, :2])[0, 1])
        tet = np.full((k, k), tetrachoric_matrix(p[:2], p2[:2, :2])[0, 1])
        np.fill_diagonal(tet, 1.0)
    else:
        pear = _pearson_from_rates(p, p2)
        tet = tetrachoric_matrix(p, p2)
    np.fill_diagonal(pear, 1.0)
    return ErrorLaw(k=k, table=table, counts=counts, exchangeable=exch, p=p, p2=p2,
                    pearson=pear, tetrachoric=tet, beta=beta, name=name)


def _is_exchangeable(p, p2, tol=1e-12) -> bool:
    k = p.shape[0]
    if k < 2:
        return True
    iu, ju = np.triu_indices(k, 1)
    off = p2[iu, ju]
    return bool(np.ptp(p) <= tol and np.ptp(off) <= tol)


def _bvn_cdf(h, k, rho) -> np.ndarray:
    """P(X <= h, Y <= k), standard bivariate normal (the project's :func:`bvn_cdf`)."""
    return np.asarray(bvn_cdf(np.asarray(h, np.float64), np.asarray(k, np.float64),
                              np.asarray(rho, np.float64)))


_PAIR_BLOCK = 1 << 16
"""Pairs per solve of :func:`tetrachoric_matrix` beyond which it works in blocks."""


def tetrachoric_matrix(p, p2) -> np.ndarray:
    """Tetrachoric correlations implied by error rates and both-wrong rates.

    Solves Phi_2(tau_i, tau_j; rho_ij) = p_ij, tau_i = Phi^-1(p_i), once per distinct
    (p_i, p_j, p_ij) (so an exchangeable pool is one solve), with the project's
    :func:`cofail_jax.tetrachoric_from_rates`. NaN where p_i is 0 or 1; -1 / +1 at the
    Frechet bounds.

    Args:
      p: (k,) error rates; p2: (k, k) both-wrong rates.

    Returns:
      float64 (k, k) with unit diagonal.

    References:
      Pearson (1900), see the module docstring.
    """
    p = np.asarray(p, dtype=np.float64)
    p2 = np.asarray(p2, dtype=np.float64)
    k = p.shape[0]
    R = np.eye(k)
    if k < 2:
        return R
    iu, ju = np.triu_indices(k, 1)
    trip = np.stack([np.minimum(p[iu], p[ju]), np.maximum(p[iu], p[ju]), p2[iu, ju]], axis=1)
    if trip.shape[0] <= _PAIR_BLOCK:
        trip, inv = np.unique(trip, axis=0, return_inverse=True)
    else:  # thousands of models: distinct triples are the rule; skip the sort
        inv = np.arange(trip.shape[0])
    # pad to a power-of-two bucket (>= 8 rows) so pools of different sizes share
    # compilations; above _PAIR_BLOCK rows, blocks of that size (bounded memory)
    size = min(max(8, 1 << (trip.shape[0] - 1).bit_length()), _PAIR_BLOCK)
    r_trip = np.empty(trip.shape[0])
    for s in range(0, trip.shape[0], size):
        blk = trip[s:s + size]
        padded = np.concatenate([blk, np.repeat(blk[:1], size - blk.shape[0], axis=0)])
        res = tetrachoric_from_rates(padded[:, 0], padded[:, 1], padded[:, 2])
        r_trip[s:s + blk.shape[0]] = np.asarray(res.rho)[: blk.shape[0]]
    r = r_trip[inv.reshape(-1)]
    R[iu, ju] = r
    R[ju, iu] = r
    return R

