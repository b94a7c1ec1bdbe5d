"""Loaders: every supported format reduced to an :class:`OutcomeMatrix`.

``load_matrix(path, format=None)`` detects the format from the file (or folder) and
calls the loader registered for it in ``LOADERS``. Importers for other formats
register themselves here with :func:`register_format`.
"""

from __future__ import annotations

import os
from collections.abc import Callable

from ..errors import InputError
from ..matrix import OutcomeMatrix

# name -> (detect(path) -> bool, load(path, missing=..., **options) -> OutcomeMatrix)
LOADERS: dict[str, tuple[Callable[[str], bool], Callable[..., OutcomeMatrix]]] = {}


def register_format(name: str, detect: Callable[[str], bool], load: Callable[..., OutcomeMatrix]) -> None:
    """Register a loader; formats registered first are tried first by detection."""
    LOADERS[name] = (detect, load)


def load_matrix(path: str | os.PathLike, format: str | None = None, *, missing: str = "error",
                **options) -> OutcomeMatrix:
    """Load an outcome matrix from a file or folder.

    Args:
      path: a wide CSV, long CSV/JSONL, an HDF5 file written by cofail, a folder of
        solved-id lists, or lm-evaluation-harness samples (see ``LOADERS``).
      format: a name from ``LOADERS``; detected from the file when None.
      missing: ``"error"`` (default), ``"drop-queries"`` or ``"drop-models"``.
      **options: passed to the loader (for example ``metric=`` for lm-eval).

    Raises:
      InputError: the file is missing, unreadable, or not a valid outcome matrix.
    """
    path = os.fspath(path)
    if not os.path.exists(path):
        raise InputError("no such file or folder", source=path, hint="check the path")
    if format is not None:
        if format not in LOADERS:
            raise InputError(f"unknown format {format!r}", source=path, where="--format",
                             hint=f"use one of {', '.join(LOADERS)}")
        return LOADERS[format][1](path, missing=missing, **options)
    for name, (detect, load) in LOADERS.items():
        try:
            hit = detect(path)
        except (OSError, UnicodeDecodeError, ValueError):
            hit = False
        if hit:
            return load(path, missing=missing, **options)
    raise InputError("cannot tell the format of this input", source=path,
                     hint=f"pass --format with one of {', '.join(LOADERS)}")


from . import formats as _formats  # noqa: E402,F401  (registers the built-in loaders)
from . import importers as _importers  # noqa: E402,F401  (harness importers, issue 10)
