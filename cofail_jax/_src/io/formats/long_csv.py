"""Long CSV: one row per (query, model)."""

from __future__ import annotations

import csv
import os


from ...matrix import OutcomeMatrix
from ..tables import (
    matrix_from_records,
    read_long_csv,
)
from .text import LONG_KEYS, _open_text, _read_header, csv_errors


def _detect_long_csv(path: str) -> bool:
    if not os.path.isfile(path) or not path.lower().endswith((".csv", ".tsv")):
        return False
    return LONG_KEYS <= {h.strip() for h in _read_header(path)}


def load_long_csv(path: str, *, missing: str = "error", **_) -> OutcomeMatrix:
    """Long CSV: one row per (query, model): ``query_id, model, correct`` plus optional
    ``answer, reference, domain, prompt, cost, confidence, sample, output_tokens,
    token_budget, finish_reason, answer_extracted``."""
    delim = "\t" if path.lower().endswith(".tsv") else ","
    with _open_text(path) as f:
        fast = read_long_csv(path, missing=missing, delimiter=delim)  # pyarrow, issue 17
        if fast is not None:
            return fast
        reader = csv.DictReader(f, delimiter=delim)
        with csv_errors(path, lambda: reader.line_num):
            records = [{(k or "").strip(): v for k, v in row.items()} for row in reader]
    return matrix_from_records(records, source=path, missing=missing, where_prefix="data row")
