"""The ``<out>.partial`` checkpoint file of a sweep: one atomic group per finished unit."""

from __future__ import annotations

import os
import shutil
from typing import Any

import numpy as np

from ..errors import InputError


class Checkpoint:
    """The ``<out>.partial`` file: each :meth:`write` copies it, adds a group, renames."""

    def __init__(self, path: str, config_hash: str, attrs: dict, config_path: str):
        import h5py

        self.path = path
        if os.path.exists(path):
            try:
                with h5py.File(path, "r") as f:
                    old = f.attrs.get("config_hash")
                    old = old.decode() if isinstance(old, bytes) else old
                    self.groups = _list_groups(f)
                    self.sessions = int(f.attrs.get("sessions", 1)) + 1
            except OSError as e:
                raise InputError(f"the checkpoint file {path} cannot be read ({e})",
                                 source=config_path, where="key 'output'",
                                 hint="delete it to start the sweep afresh") from None
            if old != config_hash:
                raise InputError(
                    f"the checkpoint {path} was written by a different config "
                    f"(hash {str(old)[:12]}, this config {config_hash[:12]}); refusing to resume",
                    source=config_path, where="key 'output'",
                    hint="restore the original config, choose another output, or delete the "
                         ".partial file to start afresh")
            self._set_attr("sessions", self.sessions)
        else:
            from ..h5 import atomic_output, set_attrs

            self.sessions = 1
            with atomic_output(path) as tmp:
                with h5py.File(tmp, "w") as f:
                    set_attrs(f, {**attrs, "config_hash": config_hash, "sessions": 1})
            self.groups = set()

    def _set_attr(self, key, value):
        import h5py

        from ..h5 import atomic_output

        with atomic_output(self.path) as tmp:
            shutil.copyfile(self.path, tmp)
            with h5py.File(tmp, "a") as f:
                f.attrs[key] = value

    def has(self, name: str) -> bool:
        return name in self.groups

    def write(self, name: str, arrays: dict[str, Any], attrs: dict | None = None) -> None:
        """Store one finished piece of work as group ``name`` (atomically)."""
        import h5py

        from ..h5 import atomic_output, set_attrs, write_dataset

        with atomic_output(self.path) as tmp:
            shutil.copyfile(self.path, tmp)
            with h5py.File(tmp, "a") as f:
                g = f.require_group(name)
                for k, v in arrays.items():
                    write_dataset(g, k, np.asarray(v), compress=False)
                set_attrs(g, dict(attrs or {}))
                g.attrs["complete"] = 1
        self.groups.add(name)

    def read(self, name: str) -> dict[str, np.ndarray]:
        import h5py

        with h5py.File(self.path, "r") as f:
            g = f[name]
            return {k: g[k][()] for k in g.keys()}

    def attrs(self) -> dict[str, Any]:
        import h5py

        with h5py.File(self.path, "r") as f:
            return {k: (v.decode() if isinstance(v, bytes) else v) for k, v in f.attrs.items()}


def _list_groups(f) -> set[str]:
    import h5py

    out = set()

    def visit(name, obj):
        if isinstance(obj, h5py.Group) and obj.attrs.get("complete", 0) == 1:
            out.add(name)
    f.visititems(visit)
    return out


def stored_boot_ranges(ck: Checkpoint) -> list[tuple[int, int]]:
    out = []
    for g in ck.groups:
        if g.startswith("boot/"):
            a, b = g.split("/", 1)[1].split("_")
            out.append((int(a), int(b)))
    return sorted(out)


def missing_ranges(stored, total, chunk) -> list[tuple[int, int]]:
    """Replicate ranges not yet stored, cut into chunks of at most ``chunk``."""
    have = np.zeros(total, bool)
    for a, b in stored:
        have[a:b] = True
    out = []
    i = 0
    while i < total:
        if have[i]:
            i += 1
            continue
        j = i
        while j < total and not have[j] and j - i < chunk:
            j += 1
        out.append((i, j))
        i = j
    return out
