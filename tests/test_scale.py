"""Issue 17 (leaderboard scale): the vectorised loaders, the bit-packed greedy beta curve
and the pair-chunked tetrachoric kernel give the same answers as the straightforward
implementations they replace (kept here as test oracles). No timings are asserted."""

import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from cofail_jax import InputError, load_matrix
from cofail_jax._src import tetrachoric as T
from cofail_jax._src.certificate import beta_curve
from cofail_jax._src.io.tables import BAD_CELL, encode_cells, matrix_from_records, parse_cell


def write(path, text):
    path.write_text(text)
    return str(path)


# ---- loading -----------------------------------------------------------------------------
def test_wide_csv_fast_path_matches_cell_by_cell(tmp_path):
    rng = np.random.default_rng(0)
    truth = rng.random((57, 9)) < 0.5
    vocab = {True: ["1", "true", "TRUE", "True", " 1", "1.0"],
             False: ["0", "false", "FALSE", "0.0", "0 "]}
    for mixed in (False, True):  # int8 columns, then strings (dictionary-encoded)
        lines = ["query_id," + ",".join(f"m{j}" for j in range(9))]
        for i in range(57):
            cells = [(rng.choice(vocab[bool(v)]) if mixed else str(int(v))) for v in truth[i]]
            lines.append(f"q{i}," + ",".join(cells))
        m = load_matrix(write(tmp_path / f"w{mixed}.csv", "\n".join(lines) + "\n"))
        np.testing.assert_array_equal(m.correct, truth)
        assert m.query_ids == tuple(f"q{i}" for i in range(57))
        assert m.correct.dtype == np.bool_


@pytest.mark.parametrize("cell", ["yes", "t", "no", "f", "2", "-1", "y"])
def test_cell_vocabulary_is_zero_one_true_false(tmp_path, cell):
    f = write(tmp_path / "v.csv", f"query_id,a,b\nq1,1,0\n\nq2,0,{cell}\n")
    with pytest.raises(InputError, match=rf"v.csv: row 4, column 'b': cell '{cell}' is not "
                                         r"0/1/true/false \(any case\)"):
        load_matrix(f)
    with pytest.raises(ValueError):
        parse_cell(cell)


def test_missing_words_and_blank_rows(tmp_path):
    f = write(tmp_path / "m.csv", "query_id,a,b\nq1,1,NA\n,,\nq2,True,null\nq3,0,1\n")
    m = load_matrix(f, missing="drop-queries")
    assert m.query_ids == ("q3",)


def test_empty_query_id_is_rejected(tmp_path):
    f = write(tmp_path / "e.csv", "query_id,a,b\nq1,1,0\n  ,1,0\n")
    with pytest.raises(InputError, match=r"e.csv: row 3: has an empty query id"):
        load_matrix(f)
    recs = [{"query_id": "q1", "model": "a", "correct": 1}, {"query_id": " ", "model": "a",
                                                              "correct": 0}]
    with pytest.raises(InputError, match=r"record 2: has no 'query_id'"):
        matrix_from_records(recs, source="x")


def test_encode_cells_matches_parse_cell():
    values = [1, 0, True, False, 1.0, 0.0, np.nan, None, "1", "0", "true", "FALSE", " 1 ", "",
              "NA", "nan", "None", "null", "yes", "2", 2, 0.5, "t"]
    want = []
    for v in values:
        try:
            want.append(parse_cell(v))
        except ValueError:
            want.append(BAD_CELL)
    np.testing.assert_array_equal(encode_cells(values), want)


def _records_oracle(records):
    """(correct, query ids, models) the record-by-record way."""
    q, m = {}, {}
    for r in records:
        q.setdefault(str(r["query_id"]).strip(), len(q))
        m.setdefault(str(r["model"]).strip(), len(m))
    c = np.zeros((len(q), len(m)), bool)
    for r in records:
        if r.get("sample", 0) == 0:
            c[q[str(r["query_id"]).strip()], m[str(r["model"]).strip()]] = parse_cell(r["correct"]) == 1
    return c, tuple(q), tuple(m)


