"""Cascades: ask cheap models first, escalate to dearer ones when unsure.

Models are ordered by cost (cheapest first). Two escalation rules:

* **confidence threshold**: stage s answers when its confidence (or verifier score) is
  at least the threshold t; otherwise the query goes to stage s + 1; the last stage
  always answers. Every model asked is paid for.
* **disagreement**: the two cheapest models both answer; if they agree, the cheaper
  one's answer is used, otherwise the query is escalated to a dearer model. Agreement is
  equality of answers when ``answers`` are given; on correctness bits alone "agree"
  means both right or both wrong (the binary approximation: two wrong answers are taken
  to agree, which is optimistic about cost and pessimistic about accuracy).

At each operating point: accuracy, mean cost per query and cost per correct answer
(mean cost / accuracy), next to the single best's (chosen on the training queries).

References:
  Chen, L., Zaharia, M. and Zou, J. (2023). FrugalGPT: how to use large language models
  while reducing cost and improving performance. arXiv:2305.05176.
  Viola, P. and Jones, M. (2001). Rapid object detection using a boosted cascade of
  simple features. CVPR.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from .tree import Var

__all__ = [
    "CascadeCurve",
    "confidence_cascade",
    "cost_order",
    "cost_per_correct",
    "disagreement_cascade",
    "evaluate_cascades",
    "model_costs",
]


class CascadeCurve(NamedTuple):
    """Operating points of a cascade on the scored queries.

    Attributes:
      rule: "confidence" or "disagreement".
      order: model indices, cheapest first.
      thresholds: (T,) the threshold of each operating point (NaN for disagreement).
      targets: (T,) model escalated to (disagreement) or -1.
      accuracy: (T,) share answered correctly.
      mean_cost: (T,) mean cost per query (every model asked is paid).
      cost_per_correct: (T,) mean_cost / accuracy (inf when accuracy is 0).
      escalation_rate: (T,) share of queries that went past the first stage.
      scores: (T, n) per-query correct bits, for bootstraps.
      query_costs: (T, n) per-query cost paid.
      label: how agreement/confidence was judged.
    """

    rule: str
    order: np.ndarray
    thresholds: np.ndarray
    targets: np.ndarray
    accuracy: np.ndarray
    mean_cost: np.ndarray
    cost_per_correct: np.ndarray
    escalation_rate: np.ndarray
    scores: np.ndarray
    query_costs: np.ndarray
    label: str


class CascadeEvaluation(NamedTuple):
    """Cascades by cost on the test queries against the single best.

    Attributes:
      n_test: scored queries.
      order: model indices, cheapest first (from the training queries).
      single_best: {"index", "accuracy", "mean_cost", "cost_per_correct"} on test.
      models: {"accuracy", "mean_cost", "cost_per_correct"}: (k,) each model on test.
      cascades: {rule: operating-point arrays (T,) and their intervals (T, 2)}.
      n_boot, level, method: the bootstrap.
    """

    n_test: int
    order: np.ndarray
    single_best: dict
    models: dict
    cascades: dict
    n_boot: int
    level: float
    method: str

    def to_tree(self, models) -> dict:
        """The result tree (see :mod:`.tree`); ``models`` names the columns."""
        names = list(models)
        sb = self.single_best
        per_model = Var({v: np.asarray(a) for v, a in self.models.items()}, ("model",), names)
        casc = {}
        for rule, cv in self.cascades.items():
            pt = (f"{rule}_point",)
            d: dict = {"label": cv["label"]}
            for v in ("threshold", "accuracy", "mean_cost", "cost_per_correct", "escalation_rate",
                      "accuracy_minus_single_best", "cost_per_correct_minus_single_best"):
                d[v] = Var(np.asarray(cv[v], np.float64), pt)
            for v in ("accuracy_ci", "cost_per_correct_ci", "accuracy_minus_single_best_ci",
                      "cost_per_correct_minus_single_best_ci"):
                d[v] = Var(np.asarray(cv[v]), pt + ("bound",))
            d["models"] = [names[j] for j in cv["order"]]
            if rule == "disagreement":
                d["target"] = Var(np.asarray([names[j] for j in cv["target"]], object), pt)
            casc[rule] = d
        return {
            "n_test": self.n_test,
            "cost_order": [names[j] for j in self.order],
            "single_best": {"model": names[sb["index"]],
                            **{k: v for k, v in sb.items() if k != "index"}},
            "models": per_model,
            "cascades": casc,
            "n_boot": self.n_boot,
            "level": self.level,
        }


def cost_per_correct(mean_cost, accuracy):
    """mean cost / accuracy, inf where accuracy is 0."""
    mean_cost = np.asarray(mean_cost, np.float64)
    accuracy = np.asarray(accuracy, np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(accuracy > 0, mean_cost / np.where(accuracy > 0, accuracy, 1.0), np.inf)


def model_costs(cost, n: int, k: int) -> np.ndarray:
    """Per-query costs (n, k) from a per-model (k,) or per-cell (n, k) array; NaN cells
    are filled with that model's mean cost."""
    c = np.asarray(cost, np.float64)
    if c.shape == (k,):
        c = np.broadcast_to(c, (n, k)).copy()
    if c.shape != (n, k):
        raise ValueError(f"model_costs: cost must be ({k},) or ({n}, {k}), got {c.shape}")
    col = np.nanmean(np.where(np.isnan(c), np.nan, c), axis=0) if np.isnan(c).any() else None
    if col is not None:
        if np.isnan(col).any():
            raise ValueError("model_costs: a model has no cost at all")
        c = np.where(np.isnan(c), col, c)
    if (c < 0).any():
        raise ValueError("model_costs: costs must be non-negative")
    return c


