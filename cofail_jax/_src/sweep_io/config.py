"""Sweep configs: the TOML keys, their checks, and the pool a config describes."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import sys
import tomllib
from typing import Any

from ..errors import InputError
from .grid import (DEFAULT_FULL_CORR_BUDGET, DEFAULT_FULL_CORR_MAX_K, DEFAULT_POOL_SIZE_COUNT,
                   log_pool_sizes)

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
    "copulas": "copula models to price (default all: equal_loading, fitted_loading, gaussian, "
               "clayton, student_t; old names one_factor, one-factor, one-factor-fitted still "
               "work; the old key 'methods' still works, with a note)",
    "pool_sizes": "\"all\" (2..K, default), \"log\" (pool_size_count log-spaced sizes from 2 "
                  "to K, both included) or a list of pool sizes",
    "pool_size_count": "with pool_sizes = \"log\": how many sizes (default 16; fewer when K is small)",
    "full_corr_max_k": "largest pool size k at which the full-correlation copulas (gaussian, "
                       "student_t) are priced (default 500); above it they are skipped with "
                       "a note",
    "full_corr_budget": "cost budget in flops per unit of work (one pool size's P subsets, "
                        "the full pool, the bootstrap) for the full-correlation copulas "
                        "(default 1e13); above it they are skipped with a note",
    "subsets": "random subsets per pool size P (default 200)",
    "bootstrap": "query-bootstrap replicates B (default 2000; 0 to skip)",
    "interval": "percentile interval in percent (default [5, 95])",
    "orthant_samples": "fixed points (QMC) or draws (MC, tilting) per full-matrix orthant "
                       "estimate (default: none, QMC grows to rel_error)",
    "rel_error": "target relative standard error of the QMC orthant estimates (default 0.01, "
                 "as cofail price)",
    "max_samples": "cap on QMC points per estimate, and the draws of MC/tilting without "
                   "orthant_samples (default 65536)",
    "orthant_method": "orthant engine method: qmc (default), mc or tilting",
    "repair": "eigenvalue repair before the full-matrix copulas: nearest (default, Newton), "
              "higham (the same matrix, slower) or clip (eigenvalue floor 1e-6)",
    "nu": "degrees of freedom of the student_t copula (default 4)",
    "bootstrap_chunk": "replicates per vmapped batch and checkpoint (default 256)",
    "subset_chunk": "subsets per vmapped batch (default 64)",
    "audit": "audit sheet with verdicts from 'cofail audit --out': sweep the corrected matrix "
             "(adjudicated artefacts dropped; default none)",
    "unadjudicated": "with audit: all-wrong events without a verdict count as genuine (default) "
                     "or artefact",
}

DEPRECATED_KEYS = {"methods": "copulas"}
"""Old config keys that still work (one note on stderr names the new key)."""

RESULT_KEYS = ("input_sha256", "models", "drop_degenerate", "seed", "copulas", "pool_sizes",
               "subsets", "bootstrap", "interval", "orthant_samples", "orthant_method",
               "repair", "nu", "rel_error", "max_samples", "format", "missing", "audit_sha256", "unadjudicated",
               "import_options", "pool_size_count", "full_corr_max_k", "full_corr_budget")

_DEFAULT_IN_HASH = {"import_options": {}, "pool_size_count": None,
                    "full_corr_max_k": DEFAULT_FULL_CORR_MAX_K,
                    "full_corr_budget": DEFAULT_FULL_CORR_BUDGET}
"""Keys left out of the config hash while at these values (older configs keep their hash)."""

_NAME_IN_HASH = {"copulas": "methods"}
"""Keys hashed under their old name: the hash's JSON stays byte-identical, so a run started
before the 'methods' -> 'copulas' rename still resumes and its results still match."""


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
    copulas: tuple[str, ...]
    pool_sizes: tuple[int, ...] | None
    subsets: int
    bootstrap: int
    interval: tuple[float, float]
    orthant_samples: int | None
    orthant_method: str | None
    repair: str
    bootstrap_chunk: int
    subset_chunk: int
    input_sha256: str = ""
    nu: float = 4.0
    rel_error: float = 0.01
    max_samples: int = 65536
    audit: str | None = None
    unadjudicated: str = "genuine"
    audit_sha256: str = ""
    # scorer/task/metric/filter/latest/reduce, as given (load_matrix keywords)
    import_options: tuple[tuple[str, Any], ...] = ()
    # pool_sizes = "log": the count it was expanded from (pool_sizes holds the sizes)
    pool_size_count: int | None = None
    full_corr_max_k: int = DEFAULT_FULL_CORR_MAX_K
    full_corr_budget: float = DEFAULT_FULL_CORR_BUDGET

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
        # keys at their _DEFAULT_IN_HASH values are left out, so older configs keep their hash
        blob = json.dumps({_NAME_IN_HASH.get(k, k): d[k] for k in RESULT_KEYS
                           if k not in _DEFAULT_IN_HASH or d[k] != _DEFAULT_IN_HASH[k]},
                          sort_keys=True)
        return hashlib.sha256(blob.encode()).hexdigest()

    @property
    def methods(self) -> tuple[str, ...]:
        """Deprecated name of :attr:`copulas`."""
        import warnings

        warnings.warn("SweepConfig.methods is now SweepConfig.copulas", DeprecationWarning,
                      stacklevel=2)
        return self.copulas


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
    from ..data import EXAMPLES, example_path

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
    from ..io.options import REDUCERS

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

    Long: one check per config key, in the order of :data:`CONFIG_KEYS`.
    """
    from ..sweep import COPULAS

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
    unknown = sorted(set(raw) - set(CONFIG_KEYS) - set(DEPRECATED_KEYS))
    if unknown:
        raise _bad(path, unknown[0], "unknown config key",
                   hint=f"known keys: {', '.join(CONFIG_KEYS)}")
    for old, new in DEPRECATED_KEYS.items():
        if old in raw and new in raw:
            raise _bad(path, old, f"'{old}' is the old name of '{new}'; both are given",
                       hint=f"keep only '{new}'")
        if old in raw:
            print(f"note: {path}: key '{old}' is deprecated; rename it to '{new}' (it works "
                  "the same)", file=sys.stderr)
            raw[new] = raw.pop(old)
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
    copulas = raw.get("copulas", list(COPULAS))
    if (not isinstance(copulas, list) or not copulas
            or not all(isinstance(m, str) for m in copulas)):
        raise _bad(path, "copulas", f"must be a non-empty list, got {copulas!r}",
                   hint=f"choose from {', '.join(COPULAS)}")
    from ..copulas import canonical

    names = []
    for m in copulas:
        try:
            names.append(canonical(m, where=f"{path}: key 'copulas'"))
        except KeyError:
            raise _bad(path, "copulas", f"unknown copula {m!r}",
                       hint=f"choose from {', '.join(COPULAS)}") from None
    copulas = tuple(m for m in COPULAS if m in names)
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
    orthant_samples = raw.get("orthant_samples")
    if orthant_samples is not None:
        orthant_samples = _int(path, raw, "orthant_samples", None, 16)
    from ..copulas import QMC_MAX_SAMPLES, QMC_REL_ERROR

    rel_error = raw.get("rel_error", QMC_REL_ERROR)
    if (isinstance(rel_error, bool) or not isinstance(rel_error, (int, float))
            or not 0 < rel_error < 1):
        raise _bad(path, "rel_error", f"must be a number in (0, 1), got {rel_error!r}",
                   hint="for example rel_error = 0.01 (1 %)")
    max_samples = _int(path, raw, "max_samples", QMC_MAX_SAMPLES, 1024)
    from ..sweep import ORTHANT_METHODS, REPAIRS

    orthant_method = raw.get("orthant_method", "qmc")
    if orthant_method not in ORTHANT_METHODS:
        raise _bad(path, "orthant_method", f"unknown method {orthant_method!r}",
                   hint=f"choose from {', '.join(ORTHANT_METHODS)}")
    if orthant_method == "tilting" and "student_t" in copulas:
        raise _bad(path, "orthant_method", "tilting is not available for the student_t copula",
                   hint="use qmc or mc, or leave student_t out of 'copulas'")
    nu = raw.get("nu", 4.0)
    if isinstance(nu, bool) or not isinstance(nu, (int, float)) or not nu > 0:
        raise _bad(path, "nu", f"must be a positive number, got {nu!r}", hint="for example nu = 4")
    repair = raw.get("repair", "nearest")
    if repair not in REPAIRS:
        raise _bad(path, "repair", f"unknown repair {repair!r}", hint=f"choose from {', '.join(REPAIRS)}")
    bootstrap_chunk = _int(path, raw, "bootstrap_chunk", 256, 1)
    subset_chunk = _int(path, raw, "subset_chunk", 64, 1)
    pool_sizes = raw.get("pool_sizes", "all")
    pool_size_count = None
    if "pool_size_count" in raw and pool_sizes != "log":
        raise _bad(path, "pool_size_count", "only used with pool_sizes = \"log\"",
                   hint="write pool_sizes = \"log\", or remove pool_size_count")
    if pool_sizes == "all":
        pool_sizes = None
    elif pool_sizes == "log":
        pool_size_count = _int(path, raw, "pool_size_count", DEFAULT_POOL_SIZE_COUNT, 2)
    elif isinstance(pool_sizes, list) and pool_sizes and all(
            isinstance(k, int) and not isinstance(k, bool) for k in pool_sizes):
        pool_sizes = tuple(sorted(set(pool_sizes)))
    else:
        raise _bad(path, "pool_sizes", f"must be \"all\", \"log\" or a list of integers, "
                   f"got {pool_sizes!r}")
    full_corr_max_k = _int(path, raw, "full_corr_max_k", DEFAULT_FULL_CORR_MAX_K, 2)
    full_corr_budget = raw.get("full_corr_budget", DEFAULT_FULL_CORR_BUDGET)
    if (isinstance(full_corr_budget, bool) or not isinstance(full_corr_budget, (int, float))
            or not full_corr_budget > 0):
        raise _bad(path, "full_corr_budget", f"must be a positive number (flops), got "
                   f"{full_corr_budget!r}", hint="for example full_corr_budget = 1e13")
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
                      output=out, seed=seed, copulas=copulas, pool_sizes=pool_sizes,
                      subsets=subsets, bootstrap=bootstrap, interval=tuple(float(x) for x in interval),
                      orthant_samples=orthant_samples, orthant_method=orthant_method, repair=repair,
                      bootstrap_chunk=bootstrap_chunk, subset_chunk=subset_chunk,
                      audit=audit_path, unadjudicated=unadjudicated, nu=float(nu),
                      rel_error=float(rel_error), max_samples=max_samples,
                      import_options=import_options, pool_size_count=pool_size_count,
                      full_corr_max_k=full_corr_max_k, full_corr_budget=float(full_corr_budget))
    m, dropped = load_pool(cfg)
    kmax = m.k
    if kmax < 2:
        raise _bad(path, "models", f"only {kmax} usable model(s) left after dropping "
                   f"{', '.join(f'{a} ({b})' for a, b in dropped)}", hint="name more models")
    if pool_size_count is not None and kmax >= 2:
        pool_sizes = log_pool_sizes(kmax, pool_size_count)
        cfg = dataclasses.replace(cfg, pool_sizes=pool_sizes)
    if pool_sizes is not None:
        bad = [k for k in pool_sizes if not 2 <= k <= kmax]
        if bad:
            raise _bad(path, "pool_sizes", f"pool size {bad[0]} is outside 2..{kmax} "
                       f"(the pool has K = {kmax} usable models)",
                       hint=f"use sizes between 2 and {kmax}, or \"all\"")
    from ..h5 import file_sha256

    return dataclasses.replace(cfg, input_sha256=file_sha256(input_path),
                               audit_sha256=file_sha256(audit_path) if audit_path else "")


def load_pool(cfg: SweepConfig):
    """The outcome matrix of the config's pool and the models dropped as degenerate."""
    from ..io import load_matrix

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
        from ..audit.adjudicate import apply_adjudications, read_adjudications

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