def test_records_as_columns_match_the_oracle():
    rng = np.random.default_rng(3)
    recs = []
    for i in rng.permutation(30):
        for j in rng.permutation(4):
            for s in range(2):
                recs.append({"query_id": f"q{i}", "model": f"m{j}", "sample": s,
                             "correct": int(rng.random() < 0.5), "cost": float(i + j),
                             "domain": f"d{i % 3}", "answer": None if j == 1 else f"a{i}"})
    m = matrix_from_records(recs, source="x")
    c, q, mo = _records_oracle(recs)
    assert m.query_ids == q and m.models == mo
    np.testing.assert_array_equal(m.correct, c)
    assert m.samples.shape == (2, 30, 4)
    qi, mj = q.index("q7"), mo.index("m2")
    assert m.cell_meta["cost"][qi, mj] == 9.0 and m.query_meta["domain"][qi] == "d1"
    assert m.cell_meta["answer"][qi, mo.index("m1")] is None


def test_records_first_problem_in_record_order():
    recs = [{"query_id": "q1", "model": "a", "correct": 1},
            {"query_id": "q1", "model": "a", "correct": 0},  # duplicate (record 2)
            {"query_id": "q2", "model": "a", "correct": "yes"}]  # bad value (record 3)
    with pytest.raises(InputError, match=r"record 3: correct value 'yes' is not 0/1/true/false"):
        matrix_from_records(recs, source="x")
    with pytest.raises(InputError, match=r"record 2: duplicate record for query 'q1'"):
        matrix_from_records(recs[:2], source="x")
    with pytest.raises(InputError, match=r"record 2: sample 'x' is not an integer"):
        matrix_from_records([recs[0], {**recs[2], "correct": 1, "sample": "x"}], source="x")


# ---- greedy beta curve ---------------------------------------------------------------------
def _beta_curve_oracle(correct):
    """The pre-issue-17 implementation: a Python list of gains at every step."""
    correct = np.asarray(correct, dtype=bool)
    n, k = correct.shape
    covered = np.zeros(n, dtype=bool)
    remaining = list(range(k))
    chosen, betas = [], []
    for _ in range(k):
        gains = [(correct[:, j] & ~covered).sum() for j in remaining]
        j = remaining.pop(int(np.argmax(gains)))
        covered |= correct[:, j]
        chosen.append(j)
        betas.append(1.0 - covered.mean())
    return np.asarray(chosen, dtype=np.int64), np.asarray(betas)


