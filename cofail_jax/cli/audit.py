"""``cofail audit``: evidence that all-wrong events are grading artefacts, an audit sheet
to adjudicate them, and how beta moves if 0..K of them were artefacts."""

from __future__ import annotations

import csv

import numpy as np

from .common import (
    add_command,
    add_input_args,
    count,
    emit_json,
    fmt_table,
    input_file,
    input_path,
    load_input,
    nonneg_float,
    open_probability,
    output_file,
)

EXAMPLES = """\
  cofail audit results.csv                          # evidence, suggested classes, sensitivity
  cofail audit results.csv --out audit.csv          # the sheet: fill in 'verdict', then
  cofail certify results.csv --audit audit.csv      #   beta as graded / genuine only / range
  cofail audit results.csv --near --no-symbolic     # also queries all but one model got wrong
  cofail audit results.csv --json --max-artefacts 10
  cofail audit results.csv --workers 4 --timeout 2    # big pool: process pool, 2 s a pair
  cofail audit results.csv --strict-units             # units must agree (physics, chemistry)
"""


def add_parser(sub) -> None:
    p = add_command(
        sub, "audit", help="evidence that all-wrong events are grading artefacts; audit sheet",
        description="For each query on which every model is graded wrong: how many models agree "
                    "on one answer (a wrong reference?), how many answers equal the reference "
                    "after normalization (a grader defect?), how many are empty or not extracted, "
                    "how many hit the token budget (truncation?), and a SUGGESTED class with the "
                    "rule that produced it. --out writes the audit sheet (one row per flagged "
                    "query, an empty 'verdict' column for raters); 'cofail certify --audit' reads "
                    "it back. The sensitivity table shows beta, the certificate and the one-factor "
                    "ratio if 0, 1, ..., K of the events were artefacts. Needs the long format "
                    "with answers and a reference for evidence beyond the counts.",
        examples=EXAMPLES)
    add_input_args(p)
    p.add_argument("--out", type=output_file, default=None, help="write the audit sheet (CSV) here")
    p.add_argument("--h5", type=output_file, default=None,
                   help="also write evidence and sensitivity to HDF5")
    p.add_argument("--near", action="store_true",
                   help="also flag queries that all models but one got wrong")
    p.add_argument("--no-symbolic", action="store_true",
                   help="skip the sympy layer of the equivalence checker (faster)")
    p.add_argument("--rel-tol", type=nonneg_float, default=0.0,
                   help="relative tolerance for numeric answers (0: exact rational equality)")
    add_checker_args(p)
    p.add_argument("--max-artefacts", type=count(0, 10**9), default=None,
                   help="sensitivity rows for 0..J artefacts (default: all K events)")
    p.add_argument("--no-ratio", action="store_true",
                   help="skip the one-factor ratio in the sensitivity table")
    p.add_argument("--alpha", type=open_probability, default=0.05,
                   help="Clopper-Pearson level 1 - alpha")
    p.add_argument("--delta", type=open_probability, default=0.05,
                   help="certificate confidence 1 - delta")
    p.add_argument("--json", action="store_true", help="print JSON instead of tables")
    p.set_defaults(func=run)


def add_checker_args(p) -> None:
    """The answer checker's options, shared by ``cofail audit``, ``regrade`` and
    ``ensembles --regrade``."""
    p.add_argument("--checker", default="auto", choices=("auto", "math-verify", "builtin"),
                   help="answer checker: math-verify for free-form math where installed "
                        "(auto), or the built-in rules only; which one ran is recorded")
    p.add_argument("--strict-units", action="store_true",
                   help="units must agree ('5 cm' is not '5'); by default a unit is dropped "
                        "when only one side has one")
    from .common import count, positive_float

    p.add_argument("--workers", type=count(0, 1024), default=0,
                   help="processes for the answer checker (0: this process)")
    p.add_argument("--timeout", type=positive_float, default=5.0,
                   help="seconds per distinct answer/reference pair; past it the pair counts "
                        "as not equal (rule 'timeout')")


