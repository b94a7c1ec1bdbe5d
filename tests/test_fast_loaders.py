"""The msgspec fast paths (issue 17) against the dict-walking paths they shortcut: the
same matrix, metadata and notes on every importer fixture, and the dict path's located
message when the typed decode meets something it does not handle."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest

from cofail_jax import load_matrix
from cofail_jax._src.io import typed
from cofail_jax._src.io.formats import lmeval

FIX = os.path.join(os.path.dirname(__file__), "fixtures", "importers")
CASES = [
    ("inspect", {}),
    ("inspect", {"partial": "missing", "noanswer": "correct", "missing": "drop-queries"}),
    ("inspect_upstream/json", {}),
    ("inspect_upstream/eval", {}),
    ("eee", {}),
    ("eee030/converted", {}),
    ("eee030/converted", {"metric": "acc_norm"}),
    ("helm", {}),
    ("openai_evals", {}),
    ("parquet", {}),
]


def _load(path, fast, monkeypatch, **kw):
    monkeypatch.setattr(typed, "USE_MSGSPEC", fast)
    return load_matrix(path, **kw)


def _same(a, b):
    assert a.query_ids == b.query_ids and a.models == b.models
    np.testing.assert_array_equal(a.correct, b.correct)
    assert (a.samples is None) == (b.samples is None)
    if a.samples is not None:
        np.testing.assert_array_equal(a.samples, b.samples)
    for ga, gb in ((a.cell_meta, b.cell_meta), (a.query_meta, b.query_meta),
                   (a.sample_meta, b.sample_meta)):
        assert sorted(ga) == sorted(gb)
        for c in ga:
            va, vb = np.asarray(ga[c]), np.asarray(gb[c])
            if va.dtype.kind == "f":
                np.testing.assert_array_equal(va, vb)
            else:
                assert va.tolist() == vb.tolist(), c
    assert a.notes == b.notes


@pytest.mark.parametrize(("name", "kw"), CASES)
def test_typed_path_matches_dict_path(name, kw, monkeypatch):
    pytest.importorskip("msgspec")
    path = os.path.join(FIX, name)
    if not os.path.exists(path):
        pytest.skip(f"no fixture {name}")
    _same(_load(path, True, monkeypatch, **kw), _load(path, False, monkeypatch, **kw))


def _inspect_logs(d, samples):
    """Two models' .json logs in folder ``d`` with the same samples."""
    d.mkdir()
    for j in range(2):
        (d / f"m{j}.json").write_text(json.dumps(
            {"version": 2, "status": "success", "eval": {"task": "t", "model": f"org/m{j}"},
             "samples": samples}))
    return str(d)


def test_irregular_sample_falls_back_to_the_located_message(tmp_path, monkeypatch):
    """A sample the typed walk rejects (scores as a list) is read the dict way, whose
    message names the sample; a plain irregularity the dict way accepts (an input that
    is an object) loads the same either way."""
    bad = _inspect_logs(tmp_path / "bad", [
        {"id": 1, "scores": {"s": {"value": "C"}}},
        {"id": 2, "scores": ["C"]},
    ])
    msgs = []
    for fast in (True, False):
        with pytest.raises(Exception) as e:
            _load(bad, fast, monkeypatch)
        msgs.append(str(e.value))
    assert msgs[0] == msgs[1] and "samples[1]" in msgs[0] and "'scores'" in msgs[0]
    odd = _inspect_logs(tmp_path / "odd", [
        {"id": 1, "input": {"x": 1}, "epoch": 1, "scores": {"s": {"value": 1}}},
        {"id": 2, "input": "q", "scores": {"s": {"value": "I", "answer": 7}}},
    ])
    _same(_load(odd, True, monkeypatch), _load(odd, False, monkeypatch))


LONG = """query_id,model,correct,answer,cost,prompt,sample,domain
 q1 ,a,1,x,0.5,why?,,math
q1,b,0,y,,why?,0,
q2,a,true,,1e-3,,,bio
q2,b,NA,z,2,how?,,
q1,a,0,w,,,1,
"""


def _long_both(path, monkeypatch, **kw):
    from cofail_jax._src.io.formats import long_csv

    fast = load_matrix(str(path), **kw)
    monkeypatch.setattr(long_csv, "read_long_csv", lambda *a, **k: None)
    return fast, load_matrix(str(path), **kw)


