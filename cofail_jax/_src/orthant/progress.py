"""Progress reports of the chunked orthant estimators (the core calls back; the CLI draws).

An estimator built with ``progress=callback`` (or inside :func:`reporting`) calls
``callback(0, total)`` when it is traced, that is before compilation, and
``callback(done, total)`` after every chunk, with ``done`` and ``total`` in draws
(MC, tilting) or points (QMC) and ``done`` increasing within a call. The per-chunk report
is a ``jax.debug.callback`` that depends on the chunk's result, so it fires when the
chunk is finished; an estimator built without a callback has none in its program (the
default, and the fastest path). The counts describe one unbatched call: under ``vmap``
every member reports.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator

import jax

Progress = Callable[[int, int], None]

_SCOPE: list[Progress | None] = []


@contextlib.contextmanager
def reporting(progress: Progress | None) -> Iterator[None]:
    """Estimators built in this block without their own ``progress`` report to this one.

    For callers that cannot pass the callback down (an estimator built deep inside a
    pricing pipeline). ``None`` is allowed and reports nothing.
    """
    _SCOPE.append(progress)
    try:
        yield
    finally:
        _SCOPE.pop()


def resolve(progress: Progress | None) -> Progress | None:
    """The explicit callback, else the innermost :func:`reporting` one, else None."""
    if progress is not None:
        return progress
    return _SCOPE[-1] if _SCOPE else None


class ChunkTicker:
    """Counts finished chunks on the host and reports ``(done, total)`` in samples."""

    def __init__(self, progress: Progress, n_chunks: int, chunk: int):
        self.progress, self.n_chunks, self.chunk = progress, n_chunks, chunk
        self.total = n_chunks * chunk
        self.count = 0

    def start(self) -> None:
        self.count = 0
        self.progress(0, self.total)

    def __call__(self, *_) -> None:
        self.count += 1
        self.progress((self.count - 1) % self.n_chunks * self.chunk + self.chunk, self.total)


def ticking(one: Callable, progress: Progress | None, n_chunks: int, chunk: int) -> Callable:
    """``one(c, *args)`` that also reports to ``progress`` when chunk ``c`` is done (no
    change when ``progress`` is None)."""
    progress = resolve(progress)
    if progress is None:
        return one
    ticker = ChunkTicker(progress, n_chunks, chunk)
    ticker.start()

    def one_ticking(c, *args):
        out = one(c, *args)
        jax.debug.callback(ticker, c, jax.tree.leaves(out)[0])
        return out

    return one_ticking
