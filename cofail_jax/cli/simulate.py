"""``cofail simulate``: draw an outcome matrix from a law with known beta, truth beside it."""

from __future__ import annotations

import json

import numpy as np

from .common import (
    add_matrix_input_args,
    add_seed_arg,
    matrix_options,
    report_notes,
    add_command,
    count,
    emit_json,
    float_range,
    fmt_table,
    input_arg,
    jsonable,
    nonneg_float,
    output_file,
    positive_float,
    probability,
)

LAWS = ("independent", "onefactor", "gaussian", "clayton", "common-shock", "irt")

EXAMPLES = """\
  cofail simulate --law common-shock --models 67 --queries 330 --omega 0.02 --seed 0 --out pool.csv
  cofail simulate --law irt --calibrate-to results.csv --seed 1 --out pool.h5
  cofail simulate --law onefactor --rho 0.4 --artefacts 0.01 --out pool.jsonl
  cofail simulate --law clayton --theta 1.5 --accuracy-range 0.5,0.95 --json --out pool.csv
"""


def add_parser(sub) -> None:
    p = add_command(
        sub,
        "simulate",
        help="draw an outcome matrix from a law whose beta is known",
        description="Draw an n x k outcome matrix (1 = correct) from a dependence law whose "
        "all-wrong probability beta is known exactly or to a stated precision, to "
        "check an estimator against the truth. Writes wide CSV (.csv), long JSONL "
        "(.jsonl) or cofail HDF5 (.h5); the law, its parameters and the true beta "
        "of the pool and of each leading sub-pool go to <out>.truth.json (CSV/JSONL) "
        "or to HDF5 attributes, with provenance.",
        examples=EXAMPLES,
    )
    p.add_argument("--law", choices=LAWS, default="irt", help="dependence law")
    p.add_argument("--models", type=count(1, 100_000), default=67, help="number of models k")
    p.add_argument("--queries", type=count(1, 10**8), default=330, help="number of queries n")
    p.add_argument(
        "--accuracy-range",
        default="0.3,0.9",
        help="LO,HI: model accuracies spread evenly over [LO, HI] (without --calibrate-to)",
    )
    p.add_argument(
        "--omega",
        type=probability,
        default=None,
        help="common-shock: share of co-hard queries (default 0.02, or fitted with --calibrate-to)",
    )
    p.add_argument(
        "--rho",
        type=float_range(0.0, 1.0, hi_open=True, what='a correlation'),
        default=0.3,
        help="onefactor/gaussian: equal latent correlation (loadings sqrt(rho))",
    )
    p.add_argument(
        "--theta",
        type=positive_float,
        default=None,
        help="clayton: dependence theta > 0 (default 1, or fitted with --calibrate-to)",
    )
    p.add_argument(
        "--difficulty-sd",
        type=nonneg_float,
        default=3.0,
        help="irt: spread of query difficulty (logit units)",
    )
    p.add_argument(
        "--artefacts",
        type=probability,
        default=0.0,
        help="share of queries marked wrong for every model (grading artefacts)",
    )
    p.add_argument(
        "--calibrate-to", type=input_arg,
        default=None,
        metavar="FILE",
        help="fit the law to a real outcome matrix: each model's accuracy, and the "
        "pairwise structure (see the README)",
    )
    add_matrix_input_args(p)  # how --calibrate-to is read
    add_seed_arg(p, "PRNG seed (jax.random.key)")
    p.add_argument("--out", type=output_file, required=True, help="output: .csv, .jsonl or .h5")
    p.add_argument("--json", action="store_true", help="print the truth as JSON instead of a table")
    p.set_defaults(func=run)


def _out_format(path: str) -> str:
    from .._src.errors import InputError

    low = path.lower()
    if low.endswith(".csv"):
        return "csv"
    if low.endswith((".jsonl", ".ndjson")):
        return "jsonl"
    if low.endswith((".h5", ".hdf5")):
        return "h5"
    raise InputError(
        f"unknown output extension in {path!r}",
        where="--out",
        hint="end the name with .csv (wide CSV), .jsonl (long JSONL) or .h5 (cofail HDF5)",
    )


def _build_law(args):
    from .._src.errors import InputError

    kind = args.law.replace("-", "_")
    given = [k for k, v in matrix_options(args).items() if k != "reduce" or v != "first"]
    if given and not args.calibrate_to:
        raise InputError(f"--{given[0]} applies to the --calibrate-to file, and none is given",
                         where=f"--{given[0]}", hint="drop it, or add --calibrate-to FILE")
    if args.calibrate_to:
        return _calibrated_law(args, kind)
    return _synthetic_law(args, kind)