def test_long_csv_through_pyarrow_matches_the_csv_module(tmp_path, monkeypatch):
    pytest.importorskip("pyarrow")
    from cofail_jax._src.io.tables import read_long_csv

    p = tmp_path / "long.csv"
    p.write_text(LONG)
    assert read_long_csv(str(p), missing="drop-queries") is not None  # the fast path ran
    _same(*_long_both(p, monkeypatch, missing="drop-queries"))
    short = tmp_path / "short.csv"  # a short row: pyarrow refuses, the csv module reads it
    short.write_text(LONG.replace("q2,b,NA,z,2,how?,,", "q2,b,1"))
    assert read_long_csv(str(short)) is None
    _same(*_long_both(short, monkeypatch))


@pytest.mark.parametrize("bad", ["q2,b,maybe,z,2,how?,,", "q2,b,1,z,2,how?,x,", ",b,1,z,2,,,",
                                 "q2,b,1,z,cheap,how?,,", "q1,b,1,z,2,how?,,"])
def test_long_csv_problems_keep_the_csv_module_message(bad, tmp_path, monkeypatch):
    p = tmp_path / "bad.csv"
    p.write_text(LONG.replace("q2,b,NA,z,2,how?,,", bad))
    msgs = []
    for fast in (True, False):
        if not fast:
            from cofail_jax._src.io.formats import long_csv

            monkeypatch.setattr(long_csv, "read_long_csv", lambda *a, **k: None)
        with pytest.raises(Exception) as e:
            load_matrix(str(p), missing="error")
        msgs.append(str(e.value))
    assert msgs[0] == msgs[1] and "row" in msgs[0]


def _lmeval_pool(d, rows_of_model):
    """lm-eval sample files under ``d``, one folder per model; ``rows_of_model`` maps a
    model to its file's lines (dicts are written as JSON, strings as they are)."""
    d.mkdir()
    for model, rows in rows_of_model.items():
        (d / model).mkdir()
        (d / model / "samples_t_2024-11-05T10-00-00.000000.jsonl").write_text("\n".join(
            r if isinstance(r, str) else json.dumps(r) for r in rows) + "\n")
    return str(d)


def _spy(monkeypatch, module, name):
    """Wrap ``module.name`` to record how each call ended: "ok" or the exception's type
    (so a test can tell the typed path ran, or fell back)."""
    calls = []
    inner = getattr(module, name)

    def spy(*a, **k):
        try:
            out = inner(*a, **k)
        except Exception as e:
            calls.append(type(e).__name__)
            raise
        calls.append("ok")
        return out

    monkeypatch.setattr(module, name, spy)
    return calls


def _lm_row(i, ok, **extra):
    return {"doc_id": i, "doc": {"q": f"q{i}", "big": list(range(5))}, "target": f"t{i}",
            "arguments": {"gen_args_0": {"arg_0": f"prompt {i}", "arg_1": "x"}},
            "resps": [[f" a{i}"]], "filtered_resps": [f"a{i}"], "exact_match": float(ok),
            **extra}


LM_REGULAR = {
    "org__m1": [_lm_row(i, i % 2) for i in range(4)],
    "org__m2": [_lm_row(i, i % 3 == 0, acc_norm=1, filtered_resps=[[1, 2]],
                        resps=[[{"k": i}]], target=i) for i in range(4)],
    "m3": [{"doc_id": f" {i} ", "acc": bool(i % 2), "target": None,
            "arguments": [[f"ctx {i}", " c"]], "resps": [], "filtered_resps": [None]}
           for i in range(3, -1, -1)],
}


