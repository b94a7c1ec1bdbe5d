"""The combined answer checker (math-verify + built-in layer), strict units, timeouts
and the process pool, and the audit reading every repeated sample."""

import csv
import json
import os

import numpy as np
import pytest

from cofail_jax import from_pandas, load_matrix, to_pandas
from cofail_jax._src.audit import checker as C
from cofail_jax._src.audit.evidence import audit_evidence
from cofail_jax._src.audit.regrade import regrade
from cofail_jax.cli.main import main

HERE = os.path.dirname(__file__)
SAMPLES_POOL = os.path.join(HERE, "fixtures", "audit", "pool_samples.csv")
MV = C.math_verify_available()
needs_mv = pytest.mark.skipif(not MV, reason="math-verify not installed")

# answers equivalent to each reference of pool_samples.csv, by hand (make_samples_pool.py)
EQUIV = {
    "sep": {"10080", "10,080", r"10,\!080", r"7! \times 2!"},
    "pm": {r"3-2\sqrt2,\ 3+2\sqrt2", r"3+2\sqrt2, 3-2\sqrt2", r"3 \pm 2\sqrt{2}"},
    "unit": {"864", r"864 \mbox{ inches}^2"},
    "fname": {r"-\frac1{2x}", r"-\frac{1}{2x}", r"k(x) = -\frac{1}{2x}"},
    "cash": {"32348", "32,348", r"\$32,\!348"},
    "interval": {r"(-\infty,3]", r"(-\infty, 3]"},
    "easy": {"12"},
    "hard": {"7"},
}


@pytest.fixture(scope="module")
def spool():
    return load_matrix(SAMPLES_POOL)


def test_without_math_verify_the_builtin_layer_runs(monkeypatch):
    monkeypatch.setattr(C, "_import_math_verify", lambda: None)
    assert not C.math_verify_available()
    assert C.resolve_checker("auto") == "builtin"
    assert C.checker_info("auto")["checker"] == "builtin"
    with pytest.raises(ImportError, match="math-verify"):
        C.resolve_checker("math-verify")
    v = C.check_answer("10080", r"10,\!080")
    assert v.equal and v.checker == "builtin" and v.math_verify == ""
    assert not C.check_answer(r"-\frac{1}{2}x", r"-\frac1{2x}").equal


@needs_mv
def test_disagreement_carries_both_verdicts():
    v = C.check_answer("x=1, y=2", "1, 2")
    assert v.equal and v.checker == "math-verify" and v.builtin.startswith("no")
    assert v.disagree and "math-verify: yes" in v.note
    info = C.checker_info("auto")
    assert info["checker"] == "math-verify+builtin" and info["math_verify_version"]
    # words never reach math-verify (it reads 'paris' as p*a*r*i*s)
    w = C.check_answer("sirap", "paris")
    assert not w.equal and w.checker == "builtin" and w.math_verify == ""


@pytest.mark.parametrize("checker", ["auto", "builtin"])
def test_strict_units(checker):
    loose = dict(checker=checker)
    strict = dict(checker=checker, strict_units=True)
    assert C.check_answer("864", r"864 \mbox{ inches}^2", **loose).equal
    assert not C.check_answer("864", r"864 \mbox{ inches}^2", **strict).equal
    assert C.check_answer(r"864 \text{ square inches}", r"864 \mbox{ inches}^2", **strict).equal
    assert not C.check_answer("32348", r"\$32,\!348", **strict).equal
    assert C.check_answer("5 cm", "5 cm.", **strict).equal
    # two different units never match, strict or not
    assert not C.check_answer(r"5 \text{ m}", r"5 \text{ cm}", **loose).equal
    assert C.check_answer(r"10,\!080", "10080", **strict).equal  # separators are not units


def test_enormous_and_adversarial_answers_cost_at_most_the_timeout():
    big = "{" * 50_000 + "1" + "}" * 50_000  # 100 kB of nested braces
    v = C.check_answer(big, "1")
    assert not v.equal and v.rule == "different; too long"
    # without the length guard the pair runs into its timeout, and nothing crashes
    v = C.check_answer(big, "2", max_chars=None, timeout=0.3)
    assert not v.equal and v.rule in ("timeout", "different")
    v = C.check_answer("9^{9^{9^{9}}}", r"\frac{1}{2}", timeout=0.3)
    assert not v.equal


def test_check_pairs_cache_and_progress():
    calls = []
    cache = {("1", "2"): C.Verdict(True, "planted", "builtin", "", "")}
    got = C.check_pairs([("1", "2"), ("0.5", r"\frac12"), ("0.5", r"\frac12")], checker="builtin",
                        cache=cache, progress=lambda d, t: calls.append((d, t)))
    assert got is cache and got[("1", "2")].rule == "planted"  # reused, not rechecked
    assert got[("0.5", r"\frac12")].equal and len(got) == 2
    assert calls[0] == (0, 1) and calls[-1] == (1, 1)


