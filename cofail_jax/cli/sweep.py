"""``cofail sweep CONFIG``: the underpricing sweep (full pool, bootstrap, every pool size)."""

from __future__ import annotations

import math

from .common import add_command, emit_json, fmt_table, input_file, output_file

EXAMPLES = """\
  cofail sweep configs/example.toml                 # embedded MATH level-5 example
  cofail sweep configs/zeroeval_gsm8k.toml --out gsm8k.h5
  cofail sweep configs/example.toml --json          # summary as JSON (progress on stderr)
  cofail report results/example.h5                  # the figures
"""


def add_parser(sub) -> None:
    p = add_command(
        sub, "sweep", help="underpricing sweep: beta_obs / beta_pred by pool size, with bootstrap",
        description="How much do pairwise-calibrated copulas (equal-loading and fitted one-factor, "
                    "full-correlation Gaussian, Clayton, Student-t) underprice the all-wrong rate beta? For the "
                    "full pool: observed beta with its interval, each prediction and the ratio "
                    "beta_obs / beta_pred with a query-bootstrap percentile interval; for every pool "
                    "size k: P random model subsets, the median ratio and its band. Described by a "
                    "TOML config (keys: see docs/sweeps.md). Resumable: "
                    "work is checkpointed into OUT.partial; rerun the same command to continue. A micro-batch far slower than its peers is reported on stderr (a watchdog), with what to do.",
        examples=EXAMPLES)
    p.add_argument("config", type=input_file, metavar="CONFIG", help="sweep config (.toml)")
    p.add_argument("--out", type=output_file, default=None,
                   help="results file (overrides the config's 'output')")
    p.add_argument("--json", action="store_true", help="print the summary as JSON")
    p.add_argument("--no-progress", action="store_true", help="no progress output on stderr")
    p.add_argument("--audit", type=input_file, default=None, metavar="SHEET",
                   help="audit sheet with verdicts (overrides the config's 'audit'): sweep the "
                        "matrix with adjudicated artefacts dropped")
    p.set_defaults(func=run)


def run(args) -> int:
    from .._src.sweep_io import load_config, run_sweep
    from .progress import progress_bar

    cfg = load_config(args.config, output=args.out, audit=args.audit)
    with progress_bar("sweep", unit="step", enabled=False if args.no_progress else None) as bar:
        summary = run_sweep(cfg, progress=bar)
    if args.json:
        import h5py

        with h5py.File(cfg.output, "r") as f:
            prov = {k: (v.decode() if isinstance(v, bytes) else v) for k, v in f.attrs.items()}
        emit_json("sweep", summary, prov)
        return 0
    print(render(summary))
    return 0


def _f(x, fmt=".4g"):
    return "nan" if x is None or (isinstance(x, float) and math.isnan(x)) else format(x, fmt)


def render(summary) -> str:
    full = summary["full"]
    q = summary["interval"]
    lines = [f"input: {summary.get('input', '')}".rstrip(),
             f"full pool: n = {full['n_queries']} queries, K = {full['n_models']} models"]
    lo, hi = full["beta_obs_ci"]
    rows = [("beta_obs", f"{full['beta_obs']:.4g}  [{lo:.4g}, {hi:.4g}] (95% Clopper-Pearson)"),
            ("mean tetrachoric rho", _f(full["mean_rho"], ".3f")),
            ("mean Pearson phi", _f(full["mean_phi"], ".3f")),
            ("effective rho", _f(full["rho_eff"], ".3f") + "  (equal correlation reproducing beta_obs)")]
    lines.append(fmt_table(rows))
    hdr = ("copula", "beta_pred", "ratio obs/pred", f"bootstrap {q[0]:g}-{q[1]:g}%")
    trows = []
    for m in summary["copulas"]:
        iv = full.get("ratio_interval", {}).get(m)
        if full.get("status", {}).get(m, "ok") != "ok":
            trows.append((m, "skipped", "-", "-"))
            continue
        trows.append((m, _f(full["beta_pred"][m]), _f(full["ratio"][m], ".3f"),
                      f"[{_f(iv[0], '.3f')}, {_f(iv[1], '.3f')}]" if iv else "-"))
    lines.append("")
    lines.append(fmt_table(trows, header=hdr))
    if "bootstrap_used" in full:
        dropped = {k: v for k, v in full["bootstrap_dropped"].items() if v}
        lines.append(f"bootstrap: {full['bootstrap_used']} replicates used"
                     + (f"; dropped: {dropped}" if dropped else "; none dropped"))
    lines.append("")
    lines.append("pool-size sweep (median ratio over subsets; subsets with beta_obs = 0 excluded):")
    srows = []
    sweep = summary["sweep"]
    show = sweep if len(sweep) <= 16 else [sweep[i] for i in
                                           sorted({round(j * (len(sweep) - 1) / 15) for j in range(16)})]
    for r in show:
        srows.append((r["k"], r["n_subsets"], f"{r['frac_beta_obs_zero']:.2f}", _f(r["mean_beta_obs"]),
                      *[_f(r[f"ratio_median_{m}"], ".3f") if r.get(f"priced_{m}", True)
                        else "skipped" for m in summary["copulas"]]))
    lines.append(fmt_table(srows, header=("k", "subsets", "P(beta_obs=0)", "mean beta_obs",
                                          *summary["copulas"])))
    if summary.get("skipped"):
        lines.append(summary["skipped"])
    lines.append(f"wrote {summary['output']}")
    return "\n".join(lines)
