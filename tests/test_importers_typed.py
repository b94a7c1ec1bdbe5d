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