def _calibrated_law(args, kind: str):
    """(law, model names, calibration info) fitted to the --calibrate-to matrix."""
    from .._src import simulate as S
    from .._src.errors import InputError
    from .._src.io import load_matrix

    m = load_matrix(args.calibrate_to, **matrix_options(args))
    report_notes(m.notes)
    if m.n < 2 or m.k < 1:
        raise InputError(
            "needs at least 2 queries and 1 model",
            source=args.calibrate_to,
            hint="calibrate to a larger outcome matrix",
        )
    try:
        cal = S.calibrate(kind, m.correct, omega=args.omega, theta=args.theta)
    except InputError:
        raise
    except ValueError as e:
        raise InputError(
            str(e),
            source=args.calibrate_to,
            where="--omega/--theta",
            hint="choose a smaller --omega, or leave it out to fit it",
        ) from None
    return (
        cal.law,
        list(m.models),
        {"calibrated_to": args.calibrate_to, "matched": cal.matched, "status": cal.status},
    )


def _synthetic_law(args, kind: str):
    """(law, model names, {}) from --models, --accuracy-range and the law's parameters."""
    from .._src.errors import InputError

    if args.models < 1:
        raise InputError(
            f"must be at least 1, got {args.models}", where="--models", hint="for example 67"
        )
    try:
        lo, hi = (float(x) for x in args.accuracy_range.split(","))
    except ValueError:
        raise InputError(
            f"{args.accuracy_range!r} is not LO,HI",
            where="--accuracy-range",
            hint="for example 0.3,0.9",
        ) from None
    if not 0 < lo <= hi < 1:
        raise InputError(
            f"need 0 < LO <= HI < 1, got {lo}, {hi}",
            where="--accuracy-range",
            hint="for example 0.3,0.9",
        )
    acc = np.linspace(lo, hi, args.models) if args.models > 1 else np.array([0.5 * (lo + hi)])
    try:
        law = _law_of_kind(args, kind, acc)
    except InputError:
        raise
    except ValueError as e:
        raise InputError(
            str(e), where=f"--law {args.law}", hint="check the law's parameters"
        ) from None
    return law, [f"sim-{i:02d}" for i in range(acc.size)], {}


def _law_of_kind(args, kind: str, acc):
    """The law of ``kind`` for models of accuracies ``acc`` (its parameters checked)."""
    from .._src import simulate as S
    from .._src.errors import InputError

    p = 1 - acc
    if kind == "independent":
        law = S.independent_law(p)
    elif kind in ("onefactor", "gaussian"):
        if not 0 <= args.rho < 1:
            raise InputError(
                f"must lie in [0, 1), got {args.rho}", where="--rho", hint="for example 0.3"
            )
        if kind == "onefactor":
            law = S.onefactor_law(p, np.sqrt(args.rho))
        else:
            c = np.full((p.size, p.size), args.rho)
            np.fill_diagonal(c, 1.0)
            law = S.gaussian_law(p, c)
    elif kind == "clayton":
        theta = 1.0 if args.theta is None else args.theta
        if not theta > 0:
            raise InputError(
                f"must be > 0, got {theta}", where="--theta", hint="for example 1.0"
            )
        law = S.clayton_law(p, theta)
    elif kind == "common_shock":
        omega = 0.02 if args.omega is None else args.omega
        if not 0 <= omega < p.min():
            raise InputError(
                f"must lie in [0, {p.min():.4g}) (below every model's error rate), got {omega}",
                where="--omega",
                hint="lower --omega or the top of --accuracy-range",
            )
        law = S.common_shock_law(omega, (p - omega) / (1 - omega))
    elif kind == "irt":
        if not args.difficulty_sd > 0:
            raise InputError(
                f"must be > 0, got {args.difficulty_sd}",
                where="--difficulty-sd",
                hint="for example 3.0",
            )
        kw = dict(S.BENCHMARK_IRT, difficulty_sd=args.difficulty_sd)
        law = S.irt_law(S.irt_abilities(acc, **kw), **kw)
    else:  # pragma: no cover - argparse restricts choices
        raise NotImplementedError(kind)
    return law


def truth_dict(law, *, curve_max: int = 200) -> dict:
    """The law, its parameters and true beta (pool and leading sub-pools) as plain JSON."""
    from .._src import simulate as S

    tb = S.true_beta(law)
    k = law.k
    m_curve = list(range(1, min(k, curve_max) + 1))
    if law.kind == "gaussian" and not S.onefactor_loadings(law.params["corr"]) is not None:
        m_curve = [m for m in m_curve if m <= 2 or m == k]
    curve = [S.true_beta(law, np.arange(m)).beta for m in m_curve]
    params = {key: v for key, v in law.params.items() if key != "chol"}
    return jsonable(
        {
            "law": law.kind,
            "params": params,
            "artefact_fraction": law.artefact,
            "true_error_rate": law.marginal_error,
            "true_beta": tb.beta,
            "true_beta_abs_err": tb.abs_err,
            "true_beta_method": tb.method,
            "true_beta_curve": {
                "m": m_curve,
                "beta": curve,
                "note": "beta of the first m models in column order",
            },
        }
    )


