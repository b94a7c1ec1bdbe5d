"""Harness importers (issue 10): each format's fixture against the known matrix, its
options and metadata, a malformed file of each format through the CLI (exit 2, one
line naming the file and the record), conversion round trips, and EEE export.

The fixtures in tests/fixtures/importers were written by make_fixtures.py there from
each format's documentation; they all encode TRUTH (5 queries x 3 models)."""

import json
import os
import shutil
import sys
import zipfile

import numpy as np
import pytest

from cofail_jax import InputError, from_pandas, load_matrix, to_pandas
from cofail_jax.cli.main import main

FIX = os.path.join(os.path.dirname(__file__), "fixtures", "importers")


def _load_fixture_module():
    """make_fixtures.py under a unique module name (other fixture folders have one too)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "cofail_importer_fixtures", os.path.join(FIX, "make_fixtures.py")
    )
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


MF = _load_fixture_module()
TRUTH = np.array(MF.TRUTH, bool)
EPOCH2 = np.array(MF.EPOCH2, bool)


def canonical(m, models=MF.MODELS):
    """m restricted to the fixture's model order (names may be shortened by the format)."""
    names = []
    for full in models:
        hit = [x for x in m.models if x == full or x == full.split("/")[1]]
        assert len(hit) == 1, (full, m.models)
        names.append(hit[0])
    return m.select_models(names)


def run_cli(argv, capsys):
    rc = main(argv)
    out, err = capsys.readouterr()
    return rc, out, err


def assert_bad(argv, capsys, *needles):
    rc, out, err = run_cli(argv, capsys)
    assert rc == 2, (out, err)
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1 and "Traceback" not in err, err
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])
    return lines[0]


# ---- Inspect AI ---------------------------------------------------------------------------
def test_inspect_folder_of_json_and_eval_logs():
    m = load_matrix(os.path.join(FIX, "inspect"))
    assert m.models == tuple(MF.MODELS)  # one .eval archive and two .json logs
    assert m.query_ids == ("1", "2", "3", "4", "5")
    np.testing.assert_array_equal(m.correct, TRUTH)  # P and N are wrong by default
    assert m.samples.shape == (2, 5, 3)  # epochs become repeated samples
    np.testing.assert_array_equal(m.samples[1] == 1, EPOCH2)
    assert m.cell_meta["answer"][0, 0] == "42" and m.cell_meta["answer"][1, 0] == "40"
    assert m.cell_meta["raw_answer"][0, 1] == "ANSWER: 42"
    assert m.cell_meta["output_tokens"][2, 1] == 6.0 and m.cell_meta["input_tokens"][2, 1] == 42.0
    assert m.cell_meta["finish_reason"][0, 0] == "stop"
    assert m.query_meta["reference"][2] == "2"
    assert m.query_meta["prompt"][0] == MF.QUESTIONS[0][0]
    assert any("not imported" in n for n in m.notes)


def test_inspect_partial_and_noanswer_rules():
    d = os.path.join(FIX, "inspect")
    m = load_matrix(d, partial="correct")
    assert m.correct[1, 2] and not m.correct[2, 2]  # q2's P now correct, q3's N still wrong
    m = load_matrix(d, noanswer="missing", missing="drop-queries")
    assert "3" not in m.query_ids and m.n == 4
    assert any("dropped 1 queries" in n for n in m.notes)
    with pytest.raises(InputError, match="unknown rule"):
        load_matrix(d, partial="half")


def _json_log(model, values, scorer="acc", extra_scorer=False):
    samples = []
    for i, v in enumerate(values):
        scores = {scorer: {"value": v, "answer": str(i)}}
        if extra_scorer:
            scores["judge"] = {"value": "C"}
        samples.append({"id": f"s{i}", "epoch": 1, "input": "q", "target": "t", "scores": scores})
    return {
        "version": 2,
        "status": "success",
        "eval": {"task": "t", "model": model},
        "samples": samples,
    }


