"""One HDF5 writer for every command: whole files or none, NetCDF-4 style dimensions.

* Files are written to a temporary name in the target folder and renamed into place, so
  a results file is whole or absent (``atomic_output``).
* Every array variable names its dimensions; each dimension is a dimension-scale
  dataset in the same group (query ids, model names, pool sizes, ...), so
  ``xarray.open_dataset(path, group=..., engine="h5netcdf")`` opens each group.
* Strings are UTF-8 variable-length; nested dicts become groups; attributes that are
  not scalars or strings are stored as JSON text.
* A 1-D variable named like its own dimension is that dimension's coordinate variable
  (NetCDF's rule); :func:`ensure_netcdf` gives any axis left without a scale a named
  one, so neither h5netcdf/xarray nor netCDF-C sees "phony" dimensions.
* The root carries provenance attributes (:func:`provenance`).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import platform
import sys
import time
from collections.abc import Iterator, Mapping
from typing import Any

import numpy as np

from .version import __version__


def _str_dtype():
    import h5py

    return h5py.string_dtype("utf-8")


def file_sha256(path: str | os.PathLike) -> str:
    """sha256 of a file, or of every file under a folder (sorted by relative path)."""
    h = hashlib.sha256()
    p = os.fspath(path)
    if os.path.isdir(p):
        for root, _, files in sorted(os.walk(p)):
            for name in sorted(files):
                full = os.path.join(root, name)
                h.update(os.path.relpath(full, p).encode())
                with open(full, "rb") as f:
                    for block in iter(lambda: f.read(1 << 20), b""):
                        h.update(block)
        return h.hexdigest()
    with open(p, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def provenance(*, command: str | None = None, config: Any = None, seed: int | None = None,
               input_path: str | None = None, method: str | None = None,
               extra: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Where a result came from: versions, device, input hash, command, config, seed."""
    import jax
    import scipy

    devices = jax.devices()
    prov: dict[str, Any] = {
        "cofail_jax_version": __version__,
        "jax_version": jax.__version__,
        "jaxlib_version": getattr(__import__("jaxlib"), "__version__", "unknown"),
        "numpy_version": np.__version__,
        "scipy_version": scipy.__version__,
        "python_version": platform.python_version(),
        "platform": platform.platform(),
        "device_kind": devices[0].device_kind,
        "device_platform": devices[0].platform,
        "device_count": jax.device_count(),
        "process_count": jax.process_count(),
        "x64_enabled": bool(jax.config.jax_enable_x64),
        "created_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "command": command if command is not None else " ".join(sys.argv),
    }
    if config is not None:
        prov["config"] = config
    if seed is not None:
        prov["seed"] = int(seed)
    if method is not None:
        prov["method"] = method
    if input_path is not None:
        prov["input_path"] = os.fspath(input_path)
        if os.path.exists(input_path):
            prov["input_sha256"] = file_sha256(input_path)
    if _RUN.get("choices"):
        prov["input_choices"] = list(_RUN["choices"])
    if extra:
        prov.update(extra)
    return prov


# What the running command reads, and how it reports a replaced file: set by the CLI
# (:func:`set_run_context`); library callers get neither check nor message.
_RUN: dict[str, Any] = {"inputs": (), "report": None, "seen": set(), "choices": ()}
TMP_TAG = ".cofail-tmp-"


def set_run_context(inputs: tuple[str, ...] | list[str] = (), report=None) -> None:
    """Declare the inputs of the current run (no output may replace one of them) and a
    ``report(message)`` callable told when an output replaces an existing file."""
    _RUN["inputs"] = tuple(os.fspath(p) for p in inputs)
    _RUN["report"] = report
    _RUN["seen"] = set()
    _RUN["choices"] = ()


def record_input_choices(choices) -> None:
    """Choices the loader made for the user (a metric, a filter, an epoch rule): every
    :func:`provenance` of this run records them as ``input_choices``."""
    _RUN["choices"] = tuple(_RUN.get("choices", ())) + tuple(str(c) for c in choices)


