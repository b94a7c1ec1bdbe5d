"""Importer throughput: load_matrix on each harness format against the bare parse.

For each format a pool of k models x n queries (random 0/1 cells, seed 0) is written in
that harness's layout; the baselines are the cost of reading the same files in the same
run: ``json.load`` / ``json.loads`` per line / ``pyarrow.parquet.read_table().to_pydict``
(the standard library), and the fastest bare parse available to the importers (orjson
with the cyclic GC paused, as the importers parse; ``read_table`` alone for Parquet), the
ceiling for an importer that must parse every byte. The in-run baseline of each JSON
importer is its record-by-record (dict) path, the previous implementation, selected with
``cofail_jax._src.io.typed.USE_MSGSPEC = False`` (orjson when installed, one Python dict
per record); Parquet and long CSV have no such switch (compare with ``--repo`` run back
to back). Both paths must return exactly the written matrix. "load + metadata" also reads
every metadata column (decoded on first read by the fast importers). Times are best of ``--repeats``, as wall-clock and as CPU time of this
process (``time.process_time``): on a shared, loaded machine the CPU time is the steadier
measure of the work done.

    .venv/bin/python benchmarks/bench_importers.py [--quick] [--repo PATH] [--only NAME ...]

Defaults: k = 38 models, n = 721 queries (the embedded MATH level-5 example's size).
``--repo`` imports cofail_jax from another checkout (e.g. /work/main, for a before/after
comparison run back to back).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time

import numpy as np

_REPO = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
if "--repo" in sys.argv:
    _REPO = sys.argv[sys.argv.index("--repo") + 1]
sys.path.insert(0, _REPO)

from cofail_jax import load_matrix  # noqa: E402


def write_inspect(d, truth):
    n, k = truth.shape
    for j in range(k):
        samples = [
            {
                "id": i,
                "epoch": 1,
                "input": f"question {i}",
                "target": "42",
                "output": {
                    "choices": [
                        {"message": {"role": "assistant", "content": "x"}, "stop_reason": "stop"}
                    ],
                    "usage": {"input_tokens": 10, "output_tokens": 3, "total_tokens": 13},
                },
                "scores": {"match": {"value": "C" if truth[i, j] else "I", "answer": "x"}},
            }
            for i in range(n)
        ]
        log = {
            "version": 2,
            "status": "success",
            "eval": {"task": "t", "model": f"org/m{j:02d}"},
            "samples": samples,
        }
        with open(os.path.join(d, f"log_{j:02d}.json"), "w") as f:
            json.dump(log, f)


def write_eee(d, truth):
    n, k = truth.shape
    for j in range(k):
        with open(os.path.join(d, f"m{j:02d}_samples.jsonl"), "w") as f:
            for i in range(n):
                ok = bool(truth[i, j])
                f.write(
                    json.dumps(
                        {
                            "schema_version": "0.2.1",
                            "evaluation_id": "e",
                            "model_id": f"org/m{j:02d}",
                            "evaluation_name": "t",
                            "sample_id": f"q{i}",
                            "interaction_type": "single_turn",
                            "input": {"raw": f"question {i}", "reference": ["42"]},
                            "output": {"raw": ["x"]},
                            "answer_attribution": [
                                {
                                    "turn_idx": 0,
                                    "source": "output.raw",
                                    "extracted_value": "x",
                                    "extraction_method": "regex",
                                    "is_terminal": True,
                                }
                            ],
                            "evaluation": {"score": float(ok), "is_correct": ok},
                        }
                    )
                    + "\n"
                )


def write_openai(d, truth):
    n, k = truth.shape
    for j in range(k):
        with open(os.path.join(d, f"run{j:02d}.jsonl"), "w") as f:
            f.write(
                json.dumps(
                    {"spec": {"completion_fns": [f"m{j:02d}"], "eval_name": "t", "run_id": f"r{j}"}}
                )
                + "\n"
            )
            f.writelines(
                json.dumps(
                    {
                        "run_id": f"r{j}",
                        "event_id": i,
                        "sample_id": f"t.{i}",
                        "type": "match",
                        "data": {"correct": bool(truth[i, j]), "expected": "42", "picked": "x"},
                    }
                )
                + "\n"
                for i in range(n)
            )


def write_helm(d, truth):
    n, k = truth.shape
    for j in range(k):
        run = os.path.join(d, f"t:model=org_m{j:02d}")
        os.makedirs(run)
        with open(os.path.join(run, "run_spec.json"), "w") as f:
            json.dump(
                {"name": f"t:model=org_m{j:02d}", "adapter_spec": {"model": f"org/m{j:02d}"}}, f
            )
        with open(os.path.join(run, "per_instance_stats.json"), "w") as f:
            json.dump(
                [
                    {
                        "instance_id": f"id{i}",
                        "train_trial_index": 0,
                        "stats": [
                            {
                                "name": {"name": "exact_match", "split": "test"},
                                "count": 1,
                                "sum": float(truth[i, j]),
                                "mean": float(truth[i, j]),
                            }
                        ],
                    }
                    for i in range(n)
                ],
                f,
            )


def write_long_csv(d, truth):
    n, k = truth.shape
    with open(os.path.join(d, "long.csv"), "w") as f:
        f.write("query_id,model,correct,answer,prompt\n")
        for j in range(k):
            f.writelines(f"q{i},org/m{j:02d},{int(truth[i, j])},x,question {i}\n"
                         for i in range(n))


def write_lmeval(d, truth):
    n, k = truth.shape
    for j in range(k):
        sub = os.path.join(d, f"org__m{j:02d}")
        os.makedirs(sub)
        with open(os.path.join(sub, "samples_t_2024-01-01T00-00-00.jsonl"), "w") as f:
            f.writelines(
                json.dumps({"doc_id": i, "target": "42", "filtered_resps": ["x"],
                            "exact_match": float(truth[i, j])}) + "\n"
                for i in range(n))


def write_parquet(d, truth):
    import pyarrow as pa
    import pyarrow.parquet as pq

    n, k = truth.shape
    for j in range(k):
        sub = os.path.join(d, f"org__m{j:02d}")
        os.makedirs(sub)
        pq.write_table(
            pa.table(
                {
                    "doc_id": np.arange(n),
                    "target": ["42"] * n,
                    "filtered_resps": [["x"]] * n,
                    "exact_match": truth[:, j].astype(float),
                }
            ),
            os.path.join(sub, "samples_t_2024-01-01T00-00-00.parquet"),
        )


def _files(d):
    return [os.path.join(root, name) for root, _, files in os.walk(d) for name in files]


def parse_only(d, kind):
    """The standard-library baseline: read every file of the pool, nothing else."""
    for p in _files(d):
        if kind == "parquet":
            import pyarrow.parquet as pq

            pq.read_table(p).to_pydict()
        elif kind == "long-csv":
            import csv

            with open(p, newline="") as f:
                list(csv.DictReader(f))
        elif p.endswith(".jsonl"):
            with open(p) as f:
                [json.loads(line) for line in f if line.strip()]
        else:
            with open(p) as f:
                json.load(f)


def parse_fast(d, kind):
    """The fastest bare parse of every file: orjson (the stdlib without it) from bytes
    with the cyclic GC paused; Parquet's read_table into Arrow columns."""
    import gc

    try:
        from orjson import loads
    except ImportError:
        loads = json.loads
    was = gc.isenabled()
    gc.disable()
    try:
        out = []
        for p in _files(d):
            if kind == "parquet":
                import pyarrow.parquet as pq

                out.append(pq.read_table(p))
                continue
            if kind == "long-csv":
                import pyarrow.csv as pcsv

                out.append(pcsv.read_csv(p))
                continue
            with open(p, "rb") as f:
                data = f.read()
            if p.endswith(".jsonl"):
                out.append([loads(line) for line in data.split(b"\n") if line.strip()])
            else:
                out.append(loads(data))
        del out  # freeing the parsed trees is part of the cost
    finally:
        if was:
            gc.enable()