def test_inspect_numeric_scores_threshold_and_scorers(tmp_path):
    (tmp_path / "a.json").write_text(json.dumps(_json_log("m/a", [1.0, 0.5, 0.0])))
    (tmp_path / "b.json").write_text(
        json.dumps(_json_log("m/b", [0.9, 1, True], extra_scorer=True))
    )
    with pytest.raises(InputError, match="several scorers"):
        load_matrix(str(tmp_path))
    m = load_matrix(str(tmp_path), scorer="acc")
    np.testing.assert_array_equal(m.correct, [[1, 0], [0, 1], [0, 1]])
    assert m.cell_meta["score"][1, 0] == 0.5
    m = load_matrix(str(tmp_path), scorer="acc", threshold=0.5)
    np.testing.assert_array_equal(m.correct, [[1, 1], [1, 1], [0, 1]])
    assert any("ignored scorers judge" in n for n in m.notes)


def test_inspect_malformed_score_and_archive(tmp_path, capsys):
    log = _json_log("m/a", ["C", "X"])
    (tmp_path / "a.json").write_text(json.dumps(log))
    (tmp_path / "b.json").write_text(json.dumps(_json_log("m/b", ["C", "I"])))
    out = tmp_path / "out.csv"
    line = assert_bad(
        ["convert", str(tmp_path), "--to", str(out)],
        capsys,
        "a.json",
        "samples[1] (id 's1')",
        "'X'",
    )
    assert "scorer" in line and not out.exists()
    bad = tmp_path / "bad"
    bad.mkdir()
    shutil.copy(os.path.join(FIX, "inspect", "2024-11-05T10-00-00+00-00_gsm8k-mini_t0.json"), bad)
    with zipfile.ZipFile(bad / "broken.eval", "w") as z:
        z.writestr(
            "header.json",
            json.dumps({"version": 2, "eval": {"model": "x/y", "task": "gsm8k_mini"}}),
        )
        z.writestr("samples/1_epoch_1.json", '{"id": 1, "epoch": 1, "scores": ')
    assert_bad(
        ["certify", str(bad), "--format", "inspect"],
        capsys,
        "broken.eval",
        "samples/1_epoch_1.json",
        "not a valid Inspect sample",
    )


# ---- HELM ---------------------------------------------------------------------------------
def test_helm_suite_folder():
    m = canonical(load_matrix(os.path.join(FIX, "helm")))
    np.testing.assert_array_equal(m.correct, TRUTH)
    assert m.query_ids[0] == "id1000"
    assert m.cell_meta["answer"][1, 0] == "40"  # mapped_output from display_predictions.json
    assert m.cell_meta["output_tokens"][3, 2] == 33.0
    assert m.cell_meta["score"][0, 0] == 1.0
    assert m.query_meta["reference"][4] == "36"
    assert m.query_meta["prompt"][0] == MF.QUESTIONS[0][0]
    assert sum("perturbed" in n for n in m.notes) == 3


def test_helm_metric_and_malformed(tmp_path, capsys):
    with pytest.raises(InputError, match="has no stat 'bleu'"):
        load_matrix(os.path.join(FIX, "helm"), metric="bleu")
    d = tmp_path / "helm"
    shutil.copytree(os.path.join(FIX, "helm"), d)
    run = min((d / "v1.0.0").iterdir())
    stats = json.loads((run / "per_instance_stats.json").read_text())
    del stats[2]["stats"]
    (run / "per_instance_stats.json").write_text(json.dumps(stats))
    assert_bad(
        ["convert", str(d), "--to", str(tmp_path / "x.h5")],
        capsys,
        "per_instance_stats.json",
        "entry 3",
        "instance_id or stats",
    )
    assert not (tmp_path / "x.h5").exists()


# ---- OpenAI evals ----------------------------------------------------------------------------
def test_openai_evals_folder():
    m = canonical(load_matrix(os.path.join(FIX, "openai_evals")))
    np.testing.assert_array_equal(m.correct, TRUTH)
    assert m.query_ids[0] == "arithmetic.dev.0"
    assert m.query_meta["reference"][0] == "42"
    assert m.query_meta["prompt"][1].endswith(MF.QUESTIONS[1][0])
    assert m.cell_meta["raw_answer"][1, 0] == "40"
    assert m.cell_meta["answer"][0, 0] == "42" and m.cell_meta["answer"][1, 0] is None  # no pick