def _check_sizes(args) -> None:
    from .._src.errors import InputError
    from .common import MAX_CELLS

    if args.queries * args.models > MAX_CELLS:
        raise InputError(
            f"{args.queries} queries x {args.models} models is more than {MAX_CELLS:,} cells",
            where="--queries/--models",
            hint="simulate fewer queries or models; the matrix must fit in memory",
        )
    if args.queries < 1:
        raise InputError(
            f"must be at least 1, got {args.queries}", where="--queries", hint="for example 330"
        )
    if not 0 <= args.artefacts < 1:
        raise InputError(
            f"must lie in [0, 1), got {args.artefacts}",
            where="--artefacts",
            hint="for 1 % write 0.01",
        )


def run(args) -> int:
    import jax

    from .._src import simulate as S
    from .._src.h5 import provenance
    from .progress import stage

    fmt = _out_format(args.out)
    _check_sizes(args)
    with stage("calibrating the law" if args.calibrate_to else "building the law"):
        law, names, cal_info = _build_law(args)
    if args.artefacts:
        law = S.with_artefacts(law, args.artefacts)
    with stage(f"simulating {args.queries} queries"):
        m = S.simulate(jax.random.key(args.seed), law, args.queries, models=names,
                       seed=args.seed)
    truth = truth_dict(law)
    truth.update(cal_info)
    truth["observed_beta"] = float(m.all_wrong.mean())
    truth["observed_all_wrong"] = int(m.all_wrong.sum())
    truth["n_queries"] = m.n
    config = {k: v for k, v in vars(args).items() if k != "func"}
    prov = provenance(
        config=config, seed=args.seed, method=f"simulate:{law.kind}", input_path=args.calibrate_to
    )
    _write_matrix(m, args.out, fmt, truth, prov)
    if args.json:
        emit_json("simulate", {**truth, "out": args.out}, prov)
        return 0
    print(render(law, m, truth, cal_info))
    print(f"wrote {args.out}" + ("" if fmt == "h5" else f" and {args.out}.truth.json"))
    return 0


def _write_matrix(m, out: str, fmt: str, truth: dict, prov: dict) -> None:
    """The simulated matrix: HDF5 with the truth in its attributes, or CSV / JSONL with a
    ``.truth.json`` sidecar."""
    from .._src.h5 import atomic_output
    from .._src.io.formats import save_matrix_h5

    if fmt == "h5":
        save_matrix_h5(m, out, attrs={**prov, "truth": truth, "kind": "matrix"})
        return
    with atomic_output(out) as tmp:
        if fmt == "csv":
            cols = ["query_id", *m.models]
            with open(tmp, "w", encoding="utf-8") as f:
                f.write(",".join(cols) + "\n")
                ints = m.correct.astype(np.int8)
                f.writelines(
                    q + "," + ",".join("1" if v else "0" for v in row) + "\n"
                    for q, row in zip(m.query_ids, ints)
                )
        else:
            with open(tmp, "w", encoding="utf-8") as f:
                for i, q in enumerate(m.query_ids):
                    f.writelines(
                        json.dumps(
                            {"query_id": q, "model": name, "correct": int(m.correct[i, j])}
                        )
                        + "\n"
                        for j, name in enumerate(m.models)
                    )
        with atomic_output(out + ".truth.json") as tmp2, open(tmp2, "w", encoding="utf-8") as f:
            json.dump(
                {
                    "schema": "cofail_jax.json/1",
                    "command": "simulate",
                    "result": truth,
                    "provenance": jsonable(prov),
                },
                f,
                indent=2,
                allow_nan=False,
            )


def render(law, m, truth: dict, cal_info: dict) -> str:
    """The text summary of a simulated matrix."""
    rows = [
        ("law", law.kind + (f" + artefacts {law.artefact:g}" if law.artefact else "")),
        ("models k", m.k),
        ("queries n", m.n),
        ("true beta (pool)", f"{truth['true_beta']:.6g}  ({truth['true_beta_method']})"),
        ("observed beta", f"{truth['observed_beta']:.4f} ({truth['observed_all_wrong']}/{m.n})"),
        ("accuracy range", f"{m.accuracy.min():.3f} .. {m.accuracy.max():.3f}"),
    ]
    if cal_info:
        rows.append(("calibrated to", f"{cal_info['calibrated_to']} ({cal_info['matched']})"))
        if cal_info["status"] != "OK":
            rows.append(("calibration status", cal_info["status"]))
    return fmt_table(rows)
