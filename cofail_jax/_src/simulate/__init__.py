"""Simulator: outcome matrices drawn from dependence laws whose beta is known.

A user cannot check an estimator on real data, where the truth is unknown. Each law here
prices the all-wrong probability exactly (closed form) or by deterministic quadrature of
stated precision, so estimators (Clopper-Pearson, tetrachoric, one-factor pricing) can be
validated against it.

Conventions: ``errors`` True = wrong. A law is a :class:`Law` (kind, per-model marginal
error rates, law parameters, artefact fraction). :func:`sample_errors` draws an (n, k)
error matrix with an explicit key; block ``b`` of :data:`BLOCK` queries uses
``jax.random.fold_in(key, b)``, so a matrix does not depend on the chunk size used to
bound memory. :func:`true_beta` prices
P(all models in a subset wrong) under the law.

Modules: :mod:`.laws` (the :class:`Law` value and constructors), :mod:`.irt` (2PL
quadrature, abilities), :mod:`.exact` (true beta, pairwise rates), :mod:`.sample`
(blocked counter-based sampler), :mod:`.underpricing` (exact ratio against the pricing
core), :mod:`.calibrate` (laws fitted to a matrix).

Laws:
  * ``independent``: model i wrong with probability p_i, independently.
  * ``onefactor``: Gaussian latent Z_i = l_i F + sqrt(1 - l_i^2) e_i, wrong iff
    Z_i <= tau_i = Phi^-1(p_i). True beta by a 1-D trapezoid rule over F (log space).
  * ``gaussian``: Z ~ N(0, corr) (full correlation matrix). True beta: exact for m <= 2
    (bivariate normal), a one-factor quadrature when corr is one-factor, otherwise Genz's
    randomised quasi-Monte Carlo (scipy) with a stated absolute error.
  * ``clayton``: Clayton copula via gamma frailty (Marshall & Olkin 1988): V ~ Gamma(1/theta),
    U_i = (1 + E_i / V)^(-1/theta), wrong iff U_i <= p_i. True beta in closed form
    C(p) = (sum p_i^-theta - m + 1)^(-1/theta).
  * ``student_t``: Student-t copula, T = Z / sqrt(W / nu), Z ~ N(0, corr), W ~ chi^2_nu;
    wrong iff T_i <= t_nu^-1(p_i). True beta: the marginal / bivariate t CDF for m <= 2,
    otherwise randomized QMC-SOV (the library's, 2^18 points) with 4 standard errors as
    the stated error.
  * The copula laws ``gaussian``, ``clayton`` and ``student_t`` draw their queries
    through the same copula's ``sample`` that prices it (:mod:`cofail_jax._src.copulas`).
    ``onefactor`` (like ``independent``, ``common_shock`` and ``irt``) draws each cell by
    comparing a SplitMix64 word with its conditional error rate given the query's factor
    (:mod:`.sample`), about 20x faster; the per-law test of the empirical against the true
    beta (within 4 standard errors) is what keeps law and pricer together.
  * ``common_shock``: with probability omega a query is co-hard and every model errs;
    otherwise model i errs independently with probability alpha_i. True beta
    omega + (1 - omega) prod alpha_i (exact).
  * ``irt``: two-parameter logistic item response (Birnbaum 1968): query difficulty
    b ~ N(mu_b, sd_b), log discrimination log a ~ N(mu_a, sd_a), model ability theta_i;
    P(i correct on the query) = sigmoid(a (theta_i - b)). True beta of the *law* by a 2-D
    quadrature (trapezoid in b x Gauss-Hermite in log a) over the query latent.
  * ``table`` / ``exchangeable``: an explicit law on the 2^k error patterns, or the
    distribution of the number of wrong models (exchangeable); :func:`from_error_law`
    turns the non-identification counterexample laws into these. True beta exact (a finite sum).
  * artefacts (any law, :func:`with_artefacts`): a fraction f of queries is marked wrong
    for every model (a broken grader); beta_f = f + (1 - f) beta.

References:
  Marshall, A. W. and Olkin, I. (1988). Families of multivariate distributions. JASA 83.
  Birnbaum, A. (1968). Some latent trait models and their use in inferring an examinee's
    ability. In Lord & Novick, Statistical Theories of Mental Test Scores.
  Genz, A. (1992). Numerical computation of multivariate normal probabilities. JCGS 1.
  Clayton, D. G. (1978). A model for association in bivariate life tables. Biometrika 65.
  Sheppard, W. F. (1898/1900); Plackett, R. L. (1954). A reduction formula for normal
    multivariate integrals. Biometrika 41 (the bivariate normal integral over rho).
"""

from __future__ import annotations

from .calibrate import Calibration as Calibration
from .calibrate import calibrate as calibrate
from .calibrate import calibrate_law as calibrate_law
from .exact import onefactor_loadings as onefactor_loadings
from .exact import pair_both_wrong as pair_both_wrong
from .exact import true_beta as true_beta
from .exact import true_beta_curve as true_beta_curve
from .irt import BENCHMARK_IRT as BENCHMARK_IRT
from .irt import irt_abilities as irt_abilities
from .laws import KINDS as KINDS
from .laws import Law as Law
from .laws import TrueBeta as TrueBeta
from .laws import benchmark_law as benchmark_law
from .laws import clayton_law as clayton_law
from .laws import common_shock_law as common_shock_law
from .laws import exchangeable_law as exchangeable_law
from .laws import from_error_law as from_error_law
from .laws import gaussian_law as gaussian_law
from .laws import independent_law as independent_law
from .laws import irt_law as irt_law
from .laws import onefactor_law as onefactor_law
from .laws import select as select
from .laws import student_t_law as student_t_law
from .laws import table_law as table_law
from .laws import with_artefacts as with_artefacts
from .sample import BLOCK as BLOCK
from .sample import benchmark_pool as benchmark_pool
from .sample import sample_errors as sample_errors
from .sample import simulate as simulate
from .underpricing import Underpricing as Underpricing
from .underpricing import exact_tetrachoric as exact_tetrachoric
from .underpricing import underpricing_curve as underpricing_curve
