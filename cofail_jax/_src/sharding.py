"""Device-mesh helpers: split independent Monte Carlo chunks over every device.

A pricing estimator is a sum over ``n_chunks`` independent chunks; chunk ``c`` draws its
randomness from ``jax.random.fold_in(key, c)`` alone. :func:`map_chunks` evaluates the
chunks on every device of a one-axis mesh (``shard_map``; each device loops over its own
block of chunk indices) and returns the per-chunk statistics as one array replicated on
every device, so the caller reduces them in a fixed order. The result is therefore
bit-for-bit the same on 1, 4 or 8 devices, and on several hosts: the chunk, not the
device, defines the randomness.

Multi-host: start every process with ``jax.distributed.initialize(coordinator_address,
num_processes, process_id)`` before any other JAX call; ``jax.devices()`` then lists the
devices of all hosts and :func:`device_mesh` spans them all, with no other change.

References:
  JAX documentation, "Manual parallelism with shard_map" and "Distributed arrays and
  automatic parallelization" (jax.sharding), 2024.
"""

from __future__ import annotations

import functools
import math
import os
from collections.abc import Callable, Sequence
from typing import Any

import jax
import jax.numpy as jnp
from jax.sharding import Mesh, NamedSharding, PartitionSpec as P

AXIS = "chunks"


def device_mesh(devices: Sequence[Any] | None = None, axis_name: str = AXIS) -> Mesh:
    """A one-axis mesh over ``devices`` (default: every device of every host)."""
    devs = list(jax.devices() if devices is None else devices)
    if not devs:
        raise ValueError("device_mesh: no devices given")
    import numpy as np

    return Mesh(np.asarray(devs, dtype=object), (axis_name,))


def resolve_mesh(devices: Any) -> Mesh | None:
    """``"all"`` -> mesh over jax.devices(); ``None`` or one device -> None; a Mesh as is."""
    if devices is None:
        return None
    if isinstance(devices, Mesh):
        return devices if devices.size > 1 else None
    if isinstance(devices, str):
        if devices != "all":
            raise ValueError(f"devices must be 'all', None, a Mesh or a list, got {devices!r}")
        devs = jax.devices()
    elif isinstance(devices, int):
        devs = jax.devices()[:devices]
    else:
        devs = list(devices)
    return device_mesh(devs) if len(devs) > 1 else None


def map_chunks(chunk_fn: Callable[..., Any], n_chunks: int, mesh: Mesh | None,
               *args: Any) -> Any:
    """Per-chunk outputs ``chunk_fn(c, *args)`` for ``c = 0 .. n_chunks - 1``, stacked.

    Args:
      chunk_fn: pure function of an int chunk index and ``args`` returning a pytree of
        fixed-shape arrays (per-chunk sums, counts, maxima).
      n_chunks: static number of chunks.
      mesh: a one-axis :class:`jax.sharding.Mesh`, or None to run on one device.
      *args: arrays every chunk needs (replicated to every device).

    Returns:
      The pytree with a leading ``n_chunks`` axis, replicated (the caller's reduction
      then runs in the same order whatever the number of devices).
    """
    n_dev = 1 if mesh is None else mesh.size
    per = max(1, math.ceil(n_chunks / n_dev))
    ids = jnp.arange(per * n_dev, dtype=jnp.int32)

    def local(ids_local, *a):
        return jax.lax.map(lambda c: chunk_fn(c, *a), ids_local)

    if mesh is None:
        out = local(ids, *args)
    else:
        axis = mesh.axis_names[0]
        f = jax.shard_map(local, mesh=mesh, in_specs=(P(axis),) + (P(),) * len(args),
                          out_specs=P(axis), check_vma=False)
        out = f(ids, *args)
        out = jax.tree.map(
            lambda x: jax.lax.with_sharding_constraint(x, NamedSharding(mesh, P())), out)
    return jax.tree.map(lambda x: x[:n_chunks], out)


def _host_has_avx512() -> bool:
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("flags"):
                    return "avx512f" in line.split()
    except OSError:
        pass
    return False


def cpu_compiler_options() -> dict[str, Any]:
    """XLA options for programs that run on this host's CPU: 512-bit vectors where the
    CPU has AVX-512 (XLA's CPU default prefers 256), else none.

    Pass to ``jax.jit(..., compiler_options=...)`` or ``lowered.compile(...)``. The
    float32 QMC-SOV kernel runs 1.25x faster per point with them on this project's AMD
    EPYC (Zen 5) CPU, same numbers to float32 rounding (benchmarks/RESULTS.md, issue 18
    fourth stop). Empty when the default backend is not the CPU (the option would be
    ignored there) or ``COFAIL_XLA_CPU_DEFAULTS=1`` is set (XLA's defaults)."""
    return dict(_cpu_options())


@functools.lru_cache(maxsize=1)
def _cpu_options() -> tuple[tuple[str, Any], ...]:
    use = (os.environ.get("COFAIL_XLA_CPU_DEFAULTS", "") in ("", "0")
           and jax.default_backend() == "cpu" and _host_has_avx512())
    return (("xla_cpu_prefer_vector_width", 512),) if use else ()
