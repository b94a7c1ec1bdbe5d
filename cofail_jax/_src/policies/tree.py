"""One result tree per policy, two renderings: JSON and the HDF5 results file.

A policy result's ``to_tree(models)`` returns a nested dict of plain values (numbers,
strings, lists, numpy arrays) in which arrays that need more than a list are wrapped in
:class:`Var`. :func:`plain` turns the tree into the JSON result (``Var`` with labels
become ``{label: value}`` dicts, HDF5-only ``Var`` are dropped); :func:`h5_layout` turns
the same tree into the (tree, dims, coords) that :func:`cofail_jax._src.h5.write_results`
writes (dicts are groups, scalars and strings attributes, arrays datasets, ``None``
left out).

Where the two renderings differ, three small leaves say how: :class:`Interval` (a
``[lower, upper]`` list in JSON, ``<key>_lower``/``<key>_upper`` numbers in HDF5),
:class:`Split` (one value for JSON, another for HDF5, ``None`` for "absent there") and
:class:`Flat` (a group in HDF5 whose items sit in the parent in JSON).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

import numpy as np

__all__ = ["ABSENT", "Flat", "Interval", "Split", "Var", "h5_layout", "plain"]


class Var(NamedTuple):
    """An array leaf of a result tree.

    Attributes:
      values: the array, or a dict of arrays along the same ``dims`` (fields).
      dims: its dimension names in the HDF5 file.
      labels: names along ``dims[0]`` (model names): in JSON the array becomes a
        ``{label: value}`` dict (``{label: {field: value}}`` for fields), in HDF5
        ``labels`` is the coordinate of ``dims[0]``; fields are a group of datasets.
      json: False for per-item detail written to HDF5 only (``--json`` stays compact).
      coords: extra HDF5 coordinates {dimension: names} (for dimensions after the first).
    """

    values: Any
    dims: tuple[str, ...]
    labels: Sequence[str] | None = None
    json: bool = True
    coords: Mapping[str, Sequence[str]] | None = None


class Interval(NamedTuple):
    """An interval leaf: ``[lower, upper]`` in JSON, numbers ``<key>_lower`` and
    ``<key>_upper`` in HDF5."""

    lower: float
    upper: float


ABSENT = object()  # a Split's json: "not in the JSON result"


class Split(NamedTuple):
    """A leaf rendered differently: ``json`` in the JSON result, ``h5`` in the HDF5 file
    (``None`` leaves it out of the file; :data:`ABSENT` as ``json`` leaves it out of JSON)."""

    json: Any
    h5: Any



class Flat(NamedTuple):
    """A group in the HDF5 file whose items are merged into the parent in JSON."""

    items: Mapping[str, Any]


def plain(tree: Mapping[str, Any]) -> dict[str, Any]:
    """The JSON result of a tree: labelled ``Var`` as dicts, others as their values,
    HDF5-only ``Var`` dropped."""
    out: dict[str, Any] = {}
    for key, v in tree.items():
        if isinstance(v, Split):
            if v.json is ABSENT:
                continue
            v = v.json
        if isinstance(v, Flat):
            out.update(plain(v.items))
            continue
        if isinstance(v, Interval):
            out[key] = [v.lower, v.upper]
        elif isinstance(v, Var):
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


def h5_layout(tree: Mapping[str, Any], coords: Mapping[str, Any] | None = None, *,
              numbers_as_variables: bool = True):
    """(tree, dims, coords) for ``write_results``: ``Var`` as datasets with their dims
    (their labels as coordinates), 2-element ``*ci`` pairs as ``<name>`` datasets along
    ``bound``, other lists as datasets, numbers as scalar variables (as attributes when
    ``numbers_as_variables`` is False), ``None`` left out."""
    dims: dict[str, tuple[str, ...]] = {}
    crd: dict[str, Any] = dict(coords or {})

    def walk(t: Mapping[str, Any], prefix: str) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, v in t.items():
            path = prefix + key
            if isinstance(v, Split):
                v = v.h5
            if v is None:
                continue
            if isinstance(v, Flat):
                v = v.items
            if isinstance(v, Interval):
                out.update(walk({f"{key}_lower": v.lower, f"{key}_upper": v.upper}, prefix))
            elif isinstance(v, Var):
                if isinstance(v.values, Mapping):
                    out[key] = {f: np.asarray(a) for f, a in v.values.items()}
                    dims.update({f"{path}/{f}": tuple(v.dims) for f in v.values})
                else:
                    out[key] = np.asarray(v.values)
                    dims[path] = tuple(v.dims)
                if v.labels is not None:
                    crd[v.dims[0]] = np.asarray(list(v.labels), object)
                crd.update({d: np.asarray(list(c), object) for d, c in (v.coords or {}).items()})
            elif isinstance(v, Mapping):
                out[key] = walk(v, path + "/")
            elif isinstance(v, (list, tuple)):
                arr = np.asarray(v, object if any(isinstance(x, str) for x in v) else None)
                if key.endswith("ci") and arr.shape == (2,):
                    dims[path] = ("bound",)
                out[key] = arr
            else:
                out[key] = v
                if numbers_as_variables and isinstance(
                    v, (int, float, np.integer, np.floating)
                ) and not isinstance(v, (bool, np.bool_)):
                    dims[path] = ()  # a number is a scalar variable (xarray sees it)
        return out

    out = walk(tree, "")
    if any("bound" in d for d in dims.values()):
        crd.setdefault("bound", np.asarray(["lower", "upper"], object))
    return out, dims, crd
