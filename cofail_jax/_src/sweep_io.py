"""Sweep configs, resumable HDF5 checkpoints, progress, and the final results file.

A sweep is described by a TOML file (see :func:`load_config`); :func:`run_sweep` runs it.
Work is checkpointed into ``<out>.partial``: the full-pool analysis, one group per pool
size and one per bootstrap chunk. Each checkpoint rewrites the partial file through a
temporary copy and an atomic rename, so a run killed at any instant leaves a readable
partial file holding every finished checkpoint. Restarted with the same config, the run
skips what is stored and computes the rest; at the end the results file is assembled
from the stored checkpoints alone (so a resumed run ends with the same datasets as an
uninterrupted one) and the partial file is removed. A partial file written under a
different config (its hash differs) is refused.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import os
import shutil
import sys
import time
import tomllib
from collections.abc import Callable
from typing import Any

import numpy as np

from .errors import InputError

CONFIG_KEYS = {
    "input": "outcome matrix path (relative paths: from the current folder, then the "
             "config's folder), or 'example:math-l5' for the embedded example",
    "format": "input format (detected when omitted)",
    "missing": "error | drop-queries | drop-models",
    "scorer": "importer option: Inspect AI scorer (as --scorer)",
    "task": "importer option: the task to read when the input holds several (as --task)",
    "metric": "importer option: the 0/1 metric (as --metric)",
    "filter": "importer option: the answer filter (as --filter)",
    "latest": "importer option: keep the newest of duplicate logs (as --latest; default false)",
    "reduce": "repeated samples: first (default), majority, any or all (as --reduce)",
    "models": "list of model names, or \"all\" (default)",
    "drop_degenerate": "drop models that are always right or always wrong (default true)",
    "output": "results file (default: <config name>.h5 beside the config)",
    "seed": "run seed (default 0)",
    "methods": "copula models to price (default all: equal_loading, fitted_loading, gaussian, "
               "clayton, student_t; old names one_factor, one-factor, one-factor-fitted still work)",
    "pool_sizes": "\"all\" (2..K, default) or a list of pool sizes",
    "subsets": "random subsets per pool size P (default 200)",
    "bootstrap": "query-bootstrap replicates B (default 2000; 0 to skip)",
    "interval": "percentile interval in percent (default [5, 95])",
    "orthant_samples": "samples per full-correlation Gaussian orthant estimate (default 4096)",
    "orthant_method": "orthant engine method: qmc (default), mc or tilting",
    "repair": "eigenvalue repair before the full-matrix copulas: nearest (default) or clip "
              "(eigenvalue floor 1e-6)",
    "nu": "degrees of freedom of the student_t copula (default 4)",
    "bootstrap_chunk": "replicates per vmapped batch and checkpoint (default 256)",
    "subset_chunk": "subsets per vmapped batch (default 64)",
    "audit": "audit sheet with verdicts from 'cofail audit --out': sweep the corrected matrix "
             "(adjudicated artefacts dropped; default none)",
    "unadjudicated": "with audit: all-wrong events without a verdict count as genuine (default) "
                     "or artefact",
}

RESULT_KEYS = ("input_sha256", "models", "drop_degenerate", "seed", "methods", "pool_sizes",
               "subsets", "bootstrap", "interval", "orthant_samples", "orthant_method",
               "repair", "nu", "format", "missing", "audit_sha256", "unadjudicated",
               "import_options")


@dataclasses.dataclass(frozen=True)
class SweepConfig:
    """A validated sweep config (see :data:`CONFIG_KEYS`)."""

    path: str
    input: str
    input_path: str
    format: str | None
    missing: str
    models: tuple[str, ...] | None
    drop_degenerate: bool
    output: str
    seed: int
    methods: tuple[str, ...]
    pool_sizes: tuple[int, ...] | None
    subsets: int
    bootstrap: int
    interval: tuple[float, float]
    orthant_samples: int
    orthant_method: str | None
    repair: str
    bootstrap_chunk: int
    subset_chunk: int
    input_sha256: str = ""
    nu: float = 4.0
    audit: str | None = None
    unadjudicated: str = "genuine"
    audit_sha256: str = ""
    # scorer/task/metric/filter/latest/reduce, as given (load_matrix keywords)
    import_options: tuple[tuple[str, Any], ...] = ()

    def to_dict(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        for k, v in d.items():
            if isinstance(v, tuple):
                d[k] = list(v)
        d["import_options"] = dict(self.import_options)
        return d

    def hash(self) -> str:
        """sha256 of everything that determines the results (not paths or chunk sizes)."""
        d = self.to_dict()
        # import_options only when set, so older configs keep their hash
        blob = json.dumps({k: d[k] for k in RESULT_KEYS if k != "import_options" or d[k]},
                          sort_keys=True)
        return hashlib.sha256(blob.encode()).hexdigest()


def _bad(path, key, msg, hint=None):
    return InputError(msg, source=path, where=f"key '{key}'", hint=hint)


def _int(path, raw, key, default, lo):
    v = raw.get(key, default)
    if isinstance(v, bool) or not isinstance(v, int):
        raise _bad(path, key, f"must be an integer, got {v!r}")
    if v < lo:
        raise _bad(path, key, f"must be at least {lo}, got {v}")
    return v


def _resolve_input(path: str, raw_input: str) -> str:
    from .data import EXAMPLES, example_path

    if raw_input.startswith("example:"):
        name = raw_input.split(":", 1)[1]
        if name not in EXAMPLES:
            raise _bad(path, "input", f"unknown example {name!r}",
                       hint=f"choose from {', '.join(sorted(EXAMPLES))}")
        return example_path(name)
    if os.path.isabs(raw_input):
        return raw_input
    here = os.path.abspath(raw_input)
    if os.path.exists(here):
        return here
    beside = os.path.abspath(os.path.join(os.path.dirname(path), raw_input))
    if os.path.exists(beside):
        return beside
    return here


def _import_options(path, raw) -> tuple[tuple[str, Any], ...]:
    """The importer keys (scorer, task, metric, filter: strings; latest: bool; reduce)."""
    from .io.options import REDUCERS

    out = []
    for key in ("scorer", "task", "metric", "filter"):
        v = raw.get(key)
        if v is not None:
            if not isinstance(v, str) or not v:
                raise _bad(path, key, f"must be a non-empty string, got {v!r}")
            out.append((key, v))
    latest = raw.get("latest", False)
    if not isinstance(latest, bool):
        raise _bad(path, "latest", f"must be true or false, got {latest!r}")
    if latest:
        out.append(("latest", True))
    reduce = raw.get("reduce", "first")
    if reduce not in REDUCERS or reduce == "mean":
        raise _bad(path, "reduce", f"unknown or unusable value {reduce!r}",
                   hint="the sweep needs 0/1 cells: use first, majority, any or all")
    if reduce != "first":
        out.append(("reduce", reduce))
    return tuple(out)


def load_config(path: str | os.PathLike, *, output: str | None = None,
                audit: str | None = None) -> SweepConfig:
    """Read and check a sweep config (TOML); every problem is an :class:`InputError`
    naming the config file and the key. The input file is read here too, so unknown
    models and pool sizes larger than the pool are caught before any work starts.

    Returns:
      The :class:`SweepConfig` with the input's sha256.
    """
    from .sweep import METHODS

    path = os.fspath(path)
    try:
        with open(path, "rb") as f:
            raw = tomllib.load(f)
    except FileNotFoundError:
        raise InputError("config file not found", source=path,
                         hint="give the path of a .toml sweep config, e.g. configs/example.toml") from None
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        raise InputError(f"cannot read the config: {e}", source=path,
                         hint="check the TOML syntax") from None
    unknown = sorted(set(raw) - set(CONFIG_KEYS))
    if unknown:
        raise _bad(path, unknown[0], "unknown config key",
                   hint=f"known keys: {', '.join(CONFIG_KEYS)}")
    if "input" not in raw or not isinstance(raw["input"], str) or not raw["input"]:
        raise _bad(path, "input", "missing or not a string",
                   hint="input = \"../shared/data/zeroeval_gsm8k.csv\" or \"example:math-l5\"")
    input_path = _resolve_input(path, raw["input"])
    fmt = raw.get("format")
    if fmt is not None and not isinstance(fmt, str):
        raise _bad(path, "format", f"must be a string, got {fmt!r}")
    missing = raw.get("missing", "error")
    if missing not in ("error", "drop-queries", "drop-models"):
        raise _bad(path, "missing", f"unknown value {missing!r}",
                   hint="use error, drop-queries or drop-models")
    import_options = _import_options(path, raw)
    models = raw.get("models", "all")
    if models == "all":
        models = None
    elif isinstance(models, list) and all(isinstance(m, str) for m in models):
        if len(models) < 2:
            raise _bad(path, "models", "name at least 2 models", hint="or write models = \"all\"")
        if len(set(models)) != len(models):
            raise _bad(path, "models", "a model is named twice", hint="name each model once")
        models = tuple(models)
    else:
        raise _bad(path, "models", f"must be \"all\" or a list of names, got {models!r}")
    drop_degenerate = raw.get("drop_degenerate", True)
    if not isinstance(drop_degenerate, bool):
        raise _bad(path, "drop_degenerate", f"must be true or false, got {drop_degenerate!r}")
    seed = _int(path, raw, "seed", 0, 0)
    methods = raw.get("methods", list(METHODS))
    if (not isinstance(methods, list) or not methods
            or not all(isinstance(m, str) for m in methods)):
        raise _bad(path, "methods", f"must be a non-empty list, got {methods!r}",
                   hint=f"choose from {', '.join(METHODS)}")
    from .copulas import canonical

    names = []
    for m in methods:
        try:
            names.append(canonical(m, where=f"{path}: key 'methods'"))
        except KeyError:
            raise _bad(path, "methods", f"unknown method {m!r}",
                       hint=f"choose from {', '.join(METHODS)}") from None
    methods = tuple(m for m in METHODS if m in names)
    subsets = raw.get("subsets", 200)
    if isinstance(subsets, bool) or not isinstance(subsets, int) or subsets <= 0:
        raise _bad(path, "subsets", f"must be a positive integer (P > 0), got {subsets!r}",
                   hint="the number of random model subsets per pool size, e.g. 200")
    bootstrap = _int(path, raw, "bootstrap", 2000, 0)
    interval = raw.get("interval", [5, 95])
    if (not isinstance(interval, list) or len(interval) != 2
            or not all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in interval)
            or not 0 <= interval[0] < interval[1] <= 100):
        raise _bad(path, "interval", f"must be [lower, upper] percentiles, got {interval!r}",
                   hint="the literature's 90 % interval is [5, 95]")
    orthant_samples = _int(path, raw, "orthant_samples", 4096, 16)
    from .sweep import ORTHANT_METHODS, REPAIRS

    orthant_method = raw.get("orthant_method", "qmc")
    if orthant_method not in ORTHANT_METHODS:
        raise _bad(path, "orthant_method", f"unknown method {orthant_method!r}",
                   hint=f"choose from {', '.join(ORTHANT_METHODS)}")
    if orthant_method == "tilting" and "student_t" in methods:
        raise _bad(path, "orthant_method", "tilting is not available for the student_t copula",
                   hint="use qmc or mc, or leave student_t out of 'methods'")
    nu = raw.get("nu", 4.0)
    if isinstance(nu, bool) or not isinstance(nu, (int, float)) or not nu > 0:
        raise _bad(path, "nu", f"must be a positive number, got {nu!r}", hint="for example nu = 4")
    repair = raw.get("repair", "nearest")
    if repair not in REPAIRS:
        raise _bad(path, "repair", f"unknown repair {repair!r}", hint=f"choose from {', '.join(REPAIRS)}")
    bootstrap_chunk = _int(path, raw, "bootstrap_chunk", 256, 1)
    subset_chunk = _int(path, raw, "subset_chunk", 64, 1)
    pool_sizes = raw.get("pool_sizes", "all")
    if pool_sizes == "all":
        pool_sizes = None
    elif isinstance(pool_sizes, list) and pool_sizes and all(
            isinstance(k, int) and not isinstance(k, bool) for k in pool_sizes):
        pool_sizes = tuple(sorted(set(pool_sizes)))
    else:
        raise _bad(path, "pool_sizes", f"must be \"all\" or a list of integers, got {pool_sizes!r}")
    out = output or raw.get("output")
    if out is None:
        out = os.path.splitext(os.path.abspath(path))[0] + ".h5"
    elif not isinstance(out, str):
        raise _bad(path, "output", f"must be a path string, got {out!r}")
    if os.path.isdir(out):
        raise _bad(path, "output", f"{out!r} is a directory; name a results file (.h5) inside it")

    audit_path = audit if audit is not None else raw.get("audit")
    if audit_path is not None:
        if not isinstance(audit_path, str):
            raise _bad(path, "audit", f"must be a path string, got {audit_path!r}")
        audit_path = (os.path.abspath(audit_path) if audit is not None
                      else _resolve_input(path, audit_path))
        if not os.path.exists(audit_path):
            raise _bad(path, "audit", f"audit sheet {audit_path!r} not found",
                       hint="write one with 'cofail audit FILE --out audit.csv'")
    unadjudicated = raw.get("unadjudicated", "genuine")
    if unadjudicated not in ("genuine", "artefact"):
        raise _bad(path, "unadjudicated", f"unknown value {unadjudicated!r}",
                   hint="use genuine or artefact")

    # The input: readable, models known, pool sizes within the pool.
    if not os.path.exists(input_path):
        raise _bad(path, "input", f"input file {raw['input']!r} not found (looked for {input_path})",
                   hint="relative paths are taken from the current folder (run from the repo root)")
    for other in (input_path, path, audit_path):
        if other and os.path.realpath(out) == os.path.realpath(other):
            raise _bad(path, "output", f"{out!r} is also an input of this sweep; refusing to "
                       "overwrite it", hint="choose another output file")
    cfg = SweepConfig(path=path, input=raw["input"], input_path=input_path, format=fmt,
                      missing=missing, models=models, drop_degenerate=drop_degenerate,
                      output=out, seed=seed, methods=methods, pool_sizes=pool_sizes,
                      subsets=subsets, bootstrap=bootstrap, interval=tuple(float(x) for x in interval),
                      orthant_samples=orthant_samples, orthant_method=orthant_method, repair=repair,
                      bootstrap_chunk=bootstrap_chunk, subset_chunk=subset_chunk,
                      audit=audit_path, unadjudicated=unadjudicated, nu=float(nu),
                      import_options=import_options)
    m, dropped = load_pool(cfg)
    kmax = m.k
    if kmax < 2:
        raise _bad(path, "models", f"only {kmax} usable model(s) left after dropping "
                   f"{', '.join(f'{a} ({b})' for a, b in dropped)}", hint="name more models")
    if pool_sizes is not None:
        bad = [k for k in pool_sizes if not 2 <= k <= kmax]
        if bad:
            raise _bad(path, "pool_sizes", f"pool size {bad[0]} is outside 2..{kmax} "
                       f"(the pool has K = {kmax} usable models)",
                       hint=f"use sizes between 2 and {kmax}, or \"all\"")
    from .h5 import file_sha256

    return dataclasses.replace(cfg, input_sha256=file_sha256(input_path),
                               audit_sha256=file_sha256(audit_path) if audit_path else "")


def load_pool(cfg: SweepConfig):
    """The outcome matrix of the config's pool and the models dropped as degenerate."""
    from .io import load_matrix

    try:
        m = load_matrix(cfg.input_path, cfg.format, missing=cfg.missing,
                        **dict(cfg.import_options))
    except InputError as e:
        raise InputError(f"cannot load the input: {e.format()}", source=cfg.path,
                         where="key 'input'", hint=e.hint) from None
    except (OSError, ValueError) as e:
        raise _bad(cfg.path, "input", f"cannot read {cfg.input_path}: {e}",
                   hint="check the file's format") from None
    if cfg.audit:
        from .audit.adjudicate import apply_adjudications, read_adjudications

        m = apply_adjudications(m, read_adjudications(cfg.audit, m), unadjudicated=cfg.unadjudicated)
    if cfg.models is not None:
        unknown = [x for x in cfg.models if x not in m.models]
        if unknown:
            raise _bad(cfg.path, "models", f"unknown model {unknown[0]!r} (not a column of {cfg.input_path})",
                       hint=f"choose from: {', '.join(m.models[:8])}{' ...' if m.k > 8 else ''}")
        m = m.select_models(list(cfg.models))
    dropped = m.degenerate_models() if cfg.drop_degenerate else []
    if dropped:
        names = {a for a, _ in dropped}
        m = m.select_models([x for x in m.models if x not in names])
    return m, dropped


