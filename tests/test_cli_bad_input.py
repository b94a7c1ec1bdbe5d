"""Every command x a corpus of bad inputs and bad options (issue 16): exit status 2,
exactly one line on stderr, no "Traceback", and no new file. The CLI runs in-process
(``cofail_jax.cli.main.main(argv)``), and every bad option fails at parse time, before
any file is read or anything is compiled, so the whole table costs seconds of CPU."""

from __future__ import annotations

import os

import numpy as np
import pytest
from hang import hang_guard

from cofail_jax.cli.main import main





def run_cli(argv, capsys):
    with hang_guard(what="command"):
        try:
            rc = main([str(a) for a in argv])
        except SystemExit as e:
            rc = e.code
    out, err = capsys.readouterr()
    return rc, out, err


def listing(root) -> set[str]:
    out = set()
    for dirpath, dirs, files in os.walk(root):
        out.update(os.path.relpath(os.path.join(dirpath, f), root) for f in files + dirs)
    return out


def assert_clean_failure(rc, err, before, root):
    assert rc == 2, err
    assert "Traceback" not in err
    lines = err.strip("\n").split("\n")
    assert len(lines) == 1 and lines[0].startswith("cofail"), err
    assert listing(root) == before, "a failed run left a file behind"


# ---- the corpus --------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    from cofail_jax._src.io.formats import save_matrix_h5
    from cofail_jax._src.matrix import OutcomeMatrix

    root = tmp_path_factory.mktemp("corpus")
    rng = np.random.default_rng(0)
    m = OutcomeMatrix(correct=rng.random((60, 4)) < 0.6,
                      query_ids=tuple(f"q{i}" for i in range(60)), models=("a", "b", "c", "d"),
                      source="corpus")
    good_h5 = root / "good.h5"
    save_matrix_h5(m, str(good_h5))
    data = good_h5.read_bytes()
    bad = {}
    mid = len(data) // 3  # a few KB flipped mid-file, past the superblock
    flipped = bytearray(data)
    for i in range(mid, min(len(data), mid + 4096)):
        flipped[i] ^= 0xFF
    bad["corrupt.h5"] = bytes(flipped)
    r = np.random.default_rng(31)
    noisy = bytearray(data)
    for i in range(len(data) // 2, len(data) // 2 + 2000):
        noisy[i] ^= int(r.integers(1, 256))
    bad["noisy.h5"] = bytes(noisy)
    bad["binary.csv"] = bytes(np.random.default_rng(1).integers(0, 256, 3000, dtype=np.uint8))
    import gzip

    bad["gz.csv"] = gzip.compress(b"query_id,a,b\nq1,1,0\n")
    bad["utf16.csv"] = "query_id,a,b\nq1,1,0\nq2,0,1\n".encode("utf-16")
    bad["empty.csv"] = b""
    bad["bigfield.csv"] = b"query_id,model,judge,correct\nq1," + b"x" * 200_000 + b",j,1\n"
    paths = {}
    for name, blob in bad.items():
        (root / name).write_bytes(blob)
        paths[name] = root / name
    (root / "adir").mkdir()
    paths["adir"] = root / "adir"
    paths["missing.csv"] = root / "missing.csv"
    loop = root / "loop"
    (loop / "m1").mkdir(parents=True)
    (loop / "m1" / "up").symlink_to("..")
    (loop / "self").symlink_to(".")
    paths["loop"] = loop
    ok = root / "ok.csv"
    ok.write_text("query_id,a,b,c\n" + "".join(f"q{i},{i % 2},{(i // 2) % 2},{(i // 3) % 2}\n"
                                               for i in range(12)))
    paths["ok.csv"] = ok
    return root, paths


BAD_INPUTS = ("corrupt.h5", "noisy.h5", "binary.csv", "gz.csv", "utf16.csv", "empty.csv",
              "bigfield.csv", "adir", "missing.csv", "loop")


def argv_with_input(cmd: str, path, out) -> list:
    """A command line that reads ``path`` as its input (``out``: a fresh output name)."""
    return {
        "convert": ["convert", path, "--to", out / "x.h5"],
        "formats": ["formats", path, path],
        "simulate": ["simulate", "--calibrate-to", path, "--out", out / "sim.csv"],
        "export": ["export", path, "--csv", out / "tables"],
        "report": ["report", path, "--outdir", out / "figs"],
        "sweep": ["sweep", path, "--out", out / "sweep.h5"],
    }.get(cmd, [cmd, path])


INPUT_COMMANDS = ("certify", "correlations", "price", "identify", "vote", "route", "cascade",
                  "ensembles", "audit", "regrade", "convert", "formats", "judges", "simulate",
                  "export", "report", "sweep")


@pytest.mark.parametrize("cmd", INPUT_COMMANDS)
def test_bad_inputs(cmd, corpus, capsys, tmp_path):
    root, paths = corpus
    for name in BAD_INPUTS:
        before_root, before_out = listing(root), listing(tmp_path)
        rc, out, err = run_cli(argv_with_input(cmd, paths[name], tmp_path), capsys)
        assert_clean_failure(rc, err, before_root, root)
        assert listing(tmp_path) == before_out, f"{cmd} {name}: left a file behind"


def test_format_wide_on_binary_and_utf16(corpus, capsys):
    root, paths = corpus
    for name, word in (("binary.csv", "binary"), ("utf16.csv", "UTF-16"), ("corrupt.h5", "HDF5")):
        before = listing(root)
        rc, _, err = run_cli(["certify", paths[name], "--format", "wide"], capsys)
        assert_clean_failure(rc, err, before, root)
        assert word in err


def test_corrupt_h5_names_the_file(corpus, capsys):
    root, paths = corpus
    for cmd in ("certify", "export"):
        argv = ["certify", paths["corrupt.h5"]] if cmd == "certify" else \
            ["export", paths["corrupt.h5"], "--csv", root / "never"]
        rc, _, err = run_cli(argv, capsys)
        assert rc == 2 and "corrupt.h5" in err and len(err.strip().split("\n")) == 1


def test_directory_says_directory(corpus, capsys):
    root, paths = corpus
    for argv in (["judges", paths["adir"]], ["export", paths["adir"], "--csv", root / "never"],
                 ["certify", paths["adir"], "--format", "wide"]):
        rc, _, err = run_cli(argv, capsys)
        assert rc == 2 and "directory" in err and "no such file" not in err, err


# ---- bad options: parse-time failures ------------------------------------------------------------
HUGE = str(2**70)
SEEDED = ("correlations", "price", "identify", "simulate", "counterexample", "vote", "route",
          "cascade", "ensembles")
BAD_OPTIONS = [
    *[(c, ["--seed", HUGE]) for c in SEEDED],
    *[(c, ["--seed", "-1"]) for c in SEEDED],
    *[(c, ["--seed", "nan"]) for c in SEEDED],
    *[(c, ["--out", "{dir}"]) for c in ("certify", "correlations", "price", "identify", "vote",
                                        "route", "cascade", "ensembles", "judges", "formats",
                                        "counterexample", "simulate", "sweep", "regrade", "audit")],
    *[(c, ["--out", "{input}"]) for c in ("certify", "correlations", "price", "identify", "vote",
                                          "route", "cascade", "ensembles", "regrade", "audit")],
    ("convert", ["--to", "{input}"]), ("convert", ["--to", "{dir}"]),
    ("audit", ["--h5", "{dir}"]), ("regrade", ["--matrix-out", "{input}"]),
    ("export", ["--csv", "{input}"]), ("report", ["--outdir", "{input}"]),
    ("certify", ["--asb", "nan"]), ("certify", ["--K", "-1"]), ("certify", ["--n", "0"]),
    ("certify", ["--delta", "0"]), ("certify", ["--alpha", "1.5"]), ("certify", ["--alpha", "nan"]),
    ("certify", ["--overhead", "inf"]), ("certify", ["--pool-size", "-3"]),
    ("certify", ["--audit", "{dir}"]),
    ("correlations", ["--bootstrap", "-1"]), ("correlations", ["--tol", "0"]),
    ("correlations", ["--eps", "-0.1"]), ("correlations", ["--correction", "nan"]),
    ("price", ["--samples", "0"]), ("price", ["--samples", str(10**15)]),
    ("price", ["--alpha", "0"]),
    ("identify", ["--top", "-2"]), ("identify", ["--max-exact-k", "1000"]),
    ("simulate", ["--queries", str(10**12)]), ("simulate", ["--models", "-3"]),
    ("simulate", ["--rho", "nan"]), ("simulate", ["--artefacts", "1.5"]),
    ("simulate", ["--theta", "-1"]), ("simulate", ["--omega", "2"]),
    ("counterexample", ["--k", "-1"]), ("counterexample", ["--n-sim", "-5"]),
    ("counterexample", ["--rho", "2"]), ("counterexample", ["--p2", "nan"]),
    *[(c, ["--n-boot", "-5"]) for c in ("vote", "route", "cascade", "ensembles")],
    *[(c, ["--level", "1.5"]) for c in ("vote", "route", "cascade", "ensembles")],
    *[(c, ["--test-fraction", "0"]) for c in ("vote", "route", "cascade")],
    ("vote", ["--subset-size", "0"]), ("route", ["--C", "-1"]), ("route", ["--folds", "-1"]),
    ("route", ["--min-df", "0"]), ("cascade", ["--thresholds", "0"]),
    ("ensembles", ["--size", "0"]), ("ensembles", ["--width", "1.5"]),
    ("ensembles", ["--partitions", "-1"]),
    ("judges", ["--alpha", "nan"]), ("formats", ["--alpha", "2"]),
    ("regrade", ["--show", "-1"]), ("regrade", ["--rel-tol", "-1"]),
    ("audit", ["--rel-tol", "nan"]), ("audit", ["--max-artefacts", "-1"]),
    ("audit", ["--delta", "1"]),
]


def base_argv(cmd: str, ok, out) -> list:
    return {
        "counterexample": ["counterexample"],
        "simulate": ["simulate", "--out", out / "sim.csv"],
        "convert": ["convert", ok, "--to", out / "x.h5"],
        "formats": ["formats", ok, ok],
        "judges": ["judges", ok],
        "export": ["export", out / "r.h5", "--csv", out / "t"],
        "report": ["report", out / "r.h5"],
        "sweep": ["sweep", ok],
    }.get(cmd, [cmd, ok])


def _fill(args, ok, d):
    return [str(ok) if a == "{input}" else str(d) if a == "{dir}" else a for a in args]


@pytest.mark.parametrize("cmd,opts", BAD_OPTIONS,
                         ids=[f"{c}:{' '.join(o)}" for c, o in BAD_OPTIONS])
def test_bad_options(cmd, opts, corpus, capsys, tmp_path, monkeypatch):
    import jax

    root, paths = corpus
    compiled = []
    monkeypatch.setattr(jax, "jit", lambda *a, **k: compiled.append(a) or (_ for _ in ()).throw(
        AssertionError("compiled before rejecting a bad option")))
    d = tmp_path / "adir"
    d.mkdir()
    before_root, before_out = listing(root), listing(tmp_path)
    argv = base_argv(cmd, paths["ok.csv"], tmp_path)
    # replace an option the base line already sets, else append it
    if opts[0] in argv:
        i = argv.index(opts[0])
        argv = argv[:i] + argv[i + 2:]
    rc, out, err = run_cli(argv + _fill(opts, paths["ok.csv"], d), capsys)
    assert_clean_failure(rc, err, before_root, root)
    assert listing(tmp_path) == before_out
    assert not compiled
    flag = opts[0].lstrip("-")
    assert flag in err or opts[0] in err, err


def test_seed_message_states_the_range(corpus, capsys):
    _, paths = corpus
    rc, _, err = run_cli(["correlations", paths["ok.csv"], "--seed", HUGE], capsys)
    assert rc == 2 and "--seed" in err and "[0, 4294967295]" in err


def test_certify_order_names_order(corpus, capsys):
    _, paths = corpus
    rc, _, err = run_cli(["certify", paths["ok.csv"], "--order", "a,zzz"], capsys)
    assert rc == 2 and "--order" in err and "--models" not in err


# ---- outputs: replace notice, input protection, temporary files ---------------------------------
def test_output_replace_notice_and_stale_temp(corpus, capsys, tmp_path):
    _, paths = corpus
    target = tmp_path / "m.h5"
    rc, _, err = run_cli(["convert", paths["ok.csv"], "--to", target], capsys)
    assert rc == 0 and "replaced" not in err
    stale = tmp_path / ".m.h5.cofail-tmp-999999999.tmp"  # a pid that cannot be alive
    stale.write_bytes(b"left by kill -9")
    rc, _, err = run_cli(["convert", paths["ok.csv"], "--to", target], capsys)
    assert rc == 0 and f"replaced {target}" in err
    assert not stale.exists()
    assert sorted(os.listdir(tmp_path)) == ["m.h5"]


def test_interrupted_write_leaves_no_temp(tmp_path):
    from cofail_jax._src.h5 import atomic_output

    target = tmp_path / "r.h5"
    with pytest.raises(KeyboardInterrupt):
        with atomic_output(target) as tmp:
            with open(tmp, "w") as f:
                f.write("partial")
            raise KeyboardInterrupt
    assert os.listdir(tmp_path) == []


def test_sigterm_unwinds_and_cleans(tmp_path):
    """SIGTERM during a write: the CLI's handler unwinds like Ctrl-C (exit 143) and the
    temporary file is removed."""
    import subprocess
    import sys
    import textwrap

    code = textwrap.dedent(f"""
        import os, signal, sys
        from cofail_jax.cli import main as M
        from cofail_jax._src.h5 import atomic_output
        def slow(args):
            with atomic_output({str(tmp_path / 'r.h5')!r}) as tmp:
                open(tmp, 'w').write('x')
                os.kill(os.getpid(), signal.SIGTERM)
                signal.pause()
        parser_build = M.build_parser
        def build():
            p = parser_build()
            return p
        import argparse
        args = argparse.Namespace(command='certify', func=slow, json=False)
        M.build_parser = lambda only=None: type('P', (), {{'parse_args': lambda self, a: args,
                                                 'print_help': lambda self: None}})()
        sys.exit(M.main([]))
    """)
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert p.returncode == 143, p.stderr
    assert os.listdir(tmp_path) == []