@pytest.mark.parametrize("kw", [{}, {"metric": "exact_match"}, {"missing": "drop-queries"}])
def test_lmeval_typed_matches_dict_path(kw, tmp_path, monkeypatch):
    """Mixed metrics between files, targets that are not strings, responses that are
    lists or objects, both prompt layouts, doc ids to strip: the same matrix, metadata
    (and its column order) and notes from the typed and the record-by-record read."""
    pytest.importorskip("msgspec")
    rows = dict(LM_REGULAR)
    if kw.get("metric"):
        rows["m3"] = [dict(r, exact_match=1, doc_id=r["doc_id"].strip()) for r in rows["m3"]]
    path = _lmeval_pool(tmp_path / "p", rows)
    calls = _spy(monkeypatch, lmeval, "_load_lmeval_typed")
    fast, slow = _load(path, True, monkeypatch, **kw), _load(path, False, monkeypatch, **kw)
    assert calls == ["ok"]  # the typed read ran (and not at all with msgspec off)
    _same(fast, slow)
    assert list(fast.cell_meta) == list(slow.cell_meta)
    assert list(fast.query_meta) == list(slow.query_meta)


def test_lmeval_filters_typed_matches_dict_path(tmp_path, monkeypatch):
    pytest.importorskip("msgspec")
    rows = {m: [_lm_row(i, (i + j + (f == "b")) % 2, filter=f) for i in range(3)
                for f in ("a", "b")] for j, m in enumerate(("m1", "m2"))}
    rows["m1"].append(_lm_row(3, 0))  # a line without a filter
    path = _lmeval_pool(tmp_path / "p", rows)
    rows["m3"] = [_lm_row(i, 1) for i in range(3)]  # a file without filters
    path3 = _lmeval_pool(tmp_path / "p3", rows)
    calls = _spy(monkeypatch, lmeval, "_load_lmeval_typed")
    for p, kw in ((path, {"filter": "b", "missing": "drop-queries"}),
                  (path3, {"missing": "drop-queries"})):
        _same(_load(p, True, monkeypatch, **kw), _load(p, False, monkeypatch, **kw))
    assert calls == ["ok", "ok"]


BAD_LINES = [
    ("blank line inside", lambda rows: rows[:1] + ["   "] + rows[1:]),
    ("two objects on a line", lambda rows: [json.dumps(rows[0]) + json.dumps(rows[1])] + rows[2:]),
    ("metric not 0/1", lambda rows: rows[:2] + [dict(rows[2], exact_match=0.5)] + rows[3:]),
    ("metric null", lambda rows: rows[:2] + [dict(rows[2], exact_match=None)] + rows[3:]),
    ("no doc_id", lambda rows: rows[:1] + [{k: v for k, v in rows[1].items() if k != "doc_id"}]
     + rows[2:]),
    ("no metric", lambda rows: rows[:1] + [{"doc_id": 1}] + rows[2:]),
    ("metric differs", lambda rows: rows[:1] + [dict(rows[1], acc=1)] + rows[2:]),
    ("not an object", lambda rows: rows[:1] + ["[1, 2]"] + rows[2:]),
    ("bad JSON", lambda rows: rows[:1] + ['{"doc_id": 1,'] + rows[2:]),
    ("duplicate doc", lambda rows: rows + [rows[0]]),
    ("lone CR", lambda rows: [json.dumps(rows[0]) + "\r" + json.dumps(rows[1])] + rows[2:]),
    ("NaN", lambda rows: rows[:1] + ['{"doc_id": 1, "exact_match": NaN}'] + rows[2:]),
    ("empty doc_id", lambda rows: rows[:1] + [dict(rows[1], doc_id="  ")] + rows[2:]),
]


@pytest.mark.parametrize(("what", "edit"), BAD_LINES, ids=[b[0] for b in BAD_LINES])
def test_lmeval_irregular_lines_keep_the_dict_path(what, edit, tmp_path, monkeypatch):
    """Anything the typed read does not take as regular goes back to the record-by-record
    read: the same matrix when that accepts it, else the same message."""
    pytest.importorskip("msgspec")
    rows = {"m1": [_lm_row(i, i % 2) for i in range(4)],
            "m2": edit([_lm_row(i, 1) for i in range(4)])}
    path = _lmeval_pool(tmp_path / "p", rows)
    calls = _spy(monkeypatch, lmeval, "_load_lmeval_typed")
    out = []
    for fast in (True, False):
        try:
            out.append(_load(path, fast, monkeypatch))
        except Exception as e:  # noqa: BLE001 - compared below
            out.append(f"{type(e).__name__}: {e}")
    assert len(calls) == 1 and calls[0] != "ok"  # the typed read gave up
    if isinstance(out[0], str) or isinstance(out[1], str):
        assert out[0] == out[1]
    else:
        _same(*out)


