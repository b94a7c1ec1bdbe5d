"""Loaders: each format on a small file, validation messages, HDF5 round trip."""

import json

import numpy as np
import pytest

from cofail_jax import InputError, OutcomeMatrix, from_pandas, load_matrix, save_matrix_h5, to_pandas


def write(path, text):
    path.write_text(text)
    return str(path)


def test_wide_csv(tmp_path):
    f = write(tmp_path / "w.csv", "query_id,a,b,c\nq1,1,0,0\nq2,0,0,0\nq3,true,FALSE,1\n")
    m = load_matrix(f)
    assert m.models == ("a", "b", "c") and m.query_ids == ("q1", "q2", "q3")
    np.testing.assert_array_equal(m.correct, [[1, 0, 0], [0, 0, 0], [1, 0, 1]])
    assert m.all_wrong.sum() == 1


def test_long_csv_with_extras(tmp_path):
    f = write(tmp_path / "l.csv",
              "query_id,model,correct,answer,domain,cost\n"
              "q1,a,1,42,alg,0.5\nq1,b,0,41,alg,0.1\nq2,a,0,x,geo,0.5\nq2,b,1,y,geo,0.1\n")
    m = load_matrix(f)
    assert m.models == ("a", "b")
    np.testing.assert_array_equal(m.correct, [[1, 0], [0, 1]])
    assert m.cell_meta["answer"][0, 1] == "41"
    assert m.cell_meta["cost"][1, 1] == 0.1
    assert list(m.query_meta["domain"]) == ["alg", "geo"]


def test_long_jsonl_samples(tmp_path):
    recs = [{"query_id": q, "model": mo, "correct": (s + len(q)) % 2, "sample": s}
            for q in ("q1", "q22") for mo in ("a", "b") for s in (0, 1, 2)]
    f = write(tmp_path / "l.jsonl", "\n".join(json.dumps(r) for r in recs))
    m = load_matrix(f)
    assert m.samples.shape == (3, 2, 2)
    np.testing.assert_array_equal(m.correct, m.samples[0] == 1)


def test_solved_folder(tmp_path):
    d = tmp_path / "swe"
    d.mkdir()
    write(d / "universe.txt", "i1\ni2\ni3\n")
    write(d / "sysA.txt", "i1\ni3\n")
    write(d / "sysB.json", json.dumps({"resolved": ["i2"]}))
    (d / "sysC" / "results").mkdir(parents=True)
    write(d / "sysC" / "results" / "results.json", json.dumps({"resolved": []}))
    m = load_matrix(str(d))
    assert m.models == ("sysA", "sysB", "sysC")
    np.testing.assert_array_equal(m.correct, [[1, 0, 0], [0, 1, 0], [1, 0, 0]])
    write(d / "sysD.txt", "i9\n")
    with pytest.raises(InputError, match="not in the universe"):
        load_matrix(str(d))


def test_lmeval(tmp_path):
    for model, accs in (("modelA", [1, 0, 1]), ("modelB", [0, 0, 1])):
        (tmp_path / model).mkdir()
        lines = [json.dumps({"doc_id": i, "target": "7", "filtered_resps": [str(i)], "acc": a})
                 for i, a in enumerate(accs)]
        write(tmp_path / model / "samples_arc_easy_2024-06-01T12-00-00.123.jsonl", "\n".join(lines))
    m = load_matrix(str(tmp_path))
    assert m.models == ("modelA", "modelB")
    np.testing.assert_array_equal(m.correct, [[1, 0], [0, 0], [1, 1]])
    assert m.cell_meta["answer"][2, 0] == "2"
    assert m.query_meta["reference"][0] == "7"


def test_h5_round_trip(tmp_path):
    m = OutcomeMatrix(correct=np.array([[1, 0], [0, 0], [1, 1]], bool), query_ids=("x", "y", "z"),
                      models=("m1", "m2"), query_meta={"domain": np.array(["a", "b", "a"], object)},
                      cell_meta={"cost": np.arange(6.0).reshape(3, 2)})
    path = save_matrix_h5(m, str(tmp_path / "m.h5"))
    back = load_matrix(path)
    np.testing.assert_array_equal(back.correct, m.correct)
    assert back.models == m.models and back.query_ids == m.query_ids
    assert list(back.query_meta["domain"]) == ["a", "b", "a"]
    np.testing.assert_array_equal(back.cell_meta["cost"], m.cell_meta["cost"])


@pytest.mark.parametrize("text, match", [
    ("query_id,a,b\nq1,1,2\n", r"row 2, column 'b'.*not 0/1"),
    ("query_id,a,b\nq1,1,\n", r"missing cell"),
    ("query_id,a,b\nq1,1,0\nq1,0,0\n", r"duplicate query id 'q1'"),
    ("query_id,a,a\nq1,1,0\n", r"duplicate model name 'a'"),
    ("query_id,a\nq1,1\n", r"at least 2 models"),
    ("query_id,a,b\n", r"no queries"),
    ("id,a,b\nq1,1,0\n", r"cannot tell the format"),
])
def test_bad_wide(tmp_path, text, match):
    f = write(tmp_path / "bad.csv", text)
    with pytest.raises(InputError, match=match) as e:
        load_matrix(f)
    assert "bad.csv" in str(e.value)


def test_missing_policies(tmp_path):
    f = write(tmp_path / "m.csv", "query_id,a,b,c\nq1,1,,0\nq2,0,1,1\nq3,1,1,NA\n")
    m = load_matrix(f, missing="drop-queries")
    assert m.query_ids == ("q2",) and any("dropped 2 queries" in n for n in m.notes)
    with pytest.raises(InputError, match="at least 2 models"):
        load_matrix(f, missing="drop-models")  # only model a survives
    g = write(tmp_path / "m2.csv", "query_id,a,b,c\nq1,1,,0\nq2,0,1,1\n")
    m = load_matrix(g, missing="drop-models")
    assert m.models == ("a", "c") and any("dropped 1 models" in n for n in m.notes)


def test_degenerate_models_flagged(tmp_path):
    f = write(tmp_path / "d.csv", "query_id,a,b,c\nq1,1,0,1\nq2,1,0,0\n")
    m = load_matrix(f)
    assert m.degenerate_models() == [("a", "always right"), ("b", "always wrong")]


def test_pandas_round_trip():
    m = OutcomeMatrix(correct=np.array([[1, 0], [0, 1]], bool), query_ids=("q1", "q2"), models=("a", "b"))
    for layout in ("wide", "long"):
        back = from_pandas(to_pandas(m, layout))
        np.testing.assert_array_equal(back.correct, m.correct)
        assert back.models == m.models
