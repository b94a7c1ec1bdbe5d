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

scikit-learn is an optional dependency (``pip install cofail_jax[router]``); it is
imported only when a router is fitted.

References:
  Hu, Q. J. et al. (2024). RouterBench: a benchmark for multi-LLM routing system.
  arXiv:2403.12031.
  Ong, I. et al. (2024). RouteLLM: learning to route LLMs with preference data.
  arXiv:2406.18665.
  Salton, G. and Buckley, C. (1988). Term-weighting approaches in automatic text
  retrieval. Information Processing & Management 24, 513-523.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

import numpy as np

from ..errors import InputError
from .reference import score_choices, single_best_index
from .tree import Var

__all__ = [
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


def _sklearn():
    try:
        import sklearn  # noqa: F401
        from scipy import sparse
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.linear_model import LogisticRegression
    except ImportError:  # pragma: no cover - exercised only without the extra
        raise ImportError(
            "learned routers need scikit-learn: pip install 'cofail_jax[router]' "
            "(or pip install scikit-learn)"
        ) from None
    return TfidfVectorizer, LogisticRegression, sparse


def _clean_text(col, n) -> list[str]:
    if col is None:
        return [""] * n
    return ["" if v is None or (isinstance(v, float) and np.isnan(v)) else str(v) for v in col]


def _features(prompts_tr, prompts_te, domains_tr, domains_te, *, ngram_max: int, min_df: int):
    TfidfVectorizer, _, sparse = _sklearn()
    blocks_tr, blocks_te = [], []
    if any(p.strip() for p in prompts_tr):
        # every word token, single characters and digits included ("x", "7" carry meaning)
        vec = TfidfVectorizer(
            ngram_range=(1, ngram_max),
            min_df=min_df,
            sublinear_tf=True,
            token_pattern=r"(?u)\b\w+\b",
        )
        try:
            blocks_tr.append(vec.fit_transform(prompts_tr))
            blocks_te.append(vec.transform(prompts_te))
        except ValueError:  # empty vocabulary (for example min_df above every count)
            pass
    levels = sorted(set(domains_tr))
    if len(levels) > 1:
        lut = {d: i for i, d in enumerate(levels)}

        def onehot(ds):
            m = np.zeros((len(ds), len(levels)))
            for i, d in enumerate(ds):
                if d in lut:  # unseen domains get all zeros
                    m[i, lut[d]] = 1.0
            return sparse.csr_matrix(m)

        blocks_tr.append(onehot(domains_tr))
        blocks_te.append(onehot(domains_te))
    ln_tr = np.log1p([len(p) for p in prompts_tr])
    ln_te = np.log1p([len(p) for p in prompts_te])
    mu, sd = ln_tr.mean(), ln_tr.std() or 1.0
    blocks_tr.append(sparse.csr_matrix(((ln_tr - mu) / sd)[:, None]))
    blocks_te.append(sparse.csr_matrix(((ln_te - mu) / sd)[:, None]))
    return sparse.hstack(blocks_tr).tocsr(), sparse.hstack(blocks_te).tocsr()


class RouterFit(NamedTuple):
    """Predicted probabilities of being right, per test query and model.

    Attributes:
      proba: float (n_test, k) predicted P(model j correct | query).
      constant_models: models whose training labels were all equal (predicted by their
        training rate, no regression fitted).
      n_features: number of features.
    """

    proba: np.ndarray
    constant_models: tuple[int, ...]
    n_features: int


def fit_router_probabilities(
    correct_train,
    prompts_train,
    prompts_test,
    domains_train=None,
    domains_test=None,
    *,
    C: float = 1.0,
    ngram_max: int = 2,
    min_df: int = 1,
    max_iter: int = 2000,
) -> RouterFit:
    """Fit one logistic regression per model on training queries; predict on test queries.

    Args:
      correct_train: bool (n_train, k).
      prompts_train, prompts_test: prompt texts.
      domains_train, domains_test: optional domain labels (one-hot features).
      C: inverse L2 penalty of each logistic regression.
      ngram_max: TF-IDF word n-grams from 1 to this.
      min_df: drop n-grams seen in fewer training prompts.
      max_iter: solver iterations.

    Returns:
      A :class:`RouterFit`.
    """
    _, LogisticRegression, _ = _sklearn()
    y = np.asarray(correct_train, dtype=bool)
    ntr, k = y.shape
    nte = len(prompts_test)
    ptr, pte = _clean_text(prompts_train, ntr), _clean_text(prompts_test, nte)
    dtr = _clean_text(domains_train, ntr)
    dte = _clean_text(domains_test, nte)
    Xtr, Xte = _features(ptr, pte, dtr, dte, ngram_max=ngram_max, min_df=min_df)
    proba = np.empty((nte, k))
    const = []
    for j in range(k):
        yj = y[:, j]
        if yj.all() or not yj.any():
            proba[:, j] = float(yj.mean())
            const.append(j)
            continue
        clf = LogisticRegression(C=C, max_iter=max_iter)
        clf.fit(Xtr, yj)
        proba[:, j] = clf.predict_proba(Xte)[:, 1]
    return RouterFit(proba=proba, constant_models=tuple(const), n_features=int(Xtr.shape[1]))


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


def cross_fit_router(
    key,
    correct,
    prompts,
    domains=None,
    *,
    n_folds: int = 0,
    test_fraction: float = 0.5,
    **fit_kwargs,
) -> dict:
    """Held-out predictions of the baseline router for every scored query.

    With ``n_folds >= 2``, K-fold cross-fitting: each query is predicted by a router fitted
    on the other folds, and its single best is the best on the other folds. Otherwise one
    train/test split (``test_fraction`` held out).

    Returns:
      dict: ``test`` (bool mask of scored queries), ``proba`` (n_scored, k), ``best``
      (int (n_scored,) single best per scored query, from its training part),
      ``constant_models``, ``n_features``, ``scheme``.
    """
    import jax

    from .bootstrap import kfold_assignments, train_test_split

    c = np.asarray(correct, dtype=bool)
    n, k = c.shape
    prompts = np.asarray(_clean_text(prompts, n), dtype=object)
    domains = None if domains is None else np.asarray(_clean_text(domains, n), dtype=object)

    def fit_on(tr, te):
        return fit_router_probabilities(
            c[tr],
            prompts[tr],
            prompts[te],
            None if domains is None else domains[tr],
            None if domains is None else domains[te],
            **fit_kwargs,
        )

    if n_folds and n_folds >= 2:
        folds = kfold_assignments(key, n, n_folds)
        proba = np.empty((n, k))
        best = np.empty(n, np.int64)
        const: set[int] = set()
        nf = 0
        for f in range(n_folds):
            te = folds == f
            tr = ~te
            fit = fit_on(tr, te)
            proba[te] = fit.proba
            best[te] = single_best_index(c, tr)
            const |= set(fit.constant_models)
            nf = fit.n_features
        return {
            "test": np.ones(n, bool),
            "proba": proba,
            "best": best,
            "constant_models": tuple(sorted(const)),
            "n_features": nf,
            "scheme": f"{n_folds}-fold cross-fitting",
        }
    tr, te = train_test_split(jax.random.fold_in(key, 0), n, test_fraction)
    fit = fit_on(tr, te)
    return {
        "test": te,
        "proba": fit.proba,
        "best": np.full(int(te.sum()), single_best_index(c, tr)),
        "constant_models": fit.constant_models,
        "n_features": fit.n_features,
        "scheme": f"train/test split, {test_fraction:g} held out",
    }


def read_choices(
    path: str, query_ids: Sequence[str], models: Sequence[str], *, allow_partial: bool = True
) -> tuple[np.ndarray, np.ndarray]:
    """Read an external router's choices: a CSV (header ``query_id,model``) or JSONL
    (``{"query_id": ..., "model": ...}`` per line).

    Returns:
      (rows, choices): indices of the queries the file covers, and the chosen model's
      column for each. Unknown query ids or model names, duplicates and (without
      ``allow_partial``) uncovered queries raise :class:`InputError`.

    Long: one reader for CSV and JSONL with a located error for every bad row.
    """
    import csv

    from ..io.formats import iter_jsonl

    qpos = {q: i for i, q in enumerate(query_ids)}
    mpos = {m: j for j, m in enumerate(models)}
    recs: list[tuple[str, str, str]] = []
    try:
        with open(path, encoding="utf-8", newline="") as f:
            head = f.read(1)
            f.seek(0)
            if head == "{":
                for ln, d in iter_jsonl(
                    f, path, hint="one JSON object per line", invalid="not valid JSON",
                    objects_only=False,
                ):
                    if not isinstance(d, dict) or "query_id" not in d or "model" not in d:
                        raise InputError(
                            "needs keys 'query_id' and 'model'",
                            source=path,
                            where=f"line {ln}",
                            hint='write {"query_id": ..., "model": ...}',
                        )
                    recs.append((str(d["query_id"]).strip(), str(d["model"]).strip(), f"line {ln}"))
            else:
                reader = csv.DictReader(f)
                cols = [c.strip() for c in (reader.fieldnames or [])]
                if "query_id" not in cols or "model" not in cols:
                    raise InputError(
                        f"header {cols} lacks query_id and model",
                        source=path,
                        where="row 1",
                        hint="write a header line: query_id,model",
                    )
                for r, row in enumerate(reader, start=2):
                    row = {(k or "").strip(): v for k, v in row.items()}
                    recs.append(
                        (
                            str(row["query_id"] or "").strip(),
                            str(row["model"] or "").strip(),
                            f"row {r}",
                        )
                    )
    except OSError as e:
        raise InputError(
            f"cannot read choices file ({e.strerror})", source=path, hint="check the path"
        ) from None
    seen: dict[int, str] = {}
    rows, choices = [], []
    for q, m, where in recs:
        if q not in qpos:
            raise InputError(
                f"query id {q!r} is not in the outcome matrix",
                source=path,
                where=where,
                hint="route only queries of the scored matrix",
            )
        if m not in mpos:
            raise InputError(
                f"model {m!r} is not in the outcome matrix",
                source=path,
                where=where,
                hint=f"choose from: {', '.join(list(models)[:10])}",
            )
        i = qpos[q]
        if i in seen:
            raise InputError(
                f"query {q!r} is routed twice (also {seen[i]})",
                source=path,
                where=where,
                hint="give one choice per query",
            )
        seen[i] = where
        rows.append(i)
        choices.append(mpos[m])
    if not rows:
        raise InputError(
            "has no choices", source=path, hint="write one line per query: query_id,model"
        )
    if not allow_partial and len(rows) < len(query_ids):
        missing = [q for q in query_ids if qpos[q] not in seen]
        raise InputError(
            f"routes {len(rows)} of {len(query_ids)} queries; first missing: {missing[0]!r}",
            source=path,
            hint="route every query, or allow a partial file",
        )
    order = np.argsort(rows)
    return np.asarray(rows, np.int64)[order], np.asarray(choices, np.int64)[order]