def cost_order(cost) -> np.ndarray:
    """Model indices by mean cost, cheapest first (ties: lower index)."""
    c = np.asarray(cost, np.float64)
    mean = c.mean(axis=0) if c.ndim == 2 else c
    return np.argsort(mean, kind="stable")


def confidence_cascade(
    correct, cost, confidence, *, order=None, thresholds=None, n_thresholds: int = 21
) -> CascadeCurve:
    """Confidence-threshold cascade over models in cost order.

    Args:
      correct: bool (n, k).
      cost: (k,) or (n, k) non-negative costs.
      confidence: (n, k) confidence or verifier scores (higher = surer); NaN means no
        score, which always escalates.
      order: model indices, cheapest first (default: by mean cost).
      thresholds: operating points (default: ``n_thresholds`` quantiles of the pooled
        scores of all stages but the last, plus -inf (never escalate) and +inf (always
        escalate to the last stage)).

    Returns:
      A :class:`CascadeCurve`.

    Examples:
      >>> import numpy as np
      >>> ok = np.array([[1, 1], [0, 1]], bool)
      >>> conf = np.array([[0.9, 0.5], [0.2, 0.5]])
      >>> r = confidence_cascade(ok, np.array([1.0, 10.0]), conf, thresholds=[0.5])
      >>> float(r.accuracy[0]), float(r.mean_cost[0])
      (1.0, 6.0)
    """
    c = np.asarray(correct, dtype=bool)
    n, k = c.shape
    cst = model_costs(cost, n, k)
    conf = np.asarray(confidence, np.float64)
    if conf.shape != (n, k):
        raise ValueError(f"confidence_cascade: confidence must be ({n}, {k}), got {conf.shape}")
    order = cost_order(cst) if order is None else np.asarray(order, np.int64)
    if thresholds is None:
        pooled = conf[:, order[:-1]].ravel()
        pooled = pooled[np.isfinite(pooled)]
        qs = np.quantile(pooled, np.linspace(0, 1, n_thresholds)) if pooled.size else np.array([])
        thresholds = np.unique(np.concatenate([[-np.inf], qs, [np.inf]]))
    thresholds = np.asarray(thresholds, np.float64)
    co = c[:, order]
    cfo = conf[:, order]
    cso = np.cumsum(cst[:, order], axis=1)
    s = len(order)
    # accept[t, i, stage]
    accept = np.nan_to_num(cfo, nan=-np.inf)[None] >= thresholds[:, None, None]
    accept[:, :, s - 1] = True
    stage = np.argmax(accept, axis=2)  # first accepting stage
    rows = np.arange(n)[None]
    scores = co[rows, stage]
    costs = cso[rows, stage]
    acc = scores.mean(axis=1)
    mc = costs.mean(axis=1)
    return CascadeCurve(
        rule="confidence",
        order=order,
        thresholds=thresholds,
        targets=np.full(thresholds.shape, -1),
        accuracy=acc,
        mean_cost=mc,
        cost_per_correct=cost_per_correct(mc, acc),
        escalation_rate=(stage > 0).mean(axis=1),
        scores=scores.astype(np.float64),
        query_costs=costs,
        label="escalate when the stage's confidence is below the threshold",
    )


