"""Metadata decoded when first read: an importer's fast path decodes only what the
matrix needs (ids, models, cells) and leaves answers, completions, token counts, scores
and prompts to a function run the first time an analysis reads ``cell_meta`` or
``query_meta``; the values are then exactly the ones an eager load gives.

:class:`LazyMetaMatrix` is an :class:`~cofail_jax._src.matrix.OutcomeMatrix` whose
``cell_meta`` / ``query_meta`` are :class:`LazyMeta` mappings: reading either (a key,
``in``, iteration, ``len``) runs the decode once for both; until then the construction
checks skip them (their shapes are right by construction). Copies, pickles and
``dataclasses.replace`` with new metadata give plain matrices and dicts.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import numpy as np

from ...errors import InputError
from ...matrix import OutcomeMatrix

Groups = tuple[dict[str, np.ndarray], dict[str, np.ndarray]]  # (cell_meta, query_meta)


class MetaSource:
    """Runs ``make()`` -> (cell_meta, query_meta) once, on first use, and keeps the
    result (and drops ``make``, with the undecoded bytes it holds)."""

    def __init__(self, make: Callable[[], Groups], source: str, what: str) -> None:
        self._make: Callable[[], Groups] | None = make
        self._groups: Groups | None = None
        self._lock = threading.Lock()
        self.source, self.what = source, what

    @property
    def pending(self) -> bool:
        return self._groups is None

    def groups(self) -> Groups:
        if self._groups is None:
            with self._lock:
                if self._groups is None:
                    assert self._make is not None
                    self._groups = _decode(self._make, self.source, self.what)
                    self._make = None
        return self._groups


def _decode(make: Callable[[], Groups], source: str, what: str) -> Groups:
    """``make()``, any failure of a damaged file as the loader's own message would say it."""
    try:
        return make()
    except InputError:
        raise
    except (OSError, KeyError, IndexError, ValueError, TypeError, AttributeError,
            UnicodeError, RecursionError, OverflowError) as e:
        msg = " ".join(str(e).split())[:200]
        raise InputError(f"cannot be read as {what!r} input; the file may be damaged "
                         f"({type(e).__name__}: {msg})", source=source,
                         hint="check the file and --format") from None


class LazyMeta(Mapping):
    """``cell_meta`` (``group`` 0) or ``query_meta`` (1) of a :class:`MetaSource`,
    decoded on first access."""

    def __init__(self, src: MetaSource, group: int) -> None:
        self._src, self._group = src, group

    @property
    def pending(self) -> bool:
        return self._src.pending

    def _data(self) -> dict[str, np.ndarray]:
        return self._src.groups()[self._group]

    def __getitem__(self, key: str) -> np.ndarray:
        return self._data()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._data())

    def __len__(self) -> int:
        return len(self._data())

    def __contains__(self, key: object) -> bool:
        return key in self._data()

    def __repr__(self) -> str:
        return repr(self._data())

    def __reduce__(self) -> tuple:
        return (dict, (dict(self._data()),))

    def __copy__(self) -> dict[str, np.ndarray]:
        return dict(self._data())

    def __deepcopy__(self, memo: dict) -> dict[str, np.ndarray]:
        import copy

        return copy.deepcopy(dict(self._data()), memo)


def _plain(fields: dict[str, Any]) -> OutcomeMatrix:
    return OutcomeMatrix(**fields)


class LazyMetaMatrix(OutcomeMatrix):
    """An :class:`OutcomeMatrix` whose metadata may still be undecoded (see module)."""

    def __post_init__(self) -> None:
        pending = {f: getattr(self, f) for f in ("cell_meta", "query_meta")
                   if isinstance(getattr(self, f), LazyMeta) and getattr(self, f).pending}
        for f in pending:
            object.__setattr__(self, f, {})
        try:
            super().__post_init__()
        finally:
            for f, v in pending.items():
                object.__setattr__(self, f, v)

    def __repr__(self) -> str:
        text = super().__repr__()
        return "OutcomeMatrix" + text[len(type(self).__qualname__):]

    def __reduce__(self) -> tuple:
        return (_plain, ({f.name: getattr(self, f.name)
                          for f in dataclasses.fields(OutcomeMatrix)},))


def lazy_matrix(make: Callable[[], Groups], *, what: str, **fields: Any) -> OutcomeMatrix:
    """A matrix with ``fields`` whose ``cell_meta`` and ``query_meta`` are ``make()``'s,
    decoded on first access (errors there name ``fields['source']`` and format ``what``)."""
    src = MetaSource(make, fields.get("source", "<array>"), what)
    return LazyMetaMatrix(cell_meta=LazyMeta(src, 0), query_meta=LazyMeta(src, 1), **fields)
