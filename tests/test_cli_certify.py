"""cofail certify end to end: the shared files, JSON = table = HDF5, bad input -> exit 2."""

import json
import os

import h5py
import pytest

from cofail_jax.cli.main import main


def run(capsys, *argv):
    rc = main(list(argv))
    out, err = capsys.readouterr()
    return rc, out, err


def test_certify_shared_files_json_and_h5(shared_data, tmp_path, capsys):
    names = sorted(n for n in os.listdir(shared_data) if n.endswith(".csv"))
    assert len(names) == 3, names  # the three real matrices of tests/fixtures/shared
    expected_K = {"mmlupro_mmlu-pro.csv": 664, "zeroeval_gsm8k.csv": 5, "zeroeval_math-l5.csv": 18}
    for name in names:
        path = os.path.join(shared_data, name)
        out_h5 = tmp_path / (name + ".h5")
        rc, text, _ = run(capsys, "certify", path, "--out", str(out_h5))
        assert rc == 0
        for word in ("queries n", "all-wrong K", "beta = K/n", "single best", "oracle gain G",
                     "certified gain bound"):
            assert word in text
        rc, js, _ = run(capsys, "certify", path, "--json")
        doc = json.loads(js)
        assert doc["schema"] == "cofail_jax.json/1"
        r = doc["result"]
        assert f"{r['beta']:.4f}" in text and f"{r['gain_bound']:.4f}" in text
        with h5py.File(out_h5) as f:
            c = {k: v[()] for k, v in f["certificate"].items() if v.ndim == 0}  # scalars
            assert c["K"] == r["K"] and c["n"] == r["n"]
            assert c["gain_bound"] == pytest.approx(r["gain_bound"], abs=0)
            assert c["beta_ci_lower"] == pytest.approx(r["beta_ci"][0], abs=0)
            assert "input_sha256" in f.attrs and "jax_version" in f.attrs
        assert r["K"] == expected_K[name]  # the all-wrong counts of the fixtures' README


def test_certify_default_example(capsys):
    rc, text, _ = run(capsys, "certify")
    assert rc == 0 and "all-wrong K" in text and "18" in text


def test_counts_mode(capsys):
    rc, js, _ = run(capsys, "certify", "--K", "0", "--n", "330", "--asb", "0.988",
                    "--pool-size", "67", "--json")
    r = json.loads(js)["result"]
    assert rc == 0
    assert (round(r["beta_ci"][1], 3), round(r["asb_lower"], 3), round(r["gain_bound"], 3)) == (
        0.011, 0.952, 0.048)


@pytest.mark.parametrize("content, argv_extra, match", [
    ("query_id,a,b\nq1,1,x\n", [], "not 0/1"),
    ("query_id,a,b\nq1,1,\n", [], "missing cell"),
    ("query_id,a,b\nq1,1,0\nq1,1,1\n", [], "duplicate query id"),
    ("query_id,a,a\nq1,1,0\n", [], "duplicate model name"),
    ("query_id,a\nq1,1\n", [], "at least 2 models"),
    ("query_id,a,b\n", [], "no queries"),
    ("query_id,a,b\nq1,1,0\n", ["--models", "a,zz"], "unknown model 'zz'"),
    ("query_id,a,b\nq1,1,0\n", ["--delta", "2"], "--delta"),
])
def test_bad_input_exit_2(tmp_path, capsys, content, argv_extra, match):
    f = tmp_path / "bad.csv"
    f.write_text(content)
    out = tmp_path / "never.h5"
    rc, _, err = run(capsys, "certify", str(f), "--out", str(out), *argv_extra)
    assert rc == 2
    assert match in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1
    assert not out.exists()
    assert [p.name for p in tmp_path.iterdir()] == ["bad.csv"]


def test_missing_file(capsys, tmp_path):
    rc, _, err = run(capsys, "certify", str(tmp_path / "nope.csv"))
    assert rc == 2 and "no such file" in err
