"""``cofail regrade``: apply the answer-equivalence checker to every cell and list every
cell whose grade it flips."""

from __future__ import annotations

import csv

from .common import (
    add_command,
    add_input_args,
    count,
    emit_json,
    fmt_table,
    input_path,
    load_input,
    nonneg_float,
    output_file,
)
from .audit import add_checker_args, check_checker_args

EXAMPLES = """\
  cofail regrade results.csv                         # summary and the flipped cells
  cofail regrade results.csv --out regraded.csv      # every flipped cell, as CSV
  cofail regrade results.csv --matrix-out fixed.csv  # the regraded matrix (wide CSV)
  cofail regrade results.csv --downgrade --json      # also apply right -> wrong disagreements
  cofail regrade results.csv --workers 4 --timeout 2 # big pool: process pool, 2 s a pair
"""

FLIP_COLUMNS = ("query_id", "model", "sample", "graded", "regraded", "rule", "checker", "note",
                "answer", "reference", "kind")


def add_parser(sub) -> None:
    p = add_command(
        sub, "regrade", help="re-check every cell's answer against the reference; list flips",
        description="Applies the normalization/equivalence checker (whitespace, case, thousands "
                    "separators, units, a leading 'x =', \\boxed{}, \\frac forms, decimals vs "
                    "fractions, unordered lists, optional sympy) to every cell with an answer and "
                    "a reference, not only the all-wrong ones, so a defective grader is fixed "
                    "everywhere. Cells graded wrong whose answer is equivalent flip to right; "
                    "cells graded right that the checker does not find equivalent are reported "
                    "as disagreements and applied only with --downgrade.",
        examples=EXAMPLES)
    add_input_args(p)
    p.add_argument("--out", type=output_file, default=None,
                   help="write every flipped cell (and disagreement) as CSV")
    p.add_argument("--matrix-out", type=output_file, default=None,
                   help="write the regraded matrix as a wide CSV (query_id, one 0/1 column "
                        "per model)")
    p.add_argument("--downgrade", action="store_true",
                   help="also apply disagreements (graded right, not found equivalent)")
    p.add_argument("--no-symbolic", action="store_true", help="skip the sympy layer")
    p.add_argument("--rel-tol", type=nonneg_float, default=0.0,
                   help="relative tolerance for numeric answers (0: exact)")
    add_checker_args(p)
    p.add_argument("--show", type=count(0, 10**9), default=20, help="flipped cells to print")
    p.add_argument("--json", action="store_true", help="print JSON instead of tables")
    p.set_defaults(func=run)


def _rows(res) -> list[dict]:
    out = []
    for kind, cells in (("flip", res.flips), ("disagreement", res.disagreements)):
        for f in cells:
            out.append({"query_id": f.query_id, "model": f.model, "sample": f.sample,
                        "graded": int(f.graded), "regraded": int(f.regraded), "rule": f.rule,
                        "checker": f.checker, "note": f.note, "answer": f.answer,
                        "reference": f.reference, "kind": kind})
    return out


def run(args) -> int:
    from .._src.audit.regrade import regrade
    from .._src.errors import InputError
    from .._src.h5 import provenance

    if not 0 <= args.rel_tol < 1:
        raise InputError(f"must lie in [0, 1), got {args.rel_tol}", where="--rel-tol",
                         hint="0 for exact answers, 1e-6 for rounding noise")
    m = load_input(args)
    opts = check_checker_args(args)
    res = regrade(m, symbolic=not args.no_symbolic, rel_tol=args.rel_tol, downgrade=args.downgrade,
                  **opts)
    rows = _rows(res)
    result = _result(m, res, rows, args)
    prov = provenance(input_path=input_path(args), method="answer equivalence checker "
                      "(cofail_jax._src.audit.checker: math-verify + built-in rules)",
                      config={k: v for k, v in vars(args).items() if k != "func"},
                      extra=res.checker)
    _write_files(args, res, rows)
    if args.json:
        emit_json("regrade", result, prov)
        return 0
    print(render(m, res, rows, result, args))
    for path in (args.out, args.matrix_out):
        if path:
            print(f"wrote {path}")
    return 0


