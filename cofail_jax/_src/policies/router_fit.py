"""The baseline learned router: features, one logistic regression per model, and
held-out (split or K-fold cross-fitted) predictions.

For each model a logistic regression predicts "this model answers correctly" from query
features (TF-IDF of the prompt text over word 1-2-grams, a one-hot encoding of the
domain, and log(1 + prompt length in characters)). Scoring the routed choices lives in
:mod:`.router`.

scikit-learn is an optional dependency (``pip install cofail_jax[router]``); it is
imported only when a router is fitted.

References:
  Hu, Q. J. et al. (2024). RouterBench: a benchmark for multi-LLM routing system.
  arXiv:2403.12031.
  Salton, G. and Buckley, C. (1988). Term-weighting approaches in automatic text
  retrieval. Information Processing & Management 24, 513-523.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .reference import single_best_index

__all__ = ["CrossFitRouter", "RouterFit", "cross_fit_router", "fit_router_probabilities"]


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



class CrossFitRouter(NamedTuple):
    """Held-out predictions of the baseline router (:func:`cross_fit_router`).

    Its numbers reach ``cofail route --json/--out`` through
    :class:`~cofail_jax._src.policies.router.RouteEvaluation` (``to_tree``).

    Attributes:
      test: bool (n,) mask of the scored queries.
      proba: float (n_scored, k) predicted P(model j correct | query).
      best: int (n_scored,) the single best of each scored query, from its training part.
      constant_models: models with constant training labels in some fit (no regression).
      n_features: number of features (of the last fit).
      scheme: how it was fitted ("5-fold cross-fitting", "train/test split, ...").
    """

    test: np.ndarray
    proba: np.ndarray
    best: np.ndarray
    constant_models: tuple[int, ...]
    n_features: int
    scheme: str


def cross_fit_router(
    key,
    correct,
    prompts,
    domains=None,
    *,
    n_folds: int = 0,
    test_fraction: float = 0.5,
    **fit_kwargs,
) -> CrossFitRouter:
    """Held-out predictions of the baseline router for every scored query.

    With ``n_folds >= 2``, K-fold cross-fitting: each query is predicted by a router fitted
    on the other folds, and its single best is the best on the other folds. Otherwise one
    train/test split (``test_fraction`` held out).

    Returns:
      :class:`CrossFitRouter`: ``test`` (bool mask of scored queries), ``proba``
      (n_scored, k), ``best`` (int (n_scored,) single best per scored query, from its
      training part), ``constant_models``, ``n_features``, ``scheme``.
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
        return CrossFitRouter(np.ones(n, bool), proba, best, tuple(sorted(const)), nf,
                              f"{n_folds}-fold cross-fitting")
    tr, te = train_test_split(jax.random.fold_in(key, 0), n, test_fraction)
    fit = fit_on(tr, te)
    return CrossFitRouter(te, fit.proba, np.full(int(te.sum()), single_best_index(c, tr)),
                          fit.constant_models, fit.n_features,
                          f"train/test split, {test_fraction:g} held out")