def check_checker_args(args) -> dict:
    """Validate the checker options; return the keyword arguments for the audit core."""
    from .._src.audit.checker import resolve_checker
    from .._src.errors import InputError

    if args.workers < 0:
        raise InputError(f"must be 0 or more, got {args.workers}", where="--workers",
                         hint="0 checks in this process; 4 uses four processes")
    if not args.timeout > 0:
        raise InputError(f"must be positive, got {args.timeout}", where="--timeout",
                         hint="seconds per answer pair, for example 5")
    try:
        resolve_checker(args.checker)
    except ImportError as e:
        raise InputError(str(e), where="--checker",
                         hint="install the audit extra or use --checker builtin") from None
    return dict(checker=args.checker, strict_units=args.strict_units, workers=args.workers,
                timeout=args.timeout, progress=progress_printer())


def progress_printer(min_total: int = 500):
    """A ``progress(done, total)`` callback for long runs: a tqdm bar on stderr where
    tqdm is installed, else a line per 10 %; silent below ``min_total`` pairs."""
    import sys

    state: dict = {}

    def progress(done: int, total: int) -> None:
        if total < min_total:
            return
        bar = state.get("bar")
        if bar is None and "plain" not in state:
            try:
                from tqdm import tqdm

                bar = state["bar"] = tqdm(total=total, desc="checking answers", unit="pair",
                                          file=sys.stderr, leave=False)
            except ImportError:
                state["plain"] = -1
        if bar is not None:
            bar.update(done - bar.n)
            if done >= total:
                bar.close()
            return
        step = int(10 * done / total)
        if step > state["plain"]:
            state["plain"] = step
            print(f"checking answers: {done}/{total} distinct pairs", file=sys.stderr)

    return progress


def _config(args) -> dict:
    return {k: v for k, v in vars(args).items() if k != "func"}


def _check(args, K: int) -> None:
    from .._src.errors import InputError

    for name in ("alpha", "delta"):
        v = getattr(args, name)
        if not 0 < v < 1:
            raise InputError(f"must lie strictly between 0 and 1, got {v}", where=f"--{name}",
                             hint="for 95 % confidence use 0.05")
    if not 0 <= args.rel_tol < 1:
        raise InputError(f"must lie in [0, 1), got {args.rel_tol}", where="--rel-tol",
                         hint="0 for exact answers, 1e-6 for rounding noise")
    if args.max_artefacts is not None and not 0 <= args.max_artefacts <= K:
        raise InputError(f"must lie in [0, K = {K}], got {args.max_artefacts}",
                         where="--max-artefacts", hint=f"the input has {K} all-wrong events")


def write_sheet(path: str, rows: list[dict]) -> None:
    """The audit sheet, written atomically."""
    from .._src.audit.evidence import SHEET_COLUMNS
    from .._src.h5 import atomic_output

    with atomic_output(path) as tmp:
        with open(tmp, "w", newline="", encoding="utf-8") as f:
            w = csv.DictWriter(f, fieldnames=list(SHEET_COLUMNS))
            w.writeheader()
            for r in rows:
                w.writerow(r)