def test_beta_curve_bitpacked_equals_oracle():
    rng = np.random.default_rng(0)
    for t in range(60):
        n, k = int(rng.integers(1, 200)), int(rng.integers(1, 25))
        c = rng.random((n, k)) < rng.random(k) * rng.choice([0.05, 0.3, 1.0])
        if t % 4 == 0:  # duplicated columns: ties must go to the lower index
            c[:, : k // 2] = c[:, k // 2: 2 * (k // 2)]
        if t % 5 == 0:
            c[:, 0] = True
        order, beta = beta_curve(c)
        o2, b2 = _beta_curve_oracle(c)
        np.testing.assert_array_equal(order, o2)
        np.testing.assert_array_equal(beta, b2)


# ---- pair-chunked tetrachoric --------------------------------------------------------------
def _pool():
    rng = np.random.default_rng(4)
    E = rng.random((300, 24)) < rng.random(24)
    E[:, 3] = True  # degenerate
    E[:, 5] = E[:, 6] & E[:, 7]  # boundary pairs
    E[:, 9] = E[:, 10]
    return E


@pytest.mark.parametrize("weighted, correction", [(False, False), (True, True)])
def test_chunked_tetrachoric_matches_fused(weighted, correction):
    E = _pool()
    w = np.random.default_rng(1).integers(0, 3, E.shape[0]).astype(float) if weighted else None
    a = T.tetrachoric(E, w, correction=correction)  # 276 pairs: the fused kernel
    b = T.tetrachoric(E, w, correction=correction, chunk_size=40)  # 7 chunks
    assert isinstance(b.rho, np.ndarray)
    for name in ("rho", "se", "phi", "tau", "error_rate", "both_wrong"):
        np.testing.assert_allclose(np.asarray(getattr(b, name)), np.asarray(getattr(a, name)),
                                   rtol=0, atol=1e-11, equal_nan=True, err_msg=name)
    np.testing.assert_array_equal(b.status, np.asarray(a.status))
    for name in ("n_ok", "n_boundary_low", "n_boundary_high", "n_degenerate",
                 "n_not_converged", "n_corrected"):
        assert int(getattr(b, name)) == int(getattr(a, name)), name
    assert abs(float(b.mean_rho) - float(a.mean_rho)) < 1e-12


def test_pair_counts_are_exact():
    E = _pool()
    count, both, n_obs = T.pair_counts(E, block=64)
    f = E.astype(np.int64)
    np.testing.assert_array_equal(both, f.T @ f)
    np.testing.assert_array_equal(count, f.sum(axis=0))
    assert n_obs == E.shape[0]


SHARD_SCRIPT = textwrap.dedent("""
    import os, sys, json
    # the session's other XLA flags kept (conftest's: cheaper compilation), 4 host devices
    os.environ["XLA_FLAGS"] = " ".join(
        [f for f in os.environ.get("XLA_FLAGS", "").split()
         if not f.startswith("--xla_force_host_platform_device_count")]
        + ["--xla_force_host_platform_device_count=4"])
    import jax
    jax.config.update("jax_enable_x64", True)
    import numpy as np
    from cofail_jax._src import tetrachoric as T
    rng = np.random.default_rng(4)
    E = rng.random((200, 30)) < rng.random(30)
    one = T.tetrachoric(E, chunk_size=32)
    four = T.tetrachoric(E, chunk_size=32, devices="all")
    diff = [f for f in one._fields if f != "se" and not np.array_equal(
        np.asarray(getattr(one, f)), np.asarray(getattr(four, f)), equal_nan=True)]
    # se: the SPMD-partitioned program rounds its last steps differently (~1e-14 relative)
    se_ok = np.allclose(one.se, four.se, rtol=1e-12, atol=0, equal_nan=True)
    print("RESULT", json.dumps({"devices": jax.device_count(), "differ": diff,
                                "se_close": bool(se_ok)}))
""")


def test_chunked_tetrachoric_identical_on_four_host_devices(tmp_path):
    script = tmp_path / "shard.py"
    script.write_text(SHARD_SCRIPT)
    env = dict(os.environ)
    env["PYTHONPATH"] = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    out = subprocess.run([sys.executable, str(script)], env=env, capture_output=True, text=True,
                         timeout=300)
    line = [ln for ln in out.stdout.splitlines() if ln.startswith("RESULT")]
    assert line, out.stderr[-2000:]
    res = json.loads(line[0].split(" ", 1)[1])
    assert res == {"devices": 4, "differ": [], "se_close": True}


def test_correlations_summary_above_threshold(monkeypatch):
    from cofail_jax import OutcomeMatrix
    from cofail_jax.cli import correlations as C

    E = _pool()
    m = OutcomeMatrix(correct=~E, query_ids=tuple(f"q{i}" for i in range(E.shape[0])),
                      models=tuple(f"m{j}" for j in range(E.shape[1])))
    full = C.compute(m, bootstrap=0)
    monkeypatch.setattr(C, "SUMMARY_ABOVE", 10)
    monkeypatch.setattr(C, "FULL_EIGEN_UP_TO", 10)
    summ = C.compute(m)  # bootstrap off by default above the threshold
    assert "bootstrap" not in summ and summ["notes"]
    assert set(summ["matrices"]) == {"tau", "error_rate"}
    assert summ["mean_rho"] == pytest.approx(full["mean_rho"], abs=1e-13)
    rho = full["matrices"]["rho"][np.triu(full["matrices"]["status"] == T.OK, 1)]
    np.testing.assert_allclose(summ["summary"]["rho"]["values"],
                               np.quantile(rho, C.QUANTILES), atol=1e-12)
    # Lanczos extremes equal the full decomposition's
    keep = np.flatnonzero(~np.isnan(np.diag(full["matrices"]["rho"])))
    eig = np.linalg.eigvalsh(full["matrices"]["rho"][np.ix_(keep, keep)])
    assert summ["eigen"]["min_eig"] == pytest.approx(eig[0], abs=1e-8)
    np.testing.assert_allclose(summ["eigen"]["largest"], eig[::-1][:2], atol=1e-8)
    assert "matrices" in C.compute(m, bootstrap=0, full_matrix=True)
    assert C.compute(m, bootstrap=0, full_matrix=True)["matrices"]["rho"].shape == (24, 24)
