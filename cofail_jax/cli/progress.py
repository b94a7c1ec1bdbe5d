"""Progress bars for long commands (the bar lives here; the core only calls back).

Core functions that can run for more than a few seconds take ``progress=None``, a
callable ``progress(done, total)`` that they call with ``done=0`` before the first block
(whose time is mostly JAX compilation) and after each block. :func:`progress_bar` turns
that into a "compiling" line and then a tqdm bar on stderr, and stays silent when stderr
is not a terminal (pipes, CI, log files) or when tqdm is not installed.
"""

from __future__ import annotations

import contextlib
import sys
import time
from collections.abc import Callable, Iterator


def _enabled(stream) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


@contextlib.contextmanager
def progress_bar(what: str, unit: str = "it", *, stream=None,
                 enabled: bool | None = None) -> Iterator[Callable[[int, int], None] | None]:
    """A ``progress(done, total)`` callback that draws a bar for ``what``, or None when
    the bar would be silent (stderr not a terminal, or tqdm missing).

    The first call (``done == 0``) shows "compiling" until the first block ends; from
    then on the bar shows ``what`` with a rate and an ETA measured after compilation, so
    the compile time does not spoil the estimate.
    """
    stream = sys.stderr if stream is None else stream
    on = _enabled(stream) if enabled is None else enabled
    try:
        from tqdm import tqdm
    except ImportError:  # optional at run time: no bar, same results
        on = False
    state: dict = {"bar": None, "t0": None}

    def update(done: int, total: int) -> None:
        bar = state["bar"]
        if bar is None:
            bar = tqdm(total=int(total), desc=f"{what}: compiling", unit=unit, file=stream,
                       leave=False, dynamic_ncols=True, smoothing=0.1)
            state["bar"] = bar
            state["t0"] = time.perf_counter()
        if done <= bar.n:
            return
        if state["t0"] is not None:  # the first block (compilation) just ended
            state["t0"] = None
            # restart the clock here: the rate and ETA count post-compilation blocks only
            bar.set_description_str(what, refresh=False)
            bar.initial = bar.n = bar.last_print_n = int(done)
            bar.start_t = bar.last_print_t = bar._time()
            bar.refresh()
        else:
            bar.update(int(done) - bar.n)

    try:
        # None when silent: the core then takes its fastest path (one jitted call)
        yield update if on else None
    finally:
        if state["bar"] is not None:
            state["bar"].close()


@contextlib.contextmanager
def stage(text: str, *, stream=None) -> Iterator[None]:
    """One status line (e.g. "compiling and running the identification LP") for a step
    that has no inner progress; erased when the step ends. Silent when not a TTY."""
    stream = sys.stderr if stream is None else stream
    on = _enabled(stream)
    if on:
        stream.write(f"{text} ...")
        stream.flush()
    try:
        yield
    finally:
        if on:
            stream.write("\r\033[K")
            stream.flush()
