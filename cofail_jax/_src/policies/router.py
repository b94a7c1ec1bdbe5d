"""Learned routers and router scoring, against the oracle and the single best.

The baseline router (as in the routing literature's standard baseline): for each model a
logistic regression predicts "this model answers correctly" from query features
(TF-IDF of the prompt text over word 1-2-grams, a one-hot encoding of the domain, and
log(1 + prompt length in characters)); each query is routed to the model with the
highest predicted probability, or, cost-aware, to argmax_i (p_i - lambda c_i) as lambda
sweeps. It is fitted on training queries and scored on held-out ones, either one
train/test split or K-fold cross-fitting (every query scored by a router that never saw
it).

The headline number is the **realized fraction of G** on held-out queries:
(router accuracy - single best accuracy) / (oracle accuracy - single best accuracy),
with a 95 % query-bootstrap interval; it can be negative (the router loses to always
picking the single best), and often is.

This module scores routed choices (:func:`evaluate_choices`, :class:`RouteEvaluation`,
:func:`cost_frontier`); the learned router is in :mod:`.router_fit` and the reader of an
external router's choices in :mod:`.router_choices`, both re-exported here.

References:
  Hu, Q. J. et al. (2024). RouterBench: a benchmark for multi-LLM routing system.
  arXiv:2403.12031.
  Ong, I. et al. (2024). RouteLLM: learning to route LLMs with preference data.
  arXiv:2406.18665.
  Salton, G. and Buckley, C. (1988). Term-weighting approaches in automatic text
  retrieval. Information Processing & Management 24, 513-523.
"""


from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from .reference import score_choices, single_best_index
from .router_choices import read_choices
from .router_fit import CrossFitRouter, RouterFit, cross_fit_router, fit_router_probabilities
from .tree import Var

__all__ = [
    "CrossFitRouter",
    "RouteEvaluation",
    "RouterFit",
    "cost_frontier",
    "cross_fit_router",
    "evaluate_choices",
    "fit_router_probabilities",
    "oracle_choices",
    "read_choices",
    "route_argmax",
    "single_best_choices",
]


def route_argmax(proba, cost=None, lam: float = 0.0) -> np.ndarray:
    """int (n,): argmax_j (p_j - lam * c_j) per query (ties: lower index)."""
    p = np.asarray(proba, np.float64)
    if cost is None or lam == 0:
        return np.argmax(p, axis=1)
    c = np.asarray(cost, np.float64)
    return np.argmax(p - lam * c, axis=1)


def oracle_choices(correct, tie_break: int | None = None) -> np.ndarray:
    """int (n,): a model that is right on each query (the ``tie_break`` model when it is
    right, else the first right model; the ``tie_break`` model, or 0, where all are wrong).
    Its accuracy is exactly 1 - beta."""
    c = np.asarray(correct, dtype=bool)
    first = np.argmax(c, axis=1)
    fallback = 0 if tie_break is None else int(tie_break)
    out = np.where(c.any(axis=1), first, fallback)
    if tie_break is not None:
        out = np.where(c[:, tie_break], tie_break, out)
    return out


def single_best_choices(correct, train=None, n: int | None = None) -> np.ndarray:
    """int (n,): always the single best (chosen on ``train``); realizes exactly 0 of G."""
    c = np.asarray(correct, dtype=bool)
    best = single_best_index(c, train)
    return np.full(c.shape[0] if n is None else n, best, dtype=np.int64)