def _same_file(a: str, b: str) -> bool:
    try:
        if os.path.exists(a) and os.path.exists(b):
            return os.path.samefile(a, b)
    except OSError:
        pass
    return os.path.realpath(a) == os.path.realpath(b)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True
    return True


def remove_stale_temps(path: str | os.PathLike) -> list[str]:
    """Remove the temporary files a killed run (``kill -9``) left beside ``path``: those
    named ``.<name>.cofail-tmp-<pid>...`` whose process no longer exists. Returns them."""
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path)) or "."
    prefix = "." + os.path.basename(path) + TMP_TAG
    removed = []
    try:
        names = os.listdir(folder)
    except OSError:
        return removed
    for name in names:
        if not name.startswith(prefix):
            continue
        pid = name[len(prefix):].split(".", 1)[0].split("-", 1)[0]
        if pid.isdigit() and int(pid) != os.getpid() and not _pid_alive(int(pid)):
            with contextlib.suppress(OSError):
                os.remove(os.path.join(folder, name))
                removed.append(os.path.join(folder, name))
    return removed


@contextlib.contextmanager
def atomic_output(path: str | os.PathLike, suffix: str = ".tmp") -> Iterator[str]:
    """Yield a temporary path beside ``path``; rename it into place only on success.

    The temporary file is ``.<name>.cofail-tmp-<pid><suffix>``: it is removed on any
    error, on Ctrl-C, and (through the CLI's signal handler) on SIGTERM; one left by a
    run killed with ``kill -9`` is removed by the next write to the same target.
    Refuses (:class:`InputError`) a target that is a directory or an input of the run
    declared with :func:`set_run_context`.
    """
    from .errors import InputError

    path = os.fspath(path)
    if os.path.isdir(path):
        raise InputError("is a directory", source=path, hint="name a file for the output")
    for inp in _RUN["inputs"]:
        if _same_file(path, inp):
            raise InputError("is also an input of this run; refusing to overwrite it",
                             source=path, hint="choose another output file")
    folder = os.path.dirname(os.path.abspath(path)) or "."
    os.makedirs(folder, exist_ok=True)
    remove_stale_temps(path)
    base = os.path.join(folder, "." + os.path.basename(path) + TMP_TAG + str(os.getpid()))
    tmp, i = base + suffix, 0
    while True:
        try:
            os.close(os.open(tmp, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o666))
            break
        except FileExistsError:  # a nested write to the same target in this process
            i += 1
            tmp = f"{base}-{i}{suffix}"
    try:
        yield tmp
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        existed = os.path.exists(path)
        os.replace(tmp, path)
        key = os.path.abspath(path)
        if existed and _RUN["report"] is not None and key not in _RUN["seen"]:
            _RUN["report"](f"replaced {path}")
        _RUN["seen"].add(key)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.remove(tmp)
        raise


def guard_h5_read(hint: str):
    """Decorator for a function ``fn(path, ...)`` that reads an HDF5 file: what h5py
    raises on a damaged file (``RuntimeError``, ``KeyError``, ``OSError``, ...) becomes one
    :class:`InputError` naming the file, with ``hint`` as the remedy."""
    import functools

    def deco(fn):
        @functools.wraps(fn)
        def wrapped(path, *args, **kwargs):
            from .errors import InputError

            try:
                return fn(path, *args, **kwargs)
            except InputError:
                raise
            except (OSError, RuntimeError, KeyError, IndexError, ValueError, TypeError,
                    AttributeError, UnicodeError) as e:
                msg = " ".join(str(e).split())[:160]
                raise InputError(f"is a damaged or unexpected HDF5 file ({type(e).__name__}: "
                                 f"{msg})", source=os.fspath(path), hint=hint) from None

        return wrapped

    return deco


def set_attrs(obj, attrs: Mapping[str, Any]) -> None:
    """Store attributes: scalars and strings as they are, anything else as JSON text."""
    for key, value in attrs.items():
        if value is None:
            continue
        if isinstance(value, (str, bool, int, float, np.integer, np.floating, np.bool_)):
            obj.attrs[key] = value
        elif isinstance(value, np.ndarray) and value.dtype.kind in "biuf":
            obj.attrs[key] = value
        else:
            obj.attrs[key] = json.dumps(value, default=_json_default)