def test_openai_evals_malformed_line(tmp_path, capsys):
    d = tmp_path / "ev"
    shutil.copytree(os.path.join(FIX, "openai_evals"), d)
    f = sorted(d.iterdir())[1]
    lines = f.read_text().splitlines()
    lines[3] = lines[3][:40]
    f.write_text("\n".join(lines) + "\n")
    assert_bad(
        ["convert", str(d), "--to", str(tmp_path / "x.csv")],
        capsys,
        f.name,
        "line 4",
        "not valid JSON",
    )


# ---- Every Eval Ever ---------------------------------------------------------------------------
def test_eee_folder_and_round_trip(tmp_path):
    from cofail_jax import save_eee

    m = canonical(load_matrix(os.path.join(FIX, "eee")))
    np.testing.assert_array_equal(m.correct, TRUTH)
    assert m.cell_meta["answer"][1, 0] == "40"
    assert m.cell_meta["latency_ms"][2, 0] == 370.0
    assert m.query_meta["domain"][0] == "arithmetic"
    out = save_eee(m, str(tmp_path / "pool_samples.jsonl"), evaluation_name="gsm-mini")
    with open(out) as fh:
        recs = [json.loads(x) for x in fh]
    assert len(recs) == 15
    required = {
        "schema_version",
        "evaluation_id",
        "model_id",
        "evaluation_name",
        "sample_id",
        "interaction_type",
        "input",
        "answer_attribution",
        "evaluation",
    }
    assert all(required <= set(r) for r in recs)
    back = canonical(load_matrix(out))
    np.testing.assert_array_equal(back.correct, TRUTH)
    assert back.query_ids == m.query_ids
    np.testing.assert_array_equal(back.cell_meta["total_tokens"], m.cell_meta["total_tokens"])


def test_eee_export_keeps_repeated_samples(tmp_path):
    from cofail_jax import save_eee

    m = load_matrix(os.path.join(FIX, "inspect"))
    back = load_matrix(save_eee(m, str(tmp_path / "x_samples.jsonl")))
    np.testing.assert_array_equal(back.samples, m.samples)


def test_eee_malformed_record(tmp_path, capsys):
    f = tmp_path / "a_samples.jsonl"
    src = os.path.join(FIX, "eee", "openai", "gpt-4o-mini")
    with open(os.path.join(src, os.listdir(src)[0])) as fh:
        lines = fh.read().splitlines()
    rec = json.loads(lines[1])
    del rec["evaluation"]["is_correct"]
    lines[1] = json.dumps(rec)
    f.write_text("\n".join(lines) + "\n")
    assert_bad(["certify", str(f)], capsys, "a_samples.jsonl", "line 2", "is_correct")


# ---- Parquet ----------------------------------------------------------------------------------
def test_parquet_details_folder():
    m = canonical(load_matrix(os.path.join(FIX, "parquet")))
    np.testing.assert_array_equal(m.correct, TRUTH)
    assert m.cell_meta["answer"][1, 0] == "40"
    assert m.query_meta["reference"][2] == "2"
    assert any("not imported" in n for n in m.notes)


def test_parquet_model_column_and_malformed(tmp_path, capsys):
    pa = pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq

    pq.write_table(
        pa.table(
            {
                "sample_id": ["a", "a", "b", "b"],
                "model": ["x", "y", "x", "y"],
                "is_correct": [True, False, False, False],
                "cost": [0.1, 0.2, 0.1, 0.2],
            }
        ),
        str(tmp_path / "lb.parquet"),
    )
    m = load_matrix(str(tmp_path / "lb.parquet"))
    np.testing.assert_array_equal(m.correct, [[1, 0], [0, 0]])
    assert m.cell_meta["cost"][0, 1] == 0.2
    bad = tmp_path / "bad.parquet"
    pq.write_table(pa.table({"doc_id": [0, 1], "model": ["x", "x"], "acc": [1.0, 0.5]}), str(bad))
    assert_bad(
        ["convert", str(bad), "--to", str(tmp_path / "o.csv")],
        capsys,
        "bad.parquet",
        "row 2",
        "0.5",
    )
    (tmp_path / "junk.parquet").write_bytes(b"PAR1 not really")
    assert_bad(
        ["certify", str(tmp_path / "junk.parquet")],
        capsys,
        "junk.parquet",
        "not a readable Parquet file",
    )