def sensitivity_lines(sens, limit: int = 15) -> list[str]:
    """The sensitivity table as text (at most ``limit`` rows, evenly spaced, last kept)."""
    J = len(sens.j)
    show = list(range(J)) if J <= limit else sorted(
        set(np.linspace(0, J - 1, limit).round().astype(int).tolist()))
    conf = 1 - sens.alpha
    rows = []
    for i in show:
        ratio = (f"{sens.ratio[i]:.3g}" if np.isfinite(sens.ratio[i]) else "-")
        rows.append((int(sens.j[i]), int(sens.n[i]), int(sens.K[i]),
                     f"{sens.beta[i]:.4f} [{sens.beta_ci[i, 0]:.4f}, {sens.beta_ci[i, 1]:.4f}]",
                     f"{sens.gain_bound[i]:.4f}", ratio))
    out = [f"\nif j of the all-wrong events were artefacts (dropped from n; beta with its "
           f"{conf:.0%} Clopper-Pearson interval, certified gain bound at confidence "
           f"{1 - sens.delta:g}, one-factor ratio beta / beta_equal-loading):",
           fmt_table(rows, header=("j", "n", "K", "beta [CI]", "gain bound", "1F ratio"))]
    quiet = ("ok", "one-factor ratio not requested")
    bad = sorted({s for s in sens.ratio_status if s not in quiet})
    for s in bad:
        out.append(f"  ratio note: {s}")
    if J > limit:
        out.append(f"  ({len(show)} of {J} rows shown; --json gives all)")
    return out


def _notes(m, symbolic: bool, info: dict, args) -> list[str]:
    """What the audit could not use (answers, reference, sympy, math-verify)."""
    from .._src.audit.normalize import sympy_available

    has_answers = any(c in m.cell_meta for c in ("extracted", "answer", "raw_answer"))
    has_ref = "reference" in m.query_meta
    notes: list[str] = []
    if not has_answers or not has_ref:
        notes.append("the input has no " + ("answers" if not has_answers else "reference")
                     + ": only truncation/extraction metadata can be used; the long format with "
                       "'answer' and 'reference' columns gives the full evidence")
    if symbolic and not sympy_available():
        notes.append("sympy is not installed: symbolic equivalence was skipped "
                     "(pip install 'cofail_jax[audit]')")
    if info["checker"] == "builtin" and args.checker == "auto":
        notes.append("math-verify is not installed: the built-in checker ran "
                     "(pip install 'cofail_jax[audit]' for LaTeX-aware equivalence)")
    return notes


def _write_h5(path, rows, sens, prov) -> None:
    """--h5: the flagged queries (dimension ``flagged``) and the sensitivity rows."""
    from .._src.h5 import write_results

    tree = {"evidence": {c: np.asarray([r[c] for r in rows], dtype=object if isinstance(
        rows[0][c], str) else None) for c in rows[0] if c not in ("verdict", "verdict_note")}
        if rows else {},
        "sensitivity": {k: np.asarray([r[k] for r in sens.rows()],
                                      dtype=object if k == "ratio_status" else None)
                        for k in sens.rows()[0]}}
    dims = {f"evidence/{c}": ("flagged",) for c in tree["evidence"]}
    dims.update({f"sensitivity/{c}": ("artefacts",) for c in tree["sensitivity"]})
    write_results(path, tree, attrs={**prov, "kind": "audit"}, dims=dims)


def run(args) -> int:
    from .._src.audit.evidence import CLASSES, audit_evidence, evidence_rows
    from .._src.audit.checker import checker_info
    from .._src.audit.sensitivity import artefact_sensitivity
    from .._src.h5 import provenance

    m = load_input(args)
    K = int(m.all_wrong.sum())
    _check(args, K)
    opts = check_checker_args(args)
    symbolic = not args.no_symbolic
    ev = audit_evidence(m, include_near_all_wrong=args.near, symbolic=symbolic,
                        rel_tol=args.rel_tol, **opts)
    info = checker_info(args.checker)
    sens = artefact_sensitivity(m, max_artefacts=args.max_artefacts, alpha=args.alpha,
                                delta=args.delta, ratio=not args.no_ratio)
    rows = evidence_rows(ev, m.models)
    counts = {c: sum(1 for e in ev if e.suggested_class == c) for c in CLASSES}
    notes = _notes(m, symbolic, info, args)
    prov = provenance(input_path=input_path(args), method="audit evidence rules R1-R6; "
                      "Clopper-Pearson; equal-loading one-factor ratio", config=_config(args),
                      extra=info)
    result = {
        "n": m.n, "k": m.k, "K": K, "models": list(m.models), "n_flagged": len(ev),
        "checker": info, "n_samples": ev[0].n_samples if ev else 1,
        "suggested_counts": counts,
        "suggestion_note": "suggested classes are suggestions from rules R1-R6, not verdicts",
        "queries": [{**r, "answers": list(e.answers)} for r, e in zip(rows, ev)],
        "sensitivity": sens.rows(), "notes": notes,
    }
    if args.out:
        write_sheet(args.out, rows)
    if args.h5:
        _write_h5(args.h5, rows, sens, prov)
    if args.json:
        emit_json("audit", result, prov)
        return 0
    print(render(m, ev, counts, sens, notes, info))
    if args.out:
        print(f"\nwrote the audit sheet {args.out}: fill in the 'verdict' column (genuine, grader "
              "defect, wrong reference, ambiguous, truncation, artefact; empty = not adjudicated), "
              f"then run: cofail certify {input_path(args)} --audit {args.out}")
    if args.h5:
        print(f"wrote {args.h5}")
    return 0


