"""Shared parsing for the loaders: cell values, missing cells, long records.

Every loader reduces its format to either a wide table (query ids, model names, rows
of cell strings) or a list of long records (dicts with ``query_id``, ``model``,
``correct`` and optional extras), then calls one of the two builders here, so the
validation rules (0/1 cells, missing-cell policy, duplicates, sizes) are the same for
every format.

Modules: :mod:`.cells` (the cell vocabulary, missing-cell policies and the wide builder),
:mod:`.columns` (the long builder), :mod:`.wide` and :mod:`.long` (the wide and long CSV
through pyarrow).
"""

from __future__ import annotations

from .cells import (
    MISSING_POLICIES as MISSING_POLICIES,
    CELL_VOCABULARY as CELL_VOCABULARY,
    CELL_HINT as CELL_HINT,
    BAD_CELL as BAD_CELL,
    CELL_COLUMNS as CELL_COLUMNS,
    SAMPLE_COLUMNS as SAMPLE_COLUMNS,
    QUERY_COLUMNS as QUERY_COLUMNS,
    parse_cell as parse_cell,
    encode_cells as encode_cells,
    encode_arrow as encode_arrow,
    check_sizes as check_sizes,
    apply_missing as apply_missing,
    matrix_from_codes as matrix_from_codes,
    matrix_from_wide_table as matrix_from_wide_table,
    _TRUE as _TRUE,
    _FALSE as _FALSE,
    _MISSING as _MISSING,
    _code as _code,
    _encode_numeric as _encode_numeric,
    _first_bad as _first_bad,
    _bad_cell_error as _bad_cell_error,
    _empty_query_error as _empty_query_error,
)
from .wide import (
    read_wide_csv as read_wide_csv,
    _ARROW_NULLS as _ARROW_NULLS,
    _data_row_line as _data_row_line,
    _cell_text_at as _cell_text_at,
)
from .long import (
    read_long_csv as read_long_csv,
)
from .columns import (
    matrix_from_columns as matrix_from_columns,
    matrix_from_records as matrix_from_records,
    _factorize as _factorize,
    _last_index_per as _last_index_per,
    _meta_values as _meta_values,
)
