"""Importer options on every matrix reader (one shared definition), repeated-sample
reduction, choices said on one note line and recorded in provenance, EEE 0.3.0 (one
record per metric) and its published JSON Schema, Parquet answer filters, --latest,
Inspect error logs, progress callbacks and the lazy top-level CLI.

All inputs are tiny files written in tmp_path; commands run in-process."""

import json
import os
import shutil

import numpy as np
import pytest

from cofail_jax import InputError, load_matrix
from cofail_jax._src.io.options import REDUCERS, reduce_samples
from cofail_jax.cli.main import COMMANDS, build_parser, main

FIX = os.path.join(os.path.dirname(__file__), "fixtures", "importers")
# 4 queries x 3 models; acc and acc_norm differ on purpose
ACC = np.array([[1, 0, 0], [0, 1, 0], [1, 1, 0], [0, 0, 0]], bool)
ACC_NORM = np.array([[1, 1, 0], [0, 1, 1], [1, 0, 0], [0, 0, 1]], bool)
MODELS = ("org/a", "org/b", "org/c")


def run(argv, capsys):
    rc = main(argv)
    out, err = capsys.readouterr()
    return rc, out, err


def eee_record(model, q, metric, ok, task="arc_easy", filt="none"):
    """A record as EEE 0.3.0's lm-eval converter writes it (one per sample and metric)."""
    rid = metric if filt == "none" else f"{metric}:{filt}"
    return {
        "schema_version": "0.3.0", "evaluation_id": f"{task}/{model}", "model_id": model,
        "evaluation_name": task if filt == "none" else f"{task}/{filt}",
        "evaluation_result_id": rid, "sample_id": str(q), "sample_hash": None,
        "interaction_type": "single_turn", "input": {"raw": f"q{q}", "reference": ["x"]},
        "output": {"raw": ["x" if ok else "y"]},
        "answer_attribution": [{"turn_idx": 0, "source": "output.raw", "extracted_value": "x",
                                "extraction_method": filt, "is_terminal": True}],
        "evaluation": {"score": float(ok), "is_correct": bool(ok)},
        "metadata": {"filter": filt},
    }


@pytest.fixture
def eee_mc():
    """EEE 0.3.0 multiple-choice records written by Every Eval Ever 0.3.0's own lm-eval
    converter (tests/fixtures/importers/eee030/make_eee030.py): ACC and ACC_NORM."""
    return os.path.join(FIX, "eee030", "converted")


def test_eee_030_multiple_choice_metric_dimension(eee_mc, capsys):
    m = load_matrix(eee_mc)
    np.testing.assert_array_equal(m.correct, ACC)  # acc by default, said as a choice
    assert any(n.startswith("choice: metric 'acc'") and "acc_norm" in n for n in m.notes)
    np.testing.assert_array_equal(load_matrix(eee_mc, metric="acc_norm").correct, ACC_NORM)
    with pytest.raises(InputError, match="no metric 'f1'.*acc, acc_norm"):
        load_matrix(eee_mc, metric="f1")
    # the CLI: the choice on ONE stderr line, and in the provenance of the JSON result
    rc, out, err = run(["certify", eee_mc, "--json"], capsys)
    assert rc == 0, err
    chosen = [ln for ln in err.splitlines() if ln.startswith("note: chosen for you:")]
    assert len(chosen) == 1 and "metric 'acc'" in chosen[0], err
    doc = json.loads(out)
    assert any("metric 'acc'" in c for c in doc["provenance"]["input_choices"])
    rc, out, err = run(["certify", eee_mc, "--metric", "acc_norm", "--json"], capsys)
    assert rc == 0 and "chosen for you" not in err
    assert json.loads(out)["result"]["K"] == int((~ACC_NORM).all(axis=1).sum())


def test_eee_filters_and_tasks(tmp_path):
    lines = [eee_record(m, q, "exact_match", tab[q, j], task="gsm8k", filt=f)
             for j, m in enumerate(MODELS) for q in range(4)
             for f, tab in (("strict-match", ACC), ("flexible-extract", ACC_NORM))]
    path = tmp_path / "gsm_samples.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in lines))
    m = load_matrix(str(path))
    np.testing.assert_array_equal(m.correct, ACC)
    assert any(n.startswith("choice: answer filter 'strict-match'") for n in m.notes)
    m = load_matrix(str(path), filter="flexible-extract")
    np.testing.assert_array_equal(m.correct, ACC_NORM)
    with pytest.raises(InputError, match="no answer filter 'none-such'"):
        load_matrix(str(path), filter="none-such")


