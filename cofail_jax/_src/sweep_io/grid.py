"""The sweep's pool-size grid and which copulas it can afford at each pool size.

Two rules, both pure functions of the config and the pool size K:

* :func:`log_pool_sizes`: ``pool_sizes = "log"`` with ``pool_size_count = c``: about c
  log-spaced sizes from 2 to K (both always included), the grid that makes sense when K is
  in the hundreds or thousands (every size 2..K would be thousands of units of work).
* :func:`skip_plan`: the full-correlation copulas (:data:`FULL_MATRIX`: Gaussian,
  Student-t) cost an eigenvalue repair of the priced dimension d (O(d^3) per Newton step)
  and a QMC-SOV orthant estimate (O(d^2) per point) per subset. A unit of work (one pool
  size with its P subsets, the full pool, the bootstrap's B replicates) prices them only
  when k is at most ``full_corr_max_k`` and the cost estimate :func:`full_matrix_flops` is
  at most ``full_corr_budget``; otherwise they are skipped there, with a reason that the
  driver prints on stderr (one line) and records in the provenance and the results file,
  never a silent gap.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

FULL_MATRIX = ("gaussian", "student_t")
"""Copulas that need the whole repaired correlation matrix and a QMC-SOV estimate."""

DEFAULT_POOL_SIZE_COUNT = 16
DEFAULT_FULL_CORR_MAX_K = 500
DEFAULT_FULL_CORR_BUDGET = 1e13
"""Default cost budget (flops, :func:`full_matrix_flops`) per unit of work; about half an
hour of a loaded 2-core CPU."""

REPAIR_STEPS = 10
"""Eigendecompositions assumed per repair (Newton steps) in the cost estimate."""


def log_pool_sizes(n_models: int, count: int) -> tuple[int, ...]:
    """About ``count`` log-spaced pool sizes from 2 to ``n_models``, both included.

    Sizes are ``round(geomspace(2, K, count))`` with repeats removed, so small K gives
    fewer than ``count`` sizes (never more); ``count >= K - 1`` gives every size 2..K.

    >>> log_pool_sizes(4000, 8)
    (2, 6, 18, 52, 154, 456, 1350, 4000)
    """
    if n_models < 2:
        raise ValueError(f"log_pool_sizes: need at least 2 models, got {n_models}")
    if count < 2:
        raise ValueError(f"log_pool_sizes: count must be at least 2, got {count}")
    if count >= n_models - 1:
        return tuple(range(2, n_models + 1))
    ks = np.unique(np.round(np.geomspace(2, n_models, count)).astype(np.int64))
    return tuple(int(k) for k in ks)


def full_matrix_flops(d: int, n_points: int, n_units: int, n_copulas: int = 1) -> float:
    """Rough cost (flops) of pricing ``n_units`` subsets of dimension ``d`` with
    ``n_copulas`` full-correlation copulas: a repair of :data:`REPAIR_STEPS`
    eigendecompositions (about 10 d^3 flops each) plus QMC-SOV over ``n_points`` points
    (about d^2 each)."""
    return float(n_copulas) * n_units * (REPAIR_STEPS * 10.0 * d ** 3 + float(n_points) * d ** 2)


class Skip(NamedTuple):
    """Full-correlation copulas skipped in one unit of work, and why."""

    copulas: tuple[str, ...]
    reason: str


def affordability(cfg, k: int, d: int, n_units: int) -> Skip | None:
    """The :class:`Skip` of one unit of work (pool size k priced in dimension d, over
    ``n_units`` subsets or replicates), or None when everything configured is priced."""
    full = tuple(m for m in cfg.copulas if m in FULL_MATRIX)
    if not full:
        return None
    n_points = cfg.orthant_samples or cfg.max_samples
    flops = full_matrix_flops(d, n_points, n_units, len(full))
    why = []
    if k > cfg.full_corr_max_k:
        why.append(f"k > full_corr_max_k = {cfg.full_corr_max_k}")
    if flops > cfg.full_corr_budget:
        why.append(f"cost {flops:.2g} flops > full_corr_budget = {cfg.full_corr_budget:.2g}")
    if not why:
        return None
    reason = (f"unaffordable at k = {k}: O(k^3) repair + QMC-SOV in dimension {d}, "
              f"{n_units} x ({REPAIR_STEPS} eigendecompositions + {n_points} points) "
              f"= {flops:.2g} flops; {' and '.join(why)}")
    return Skip(full, reason)


def skip_plan(cfg, n_models: int, grid) -> dict[str, Skip]:
    """Skips per unit of work: ``"full"``, ``"sweep_k/<k>"`` (as the checkpoints are named)
    and ``"boot"``; units that price everything are absent."""
    from ..sweep import _compact_dim  # the dimension the sweep prices a k-subset in

    plan = {}
    s = affordability(cfg, n_models, n_models, 1)
    if s:
        plan["full"] = s
    for k in grid:
        n_sub = min(cfg.subsets, math.comb(n_models, int(k)))
        s = affordability(cfg, int(k), _compact_dim(int(k), n_models), n_sub)
        if s:
            plan[f"sweep_k/{int(k):05d}"] = s
    if cfg.bootstrap:
        s = affordability(cfg, n_models, n_models, cfg.bootstrap)
        if s:
            plan["boot"] = s
    return plan


def skip_note(plan: dict[str, Skip]) -> str:
    """One line saying what was skipped where and why ('' when nothing is)."""
    if not plan:
        return ""
    copulas = sorted({m for s in plan.values() for m in s.copulas})
    ks = sorted(int(u.split("/")[1]) for u in plan if u.startswith("sweep_k/"))
    where = []
    if ks:
        where.append(f"pool sizes {ks[0]}..{ks[-1]} ({len(ks)} of the grid)")
    if "full" in plan:
        where.append("the full pool")
    if "boot" in plan:
        where.append("the bootstrap")
    first = plan[f"sweep_k/{ks[0]:05d}"] if ks else next(iter(plan.values()))
    return (f"sweep: {', '.join(copulas)} not priced at {', '.join(where)} (status "
            f"'skipped', NaN): {first.reason}; raise full_corr_max_k / full_corr_budget to "
            "price them")
