"""A watchdog for the sweep driver: notice a micro-batch that takes far longer than its peers.

On CPU, jaxlib 0.10's batched LAPACK calls can deadlock XLA's intra-op thread pool
(``benchmarks/stall_repro.py``): the process then sits idle forever, waiting on a result.
The pricing programs avoid the known trigger (no two independent batched LAPACK calls in
one program), but a long run should still not stall silently. The driver wraps every
micro-batch in :meth:`Watchdog.batch`; a background thread calls :meth:`Watchdog.check`
every few seconds, and when the running micro-batch has taken more than ``factor`` times
the median of its finished peers (same program, same compiled shape) and more than
``min_seconds``, it says so once on stderr, with what to do: stop the run and start the
same command again, which resumes from the checkpoint file (finished work is kept).

The clock is injectable, so the logic is tested without a real stall or a timed test.
"""

from __future__ import annotations

import contextlib
import statistics
import sys
import threading
import time
from collections.abc import Callable, Iterator


class Watchdog:
    """Flags a micro-batch running far longer than its peers (see the module docstring).

    Args:
      factor: how many times the peers' median duration counts as a stall.
      min_seconds: never flag a micro-batch that has run less than this.
      compile_seconds: the first micro-batch of a program also compiles it: it has no peers
        and is flagged only after this long.
      min_peers: finished peers needed before the median is trusted.
      clock: ``() -> seconds`` (``time.monotonic``; a fake one in tests).
      stream: where the warning goes (stderr).
      resume_hint: the sentence that tells the user how to resume.
      interval: seconds between checks in :func:`..run.run_sweep`'s background thread
        (None: no thread; the caller calls :meth:`check`).
    """

    def __init__(self, *, factor: float = 10.0, min_seconds: float = 60.0,
                 compile_seconds: float = 300.0, min_peers: int = 3,
                 clock: Callable[[], float] = time.monotonic, stream=None,
                 resume_hint: str = "run the same command again: it resumes from the checkpoint",
                 interval: float | None = 5.0):
        self.factor = float(factor)
        self.min_seconds = float(min_seconds)
        self.compile_seconds = float(compile_seconds)
        self.min_peers = int(min_peers)
        self.clock = clock
        self.stream = stream
        self.resume_hint = resume_hint
        self.interval = interval
        self.durations: dict[object, list[float]] = {}
        # the micro-batches running now, one per driver thread: [peer group, what, start, warned]
        self.active: dict[int, list] = {}
        self.warnings: list[str] = []
        self._lock = threading.Lock()

    @contextlib.contextmanager
    def batch(self, peer_group: object, what: str) -> Iterator[None]:
        """Time one micro-batch of ``peer_group`` (e.g. the program and its shape)."""
        ident = threading.get_ident()
        with self._lock:
            self.active[ident] = [peer_group, what, self.clock(), False]
        try:
            yield
        finally:
            with self._lock:
                entry = self.active.pop(ident, None)
                if entry is not None:
                    self.durations.setdefault(entry[0], []).append(self.clock() - entry[2])

    def limit(self, peer_group: object) -> float:
        """Seconds after which a micro-batch of ``peer_group`` counts as stalled."""
        peers = self.durations.get(peer_group, [])
        if len(peers) < self.min_peers:
            return max(self.compile_seconds, self.min_seconds)
        return max(self.factor * statistics.median(peers), self.min_seconds)

    def check(self) -> str | None:
        """The warning if a running micro-batch is past its limit (once per batch; the
        first such batch when several run at once)."""
        with self._lock:
            late = None
            for entry in self.active.values():
                group, what, t0, warned = entry
                elapsed = self.clock() - t0
                lim = self.limit(group)
                if not warned and elapsed > lim:
                    entry[3] = True
                    late = entry
                    break
            if late is None:
                return None
        peers = self.durations.get(group, [])
        med = (f"{self.factor:g}x the median of its {len(peers)} finished peers "
               f"({statistics.median(peers):.2g} s)" if len(peers) >= self.min_peers
               else f"the {lim:.0f} s allowed for its first run with compilation")
        msg = (f"cofail sweep: warning: {what} has run for {elapsed:.0f} s, more than {med}. "
               "XLA's CPU runtime may have stalled (the process stays idle; see "
               "benchmarks/RESULTS.md, 'the XLA-CPU stalls'). If the CPU time of this process "
               f"no longer grows, stop it (Ctrl-C) and {self.resume_hint}; finished work is "
               "kept.")
        self.warnings.append(msg)
        print(msg, file=self.stream or sys.stderr, flush=True)
        return msg

    @contextlib.contextmanager
    def running(self, interval: float = 5.0) -> Iterator[Watchdog]:
        """Check every ``interval`` seconds in a daemon thread while the block runs."""
        stop = threading.Event()

        def loop():
            while not stop.wait(interval):
                self.check()

        t = threading.Thread(target=loop, name="cofail-sweep-watchdog", daemon=True)
        t.start()
        try:
            yield self
        finally:
            stop.set()
            t.join(timeout=interval + 1)
