"""Test set-up: float64, strict rank promotion, 4 host devices, warnings as errors
(pyproject's filterwarnings), one persistent JAX compilation cache for the whole session,
and the real outcome matrices from tests/fixtures/shared (a missing file fails, never skips).

The compilation cache: every program compiled in this session (in-process tests and the
CLI subprocesses some tests start, which inherit the environment) is stored in one
temporary folder, so a program built again (a fresh closure, another process) is loaded
instead of recompiled. Set ``JAX_COMPILATION_CACHE_DIR`` yourself to keep it between runs.

XLA's CPU backend compiles at optimization level 0 here (``--xla_backend_optimization_level=0``):
the tests' data are small, so compilation, not running, is most of the suite's CPU time, and
level 0 compiles about 40 % faster (the programs and their numbers are the same up to
rounding; the tests' tolerances hold at both levels). Two more flags cut compilation again:
``--xla_cpu_use_fusion_emitters=false`` (XLA's elemental IR emitters instead of the newer
MLIR fusion emitters, which cost more to compile) and
``--xla_cpu_parallel_codegen_split_count=1`` (one LLVM module per program instead of
pieces compiled in parallel: less total CPU): together about 35-50 % less CPU on
test_student_t + test_tetrachoric (benchmarks/RESULTS.md, "Test suite CPU time"). Same
programs, same numbers up to rounding. Each of the two is passed only when the installed
jaxlib defines it (an unknown XLA flag aborts the process). Set ``XLA_FLAGS`` yourself to
test with XLA's defaults.
"""

import atexit
import glob
import importlib.util
import mmap
import os
import shutil
import tempfile


def _defined_xla_flags(*flags: str) -> list[str]:
    """The ``--name=value`` flags whose name this jaxlib defines. An unknown flag in
    XLA_FLAGS aborts the process, and XLA renames or drops CPU flags between releases, so
    each name is looked up in jaxlib's shared libraries (memory-mapped, a few ms)."""
    spec = importlib.util.find_spec("jaxlib")
    libs = glob.glob(os.path.join(os.path.dirname(spec.origin), "*.so")) if spec and spec.origin else []
    names = {f: f.split("=")[0].lstrip("-").encode() for f in flags}
    found: set[str] = set()
    for lib in libs:
        with open(lib, "rb") as fh, mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as m:
            found.update(f for f, n in names.items() if f not in found and m.find(n) >= 0)
    return [f for f in flags if f in found]


os.environ.setdefault("XLA_FLAGS", " ".join([
    "--xla_force_host_platform_device_count=4", "--xla_backend_optimization_level=0",
    *_defined_xla_flags("--xla_cpu_use_fusion_emitters=false",
                        "--xla_cpu_parallel_codegen_split_count=1")]))
if not os.environ.get("JAX_COMPILATION_CACHE_DIR"):
    _CACHE = tempfile.mkdtemp(prefix="cofail-jax-cache-")
    os.environ["JAX_COMPILATION_CACHE_DIR"] = _CACHE
    atexit.register(shutil.rmtree, _CACHE, ignore_errors=True)
# cache every program, however small or quick to compile (read by subprocesses too)
os.environ.setdefault("JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS", "0")
os.environ.setdefault("JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES", "0")

import jax  # noqa: E402

jax.config.update("jax_enable_x64", True)
jax.config.update("jax_numpy_rank_promotion", "raise")
jax.config.update("jax_compilation_cache_dir", os.environ["JAX_COMPILATION_CACHE_DIR"])
jax.config.update("jax_persistent_cache_min_compile_time_secs", 0)
jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)

import pytest  # noqa: E402

SHARED_DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures", "shared")
SHARED_FILES = ("mmlupro_mmlu-pro.csv", "zeroeval_gsm8k.csv", "zeroeval_math-l5.csv")


@pytest.fixture(scope="session")
def shared_data():
    """Folder of the three real outcome matrices (tests/fixtures/shared, see its README.md).

    Fails, never skips, when a file is missing: a test that silently skips cannot fail.
    """
    missing = [f for f in SHARED_FILES if not os.path.isfile(os.path.join(SHARED_DATA, f))]
    if missing:
        pytest.fail(f"test fixture missing: {', '.join(missing)} in {SHARED_DATA}; restore "
                    "tests/fixtures/shared from git (its README.md gives the sources)",
                    pytrace=False)
    return SHARED_DATA
