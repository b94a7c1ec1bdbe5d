"""cofail audit / regrade / certify --audit end to end: the sheet round trip (the README
example), JSON = table = HDF5, bad sheets exit 2 with one line and leave no file."""

import csv
import json
import os

import h5py
import numpy as np
import pytest

from cofail_jax import load_matrix
from cofail_jax._src.audit.evidence import SHEET_COLUMNS
from cofail_jax.cli.main import main

FIX = os.path.join(os.path.dirname(__file__), "fixtures", "audit")
POOL = os.path.join(FIX, "pool.csv")


def run(capsys, *argv):
    rc = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return rc, out, err


def fill(sheet, verdicts):
    with open(sheet, newline="") as f:
        rows = list(csv.DictReader(f))
    for r in rows:
        r["verdict"] = verdicts.get(r["query_id"], "")
    with open(sheet, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)


def test_audit_sheet_then_certify_audit(tmp_path, capsys):
    sheet = tmp_path / "audit.csv"
    rc, text, _ = run(capsys, "audit", POOL, "--out", sheet, "--no-ratio")
    assert rc == 0
    assert "SUGGESTED classes" in text and "wrong reference" in text and "cofail certify" in text
    with open(sheet, newline="") as f:
        rows = list(csv.DictReader(f))
    assert tuple(rows[0]) == SHEET_COLUMNS
    assert [r["query_id"] for r in rows] == ["g_equiv", "g_extract", "wrong_ref", "trunc", "ambig",
                                            "genuine1", "genuine2"]
    assert all(r["verdict"] == "" for r in rows)
    assert rows[0]["equiv_models"] == "alpha;beta;gamma"
    # the rater adjudicates all but genuine2
    fill(sheet, {"g_equiv": "grader defect", "g_extract": "grader defect",
                 "wrong_ref": "wrong reference", "trunc": "truncation", "ambig": "ambiguous",
                 "genuine1": "genuine"})
    out_h5 = tmp_path / "cert.h5"
    rc, text, _ = run(capsys, "certify", POOL, "--audit", sheet, "--out", out_h5)
    assert rc == 0
    assert "certified gain bound" in text  # the usual certificate is still printed
    for word in ("as graded", "genuine only", "conservative", "beta range 0.0833 .. 0.1538",
                 "1 events not adjudicated"):
        assert word in text
    rc, js, _ = run(capsys, "certify", POOL, "--audit", sheet, "--json")
    doc = json.loads(js)
    a = doc["result"]["audit"]
    assert doc["result"]["K"] == 7 and doc["provenance"]["config"]["audit"] == str(sheet)
    assert (a["genuine_only"]["K"], a["genuine_only"]["n"]) == (1, 12)
    assert (a["conservative"]["K"], a["conservative"]["n"]) == (2, 13)
    assert a["beta_range"] == [1 / 12, 2 / 13]
    with h5py.File(out_h5) as f:
        g = f["audit"]
        assert g["genuine_only"].attrs["beta"] == a["genuine_only"]["beta"]
        assert g["conservative"].attrs["beta_ci_upper"] == a["conservative"]["beta_ci"][1]
        assert g.attrs["n_unadjudicated"] == 1 and "input_sha256" in f.attrs


def test_audit_json_and_h5(tmp_path, capsys):
    h5 = tmp_path / "audit.h5"
    rc, js, _ = run(capsys, "audit", POOL, "--near", "--json", "--h5", h5)
    assert rc == 0
    doc = json.loads(js)
    r = doc["result"]
    assert doc["schema"] == "cofail_jax.json/1" and "input_sha256" in doc["provenance"]
    assert r["n_flagged"] == 8 and r["suggested_counts"] == {
        "grader defect": 2, "wrong reference": 2, "ambiguous": 1, "truncation": 1, "genuine": 2}
    assert len(r["sensitivity"]) == 8 and r["sensitivity"][0]["ratio_status"] == "ok"
    assert r["sensitivity"][7]["beta"] == 0.0
    with h5py.File(h5) as f:
        ids = [x.decode() if isinstance(x, bytes) else x for x in f["evidence/query_id"][()]]
        assert "near" in ids
        np.testing.assert_allclose(f["sensitivity/beta"][()], [s["beta"] for s in r["sensitivity"]])


def test_audit_without_answers(tmp_path, capsys):
    wide = tmp_path / "wide.csv"
    wide.write_text("query_id,a,b,c\nq1,0,0,0\nq2,1,0,1\nq3,0,0,0\nq4,1,1,0\n")
    rc, text, _ = run(capsys, "audit", wide, "--no-ratio", "--out", tmp_path / "s.csv")
    assert rc == 0 and "the input has no answers" in text and "genuine 2" in text


