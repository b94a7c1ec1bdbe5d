"""Loaders: every supported format reduced to an :class:`OutcomeMatrix`.

``load_matrix(path, format=None)`` detects the format from the file (or folder) and
calls the loader registered for it in ``LOADERS``. Importers for other formats
register themselves here with :func:`register_format`.
"""

from __future__ import annotations

import csv
import os
import struct
import zlib
from collections.abc import Callable

from ..errors import InputError
from ..matrix import OutcomeMatrix

# name -> (detect(path) -> bool, load(path, missing=..., **options) -> OutcomeMatrix)
LOADERS: dict[str, tuple[Callable[[str], bool], Callable[..., OutcomeMatrix]]] = {}


def register_format(name: str, detect: Callable[[str], bool], load: Callable[..., OutcomeMatrix]) -> None:
    """Register a loader; formats registered first are tried first by detection."""
    LOADERS[name] = (detect, load)


def detect_format(path: str | os.PathLike) -> str | None:
    """The first registered format whose detector accepts ``path``, or None. A detector
    that fails on an unreadable, damaged or odd file counts as "not this format"."""
    path = os.fspath(path)
    for name, (detect, _) in LOADERS.items():
        try:
            if detect(path):
                return name
        except Exception:  # noqa: BLE001
            continue
    return None


def load_matrix(path: str | os.PathLike, format: str | None = None, *, missing: str = "error",
                reduce: str = "first", **options) -> OutcomeMatrix:
    """Load an outcome matrix from a file or folder.

    Args:
      path: a wide CSV, long CSV/JSONL, an HDF5 file written by cofail, a folder of
        solved-id lists, or lm-evaluation-harness samples (see ``LOADERS``).
      format: a name from ``LOADERS``; detected from the file when None.
      missing: ``"error"`` (default), ``"drop-queries"`` or ``"drop-models"``.
      reduce: how repeated samples (epochs) become one cell: ``"first"`` (default,
        pass@1 on sample 1), ``"majority"`` (majority@k), ``"any"`` (pass@k) or ``"all"``
        (see :data:`~cofail_jax._src.io.options.REDUCERS`); ``"mean"`` raises, as the
        matrix holds 0/1 cells (use ``reduce_samples`` for the fractions).
      **options: passed to the loader: ``scorer``, ``task``, ``metric``, ``filter``,
        ``latest`` (see :data:`~cofail_jax._src.io.options.IMPORT_OPTIONS`) and the
        loader's own (``partial``, ``threshold``, ...). An option the loader does not
        take raises :class:`InputError`; None values are left out.

    Raises:
      InputError: the file is missing, unreadable, or not a valid outcome matrix.
    """
    from .options import apply_reduce, check_options

    path = os.fspath(path)
    options = {k: v for k, v in options.items() if v is not None and v is not False}
    if not os.path.exists(path):
        if os.path.islink(path):
            raise InputError("is a broken symbolic link", source=path, hint="check the path")
        raise InputError("no such file or folder", source=path, hint="check the path")
    if format is not None:
        if format not in LOADERS:
            raise InputError(f"unknown format {format!r}", source=path, param="format",
                             hint=f"use one of {', '.join(LOADERS)}")
        check_options(LOADERS[format][1], format, options, source=path)
        return apply_reduce(_guarded_load(format, path, missing=missing, **options), reduce)
    name = detect_format(path)
    if name is not None:
        check_options(LOADERS[name][1], name, options, source=path)
        return apply_reduce(_guarded_load(name, path, missing=missing, **options), reduce)
    if os.path.isdir(path):
        raise InputError("is a directory in none of the known layouts", source=path,
                         hint="name a matrix file, or pass --format with one of "
                         + ", ".join(LOADERS))
    raise InputError("cannot tell the format of this input", source=path,
                     hint=f"give format= one of {', '.join(LOADERS)}")


# What a damaged or hostile file can make a parser raise (h5py raises RuntimeError and
# KeyError on corrupted HDF5, the csv module csv.Error, decoders UnicodeError, zip and
# parquet readers their own OSError/ValueError subclasses). Each becomes an InputError
# naming the file; anything else is a bug and keeps its traceback.
_READ_ERRORS: tuple[type[BaseException], ...] = (
    OSError, RuntimeError, KeyError, IndexError, ValueError, TypeError, AttributeError,
    UnicodeError, EOFError, RecursionError, OverflowError, csv.Error, zlib.error, struct.error,
)


def _guarded_load(name: str, path: str, **kwargs) -> OutcomeMatrix:
    """``LOADERS[name]`` on ``path``; a failure that is not already an InputError
    becomes one naming the file and the format."""
    try:
        return LOADERS[name][1](path, **kwargs)
    except InputError:
        raise
    except IsADirectoryError:
        raise InputError(f"is a directory, but format {name!r} reads a file", source=path,
                         hint="name the file itself") from None
    except NotADirectoryError:
        raise InputError(f"is a file, but format {name!r} reads a folder", source=path,
                         hint="name the folder") from None
    except UnicodeError:
        raise InputError(f"is not UTF-8 text, so not {name!r} input", source=path,
                         hint="save it as UTF-8 (CSV/JSONL), or check the file and --format",
                         ) from None
    except MemoryError:
        raise InputError(f"is too large to load as {name!r}", source=path,
                         hint="split the file or select fewer models") from None
    except _READ_ERRORS as e:
        msg = " ".join(str(e).split())[:200]
        raise InputError(f"cannot be read as {name!r} input; the file may be damaged "
                         f"({type(e).__name__}: {msg})", source=path,
                         hint="re-export it, or check --format") from None


from . import formats as _formats  # noqa: E402,F401  (registers the built-in loaders)
from . import importers as _importers  # noqa: E402,F401  (harness importers)
