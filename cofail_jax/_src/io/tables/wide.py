"""The wide CSV through pyarrow's multithreaded reader, validated as arrays."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ...matrix import OutcomeMatrix, check_unique
from .cells import _bad_cell_error, _empty_query_error, _first_bad, encode_arrow, matrix_from_codes


_ARROW_NULLS = ["", "NA", "na", "NaN", "nan", "NAN", "null", "NULL", "Null", "none", "None",
                "NONE"]


def _data_row_line(path: str, r: int, delimiter: str) -> int:
    """The 1-based file line of data row ``r`` (0-based, blank lines not counted)."""
    import csv

    with open(path, newline="", encoding="utf-8-sig") as f:
        reader = csv.reader(f, delimiter=delimiter)
        next(reader, None)
        i = -1
        for row in reader:
            if row:
                i += 1
                if i == r:
                    return reader.line_num
    return r + 2


def read_wide_csv(path: str, header: Sequence[str], *, missing: str = "error",
                  delimiter: str = ",") -> OutcomeMatrix | None:
    """The wide CSV through pyarrow's multithreaded reader, validated as arrays.

    ``header`` is the file's first row (already checked: ``query_id`` then model names).
    Model columns are read as int8 (nulls for empty/NA cells); when a column holds
    anything else (true/false, 1.0, a typo) the file is read again with dictionary-encoded
    strings and every distinct cell text is parsed once. Peak memory is about the file
    size plus one byte per cell.

    Returns None (the caller then uses the row-by-row reader, whose messages name the
    exact row) when pyarrow is not installed or the file is not regular CSV: a row with
    the wrong number of fields, bad quoting, or text that is not UTF-8.
    """
    try:
        import pyarrow as pa
        import pyarrow.csv as pcsv
    except ImportError:
        return None
    names = [h.strip() for h in header]
    models = names[1:]
    check_unique(models, "model name", path)
    cols = [f"c{i}" for i in range(len(names))]
    read = pcsv.ReadOptions(column_names=cols, skip_rows=1, block_size=1 << 24)
    parse = pcsv.ParseOptions(delimiter=delimiter)

    def load(cell_type):
        types = {c: cell_type for c in cols[1:]}
        types[cols[0]] = pa.string()
        conv = pcsv.ConvertOptions(column_types=types, null_values=_ARROW_NULLS,
                                   strings_can_be_null=False, quoted_strings_can_be_null=False)
        return pcsv.read_csv(path, read_options=read, parse_options=parse, convert_options=conv)

    try:
        try:
            table = load(pa.int8())
        except pa.ArrowInvalid as e:
            if "conversion error" not in str(e).lower():
                return None
            table = load(pa.dictionary(pa.int32(), pa.string()))
    except (pa.ArrowInvalid, OSError, UnicodeDecodeError):
        return None
    n = table.num_rows
    k = len(models)
    codes = np.empty((n, k), np.int8)
    for j in range(k):
        codes[:, j] = encode_arrow(table.column(j + 1))
    import pyarrow.compute as pc

    qids = pc.utf8_trim_whitespace(table.column(0)).to_pylist()
    del table
    empty_q = np.fromiter((not q for q in qids), bool, count=n)
    if empty_q.any():  # a row of nothing but delimiters is a blank line, as for csv.reader
        blank = empty_q & (codes == -1).all(axis=1)
        if blank.any():
            keep = ~blank
            row_of = np.flatnonzero(keep)
            codes = codes[keep]
            qids = [q for q, b in zip(qids, blank) if not b]
            empty_q = empty_q[keep]
        else:
            row_of = np.arange(n)
    else:
        row_of = None

    def line(r):
        return _data_row_line(path, int(r if row_of is None else row_of[r]), delimiter)

    bad = _first_bad(codes)
    if bad is not None:
        r, c = bad
        ln = line(r)
        value = _cell_text_at(path, ln, c + 1, delimiter)
        raise _bad_cell_error(value, source=path, where=f"row {ln}, column {models[c]!r}")
    if empty_q.any():
        raise _empty_query_error(source=path, where=f"row {line(int(np.argmax(empty_q)))}")
    check_unique(qids, "query id", path)
    return matrix_from_codes(codes, qids, models, source=path, missing=missing)


def _cell_text_at(path: str, ln: int, field: int, delimiter: str) -> str:
    """The text of field ``field`` (0-based) of the row ending at file line ``ln``."""
    import csv

    with open(path, newline="", encoding="utf-8-sig") as f:
        reader = csv.reader(f, delimiter=delimiter)
        for row in reader:
            if reader.line_num == ln:
                return row[field] if field < len(row) else ""
    return "?"
