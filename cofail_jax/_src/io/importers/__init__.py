"""Importers for evaluation-harness outputs (issue 10).

Each module reads one harness's own files and builds the matrix through
:func:`cofail_jax._src.io.tables.matrix_from_records`, so validation is the same as
for the built-in formats. Importing this package registers them with
:func:`cofail_jax._src.io.register_format`, after the built-in formats.
"""

from __future__ import annotations

from .. import register_format
from . import eee, helm, inspect_ai, openai_evals, parquet

register_format("inspect", inspect_ai.detect, inspect_ai.load_inspect)
register_format("helm", helm.detect, helm.load_helm)
register_format("openai-evals", openai_evals.detect, openai_evals.load_openai_evals)
register_format("eee", eee.detect, eee.load_eee)
register_format("parquet", parquet.detect, parquet.load_parquet)
