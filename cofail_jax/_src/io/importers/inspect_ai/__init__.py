"""Inspect AI evaluation logs: ``.eval`` archives and ``.json`` logs.

An Inspect log records one task run by one model. The ``.json`` form is one object
(``version``, ``status``, ``eval``, ``plan``, ``results``, ``stats``, ``samples``); the
``.eval`` form is a zip archive holding the same header in ``header.json`` and one
``samples/<id>_epoch_<n>.json`` per sample and epoch (entries are deflate- or, in
current Inspect, zstd-compressed; zstd needs Python 3.14's ``compression.zstd`` or the
``zstandard``/``pyzstd``/``backports.zstd`` package, else the message says so). Each sample carries ``id``,
``epoch``, ``input``, ``target``, ``output`` (with ``usage`` token counts) and
``scores``: a dict from scorer name to a ``Score`` whose ``value`` is a letter
(``C`` correct, ``I`` incorrect, ``P`` partial, ``N`` no answer), a number, a bool, or
a dict of those, with the extracted ``answer``.

Rules (stated here and configurable): ``C`` is correct and ``I`` wrong; ``P`` and
``N`` are wrong by default (``partial=``/``noanswer=`` ``"wrong"|"correct"|"missing"``);
a numeric value is correct when it is at least ``threshold`` (default 1.0, full
credit). Epoch 1 is the matrix; epochs 2, 3, ... become repeated samples. A sample
whose run errored (no score) is a missing cell.

References:
  UK AI Security Institute, Inspect AI documentation: "Log Files" and the
  ``inspect_ai.log`` reference (EvalLog, EvalSample, Score; the ``.eval`` zip layout),
  https://inspect.aisi.org.uk/eval-logs.html, 2024-2025.

Modules: :mod:`.logs` (finding and reading the files), :mod:`.records` (the record path:
samples as dicts, the score rules), :mod:`.typed_samples` (the msgspec fast path) and
:mod:`.load` (:func:`load_inspect`).
"""

from __future__ import annotations

from .logs import (
    detect as detect,
    ZIP_ZSTD as ZIP_ZSTD,
    _JSON_LOG_HEAD as _JSON_LOG_HEAD,
    _SAMPLE_RE as _SAMPLE_RE,
    _is_json_log as _is_json_log,
    _is_eval_zip as _is_eval_zip,
    _log_files as _log_files,
    _sample_order as _sample_order,
    _zstd_decompress as _zstd_decompress,
    _read_zstd_entry as _read_zstd_entry,
    _zip_read as _zip_read,
    _zipfile_has_zstd as _zipfile_has_zstd,
    _TypedSamples as _TypedSamples,
    _read_log as _read_log,
)
from .records import (
    META as META,
    _pick_value as _pick_value,
    _USAGE as _USAGE,
    _Columns as _Columns,
    _ScoreRules as _ScoreRules,
    _read_samples as _read_samples,
    _where as _where,
    _scorer_of as _scorer_of,
    _extras as _extras,
)
from .typed_samples import (
    _read_typed_samples as _read_typed_samples,
    _walk_typed as _walk_typed,
)
from .load import (
    load_inspect as load_inspect,
    _log_error as _log_error,
    _newest_logs as _newest_logs,
)