def load_with_metadata(target):
    """load_matrix, then every metadata column read (an importer may decode its
    metadata only when first read: this is the load an audit or regrade pays)."""
    m = load_matrix(target)
    for group in (m.cell_meta, m.query_meta):
        for _ in group.values():
            pass
    return m


def best_of(fn, repeats):
    """(best wall seconds, best CPU seconds, the last result). The previous result is
    freed before each timed call, so every call starts from the same heap."""
    wall, cpu = [], []
    out = None
    for _ in range(repeats):
        out = None
        t0, c0 = time.perf_counter(), time.process_time()
        out = fn()
        cpu.append(time.process_time() - c0)
        wall.append(time.perf_counter() - t0)
    return min(wall), min(cpu), out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="k=8 models, n=200 queries, 1 repeat")
    ap.add_argument("--repeats", type=int, default=None, help="best of this many (default 5)")
    ap.add_argument("--repo", default=None, help="import cofail_jax from this checkout")
    ap.add_argument("--only", nargs="+", default=None, help="only these formats")
    args = ap.parse_args()
    k, n, repeats = (8, 200, 1) if args.quick else (38, 721, 5)
    repeats = args.repeats or repeats
    truth = np.random.default_rng(0).random((n, k)) < 0.6
    writers = {
        "inspect": write_inspect,
        "eee": write_eee,
        "openai-evals": write_openai,
        "helm": write_helm,
        "parquet": write_parquet,
        "long-csv": write_long_csv,
        "lm-eval": write_lmeval,
    }
    if args.only:
        writers = {k_: w for k_, w in writers.items() if k_ in args.only}
    try:
        from cofail_jax._src.io import typed
    except ImportError:  # an old checkout without the switch
        typed = None
    rows = []
    cells = n * k
    with open("/proc/loadavg") if os.path.exists("/proc/loadavg") else open(os.devnull) as f:
        load0 = f.read().split()[:3]

    def check(m, name):
        """The loaded matrix is exactly the written one (rows and columns matched by id)."""
        order = np.argsort(np.asarray(m.models))  # every format names models m00..m37
        got = m.correct[:, order]
        if name == "openai-evals":
            rows_idx = [int(q.split(".")[1]) for q in m.query_ids]
        else:
            rows_idx = [int("".join(ch for ch in q if ch.isdigit())) for q in m.query_ids]
        assert m.correct.shape == truth.shape and np.array_equal(got, truth[rows_idx]), name

    with tempfile.TemporaryDirectory() as tmp:
        for name, write in writers.items():
            d = os.path.join(tmp, name)
            os.makedirs(d)
            write(d, truth)
            size = sum(os.path.getsize(p) for p in _files(d))
            _, c_std, _ = best_of(lambda d=d, name=name: parse_only(d, name), repeats)
            _, c_fast, _ = best_of(lambda d=d, name=name: parse_fast(d, name), repeats)
            target = _files(d)[0] if name == "long-csv" else d
            c_dict = None
            if typed is not None and name not in ("parquet", "long-csv"):
                typed.USE_MSGSPEC = False
                try:
                    _, c_dict, m = best_of(lambda t=target: load_matrix(t), repeats)
                finally:
                    typed.USE_MSGSPEC = True
                check(m, name)
                m = None  # not alive while the load is timed (its pages cost the load)
            w_load, c_load, m = best_of(lambda t=target: load_matrix(t), repeats)
            check(m, name)
            m = None
            _, c_all, m = best_of(lambda t=target: load_with_metadata(t), repeats)
            check(m, name)
            m = None
            rows.append(
                (
                    name,
                    f"{size / 1e6:.1f}",
                    f"{cells / c_std / 1e3:.0f}",
                    f"{cells / c_fast / 1e3:.0f}",
                    "-" if c_dict is None else f"{cells / c_dict / 1e3:.0f}",
                    f"{cells / w_load / 1e3:.0f}",
                    f"{cells / c_load / 1e3:.0f}",
                    f"{cells / c_all / 1e3:.0f}",
                    "-" if c_dict is None else f"{c_dict / c_load:.1f}x",
                    "yes" if cells / c_load >= 1e6 else "no",
                )
            )
    header = ("format", "MB", "stdlib parse k cells/s cpu", "fast parse k cells/s cpu",
              "dict path k cells/s cpu", "load k cells/s wall", "load k cells/s cpu",
              "load + metadata k cells/s cpu", "load / dict (cpu)", ">= 1M/s cpu")
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    with open("/proc/loadavg") if os.path.exists("/proc/loadavg") else open(os.devnull) as f:
        load = f.read().split()[:3]
    print(
        f"importers ({os.path.abspath(_REPO)}): k={k} models x n={n} queries, best of "
        f"{repeats}; load includes detection, validation and metadata; every matrix checked "
        f"exact; load average {' '.join(load0)} at the start, {' '.join(load)} at the end "
        "(the machine may be shared)"
    )
    for r in [header, tuple("-" * w for w in widths), *rows]:
        print("  ".join(str(c).ljust(w) for c, w in zip(r, widths)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