def render(m, ev, counts, sens, notes, info=None) -> str:
    lines = [f"input: {m.source}",
             fmt_table([("queries n", m.n), ("models k", m.k),
                        ("all-wrong K", int(m.all_wrong.sum())), ("flagged", len(ev))])]
    if ev:
        lines.append("\nSUGGESTED classes (rules R1-R6; a suggestion, not a verdict): "
                     + ", ".join(f"{c} {n}" for c, n in counts.items() if n))
        rows = []
        for e in ev:
            top = f"{e.top_answer} (x{e.top_count})" if e.top_answer else "-"
            rows.append((e.query_id, e.flag, e.suggested_class, _short(e.reference, 16),
                         _short(top, 20), e.n_equiv_reference, e.n_extraction_fail, e.n_truncated,
                         e.suggested_rule.split(":")[0]))
        lines.append(fmt_table(rows, header=("query", "flag", "suggested", "reference",
                                             "top answer", "equiv", "no-extr", "trunc", "rule")))
        fired = [(e.query_id, m_, r_) for e in ev for m_, r_ in zip(e.equiv_models, e.equiv_rules)]
        if fired:
            lines.append("\nanswers equivalent to the reference (the rule that fired per cell):")
            lines.append(fmt_table(fired, header=("query", "model", "rule")))
        disagree = [(e.query_id, n_) for e in ev for n_ in e.checker_notes]
        if disagree:
            lines.append("\nmath-verify and the built-in checker disagree (math-verify decided "
                         "free-form math):")
            lines.append(fmt_table(disagree, header=("query", "model: both verdicts")))
        lines.append("rules: R1 an answer equals the reference after normalization (grader "
                     "defect); "
                     "R2 half hit the token budget (truncation); R3 half empty or not extracted "
                     "(grader defect); R4 a strict majority agrees on another answer (wrong "
                     "reference); R5 two or more camps (ambiguous); R6 none (genuine)")
    lines.extend(sensitivity_lines(sens))
    if info is not None:
        lines.append("checker: " + ", ".join(f"{k_} {v_}" for k_, v_ in info.items()))
    for n in notes:
        lines.append("note: " + n)
    return "\n".join(lines)


def _short(s: str, width: int) -> str:
    s = str(s).replace("\n", " ")
    return s if len(s) <= width else s[: width - 1] + "~"


# ---- used by 'cofail certify --audit' -------------------------------------------------
def certify_audit(args, m):
    """The :class:`AuditedBeta` for ``cofail certify FILE --audit SHEET``."""
    from .._src.audit.adjudicate import audited_beta, read_adjudications

    adj = read_adjudications(args.audit, m)
    return audited_beta(m, adj, alpha=args.alpha, delta=args.delta,
                        best_selection="fixed" if args.fixed_best else "in-sample",
                        overhead=args.overhead)


