"""A hang guard for the robustness tests: not a timing test (a loader or a command with bad
input normally answers in milliseconds); SIGALRM turns a real hang into a failure."""

from __future__ import annotations

import contextlib
import signal

HANG_S = 60


@contextlib.contextmanager
def hang_guard(seconds: int = HANG_S, what: str = "call"):
    if not hasattr(signal, "SIGALRM"):
        yield
        return

    def _raise(signum, frame):
        raise TimeoutError(f"{what} did not return within {seconds} s (a hang)")

    old = signal.signal(signal.SIGALRM, _raise)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)
