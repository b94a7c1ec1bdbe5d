"""One result tree per policy, two renderings: JSON and the HDF5 results file.

A policy result's ``to_tree(models)`` returns a nested dict of plain values (numbers,
strings, lists, numpy arrays) in which arrays that need more than a list are wrapped in
:class:`Var`. :func:`plain` turns the tree into the JSON result (``Var`` with labels
become ``{label: value}`` dicts, HDF5-only ``Var`` are dropped); :func:`h5_layout` turns
the same tree into the (tree, dims, coords) that :func:`cofail_jax._src.h5.write_results`
writes (dicts are groups, scalars and strings attributes, arrays datasets, ``None``
left out).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

import numpy as np

__all__ = ["Var", "h5_layout", "plain"]


class Var(NamedTuple):
    """An array leaf of a result tree.

    Attributes:
      values: the array, or a dict of arrays along the same ``dims`` (fields).
      dims: its dimension names in the HDF5 file.
      labels: names along ``dims[0]`` (model names): in JSON the array becomes a
        ``{label: value}`` dict (``{label: {field: value}}`` for fields), in HDF5
        ``labels`` is the coordinate of ``dims[0]``; fields are a group of datasets.
      json: False for per-item detail written to HDF5 only (``--json`` stays compact).
    """

    values: Any
    dims: tuple[str, ...]
    labels: Sequence[str] | None = None
    json: bool = True


def plain(tree: Mapping[str, Any]) -> dict[str, Any]:
    """The JSON result of a tree: labelled ``Var`` as dicts, others as their values,
    HDF5-only ``Var`` dropped."""
    out: dict[str, Any] = {}
    for key, v in tree.items():
        if isinstance(v, Var):
            if not v.json:
                continue
            if isinstance(v.values, Mapping):
                cols = {f: np.asarray(a).tolist() for f, a in v.values.items()}
                out[key] = {lab: {f: c[i] for f, c in cols.items()}
                            for i, lab in enumerate(v.labels or ())}
                continue
            vals = np.asarray(v.values)
            out[key] = dict(zip(v.labels, vals.tolist())) if v.labels is not None else vals
        elif isinstance(v, Mapping):
            sub = plain(v)
            if sub or not v:  # a group of HDF5-only variables is left out
                out[key] = sub
        else:
            out[key] = v
    return out


def h5_layout(tree: Mapping[str, Any], coords: Mapping[str, Any] | None = None):
    """(tree, dims, coords) for ``write_results``: ``Var`` as datasets with their dims
    (their labels as coordinates), 2-element ``*ci`` pairs as ``<name>`` datasets along
    ``bound``, other lists as datasets, numbers as scalar variables, ``None`` left out."""
    dims: dict[str, tuple[str, ...]] = {}
    crd: dict[str, Any] = dict(coords or {})

    def walk(t: Mapping[str, Any], prefix: str) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, v in t.items():
            path = prefix + key
            if v is None:
                continue
            if isinstance(v, Var):
                if isinstance(v.values, Mapping):
                    out[key] = {f: np.asarray(a) for f, a in v.values.items()}
                    dims.update({f"{path}/{f}": tuple(v.dims) for f in v.values})
                else:
                    out[key] = np.asarray(v.values)
                    dims[path] = tuple(v.dims)
                if v.labels is not None:
                    crd[v.dims[0]] = np.asarray(list(v.labels), object)
            elif isinstance(v, Mapping):
                out[key] = walk(v, path + "/")
            elif isinstance(v, (list, tuple)):
                arr = np.asarray(v, object if any(isinstance(x, str) for x in v) else None)
                if key.endswith("ci") and arr.shape == (2,):
                    dims[path] = ("bound",)
                out[key] = arr
            else:
                out[key] = v
                if isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(
                    v, (bool, np.bool_)
                ):
                    dims[path] = ()  # a number is a scalar variable (xarray sees it)
        return out

    out = walk(tree, "")
    if any("bound" in d for d in dims.values()):
        crd.setdefault("bound", np.asarray(["lower", "upper"], object))
    return out, dims, crd
