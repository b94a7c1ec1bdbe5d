"""The msgspec fast paths (issue 17) against the dict-walking paths they shortcut: the
same matrix, metadata and notes on every importer fixture, and the dict path's located
message when the typed decode meets something it does not handle."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest

from cofail_jax import load_matrix
from cofail_jax._src.io.importers import _common

FIX = os.path.join(os.path.dirname(__file__), "fixtures", "importers")
CASES = [
    ("inspect", {}),
    ("inspect", {"partial": "missing", "noanswer": "correct", "missing": "drop-queries"}),
    ("inspect_upstream/json", {}),
    ("inspect_upstream/eval", {}),
    ("eee", {}),
    ("helm", {}),
    ("openai_evals", {}),
    ("parquet", {}),
]


def _load(path, typed, monkeypatch, **kw):
    monkeypatch.setattr(_common, "USE_MSGSPEC", typed)
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
    for typed in (True, False):
        with pytest.raises(Exception) as e:
            _load(bad, typed, monkeypatch)
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
    from cofail_jax._src.io import formats

    fast = load_matrix(str(path), **kw)
    monkeypatch.setattr(formats, "read_long_csv", lambda *a, **k: None)
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
            from cofail_jax._src.io import formats

            monkeypatch.setattr(formats, "read_long_csv", lambda *a, **k: None)
        with pytest.raises(Exception) as e:
            load_matrix(str(p), missing="error")
        msgs.append(str(e.value))
    assert msgs[0] == msgs[1] and "row" in msgs[0]