def test_parquet_without_pyarrow_says_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "pyarrow.parquet", None)
    with pytest.raises(InputError, match=r"pip install 'cofail_jax\[io\]'"):
        load_matrix(os.path.join(FIX, "parquet"))


# ---- lm-evaluation-harness (foundation loader) and pandas --------------------------------------
def test_lmeval_answers_and_references(tmp_path):
    for j, model in enumerate(("m-a", "m-b")):
        (tmp_path / model).mkdir()
        lines = [
            json.dumps(
                {
                    "doc_id": i,
                    "doc": {"question": q},
                    "target": a,
                    "arguments": {"gen_args_0": {"arg_0": q}},
                    "resps": [[f" {a if MF.TRUTH[i][j] else 'x'}"]],
                    "filtered_resps": [a if MF.TRUTH[i][j] else "x"],
                    "exact_match": float(MF.TRUTH[i][j]),
                }
            )
            for i, (q, a) in enumerate(MF.QUESTIONS)
        ]
        (tmp_path / model / "samples_gsm8k_2024-11-05T10-00-00.000000.jsonl").write_text(
            "\n".join(lines)
        )
    m = load_matrix(str(tmp_path))
    np.testing.assert_array_equal(m.correct, TRUTH[:, :2])
    assert m.cell_meta["answer"][1, 0] == "x" and m.query_meta["reference"][1] == "42"
    assert (
        m.cell_meta["raw_answer"][0, 0] == " 42" and m.query_meta["prompt"][2] == MF.QUESTIONS[2][0]
    )


def test_pandas_wide_and_long_round_trip():
    pd = pytest.importorskip("pandas")
    m = load_matrix(os.path.join(FIX, "eee"))
    wide = from_pandas(to_pandas(m, "wide"))
    np.testing.assert_array_equal(wide.correct, m.correct)
    assert wide.models == m.models and wide.query_ids == m.query_ids
    long = to_pandas(m, "long")
    assert isinstance(long, pd.DataFrame) and len(long) == m.n * m.k
    back = from_pandas(long)
    np.testing.assert_array_equal(back.correct, m.correct)
    assert back.cell_meta["answer"][1, 2] == m.cell_meta["answer"][1, 2]
    assert list(back.query_meta["reference"]) == list(m.query_meta["reference"])


# ---- cofail convert ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    "out", ["wide.csv", "long.jsonl", "long.long.csv", "m.h5", "m_samples.jsonl", "long.parquet"]
)
def test_convert_round_trips(tmp_path, capsys, out):
    src = os.path.join(FIX, "inspect")
    rc, stdout, _ = run_cli(["convert", src, "--to", str(tmp_path / out), "--json"], capsys)
    assert rc == 0
    doc = json.loads(stdout)
    assert doc["schema"] == "cofail_jax.json/1" and doc["command"] == "convert"
    assert doc["result"]["input_format"] == "inspect" and doc["result"]["n"] == 5
    assert "input_sha256" in doc["provenance"]
    back = load_matrix(str(tmp_path / out))
    np.testing.assert_array_equal(back.correct, TRUTH)
    assert back.models == tuple(MF.MODELS)
    if out != "wide.csv":
        np.testing.assert_array_equal(back.samples, load_matrix(src).samples)
        assert back.cell_meta["answer"][1, 0] == "40"
    else:
        assert any("holds only correctness" in n for n in doc["result"]["notes"])


def test_convert_options_checked(tmp_path, capsys):
    wide = tmp_path / "w.csv"
    wide.write_text("query_id,a,b\nq1,1,0\nq2,0,0\n")
    assert_bad(
        ["convert", str(wide), "--to", str(tmp_path / "o.jsonl"), "--scorer", "match"],
        capsys,
        "does not take scorer= (--scorer)",
    )
    assert_bad(
        ["convert", str(wide), "--to", str(tmp_path / "o.xyz")],
        capsys,
        "cannot tell the output format",
    )
    rc, _, _ = run_cli(
        [
            "convert",
            os.path.join(FIX, "inspect"),
            "--to",
            str(tmp_path / "p.csv"),
            "--partial",
            "correct",
        ],
        capsys,
    )
    assert rc == 0 and load_matrix(str(tmp_path / "p.csv")).correct[1, 2]