def test_builder_query_meta_last_nonempty_and_first_duplicate():
    """matrix_from_columns keeps each query's last non-empty value (also when the last
    record's is empty) and names the first record repeating an earlier one."""
    from cofail_jax import InputError
    from cofail_jax._src.io.tables import matrix_from_columns

    qs = ["a", "b", "a", "b", "a", "b"]
    ms = ["m1", "m1", "m2", "m2", "m3", "m3"]
    codes = np.array([1, 0, 1, 1, 0, 0], np.int8)
    prompt = ["pa1", "pb1", None, "pb2", "", 7]
    m = matrix_from_columns(qs, ms, codes, source="t", query={"prompt": prompt,
                                                             "domain": [None] * 6})
    assert m.query_meta["prompt"].tolist() == ["pa1", "7"] and "domain" not in m.query_meta
    m = matrix_from_columns(qs, ms, codes, source="t", query={"prompt": ["x", "y"] * 3})
    assert m.query_meta["prompt"].tolist() == ["x", "y"]
    with pytest.raises(InputError, match="duplicate record for query 'a', model 'm3'") as e:
        matrix_from_columns(qs + ["a", "b"], ms + ["m3", "m1"], np.r_[codes, 1, 1], source="t")
    assert "record 7" in str(e.value)


def _eee_line(q, model, ok, **extra):
    rec = {"schema_version": "0.3.0", "evaluation_id": "e", "model_id": model,
           "evaluation_name": "t", "sample_id": q, "evaluation": {"is_correct": ok}}
    rec.update(extra)
    return json.dumps({k: v for k, v in rec.items() if v is not ...}) + "\n"


@pytest.mark.parametrize("odd", [
    {},  # plain, with a query whose last record has an empty prompt
    {"input": "not an object"},
    {"metadata": {"epoch": "2"}, "error": "timeout"},
    {"answer_attribution": [{"extracted_value": 1, "is_terminal": False},
                            {"extracted_value": "b", "is_terminal": True}],
     "token_usage": {"input_tokens": 3, "output_tokens": "4", "total_tokens": 7},
     "performance": {"latency_ms": 12}, "output": {"raw": "plain"}},
    {"evaluation": {"is_correct": "yes"}},  # an error, named the same both ways
    {"model_id": None},
    {"sample_id": ...},  # a required key missing: the dict read's message
    {"input": {"raw": "p", "ESCAPED": ["a"]}},  # a key spelled with an escape (below)
])
def test_eee_typed_matches_dict_path(odd, tmp_path, monkeypatch):
    pytest.importorskip("msgspec")
    path = tmp_path / "x_samples.jsonl"
    lines = [_eee_line("q1", "a", True, input={"raw": "p1", "reference": ["r"]}),
             _eee_line("q1", "b", False, input={"raw": ""}),
             _eee_line("q2", "a", None, input={"raw": "p2", "choices": ["x", "y"]}),
             _eee_line("q2", "b", True, **odd)]
    path.write_text("".join(lines).replace('"ESCAPED"', '"\\u0063hoices"'))
    got = []
    for fast in (True, False):
        try:
            got.append(_load(str(path), fast, monkeypatch, missing="drop-queries"))
        except Exception as e:  # noqa: BLE001
            got.append(str(e))
    if isinstance(got[0], str) or isinstance(got[1], str):
        assert got[0] == got[1]
    else:
        _same(got[0], got[1])


def _helm_run(root, model, entries):
    run = root / f"t:model={model}"
    run.mkdir(parents=True)
    (run / "run_spec.json").write_text(json.dumps({"name": f"t:model={model}",
                                                   "adapter_spec": {"model": f"org/{model}"}}))
    (run / "per_instance_stats.json").write_text(json.dumps(entries))


def _helm_entry(i, mean, **extra):
    e = {"instance_id": f"id{i}", "train_trial_index": 0,
         "stats": [{"name": {"name": "exact_match", "split": "test"}, "count": 1, "sum": mean,
                    "mean": mean},
                   {"name": {"name": "num_output_tokens", "split": "test"}, "mean": 3}]}
    e.update(extra)
    return e