def test_process_pool_matches_serial_and_survives_a_bad_pair():
    pairs = [(str(i), str(i % 7)) for i in range(20)] + [(r"10,\!080", r"7! \times 2!"),
                                                         ("9^{9^{9^{9}}}", "1")]
    calls = []
    pooled = C.check_pairs(pairs, workers=2, chunk_size=4, timeout=1.0,
                           progress=lambda d, t: calls.append((d, t)))
    serial = C.check_pairs(pairs[:-1], timeout=1.0)
    for p in pairs[:-1]:
        assert pooled[p].equal == serial[p].equal, p
    assert pooled[pairs[-2]].equal and not pooled[pairs[-1]].equal
    assert calls[-1] == (len(pairs), len(pairs))


# ---- every repeated sample ----------------------------------------------------------
def test_loader_keeps_every_sample_answer(spool):
    assert spool.samples.shape == (4, 8, 4)
    ans = spool.sample_meta["answer"]
    assert ans.shape == (4, 8, 4)
    assert (ans[0] == spool.cell_meta["answer"]).all()
    with open(SAMPLES_POOL, encoding="utf-8") as f:
        for r in csv.DictReader(f):
            i, j = spool.query_ids.index(r["query_id"]), spool.models.index(r["model"])
            assert ans[int(r["sample"]), i, j] == r["answer"]
    sub = spool.select_models(["gamma", "alpha"]).select_queries(np.array([0, 3]))
    assert sub.sample_meta["answer"].shape == (4, 2, 2)
    assert sub.sample_meta["answer"][2, 1, 0] == ans[2, 3, 2]


def test_sample_answers_round_trip_through_long_records(spool):
    pd = pytest.importorskip("pandas")

    back = from_pandas(pd.DataFrame(to_pandas(spool, "long", samples=True)))
    assert (back.sample_meta["answer"] == spool.sample_meta["answer"]).all()


@pytest.mark.parametrize("checker", [pytest.param("auto", marks=needs_mv), "builtin"])
def test_regrade_every_sample_against_hand_labels(spool, checker):
    r = regrade(spool, checker=checker)
    assert r.n_samples == 4 and r.n_checked == 4 * 8 * 4 and r.status == "ok"
    ans = spool.sample_meta["answer"]
    want = np.vectorize(lambda a, q: a in EQUIV[q], otypes=[bool])(
        ans, np.asarray(spool.query_ids, object)[None, :, None])
    assert ((r.matrix.samples == 1) == want).all()
    assert (r.matrix.correct == want[0]).all()
    assert len(r.flips) == int(want.sum() - (spool.samples == 1).sum()) == 33
    assert {f.sample for f in r.flips} == {0, 1, 2, 3}
    assert all(f.rule and f.checker in ("builtin", "math-verify") for f in r.flips)


def test_audit_reads_every_sample(spool):
    ev = {e.query_id: e for e in audit_evidence(spool, checker="builtin")}
    assert set(ev) == {"fname", "hard"}
    f = ev["fname"]
    assert f.n_samples == 4 and f.equiv_models == ("alpha",) and f.n_equiv_samples == 3
    assert f.suggested_class == "grader defect" and "3 of the 16 answers" in f.suggested_rule
    assert ev["hard"].suggested_class == "genuine" and ev["hard"].n_equiv_samples == 0


def _read(path):
    with open(path, encoding="utf-8") as f:
        return list(csv.DictReader(f))


def test_cli_regrade_strict_units_and_rules(tmp_path, capsys):
    out = tmp_path / "flips.csv"
    assert main(["regrade", SAMPLES_POOL, "--checker", "builtin", "--out", str(out)]) == 0
    rows = _read(out)
    assert len(rows) == 33 and {"sample", "rule", "checker", "note"} <= set(rows[0])
    capsys.readouterr()
    assert main(["regrade", SAMPLES_POOL, "--checker", "builtin", "--strict-units", "--out",
                 str(out)]) == 0
    strict = _read(out)
    # unit and currency flips are gone, the rest stay
    assert strict == [r for r in rows if r["query_id"] not in ("unit", "cash")]
    assert main(["regrade", SAMPLES_POOL, "--workers", "-1"]) == 2
    assert "--workers" in capsys.readouterr().err


def test_cli_audit_shows_the_rule_per_cell(capsys):
    assert main(["audit", SAMPLES_POOL, "--checker", "builtin", "--no-ratio"]) == 0
    text = capsys.readouterr().out
    assert "the rule that fired per cell" in text and "checker: checker builtin" in text


def test_cli_ensembles_regrades_every_sample(capsys):
    assert main(["ensembles", SAMPLES_POOL, "--regrade", "--checker", "builtin", "--size", "1",
                 "--partitions", "2", "--n-boot", "20", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    acc = out["result"]["accuracy"] if "result" in out else out["accuracy"]
    spool = load_matrix(SAMPLES_POOL)
    want = regrade(spool, checker="builtin").matrix.samples.mean(axis=(0, 1))
    assert np.allclose([acc[m] for m in spool.models], want)
