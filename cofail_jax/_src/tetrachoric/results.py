"""Status codes and result types of the tetrachoric solver."""

from __future__ import annotations

from typing import NamedTuple

from jaxtyping import Array, Float, Int



OK = 0
BOUNDARY_LOW = 1
BOUNDARY_HIGH = 2
DEGENERATE = 3
NOT_CONVERGED = 4

STATUS_NAMES = {
    OK: "ok",
    BOUNDARY_LOW: "boundary_low",
    BOUNDARY_HIGH: "boundary_high",
    DEGENERATE: "degenerate",
    NOT_CONVERGED: "not_converged",
}

_MESSAGES = {
    OK: "solved",
    BOUNDARY_LOW: ("the 2x2 table has an empty both-wrong or both-right cell: the estimate is "
                   "rho = -1 (use correction=True to add 1/2 to empty cells, as psych does)"),
    BOUNDARY_HIGH: ("one model's errors are a subset of the other's (an empty off-diagonal "
                    "cell): the estimate is rho = +1 (use correction=True to add 1/2 to empty "
                    "cells, as psych does)"),
    DEGENERATE: ("a model is always right or always wrong on these queries: rho is undefined; "
                 "drop the model (OutcomeMatrix.degenerate_models())"),
    NOT_CONVERGED: "the solver hit max_iter: raise max_iter or loosen tol",
}


def status_message(code: int) -> str:
    """What a status code means and what to do about it."""
    return f"{STATUS_NAMES.get(int(code), 'unknown')}: {_MESSAGES.get(int(code), '?')}"


class PairResult(NamedTuple):
    """Tetrachoric solution for arrays of pairs (see :func:`tetrachoric_from_rates`).

    Attributes:
      rho: latent correlation; -1 / +1 at the boundaries, NaN when degenerate.
      se: delta-method standard error (NaN without ``n_obs``, at boundaries, degenerate).
      status: per-pair status code (module constants).
      n_iter: solver iterations the pair needed.
      target: the joint rate that was matched (differs from ``p_ij`` only with the
        continuity correction).
    """

    rho: Float[Array, "..."]
    se: Float[Array, "..."]
    status: Int[Array, "..."]
    n_iter: Int[Array, "..."]
    target: Float[Array, "..."]


class TetrachoricResult(NamedTuple):
    """Tetrachoric and Pearson (phi) correlations of k models' error indicators.

    Attributes:
      rho: (k, k) tetrachoric correlations, unit diagonal; -1/+1 for boundary pairs,
        NaN in the rows/columns of degenerate models.
      tau: (k,) thresholds Phi^-1(error rate); -inf/+inf for degenerate models.
      se: (k, k) delta-method standard errors (thresholds estimated); 0 on the
        diagonal, NaN for boundary and degenerate pairs. Pairs corrected by the
        continuity correction get the delta-method SE at their fitted cells.
      status: (k, k) int status per pair (OK on the diagonal of a non-degenerate model).
      phi: (k, k) Pearson correlations of the error indicators (weighted), NaN for
        degenerate models.
      mean_rho: mean tetrachoric rho over off-diagonal pairs with status OK.
      mean_phi: mean phi over the same pairs (status OK), so the two are comparable.
      n_ok: number of pairs (i < j) with status OK.
      n_boundary: number of pairs (i < j) at the boundary (low or high).
      n_boundary_low: pairs at rho = -1.
      n_boundary_high: pairs at rho = +1.
      n_degenerate: number of degenerate models.
      n_not_converged: number of pairs (i < j) that hit ``max_iter``.
      n_corrected: pairs whose empty cells were replaced by 1/2 (correction=True).
      n_iter: (k, k) solver iterations per pair.
      error_rate: (k,) weighted error rate of each model.
      both_wrong: (k, k) weighted count of queries both models got wrong.
      n_obs: total query weight (the number of queries when unweighted).
    """

    rho: Float[Array, "k k"]
    tau: Float[Array, " k"]
    se: Float[Array, "k k"]
    status: Int[Array, "k k"]
    phi: Float[Array, "k k"]
    mean_rho: Float[Array, ""]
    mean_phi: Float[Array, ""]
    n_ok: Int[Array, ""]
    n_boundary: Int[Array, ""]
    n_boundary_low: Int[Array, ""]
    n_boundary_high: Int[Array, ""]
    n_degenerate: Int[Array, ""]
    n_not_converged: Int[Array, ""]
    n_corrected: Int[Array, ""]
    n_iter: Int[Array, "k k"]
    error_rate: Float[Array, " k"]
    both_wrong: Float[Array, "k k"]
    n_obs: Float[Array, ""]