def test_eee_export_validates_against_published_030_schema(tmp_path):
    jsonschema = pytest.importorskip("jsonschema")
    with open(os.path.join(FIX, "eee_schema", "instance_level_eval.schema.json")) as f:
        schema = json.load(f)
    assert schema["version"] == "0.3.0"
    from cofail_jax._src.io.importers.eee import eee_records

    m = load_matrix(os.path.join(FIX, "inspect"), reduce="first")  # epochs, tokens, answers
    recs = eee_records(m, evaluation_name="gsm8k-mini")
    assert recs and all(r["schema_version"] == "0.3.0" for r in recs)
    validator = jsonschema.Draft7Validator(schema)
    for r in recs:
        validator.validate(r)
    # and the importer reads the 0.3.0 records the converter writes
    folder = os.path.join(FIX, "eee", "openai", "gpt-4o-mini")
    with open(os.path.join(folder, os.listdir(folder)[0])) as f:
        lines = f.read().splitlines()
    for line in lines:
        rec = json.loads(line)
        rec["schema_version"] = "0.3.0"
        validator.validate(rec)
    # the records of the converter itself are valid too (a check of the fixture)
    for root, _, files in os.walk(os.path.join(FIX, "eee030", "converted")):
        for name in files:
            with open(os.path.join(root, name)) as f:
                for line in f:
                    validator.validate(json.loads(line))


def test_parquet_filter_column(tmp_path, capsys):
    pa = pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq

    for j, model in enumerate(MODELS):
        sub = tmp_path / model.replace("/", "__")
        sub.mkdir()
        rows = [(q, f, float(tab[q, j])) for q in range(4)
                for f, tab in (("strict-match", ACC), ("flexible-extract", ACC_NORM))]
        pq.write_table(pa.table({"doc_id": [r[0] for r in rows], "filter": [r[1] for r in rows],
                                 "exact_match": [r[2] for r in rows]}),
                       str(sub / "samples_gsm8k_2024-11-05T10-00-00.000000.parquet"))
    m = load_matrix(str(tmp_path))
    np.testing.assert_array_equal(m.correct, ACC)
    assert any(n.startswith("choice: answer filter 'strict-match'") for n in m.notes)
    rc, out, err = run(["certify", str(tmp_path), "--filter", "flexible-extract", "--json"],
                       capsys)
    assert rc == 0, err
    assert json.loads(out)["result"]["K"] == int((~ACC_NORM).all(axis=1).sum())


def _lmeval(tmp_path, task, stamp, model, acc, acc_norm=None):
    d = tmp_path / model
    d.mkdir(exist_ok=True)
    lines = []
    for q in range(len(acc)):
        rec = {"doc_id": q, "target": "1", "acc": int(acc[q])}
        if acc_norm is not None:
            rec["acc_norm"] = int(acc_norm[q])
        lines.append(json.dumps(rec))
    (d / f"samples_{task}_{stamp}.jsonl").write_text("\n".join(lines))


def test_lmeval_task_metric_latest_on_certify(tmp_path, capsys):
    for j, model in enumerate(("m-a", "m-b", "m-c")):
        _lmeval(tmp_path, "arc", "2024-11-05T10-00-00.000000", model, ACC[:, j], ACC_NORM[:, j])
        _lmeval(tmp_path, "hella", "2024-11-05T10-00-00.000000", model, ACC_NORM[:, j])
    rc, out, err = run(["certify", str(tmp_path)], capsys)
    assert rc == 2 and "holds several tasks" in err and "--task" in err
    rc, out, err = run(["certify", str(tmp_path), "--task", "arc", "--json"], capsys)
    assert rc == 0, err
    assert "metric 'acc' (also present: acc_norm" in err
    assert json.loads(out)["result"]["K"] == int((~ACC).all(axis=1).sum())
    # a rerun: a second, newer file for one model
    _lmeval(tmp_path, "arc", "2024-11-06T10-00-00.000000", "m-a", ~ACC[:, 0], ACC_NORM[:, 0])
    rc, out, err = run(["certify", str(tmp_path), "--task", "arc"], capsys)
    assert rc == 2 and "two sample files" in err and "--latest" in err
    m = load_matrix(str(tmp_path), task="arc", latest=True)
    np.testing.assert_array_equal(m.correct[:, 0], ~ACC[:, 0])
    assert any("--latest" in n and n.startswith("choice: ") for n in m.notes)
    # an importer option the format does not take is an error, not ignored
    rc, out, err = run(["certify", str(tmp_path), "--task", "arc", "--scorer", "x"], capsys)
    assert rc == 2 and "does not take scorer=" in err


@pytest.mark.parametrize("cmd", [c for c in COMMANDS if c not in (
    "sweep", "report", "counterexample", "export", "judges")])
def test_every_matrix_reader_has_the_importer_options(cmd):
    sub = build_parser(only=cmd)._subparsers._group_actions[0].choices[cmd]
    flags = {s for a in sub._actions for s in a.option_strings}
    assert {"--scorer", "--task", "--metric", "--filter", "--latest", "--reduce"} <= flags, cmd


