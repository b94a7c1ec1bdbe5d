"""Assemble a sweep's results file from its stored checkpoints alone."""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np

from .checkpoint import Checkpoint, stored_boot_ranges
from .config import SweepConfig


def _rel(se, beta):
    """Achieved relative standard error se / beta (NaN where beta is 0 or NaN)."""
    se = np.asarray(se, np.float64)
    beta = np.asarray(beta, np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        r = se / beta
    return np.where(beta > 0, r, np.nan) if r.ndim else float(r) if beta > 0 else float("nan")


def assemble(cfg: SweepConfig, ck: Checkpoint, m, dropped, grid, plan=None) -> dict[str, Any]:
    """Build the results file from the stored checkpoints alone (``plan``: the
    :func:`.grid.skip_plan` of the run; skipped copulas get status ``skipped: <reason>``).

    Long: the results file's layout (full pool, sweep, bootstrap) written in one place.
    """
    from .grid import skip_note
    from .. import sweep as S
    from ..certificate import clopper_pearson
    from ..h5 import write_results

    copulas = list(cfg.copulas)
    q = cfg.interval
    attrs = ck.attrs()
    attrs.pop("config_hash", None)
    sessions = attrs.pop("sessions", 1)
    n, kk = m.correct.shape
    full = ck.read("full")
    K_all = int(round(float(full["beta_obs"]) * n))
    lo, hi = clopper_pearson(K_all, n, 0.05)

    tree: dict[str, Any] = {}
    dims: dict[str, tuple[str, ...]] = {}
    coords: dict[str, Any] = {"model": np.asarray(m.models, dtype=object),
                              "copula": np.asarray(copulas, dtype=object)}

    # full pool
    fp: dict[str, Any] = {
        "n_queries": n, "n_models": kk, "all_wrong": K_all,
        "beta_obs": float(full["beta_obs"]), "beta_obs_ci_lower": float(lo),
        "beta_obs_ci_upper": float(hi), "beta_obs_ci_method": "Clopper-Pearson 95 %",
        "mean_rho": float(full["mean_rho"]), "mean_phi": float(full["mean_phi"]),
        "rho_eff": float(full["rho_eff"]), "fit_rms": float(full["fit_rms"]),
        "repair_n_negative": int(full["repair_n_negative"]),
        "repair_min_eig_before": float(full["repair_min_eig_before"]),
        "repair_min_eig_after": float(full["repair_min_eig_after"]),
        "repair_frobenius": float(full["repair_frobenius"]),
        "dropped_models": json.dumps([f"{a} ({b})" for a, b in dropped]),
        "rho": full["rho"], "phi": full["phi"], "tau": full["tau"], "p_wrong": full["p_wrong"],
        "tetrachoric_status": full["tet_status"],
        "beta_pred": {}, "beta_pred_se": {}, "n_samples": {}, "rel_error": {}, "ratio": {},
    }
    dims.update({"full/rho": ("model", "model2"), "full/phi": ("model", "model2"),
                 "full/tetrachoric_status": ("model", "model2"),
                 "full/tau": ("model",), "full/p_wrong": ("model",)})
    coords["model2"] = coords["model"]
    for i, cop in enumerate(copulas):
        fp["beta_pred"][cop] = float(full["beta_pred"][i])
        fp["beta_pred_se"][cop] = float(full["beta_pred_se"][i])
        fp["n_samples"][cop] = int(full["n_samples"][i])
        fp["rel_error"][cop] = _rel(full["beta_pred_se"][i], full["beta_pred"][i])
        fp["ratio"][cop] = float(S.ratios(full["beta_obs"], full["beta_pred"][i]))
    plan = plan or {}

    def status(unit, cop):
        skip = plan.get(unit)
        return f"skipped: {skip.reason}" if skip and cop in skip.copulas else "ok"

    fp["status"] = {cop: status("full", cop) for cop in copulas}
    tree["full"] = fp

    # sweep
    ks = np.asarray(grid, np.int64)
    per_k = [ck.read(f"sweep_k/{k:05d}") for k in grid]
    pmax = max(len(d["beta_obs"]) for d in per_k)
    G = len(grid)

    def padded(field, idx=None, fill=np.nan, dtype=np.float64):
        out = np.full((G, pmax), fill, dtype)
        for g, d in enumerate(per_k):
            v = d[field] if idx is None else d[field][:, idx]
            out[g, :len(v)] = v
        return out

    sw: dict[str, Any] = {"k": ks}
    sw["n_subsets"] = np.asarray([len(d["beta_obs"]) for d in per_k], np.int64)
    sw["n_possible"] = np.asarray([float(math.comb(kk, int(k))) for k in grid])
    sw["beta_obs"] = padded("beta_obs")
    sw["mean_rho"] = padded("mean_rho")
    sw["mean_phi"] = padded("mean_phi")
    sw["rho_eff"] = padded("rho_eff")
    members = np.zeros((G, pmax, kk), np.int8)
    for g, d in enumerate(per_k):
        members[g, :len(d["members"])] = d["members"]
    sw["members"] = members
    zero = np.asarray([np.mean(d["beta_obs"] <= 0) for d in per_k])
    sw["frac_beta_obs_zero"] = zero
    sw["n_beta_obs_zero"] = np.asarray([int(np.sum(d["beta_obs"] <= 0)) for d in per_k])
    sw["mean_beta_obs"] = np.asarray([np.mean(d["beta_obs"]) for d in per_k])
    sw["beta_pred"], sw["beta_pred_se"], sw["ratio"] = {}, {}, {}
    sw["n_samples"], sw["rel_error"] = {}, {}
    sw["ratio_median"], sw["ratio_lower"], sw["ratio_upper"], sw["ratio_n"] = {}, {}, {}, {}
    sw["mean_beta_pred"] = {}
    for i, cop in enumerate(copulas):
        bp = padded("beta_pred", i)
        sw["beta_pred"][cop] = bp
        sw["beta_pred_se"][cop] = padded("beta_pred_se", i)
        sw["n_samples"][cop] = padded("n_samples", i, fill=0, dtype=np.int64)
        sw["rel_error"][cop] = _rel(sw["beta_pred_se"][cop], bp)
        r = S.ratios(sw["beta_obs"], bp)
        sw["ratio"][cop] = r
        summ = np.asarray([S.summarize_ratios(r[g, :sw["n_subsets"][g]], q) for g in range(G)])
        sw["ratio_median"][cop] = summ[:, 0]
        sw["ratio_lower"][cop] = summ[:, 1]
        sw["ratio_upper"][cop] = summ[:, 2]
        sw["ratio_n"][cop] = summ[:, 3].astype(np.int64)
        sw["mean_beta_pred"][cop] = np.asarray([np.mean(d["beta_pred"][:, i]) for d in per_k])
        sw.setdefault("priced", {})[cop] = np.asarray(
            [status(f"sweep_k/{int(k):05d}", cop) == "ok" for k in grid], np.int8)
        dims[f"sweep/priced/{cop}"] = ("pool_size",)
        for name in ("beta_pred", "beta_pred_se", "n_samples", "rel_error", "ratio"):
            dims[f"sweep/{name}/{cop}"] = ("pool_size", "subset")
        for name in ("ratio_median", "ratio_lower", "ratio_upper", "ratio_n", "mean_beta_pred"):
            dims[f"sweep/{name}/{cop}"] = ("pool_size",)
    for name in ("beta_obs", "mean_rho", "mean_phi", "rho_eff"):
        dims[f"sweep/{name}"] = ("pool_size", "subset")
    for name in ("k", "n_subsets", "n_possible", "frac_beta_obs_zero", "n_beta_obs_zero", "mean_beta_obs"):
        dims[f"sweep/{name}"] = ("pool_size",)
    dims["sweep/members"] = ("pool_size", "subset", "model")
    sw["interval_percentiles"] = np.asarray(q)
    dims["sweep/interval_percentiles"] = ("bound",)
    sw["note"] = ("ratio = beta_obs / beta_pred; subsets with beta_obs = 0 are excluded from "
                  "ratio statistics (ratio NaN) and counted in n_beta_obs_zero; rel_error = "
                  "beta_pred_se / beta_pred and n_samples the points each estimate used "
                  "(adaptive QMC stops at its target or cap); rows beyond "
                  "n_subsets are padding (NaN); at k = K there is one subset, so the band has "
                  "zero width: no composition noise is claimed there")
    sw["skip_note"] = skip_note(plan) or "every configured copula priced at every pool size"
    tree["sweep"] = sw
    coords["pool_size"] = ks
    coords["subset"] = np.arange(pmax)
    coords["bound"] = np.asarray(["lower", "upper"], dtype=object)

    summary_full = {"beta_obs": fp["beta_obs"], "beta_obs_ci": [fp["beta_obs_ci_lower"], fp["beta_obs_ci_upper"]],
                    "beta_pred": fp["beta_pred"], "beta_pred_se": fp["beta_pred_se"],
                    "n_samples": fp["n_samples"], "rel_error": fp["rel_error"], "ratio": fp["ratio"], "mean_rho": fp["mean_rho"],
                    "mean_phi": fp["mean_phi"], "rho_eff": fp["rho_eff"], "n_queries": n, "n_models": kk,
                    "status": fp["status"]}

    # bootstrap
    if cfg.bootstrap:
        ranges = stored_boot_ranges(ck)
        parts = [ck.read(f"boot/{a:08d}_{b:08d}") for a, b in ranges]
        cat = {f: np.concatenate([p[f] for p in parts]) for f in S.Prices._fields}
        B = cfg.bootstrap
        assert len(cat["beta_obs"]) == B
        reason = cat["reason"].astype(np.int64)
        valid = reason == S.OK
        bt: dict[str, Any] = {"beta_obs": cat["beta_obs"], "mean_rho": cat["mean_rho"],
                              "mean_phi": cat["mean_phi"], "rho_eff": cat["rho_eff"],
                              "drop_reason": reason, "valid": valid.astype(np.int8),
                              "beta_pred": {}, "ratio": {}, "ratio_lower": {}, "ratio_upper": {},
                              "ratio_median": {}}
        bt["n_replicates"] = B
        bt["n_used"] = int(valid.sum())
        bt["n_dropped"] = int(B - valid.sum())
        counts = {DROP: int(np.sum(reason == code)) for code, DROP in S.DROP_REASONS.items() if code != S.OK}
        bt["dropped_by_reason"] = json.dumps(counts)
        bt["drop_reason_codes"] = json.dumps({str(c): t for c, t in S.DROP_REASONS.items()})
        for name in ("beta_obs", "mean_rho", "mean_phi", "rho_eff", "drop_reason", "valid"):
            dims[f"bootstrap/{name}"] = ("replicate",)
        fp_int = {}
        for i, cop in enumerate(copulas):
            bp = cat["beta_pred"][:, i]
            r = np.where(valid, S.ratios(cat["beta_obs"], bp), np.nan)
            bt["beta_pred"][cop] = bp
            bt["ratio"][cop] = r
            med, lo_, hi_, _ = S.summarize_ratios(r, q)
            bt["ratio_median"][cop] = med
            bt["ratio_lower"][cop] = lo_
            bt["ratio_upper"][cop] = hi_
            bt.setdefault("status", {})[cop] = status("boot", cop)
            fp_int[cop] = [lo_, hi_]
            dims[f"bootstrap/beta_pred/{cop}"] = ("replicate",)
            dims[f"bootstrap/ratio/{cop}"] = ("replicate",)
        tree["bootstrap"] = bt
        summary_full["ratio_interval"] = fp_int
        summary_full["bootstrap_used"] = bt["n_used"]
        summary_full["bootstrap_dropped"] = counts
        coords["replicate"] = np.arange(B)

    attrs["sessions"] = int(sessions)
    attrs["schema_sweep"] = "cofail_jax.sweep/1"
    write_results(cfg.output, tree, attrs=attrs, dims=dims, coords=coords)
    per_k_rows = [{"k": int(k), "n_subsets": int(sw["n_subsets"][g]),
                   "frac_beta_obs_zero": float(zero[g]), "mean_beta_obs": float(sw["mean_beta_obs"][g]),
                   **{f"ratio_median_{mm}": float(sw["ratio_median"][mm][g]) for mm in copulas},
                   **{f"priced_{mm}": bool(sw["priced"][mm][g]) for mm in copulas}}
                  for g, k in enumerate(grid)]
    out = {"input": cfg.input_path, "full": summary_full, "sweep": per_k_rows, "copulas": copulas,
           "interval": list(q)}
    if plan:
        out["skipped"] = skip_note(plan)
    return out