def _result(m, res, rows, args) -> dict:
    """The JSON result: counts, beta before and after with Clopper-Pearson intervals,
    accuracies, flipped cells."""
    from .._src.certificate import clopper_pearson

    n = m.n
    K0, K1 = int(m.all_wrong.sum()), int(res.matrix.all_wrong.sum())
    return {
        "status": res.status, "n": n, "k": m.k, "n_checked": res.n_checked,
        "n_unchecked": res.n_unchecked, "n_flips": len(res.flips),
        "n_disagreements": len(res.disagreements), "downgrade_applied": bool(args.downgrade),
        "n_samples": res.n_samples, "n_timeouts": res.n_timeouts, "checker": res.checker,
        "K_before": K0, "K_after": K1, "beta_before": res.beta_before, "beta_after": res.beta_after,
        "beta_before_ci": [float(x) for x in clopper_pearson(K0, n)],
        "beta_after_ci": [float(x) for x in clopper_pearson(K1, n)],
        "ci_method": "clopper-pearson 95%",
        "accuracy_before": dict(zip(m.models, m.accuracy.tolist())),
        "accuracy_after": dict(zip(m.models, res.matrix.accuracy.tolist())),
        "cells": rows,
    }


def _write_files(args, res, rows) -> None:
    """--out (the flipped cells as CSV) and --matrix-out (the regraded matrix)."""
    from .._src.h5 import atomic_output
    from .._src.io.dataframe import to_pandas

    if args.out:
        with atomic_output(args.out) as tmp:
            with open(tmp, "w", newline="", encoding="utf-8") as f:
                w = csv.DictWriter(f, fieldnames=list(FLIP_COLUMNS))
                w.writeheader()
                for r in rows:
                    w.writerow(r)
    if args.matrix_out:
        with atomic_output(args.matrix_out) as tmp:
            to_pandas(res.matrix, "wide").to_csv(tmp, index=False)


def render(m, res, rows, r, args) -> str:
    """The text report."""
    n = m.n
    ci0, ci1 = r["beta_before_ci"], r["beta_after_ci"]
    lines = [f"input: {m.source}"]
    if res.status != "ok":
        lines.append(res.status)
    lines.append(fmt_table([
        ("cells checked", f"{res.n_checked} of {n * m.k * res.n_samples}"
                          + (f" over {res.n_samples} samples" if res.n_samples > 1 else "")
                          + " (the rest have no answer or reference)"),
        ("checker", ", ".join(f"{k} {v}" for k, v in res.checker.items())),
        ("flips wrong -> right", f"{len(res.flips)} (applied)"),
        ("disagreements right -> ?",
         f"{len(res.disagreements)} " + ("(applied)" if args.downgrade
                                         else "(reported, not applied)")),
        ("all-wrong K", f"{r['K_before']} -> {r['K_after']}"),
        ("beta", f"{res.beta_before:.4f} [{ci0[0]:.4f}, {ci0[1]:.4f}] -> {res.beta_after:.4f} "
                 f"[{ci1[0]:.4f}, {ci1[1]:.4f}] (95% Clopper-Pearson)"),
    ]))
    changed = [(name, f"{a:.4f}", f"{b:.4f}")
               for name, a, b in zip(m.models, m.accuracy, res.matrix.accuracy) if a != b]
    if changed:
        lines.append("\naccuracy changes:")
        lines.append(fmt_table(changed, header=("model", "graded", "regraded")))
    if rows:
        lines += _cell_lines(rows, res, args)
    return "\n".join(lines)


def _cell_lines(rows, res, args) -> list[str]:
    show = rows[: args.show]
    lines = [f"\nflipped cells ({len(show)} of {len(rows)}):"]

    def shown(r):
        return r["regraded"] if r["kind"] == "flip" or args.downgrade else r["graded"]

    lines.append(fmt_table([(r["query_id"], r["model"], r["sample"], r["kind"],
                             f"{r['graded']}->{shown(r)}",
                             r["rule"], r["answer"][:24], r["reference"][:16]) for r in show],
                           header=("query", "model", "sample", "kind", "grade", "rule",
                                   "answer", "reference")))
    noted = [r for r in rows if r["note"]]
    if noted:
        lines.append(f"\n{len(noted)} cells where math-verify and the built-in checker "
                     "disagree (--out lists them in 'note')")
    if res.n_timeouts:
        lines.append(f"{res.n_timeouts} answer pairs ran out of time (--timeout "
                     f"{args.timeout:g}); counted as not equal")
    return lines