def test_reduce_samples_against_numpy():
    rng = np.random.default_rng(0)
    s = rng.integers(-1, 2, size=(5, 7, 3)).astype(np.int8)
    s[0] = np.abs(s[0])  # sample 0 present
    s[:, 0, 0] = -1  # a cell with no sample at all
    present, corr = (s >= 0).sum(0), (s == 1).sum(0)
    np.testing.assert_array_equal(reduce_samples(s, "any")[1:], (corr > 0)[1:])
    np.testing.assert_array_equal(reduce_samples(s, "all")[1:], (corr == present)[1:])
    np.testing.assert_array_equal(reduce_samples(s, "majority")[1:], (2 * corr > present)[1:])
    np.testing.assert_array_equal(reduce_samples(s, "first")[1:], s[0, 1:])
    mean = reduce_samples(s, "mean")
    np.testing.assert_allclose(mean[1:], (corr / np.maximum(present, 1))[1:])
    assert np.isnan(mean[0, 0]) and all(reduce_samples(s, h)[0, 0] == -1
                                        for h in REDUCERS if h != "mean")


def test_reduce_on_the_cli(tmp_path, capsys):
    # 3 samples: query 0 right once (pass@3 yes, majority no), query 1 right twice
    rows = ["query_id,model,correct,sample"]
    cells = {("q0", "a"): [0, 1, 0], ("q1", "a"): [1, 0, 1], ("q2", "a"): [0, 0, 0],
             ("q0", "b"): [0, 0, 0], ("q1", "b"): [0, 0, 0], ("q2", "b"): [1, 1, 1]}
    for (q, mod), vals in cells.items():
        rows += [f"{q},{mod},{v},{s}" for s, v in enumerate(vals)]
    path = tmp_path / "long.csv"
    path.write_text("\n".join(rows) + "\n")
    K = {}
    for how in ("first", "majority", "any", "all"):
        rc, out, err = run(["certify", str(path), "--reduce", how, "--json"], capsys)
        assert rc == 0, err
        K[how] = json.loads(out)["result"]["K"]
        if how == "first":
            assert "3 repeated samples" in err and "--reduce first" in err
    assert K == {"first": 1, "majority": 1, "any": 0, "all": 2}
    rc, out, err = run(["certify", str(path), "--reduce", "mean"], capsys)
    assert rc == 2 and "needs 0/1 cells" in err and len(err.strip().splitlines()) == 1


def test_inspect_error_log_keeps_the_reason(tmp_path, capsys):
    for name in os.listdir(os.path.join(FIX, "inspect")):
        if name.endswith(".json"):
            shutil.copy(os.path.join(FIX, "inspect", name), tmp_path / name)
    name = sorted(n for n in os.listdir(tmp_path))[0]
    log = json.loads((tmp_path / name).read_text())
    log["status"] = "error"
    log["error"] = {"message": "RateLimitError: quota exceeded\nTraceback ...", "traceback": ""}
    log["samples"][0]["scores"] = {}
    (tmp_path / name).write_text(json.dumps(log))
    rc, out, err = run(["certify", str(tmp_path)], capsys)
    assert rc == 2 and "missing cell" in err and "status is 'error'" in err
    assert "RateLimitError: quota exceeded" in err


def test_sweep_config_import_keys(tmp_path):
    from cofail_jax._src.sweep_io import _import_options

    assert _import_options("c.toml", {"task": "arc", "latest": True, "reduce": "any"}) == (
        ("task", "arc"), ("latest", True), ("reduce", "any"))
    assert _import_options("c.toml", {}) == ()
    with pytest.raises(InputError, match="key 'reduce'"):
        _import_options("c.toml", {"reduce": "mean"})
    with pytest.raises(InputError, match="key 'metric'"):
        _import_options("c.toml", {"metric": 3})


def test_top_level_help_and_version_import_no_command(capsys, monkeypatch):
    import importlib

    imported = []
    real = importlib.import_module
    monkeypatch.setattr(importlib, "import_module",
                        lambda name, *a: imported.append(name) or real(name, *a))
    with pytest.raises(SystemExit) as e:
        main(["--version"])
    assert e.value.code == 0 and capsys.readouterr().out.startswith("cofail_jax ")
    with pytest.raises(SystemExit) as e:
        main(["--help"])
    out = capsys.readouterr().out
    assert e.value.code == 0 and all(name in out for name in COMMANDS)
    assert imported == []
    build_parser(only="vote")
    assert imported == ["cofail_jax.cli.vote"]


def test_lazy_package_root_resolves_every_name():
    import cofail_jax as cj

    assert set(cj.__all__) <= set(dir(cj)) and "certificate" in dir(cj)
    for name in cj.__all__:
        assert getattr(cj, name) is not None, name
    from cofail_jax import load_sweep_config, tetrachoric_bootstrap  # noqa: F401

    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        cj.nope  # noqa: B018
