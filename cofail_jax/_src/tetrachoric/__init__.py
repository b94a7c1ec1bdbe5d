"""Tetrachoric correlations of models' error indicators, every pair at once.

Each model ``i`` is read as a latent standard normal ``Z_i`` that is wrong on a query
when ``Z_i <= tau_i``, with ``tau_i = Phi^-1(P(model i wrong))``. The tetrachoric
correlation ``rho_ij`` is the latent correlation that reproduces the joint error rate:
``Phi_2(tau_i, tau_j; rho_ij) = P(i and j both wrong)``. Because the 2 x 2 model is
saturated (three parameters, three free cell probabilities), this plug-in solution is
the maximum-likelihood estimate, and its standard error is the delta-method (Fisher
information) standard error with the thresholds estimated too.

All ``k (k - 1) / 2`` pairs are solved in one vectorized safeguarded Newton iteration
(Newton steps inside a shrinking bracket, bisection when a step leaves it) under a
``lax.while_loop`` capped at ``max_iter``; there is no Python branching on data, so
:func:`tetrachoric` is jittable with fixed shapes and ``vmap``-able over query weights
(the bootstrap passes resample counts).

Status codes (module constants, per pair): :data:`OK`, :data:`BOUNDARY_LOW` (the table
has an empty "both wrong" or "both right" cell, or the target is below the attainable
range: the estimate is rho = -1), :data:`BOUNDARY_HIGH` (one model's errors are a
subset of the other's, or the target is above the attainable range: rho = +1),
:data:`DEGENERATE` (a model is always right or always wrong: rho undefined, NaN) and
:data:`NOT_CONVERGED`. Boundary pairs are never silently clamped into the interior.

Modules: :mod:`.results` (status codes, result types), :mod:`.solve` (the pair solver),
:mod:`.dense` (the whole matrix in one jitted call; :func:`tetrachoric`), :mod:`.chunked`
(many pairs in chunks) and :mod:`.bootstrap` (query bootstrap).
"""

from __future__ import annotations

from .bootstrap import TetrachoricBootstrap, tetrachoric_bootstrap
from .bootstrap import _bootstrap as _bootstrap
from .bootstrap import _replicates as _replicates
from .bootstrap import _replicates_jit as _replicates_jit
from .bootstrap import _summarize as _summarize
from .chunked import PAIR_CHUNK, pair_counts
from .chunked import _ndtri_jit as _ndtri_jit
from .chunked import _pair_block_fn as _pair_block_fn
from .chunked import _pair_index as _pair_index
from .chunked import _symmetrize as _symmetrize
from .chunked import _tetrachoric_chunked as _tetrachoric_chunked
from .dense import _tetrachoric as _tetrachoric
from .dense import chunked_pairs, tetrachoric
from .results import (BOUNDARY_HIGH, BOUNDARY_LOW, DEGENERATE, NOT_CONVERGED, OK, STATUS_NAMES,
                      PairResult, TetrachoricResult, status_message)
from .results import _MESSAGES as _MESSAGES
from .solve import _corrected_target as _corrected_target
from .solve import _correction_value as _correction_value
from .solve import _initial_guess as _initial_guess
from .solve import _pairs as _pairs
from .solve import _solve as _solve
from .solve import tetrachoric_from_rates

__all__ = [
    "OK", "BOUNDARY_LOW", "BOUNDARY_HIGH", "DEGENERATE", "NOT_CONVERGED", "STATUS_NAMES",
    "TetrachoricResult", "PairResult", "tetrachoric", "tetrachoric_from_rates",
    "status_message", "TetrachoricBootstrap", "tetrachoric_bootstrap", "pair_counts",
    "PAIR_CHUNK", "chunked_pairs",
]