def disagreement_cascade(
    correct, cost, *, answers=None, order=None, pair=None, targets=None
) -> CascadeCurve:
    """Two cheap models answer; on disagreement escalate to a dearer model.

    Args:
      correct: bool (n, k).
      cost: (k,) or (n, k) costs.
      answers: optional (n, k) answers; without them agreement is judged on correctness
        bits (binary approximation).
      order: models cheapest first (default by mean cost).
      pair: the two models that answer first (default the two cheapest).
      targets: models to escalate to, one operating point each (default every other
        model, in cost order).

    Returns:
      A :class:`CascadeCurve` with one operating point per target.
    """
    c = np.asarray(correct, dtype=bool)
    n, k = c.shape
    if k < 3:
        raise ValueError("disagreement_cascade: needs at least 3 models (a pair and a target)")
    cst = model_costs(cost, n, k)
    order = cost_order(cst) if order is None else np.asarray(order, np.int64)
    a, b = (int(order[0]), int(order[1])) if pair is None else (int(pair[0]), int(pair[1]))
    if targets is None:
        targets = [int(j) for j in order if j not in (a, b)]
    targets = np.asarray(targets, np.int64)
    if answers is not None:
        ans = np.asarray(answers, dtype=object)
        norm = np.vectorize(
            lambda x: (
                None
                if x is None or (isinstance(x, float) and math.isnan(x)) or str(x).strip() == ""
                else str(x).strip()
            ),
            otypes=[object],
        )
        aa, ab = norm(ans[:, a]), norm(ans[:, b])
        agree = np.array([x is not None and x == y for x, y in zip(aa, ab)], dtype=bool)
        label = "escalate when the two cheapest models' answers differ (or one is missing)"
    else:
        agree = c[:, a] == c[:, b]
        label = (
            "escalate when the two cheapest models' correctness bits differ (binary "
            "approximation: two wrong answers count as agreeing)"
        )
    base_cost = cst[:, a] + cst[:, b]
    scores = np.where(agree[None], c[:, a][None], c[:, targets].T)
    costs = base_cost[None] + np.where(agree[None], 0.0, cst[:, targets].T)
    acc = scores.mean(axis=1)
    mc = costs.mean(axis=1)
    return CascadeCurve(
        rule="disagreement",
        order=np.asarray([a, b], np.int64),
        thresholds=np.full(targets.shape, np.nan),
        targets=targets,
        accuracy=acc,
        mean_cost=mc,
        cost_per_correct=cost_per_correct(mc, acc),
        escalation_rate=np.full(targets.shape, float((~agree).mean())),
        scores=scores.astype(np.float64),
        query_costs=costs,
        label=label,
    )


def _cascade_stat(means):
    import jax.numpy as jnp

    acc, cost, sb_acc, sb_cost = means[0], means[1], means[2], means[3]
    cpc = jnp.where(acc > 0, cost / jnp.where(acc > 0, acc, 1.0), jnp.nan)
    sb_cpc = jnp.where(sb_acc > 0, sb_cost / jnp.where(sb_acc > 0, sb_acc, 1.0), jnp.nan)
    return jnp.stack([acc, cpc, acc - sb_acc, cpc - sb_cpc])


_cascade_boot_cache: dict = {}