@pytest.mark.parametrize("odd", [
    {},
    {"perturbation": {"name": "typo"}},
    {"stats": [{"name": "exact_match", "count": 2, "sum": 2.0, "mean": None}]},
    {"stats": [{"name": {"name": "f1", "split": "test"}, "mean": 1.0},
               {"name": {"name": "exact_match", "split": "valid"}, "mean": 0.0}]},
    {"stats": [{"name": {"name": "exact_match"}, "mean": "high"}]},  # an error, both ways
    {"train_trial_index": 1},
])
def test_helm_and_openai_typed_match_dict_path(odd, tmp_path, monkeypatch):
    pytest.importorskip("msgspec")
    for j, model in enumerate(("a", "b")):
        _helm_run(tmp_path / "helm", model, [_helm_entry(0, 1.0), _helm_entry(1, float(j)),
                                             _helm_entry(2, 0.0, **(odd if j else {}))])
    runs = tmp_path / "oai"
    runs.mkdir()
    for j, model in enumerate(("a", "b")):
        lines = [{"spec": {"completion_fns": [model], "eval_name": "t", "run_id": f"r{j}"}}]
        lines += [{"run_id": f"r{j}", "event_id": 2 * i, "sample_id": f"t.{i}",
                   "type": "sampling", "data": {"prompt": [{"role": "user",
                                                            "content": f"q{i}"}]}}
                  for i in range(3)]
        lines += [{"run_id": f"r{j}", "event_id": 2 * i + 1, "sample_id": f"t.{i % 3}",
                   "type": "match", "data": {"correct": bool((i + j) % 2), "picked": i,
                                             "expected": ["x", "y"] if i else "x"}}
                  for i in range(4 if odd else 3)]
        lines.append({"final_report": {"accuracy": 0.5}})
        (runs / f"r{j}.jsonl").write_text("".join(json.dumps(x) + "\n" for x in lines))
    for path in (tmp_path / "helm", runs):
        got = []
        for fast in (True, False):
            try:
                got.append(_load(str(path), fast, monkeypatch, missing="drop-queries"))
            except Exception as e:  # noqa: BLE001
                got.append(str(e))
        if isinstance(got[0], str) or isinstance(got[1], str):
            assert got[0] == got[1]
        else:
            _same(got[0], got[1])


@pytest.mark.parametrize("name", ["inspect_upstream/json", "inspect_upstream/eval", "eee",
                                  "openai_evals"])
def test_metadata_decoded_on_first_read(name, tmp_path, monkeypatch):
    """The fast paths decode only the matrix at load; the metadata is decoded (the
    files read again) when first read, the dict path's values; copies, pickles and
    replaced matrices keep it; a file changed since the load is an error naming it."""
    import pickle
    import shutil

    from cofail_jax import OutcomeMatrix
    from cofail_jax._src.errors import InputError
    from cofail_jax._src.io.tables.lazy import LazyMeta

    pytest.importorskip("msgspec")
    src = os.path.join(FIX, name)
    if not os.path.exists(src):
        pytest.skip(f"no fixture {name}")
    path = str(tmp_path / "logs")
    shutil.copytree(src, path)
    fast = _load(path, True, monkeypatch)
    assert isinstance(fast.cell_meta, LazyMeta) and fast.cell_meta.pending
    noted = fast.with_notes("n")
    assert noted.cell_meta.pending and repr(noted).startswith("OutcomeMatrix(")
    _same(noted, _load(path, False, monkeypatch).with_notes("n"))
    assert not fast.cell_meta.pending and len(fast.cell_meta) > 0
    back = pickle.loads(pickle.dumps(fast))
    assert type(back) is OutcomeMatrix and type(back.cell_meta) is dict
    _same(back, fast)
    sub = fast.select_models([1, 0])
    assert sub.cell_meta.keys() == fast.cell_meta.keys()
    again = _load(path, True, monkeypatch)
    changed = sorted(os.path.join(r, f) for r, _, fs in os.walk(path) for f in fs)[0]
    with open(changed, "ab") as f:
        f.write(b"\n")
    with pytest.raises(InputError, match="has changed"):
        again.cell_meta.get("answer")
