#!/usr/bin/env bash
# GPU figures in one call: on a machine with an NVIDIA GPU, install the CUDA build of jax
# in a fresh venv, print the devices, run the GPU-relevant tests and every benchmark's
# --quick mode, and write everything to one file, all within a time budget (default 470 s,
# under 8 minutes). Each step has its own `timeout`; a failing or timed-out step is
# recorded and the script goes on. The summary table at the end lists every step's exit
# status (124 = timed out, SKIPPED = no time left) and seconds.
#
# Usage (from anywhere):
#   benchmarks/device_check.sh [--dry-run] [--python PY] [--cuda cuda12|cuda13]
#                              [--budget SECONDS] [--out FILE]
#   --dry-run  go through every step and write the report, printing the commands
#              instead of running them (checks the script's own logic on any machine)
#   --python   use this interpreter (with jax[cuda] and the project already installed)
#              instead of creating .venv-gpu and installing into it (for offline machines)
#   --cuda     jax extra to install (default: cuda13 if the NVIDIA driver is >= 580, else
#              cuda12; jax 0.10 publishes both)
#   --budget   total seconds for all steps (default 470)
#   --out      report file (default $OUT/device_check.txt if $OUT is set, else
#              results/device_check.txt)
# Record the report in benchmarks/RESULTS.md ("GPU figures") with the date.
set -u

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
DRY=0
PY=""
CUDA=""
BUDGET=470
if [ -n "${OUT:-}" ]; then REPORT="$OUT/device_check.txt"; else REPORT="$ROOT/results/device_check.txt"; fi
while [ $# -gt 0 ]; do
  case "$1" in
    --dry-run) DRY=1 ;;
    --python) PY="$2"; shift ;;
    --cuda) CUDA="$2"; shift ;;
    --budget) BUDGET="$2"; shift ;;
    --out) REPORT="$2"; shift ;;
    -h|--help) sed -n '2,24p' "${BASH_SOURCE[0]}"; exit 0 ;;
    *) echo "device_check.sh: unknown option '$1' (see --help)" >&2; exit 2 ;;
  esac
  shift
done
case "$BUDGET" in ''|*[!0-9]*) echo "device_check.sh: --budget must be a whole number of seconds, got '$BUDGET'" >&2; exit 2 ;; esac
mkdir -p "$(dirname "$REPORT")" || { echo "device_check.sh: cannot create $(dirname "$REPORT")" >&2; exit 2; }
: > "$REPORT" || { echo "device_check.sh: cannot write $REPORT" >&2; exit 2; }
cd "$ROOT" || exit 2

START=$(date +%s)
SUMMARY=()
log() { echo "$*" | tee -a "$REPORT"; }

# step NAME CAP_SECONDS CMD...: run CMD with a timeout of min(CAP, time left), output
# appended to the report; never stops the script.
step() {
  local name=$1 cap=$2; shift 2
  local now left limit t0 rc
  now=$(date +%s); left=$((BUDGET - (now - START)))
  limit=$cap; [ "$left" -lt "$limit" ] && limit=$left
  if [ "$limit" -lt 10 ]; then
    log "=== $name: SKIPPED (time budget of ${BUDGET} s spent)"
    SUMMARY+=("$(printf '%-34s %8s %6s' "$name" SKIPPED 0)"); return 0
  fi
  log ""
  log "=== $name (timeout ${limit} s): $*"
  t0=$(date +%s)
  if [ "$DRY" = 1 ]; then
    log "(dry run: not executed)"; rc=0
  else
    timeout -k 5 "$limit" "$@" >> "$REPORT" 2>&1; rc=$?
    echo >> "$REPORT"   # the step's output may not end with a newline
  fi
  local dt=$(( $(date +%s) - t0 ))
  [ "$rc" = 124 ] && log "=== $name: TIMED OUT after ${limit} s"
  log "=== $name: exit $rc, ${dt} s"
  SUMMARY+=("$(printf '%-34s %8s %6s' "$name" "$rc" "$dt")")
  return 0
}

