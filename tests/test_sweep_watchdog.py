"""The sweep's stall watchdog, with an injected clock (no real stall, no timed test)."""

import io

from cofail_jax._src.sweep_io import Watchdog


class FakeClock:
    def __init__(self):
        self.t = 0.0

    def __call__(self):
        return self.t


def _batches(wd, clock, group, seconds):
    for s in seconds:
        with wd.batch(group, "micro-batch"):
            clock.t += s


def test_flags_a_batch_far_slower_than_its_peers_once():
    clock, err = FakeClock(), io.StringIO()
    wd = Watchdog(clock=clock, stream=err, interval=None, resume_hint="rerun to resume")
    _batches(wd, clock, "d=67", [100.0, 2.0, 2.0, 2.0])  # first one compiles
    with wd.batch("d=67", "micro-batch 5/9 (dimension 67)"):
        clock.t += 59.0
        assert wd.check() is None           # 59 s: above 10 x median (20 s), below 60 s
        clock.t += 2.0
        msg = wd.check()                    # 61 s: > 60 s and > 10 x 2 s
        assert msg and "micro-batch 5/9 (dimension 67)" in msg and "rerun to resume" in msg
        assert "Ctrl-C" in msg and "finished work is kept" in msg
        clock.t += 100.0
        assert wd.check() is None           # said once per batch
    assert err.getvalue().count("warning") == 1
    assert wd.warnings == [msg]


def test_peers_are_per_group_and_compilation_is_allowed_time():
    clock = FakeClock()
    wd = Watchdog(clock=clock, stream=io.StringIO(), interval=None, min_seconds=60.0)
    _batches(wd, clock, "d=8", [0.1, 0.1, 0.1])
    with wd.batch("d=67", "first batch at a new dimension"):
        clock.t += 200.0                    # compiling: no peers yet, below the 300 s allowance
        assert wd.check() is None
        clock.t += 700.0
        assert wd.check() is not None       # 900 s even for a first batch
    _batches(wd, clock, "d=67", [30.0, 30.0])
    with wd.batch("d=67", "slow but normal"):
        clock.t += 250.0                    # < 10 x median (30 s) of its own group
        assert wd.check() is None
    assert wd.check() is None               # nothing running


def test_run_sweep_takes_a_callback_and_a_watchdog(tmp_path):
    """Progress goes through the callback; the watchdog times every micro-batch."""
    from cofail_jax._src.sweep_io import load_config, run_sweep
    from sweep_helpers import write_config, write_matrix

    # the tiny pool and copulas of the other sweep tests: their compiled programs are reused
    cfg = write_config(tmp_path / "c.toml", write_matrix(tmp_path / "pool.csv"),
                       tmp_path / "c.h5", pool_sizes=[2, 3], subsets=3, bootstrap=0)
    calls = []
    wd = Watchdog(interval=None)
    summary = run_sweep(load_config(cfg), progress=lambda d, t: calls.append((d, t)),
                        watchdog=wd)
    assert calls[0] == (0, 3) and calls[-1] == (3, 3)
    # the full pool, then both pool sizes (6 rows: one micro-batch, see _Run._groups)
    assert sum(len(v) for v in wd.durations.values()) >= 2
    assert "watchdog_warnings" not in summary


def test_concurrent_batches_are_timed_and_flagged_each():
    """Two driver threads (sweep.CPU_WORKERS) each in a micro-batch: both are timed, and
    the one past its limit is the one named."""
    import threading

    clock, err = FakeClock(), io.StringIO()
    wd = Watchdog(clock=clock, stream=err, interval=None, min_seconds=60.0)
    _batches(wd, clock, "d=67", [100.0, 2.0, 2.0, 2.0])
    inside, release = threading.Event(), threading.Event()

    def other():
        with wd.batch("d=67", "micro-batch 6/9 (other thread)"):
            inside.set()
            release.wait(10)

    t = threading.Thread(target=other)
    t.start()
    assert inside.wait(10)
    with wd.batch("d=67", "micro-batch 5/9 (this thread)"):
        assert len(wd.active) == 2
        clock.t += 61.0                     # both are now 61 s old: flagged one at a time
        first, second = wd.check(), wd.check()
        assert first and second and first != second
        assert wd.check() is None           # each said once
        release.set()
        t.join(10)
    assert not wd.active and len(wd.durations["d=67"]) == 6
    assert err.getvalue().count("warning") == 2
