"""cofail_jax: how often do all models fail together, and what does that cap?

Public API, re-exported explicitly from ``cofail_jax._src``. Importing the package
enables JAX's float64 mode (tail probabilities and CDF inversions need it); set the
environment variable ``COFAIL_JAX_NO_X64=1`` before import to leave JAX's setting alone.
"""

import os as _os

from ._src.version import __version__ as __version__

if not _os.environ.get("COFAIL_JAX_NO_X64"):
    import jax as _jax

    _jax.config.update("jax_enable_x64", True)

# ---- outcome matrices: load, build, convert, save ------------------------------------
from ._src.errors import InputError as InputError
from ._src.matrix import OutcomeMatrix as OutcomeMatrix
from ._src.io import load_matrix as load_matrix
from ._src.io import register_format as register_format
from ._src.io.dataframe import from_pandas as from_pandas
from ._src.io.dataframe import to_pandas as to_pandas
from ._src.io.formats import save_matrix_h5 as save_matrix_h5
from ._src.data import example_path as example_path
from ._src.io.export import save_matrix as save_matrix
from ._src.io.importers.eee import save_eee as save_eee
from ._src.io.importers.eee import eee_records as eee_records
from ._src.io.importers.inspect_ai import load_inspect as load_inspect
from ._src.io.importers.helm import load_helm as load_helm
from ._src.io.importers.openai_evals import load_openai_evals as load_openai_evals
from ._src.io.importers.eee import load_eee as load_eee
from ._src.io.importers.parquet import load_parquet as load_parquet

# ---- results files: HDF5/netCDF, provenance, tidy tables -----------------------------
from ._src.h5 import write_results as write_results
from ._src.h5 import provenance as provenance
from ._src.io.export import results_tables as results_tables
from ._src.io.export import export_csv as export_csv
from ._src.h5 import ensure_netcdf as ensure_netcdf

# ---- the all-wrong rate beta and its certificate -------------------------------------
from ._src.certificate import Certificate as Certificate
from ._src.certificate import certificate as certificate
from ._src.certificate import certificate_from_counts as certificate_from_counts
from ._src.certificate import clopper_pearson as clopper_pearson
from ._src.certificate import beta_curve as beta_curve

# ---- pairwise error correlations: tetrachoric, bivariate normal, repair --------------
from ._src.bvn import bvn_cdf as bvn_cdf
from ._src.bvn import bvn_pdf as bvn_pdf
from ._src.tetrachoric import TetrachoricResult as TetrachoricResult
from ._src.tetrachoric import tetrachoric as tetrachoric
from ._src.tetrachoric import tetrachoric_from_rates as tetrachoric_from_rates
from ._src.tetrachoric import tetrachoric_bootstrap as tetrachoric_bootstrap
from ._src.tetrachoric import TetrachoricBootstrap as TetrachoricBootstrap
from ._src.repair import RepairResult as RepairResult
from ._src.repair import nearest_correlation as nearest_correlation
from ._src.repair import clip_correlation as clip_correlation

# ---- pricing the all-wrong tail under latent models ----------------------------------
from ._src.onefactor import onefactor_log_beta as onefactor_log_beta
from ._src.onefactor import onefactor_beta as onefactor_beta
from ._src.onefactor import equal_loading_beta as equal_loading_beta
from ._src.onefactor import equal_loading_log_beta as equal_loading_log_beta
from ._src.onefactor import effective_correlation as effective_correlation
from ._src.onefactor import fit_loadings as fit_loadings
from ._src.onefactor import LoadingFit as LoadingFit
from ._src.orthant import OrthantResult as OrthantResult
from ._src.orthant import make_orthant_estimator as make_orthant_estimator
from ._src.orthant import mvn_orthant as mvn_orthant
from ._src.orthant import reorder_cholesky as reorder_cholesky
from ._src.clayton import clayton_beta as clayton_beta
from ._src.clayton import clayton_beta_exact as clayton_beta_exact
from ._src.clayton import calibrate_clayton as calibrate_clayton
from ._src.clayton import clayton_tail_dependence as clayton_tail_dependence
from ._src.clayton import ClaytonFit as ClaytonFit
from ._src.sharding import device_mesh as device_mesh

# ---- underpricing sweeps over model subsets ------------------------------------------
from ._src.sweep import PoolStats as PoolStats
from ._src.sweep import Prices as Prices
from ._src.sweep import pool_stats as pool_stats
from ._src.sweep import make_subset_pricer as make_subset_pricer
from ._src.pricing import price_pool as price_pool
from ._src.pricing import price_matrix as price_matrix
from ._src.copulas import Copula as Copula
from ._src.copulas import PricingOptions as PricingOptions
from ._src.copulas import REGISTRY as COPULAS
from ._src.copulas import make_copulas as make_copulas
from ._src.mvt import bvt_cdf as bvt_cdf
from ._src.mvt import mvt_orthant as mvt_orthant
from ._src.sweep import make_subset_sweep as make_subset_sweep
from ._src.sweep import make_bootstrap as make_bootstrap
from ._src.sweep import draw_subsets as draw_subsets
from ._src.sweep_io import SweepConfig as SweepConfig
from ._src.sweep_io import load_config as load_sweep_config
from ._src.sweep_io import run_sweep as run_sweep
from ._src.report import write_figures as write_sweep_figures

