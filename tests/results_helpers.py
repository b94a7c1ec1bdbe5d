"""One run per command on the small fixtures, shared by the JSON-schema, netCDF and report
tests: ``produce(command, tmp_path_factory)`` runs ``cofail COMMAND ... --json [--out]``
once per test session and returns ``(json document, results file or None)``."""

import contextlib
import io
import json
import os

from cofail_jax.cli.main import main

HERE = os.path.dirname(__file__)
POLICIES = os.path.join(HERE, "fixtures", "policies")
LONG = os.path.join(POLICIES, "queries_long.csv")
AUDIT_POOL = os.path.join(HERE, "fixtures", "audit", "pool.csv")
EEE = os.path.join(HERE, "fixtures", "importers", "eee")
SHARED = os.path.join(HERE, "fixtures", "shared")
GSM8K = os.path.join(SHARED, "zeroeval_gsm8k.csv")

# command -> (argv after the command; "{out}" is the results file, "{tmp}" a folder)
RUNS = {
    "certify": [LONG, "--out", "{out}"],
    "correlations": [LONG, "--bootstrap", "20", "--out", "{out}"],
    "identify": [LONG, "--out", "{out}"],
    "price": [LONG, "--method", "quadrature", "--out", "{out}"],
    "counterexample": ["--k", "4", "--p", "0.3", "--rho", "0.4", "--n-sim", "0", "--out",
                       "{out}"],
    "simulate": ["--law", "onefactor", "--rho", "0.4", "--models", "4", "--queries", "50",
                 "--out", "{out}"],
    "vote": [LONG, "--n-boot", "50", "--out", "{out}"],
    "route": [LONG, "--n-boot", "50", "--folds", "3", "--out", "{out}"],
    "cascade": [LONG, "--n-boot", "50", "--out", "{out}"],
    "ensembles": [LONG, "--partitions", "4", "--n-boot", "50", "--out", "{out}"],
    "formats": [os.path.join(POLICIES, "format_mc.csv"), os.path.join(POLICIES, "format_free.csv"),
                "--names", "mc,free", "--out", "{out}"],
    "judges": [os.path.join(POLICIES, "judges_long.csv"), "--out", "{out}"],
    "audit": [AUDIT_POOL, "--no-ratio", "--h5", "{out}"],
    "regrade": [AUDIT_POOL, "--no-symbolic"],
    "convert": [EEE, "--to", "{out}"],
    "export": ["{certify}", "--csv", "{tmp}/tables"],
    "sweep": ["{sweep_config}", "--no-progress"],
}
_CACHE: dict = {}


def produce(command: str, factory):
    """``(doc, path)`` for ``command``, run once per session."""
    if command in _CACHE:
        return _CACHE[command]
    tmp = factory.mktemp(command)
    out = str(tmp / f"{command}.h5")
    argv = [command]
    for a in RUNS[command]:
        if a == "{certify}":
            a = produce("certify", factory)[1]
        elif a == "{sweep_config}":  # a tiny pool, two pool sizes, a few replicates
            from sweep_helpers import write_config, write_matrix

            a = write_config(tmp / "sweep.toml", write_matrix(tmp / "pool.csv"), out,
                             bootstrap=8, pool_sizes=[2, 5], subsets=2)
        argv.append(a.format(out=out, tmp=tmp) if "{" in a else a)
    buf, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(buf), contextlib.redirect_stderr(err):
        rc = main(argv + ["--json"])
    assert rc == 0, (argv, err.getvalue())
    doc = json.loads(buf.getvalue())
    _CACHE[command] = (doc, out if os.path.exists(out) else None)
    return _CACHE[command]