log "cofail_jax device check, $(date -u '+%Y-%m-%d %H:%M:%S UTC'), host $(hostname)"
log "commit: $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)$(git -C "$ROOT" diff --quiet 2>/dev/null || echo ' (+ uncommitted changes)')"
log "load average: $(cat /proc/loadavg 2>/dev/null || echo unknown); CPUs: $(nproc 2>/dev/null || echo unknown)"
log "budget: ${BUDGET} s; report: $REPORT; dry run: $DRY"

DRIVER=""
if command -v nvidia-smi > /dev/null 2>&1; then
  step "nvidia-smi" 20 nvidia-smi
  DRIVER=$(nvidia-smi --query-gpu=driver_version --format=csv,noheader 2>/dev/null | head -1)
else
  log "nvidia-smi not found: no NVIDIA driver visible; the checks below will run on CPU"
fi
if [ -z "$CUDA" ]; then
  major=${DRIVER%%.*}
  case "$major" in ''|*[!0-9]*) CUDA=cuda12 ;; *) if [ "$major" -ge 580 ]; then CUDA=cuda13; else CUDA=cuda12; fi ;; esac
fi
log "NVIDIA driver: ${DRIVER:-none}; jax extra: $CUDA"

if [ -z "$PY" ]; then
  VENV="$ROOT/.venv-gpu"
  PY="$VENV/bin/python"
  step "create venv" 60 python3 -m venv "$VENV"
  step "pip install jax[$CUDA]" 200 "$PY" -m pip install -q -U "jax[$CUDA]"
  step "pip install -e .[test]" 120 "$PY" -m pip install -q -e "$ROOT[test]"
fi
if [ "$DRY" = 0 ] && [ ! -x "$PY" ] && ! command -v "$PY" > /dev/null 2>&1; then
  log "python '$PY' not found: every step below will fail (give --python)"
fi

export XLA_PYTHON_CLIENT_PREALLOCATE=false   # steps are separate processes; be frugal
step "device info" 60 "$PY" -c '
import jax, jaxlib
print("jax", jax.__version__, "jaxlib", jaxlib.__version__, "backend", jax.default_backend())
for d in jax.devices():
    print(d.id, d.platform, d.device_kind, getattr(d, "memory_stats", lambda: None)() or "")
if jax.default_backend() != "gpu":
    raise SystemExit("device_check: jax sees no GPU (backend %s); figures below are CPU figures" % jax.default_backend())
'

# GPU-relevant tests: orthant / one-factor / Clayton pricing (also under a copulas/ layout),
# tetrachoric, sweep core. Test files that do not exist in this checkout are left out.
TESTS=()
for t in tests/test_orthant.py tests/test_onefactor.py tests/test_clayton.py tests/test_copula*.py \
         tests/test_tetrachoric.py tests/test_repair.py tests/test_sweep_core.py; do
  [ -f "$t" ] && TESTS+=("$t")
done
step "pytest (${#TESTS[@]} files)" 150 "$PY" -m pytest -q -x -p no:cacheprovider "${TESTS[@]}"

# every benchmark with a --quick mode, the accelerator-bound ones first
BENCHES=()
for b in pricing sweep tetrachoric repair simulate identify policies; do
  [ -f "benchmarks/bench_$b.py" ] && BENCHES+=("benchmarks/bench_$b.py")
done
for b in benchmarks/bench_*.py; do
  case " ${BENCHES[*]} " in *" $b "*) ;; *) grep -q -- '--quick' "$b" && BENCHES+=("$b") ;; esac
done
for b in "${BENCHES[@]}"; do
  step "$(basename "$b" .py) --quick" 90 "$PY" "$b" --quick
done

log ""
log "=== summary (exit status; 124 = timed out), total $(( $(date +%s) - START )) s of ${BUDGET} s"
log "$(printf '%-34s %8s %6s' step exit seconds)"
for s in "${SUMMARY[@]}"; do log "$s"; done
exit 0