def evaluate_choices(
    key, correct, choices, *, best, cost=None, n_boot: int = 1000, level: float = 0.95,
    progress=None,
) -> dict:
    """Score per-query model choices against the single best ``best`` and the oracle.

    Args:
      key: PRNG key for the query bootstrap.
      correct: bool (n, k) on the scored (held-out) queries.
      choices: int (n,) chosen model per query.
      best: the single best's column (chosen without these queries where possible), or an
        int (n,) array of them (cross-fitting: each query's best from its training folds).
      cost: optional (k,) or (n, k) costs: adds mean cost and cost per correct.
      progress: optional ``progress(done, total)`` callback over the bootstrap replicates.

    Returns:
      dict with the bootstrap of (router accuracy, single best, oracle, G, gain, realized
      fraction) and the share of queries routed to each model.
    """
    from .bootstrap import realized_fraction_bootstrap

    c = np.asarray(correct, dtype=bool)
    n, k = c.shape
    ch = np.asarray(choices, np.int64)
    pol = score_choices(c, ch).astype(np.float64)
    best_arr = np.broadcast_to(np.asarray(best, np.int64), (n,))
    sb = c[np.arange(n), best_arr].astype(np.float64)
    orc = c.any(axis=1).astype(np.float64)
    boot = realized_fraction_bootstrap(key, pol, sb, orc, n_boot=n_boot, level=level,
                                       progress=progress)
    out = {
        "accuracy": float(pol.mean()),
        "realized_fraction": boot["realized_fraction"]["estimate"],
        "bootstrap": boot,
        "route_share": np.bincount(ch, minlength=k) / n,
        "best": int(best_arr[0]) if np.all(best_arr == best_arr[0]) else best_arr,
    }
    if cost is not None:
        from .cascade import cost_per_correct, model_costs

        cm = model_costs(cost, n, k)
        mc = float(cm[np.arange(n), ch].mean())
        out["mean_cost"] = mc
        out["cost_per_correct"] = float(cost_per_correct(mc, pol.mean()))
    return out


class RouteEvaluation(NamedTuple):
    """A router's choices on the scored queries next to the oracle router and the single
    best, each from :func:`evaluate_choices`.

    Attributes:
      scheme: how the router was fitted (or whose choices were scored).
      rows: int (n_scored,) the scored queries.
      choices: int (n_scored,) the chosen model of each.
      best: the single best's column, or int (n_scored,) of them (cross-fitting).
      policies: {name: :func:`evaluate_choices` dict}.
      constant_models, n_features: of the learned router (None for external choices).
      frontier: :func:`cost_frontier` dict, or None.
    """

    scheme: str
    rows: np.ndarray
    choices: np.ndarray
    best: Any
    policies: dict
    constant_models: tuple | None = None
    n_features: int | None = None
    frontier: dict | None = None

    def to_tree(self, models, query_ids) -> dict:
        """The result tree (see :mod:`.tree`); ``models`` and ``query_ids`` name the
        columns and rows of the full matrix."""
        best_arr = np.broadcast_to(np.asarray(self.best), self.rows.shape)
        ref = self.policies["oracle_router"]["bootstrap"]
        t: dict = {}
        if self.constant_models is not None:
            t["constant_models"] = [models[j] for j in self.constant_models]
            t["n_features"] = self.n_features
        t |= {
            "scheme": self.scheme,
            "n_scored": int(self.rows.size),
            "single_best": (
                models[int(best_arr[0])] if np.all(best_arr == best_arr[0])
                else {mm: int((best_arr == j).sum()) for j, mm in enumerate(models)
                      if (best_arr == j).any()}
            ),
            "single_best_accuracy": ref["single_best_accuracy"]["estimate"],
            "oracle_accuracy": ref["oracle_accuracy"]["estimate"],
            "G": ref["G"]["estimate"],
            "policies": {
                k: {kk: vv for kk, vv in v.items() if kk not in ("best", "route_share")}
                | {"route_share": Var(np.asarray(v["route_share"]), ("model",), models)}
                for k, v in self.policies.items()
            },
        }
        if self.frontier is not None:
            t["cost_frontier"] = {k: Var(np.asarray(v), ("point",)) for k, v in self.frontier.items()}
        names = np.asarray(models, object)
        t["choices"] = {
            "query_id": Var(np.asarray([query_ids[i] for i in self.rows], object), ("query",),
                            json=False),
            "model": Var(names[np.asarray(self.choices)], ("query",), json=False),
        }
        return t


def cost_frontier(correct, proba, cost, lambdas) -> dict:
    """Accuracy and mean cost of argmax_i (p_i - lambda c_i) for each lambda."""
    c = np.asarray(correct, dtype=bool)
    n, k = c.shape
    from .cascade import model_costs

    cm = model_costs(cost, n, k)
    mean_c = cm.mean(axis=0)
    acc, mcost = [], []
    for lam in lambdas:
        ch = route_argmax(proba, mean_c, float(lam))
        acc.append(score_choices(c, ch).mean())
        mcost.append(cm[np.arange(n), ch].mean())
    return {
        "lambda": np.asarray(lambdas, np.float64),
        "accuracy": np.asarray(acc),
        "mean_cost": np.asarray(mcost),
    }
