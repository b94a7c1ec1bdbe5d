"""Writing matrices and results where other tools read them.

* :func:`save_matrix`: an outcome matrix as wide CSV, long CSV, long JSONL, long Parquet
  (pyarrow), cofail HDF5 or Every Eval Ever instance JSONL, chosen by ``format`` or the
  file name; written atomically.
* :func:`results_tables` / :func:`export_csv`: every group of an HDF5 results file as
  tidy tables (one row per combination of dimension values, one column per variable;
  the coordinates as leading columns), ``scalars.csv`` with every headline number in long
  form (group, variable, value, lower, upper) and ``attributes.csv`` with the text
  attributes (the provenance at the root), for spreadsheet users.

References:
  Wickham, Tidy Data, Journal of Statistical Software 59(10), 2014 (one observation
  per row, one variable per column).
"""

from __future__ import annotations

import csv
import json
import math
import os
import re
from typing import Any

import numpy as np

from ..errors import InputError
from ..h5 import atomic_output, guard_h5_read
from ..matrix import OutcomeMatrix
from .importers.eee import save_eee
from .importers.parquet import require_pyarrow

SAVE_FORMATS = ("wide", "long-csv", "long-jsonl", "h5", "eee", "parquet")


def format_for_path(path: str) -> str:
    """The output format implied by a file name (``*_samples.jsonl``/``*.eee.jsonl`` are EEE)."""
    low = path.lower()
    if low.endswith(("_samples.jsonl", ".eee.jsonl")):
        return "eee"
    if low.endswith((".jsonl", ".ndjson")):
        return "long-jsonl"
    if low.endswith((".h5", ".hdf5", ".nc")):
        return "h5"
    if low.endswith(".parquet"):
        return "parquet"
    if low.endswith((".long.csv", "_long.csv")):
        return "long-csv"
    if low.endswith((".csv", ".tsv")):
        return "wide"
    raise InputError(
        "cannot tell the output format from the file name",
        source=path,
        where="--to",
        hint=f"end it in .csv, .jsonl, .h5 or pass --to-format ({', '.join(SAVE_FORMATS)})",
    )


def _plain(v: Any) -> Any:
    if v is None:
        return None
    if isinstance(v, (np.floating, float)):
        f = float(v)
        return None if math.isnan(f) else f
    if isinstance(v, np.integer):
        return int(v)
    if isinstance(v, bytes):
        return v.decode()
    return v


def long_records(m: OutcomeMatrix) -> list[dict]:
    """One dict per (query, model[, sample]) with the cell and query metadata."""
    recs = []
    S = 1 if m.samples is None else m.samples.shape[0]
    for i, q in enumerate(m.query_ids):
        qmeta = {k: _plain(np.asarray(v)[i]) for k, v in m.query_meta.items()}
        for j, model in enumerate(m.models):
            for s in range(S):
                if m.samples is not None:
                    v = int(m.samples[s, i, j])
                    if v < 0:
                        continue
                else:
                    v = int(m.correct[i, j])
                rec: dict[str, Any] = {"query_id": q, "model": model, "correct": v}
                if m.samples is not None:
                    rec["sample"] = s
                if s == 0:
                    for k, col in m.cell_meta.items():
                        val = _plain(np.asarray(col)[i, j])
                        if val is not None:
                            rec[k] = val
                    for k, val in qmeta.items():
                        if val is not None:
                            rec[k] = val
                else:  # later samples carry their own answers (OutcomeMatrix.sample_meta)
                    for k, col in m.sample_meta.items():
                        val = _plain(col[s, i, j])
                        if val is not None:
                            rec[k] = val
                recs.append(rec)
    return recs


