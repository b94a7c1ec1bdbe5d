"""One conversion for every entry point that takes an outcome matrix.

The analyses take an (n, k) array of correctness bits (``correct``, True = right) or of
error bits (``errors``, True = wrong). They also accept the two labelled forms users
hold: an :class:`~cofail_jax.OutcomeMatrix` and a wide pandas DataFrame (one 0/1 or
bool column per model, optionally a ``query_id`` column, as ``pandas.read_csv`` and
``cofail_jax.to_pandas`` give). :func:`outcome_array` turns either into the plain array
and hands back the model names, so that results that name models (the certificate's
single best) keep the DataFrame's or the matrix's names.

Duck-typed (no pandas or matrix import), so the numerical kernels may call it. Plain
arrays, JAX arrays and tracers pass through untouched.
"""

from __future__ import annotations

import numpy as np


def _is_outcome_matrix(x) -> bool:
    return all(hasattr(x, a) for a in ("correct", "models", "query_ids"))


def _is_dataframe(x) -> bool:
    return hasattr(x, "columns") and hasattr(x, "to_numpy") and hasattr(x, "iloc")


def outcome_array(x, func: str, *, kind: str = "correct"):
    """``(array, models)``: the (n, k) bits of ``x`` and its model names (None for arrays).

    Args:
      x: an array, an ``OutcomeMatrix`` or a wide pandas DataFrame.
      func: the calling function's name, for messages.
      kind: what the caller wants, ``"correct"`` or ``"errors"``. An ``OutcomeMatrix``
        knows which its bits are and is converted (``errors = ~correct``); a DataFrame's
        or an array's values are taken as they are, as the caller's documentation says.

    Raises:
      ValueError: a long DataFrame (``query_id, model, correct`` columns), or a column
        that is not 0/1 (the column is named).
    """
    if kind not in ("correct", "errors"):
        raise ValueError(f"outcome_array: kind must be 'correct' or 'errors', got {kind!r}")
    if _is_outcome_matrix(x):
        correct = np.asarray(x.correct, dtype=bool)
        return (correct if kind == "correct" else ~correct), tuple(x.models)
    if not _is_dataframe(x):
        return x, None
    cols = [str(c) for c in x.columns]
    if {"query_id", "model", "correct"} <= set(cols):
        raise ValueError(f"{func}: this DataFrame is in the long layout (query_id, model, "
                         "correct); convert it with cofail_jax.from_pandas(df) and pass the "
                         "OutcomeMatrix")
    keep = [i for i, c in enumerate(cols) if c != "query_id"]
    names = tuple(cols[i] for i in keep)
    values = x.iloc[:, keep].to_numpy()
    for j, name in enumerate(names):
        col = values[:, j]
        try:
            num = np.asarray(col, dtype=np.float64)
        except (TypeError, ValueError):
            num = None
        if num is None or not np.all((num == 0) | (num == 1)):
            bad = "missing cells" if num is not None and np.isnan(num).any() else "values other than 0/1"
            raise ValueError(f"{func}: DataFrame column {name!r} has {bad}; every model column "
                             "must be 0/1 or bool (cofail_jax.from_pandas(df, missing=...) "
                             "handles missing cells)")
    return values.astype(np.float64).astype(bool), names
