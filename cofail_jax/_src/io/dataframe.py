"""Outcome matrices to and from pandas DataFrames (pandas is an optional dependency).

Kept out of :mod:`cofail_jax._src.matrix` so that the matrix type does not import the
readers and writers (which import it).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..matrix import OutcomeMatrix
from .export import long_records
from .tables import matrix_from_records, matrix_from_wide_table


def to_pandas(m: OutcomeMatrix, layout: str = "wide", samples: bool = False):
    """A pandas DataFrame: ``wide`` (query_id column, one 0/1 column per model) or
    ``long`` (query_id, model, correct, plus cell and query metadata).

    With ``samples=True`` (long layout only) every repeated sample is a row with a
    ``sample`` column (metadata on sample 0), the layout :func:`from_pandas` reads back.
    """
    import pandas as pd

    if samples:
        if layout != "long":
            raise ValueError("to_pandas: samples=True needs layout='long'")
        return pd.DataFrame(long_records(m))
    if layout == "wide":
        df = pd.DataFrame(m.correct.astype(np.int8), columns=list(m.models))
        df.insert(0, "query_id", list(m.query_ids))
        return df
    if layout == "long":
        n, k = m.correct.shape
        data: dict[str, Any] = {
            "query_id": np.repeat(np.asarray(m.query_ids, dtype=object), k),
            "model": np.tile(np.asarray(m.models, dtype=object), n),
            "correct": m.correct.reshape(-1).astype(np.int8),
        }
        for name, col in m.cell_meta.items():
            data[name] = np.asarray(col).reshape(-1)
        for name, col in m.query_meta.items():
            data[name] = np.repeat(np.asarray(col), k)
        return pd.DataFrame(data)
    raise ValueError(f"to_pandas: layout must be 'wide' or 'long', got {layout!r}")


def from_pandas(df, layout: str | None = None, source: str = "<DataFrame>",
                missing: str = "error") -> OutcomeMatrix:
    """An :class:`OutcomeMatrix` from a wide or long pandas DataFrame (layout detected
    when not given).

    Missing cells (NaN/None) follow ``missing``: ``"error"``, ``"drop-queries"`` or
    ``"drop-models"``. A long frame may carry a ``sample`` column and the metadata
    columns of the long file formats."""
    cols = [str(c) for c in df.columns]
    if layout is None:
        layout = "long" if {"query_id", "model", "correct"} <= set(cols) else "wide"
    if layout == "wide":
        if "query_id" in cols:
            qids = [str(q) for q in df["query_id"].tolist()]
            body = df.drop(columns=["query_id"])
        else:
            qids = [str(q) for q in df.index.tolist()]
            body = df
        rows = [[_cell_text(v) for v in r] for r in body.itertuples(index=False)]
        return matrix_from_wide_table(qids, [str(c) for c in body.columns], rows, source=source,
                                      missing=missing)
    if layout == "long":
        records = df.to_dict(orient="records")
        return matrix_from_records(records, source=source, missing=missing)
    raise ValueError(f"from_pandas: layout must be 'wide' or 'long', got {layout!r}")


def _cell_text(v) -> str:
    if v is None:
        return ""
    try:
        if isinstance(v, float) and np.isnan(v):
            return ""
    except TypeError:
        pass
    if isinstance(v, (bool, np.bool_)):
        return "1" if v else "0"
    return str(v)