def save_matrix(
    m: OutcomeMatrix,
    path: str,
    format: str | None = None,
    *,
    attrs: dict | None = None,
    evaluation_name: str | None = None,
) -> tuple[str, list[str]]:
    """Write ``m`` to ``path`` atomically; returns the format used and notes on what the
    format cannot hold (for example metadata in a wide CSV)."""
    fmt = format or format_for_path(path)
    if fmt not in SAVE_FORMATS:
        raise InputError(
            f"unknown output format {fmt!r}",
            where="--to-format",
            hint=f"use one of {', '.join(SAVE_FORMATS)}",
        )
    notes: list[str] = []
    if fmt == "h5":
        from .formats import save_matrix_h5

        save_matrix_h5(m, path, attrs=attrs)
        return fmt, notes
    if fmt == "eee":
        save_eee(m, path, evaluation_name=evaluation_name)
        return fmt, notes
    if fmt == "wide":
        dropped = list(m.cell_meta) + list(m.query_meta) + list(m.model_meta)
        if dropped:
            notes.append(
                f"a wide CSV holds only correctness; not written: {', '.join(dropped)} "
                "(use .jsonl or .h5 to keep them)"
            )
        if m.samples is not None:
            notes.append(
                f"a wide CSV holds sample 0 only; {m.samples.shape[0] - 1} repeated samples "
                "not written (use .jsonl or .h5)"
            )
        delim = "\t" if path.lower().endswith(".tsv") else ","
        with atomic_output(path) as tmp, open(tmp, "w", newline="", encoding="utf-8") as f:
            w = csv.writer(f, delimiter=delim)
            w.writerow(["query_id", *m.models])
            for q, row in zip(m.query_ids, m.correct.astype(np.int8)):
                w.writerow([q, *row.tolist()])
        return fmt, notes
    recs = long_records(m)
    if m.model_meta:
        notes.append(f"per-model columns not written: {', '.join(m.model_meta)} (use .h5)")
    if fmt == "parquet":
        require_pyarrow()
        import pyarrow as pa
        import pyarrow.parquet as pq

        cols: dict[str, None] = {}
        for r in recs:
            cols.update(dict.fromkeys(r))
        table = pa.table({c: [r.get(c) for r in recs] for c in cols})
        with atomic_output(path) as tmp:
            pq.write_table(table, tmp)
        return fmt, notes
    if fmt == "long-jsonl":
        with atomic_output(path) as tmp, open(tmp, "w", encoding="utf-8") as f:
            f.writelines(json.dumps(r, ensure_ascii=False) + "\n" for r in recs)
        return fmt, notes
    cols: dict[str, None] = {}
    for r in recs:
        cols.update(dict.fromkeys(r))
    with atomic_output(path) as tmp, open(tmp, "w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=list(cols))
        w.writeheader()
        w.writerows(recs)
    return fmt, notes


# ---- results file -> tidy tables --------------------------------------------------------------
def _dim_names(ds) -> list[str]:
    names = []
    for axis in range(ds.ndim):
        scales = list(ds.dims[axis].values())
        if scales:
            names.append(scales[0].name.rsplit("/", 1)[-1])
        else:
            names.append(ds.dims[axis].label or f"{ds.name.rsplit('/', 1)[-1]}_dim{axis}")
    return names


def _decode(a: np.ndarray) -> np.ndarray:
    if a.dtype.kind == "O" or a.dtype.kind == "S":
        return np.asarray(
            [v.decode() if isinstance(v, bytes) else v for v in a.reshape(-1)], dtype=object
        ).reshape(a.shape)
    return a


def _attr_value(v: Any) -> str:
    if isinstance(v, bytes):
        return v.decode()
    if isinstance(v, np.ndarray):
        return json.dumps(v.tolist())
    if isinstance(v, (np.generic,)):
        return str(v.item())
    return str(v)


_BOUND = re.compile(r"^(?P<base>.+?)(?:_ci\d*|_interval)_(?P<side>lower|upper)$")


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(
        v, (bool, np.bool_)
    )


def _scalar_rows(gname: str, values: dict[str, Any]) -> list[list[Any]]:
    """Long rows ``[group, variable, value, lower, upper]``: a number ``X`` and its
    interval ``X_ci_lower``/``X_ci_upper`` (or ``X_ci95_*``, ``X_interval_*``) in the
    same group become one row."""
    rows: dict[str, list[Any]] = {}
    bounds: dict[str, dict[str, Any]] = {}
    for name, v in values.items():
        m = _BOUND.match(name)
        if m and m["base"] in values:
            bounds.setdefault(m["base"], {})[m["side"]] = v
        else:
            rows[name] = [gname, name, _plain(v), None, None]
    for base, b in bounds.items():
        if base in rows:
            rows[base][3], rows[base][4] = _plain(b.get("lower")), _plain(b.get("upper"))
    return list(rows.values())


@guard_h5_read("export reads files written with --out")
def results_tables(path: str) -> dict[str, tuple[list[str], list[list[Any]]]]:
    """Every group of a results file as tidy tables: ``{name: (columns, rows)}``.

    Variables of a group that share dimensions form one table whose leading columns are
    the dimension coordinates (one row per combination, one column per variable);
    ``scalars`` is the long table of every number that is not an array (scalar variables
    and numeric attributes of the groups below the root), one row per
    ``(group, variable)`` with its interval in ``lower``/``upper`` where the file has one;
    ``attributes`` lists the remaining (text) attributes, the provenance at the root.
    """
    import h5py

    if not os.path.isfile(path):
        raise InputError("no such file", source=path, hint="check the path")
    try:
        f = h5py.File(path, "r")
    except OSError as e:
        raise InputError(
            f"is not an HDF5 results file ({e})",
            source=path,
            hint="export reads files written with --out",
        ) from None
    tables: dict[str, tuple[list[str], list[list[Any]]]] = {}
    attr_rows: list[list[Any]] = []
    scalar_rows: list[list[Any]] = []
    with f:
        groups: list = [f]
        f.visititems(lambda name, obj: groups.append(obj) if isinstance(obj, h5py.Group) else None)
        for g in groups:
            gname = g.name.strip("/") or "root"
            numbers: dict[str, Any] = {}
            for k, v in g.attrs.items():
                if g.name != "/" and _is_number(v):
                    numbers[k] = v
                else:
                    attr_rows.append([g.name, k, _attr_value(v)])
            by_dims: dict[tuple[str, ...], list[tuple[str, np.ndarray]]] = {}
            for key, ds in g.items():
                if not isinstance(ds, h5py.Dataset):
                    continue
                if ds.is_scale:
                    continue
                data = _decode(ds[()])
                if ds.ndim == 0:
                    if _is_number(data):
                        numbers[key] = data
                    else:
                        attr_rows.append([g.name, key, _attr_value(data)])
                    continue
                by_dims.setdefault(tuple(_dim_names(ds)), []).append((key, data))
            scalar_rows += _scalar_rows(g.name, numbers)
            for dims, variables in by_dims.items():
                coords = []
                for axis, d in enumerate(dims):
                    size = variables[0][1].shape[axis]
                    if d in g and isinstance(g[d], h5py.Dataset) and g[d].shape == (size,):
                        coords.append(_decode(g[d][()]))
                    else:
                        coords.append(np.arange(size))
                grids = np.meshgrid(*coords, indexing="ij") if coords else []
                columns = list(dims) + [name for name, _ in variables]
                flat = [gr.reshape(-1) for gr in grids] + [a.reshape(-1) for _, a in variables]
                rows = [[_plain(c[r]) for c in flat] for r in range(flat[0].shape[0])]
                name = gname.replace("/", "_")
                if len(by_dims) > 1:
                    name += "__" + "_".join(dims)
                name = re.sub(r"[^A-Za-z0-9_.=-]+", "-", name).strip("-") or "table"
                base, i = name, 2
                while name in tables or name in ("attributes", "scalars"):
                    name, i = f"{base}-{i}", i + 1
                tables[name] = (columns, rows)
    tables["scalars"] = (["group", "variable", "value", "lower", "upper"], scalar_rows)
    tables["attributes"] = (["group", "name", "value"], attr_rows)
    return tables


def export_csv(path: str, folder: str) -> list[str]:
    """Write :func:`results_tables` as ``<folder>/<table>.csv`` files; returns their paths."""
    tables = results_tables(path)
    if os.path.exists(folder) and not os.path.isdir(folder):
        raise InputError(
            "exists and is not a folder",
            source=folder,
            where="--csv",
            hint="name a folder (it is created if missing)",
        )
    written = []
    for name, (columns, rows) in tables.items():
        out = os.path.join(folder, f"{name}.csv")
        with atomic_output(out) as tmp, open(tmp, "w", newline="", encoding="utf-8") as fh:
            w = csv.writer(fh)
            w.writerow(columns)
            w.writerows(["" if v is None else v for v in row] for row in rows)
        written.append(out)
    return written