def _json_default(o):
    if isinstance(o, np.ndarray):
        return o.tolist()
    if isinstance(o, (np.integer,)):
        return int(o)
    if isinstance(o, (np.floating,)):
        return float(o)
    if isinstance(o, (np.bool_,)):
        return bool(o)
    if isinstance(o, tuple):
        return list(o)
    return str(o)


def _as_array(value) -> np.ndarray:
    arr = np.asarray(value)
    if arr.dtype.kind in "OUS":
        return np.asarray([("" if v is None else str(v)) for v in arr.reshape(-1)],
                          dtype=object).reshape(arr.shape)
    if arr.dtype == np.bool_:
        return arr.astype(np.int8)
    return arr


def write_dataset(group, name: str, value, dims: tuple[str, ...] | None = None,
                  attrs: Mapping[str, Any] | None = None, compress: bool = True):
    """Write one variable; string arrays become UTF-8 vlen strings; large arrays are
    chunked and gzip-compressed. Dimensions are attached by :func:`attach_dims`."""
    arr = _as_array(value)
    kwargs: dict[str, Any] = {}
    if arr.dtype == object:
        kwargs["dtype"] = _str_dtype()
    if compress and arr.size >= 4096 and arr.ndim >= 1:
        kwargs.update(compression="gzip", compression_opts=4, chunks=True)
    ds = group.create_dataset(name, data=arr, **kwargs)
    if attrs:
        set_attrs(ds, attrs)
    if dims is not None:
        ds.attrs["_cofail_dims"] = json.dumps(list(dims))
    return ds


def ensure_dim(group, name: str, size: int, values=None):
    """Create (or check) a dimension-scale dataset ``name`` of length ``size`` in ``group``."""
    if name in group:
        import h5py

        ds = group[name]
        if not isinstance(ds, h5py.Dataset):
            raise ValueError(f"dimension {name!r} in {group.name} clashes with a group of that name; "
                             "rename the group or the dimension")
        if ds.shape != (size,):
            raise ValueError(f"dimension {name!r} in {group.name} has length {ds.shape}, want {size}")
        if not ds.is_scale:
            # A 1-D variable named like its dimension is a NetCDF coordinate variable: it
            # becomes the scale, unless it already has other dimensions attached.
            if "_cofail_dims" in ds.attrs and json.loads(ds.attrs["_cofail_dims"]) != [name]:
                raise ValueError(f"{ds.name} has dimensions {json.loads(ds.attrs['_cofail_dims'])}, so "
                                 f"it cannot also be dimension {name!r}; rename the variable or the "
                                 "dimension (NetCDF reserves a dimension's name for its coordinate)")
            if any(len(d) for d in ds.dims):
                raise ValueError(f"{ds.name} already has dimension scales attached, so it cannot "
                                 f"also be dimension {name!r}; rename the variable or the dimension")
            ds.make_scale(name)
            if "_cofail_dims" in ds.attrs:
                del ds.attrs["_cofail_dims"]
        return ds
    if values is None:
        values = np.arange(size, dtype=np.int64)
    ds = write_dataset(group, name, values, compress=False)
    ds.make_scale(name)
    return ds


def attach_dims(group, coords: Mapping[str, Any] | None = None) -> None:
    """Make every variable in ``group`` NetCDF-readable: create a dimension scale for each
    dimension it names (values from ``coords`` or 0..size-1) and attach it."""
    coords = dict(coords or {})
    import h5py

    for name in list(group.keys()):
        obj = group[name]
        if not isinstance(obj, h5py.Dataset) or "_cofail_dims" not in obj.attrs:
            continue
        dims = json.loads(obj.attrs["_cofail_dims"])
        if len(dims) != obj.ndim:
            raise ValueError(f"{obj.name}: {len(dims)} dimension names for {obj.ndim} axes")
        if obj.ndim == 1 and dims == [name]:  # a coordinate variable: it is its own scale
            ensure_dim(group, name, obj.shape[0])
            continue
        for axis, dim in enumerate(dims):
            scale = ensure_dim(group, dim, obj.shape[axis], coords.get(dim))
            obj.dims[axis].attach_scale(scale)
        del obj.attrs["_cofail_dims"]