def test_parquet_several_tasks_need_task(tmp_path):
    pytest.importorskip("pyarrow")
    d = tmp_path / "details"
    shutil.copytree(os.path.join(FIX, "parquet"), d)
    first = min(d.iterdir())
    src = next(first.iterdir())
    shutil.copy(src, first / "samples_arc_2024-11-06T10-00-00.000000.parquet")
    with pytest.raises(InputError, match="several tasks: arc, gsm8k_mini"):
        load_matrix(str(d))
    m = canonical(load_matrix(str(d), task="gsm8k_mini"))
    np.testing.assert_array_equal(m.correct, TRUTH)


def test_pandas_samples_and_missing():
    pd = pytest.importorskip("pandas")
    m = load_matrix(os.path.join(FIX, "inspect"))
    df = to_pandas(m, "long", samples=True)
    assert len(df) == 2 * m.n * m.k and "sample" in df
    back = from_pandas(df)
    np.testing.assert_array_equal(back.samples, m.samples)
    wide = pd.DataFrame(
        {"query_id": ["a", "b", "c"], "m1": [1, 0, None], "m2": [True, False, True]}
    )
    with pytest.raises(InputError, match="missing cell"):
        from_pandas(wide)
    kept = from_pandas(wide, missing="drop-queries")
    assert kept.query_ids == ("a", "b") and kept.notes


# ---- logs written by Inspect AI itself (tests/fixtures/importers/inspect_upstream) ---------
UPSTREAM = os.path.join(FIX, "inspect_upstream")
UPSTREAM_TRUTH = np.array([[1, 1], [0, 1], [0, 0], [1, 0]], bool)


def test_inspect_upstream_json_logs():
    m = load_matrix(os.path.join(UPSTREAM, "json"))
    assert m.models == ("mockllm/alpha", "mockllm/beta") and m.query_ids == ("1", "2", "3", "4")
    np.testing.assert_array_equal(m.correct, UPSTREAM_TRUTH)
    assert m.cell_meta["raw_answer"][1, 0] == "ANSWER: 40"
    np.testing.assert_array_equal(m.cell_meta["input_tokens"][:, 1], [20, 21, 22, 23])
    assert list(m.query_meta["reference"]) == ["42", "42", "2", "12"]


def _have_zstd():
    from cofail_jax._src.io.importers import inspect_ai

    return inspect_ai._zstd_decompress(b"\x28\xb5\x2f\xfd\x20\x00\x01\x00\x00") is not None


def test_inspect_upstream_eval_archives_zstd(monkeypatch, capsys):
    from cofail_jax._src.io.importers.inspect_ai import logs

    d = os.path.join(UPSTREAM, "eval")
    if _have_zstd():  # current Inspect compresses .eval entries with zstd
        m = load_matrix(d)
        np.testing.assert_array_equal(m.correct, UPSTREAM_TRUTH)
        assert m.models == ("mockllm/alpha", "mockllm/beta")
    monkeypatch.setattr(logs, "_zstd_decompress", lambda data: None)
    monkeypatch.setattr(logs, "_zipfile_has_zstd", lambda: False)
    assert_bad(["certify", d], capsys, ".eval", "header.json", "zstd", "pip install zstandard")


def test_helm_answers_from_scenario_state(tmp_path):
    d = tmp_path / "helm"
    shutil.copytree(os.path.join(FIX, "helm"), d)
    for run in (d / "v1.0.0").iterdir():
        preds = json.loads((run / "display_predictions.json").read_text())
        (run / "display_predictions.json").unlink()
        if (run / "instances.json").exists():
            (run / "instances.json").unlink()
        states = [
            {
                "instance": {
                    "input": {"text": MF.QUESTIONS[i][0]},
                    "references": [{"output": {"text": MF.QUESTIONS[i][1]}, "tags": ["correct"]}],
                    "split": "test",
                    "id": p["instance_id"],
                },
                "train_trial_index": 0,
                "output_mapping": {"B": p["mapped_output"]},
                "request": {"prompt": MF.QUESTIONS[i][0]},
                "result": {"success": True, "completions": [{"text": " B"}]},
            }
            for i, p in enumerate(preds)
        ]
        (run / "scenario_state.json").write_text(json.dumps({"request_states": states}))
    m = canonical(load_matrix(str(d)))
    np.testing.assert_array_equal(m.correct, TRUTH)
    assert m.cell_meta["answer"][1, 0] == "40"  # " B" mapped through output_mapping
    assert m.query_meta["reference"][4] == "36" and m.query_meta["prompt"][0] == MF.QUESTIONS[0][0]