# ---------------------------------------------------------------------------------------
# progress


class Progress:
    """A progress bar with ETA on a terminal; plain lines (one per update) otherwise."""

    def __init__(self, total: int, *, stream=None, enabled: bool = True, label: str = "sweep"):
        self.total = max(int(total), 1)
        self.done = 0
        self.stream = stream or sys.stderr
        self.enabled = enabled
        self.label = label
        self.t0 = time.monotonic()
        self.start_done = 0
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())

    def skip(self, n: int) -> None:
        """Work already done (from a checkpoint): counted, not timed."""
        self.done += n
        self.start_done = self.done

    def update(self, n: int, what: str = "") -> None:
        self.done += n
        if not self.enabled:
            return
        el = time.monotonic() - self.t0
        rate_done = self.done - self.start_done
        eta = el / rate_done * (self.total - self.done) if rate_done > 0 else float("nan")
        frac = self.done / self.total
        eta_s = _fmt_s(eta)
        if self.tty:
            width = 30
            bar = "#" * int(frac * width) + "-" * (width - int(frac * width))
            self.stream.write(f"\r{self.label} [{bar}] {frac:5.1%} {what:<18} "
                              f"elapsed {_fmt_s(el)} eta {eta_s}   ")
            if self.done >= self.total:
                self.stream.write("\n")
        else:
            self.stream.write(f"{self.label}: {self.done}/{self.total} ({frac:.0%}) {what} "
                              f"elapsed {_fmt_s(el)} eta {eta_s}\n")
        self.stream.flush()


