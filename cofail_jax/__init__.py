"""cofail_jax: how often do all models fail together, and what does that cap?

Public API, re-exported explicitly from ``cofail_jax._src``. Importing the package
enables JAX's float64 mode (tail probabilities and CDF inversions need it); set the
environment variable ``COFAIL_JAX_NO_X64=1`` before import to leave JAX's setting alone.

The names below are loaded on first use (PEP 562 ``__getattr__``): ``import cofail_jax``
imports neither JAX nor the submodules, so the ``cofail`` command starts fast;
``from cofail_jax import certificate`` and ``dir(cofail_jax)`` work as before.
"""

import importlib as _importlib
import os as _os
import sys as _sys

from ._src.version import __version__ as __version__

if not _os.environ.get("COFAIL_JAX_NO_X64"):
    if "jax" in _sys.modules:  # already imported: switch it now
        _sys.modules["jax"].config.update("jax_enable_x64", True)
    else:  # JAX reads this when it is first imported (no import here, so no start-up cost)
        _os.environ["JAX_ENABLE_X64"] = "1"

# public name -> "module" (of cofail_jax._src) or "module:name" when renamed
_EXPORTS: dict[str, str] = {
    # ---- outcome matrices: load, build, convert, save ------------------------------------
    "InputError": "errors",
    "OutcomeMatrix": "matrix",
    "load_matrix": "io",
    "register_format": "io",
    "from_pandas": "io.dataframe",
    "to_pandas": "io.dataframe",
    "save_matrix_h5": "io.formats",
    "example_path": "data",
    "save_matrix": "io.export",
    "save_eee": "io.importers.eee",
    "eee_records": "io.importers.eee",
    "load_inspect": "io.importers.inspect_ai",
    "load_helm": "io.importers.helm",
    "load_openai_evals": "io.importers.openai_evals",
    "load_eee": "io.importers.eee",
    "load_parquet": "io.importers.parquet",

    # ---- results files: HDF5/netCDF, provenance, tidy tables -----------------------------
    "write_results": "h5",
    "provenance": "h5",
    "results_tables": "io.export",
    "export_csv": "io.export",
    "ensure_netcdf": "h5",

    # ---- the all-wrong rate beta and its certificate -------------------------------------
    "Certificate": "certificate",
    "certificate": "certificate",
    "certificate_from_counts": "certificate",
    "clopper_pearson": "certificate",
    "beta_curve": "certificate",

    # ---- pairwise error correlations: tetrachoric, bivariate normal, repair --------------
    "bvn_cdf": "bvn",
    "bvn_pdf": "bvn",
    "TetrachoricResult": "tetrachoric",
    "tetrachoric": "tetrachoric",
    "tetrachoric_from_rates": "tetrachoric",
    "tetrachoric_bootstrap": "tetrachoric",
    "TetrachoricBootstrap": "tetrachoric",
    "RepairResult": "repair",
    "nearest_correlation": "repair",
    "clip_correlation": "repair",
    "FactoredRepair": "repair",
    "nearest_correlation_factored": "repair",

    # ---- pricing the all-wrong tail under latent models ----------------------------------
    "onefactor_log_beta": "onefactor",
    "onefactor_beta": "onefactor",
    "equal_loading_beta": "onefactor",
    "equal_loading_log_beta": "onefactor",
    "effective_correlation": "onefactor",
    "fit_loadings": "onefactor",
    "LoadingFit": "onefactor",
    "OrthantResult": "orthant",
    "make_orthant_estimator": "orthant",
    "mvn_orthant": "orthant",
    "reorder_cholesky": "orthant",
    "clayton_beta": "clayton",
    "clayton_beta_exact": "clayton",
    "calibrate_clayton": "clayton",
    "clayton_tail_dependence": "clayton",
    "ClaytonFit": "clayton",
    "device_mesh": "sharding",

    # ---- underpricing sweeps over model subsets ------------------------------------------
    "PoolStats": "sweep",
    "Prices": "sweep",
    "pool_stats": "sweep",
    "make_subset_pricer": "sweep",
    "price_pool": "pricing",
    "price_matrix": "pricing",
    "Copula": "copulas",
    "PricingOptions": "copulas",
    "COPULAS": "copulas:REGISTRY",
    "make_copulas": "copulas",
    "bvt_cdf": "mvt",
    "mvt_orthant": "mvt",
    "make_subset_sweep": "sweep",
    "make_bootstrap": "sweep",
    "draw_subsets": "sweep",
    "SweepConfig": "sweep_io",
    "load_sweep_config": "sweep_io:load_config",
    "run_sweep": "sweep_io",
    "write_sweep_figures": "report:write_figures",

    # ---- what pairwise statistics cannot identify: the range of beta ---------------------
    "ErrorLaw": "identify",
    "BetaBounds": "identify",
    "GaussianBeta": "identify",
    "Counterexample": "identify",
    "LawStats": "identify",
    "SimulationCheck": "identify",
    "IdentifyResult": "identify",
    "pairwise_rates": "identify",
    "exchangeable_rates": "identify",
    "check_pairwise_rates": "identify",
    "law_from_table": "identify",
    "law_from_counts": "identify",
    "beta_bounds": "identify",
    "beta_bounds_lp": "identify",
    "beta_bounds_moments": "identify",
    "tetrachoric_matrix": "identify",
    "gaussian_copula_beta": "identify",
    "counterexample": "identify",
    "sample_law": "identify",
    "simulate_law_stats": "identify",
    "verify_by_simulation": "identify",
    "identify": "identify",

    # ---- selection policies: votes, routers, cascades, ensembles, judges -----------------
    "make_query_bootstrap": "policies.bootstrap",
    "realized_fraction_bootstrap": "policies.bootstrap",
    "train_test_split": "policies.bootstrap",
    "reference_points": "policies.reference",
    "score_choices": "policies.reference",
    "majority_vote": "policies.votes",
    "plurality_vote": "policies.votes",
    "subset_votes": "policies.vote_subsets",
    "evaluate_votes": "policies.votes",
    "confidence_cascade": "policies.cascade",
    "disagreement_cascade": "policies.cascade",
    "evaluate_cascades": "policies.cascade",
    "cross_fit_router": "policies.router_fit",
    "evaluate_choices": "policies.router",
    "oracle_choices": "policies.router",
    "read_choices": "policies.router_choices",
    "cost_frontier": "policies.router",
    "ensemble_comparison": "policies.ensembles",
    "compare_formats": "policies.formats",
    "judge_panel": "policies.judges",
    "fleiss_kappa": "policies.judges",
    "cohen_kappa": "policies.judges",

    # ---- simulated pools with a known beta -----------------------------------------------
    "Law": "simulate",
    "TrueBeta": "simulate",
    "benchmark_pool": "simulate",
    "benchmark_law": "simulate",
    "independent_law": "simulate",
    "onefactor_law": "simulate",
    "gaussian_law": "simulate",
    "clayton_law": "simulate",
    "student_t_law": "simulate",
    "common_shock_law": "simulate",
    "irt_law": "simulate",
    "with_artefacts": "simulate",
    "table_law": "simulate",
    "exchangeable_law": "simulate",
    "from_error_law": "simulate",
    "calibrate_law": "simulate",
    "Calibration": "simulate",
    "underpricing_curve": "simulate",
    "sample_errors": "simulate",
    "simulate": "simulate",
    "true_beta": "simulate",

    # ---- grading audit: answer normalisation, evidence, adjudication, regrading ----------
    "Match": "audit.normalize",
    "answers_equivalent": "audit.normalize",
    "normalize_answer": "audit.normalize",
    "QueryEvidence": "audit.evidence",
    "audit_evidence": "audit.evidence",
    "Adjudications": "audit.adjudicate",
    "AuditedBeta": "audit.adjudicate",
    "read_adjudications": "audit.adjudicate",
    "apply_adjudications": "audit.adjudicate",
    "audited_beta": "audit.adjudicate",
    "RegradeResult": "audit.regrade",
    "regrade": "audit.regrade",
    "Sensitivity": "audit.sensitivity",
    "artefact_sensitivity": "audit.sensitivity",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    target = _EXPORTS.get(name)
    if target is None:
        raise AttributeError(f"module 'cofail_jax' has no attribute {name!r}")
    mod, _, attr = target.partition(":")
    value = getattr(_importlib.import_module(f"._src.{mod}", __name__), attr or name)
    globals()[name] = value  # later lookups skip __getattr__
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))
