"""A sweep killed mid-run (SIGKILL) and restarted recomputes nothing already stored and
ends with the same results file as an uninterrupted run; the device count does not
change the results."""

import os
import signal
import subprocess
import sys
import textwrap

import h5py
import pytest

from cofail_jax._src.sweep_io import load_config, run_sweep
from sweep_helpers import assert_same, write_config, write_matrix

RUNNER = textwrap.dedent("""
    import sys, time
    import cofail_jax
    from cofail_jax._src.sweep_io import load_config, run_sweep
    cfg = load_config(sys.argv[1])
    delay = float(sys.argv[2])
    def hook(name):
        print(name, flush=True)
        time.sleep(delay)
    run_sweep(cfg, progress=False, on_checkpoint=hook)
""")


def _spawn(tmp_path, cfg, devices, delay):
    script = tmp_path / "runner.py"
    script.write_text(RUNNER)
    # the session's other XLA flags kept (conftest's optimization level: same cache keys)
    other = [f for f in os.environ.get("XLA_FLAGS", "").split()
             if not f.startswith("--xla_force_host_platform_device_count")]
    env = dict(os.environ, XLA_FLAGS=" ".join(
        [f"--xla_force_host_platform_device_count={devices}", *other]))
    return subprocess.Popen([sys.executable, str(script), cfg, str(delay)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env)


# three pool sizes, two bootstrap chunks: 1 + 3 + 2 = 6 stored groups (the resume rule is
# about groups, not copulas). The copulas and pool of the other sweep tests
# (sweep_helpers.write_config's): the reference run reuses their compiled programs, and the
# 4-device runner loads them from the session's compilation cache. (The 1-device runner
# compiles afresh: the cache key includes the host's device count.)
SMALL = dict(pool_sizes=[2, 3, 5], bootstrap=16)
N_GROUPS = 6


@pytest.fixture(scope="module")
def ref(tmp_path_factory):
    d = tmp_path_factory.mktemp("resume")
    csv = write_matrix(d / "pool.csv")
    cfg = write_config(d / "ref.toml", csv, d / "ref.h5", **SMALL)
    run_sweep(load_config(cfg), progress=False)
    return d, csv, d / "ref.h5"


def _complete_groups(path):
    out = set()
    with h5py.File(path, "r") as f:
        def visit(name, obj):
            if isinstance(obj, h5py.Group) and obj.attrs.get("complete", 0) == 1:
                out.add(name)
        f.visititems(visit)
    return out


def test_resume_after_kill_equals_uninterrupted(ref, tmp_path):
    d, csv, ref_h5 = ref
    out = tmp_path / "killed.h5"
    cfg = write_config(tmp_path / "killed.toml", csv, out, **SMALL)
    proc = _spawn(tmp_path, cfg, 4, delay=3.0)
    seen = []
    try:
        while len(seen) < 3:
            line = proc.stdout.readline()
            if not line:
                pytest.fail("runner ended early: " + proc.stderr.read()[-2000:])
            seen.append(line.strip())
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        proc.stdout.close()
        proc.stderr.close()
    partial = str(out) + ".partial"
    assert not out.exists() and os.path.exists(partial)
    stored = _complete_groups(partial)
    assert set(seen) <= stored and len(stored) < N_GROUPS

    names = []
    summary = run_sweep(load_config(cfg), progress=False, on_checkpoint=names.append)
    reused = {n[len("reused:"):] for n in names if n.startswith("reused:")}
    computed = [n for n in names if not n.startswith("reused:")]
    assert reused == stored  # everything stored was reused ...
    assert not reused & set(computed) and len(computed) == N_GROUPS - len(stored)  # ... not recomputed
    assert set(summary["reused"]) == stored
    assert not os.path.exists(partial)
    assert_same(ref_h5, out)
    with h5py.File(out) as f:
        assert f.attrs["sessions"] == 2


def test_device_count_does_not_change_results(ref, tmp_path):
    d, csv, ref_h5 = ref
    out = tmp_path / "one_device.h5"
    cfg = write_config(tmp_path / "one.toml", csv, out, **SMALL)
    proc = _spawn(tmp_path, cfg, 1, delay=0.0)
    _, err = proc.communicate(timeout=900)
    assert proc.returncode == 0, err[-2000:]
    with h5py.File(out) as f:
        assert f.attrs["device_count"] == 1
    with h5py.File(ref_h5) as f:
        assert f.attrs["device_count"] == 4
    # resamples, subsets and counts are identical; floating-point results agree to
    # rounding (XLA compiles the 1- and 4-device programs separately)
    assert_same(ref_h5, out, rtol=1e-12)