def _fmt_s(s: float) -> str:
    if not math.isfinite(s):
        return "?"
    s = int(round(s))
    if s >= 3600:
        return f"{s // 3600}h{s % 3600 // 60:02d}m"
    if s >= 60:
        return f"{s // 60}m{s % 60:02d}s"
    return f"{s}s"


# ---------------------------------------------------------------------------------------
# checkpoint file


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
            from .h5 import atomic_output, set_attrs

            self.sessions = 1
            with atomic_output(path) as tmp:
                with h5py.File(tmp, "w") as f:
                    set_attrs(f, {**attrs, "config_hash": config_hash, "sessions": 1})
            self.groups = set()

    def _set_attr(self, key, value):
        import h5py

        from .h5 import atomic_output

        with atomic_output(self.path) as tmp:
            shutil.copyfile(self.path, tmp)
            with h5py.File(tmp, "a") as f:
                f.attrs[key] = value

    def has(self, name: str) -> bool:
        return name in self.groups

    def write(self, name: str, arrays: dict[str, Any], attrs: dict | None = None) -> None:
        """Store one finished piece of work as group ``name`` (atomically)."""
        import h5py

        from .h5 import atomic_output, set_attrs, write_dataset

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


# ---------------------------------------------------------------------------------------
# the run


def run_sweep(cfg: SweepConfig, *, progress: bool | Progress = True,
              on_checkpoint: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Run (or resume) a sweep and write ``cfg.output``; returns a summary dict.

    Args:
      cfg: a config from :func:`load_config`.
      progress: show progress on stderr (bar on a terminal, lines otherwise).
      on_checkpoint: called with each checkpoint's name after it is stored (and with the
        names of checkpoints found stored, prefixed ``"reused:"``); for tests and logs.

    Returns:
      ``{"output": path, "computed": [...], "reused": [...], "full": {...}}``.
    """
    import jax

    from . import sweep as S
    from .h5 import provenance

    m, dropped = load_pool(cfg)
    errors = np.asarray(m.errors)
    n, kk = errors.shape
    grid = list(cfg.pool_sizes) if cfg.pool_sizes is not None else list(range(2, kk + 1))
    methods = cfg.methods
    pricer_kw = dict(orthant_samples=cfg.orthant_samples, orthant_method=cfg.orthant_method,
                     repair=cfg.repair, nu=cfg.nu)
    key = jax.random.key(cfg.seed)
    key_sub, key_boot = (jax.random.fold_in(key, i) for i in (1, 2))

    from .sweep import engines

    prov = provenance(command="cofail sweep " + os.path.basename(cfg.path), config=cfg.to_dict(),
                      seed=cfg.seed, input_path=cfg.input_path,
                      method="pairwise-calibrated copulas: " + ", ".join(methods),
                      extra={"engines": engines(), "config_hash": cfg.hash()})
    partial = cfg.output + ".partial"
    ck = Checkpoint(partial, cfg.hash(), prov, cfg.path)

    boot_ranges = [(s, min(s + cfg.bootstrap_chunk, cfg.bootstrap))
                   for s in range(0, cfg.bootstrap, cfg.bootstrap_chunk)]
    stored_boot = _stored_boot_ranges(ck)
    todo_boot = _missing_ranges(stored_boot, cfg.bootstrap, cfg.bootstrap_chunk)
    units = 1 + len(grid) + len(boot_ranges)
    bar = progress if isinstance(progress, Progress) else Progress(units, enabled=bool(progress))
    computed, reused = [], []

    def done(name, what):
        computed.append(name)
        bar.update(1, what)
        if on_checkpoint:
            on_checkpoint(name)

    def skip(name):
        reused.append(name)
        if on_checkpoint:
            on_checkpoint("reused:" + name)

    import jax.numpy as jnp

    stats = jax.jit(S.pool_stats)(errors, jnp.ones((n,), jnp.float64))
    full_mask = np.ones(kk, bool)

    # 1. full pool (point estimate)
    if ck.has("full"):
        skip("full")
        bar.skip(1)
    else:
        sweep_fn = S.make_subset_sweep(tuple(methods), **pricer_kw)
        # the same key as the sweep's single k = K subset, so the two agree exactly
        pr = sweep_fn(key_sub, stats, errors, [kk], [0], full_mask[None, :], batch=cfg.subset_chunk)
        from . import copulas as C
        from .pricing import subset_stats

        ps, _ = subset_stats(stats, full_mask)
        _, rep = C.repair_matrix(ps.rho, ps.pair, S.pricing_options(**pricer_kw))
        arrays = {f: np.asarray(getattr(pr, f))[0] for f in pr._fields}
        arrays.update(rho=np.asarray(stats.rho), phi=np.asarray(stats.phi),
                      tau=np.asarray(stats.tau), p_wrong=np.asarray(stats.p_wrong),
                      tet_status=np.asarray(stats.status),
                      repair_n_negative=np.asarray(rep["repair_n_negative"]),
                      repair_min_eig_before=np.asarray(rep["repair_min_eig_before"]),
                      repair_min_eig_after=np.asarray(rep["repair_min_eig_after"]),
                      repair_frobenius=np.asarray(rep["repair_frobenius_distance"]))
        ck.write("full", arrays)
        done("full", "full pool")

    # 2. pool-size sweep, one checkpoint per k
    sweep_fn = None
    for k in grid:
        name = f"sweep_k/{k:05d}"
        if ck.has(name):
            skip(name)
            bar.skip(1)
            continue
        if sweep_fn is None:
            sweep_fn = S.make_subset_sweep(tuple(methods), **pricer_kw)
        rows = S.draw_subsets(key_sub, kk, k, cfg.subsets)
        masks = S.subset_masks(rows, kk)
        parts = []
        for s in range(0, len(rows), cfg.subset_chunk):
            js = np.arange(len(rows))[s:s + cfg.subset_chunk]
            parts.append(sweep_fn(key_sub, stats, errors, np.full(len(js), k), js, masks[js],
                                  batch=cfg.subset_chunk))
        cat = {f: np.concatenate([getattr(p, f) for p in parts]) for f in S.Prices._fields}
        cat["members"] = masks
        ck.write(name, cat, attrs={"k": k, "n_possible": float(math.comb(kk, k))})
        done(name, f"k={k}")

    # 3. bootstrap, one checkpoint per chunk
    if cfg.bootstrap:
        nb_stored = sum(b - a for a, b in stored_boot)
        if nb_stored:
            for a, b in stored_boot:
                skip(f"boot/{a:08d}_{b:08d}")
            bar.skip(round(nb_stored / cfg.bootstrap_chunk))
        boot_fn = S.make_bootstrap(tuple(methods), **pricer_kw) if todo_boot else None
        for a, b in todo_boot:
            out = boot_fn(key_boot, errors, full_mask, np.arange(a, b), batch=cfg.bootstrap_chunk)
            name = f"boot/{a:08d}_{b:08d}"
            ck.write(name, {f: getattr(out, f) for f in S.Prices._fields}, attrs={"start": a, "stop": b})
            done(name, f"replicates {b}/{cfg.bootstrap}")

    # 4. assemble the results file, drop the partial
    summary = assemble(cfg, ck, m, dropped, grid)
    os.remove(partial)
    summary.update(output=cfg.output, computed=computed, reused=reused)
    return summary


def _stored_boot_ranges(ck: Checkpoint) -> list[tuple[int, int]]:
    out = []
    for g in ck.groups:
        if g.startswith("boot/"):
            a, b = g.split("/", 1)[1].split("_")
            out.append((int(a), int(b)))
    return sorted(out)


def _missing_ranges(stored, total, chunk) -> list[tuple[int, int]]:
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


def assemble(cfg: SweepConfig, ck: Checkpoint, m, dropped, grid) -> dict[str, Any]:
    """Build the results file from the stored checkpoints alone."""
    from . import sweep as S
    from .certificate import clopper_pearson
    from .h5 import write_results

    methods = list(cfg.methods)
    q = cfg.interval
    attrs = ck.attrs()
    attrs.pop("config_hash", None)
    sessions = attrs.pop("sessions", 1)
    n, kk = m.correct.shape
    full = ck.read("full")
    K_all = int(round(float(full["beta_obs"]) * n))
    lo, hi = clopper_pearson(K_all, n, 0.05)

    tree: dict[str, Any] = {}
    dims: dict[str, tuple[str, ...]] = {}
    coords: dict[str, Any] = {"model": np.asarray(m.models, dtype=object),
                              "method": np.asarray(methods, dtype=object)}

    # full pool
    fp: dict[str, Any] = {
        "n_queries": n, "n_models": kk, "all_wrong": K_all,
        "beta_obs": float(full["beta_obs"]), "beta_obs_ci_lower": float(lo),
        "beta_obs_ci_upper": float(hi), "beta_obs_ci_method": "Clopper-Pearson 95 %",
        "mean_rho": float(full["mean_rho"]), "mean_phi": float(full["mean_phi"]),
        "rho_eff": float(full["rho_eff"]), "fit_rms": float(full["fit_rms"]),
        "repair_n_negative": int(full["repair_n_negative"]),
        "repair_min_eig_before": float(full["repair_min_eig_before"]),
        "repair_min_eig_after": float(full["repair_min_eig_after"]),
        "repair_frobenius": float(full["repair_frobenius"]),
        "dropped_models": json.dumps([f"{a} ({b})" for a, b in dropped]),
        "rho": full["rho"], "phi": full["phi"], "tau": full["tau"], "p_wrong": full["p_wrong"],
        "tetrachoric_status": full["tet_status"],
        "beta_pred": {}, "beta_pred_se": {}, "ratio": {},
    }
    dims.update({"full/rho": ("model", "model2"), "full/phi": ("model", "model2"),
                 "full/tetrachoric_status": ("model", "model2"),
                 "full/tau": ("model",), "full/p_wrong": ("model",)})
    coords["model2"] = coords["model"]
    for i, meth in enumerate(methods):
        fp["beta_pred"][meth] = float(full["beta_pred"][i])
        fp["beta_pred_se"][meth] = float(full["beta_pred_se"][i])
        fp["ratio"][meth] = float(S.ratios(full["beta_obs"], full["beta_pred"][i]))
    tree["full"] = fp

    # sweep
    ks = np.asarray(grid, np.int64)
    per_k = [ck.read(f"sweep_k/{k:05d}") for k in grid]
    pmax = max(len(d["beta_obs"]) for d in per_k)
    G = len(grid)

    def padded(field, idx=None, fill=np.nan, dtype=np.float64):
        out = np.full((G, pmax), fill, dtype)
        for g, d in enumerate(per_k):
            v = d[field] if idx is None else d[field][:, idx]
            out[g, :len(v)] = v
        return out

    sw: dict[str, Any] = {"k": ks}
    sw["n_subsets"] = np.asarray([len(d["beta_obs"]) for d in per_k], np.int64)
    sw["n_possible"] = np.asarray([float(math.comb(kk, int(k))) for k in grid])
    sw["beta_obs"] = padded("beta_obs")
    sw["mean_rho"] = padded("mean_rho")
    sw["mean_phi"] = padded("mean_phi")
    sw["rho_eff"] = padded("rho_eff")
    members = np.zeros((G, pmax, kk), np.int8)
    for g, d in enumerate(per_k):
        members[g, :len(d["members"])] = d["members"]
    sw["members"] = members
    zero = np.asarray([np.mean(d["beta_obs"] <= 0) for d in per_k])
    sw["frac_beta_obs_zero"] = zero
    sw["n_beta_obs_zero"] = np.asarray([int(np.sum(d["beta_obs"] <= 0)) for d in per_k])
    sw["mean_beta_obs"] = np.asarray([np.mean(d["beta_obs"]) for d in per_k])
    sw["beta_pred"], sw["beta_pred_se"], sw["ratio"] = {}, {}, {}
    sw["ratio_median"], sw["ratio_lower"], sw["ratio_upper"], sw["ratio_n"] = {}, {}, {}, {}
    sw["mean_beta_pred"] = {}
    for i, meth in enumerate(methods):
        bp = padded("beta_pred", i)
        sw["beta_pred"][meth] = bp
        sw["beta_pred_se"][meth] = padded("beta_pred_se", i)
        r = S.ratios(sw["beta_obs"], bp)
        sw["ratio"][meth] = r
        summ = np.asarray([S.summarize_ratios(r[g, :sw["n_subsets"][g]], q) for g in range(G)])
        sw["ratio_median"][meth] = summ[:, 0]
        sw["ratio_lower"][meth] = summ[:, 1]
        sw["ratio_upper"][meth] = summ[:, 2]
        sw["ratio_n"][meth] = summ[:, 3].astype(np.int64)
        sw["mean_beta_pred"][meth] = np.asarray([np.mean(d["beta_pred"][:, i]) for d in per_k])
        for name in ("beta_pred", "beta_pred_se", "ratio"):
            dims[f"sweep/{name}/{meth}"] = ("pool_size", "subset")
        for name in ("ratio_median", "ratio_lower", "ratio_upper", "ratio_n", "mean_beta_pred"):
            dims[f"sweep/{name}/{meth}"] = ("pool_size",)
    for name in ("beta_obs", "mean_rho", "mean_phi", "rho_eff"):
        dims[f"sweep/{name}"] = ("pool_size", "subset")
    for name in ("k", "n_subsets", "n_possible", "frac_beta_obs_zero", "n_beta_obs_zero", "mean_beta_obs"):
        dims[f"sweep/{name}"] = ("pool_size",)
    dims["sweep/members"] = ("pool_size", "subset", "model")
    sw["interval_percentiles"] = np.asarray(q)
    dims["sweep/interval_percentiles"] = ("bound",)
    sw["note"] = ("ratio = beta_obs / beta_pred; subsets with beta_obs = 0 are excluded from "
                  "ratio statistics (ratio NaN) and counted in n_beta_obs_zero; rows beyond "
                  "n_subsets are padding (NaN); at k = K there is one subset, so the band has "
                  "zero width: no composition noise is claimed there")
    tree["sweep"] = sw
    coords["pool_size"] = ks
    coords["subset"] = np.arange(pmax)
    coords["bound"] = np.asarray(["lower", "upper"], dtype=object)

    summary_full = {"beta_obs": fp["beta_obs"], "beta_obs_ci": [fp["beta_obs_ci_lower"], fp["beta_obs_ci_upper"]],
                    "beta_pred": fp["beta_pred"], "ratio": fp["ratio"], "mean_rho": fp["mean_rho"],
                    "mean_phi": fp["mean_phi"], "rho_eff": fp["rho_eff"], "n_queries": n, "n_models": kk}

    # bootstrap
    if cfg.bootstrap:
        ranges = _stored_boot_ranges(ck)
        parts = [ck.read(f"boot/{a:08d}_{b:08d}") for a, b in ranges]
        cat = {f: np.concatenate([p[f] for p in parts]) for f in S.Prices._fields}
        B = cfg.bootstrap
        assert len(cat["beta_obs"]) == B
        reason = cat["reason"].astype(np.int64)
        valid = reason == S.OK
        bt: dict[str, Any] = {"beta_obs": cat["beta_obs"], "mean_rho": cat["mean_rho"],
                              "mean_phi": cat["mean_phi"], "rho_eff": cat["rho_eff"],
                              "drop_reason": reason, "valid": valid.astype(np.int8),
                              "beta_pred": {}, "ratio": {}, "ratio_lower": {}, "ratio_upper": {},
                              "ratio_median": {}}
        bt["n_replicates"] = B
        bt["n_used"] = int(valid.sum())
        bt["n_dropped"] = int(B - valid.sum())
        counts = {DROP: int(np.sum(reason == code)) for code, DROP in S.DROP_REASONS.items() if code != S.OK}
        bt["dropped_by_reason"] = json.dumps(counts)
        bt["drop_reason_codes"] = json.dumps({str(c): t for c, t in S.DROP_REASONS.items()})
        for name in ("beta_obs", "mean_rho", "mean_phi", "rho_eff", "drop_reason", "valid"):
            dims[f"bootstrap/{name}"] = ("replicate",)
        fp_int = {}
        for i, meth in enumerate(methods):
            bp = cat["beta_pred"][:, i]
            r = np.where(valid, S.ratios(cat["beta_obs"], bp), np.nan)
            bt["beta_pred"][meth] = bp
            bt["ratio"][meth] = r
            med, lo_, hi_, _ = S.summarize_ratios(r, q)
            bt["ratio_median"][meth] = med
            bt["ratio_lower"][meth] = lo_
            bt["ratio_upper"][meth] = hi_
            fp_int[meth] = [lo_, hi_]
            dims[f"bootstrap/beta_pred/{meth}"] = ("replicate",)
            dims[f"bootstrap/ratio/{meth}"] = ("replicate",)
        tree["bootstrap"] = bt
        summary_full["ratio_interval"] = fp_int
        summary_full["bootstrap_used"] = bt["n_used"]
        summary_full["bootstrap_dropped"] = counts
        coords["replicate"] = np.arange(B)

    attrs["sessions"] = int(sessions)
    attrs["schema_sweep"] = "cofail_jax.sweep/1"
    write_results(cfg.output, tree, attrs=attrs, dims=dims, coords=coords)
    per_k_rows = [{"k": int(k), "n_subsets": int(sw["n_subsets"][g]),
                   "frac_beta_obs_zero": float(zero[g]), "mean_beta_obs": float(sw["mean_beta_obs"][g]),
                   **{f"ratio_median_{mm}": float(sw["ratio_median"][mm][g]) for mm in methods}}
                  for g, k in enumerate(grid)]
    return {"input": cfg.input_path, "full": summary_full, "sweep": per_k_rows, "methods": methods,
            "interval": list(q)}
