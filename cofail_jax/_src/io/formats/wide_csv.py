"""Wide CSV: ``query_id`` then one 0/1 column per model."""

from __future__ import annotations

import csv
import os


from ...errors import InputError
from ...matrix import OutcomeMatrix
from ..tables import (
    matrix_from_wide_table,
    read_wide_csv,
)
from .text import LONG_KEYS, _open_text, _read_header, csv_errors


def _detect_wide(path: str) -> bool:
    if not os.path.isfile(path) or not path.lower().endswith((".csv", ".tsv", ".txt")):
        return False
    header = [h.strip() for h in _read_header(path)]
    return bool(header) and header[0] == "query_id" and not (LONG_KEYS <= set(header))


def load_wide_csv(path: str, *, missing: str = "error", **_) -> OutcomeMatrix:
    """Wide CSV: ``query_id`` then one 0/1 column per model (true/false also accepted)."""
    delim = "\t" if path.lower().endswith(".tsv") else ","
    with _open_text(path) as f:
        reader = csv.reader(f, delimiter=delim)
        try:
            header = next(reader)
        except UnicodeDecodeError:
            raise InputError("is not UTF-8 text", source=path, where="row 1",
                             hint="save it as UTF-8") from None
        except StopIteration:
            raise InputError("is empty", source=path,
                             hint="write a header line: query_id,<model1>,<model2>,...") from None
        except csv.Error as e:
            raise InputError(f"is not valid CSV ({e})", source=path, where="row 1") from None
        header = [h.strip() for h in header]
        if not header or header[0] != "query_id":
            raise InputError(f"first column is {header[0] if header else ''!r}, not 'query_id'",
                             source=path, where="row 1",
                             hint="the wide format is query_id,<model1>,<model2>,...")
        models = header[1:]
        if len(models) < 2:
            raise InputError(f"needs at least 2 models, found {len(models)}", source=path,
                             where="row 1", hint="add a 0/1 column per model")
        for j, m in enumerate(models):
            if not m:
                raise InputError(f"column {j + 2} has no model name", source=path, where="row 1",
                                 hint="name every column")
        fast = read_wide_csv(path, header, missing=missing, delimiter=delim)  # pyarrow, issue 17
        if fast is not None:
            return fast
        qids, rows = [], []
        with csv_errors(path, lambda: reader.line_num):
            for r, row in enumerate(reader):
                if not row or all(not c.strip() for c in row):
                    continue
                qids.append(row[0].strip())
                rows.append(row[1:])
                if len(row) != len(header):
                    raise InputError(f"has {len(row)} fields, the header has {len(header)}",
                                     source=path, where=f"row {r + 2}",
                                     hint="every row needs a query id and one cell per model")
    m = matrix_from_wide_table(qids, models, rows, source=path, missing=missing)
    return m
