"""The policy commands end to end: shared data where the inputs allow, the simulated
fixture otherwise; table = JSON = HDF5; bad input -> exit 2, one line, no file left."""

import json
import os

import h5py
import pytest

from cofail_jax.cli.main import main

FIX = os.path.join(os.path.dirname(__file__), "fixtures", "policies")
LONG = os.path.join(FIX, "queries_long.csv")
COMMANDS = ("vote", "route", "cascade", "ensembles", "formats", "judges")


def run(capsys, *argv):
    rc = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return rc, out, err


@pytest.mark.parametrize("cmd", COMMANDS)
def test_help_has_examples(cmd, capsys):
    with pytest.raises(SystemExit) as e:
        main([cmd, "--help"])
    out = capsys.readouterr().out
    assert e.value.code == 0 and "examples:" in out and f"cofail {cmd}" in out


def test_vote_shared_data_table_json_h5(shared_data, tmp_path, capsys):
    path = os.path.join(shared_data, "zeroeval_math-l5.csv")
    out = tmp_path / "v.h5"
    rc, text, _ = run(capsys, "vote", path, "--n-boot", 200, "--out", out)
    assert rc == 0
    for word in (
        "single best (chosen on train)",
        "oracle 1 - beta",
        "optimistic binary approximation",
        "every 3-model subset",
        "jackknife over models",
        "naive (subsets i.i.d.)",
    ):
        assert word in text
    rc, js, _ = run(capsys, "vote", path, "--n-boot", 200, "--json")
    doc = json.loads(js)
    r = doc["result"]
    assert doc["schema"] == "cofail_jax.json/1" and doc["provenance"]["seed"] == 0
    assert r["subsets"]["count"] == 8436
    jk, nv = r["subsets"]["slope_ci_jackknife"], r["subsets"]["slope_ci_naive"]
    assert jk[1] - jk[0] > nv[1] - nv[0]  # the naive interval is narrower
    assert f"{r['reference']['single_best_accuracy']:.4f}" in text
    with h5py.File(out) as f:
        assert f["policies/majority/accuracy"][()] == pytest.approx(
            r["policies"]["majority"]["accuracy"]
        )
        assert f["subsets/gain"].shape == (8436,)
        assert "input_sha256" in f.attrs and f.attrs["seed"] == 0


def test_vote_fixture_plurality(capsys):
    rc, js, _ = run(
        capsys, "vote", LONG, "--n-boot", 100, "--tie", "first", "--json", "--no-subsets"
    )
    r = json.loads(js)["result"]
    assert (
        rc == 0
        and "plurality" in r["policies"]
        and "tie rule: first" in r["policies"]["plurality"]["label"]
    )


def test_route_fixture_and_external_choices(tmp_path, capsys):
    out = tmp_path / "r.h5"
    rc, text, _ = run(capsys, "route", LONG, "--n-boot", 100, "--folds", 3, "--out", out)
    assert (
        rc == 0 and "learned_router" in text and "cost frontier" in text and "fraction of G" in text
    )
    with h5py.File(out) as f:
        assert f["choices/model"].shape == (240,)
        assert f["policies/oracle_router/realized_fraction"][()] == pytest.approx(1.0)
        assert f["policies/always_single_best/bootstrap/gain/estimate"][()] == 0.0
    rc, js, _ = run(
        capsys,
        "route",
        LONG,
        "--n-boot",
        100,
        "--choices",
        os.path.join(FIX, "router_choices.csv"),
        "--json",
    )
    r = json.loads(js)["result"]
    assert rc == 0 and r["n_scored"] == 240 and "external_router" in r["policies"]


def test_route_shared_data_external_and_no_prompts(shared_data, tmp_path, capsys):
    path = os.path.join(shared_data, "zeroeval_gsm8k.csv")
    rc, _, err = run(capsys, "route", path)
    assert rc == 2 and "no 'prompt' or 'domain'" in err and len(err.strip().splitlines()) == 1
    with open(path) as f:
        ids = [line.split(",")[0] for line in f.read().splitlines()[1:]]
    choices = tmp_path / "ch.csv"
    choices.write_text(
        "query_id,model\n"
        + "".join(
            f"{q},{'gpt-4o-2024-08-06' if i % 2 else 'claude-3-5-sonnet-20240620'}\n"
            for i, q in enumerate(ids)
        )
    )
    rc, js, _ = run(capsys, "route", path, "--choices", choices, "--n-boot", 100, "--json")
    r = json.loads(js)["result"]
    assert rc == 0 and r["n_scored"] == 1319
    assert r["policies"]["oracle_router"]["accuracy"] == pytest.approx(1 - 5 / 1319)


