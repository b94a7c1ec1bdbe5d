"""Sweep configs, resumable HDF5 checkpoints, the run with its stall watchdog, and the
final results file (one module per subject).

A sweep is described by a TOML file (:func:`load_config`, :mod:`.config`);
:func:`run_sweep` (:mod:`.run`) runs it. Work is checkpointed into ``<out>.partial``
(:mod:`.checkpoint`): the full-pool analysis, one group per pool size and one per bootstrap
chunk. Each checkpoint rewrites the partial file through a temporary copy and an atomic
rename, so a run killed at any instant leaves a readable partial file holding every
finished checkpoint. Restarted with the same config, the run skips what is stored and
computes the rest; at the end the results file is assembled from the stored checkpoints
alone (:mod:`.assemble`, so a resumed run ends with the same datasets as an
uninterrupted one) and the partial file is removed. A partial file written under a
different config (its hash differs) is refused. A :class:`Watchdog` (:mod:`.watchdog`)
warns on stderr when a micro-batch takes far longer than its peers (an XLA-CPU stall) and
says how to resume. Progress is reported through a ``progress(done, total)`` callback; the
bar lives in the CLI.
"""

from __future__ import annotations

from .assemble import assemble as assemble
from .checkpoint import Checkpoint as Checkpoint
from .config import CONFIG_KEYS as CONFIG_KEYS
from .config import RESULT_KEYS as RESULT_KEYS
from .config import SweepConfig as SweepConfig
from .config import _import_options as _import_options  # noqa: F401 (tests)
from .config import load_config as load_config
from .config import load_pool as load_pool
from .run import run_sweep as run_sweep
from .watchdog import Watchdog as Watchdog

__all__ = ["CONFIG_KEYS", "RESULT_KEYS", "SweepConfig", "load_config", "load_pool",
           "Checkpoint", "run_sweep", "assemble", "Watchdog"]
