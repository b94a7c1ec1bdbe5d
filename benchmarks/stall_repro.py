"""Minimal reproducer for the XLA-CPU stalls of the sweep (benchmarks/RESULTS.md, commits
d9f9eb9, 81d84e4, 909b37d): a process at 0 % CPU, its main thread waiting on a result.

Each attempt runs in a subprocess; the parent samples the child's CPU time from
/proc/<pid>/stat and calls it STALLED when the CPU time has not moved for --idle seconds
(the signature of the sweep's stalls), TIMEOUT when it is still busy at --timeout, and
kills it either way. Workloads (all float64, a Higham nearest-correlation loop of
eigendecompositions on indefinite k x k matrices, like the sweep's repair):

  shard_map   shard_map over 4 forced host devices of vmap(higham) (stall 1)
  parallel    one jitted program with 4 independent Higham loops (stall 2's shape:
              independent eigh-heavy branches XLA may run concurrently)
  batched     one jitted program with 2 independent loops of vmapped (batched) eigh
  threads     4 Python threads calling one jitted Higham concurrently
  serial      one Higham loop at a time (control)
  combined    stall 2 itself: 8 bootstrap replicates of the 67-model pool, resample +
              statistics + all four copulas in one jitted program (sweep internals)

Findings (2026-11-29, jaxlib 0.10.2, 2 CPUs, benchmarks/RESULTS.md): "combined" stalled
in 3 of 9 attempts; the other modes never did. gdb on the stalled child: both threads of
XLA's intra-op pool inside lapack_dsyevd_ffi -> jax::ParallelBatchMap ->
BlockingCounter::Wait (a batched LAPACK call waiting for batch tasks queued on the same,
exhausted pool). --gdb PREFIX writes those stacks.

Configurations vary what the hypotheses name: OpenBLAS's own thread pool (jaxlib's CPU
eigh calls LAPACK from scipy's OpenBLAS; OPENBLAS_NUM_THREADS=1 disables its pool), XLA's
CPU flags (--xla_cpu_multi_thread_eigen=false), and the forced host device count.

    .venv/bin/python benchmarks/stall_repro.py [--modes shard_map,parallel] [--attempts 3]
        [--timeout 90] [--idle 15] [--reps 40] [--k 48]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time

CONFIGS = {
    "default": {},
    "openblas1": {"OPENBLAS_NUM_THREADS": "1"},
    "no_eigen_mt": {"XLA_FLAGS+": "--xla_cpu_multi_thread_eigen=false"},
}


def child(mode: str, k: int, reps: int) -> None:
    import jax
    import jax.numpy as jnp
    import numpy as np

    jax.config.update("jax_enable_x64", True)
    from cofail_jax._src.repair import nearest_correlation

    rng = np.random.default_rng(0)
    u = rng.uniform(-1, 1, (16, k, k))
    u = (u + np.swapaxes(u, 1, 2)) / 2
    u[:, np.arange(k), np.arange(k)] = 1.0
    higham = lambda a: nearest_correlation(a, tol=1e-10, max_iter=300).corr  # noqa: E731

    if mode == "shard_map":
        # the old sweep / map_chunks shape: shard_map (check_vma=False) over a one-axis
        # mesh, then the per-shard results replicated (an all-gather across devices)
        from jax.sharding import Mesh, NamedSharding, PartitionSpec as P

        devs = jax.devices()
        assert len(devs) == 4, devs
        mesh = Mesh(np.array(devs), ("d",))
        local = jax.shard_map(jax.vmap(higham), mesh=mesh, in_specs=P("d"), out_specs=P("d"),
                              check_vma=False)
        fn = jax.jit(lambda x: jax.lax.with_sharding_constraint(local(x),
                                                               NamedSharding(mesh, P())))
        call = lambda i: fn(u[:8])  # noqa: E731
    elif mode == "combined":
        # stall 2: resample + pool statistics + all four copulas in ONE jitted program
        # over 8 replicates of the 67-model benchmark pool (QMC 4096 points, Higham
        # repair), the shape the sweep split into two programs in 909b37d. Uses sweep
        # internals (pool_stats, bootstrap_weights, make_subset_pricer) as of 2026-11-29.
        from cofail_jax._src import sweep as S
        from cofail_jax._src.simulate import benchmark_pool

        e = jnp.asarray(benchmark_pool(jax.random.key(0)).errors)
        mask = jnp.ones(e.shape[1], bool)
        price = S.make_subset_pricer(S.COPULAS, orthant_samples=4096, orthant_method="qmc",
                                     repair="nearest")
        key = jax.random.key(0)

        def one(i):
            key_w, key_p = jax.random.split(jax.random.fold_in(key, i))
            w = S.bootstrap_weights(key_w, e.shape[0])
            return price(key_p, S.pool_stats(e, w), e, w, mask)

        fn = jax.jit(jax.vmap(one))
        call = lambda i: fn(jnp.arange(8) + 8 * i)  # noqa: E731
    elif mode == "batched":
        # the minimal form: 2 independent loops of BATCHED eigh (vmap) in one program
        fn = jax.jit(lambda xs: [jax.vmap(higham)(xs[j]) for j in range(2)])
        call = lambda i: fn(u.reshape(2, 8, k, k))  # noqa: E731
    elif mode == "parallel":
        fn = jax.jit(lambda xs: [higham(xs[j]) for j in range(4)])
        call = lambda i: fn(u[:4])  # noqa: E731
    elif mode == "threads":
        import concurrent.futures as cf

        fn = jax.jit(higham)
        pool = cf.ThreadPoolExecutor(4)
        call = lambda i: list(  # noqa: E731
            pool.map(lambda j: fn(u[j]).block_until_ready(), range(4)))
    elif mode == "serial":
        fn = jax.jit(higham)
        call = lambda i: [fn(u[j]).block_until_ready() for j in range(4)]  # noqa: E731
    else:
        raise SystemExit(f"stall_repro: unknown mode {mode!r}")
    t0 = time.perf_counter()
    for i in range(reps):
        jax.block_until_ready(call(i))
        if i == 0:
            print(f"compiled+first call {time.perf_counter() - t0:.1f} s", flush=True)
    print(f"done {reps} calls in {time.perf_counter() - t0:.1f} s", flush=True)


def cpu_seconds(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return float("nan")


def dump_stacks(pid: int, path: str) -> None:
    """All native thread stacks of the stalled child (gdb), to ``path``; prints which
    threads sit in OpenBLAS, XLA/Eigen thread pools and the Python main thread."""
    try:
        out = subprocess.run(["gdb", "-p", str(pid), "-batch", "-ex", "thread apply all bt 30"],
                             capture_output=True, text=True, timeout=120).stdout
    except (OSError, subprocess.TimeoutExpired) as exc:
        print(f"  (gdb failed: {exc})")
        return
    with open(path, "w") as f:
        f.write(out)
    threads = out.split("\nThread ")[1:]
    tags = {"openblas": ("blas_thread", "exec_blas", "openblas", "dsyevd", "dsytrd", "lapack"),
            "eigen/xla pool": ("Eigen::", "ThreadPool", "tsl::", "xla::"),
            "python": ("PyEval", "_PyEval", "Py_RunMain")}
    counts = {t: 0 for t in tags}
    for th in threads:
        for t, keys in tags.items():
            if any(k in th for k in keys):
                counts[t] += 1
    print(f"  gdb: {len(threads)} threads -> {path}; threads with frames in "
          + ", ".join(f"{t}: {c}" for t, c in counts.items()))


def attempt(mode, config, args):
    env = dict(os.environ)
    for key, val in CONFIGS[config].items():
        if key.endswith("+"):
            env[key[:-1]] = (env.get(key[:-1], "") + " " + val).strip()
        else:
            env[key] = val
    if mode == "shard_map":
        env["XLA_FLAGS"] = (env.get("XLA_FLAGS", "") +
                            " --xla_force_host_platform_device_count=4").strip()
    cmd = [sys.executable, __file__, "--child", mode, "--k", str(args.k), "--reps", str(args.reps)]
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    last_cpu, last_move = 0.0, t0
    verdict = None
    while p.poll() is None:
        time.sleep(1.0)
        now = time.perf_counter()
        c = cpu_seconds(p.pid)
        if c > last_cpu + 0.02:
            last_cpu, last_move = c, now
        if now - last_move > args.idle and now - t0 > args.idle:
            verdict = f"STALLED (no CPU for {args.idle:.0f} s)"
        elif now - t0 > args.timeout:
            verdict = "TIMEOUT (still busy)"
        if verdict:
            if verdict.startswith("STALLED") and args.gdb:
                dump_stacks(p.pid, f"{args.gdb}_{mode}_{config}.txt")
            p.kill()
            break
    out = p.communicate()[0].strip().splitlines()
    wall = time.perf_counter() - t0
    if verdict is None:
        verdict = "ok" if p.returncode == 0 else f"exit {p.returncode}"
    return verdict, wall, last_cpu, (out[-1] if out else "")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--child")
    ap.add_argument("--modes", default="shard_map,parallel,threads,serial")
    ap.add_argument("--configs", default=",".join(CONFIGS))
    ap.add_argument("--attempts", type=int, default=2)
    ap.add_argument("--timeout", type=float, default=90)
    ap.add_argument("--idle", type=float, default=15)
    ap.add_argument("--reps", type=int, default=20)
    ap.add_argument("--k", type=int, default=48)
    ap.add_argument("--gdb", metavar="PREFIX",
                    help="on a stall, write every thread's native stack to "
                         "PREFIX_<mode>_<config>.txt")
    args = ap.parse_args()
    if args.child:
        child(args.child, args.k, args.reps)
        return
    print(f"load average {' '.join(f'{v:.1f}' for v in os.getloadavg())} on {os.cpu_count()} "
          f"CPUs; k = {args.k}, {args.reps} calls per attempt", flush=True)
    print(f"{'mode':10s} {'config':12s} {'#':>2s} {'verdict':30s} {'wall s':>7s} "
          f"{'cpu s':>6s}  last line")
    for mode in args.modes.split(","):
        for config in args.configs.split(","):
            for n in range(args.attempts):
                v, wall, cpu, line = attempt(mode, config, args)
                print(f"{mode:10s} {config:12s} {n:2d} {v:30s} {wall:7.1f} {cpu:6.1f}  {line}",
                      flush=True)
    print(f"load average at the end {' '.join(f'{v:.1f}' for v in os.getloadavg())}")


if __name__ == "__main__":
    main()
