"""Built-in loaders: wide CSV, long CSV, long JSONL, cofail HDF5, solved-id folders,
lm-evaluation-harness samples. Each detects its format and builds the matrix through
:mod:`..tables`, so validation is identical for all of them.

One module per format (:mod:`.wide_csv`, :mod:`.long_csv`, :mod:`.jsonl`, :mod:`.hdf5`,
:mod:`.solved`, :mod:`.lmeval`), the shared text checks in :mod:`.text`; this module
registers them all, in detection order, and re-exports their names."""

from __future__ import annotations

from .. import register_format
from .text import (
    LONG_KEYS as LONG_KEYS,
    check_text_file as check_text_file,
    _read_header as _read_header,
    _MAGIC as _MAGIC,
    _open_text as _open_text,
)
from .jsonl import (
    JSONL_HINT as JSONL_HINT,
    iter_jsonl as iter_jsonl,
    read_jsonl as read_jsonl,
    load_long_jsonl as load_long_jsonl,
    _detect_jsonl as _detect_jsonl,
    _jsonl_numbered as _jsonl_numbered,
)
from .wide_csv import (
    load_wide_csv as load_wide_csv,
    _detect_wide as _detect_wide,
)
from .long_csv import (
    load_long_csv as load_long_csv,
    _detect_long_csv as _detect_long_csv,
)
from .hdf5 import (
    save_matrix_h5 as save_matrix_h5,
    matrix_coords as matrix_coords,
    matrix_dims as matrix_dims,
    matrix_tree as matrix_tree,
    load_h5 as load_h5,
    _detect_h5 as _detect_h5,
    _sub_arrays as _sub_arrays,
)
from .solved import (
    UNIVERSE_NAMES as UNIVERSE_NAMES,
    load_solved_folder as load_solved_folder,
    _detect_solved as _detect_solved,
    _read_id_list as _read_id_list,
)
from .lmeval import (
    LMEVAL_METRICS as LMEVAL_METRICS,
    MAX_WALK_FOLDERS as MAX_WALK_FOLDERS,
    load_lmeval as load_lmeval,
    _SAMPLES_RE as _SAMPLES_RE,
    _lmeval_files as _lmeval_files,
    _detect_lmeval as _detect_lmeval,
    _lmeval_model_name as _lmeval_model_name,
    _load_lmeval_typed as _load_lmeval_typed,
    _repeat as _repeat,
    _lmeval_query_ids as _lmeval_query_ids,
    _first_texts as _first_texts,
    _first_text as _first_text,
    _decode_lines as _decode_lines,
    _newest_per_model as _newest_per_model,
    _lmeval_prompt as _lmeval_prompt,
)


register_format("h5", _detect_h5, load_h5)
register_format("wide", _detect_wide, load_wide_csv)
register_format("long-csv", _detect_long_csv, load_long_csv)
register_format("long-jsonl", _detect_jsonl, load_long_jsonl)
register_format("solved-folder", _detect_solved, load_solved_folder)
register_format("lm-eval", _detect_lmeval, load_lmeval)
