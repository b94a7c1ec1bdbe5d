"""The sweep's micro-batch execution: rows run in fixed-size micro-batches through one
compiled program per shape (``lax.map`` over the rows), compiled ahead of time in threads,
dispatched round-robin over accelerator devices or, on one CPU device, from
:data:`CPU_WORKERS` host threads; every micro-batch can be timed by the stall watchdog.

The pricing itself (what a row computes) lives in :mod:`.sweep`; this module only runs
rows, so any row's numbers are the same whatever the chunk size, device count or thread
count.
"""

from __future__ import annotations

import concurrent.futures
import os
import threading

import jax
import jax.numpy as jnp
import numpy as np

from .sharding import cpu_compiler_options

MICRO = 8
"""Rows per micro-batch. Every row is computed by the same compiled micro-batch
body whatever the chunk size or device count, so results are bit-for-bit reproducible."""


def _pad_to(n: int, m: int) -> int:
    return -(-n // m) * m


def _runner(one):
    """Jitted ``micro(static, rows, d)``: ``lax.map(one(d))`` over one micro-batch of
    :data:`MICRO` rows, compiled once per static ``d`` (the compacted subset dimension,
    see :func:`make_subset_sweep`), plus the devices to spread micro-batches over.

    :func:`_run_rows` loops over micro-batches on the host and sends micro-batch b to
    device ``b % device_count`` (accelerators; one device on CPU) (inputs committed there, so the jitted call runs there
    and the devices work concurrently under async dispatch). Every row goes through the
    same single-device program whatever the chunk size or device count, so results are
    bit-for-bit reproducible. (An earlier version ran all micro-batches inside one
    program, a ``fori_loop`` inside ``shard_map`` around the engines' nested ``while``
    loops; with several host devices, or with the 67-model pool and all four copulas,
    XLA's CPU runtime could stop using CPU inside it.)"""
    devices = tuple(jax.devices())
    if devices[0].platform == "cpu":
        # Host "devices" (--xla_force_host_platform_device_count) share the same cores,
        # and XLA's CPU runtime already threads inside each program; concurrent
        # executions of this program on several host devices stopped using CPU on this
        # jaxlib (when rows were vmapped: batched LAPACK), so on CPU everything runs on
        # the first device, with CPU_WORKERS micro-batches in flight from host threads
        # (rows run by lax.map now: no batched LAPACK call).
        devices = devices[:1]

    def micro(static, rows, d):
        # lax.map, not vmap: every row runs the single-row program, so no LAPACK call is
        # batched (jaxlib's batched CPU syevd could deadlock XLA's intra-op pool: a stall
        # seen with all five copulas at d = 67, benchmarks/RESULTS.md "Issue 18 part C"),
        # each row's adaptive QMC stops at its own point count instead of the batch's
        # largest, and the while loops compile unbatched
        return jax.lax.map(lambda row: one(static, row, d=d), rows)

    return _Program(jax.jit(micro, static_argnums=2), len(devices)), devices


class _Program:
    """A jitted micro-batch program, compiled ahead of time once per static ``d`` and input
    shapes, so that :func:`precompile` can compile a sweep's programs concurrently in
    threads (XLA compiles outside the GIL) before any runs. Inputs may be abstract
    (``jax.ShapeDtypeStruct``) when compiling; a program asked for twice at once is compiled
    once (the second caller waits). With several devices the plain jitted call is used (its
    executables follow the inputs' device)."""

    def __init__(self, jitted, n_devices: int):
        self.jitted = jitted
        self.n_devices = n_devices
        self._compiled: dict = {}
        self._lock = threading.Lock()

    def _key(self, static, rows, d):
        leaves, tree = jax.tree_util.tree_flatten((static, rows))
        return d, tree, tuple((tuple(np.shape(a)), str(getattr(a, "dtype", type(a))),
                               bool(getattr(a, "weak_type", False))) for a in leaves)

    def compile(self, static, rows, d):
        key = self._key(static, rows, d)
        with self._lock:
            fut = self._compiled.get(key)
            owner = fut is None
            if owner:
                fut = self._compiled[key] = concurrent.futures.Future()
        if owner:
            try:
                fut.set_result(self.jitted.lower(static, rows, d).compile(
                    cpu_compiler_options()))
            except BaseException as err:
                with self._lock:
                    del self._compiled[key]
                fut.set_exception(err)
        return fut.result()

    def __call__(self, static, rows, d):
        if self.n_devices > 1:
            return self.jitted(static, rows, d)
        return self.compile(static, rows, d)(static, rows)

    def _cache_size(self) -> int:
        return len(self._compiled) if self.n_devices == 1 else self.jitted._cache_size()


def _micro_rows(rows):
    """The first micro-batch of ``rows`` (numpy pytree), padded as :func:`_run_rows` pads,
    as device arrays: the shapes a program is compiled for."""
    def first(a):
        a = np.asarray(a)
        a = np.concatenate([a, np.repeat(a[:1], max(MICRO - a.shape[0], 0), axis=0)])
        return jnp.asarray(a[:MICRO])
    return jax.tree_util.tree_map(first, rows)


def _abstract_rows(row):
    """Abstract micro-batch inputs (``jax.ShapeDtypeStruct``, not weak-typed, as rows sent
    from numpy are) of rows shaped like the pytree ``row`` (shapes of one row)."""
    return jax.tree_util.tree_map(
        lambda a: jax.ShapeDtypeStruct((MICRO,) + tuple(np.shape(a)), a.dtype), row)


def precompile(jobs, max_workers: int | None = None):
    """Run the zero-argument callables ``jobs`` (each compiles programs, see
    ``sweep.precompile`` / ``boot.precompile``) in a thread pool, in the order given: on a
    2-core machine the compilations of a sweep's subset dimensions and bootstrap overlap
    instead of queueing. Jobs with the same ``ident()`` (one program asked for by several
    builders, e.g. the full-width program of the sweep and the bootstrap) run once.
    Exceptions propagate."""
    import concurrent.futures as cf

    seen, unique = set(), []
    for j in jobs:
        ident = j.ident() if hasattr(j, "ident") else None
        if ident is None or ident not in seen:
            unique.append(j)
            seen.add(ident)
    if not unique:
        return
    workers = max_workers or max(1, min(len(unique), os.cpu_count() or 1))
    with cf.ThreadPoolExecutor(workers) as ex:
        for f in [ex.submit(j) for j in unique]:
            f.result()


def _run_rows(run_mesh, static, rows, n_rows, batch=None, d=None, watch=None, label=""):
    """Run ``rows`` (numpy pytree, leading axis n_rows) through the micro-batch program,
    one dispatch per :data:`MICRO` rows (the last padded by repeating row 0), round-robin
    over the devices; returns numpy, unpadded. ``batch`` is accepted for compatibility:
    the compiled shape is always one micro-batch, so it changes neither work nor results.
    ``watch(peer_group, what)``: a context manager around each micro-batch (the sweep
    driver's :class:`..sweep_io.watchdog.Watchdog`); the micro-batch is then waited for
    inside it, so the watchdog times each one."""
    del batch
    micro, devices = run_mesh
    n_micro = _pad_to(max(n_rows, 1), MICRO) // MICRO
    # leaves may be read-only broadcast views (the pool's statistics repeated per row):
    # each micro-batch is sliced (and the last padded by repeating row 0) on its own
    rows = jax.tree_util.tree_map(np.asarray, rows)
    statics = [jax.device_put(static, dev) for dev in devices]
    workers = _cpu_workers(devices, n_micro)

    def take(a, s):
        part = a[s:s + MICRO]
        if part.shape[0] < MICRO:
            part = np.concatenate([part, np.repeat(a[:1], MICRO - part.shape[0], axis=0)])
        return np.ascontiguousarray(part)

    def one_batch(b):
        s = b * MICRO
        dev = devices[b % len(devices)]
        r = jax.tree_util.tree_map(lambda a: jax.device_put(take(a, s), dev), rows)
        if watch is None:
            out = micro(statics[b % len(devices)], r, d)
            # in a worker thread: wait here, so that only `workers` batches are in flight
            return jax.block_until_ready(out) if workers > 1 else out
        with watch((id(micro), d), f"{label}micro-batch {b + 1}/{n_micro}"
                                   + (f" (dimension {d})" if d is not None else "")):
            return jax.block_until_ready(micro(statics[b % len(devices)], r, d))

    if workers > 1:
        with concurrent.futures.ThreadPoolExecutor(workers) as ex:
            outs = list(ex.map(one_batch, range(n_micro)))
    else:
        outs = [one_batch(b) for b in range(n_micro)]
    return jax.tree_util.tree_map(lambda *a: np.concatenate([np.asarray(x) for x in a])[:n_rows],
                                  *outs)


CPU_WORKERS = 2
"""Micro-batches in flight at once on a single CPU device (Python threads; XLA runs each
program on the calling thread, so one dispatch at a time uses one core). Rows are
independent, so results do not depend on it; 1 turns it off."""


def _cpu_workers(devices, n_micro: int) -> int:
    if len(devices) != 1 or devices[0].platform != "cpu" or n_micro < 2:
        return 1
    return max(1, min(CPU_WORKERS, os.cpu_count() or 1, n_micro))