def test_cascade_shared_data_and_fixture(shared_data, tmp_path, capsys):
    path = os.path.join(shared_data, "zeroeval_gsm8k.csv")
    models = "Meta-Llama-3.1-8B-Instruct,gpt-4o-mini-2024-07-18,gpt-4o-2024-08-06"
    costs = "Meta-Llama-3.1-8B-Instruct=0.05,gpt-4o-mini-2024-07-18=0.15,gpt-4o-2024-08-06=2.5"
    rc, text, _ = run(
        capsys, "cascade", path, "--models", models, "--costs", costs, "--n-boot", 100
    )
    assert rc == 0 and "disagreement cascade" in text and "cost per correct" in text
    out = tmp_path / "c.h5"
    rc, js, _ = run(capsys, "cascade", LONG, "--n-boot", 100, "--json", "--out", out)
    r = json.loads(js)["result"]
    assert (
        rc == 0
        and r["score"] == "confidence"
        and r["cost_order"] == ["tiny", "coder", "mathy", "large"]
    )
    with h5py.File(out) as f:
        assert f["cascades/confidence/accuracy"].shape == f["cascades/confidence/threshold"].shape
        assert f["cascades/confidence/accuracy_ci"].shape[1] == 2
    rc, _, err = run(capsys, "cascade", path, "--n-boot", 100)
    assert rc == 2 and "has no costs" in err


def test_ensembles_fixture_and_shared_data(shared_data, tmp_path, capsys):
    out = tmp_path / "e.h5"
    rc, text, _ = run(capsys, "ensembles", LONG, "--partitions", 8, "--n-boot", 100, "--out", out)
    assert rc == 0 and "mixed - same" in text and "best + weakest" in text
    with h5py.File(out) as f:
        assert f["diff"].shape == (8,)
    rc, _, err = run(capsys, "ensembles", os.path.join(shared_data, "zeroeval_math-l5.csv"))
    assert rc == 2 and "no repeated samples" in err


def test_formats_fixture_and_shared(shared_data, tmp_path, capsys):
    out = tmp_path / "f.h5"
    rc, text, _ = run(
        capsys,
        "formats",
        os.path.join(FIX, "format_mc.csv"),
        os.path.join(FIX, "format_free.csv"),
        "--names",
        "mc,free",
        "--out",
        out,
    )
    assert rc == 0 and "McNemar exact" in text and "Fisher exact" in text
    with h5py.File(out) as f:
        assert f["common"].attrs["n"] == 120
    path = os.path.join(shared_data, "zeroeval_math-l5.csv")
    rc, js, _ = run(capsys, "formats", path, path, "--json")
    r = json.loads(js)["result"]
    assert rc == 0 and r["common"]["p_value"] == 1.0 and r["common"]["difference"] == 0.0
    rc, _, err = run(capsys, "formats", path, os.path.join(shared_data, "zeroeval_gsm8k.csv"))
    assert rc == 2 and "share no query id" in err


def test_judges_fixture(tmp_path, capsys):
    out = tmp_path / "j.h5"
    rc, text, _ = run(capsys, "judges", os.path.join(FIX, "judges_long.csv"), "--out", out)
    assert rc == 0 and "Fleiss' kappa" in text and "unanimous" in text and "lenient" in text
    with h5py.File(out) as f:
        assert f["agreement/cohen_kappa"].shape == (3, 3)
    bad = tmp_path / "bad.csv"
    bad.write_text("query_id,model,judge,correct\nq1,a,j1,2\n")
    target = tmp_path / "never.h5"
    rc, _, err = run(capsys, "judges", bad, "--out", target)
    assert rc == 2 and "row 2" in err and not target.exists()


@pytest.mark.parametrize(
    "argv, match",
    [
        (["vote", LONG, "--test-fraction", "1.5"], "--test-fraction"),
        (["vote", LONG, "--subset-size", "2"], "--subset-size"),
        (["route", LONG, "--folds", "1"], "--folds"),
        (["cascade", LONG, "--costs", "tiny=1"], "no cost for model"),
        (["ensembles", LONG, "--band", "x"], "--band"),
        (["formats", LONG, LONG, "--names", "a"], "--names"),
    ],
)
def test_bad_arguments_exit_2(argv, match, capsys):
    rc, _, err = run(capsys, *argv)
    assert rc == 2 and match in err and "Traceback" not in err


def test_vote_tetrachoric_rho(shared_data, capsys):
    import jax
    import numpy as np

    from cofail_jax import load_matrix, tetrachoric, train_test_split
    from cofail_jax._src.policies.votes import subset_votes

    path = os.path.join(shared_data, "zeroeval_math-l5.csv")
    m = load_matrix(path)
    models = list(m.models[:7])
    rc, js, _ = run(
        capsys,
        "vote",
        path,
        "--models",
        ",".join(models),
        "--rho",
        "tetrachoric",
        "--n-boot",
        50,
        "--json",
    )
    r = json.loads(js)["result"]["subsets"]
    assert rc == 0 and r["count"] == 35 and "tetrachoric" in r["rho"]
    # the same split (first half of the split key) and tetrachoric rho by hand
    mm = m.select_models(models)
    k_split, _ = jax.random.split(jax.random.key(0))
    train, test = train_test_split(k_split, mm.n, 0.5)
    t = tetrachoric(~mm.correct[train])
    rho = np.where(np.asarray(t.status) == 0, np.asarray(t.rho), np.nan)
    ref = subset_votes(mm.correct, size=3, train=train, test=test, rho=rho)
    assert r["slope_gain_on_rho"] == pytest.approx(ref.slope)
