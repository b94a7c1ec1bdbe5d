"""Importers for evaluation-harness outputs.

Each module reads one harness's own files and builds the matrix through
:func:`cofail_jax._src.io.tables.matrix_from_records`, so validation is the same as
for the built-in formats. Importing this package registers them with
:func:`cofail_jax._src.io.register_format`, after the built-in formats.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

from .. import register_format
from . import eee, helm, inspect_ai, openai_evals, parquet


def _safe(detect: Callable[[str], bool]) -> Callable[[str], bool]:
    """A detector that answers False instead of raising on unreadable or odd files, so
    detection moves on to the next format (the loader reports the problem precisely)."""

    @functools.wraps(detect)
    def wrapped(path: str) -> bool:
        try:
            return bool(detect(path))
        except Exception:  # noqa: BLE001  (any parse failure means "not this format")
            return False

    return wrapped


register_format("inspect", _safe(inspect_ai.detect), inspect_ai.load_inspect)
register_format("helm", _safe(helm.detect), helm.load_helm)
register_format("openai-evals", _safe(openai_evals.detect), openai_evals.load_openai_evals)
register_format("eee", _safe(eee.detect), eee.load_eee)
register_format("parquet", _safe(parquet.detect), parquet.load_parquet)