def evaluate_cascades(
    key,
    correct,
    cost,
    *,
    confidence=None,
    answers=None,
    train=None,
    test=None,
    n_thresholds: int = 11,
    n_boot: int = 1000,
    level: float = 0.95,
    progress=None,
) -> CascadeEvaluation:
    """Cascades by cost on the test queries against the single best (chosen on train).

    Runs the confidence cascade when ``confidence`` is given and the disagreement cascade
    when there are at least 3 models. Every operating point gets a query-bootstrap
    interval on its accuracy, its cost per correct answer and both differences from the
    single best.

    ``progress``: optional ``progress(done, total)`` callback (bootstrap replicates,
    and partitions where there are any); the results are the same with and without it.

    Returns:
      A :class:`CascadeEvaluation`.

    Long: one pass that runs each cascade and bootstraps every operating point; splitting it would pass ten arrays between halves.
    """
    import jax

    from .bootstrap import make_query_bootstrap, share_progress
    from .reference import single_best_index

    c = np.asarray(correct, dtype=bool)
    n, k = c.shape
    train = np.ones(n, bool) if train is None else np.asarray(train, bool)
    test = np.ones(n, bool) if test is None else np.asarray(test, bool)
    cst = model_costs(cost, n, k)
    order = cost_order(cst[train])
    best = single_best_index(c, train)
    ct, cstt = c[test], cst[test]
    sb_score = ct[:, best].astype(np.float64)
    sb_cost = cstt[:, best]
    acc_models = ct.mean(axis=0)
    cost_models = cstt.mean(axis=0)
    cfg = (n_boot, level)
    if cfg not in _cascade_boot_cache:
        _cascade_boot_cache[cfg] = make_query_bootstrap(_cascade_stat, n_boot=n_boot, level=level)
    boot = _cascade_boot_cache[cfg]
    curves = {}
    if confidence is not None:
        conf = np.asarray(confidence, np.float64)
        pooled = conf[train][:, order[:-1]].ravel()
        pooled = pooled[np.isfinite(pooled)]
        qs = np.quantile(pooled, np.linspace(0, 1, n_thresholds)) if pooled.size else np.array([])
        th = np.unique(np.concatenate([[-np.inf], qs, [np.inf]]))
        curves["confidence"] = confidence_cascade(ct, cstt, conf[test], order=order, thresholds=th)
    if k >= 3:
        ans = None if answers is None else np.asarray(answers, dtype=object)[test]
        curves["disagreement"] = disagreement_cascade(ct, cstt, answers=ans, order=order)
    out = {}
    n_points, i_point = sum(cv.accuracy.shape[0] for cv in curves.values()), 0
    for r, (rule, cv) in enumerate(curves.items()):
        T = cv.accuracy.shape[0]
        stats_ = np.full((4, T, 3), np.nan)
        for t in range(T):
            vals = np.stack([cv.scores[t], cv.query_costs[t], sb_score, sb_cost], axis=1)
            b = boot(jax.random.fold_in(jax.random.fold_in(key, r), t), vals,
                     share_progress(progress, i_point, n_points))
            i_point += 1
            stats_[:, t, 0] = np.asarray(b.estimate)
            stats_[:, t, 1] = np.asarray(b.lower)
            stats_[:, t, 2] = np.asarray(b.upper)
        out[rule] = {
            "label": cv.label,
            "order": cv.order,
            "threshold": cv.thresholds,
            "target": cv.targets,
            "accuracy": cv.accuracy,
            "mean_cost": cv.mean_cost,
            "cost_per_correct": cv.cost_per_correct,
            "escalation_rate": cv.escalation_rate,
            "accuracy_ci": stats_[0, :, 1:],
            "cost_per_correct_ci": stats_[1, :, 1:],
            "accuracy_minus_single_best": stats_[2, :, 0],
            "accuracy_minus_single_best_ci": stats_[2, :, 1:],
            "cost_per_correct_minus_single_best": stats_[3, :, 0],
            "cost_per_correct_minus_single_best_ci": stats_[3, :, 1:],
        }
    return CascadeEvaluation(
        n_test=int(test.sum()),
        order=order,
        single_best={
            "index": best,
            "accuracy": float(sb_score.mean()),
            "mean_cost": float(sb_cost.mean()),
            "cost_per_correct": float(cost_per_correct(sb_cost.mean(), sb_score.mean())),
        },
        models={
            "accuracy": acc_models,
            "mean_cost": cost_models,
            "cost_per_correct": cost_per_correct(cost_models, acc_models),
        },
        cascades=out,
        n_boot=n_boot,
        level=level,
        method="percentile query bootstrap over test queries",
    )