def test_parquet_eee_instance_table(tmp_path):
    pa = pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq

    recs = []
    for sub in sorted(os.listdir(os.path.join(FIX, "eee"))):
        for root, _, files in os.walk(os.path.join(FIX, "eee", sub)):
            for name in files:
                with open(os.path.join(root, name)) as fh:
                    recs += [json.loads(x) for x in fh]
    table = pa.Table.from_pylist(
        [{k: r[k] for k in ("model_id", "sample_id", "evaluation")} for r in recs]
    )
    pq.write_table(table, str(tmp_path / "eee.parquet"))
    m = canonical(load_matrix(str(tmp_path / "eee.parquet")))
    np.testing.assert_array_equal(m.correct, TRUTH)


def test_inspect_eval_set_folder_with_logs_index(tmp_path):
    d = tmp_path / "evalset"
    shutil.copytree(os.path.join(FIX, "inspect"), d)
    index = {
        f.name: {"version": 2, "status": "success", "eval": {"model": "x"}} for f in d.iterdir()
    }
    (d / "logs.json").write_text(json.dumps(index))  # eval-set index, not a log
    m = load_matrix(str(d))
    np.testing.assert_array_equal(m.correct, TRUTH)


def test_lmeval_several_filters(tmp_path, capsys):
    for j, model in enumerate(("m-a", "m-b")):
        (tmp_path / model).mkdir()
        lines = []
        for i, (_, a) in enumerate(MF.QUESTIONS):
            for filt, ok in (("strict-match", MF.TRUTH[i][j]), ("flexible-extract", 1)):
                lines.append(
                    json.dumps(
                        {
                            "doc_id": i,
                            "target": a,
                            "filter": filt,
                            "metrics": ["exact_match"],
                            "filtered_resps": [a],
                            "exact_match": float(ok),
                        }
                    )
                )
        (tmp_path / model / "samples_gsm8k_2024-11-05T10-00-00.000000.jsonl").write_text(
            "\n".join(lines)
        )
    m = load_matrix(str(tmp_path))  # first filter by default, said in the notes
    np.testing.assert_array_equal(m.correct, TRUTH[:, :2])
    assert any("answer filter 'strict-match'" in n and n.startswith("choice: ") for n in m.notes)
    m = load_matrix(str(tmp_path), filter="flexible-extract")
    assert m.correct.all()
    rc, _, _ = run_cli(
        ["convert", str(tmp_path), "--to", str(tmp_path / "o.csv"), "--filter", "flexible-extract"],
        capsys,
    )
    assert rc == 0
    assert_bad(
        ["convert", str(tmp_path), "--to", str(tmp_path / "p.csv"), "--filter", "x"],
        capsys,
        "samples_gsm8k",
        "has no filter 'x'",
    )


def test_unknown_loader_options_are_errors():
    with pytest.raises(InputError, match="does not take scorer="):
        load_matrix(os.path.join(FIX, "helm"), scorer="match")
    with pytest.raises(InputError, match="does not take metric="):
        load_matrix(os.path.join(FIX, "inspect"), metric="acc")


def test_lmeval_malformed_names_the_line(tmp_path, capsys):
    for model in ("m-a", "m-b"):
        (tmp_path / model).mkdir()
        lines = [json.dumps({"doc_id": i, "target": "1", "acc": 1}) for i in range(3)]
        if model == "m-b":
            lines.insert(1, "")  # a blank line does not shift the numbering
            lines[3] = json.dumps({"doc_id": 2, "target": "1", "acc": 0.5})
        (tmp_path / model / "samples_arc_2024-11-05T10-00-00.000000.jsonl").write_text(
            "\n".join(lines)
        )
    assert_bad(["certify", str(tmp_path)], capsys, "m-b", "samples_arc", "line 4", "not 0/1")