@pytest.mark.parametrize("rows, match", [
    ([("zzz", "genuine")], "row 2: unknown query id 'zzz'"),
    ([("g_equiv", "genuine"), ("trunc", "fake")],
     "row 3, column 'verdict': verdict 'fake' is not allowed"),
])
def test_certify_bad_sheet_exit_2_no_output(tmp_path, capsys, rows, match):
    sheet = tmp_path / "bad.csv"
    with open(sheet, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["query_id", "verdict"])
        w.writerows(rows)
    out = tmp_path / "cert.h5"
    rc, text, err = run(capsys, "certify", POOL, "--audit", sheet, "--out", out)
    assert rc == 2 and text == ""
    assert err.count("\n") == 1 and match in err and "bad.csv" in err
    assert "genuine, grader defect" in err or "unknown" in err
    assert not out.exists() and os.listdir(tmp_path) == ["bad.csv"]


def test_certify_audit_needs_a_file(capsys, tmp_path):
    rc, _, err = run(capsys, "certify", "--K", "3", "--n", "10", "--asb", "0.5", "--audit",
                     tmp_path / "x.csv")
    assert rc == 2 and "--audit" in err


def test_audit_bad_max_artefacts(capsys):
    rc, _, err = run(capsys, "audit", POOL, "--max-artefacts", "99", "--no-ratio")
    assert rc == 2 and "--max-artefacts" in err and "K = 7" in err


def test_regrade_cli(tmp_path, capsys):
    flips, fixed = tmp_path / "flips.csv", tmp_path / "fixed.csv"
    rc, text, _ = run(capsys, "regrade", POOL, "--out", flips, "--matrix-out", fixed)
    assert rc == 0 and "flips wrong -> right      3" in text and "7 -> 6" in text
    with open(flips, newline="") as f:
        rows = list(csv.DictReader(f))
    assert {(r["query_id"], r["model"], r["rule"]) for r in rows} == {
        ("g_equiv", "alpha", "normalized"), ("g_equiv", "beta", "normalized"),
        ("g_equiv", "gamma", "normalized")}
    m = load_matrix(fixed)
    assert m.all_wrong.sum() == 6 and m.correct[m.query_ids.index("g_equiv")].tolist() == [
        True, True, True, False]
    rc, js, _ = run(capsys, "regrade", POOL, "--json", "--no-symbolic")
    r = json.loads(js)["result"]
    assert (r["n_flips"], r["K_before"], r["K_after"], r["n_checked"]) == (3, 7, 6, 68)
    assert r["accuracy_after"]["alpha"] == pytest.approx(10 / 18)


def test_docs_audit_example_matches_the_commands(capsys):
    """The audit page (docs/audit.md) shows real output: every table line it quotes from
    'cofail audit' and 'cofail certify --audit' on the fixture is printed verbatim."""
    page = os.path.join(os.path.dirname(__file__), "..", "docs", "audit.md")
    with open(page, encoding="utf-8") as f:
        section = f.read()
    starts = ("g_equiv", "g_extract", "wrong_ref", "trunc ", "ambig", "genuine1", "genuine2",
              "as graded", "genuine only", "conservative", "beta range", "0  18", "1  17",
              "6  12", "7  11")
    quoted = [ln for block in section.split("```")[1::2] for ln in block.splitlines()
              if ln.startswith(starts)]
    assert len(quoted) >= 15
    rc, out1, _ = run(capsys, "audit", POOL)
    rc2, out2, _ = run(capsys, "certify", POOL, "--audit", os.path.join(FIX, "pool_verdicts.csv"))
    assert rc == rc2 == 0
    printed = set(out1.splitlines()) | set(out2.splitlines())
    for ln in quoted:
        assert ln in printed, ln


def test_audited_matrix_helper_for_other_commands():
    import argparse

    from cofail_jax.cli.audit import add_audit_option, audited_matrix

    p = argparse.ArgumentParser()
    add_audit_option(p)
    m = load_matrix(POOL)
    assert audited_matrix(p.parse_args([]), m) is m
    sheet = os.path.join(FIX, "pool_verdicts.csv")
    assert audited_matrix(p.parse_args(["--audit", sheet]), m).n == 13
    assert audited_matrix(p.parse_args(["--audit", sheet, "--unadjudicated", "artefact"]), m).n == 12


def test_results_files_open_group_by_group(tmp_path, capsys):
    """Every group of 'audit --h5' and 'certify --audit --out' opens in xarray with named
    dimensions (no phony or automatic axis names) and the audit lives in its own group."""
    import xarray as xr

    au, ce = tmp_path / "audit.h5", tmp_path / "cert.h5"
    assert run(capsys, "audit", POOL, "--h5", au, "--no-ratio")[0] == 0
    assert run(capsys, "certify", POOL, "--audit", os.path.join(FIX, "pool_verdicts.csv"),
               "--out", ce)[0] == 0
    for path, expect in ((au, {"evidence", "sensitivity"}),
                         (ce, {"audit", "audit/graded", "audit/genuine_only",
                               "audit/conservative", "certificate", "curve"})):
        names = []
        with h5py.File(path) as f:
            f.visit(lambda n: names.append(n) if isinstance(f[n], h5py.Group) else None)
        assert expect <= set(names) and not any(n.startswith("certificate/audit") for n in names)
        for g in names:
            with xr.open_dataset(path, group=g, engine="h5netcdf") as ds:
                assert not any("phony" in d or d.endswith("_dim0") for d in ds.sizes), (g, ds.sizes)
