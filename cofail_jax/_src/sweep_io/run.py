"""Run (or resume) a sweep: full pool, every pool size, the bootstrap, then assemble."""

from __future__ import annotations

import contextlib
import math
import os
import sys
from collections.abc import Callable
from typing import Any

import numpy as np

from .assemble import assemble
from .checkpoint import Checkpoint, missing_ranges, stored_boot_ranges
from .config import SweepConfig, load_pool
from .grid import skip_note, skip_plan
from .watchdog import Watchdog

Progress = Callable[[int, int], None]
"""``progress(done, total)``: called with ``done = 0`` before the first unit of work (whose
time is mostly compilation) and after each unit (full pool, one pool size, one bootstrap
chunk); units found in the checkpoint count as done at once. The CLI draws the bar."""


def pricer_kw(cfg: SweepConfig) -> dict[str, Any]:
    """The pricing options of a config (:func:`..sweep.pricing_options` keywords)."""
    return dict(orthant_samples=cfg.orthant_samples, orthant_method=cfg.orthant_method,
                repair=cfg.repair, nu=cfg.nu, rel_error=cfg.rel_error,
                max_samples=cfg.max_samples)


def blas_one_thread():
    """One BLAS thread while the sweep runs, unless ``OPENBLAS_NUM_THREADS`` is set.

    jaxlib's CPU eigh/cholesky call LAPACK from scipy's OpenBLAS; its own thread pool made
    a 67 x 67 eigh 30x slower on a loaded 2-core machine (benchmarks/RESULTS.md). The
    ``cofail`` command sets the variable before numpy loads; a library caller gets the
    same through ``threadpoolctl`` when it is installed (a no-op otherwise).
    """
    if "OPENBLAS_NUM_THREADS" in os.environ:
        return contextlib.nullcontext()
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return contextlib.nullcontext()
    return threadpool_limits(limits=1, user_api="blas")


def run_sweep(cfg: SweepConfig, *, progress: Progress | bool | None = None,
              on_checkpoint: Callable[[str], None] | None = None,
              watchdog: Watchdog | bool = True) -> dict[str, Any]:
    """Run (or resume) a sweep and write ``cfg.output``; returns a summary dict.

    Args:
      cfg: a config from :func:`load_config`.
      progress: a ``progress(done, total)`` callback (:data:`Progress`), or None/False.
      on_checkpoint: called with each checkpoint's name after it is stored (and with the
        names of checkpoints found stored, prefixed ``"reused:"``); for tests and logs.
      watchdog: True (default: a :class:`Watchdog` checking every 5 s in a background
        thread), False (none), or a :class:`Watchdog` (checked in a thread every
        ``interval`` seconds; ``interval=None``: the caller calls ``check``, as tests do).

    Returns:
      ``{"output": path, "computed": [...], "reused": [...], "full": {...}, ...}``.
    """
    import jax

    from ..h5 import provenance
    from ..sweep import engines

    m, dropped = load_pool(cfg)
    errors = np.asarray(m.errors)
    kk = errors.shape[1]
    grid = list(cfg.pool_sizes) if cfg.pool_sizes is not None else list(range(2, kk + 1))
    key = jax.random.key(cfg.seed)
    key_sub, key_boot = (jax.random.fold_in(key, i) for i in (1, 2))
    plan = skip_plan(cfg, kk, grid)
    note = skip_note(plan)
    if note:
        print(note, file=sys.stderr)
    extra = {"engines": engines(), "config_hash": cfg.hash()}
    if note:
        extra["full_corr_skipped"] = note
    prov = provenance(command="cofail sweep " + os.path.basename(cfg.path), config=cfg.to_dict(),
                      seed=cfg.seed, input_path=cfg.input_path,
                      method="pairwise-calibrated copulas: " + ", ".join(cfg.copulas),
                      extra=extra)
    partial = cfg.output + ".partial"
    ck = Checkpoint(partial, cfg.hash(), prov, cfg.path)
    if watchdog is True:
        watchdog = Watchdog(resume_hint=f"run the same command again: it resumes from "
                                        f"{partial}")
    wd = watchdog or None
    run = _Run(cfg, ck, errors, key_sub, key_boot, grid,
               progress if callable(progress) else None, on_checkpoint, wd, plan)
    with contextlib.ExitStack() as stack:
        stack.enter_context(blas_one_thread())
        if wd is not None and wd.interval:
            stack.enter_context(wd.running(wd.interval))
        run.all()
    summary = assemble(cfg, ck, m, dropped, grid, plan)
    os.remove(partial)
    summary.update(output=cfg.output, computed=run.computed, reused=run.reused)
    if wd is not None and wd.warnings:
        summary["watchdog_warnings"] = list(wd.warnings)
    return summary


