"""The long CSV through pyarrow, the same matrix :func:`.columns.matrix_from_records` builds
from ``csv.DictReader`` rows."""

from __future__ import annotations


import numpy as np

from ...errors import InputError
from ...matrix import OutcomeMatrix
from .cells import BAD_CELL, CELL_COLUMNS, QUERY_COLUMNS, encode_arrow
from .columns import matrix_from_columns


def read_long_csv(path: str, *, missing: str = "error",
                  delimiter: str = ",") -> OutcomeMatrix | None:
    """The long CSV (``query_id, model, correct`` and metadata columns) through pyarrow,
    the same matrix :func:`matrix_from_records` builds from ``csv.DictReader`` rows:
    every field read as text, ids stripped, cells parsed once per distinct text,
    metadata columns as the strings the csv module gives.

    Returns None (the caller then reads the file with the csv module, whose messages
    name the exact row) when pyarrow is not installed, the file is not regular CSV (a
    row with the wrong number of fields, a quoted newline, text that is not UTF-8), or
    anything is wrong with its content (a bad cell, an empty id, a bad sample number,
    a duplicate record, a header naming a column twice).

    Long: the pyarrow read and every check that sends the file to the csv module.
    """
    try:
        import pyarrow as pa
        import pyarrow.compute as pc
        import pyarrow.csv as pcsv
    except ImportError:
        return None
    import csv

    try:
        with open(path, newline="", encoding="utf-8-sig") as f:
            header = next(csv.reader(f, delimiter=delimiter), None)
    except (OSError, UnicodeDecodeError, csv.Error):
        return None
    names = [h.strip() for h in header or ()]
    if len(set(names)) < len(names) or not {"query_id", "model", "correct"} <= set(names):
        return None
    cols = [f"c{i}" for i in range(len(names))]
    text = pa.dictionary(pa.int32(), pa.string())
    wanted = {"query_id", "model", "correct", "sample"}
    kept = [c for c, name in zip(cols, names)
            if name in wanted or name in CELL_COLUMNS or name in QUERY_COLUMNS]
    conv = pcsv.ConvertOptions(
        column_types={c: (text if name in wanted else pa.string())
                      for c, name in zip(cols, names)},
        null_values=[], strings_can_be_null=False, quoted_strings_can_be_null=False,
        include_columns=kept)
    try:
        table = pcsv.read_csv(
            path, read_options=pcsv.ReadOptions(column_names=cols, skip_rows=1,
                                                block_size=1 << 24),
            parse_options=pcsv.ParseOptions(delimiter=delimiter), convert_options=conv)
    except (pa.ArrowInvalid, OSError, UnicodeDecodeError):
        return None
    if table.num_rows == 0:
        return None
    by_name = {name: table.column(c) for c, name in zip(cols, names) if c in kept}

    def stripped(col):
        """The column's texts stripped (each distinct text once), as an Arrow array."""
        enc = col.combine_chunks() if isinstance(col, pa.ChunkedArray) else col
        words = [w.strip() for w in enc.dictionary.to_pylist()]
        if "" in words and pc.any(pc.equal(enc.indices, words.index(""))).as_py():
            raise ValueError("empty id")
        return pa.array(words, pa.string()).take(enc.indices)

    try:
        qs, ms = stripped(by_name["query_id"]), stripped(by_name["model"])
        codes = encode_arrow(by_name["correct"])
        if (codes == BAD_CELL).any():
            return None
        sample = None
        if "sample" in by_name:
            enc = by_name["sample"].combine_chunks()
            nums = np.asarray([0 if w == "" else int(w) for w in enc.dictionary.to_pylist()],
                              np.int64)
            sample = nums[enc.indices.to_numpy(zero_copy_only=False)]
            if not sample.any():
                sample = None
        cell = {c: v.to_numpy(zero_copy_only=False) for c, v in by_name.items()
                if c in CELL_COLUMNS}
        query = {c: v.to_numpy(zero_copy_only=False) for c, v in by_name.items()
                 if c in QUERY_COLUMNS}
        del table, by_name
        return matrix_from_columns(qs, ms, codes, source=path, missing=missing,
                                   sample=sample, cell=cell, query=query,
                                   where_prefix="data row")
    except (InputError, ValueError, TypeError, pa.ArrowException):
        return None
