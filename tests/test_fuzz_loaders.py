"""Property-based fuzzing of every loader (issue 16): whatever bytes, CSV dialect,
encoding, JSON structure or damaged HDF5/Parquet/zip a user hands over, ``load_matrix``
returns a valid :class:`OutcomeMatrix` or raises :class:`InputError`; nothing else, and
no hang (each example runs under a generous SIGALRM guard that only a real hang trips).

Budget: every test runs ``max_examples=EXAMPLES`` (40) examples with
``derandomize=True`` (hypothesis derives its seed from the test's name, so each CI run
draws the same examples) and no example database; the whole file is a few seconds of CPU.
"""

from __future__ import annotations

import csv
import io
import json
import os

import numpy as np
import pytest
from hang import hang_guard

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from cofail_jax._src.errors import InputError  # noqa: E402
from cofail_jax._src.io import LOADERS, load_matrix  # noqa: E402
from cofail_jax._src.matrix import OutcomeMatrix  # noqa: E402

EXAMPLES = 40

FUZZ = settings(max_examples=EXAMPLES, derandomize=True, database=None, deadline=None,
                suppress_health_check=list(HealthCheck), print_blob=False)




def check_load(path, fmt=None):
    """The property: a valid matrix or InputError, within the guard."""
    with hang_guard(what="loader"):
        try:
            m = load_matrix(path, fmt)
        except InputError as e:
            assert str(e).strip() and "\n" not in e.format()
            return None
    assert isinstance(m, OutcomeMatrix)
    c = np.asarray(m.correct)
    assert c.dtype == bool and c.shape == (len(m.query_ids), len(m.models))
    assert len(set(m.models)) == len(m.models) and len(set(m.query_ids)) == len(m.query_ids)
    return m


def _fresh(tmp_path_factory, name: str) -> str:
    d = tmp_path_factory.mktemp("fz")
    return os.path.join(d, name)


# ---- arbitrary bytes under every extension and every --format --------------------------------
EXTS = (".csv", ".tsv", ".txt", ".jsonl", ".json", ".h5", ".eval", ".parquet", ".log")


@FUZZ
@given(data=st.binary(max_size=2048), ext=st.sampled_from(EXTS),
       fmt=st.sampled_from((None,) + tuple(LOADERS)))
def test_arbitrary_bytes(tmp_path_factory, data, ext, fmt):
    path = _fresh(tmp_path_factory, "x" + ext)
    with open(path, "wb") as f:
        f.write(data)
    check_load(path, fmt)


# ---- CSV: dialects, encodings, cell vocabularies ---------------------------------------------
CELLS = st.sampled_from(["0", "1", "true", "false", "", " 1 ", "NA", "2", "-1", "0.5", "yes",
                         "x", '"', "1,0", "\n", "nan", "é", "\x00"])
NAMES = st.sampled_from(["query_id", "model", "correct", "m1", "m2", "m3", "", "query_id ",
                         "answer", "cost", "\ufeffquery_id", "m1"])
ENCODINGS = ("utf-8", "utf-8-sig", "utf-16", "latin-1", "cp1252")


@FUZZ
@given(header=st.lists(NAMES, min_size=0, max_size=6),
       rows=st.lists(st.lists(CELLS, min_size=0, max_size=7), max_size=12),
       delim=st.sampled_from([",", "\t", ";", "|"]),
       quoting=st.sampled_from([csv.QUOTE_MINIMAL, csv.QUOTE_ALL, csv.QUOTE_NONNUMERIC]),
       encoding=st.sampled_from(ENCODINGS), ext=st.sampled_from((".csv", ".tsv")),
       fmt=st.sampled_from((None, "wide", "long-csv")))
def test_csv_dialects(tmp_path_factory, header, rows, delim, quoting, encoding, ext, fmt):
    buf = io.StringIO()
    w = csv.writer(buf, delimiter=delim, quoting=quoting, lineterminator="\r\n")
    w.writerow(header)
    for r in rows:
        w.writerow(r)
    path = _fresh(tmp_path_factory, "t" + ext)
    with open(path, "wb") as f:
        f.write(buf.getvalue().encode(encoding, errors="replace"))
    check_load(path, fmt)


def test_wide_csv_with_bom_is_detected(tmp_path):
    path = tmp_path / "excel.csv"
    path.write_bytes(b"\xef\xbb\xbfquery_id,a,b\r\nq1,1,0\r\nq2,0,0\r\n")
    m = load_matrix(path)
    assert m.models == ("a", "b") and m.query_ids == ("q1", "q2")


# ---- JSON / JSONL structures in every JSON-reading layout -----------------------------------
KEYS = st.sampled_from(["query_id", "model", "correct", "doc_id", "acc", "exact_match", "filter",
                        "spec", "run_id", "type", "data", "evaluation_id", "sample_id",
                        "evaluation", "schema_version", "model_id", "evaluation_name", "version",
                        "eval", "samples", "results", "scores", "score", "id", "target",
                        "resps", "filtered_resps", "instance_id", "stats", "name", "value"])
SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-3, 3),
                    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=6))
JSON = st.recursive(SCALARS, lambda kids: st.one_of(
    st.lists(kids, max_size=4), st.dictionaries(KEYS, kids, max_size=6)), max_leaves=25)
RECORDS = st.lists(st.one_of(st.dictionaries(KEYS, JSON, max_size=8), JSON), max_size=8)


def _jsonl(records) -> str:
    return "\n".join(json.dumps(r, allow_nan=True) for r in records) + "\n"


@FUZZ
@given(records=RECORDS, ext=st.sampled_from((".jsonl", ".log", ".json")),
       fmt=st.sampled_from((None, "long-jsonl", "lm-eval", "openai-evals", "eee", "inspect")))
def test_jsonl_records(tmp_path_factory, records, ext, fmt):
    path = _fresh(tmp_path_factory, "r" + ext)
    with open(path, "w", encoding="utf-8") as f:
        f.write(json.dumps(records[0] if records else {}) if ext == ".json" else _jsonl(records))
    check_load(path, fmt)


@FUZZ
@given(per_model=st.lists(RECORDS, min_size=1, max_size=3),
       layout=st.sampled_from(["lm-eval", "helm", "inspect", "eee", "solved"]))
def test_folder_layouts(tmp_path_factory, per_model, layout):
    root = tmp_path_factory.mktemp("layout")
    for i, records in enumerate(per_model):
        d = root / f"m{i}"
        d.mkdir()
        if layout == "lm-eval":
            (d / "samples_task_2024-01-01T00-00-00.000.jsonl").write_text(_jsonl(records))
        elif layout == "helm":
            (d / "per_instance_stats.json").write_text(json.dumps(records))
            (d / "run_spec.json").write_text(json.dumps(records[0] if records else {}))
        elif layout == "inspect":
            head = {"version": 2, "eval": records[0] if records else {}, "samples": records}
            (d / "log.json").write_text(json.dumps(head))
        elif layout == "eee":
            (d / f"m{i}_samples.jsonl").write_text(_jsonl(records))
        else:
            (root / "universe.txt").write_text("q1\nq2\nq3\n")
            (root / f"m{i}.json").write_text(json.dumps(records))
    check_load(str(root))


def test_symlink_loop_folder_returns(tmp_path):
    """A folder whose symbolic links form a loop is walked once (links not followed)."""
    d = tmp_path / "runs" / "m1"
    d.mkdir(parents=True)
    (d / "up").symlink_to("..")
    (d / "self").symlink_to(".")
    (tmp_path / "runs" / "loop").symlink_to(tmp_path / "runs")
    with pytest.raises(InputError, match="none of the known layouts"):
        with hang_guard(30, what="loader"):
            load_matrix(tmp_path / "runs")


# ---- damaged binary formats: HDF5, Parquet, Inspect .eval zip ---------------------------------
@pytest.fixture(scope="module")
def good_files(tmp_path_factory):
    from cofail_jax._src.io.export import save_matrix

    d = tmp_path_factory.mktemp("good")
    rng = np.random.default_rng(0)
    m = OutcomeMatrix(correct=rng.random((40, 4)) < 0.6,
                      query_ids=tuple(f"q{i}" for i in range(40)),
                      models=("a", "b", "c", "d"), source="fuzz")
    out = {}
    for ext, fmt in ((".h5", "h5"), (".parquet", "parquet")):
        path = str(d / ("good" + ext))
        try:
            save_matrix(m, path, fmt)
        except (ImportError, InputError):
            continue
        with open(path, "rb") as f:
            out[ext] = f.read()
    zbuf = io.BytesIO()
    import zipfile

    with zipfile.ZipFile(zbuf, "w") as z:
        z.writestr("header.json", json.dumps({"eval": {"task": "t", "model": "a"}}))
        z.writestr("samples/1_epoch_1.json", json.dumps({"id": 1, "scores": {"s": {"value": "C"}}}))
    out[".eval"] = zbuf.getvalue()
    return out


@FUZZ
@given(ext=st.sampled_from((".h5", ".parquet", ".eval")), start=st.floats(0, 1),
       length=st.sampled_from([1, 16, 256, 4096]), xor=st.integers(1, 255),
       truncate=st.booleans())
def test_damaged_binary(tmp_path_factory, good_files, ext, start, length, xor, truncate):
    if ext not in good_files:
        pytest.skip(f"no writer for {ext}")
    data = bytearray(good_files[ext])
    i0 = int(start * (len(data) - 1))
    if truncate:
        data = data[:i0]
    else:
        for i in range(i0, min(len(data), i0 + length)):
            data[i] ^= xor
    path = _fresh(tmp_path_factory, "d" + ext)
    with open(path, "wb") as f:
        f.write(bytes(data))
    check_load(path)
