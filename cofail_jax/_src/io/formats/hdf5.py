"""cofail HDF5: the ``matrix`` group of a results file."""

from __future__ import annotations

import os

import numpy as np

from ...errors import InputError
from ...matrix import OutcomeMatrix
from ..tables import (
    check_sizes,
)


def _detect_h5(path: str) -> bool:
    if not os.path.isfile(path):
        return False
    with open(path, "rb") as f:
        if f.read(8) != b"\x89HDF\r\n\x1a\n":
            return False
    import h5py

    with h5py.File(path, "r") as f:
        return "matrix" in f and "correct" in f["matrix"]


def save_matrix_h5(m: OutcomeMatrix, path: str, attrs: dict | None = None) -> str:
    """Write a matrix as cofail HDF5 (group ``matrix``), atomically."""
    from ...h5 import write_results

    return write_results(path, {"matrix": matrix_tree(m)}, attrs=attrs or {},
                         dims=matrix_dims(m), coords=matrix_coords(m))


def matrix_coords(m: OutcomeMatrix) -> dict:
    return {"query": np.asarray(m.query_ids, dtype=object), "model": np.asarray(m.models, dtype=object)}


def matrix_dims(m: OutcomeMatrix, prefix: str = "matrix/") -> dict:
    dims = {f"{prefix}correct": ("query", "model")}
    if m.samples is not None:
        dims[f"{prefix}samples"] = ("sample", "query", "model")
    for name in m.cell_meta:
        dims[f"{prefix}cell/{name}"] = ("query", "model")
    for name in m.query_meta:
        dims[f"{prefix}query_meta/{name}"] = ("query",)
    for name in m.model_meta:
        dims[f"{prefix}model_meta/{name}"] = ("model",)
    return dims


def matrix_tree(m: OutcomeMatrix) -> dict:
    tree: dict = {"correct": m.correct.astype(np.int8), "source": m.source}
    if m.notes:
        tree["notes"] = "\n".join(m.notes)
    if m.samples is not None:
        tree["samples"] = m.samples
    if m.cell_meta:
        tree["cell"] = {k: v for k, v in m.cell_meta.items()}
    if m.query_meta:
        tree["query_meta"] = {k: v for k, v in m.query_meta.items()}
    if m.model_meta:
        tree["model_meta"] = {k: v for k, v in m.model_meta.items()}
    return tree


def _sub_arrays(group) -> dict:
    out = {}
    for key, ds in group.items():
        if key in ("query", "model", "sample"):
            continue
        data = ds[()]
        if ds.dtype.kind == "O":
            data = np.asarray([v.decode() if isinstance(v, bytes) else v for v in data.reshape(-1)],
                              dtype=object).reshape(ds.shape)
        out[key] = data
    return out


def load_h5(path: str, *, missing: str = "error", **_) -> OutcomeMatrix:
    """The matrix stored by :func:`save_matrix_h5` (or by any results file with a
    ``matrix`` group)."""
    import h5py

    try:
        with h5py.File(path, "r") as f:
            g = f["matrix"]
            correct = g["correct"][()].astype(bool)
            dec = lambda a: [v.decode() if isinstance(v, bytes) else str(v) for v in a]  # noqa: E731
            qids = dec(g["query"][()])
            models = dec(g["model"][()])
            samples = g["samples"][()] if "samples" in g else None
            cell = _sub_arrays(g["cell"]) if "cell" in g else {}
            qmeta = _sub_arrays(g["query_meta"]) if "query_meta" in g else {}
            mmeta = _sub_arrays(g["model_meta"]) if "model_meta" in g else {}
            notes = tuple(str(g.attrs["notes"]).split("\n")) if "notes" in g.attrs else ()
    except KeyError as e:
        raise InputError(f"is not a cofail HDF5 outcome file (missing {e})", source=path,
                         hint="write one with 'cofail convert IN --to file.h5'") from None
    except (OSError, RuntimeError, ValueError, TypeError, AttributeError, UnicodeError) as e:
        # h5py raises RuntimeError/OSError on a damaged file (bytes flipped mid-file)
        msg = " ".join(str(e).split())[:160]
        raise InputError(f"is a damaged or unreadable HDF5 file ({msg})", source=path,
                         hint="re-create it with 'cofail convert IN --to file.h5'") from None
    try:
        m = OutcomeMatrix(correct=correct, query_ids=tuple(qids), models=tuple(models),
                          query_meta=qmeta, cell_meta=cell, model_meta=mmeta, samples=samples,
                          source=path, notes=notes)
    except InputError:
        raise
    except (ValueError, TypeError, IndexError) as e:
        raise InputError(f"holds an inconsistent outcome matrix ({e})", source=path,
                         hint="re-create it with 'cofail convert IN --to file.h5'") from None
    return check_sizes(m)