def audit_tree(audited) -> dict:
    """HDF5 group contents for an :class:`AuditedBeta`: one subgroup per view."""
    tree: dict = {"K": audited.K, "n_genuine": audited.n_genuine,
                  "n_artefact": audited.n_artefact,
                  "n_artefact_all_wrong": audited.n_artefact_all_wrong,
                  "n_unadjudicated": audited.n_unadjudicated, "status": audited.status,
                  "beta_range_lower": audited.beta_range[0],
                  "beta_range_upper": audited.beta_range[1],
                  "beta_range_ci_lower": audited.beta_range_ci[0],
                  "beta_range_ci_upper": audited.beta_range_ci[1]}
    for name in ("graded", "genuine_only", "conservative"):
        c = getattr(audited, name)
        d = {k: v for k, v in c.to_dict().items()
             if k not in ("models", "beta_ci") and v is not None}
        d["beta_ci_lower"], d["beta_ci_upper"] = c.beta_ci
        tree[name] = d
    for v, n_verdict in audited.by_verdict.items():
        tree["verdict_" + v.replace(" ", "_")] = n_verdict
    return tree


def render_audit(audited, sheet: str) -> str:
    """The certify --audit block: three views of beta, each with its CI and certificate."""
    conf = 1 - audited.graded.alpha
    rows = []
    for label, c in (("as graded", audited.graded),
                     ("genuine only", audited.genuine_only),
                     ("conservative", audited.conservative)):
        lo, hi = c.beta_ci
        rows.append((label, c.n, c.K, f"{c.beta:.4f} [{lo:.4f}, {hi:.4f}]", f"{c.ceiling:.4f}",
                     f"{c.oracle_gain:.4f}", f"{c.gain_bound:.4f}"))
    verdicts = ", ".join(f"{v} {n}" for v, n in sorted(audited.by_verdict.items())) or "none"
    lines = [
        f"\naudit {sheet}: {audited.K} all-wrong events; {audited.n_genuine} adjudicated genuine, "
        f"{audited.n_artefact_all_wrong} artefacts, {audited.n_unadjudicated} not adjudicated "
        f"(verdicts: {verdicts}; {audited.n_artefact} artefact queries dropped in all)",
        fmt_table(rows, header=("beta", "n", "K", f"beta [{conf:.0%} CI]", "ceiling", "oracle G",
                                "gain bound")),
        "genuine only: artefacts and unadjudicated events dropped from n; conservative: "
        "artefacts dropped, unadjudicated events counted as genuine",
        f"beta range {audited.beta_range[0]:.4f} .. {audited.beta_range[1]:.4f} "
        f"(with sampling uncertainty {audited.beta_range_ci[0]:.4f} .. "
        f"{audited.beta_range_ci[1]:.4f}); audit {audited.status}",
    ]
    return "\n".join(lines)


# ---- for other commands that accept --audit (price, sweep: wired by the lead) ---------
def add_audit_option(p) -> None:
    """``--audit SHEET`` and ``--unadjudicated {genuine,artefact}`` for any command that
    analyses the corrected matrix (see :func:`audited_matrix`)."""
    p.add_argument("--audit", type=input_file, default=None, metavar="SHEET",
                   help="an audit sheet from 'cofail audit --out' with verdicts: analyse the "
                        "matrix with adjudicated artefacts dropped")
    p.add_argument("--unadjudicated", default="genuine", choices=("genuine", "artefact"),
                   help="with --audit: keep all-wrong events without a verdict (genuine, the "
                        "conservative choice) or drop them too (artefact)")


def audited_matrix(args, m):
    """The matrix a command should analyse: ``m`` itself without ``--audit``, else the
    corrected matrix (artefacts dropped; the note says what was dropped)."""
    if not getattr(args, "audit", None):
        return m
    import sys

    from .._src.audit.adjudicate import apply_adjudications, read_adjudications

    out = apply_adjudications(m, read_adjudications(args.audit, m),
                              unadjudicated=getattr(args, "unadjudicated", "genuine"))
    print(f"note: {out.notes[-1]}", file=sys.stderr)
    return out