def ensure_netcdf(group) -> None:
    """Give every variable under ``group`` (recursively) a dimension scale on every axis.

    Axes left without one (for example by writing with h5py directly) get a scale named
    ``<variable>_dim<axis>`` holding 0..size-1, so NetCDF readers (netCDF-C, h5netcdf,
    xarray) see named dimensions instead of "phony" ones. :func:`write_results` calls this
    on the whole file; call it yourself after writing into an :func:`atomic_output` file.
    """
    import h5py

    for name in list(group.keys()):
        obj = group[name]
        if isinstance(obj, h5py.Group):
            ensure_netcdf(obj)
            continue
        if obj.is_scale or obj.ndim == 0:
            continue
        if "_cofail_dims" in obj.attrs:
            attach_dims(group)
            continue
        for axis in range(obj.ndim):
            if len(obj.dims[axis]) == 0:
                scale = ensure_dim(group, f"{name}_dim{axis}", obj.shape[axis])
                obj.dims[axis].attach_scale(scale)


def write_tree(group, tree: Mapping[str, Any], dims: Mapping[str, tuple[str, ...]] | None = None,
               coords: Mapping[str, Any] | None = None, prefix: str = "") -> None:
    """Write a nested dict: dicts become groups, arrays datasets, scalars/strings attributes.

    ``dims`` maps a variable's path (``"sweep/ratio"``) to its dimension names; an
    array without an entry gets dimensions ``<name>_dim0, ...``; a number whose path maps
    to ``()`` is a scalar variable (a 0-d dataset) instead of an attribute. ``coords`` maps
    dimension names to coordinate values (shared by every group).
    """
    dims = dims or {}
    for key, value in tree.items():
        path = f"{prefix}{key}"
        if isinstance(value, Mapping):
            sub = group.require_group(key)
            write_tree(sub, value, dims, coords, prefix=path + "/")
            continue
        arr = np.asarray(value) if not isinstance(value, (str, bytes)) else None
        if arr is not None and arr.ndim == 0 and dims.get(path) == ():
            write_dataset(group, key, arr, dims=())  # a scalar variable, not an attribute
            continue
        if arr is None or arr.ndim == 0:
            set_attrs(group, {key: value if arr is None else arr.item()})
            continue
        d = tuple(dims.get(path) or tuple(f"{key}_dim{i}" for i in range(arr.ndim)))
        write_dataset(group, key, arr, dims=d)
    attach_dims(group, coords)


def write_results(path: str | os.PathLike, tree: Mapping[str, Any], *,
                  attrs: Mapping[str, Any] | None = None,
                  dims: Mapping[str, tuple[str, ...]] | None = None,
                  coords: Mapping[str, Any] | None = None) -> str:
    """Write a results file atomically: ``tree`` as groups and variables, ``attrs`` (usually
    :func:`provenance`) on the root. Returns the path."""
    import h5py

    with atomic_output(path) as tmp:
        with h5py.File(tmp, "w") as f:
            write_tree(f, tree, dims, coords)
            ensure_netcdf(f)
            set_attrs(f, {"schema": "cofail_jax.results/1", **(attrs or {})})
    return os.fspath(path)


def read_tree(group) -> dict[str, Any]:
    """Read a group back into a nested dict (datasets as numpy, attributes as values)."""
    import h5py

    out: dict[str, Any] = {}
    for key, value in group.attrs.items():
        if isinstance(value, bytes):
            value = value.decode()
        out[key] = value
    for key, obj in group.items():
        if isinstance(obj, h5py.Group):
            out[key] = read_tree(obj)
        else:
            data = obj[()]
            if obj.dtype.kind == "O":
                data = np.asarray([v.decode() if isinstance(v, bytes) else v
                                   for v in np.asarray(data).reshape(-1)], dtype=object).reshape(obj.shape)
            out[key] = data
    return out