class _Run:
    """The three stages of a sweep, each unit checkpointed (a small state holder)."""

    def __init__(self, cfg, ck, errors, key_sub, key_boot, grid, progress, on_checkpoint, wd,
                 plan=None):
        self.cfg, self.ck, self.errors, self.grid = cfg, ck, errors, grid
        self.plan = plan or {}
        self.key_sub, self.key_boot = key_sub, key_boot
        self.progress, self.on_checkpoint = progress, on_checkpoint
        self.watch = wd.batch if wd is not None else None
        self.kw = pricer_kw(cfg)
        self.computed: list[str] = []
        self.reused: list[str] = []
        n_boot_units = len(range(0, cfg.bootstrap, cfg.bootstrap_chunk))
        self.total = 1 + len(grid) + n_boot_units
        self.done_units = 0

    def _kept(self, unit):
        """The configured copulas this unit of work prices (the skip plan's rule), and
        the call that widens its results back to every configured copula (NaN
        predictions, 0 samples where skipped)."""
        skip = self.plan.get(unit)
        kept = tuple(m for m in self.cfg.copulas if skip is None or m not in skip.copulas)
        if kept == tuple(self.cfg.copulas):
            return kept, lambda p: p
        cols = [kept.index(m) if m in kept else -1 for m in self.cfg.copulas]

        def widen(p):
            out = {}
            for f in ("beta_pred", "beta_pred_se", "n_samples"):
                a = np.asarray(getattr(p, f))
                w = np.zeros(a.shape[:-1] + (len(cols),), a.dtype)
                if a.dtype.kind == "f":
                    w[...] = np.nan
                for j, c in enumerate(cols):
                    if c >= 0:
                        w[..., j] = a[..., c]
                out[f] = w
            return p._replace(**out)

        # nothing left to price: the cheapest copula gives beta_obs and the statistics
        return kept or ("equal_loading",), widen

    def _boot_fn(self, kept):
        """The bootstrap: micro-batches of replicates (:func:`..sweep.make_bootstrap`), or
        above ``tetrachoric.PAIR_CHUNK`` pairs one replicate at a time with its pairs in
        bounded-memory chunks (:func:`..sweep_stream.make_streamed_bootstrap`)."""
        from .. import sweep as S
        from .. import sweep_stream as SS
        from .. import tetrachoric as T

        if T.chunked_pairs(self.errors.shape[1]):
            return SS.make_streamed_bootstrap(kept, **self.kw)
        return S.make_bootstrap(kept, **self.kw)

    def _sweep_fn(self, unit):
        from .. import sweep as S

        kept, widen = self._kept(unit)
        return S.make_subset_sweep(kept, **self.kw), widen

    def _tick(self, n=1):
        self.done_units += n
        if self.progress:
            self.progress(min(self.done_units, self.total), self.total)

    def done(self, name):
        self.computed.append(name)
        self._tick()
        if self.on_checkpoint:
            self.on_checkpoint(name)

    def skip(self, name, units=1):
        self.reused.append(name)
        self.done_units += units
        if self.on_checkpoint:
            self.on_checkpoint("reused:" + name)

    def all(self):
        if self.progress:
            self.progress(0, self.total)
        self.precompile()
        self.full()
        self.pool_sizes()
        self.bootstrap()

    def _pool_stats(self):
        """The pool's statistics (weights one), then what the units take from them before
        they run: each sweep builder's prepared pool work compiled, the full pool's repair
        report, every missing pool size's subsets. A :meth:`precompile` job."""
        import jax.numpy as jnp

        from .. import pricing as P
        from .. import sweep as S

        n, kk = self.errors.shape
        # as `cofail price` computes them (pair-chunked over every device above PAIR_CHUNK)
        self.stats = P.whole_pool_stats(self.errors, jnp.ones((n,), jnp.float64), "all")
        builders = {}
        for unit in ["full"] + [f"sweep_k/{k:05d}" for k in self.grid]:
            if not self.ck.has(unit):
                fn = self._sweep_fn(unit)[0]
                builders[id(fn)] = fn
        for fn in builders.values():
            fn.prepare(self.stats)
        if not self.ck.has("full"):
            self.full_repair = self._full_repair()
        self.subsets = {k: S.subset_masks(S.draw_subsets(self.key_sub, kk, k, self.cfg.subsets), kk)
                        for k in self.grid if not self.ck.has(f"sweep_k/{k:05d}")}

    def precompile(self):
        """Compile every program the remaining work needs at once, in threads (the subset
        dimensions and the two bootstrap programs overlap on several cores instead of
        compiling one after another as the run reaches them), from the pool's shapes
        alone; the pool's statistics (:meth:`_pool_stats`) are computed alongside. Units
        priced with fewer copulas (the skip plan) get their own programs."""
        import jax
        import jax.numpy as jnp

        from .. import sweep as S

        n, kk = self.errors.shape
        stats = jax.eval_shape(S.pool_stats, jax.ShapeDtypeStruct((n, kk), jnp.bool_),
                               jax.ShapeDtypeStruct((n,), jnp.float64))
        groups: dict[tuple[str, ...], list[int]] = {}
        for unit, k in [("full", kk)] + [(f"sweep_k/{k:05d}", k) for k in self.grid]:
            if not self.ck.has(unit):
                groups.setdefault(self._kept(unit)[0], []).append(k)
        jobs = []
        for kept, ks in groups.items():
            jobs += S.make_subset_sweep(kept, **self.kw).precompile(self.key_sub, stats,
                                                                    self.errors, ks)
        stored = stored_boot_ranges(self.ck)
        if self.cfg.bootstrap and missing_ranges(stored, self.cfg.bootstrap,
                                                 self.cfg.bootstrap_chunk):
            boot_fn = self._boot_fn(self._kept("boot")[0])
            # (the streamed bootstrap of large pools compiles with its first replicate)
            jobs += boot_fn.precompile(self.key_boot, self.errors, np.ones(kk, bool))
        # largest programs first (the full-width one, shared with the bootstrap, leads);
        # the pool's statistics, short, last
        S.precompile(jobs + [self._pool_stats])

    def _full_repair(self):
        """The full pool's repair report (its own eigendecompositions, outside the
        pricing program): (report dict, smallest eigenvalue after the repair)."""
        from .. import copulas as C
        from .. import sweep as S
        from ..pricing import subset_stats

        kk = self.errors.shape[1]
        if "full" in self.plan:  # the repair is the O(K^3) part that was unaffordable
            rep = {"repair_n_negative": -1, "repair_min_eig_before": np.nan,
                   "repair_frobenius_distance": np.nan}
            return rep, np.nan
        ps, _ = subset_stats(self.stats, np.ones(kk, bool))
        fixed, rep = C.repair_matrix(ps.rho, ps.pair, S.pricing_options(**self.kw))
        return rep, np.linalg.eigvalsh(np.asarray(fixed))[0]

    def full(self):
        """The full pool, with the key of the sweep's single k = K subset (they agree)."""
        if self.ck.has("full"):
            self.skip("full")
            return
        kk = self.errors.shape[1]
        full_mask = np.ones(kk, bool)
        sweep_fn, widen = self._sweep_fn("full")
        pr = widen(sweep_fn(self.key_sub, self.stats, self.errors, [kk], [0], full_mask[None, :],
                            batch=self.cfg.subset_chunk, watch=self.watch))
        rep, eig_after = self.full_repair
        st = self.stats
        arrays = {f: np.asarray(getattr(pr, f))[0] for f in pr._fields}
        arrays.update(rho=np.asarray(st.rho), phi=np.asarray(st.phi), tau=np.asarray(st.tau),
                      p_wrong=np.asarray(st.p_wrong), tet_status=np.asarray(st.status),
                      repair_n_negative=np.asarray(rep["repair_n_negative"]),
                      repair_min_eig_before=np.asarray(rep["repair_min_eig_before"]),
                      repair_min_eig_after=np.asarray(eig_after),
                      repair_frobenius=np.asarray(rep["repair_frobenius_distance"]))
        self.ck.write("full", arrays)
        self.done("full")

    def _groups(self, ks):
        """Consecutive pool sizes priced by the same program (same copulas and compacted
        dimension) in groups of at most max(subset_chunk, one pool size's subsets) rows: one
        run of micro-batches per group, so that P = 10 subsets per pool size do not each
        pad to two micro-batches of 8 (rows are independent: results do not change)."""
        from .. import sweep as S

        kk = self.errors.shape[1]
        groups: list[list[int]] = []
        prev, rows = None, 0
        for k in ks:
            n_k = len(self.subsets[k])
            tag = (self._kept(f"sweep_k/{k:05d}")[0], S._compact_dim(k, kk))
            if tag == prev and rows + n_k <= self.cfg.subset_chunk:
                groups[-1].append(k)
                rows += n_k
            else:
                groups.append([k])
                prev, rows = tag, n_k
        return groups

    def pool_sizes(self):
        """One checkpoint per pool size k (pool sizes computed in groups, :meth:`_groups`)."""
        from .. import sweep as S

        kk = self.errors.shape[1]
        todo = []
        for k in self.grid:
            name = f"sweep_k/{k:05d}"
            if self.ck.has(name):
                self.skip(name)
            else:
                todo.append(k)
        for group in self._groups(todo):
            sweep_fn, widen = self._sweep_fn(f"sweep_k/{group[0]:05d}")
            masks = [self.subsets[k] for k in group]
            ks = np.concatenate([np.full(len(m), k) for k, m in zip(group, masks)])
            js = np.concatenate([np.arange(len(m)) for m in masks])
            out = widen(sweep_fn(self.key_sub, self.stats, self.errors, ks, js,
                                 np.concatenate(masks), batch=self.cfg.subset_chunk,
                                 watch=self.watch))
            start = 0
            for k, m in zip(group, masks):
                sl = slice(start, start + len(m))
                start += len(m)
                cat = {f: np.asarray(getattr(out, f))[sl] for f in S.Prices._fields}
                cat["members"] = m
                name = f"sweep_k/{k:05d}"
                self.ck.write(name, cat, attrs={"k": k, "n_possible": float(math.comb(kk, k))})
                self.done(name)

    def bootstrap(self):
        """One checkpoint per chunk of replicates."""
        from .. import sweep as S

        cfg = self.cfg
        if not cfg.bootstrap:
            return
        stored = stored_boot_ranges(self.ck)
        for a, b in stored:
            self.skip(f"boot/{a:08d}_{b:08d}", units=0)
        self.done_units += round(sum(b - a for a, b in stored) / cfg.bootstrap_chunk)
        todo = missing_ranges(stored, cfg.bootstrap, cfg.bootstrap_chunk)
        kept, widen = self._kept("boot")
        boot_fn = self._boot_fn(kept) if todo else None
        full_mask = np.ones(self.errors.shape[1], bool)
        for a, b in todo:
            out = widen(boot_fn(self.key_boot, self.errors, full_mask, np.arange(a, b),
                                batch=cfg.bootstrap_chunk, watch=self.watch))
            name = f"boot/{a:08d}_{b:08d}"
            self.ck.write(name, {f: getattr(out, f) for f in S.Prices._fields},
                          attrs={"start": a, "stop": b})
            self.done(name)