# ---- what pairwise statistics cannot identify: the range of beta ---------------------
from ._src.identify import ErrorLaw as ErrorLaw
from ._src.identify import BetaBounds as BetaBounds
from ._src.identify import GaussianBeta as GaussianBeta
from ._src.identify import Counterexample as Counterexample
from ._src.identify import LawStats as LawStats
from ._src.identify import SimulationCheck as SimulationCheck
from ._src.identify import IdentifyResult as IdentifyResult
from ._src.identify import pairwise_rates as pairwise_rates
from ._src.identify import exchangeable_rates as exchangeable_rates
from ._src.identify import check_pairwise_rates as check_pairwise_rates
from ._src.identify import law_from_table as law_from_table
from ._src.identify import law_from_counts as law_from_counts
from ._src.identify import beta_bounds as beta_bounds
from ._src.identify import beta_bounds_lp as beta_bounds_lp
from ._src.identify import beta_bounds_moments as beta_bounds_moments
from ._src.identify import tetrachoric_matrix as tetrachoric_matrix
from ._src.identify import gaussian_copula_beta as gaussian_copula_beta
from ._src.identify import counterexample as counterexample
from ._src.identify import sample_law as sample_law
from ._src.identify import simulate_law_stats as simulate_law_stats
from ._src.identify import verify_by_simulation as verify_by_simulation
from ._src.identify import identify as identify

# ---- selection policies: votes, routers, cascades, ensembles, judges -----------------
from ._src.policies.bootstrap import make_query_bootstrap as make_query_bootstrap
from ._src.policies.bootstrap import realized_fraction_bootstrap as realized_fraction_bootstrap
from ._src.policies.bootstrap import train_test_split as train_test_split
from ._src.policies.reference import reference_points as reference_points
from ._src.policies.reference import score_choices as score_choices
from ._src.policies.votes import majority_vote as majority_vote
from ._src.policies.votes import plurality_vote as plurality_vote
from ._src.policies.votes import subset_votes as subset_votes
from ._src.policies.votes import evaluate_votes as evaluate_votes
from ._src.policies.cascade import confidence_cascade as confidence_cascade
from ._src.policies.cascade import disagreement_cascade as disagreement_cascade
from ._src.policies.cascade import evaluate_cascades as evaluate_cascades
from ._src.policies.router import cross_fit_router as cross_fit_router
from ._src.policies.router import evaluate_choices as evaluate_choices
from ._src.policies.router import oracle_choices as oracle_choices
from ._src.policies.router import read_choices as read_choices
from ._src.policies.router import cost_frontier as cost_frontier
from ._src.policies.ensembles import ensemble_comparison as ensemble_comparison
from ._src.policies.formats import compare_formats as compare_formats
from ._src.policies.judges import judge_panel as judge_panel
from ._src.policies.judges import fleiss_kappa as fleiss_kappa
from ._src.policies.judges import cohen_kappa as cohen_kappa

# ---- simulated pools with a known beta -----------------------------------------------
from ._src.simulate import Law as Law
from ._src.simulate import TrueBeta as TrueBeta
from ._src.simulate import benchmark_pool as benchmark_pool
from ._src.simulate import benchmark_law as benchmark_law
from ._src.simulate import independent_law as independent_law
from ._src.simulate import onefactor_law as onefactor_law
from ._src.simulate import gaussian_law as gaussian_law
from ._src.simulate import clayton_law as clayton_law
from ._src.simulate import student_t_law as student_t_law
from ._src.simulate import common_shock_law as common_shock_law
from ._src.simulate import irt_law as irt_law
from ._src.simulate import with_artefacts as with_artefacts
from ._src.simulate import table_law as table_law
from ._src.simulate import exchangeable_law as exchangeable_law
from ._src.simulate import from_error_law as from_error_law
from ._src.simulate import calibrate_law as calibrate_law
from ._src.simulate import Calibration as Calibration
from ._src.simulate import underpricing_curve as underpricing_curve
from ._src.simulate import sample_errors as sample_errors
from ._src.simulate import simulate as simulate
from ._src.simulate import true_beta as true_beta

# ---- grading audit: answer normalisation, evidence, adjudication, regrading ----------
from ._src.audit.normalize import Match as Match
from ._src.audit.normalize import answers_equivalent as answers_equivalent
from ._src.audit.normalize import normalize_answer as normalize_answer
from ._src.audit.evidence import QueryEvidence as QueryEvidence
from ._src.audit.evidence import audit_evidence as audit_evidence
from ._src.audit.adjudicate import Adjudications as Adjudications
from ._src.audit.adjudicate import AuditedBeta as AuditedBeta
from ._src.audit.adjudicate import read_adjudications as read_adjudications
from ._src.audit.adjudicate import apply_adjudications as apply_adjudications
from ._src.audit.adjudicate import audited_beta as audited_beta
from ._src.audit.regrade import RegradeResult as RegradeResult
from ._src.audit.regrade import regrade as regrade
from ._src.audit.sensitivity import Sensitivity as Sensitivity
from ._src.audit.sensitivity import artefact_sensitivity as artefact_sensitivity
