"""Copulas that price P(all wrong) from pairwise statistics: one contract, one registry.

A copula is a :class:`Copula`: a small value of pure functions (the optax
``GradientTransformation`` pattern), built by its module's ``make(options)``:

* ``calibrate(stats, pair_w) -> params``: fit the copula to a (sub)pool's pairwise
  statistics (:class:`PairStats`; models outside the subset are masked: threshold +inf,
  error rate 1, identity correlation) using the pairs with weight ``pair_w > 0``;
* ``log_beta(key, params) -> Estimate``: log P(all wrong) with its standard error,
  status, estimator and sample count;
* ``sample(key, params, n) -> errors``: an (n, K) bool matrix of errors drawn from the
  copula (the simulator's laws go through it, so a law and its pricer cannot drift);
* ``tail_dependence(params)``: the (K, K) pairwise lower-tail dependence coefficients;
* ``summary(params)``: named scalar/array diagnostics for the CLI, JSON and HDF5;
* ``name`` (the one name used by CLI flags, config keys, JSON, HDF5 and figures),
  ``label`` and ``colour`` (figure legends);
* optional ``prepare(pool_stats, pair_w) -> aux``: per-pair work done once per pool (or
  bootstrap replicate) on the whole pool's statistics, whose leaves are per-model (K,) or
  per-pair (K, K) arrays; a subset's ``calibrate(stats, pair_w, aux)`` then indexes them
  (the sweep compacts them with the subset's models). ``calibrate(stats, pair_w)``
  without ``aux`` still works (it prepares on the subset itself). The Student-t copula
  solves its pairwise t correlations there, once per pool instead of once per subset.

**Which pairs calibrate.** One rule everywhere (:func:`pair_weights`): a pair of models
of the subset calibrates a copula when its tetrachoric status is OK. Pairs whose 2 x 2
table has an empty cell (tetrachoric at the boundary, +-1) are left out of every mean and
fit (equal-loading mean, loading fit, Clayton's mean both-wrong rate, Student-t ν); the
full-matrix copulas (Gaussian, Student-t) need every entry and take them at +-1 before
the repair.

**One repair.** Full-matrix copulas repair the calibrated matrix with the nearest
correlation matrix at eigenvalue floor :data:`EIG_FLOOR` (1e-6) unless configured
otherwise: by default (``repair="nearest"``) the semismooth Newton method of Qi and Sun
(:func:`..repair.nearest_correlation_factored`, cold start, tolerance 1e-10 on the diagonal;
its first eigendecomposition gives the input's eigenvalue report, so the repair costs
one eigendecomposition per Newton step and nothing more); ``"higham"`` (alternating
projections, the same matrix to its tolerance, 10-70x slower) and ``"clip"`` remain
options. The floor and the repair report are in ``summary``.

**One accuracy.** Full-matrix copulas price by randomized QMC-SOV grown until the
standard error across 16 random shifts is :data:`QMC_REL_ERROR` (1 %) of the estimate,
doubling from 1,024 points up to :data:`QMC_MAX_SAMPLES` (2^16)
(:func:`..orthant.adaptive_lattice`), unless ``orthant_samples`` fixes the count; the
points used and the achieved error are in each :class:`Estimate`. ``cofail price`` and
the sweep share these defaults, so their k = K numbers agree. Every orthant
estimator refuses a matrix that is not positive definite to working precision
(status ``NOT_PD``, NaN), so a missing repair never yields a number with status OK.

Adding a copula: write ``cofail_jax/_src/copulas/<name>.py`` with ``make(opts) -> Copula``
and add one line to :data:`REGISTRY` (see the README, "Adding a copula").
"""

from __future__ import annotations

import sys
import zlib
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp

# Estimators (``Estimate.method`` indexes this tuple).
ESTIMATORS = ("closed form", "quadrature", "mc", "qmc", "tilting")
CLOSED_FORM, QUADRATURE, MC, QMC, TILTING = range(5)

# Pricing statuses (``Estimate.status``); 0-2 are the orthant engine's own codes.
OK = 0
NONFINITE = 1
NOT_CONVERGED = 2
NOT_PD = 3
STATUS_MESSAGES = {
    OK: "ok",
    NONFINITE: "non-finite input or estimate (a model always right/wrong, or a NaN "
               "correlation)",
    NOT_CONVERGED: "tilting saddle point not found; the estimate is unbiased but may be "
                   "noisy: use qmc or more samples",
    NOT_PD: "correlation matrix not positive definite to working precision: repair it "
            "(nearest_correlation with eps > 0)",
}

EIG_FLOOR = 1e-6
"""Default eigenvalue floor of the repair before a full-matrix copula (price and sweep)."""

QMC_REL_ERROR = 0.01
"""Default target relative standard error of the QMC orthant estimates (price and sweep)."""

QMC_MAX_SAMPLES = 2 ** 16
"""Default cap on QMC points (all shifts), and the draws of MC/tilting when not given."""

REPAIRS = ("nearest", "higham", "clip")
"""``nearest``: Newton nearest correlation (default); ``higham``: the same matrix by
alternating projections; ``clip``: eigenvalue clipping (not the nearest matrix)."""
ORTHANT_METHODS = ("auto", "mc", "qmc", "tilting")


class PricingOptions(NamedTuple):
    """Estimator settings shared by every copula (static: never traced).

    Attributes:
      orthant_method: full-matrix copulas: ``"qmc"``, ``"mc"``, ``"tilting"`` (Gaussian
        only) or ``"auto"`` (Gaussian: QMC, tilting below 1e-4; Student-t: QMC).
      orthant_samples: points (QMC, over all shifts) or draws (MC, tilting); None
        (default): QMC grows to ``rel_error`` (cap ``max_samples``), MC and tilting use
        ``max_samples``.
      rel_error: target relative standard error of adaptive QMC.
      max_samples: cap of adaptive QMC; the draws of MC/tilting when ``orthant_samples``
        is None.
      factor_method: one-factor copulas: ``"quadrature"`` (default) or an orthant method
        on their full matrix.
      clayton_method: ``"closed form"`` (default) or ``"mc"`` (gamma frailty).
      repair: ``"nearest"`` (Newton, Qi-Sun 2006), ``"higham"`` (Higham 2002, the same
        matrix) or ``"clip"``.
      eig_floor: eigenvalue floor of the repair.
      nu: Student-t degrees of freedom.
      fit_nu: Student-t: fit ν by maximum pairwise likelihood (``nu`` is the start).
    """

    orthant_method: str = "qmc"
    orthant_samples: int | None = None
    factor_method: str = "quadrature"
    clayton_method: str = "closed form"
    repair: str = "nearest"
    eig_floor: float = EIG_FLOOR
    nu: float = 4.0
    fit_nu: bool = False
    rel_error: float = QMC_REL_ERROR
    max_samples: int = QMC_MAX_SAMPLES

    def n_samples(self) -> int:
        """Points/draws of a fixed-size estimator: ``orthant_samples`` or the cap."""
        return int(self.orthant_samples or self.max_samples)

    def target(self) -> float | None:
        """The QMC target relative error, or None when ``orthant_samples`` fixes the count."""
        return None if self.orthant_samples else float(self.rel_error)


class PairStats(NamedTuple):
    """Pairwise statistics of a (sub)pool of K models, models outside the subset masked.

    Attributes:
      p_wrong: (K,) error rates; 1 outside the subset (an exact factor 1).
      tau: (K,) Gaussian thresholds Phi^-1(p_wrong); +inf outside the subset.
      rho: (K, K) tetrachoric correlations on the subset's pairs (+-1 at the boundary),
        identity elsewhere.
      p_both: (K, K) both-wrong rates.
      pair: (K, K) bool, off-diagonal pairs of the subset (any status).
      mask: (K,) bool, the subset.
      total: () total query weight (n).
    """

    p_wrong: jax.Array
    tau: jax.Array
    rho: jax.Array
    p_both: jax.Array
    pair: jax.Array
    mask: jax.Array
    total: jax.Array


class Estimate(NamedTuple):
    """log P(all wrong) under a calibrated copula.

    Attributes:
      log_beta: the estimate's log (-inf when beta = 0).
      std_err: standard error of beta (0 when exact to quadrature precision).
      status: see :data:`STATUS_MESSAGES` (0 OK).
      method: index into :data:`ESTIMATORS`.
      n_samples: points or draws used (0 for closed forms and quadrature).
    """

    log_beta: jax.Array
    std_err: jax.Array
    status: jax.Array
    method: jax.Array
    n_samples: jax.Array


class Copula(NamedTuple):
    """One copula: pure functions plus its names (see the module docstring)."""

    name: str
    label: str
    colour: str
    calibrate: Callable[..., Any]  # (stats, pair_w[, prepared]) -> params
    log_beta: Callable[[jax.Array, Any], Estimate]
    sample: Callable[[jax.Array, Any, int], jax.Array]
    tail_dependence: Callable[[Any], jax.Array]
    summary: Callable[[Any], dict[str, jax.Array]]
    prepare: Callable[[PairStats, jax.Array], Any] | None = None


def estimate(log_beta, std_err=0.0, status=OK, method=CLOSED_FORM, n_samples=0) -> Estimate:
    """An :class:`Estimate` from plain values (float64 / int32 leaves)."""
    lb = jnp.asarray(log_beta)
    return Estimate(lb, jnp.asarray(std_err, lb.dtype), jnp.asarray(status, jnp.int32),
                    jnp.asarray(method, jnp.int32), jnp.asarray(n_samples, jnp.int32))


def pair_weights(pair, status) -> jax.Array:
    """The one calibration rule: subset pairs whose tetrachoric status is OK (float 0/1)."""
    return (jnp.asarray(pair) & (jnp.asarray(status) == 0)).astype(jnp.result_type(float))


def mean_over(x, w):
    """Weighted mean of x over pairs (0 when no pair has weight)."""
    return jnp.sum(jnp.where(w > 0, x, 0.0) * w) / jnp.maximum(jnp.sum(w), 1.0)


def copula_key(key, name: str):
    """The copula's own key, ``fold_in(key, crc32(name))``: independent of list order."""
    return jax.random.fold_in(key, zlib.crc32(name.encode()) & 0x7FFFFFFF)


def repair_matrix(corr, pair, opts: PricingOptions):
    """Repair ``corr`` (identity outside the subset's pairs) with the configured method and
    floor; returns (repaired corr, summary dict).

    ``"nearest"`` runs :func:`..repair.nearest_correlation_factored` (Newton, cold start):
    its summary has the input's eigenvalue report from the first Newton eigendecomposition
    and a lower bound on the repaired matrix's smallest eigenvalue
    (``repair_min_eig_bound``) instead of recomputing it; ``"higham"`` and ``"clip"``
    report the exact ``repair_min_eig_after``.
    """
    from .. import repair as _rep

    eye = jnp.eye(corr.shape[0], dtype=corr.dtype)
    if opts.repair == "nearest":
        f = _rep.nearest_correlation_factored(corr, eps=opts.eig_floor, tol=1e-10, max_iter=100)
        fixed = jnp.where(pair, f.corr, eye)
        rep = {"repair_n_negative": f.n_negative, "repair_min_eig_before": f.min_eig_before,
               "repair_min_eig_bound": f.min_eig_bound,
               "repair_frobenius_distance": jnp.linalg.norm(f.corr - (corr + corr.T) / 2),
               "repair_converged": f.converged, "repair_n_iter": f.n_iter,
               "repair_floor": jnp.asarray(opts.eig_floor)}
        return fixed, rep
    if opts.repair == "higham":
        r = _rep.nearest_correlation(corr, eps=opts.eig_floor, max_iter=1000)
    elif opts.repair == "clip":
        r = _rep.clip_correlation(corr, eps=opts.eig_floor)
    else:
        raise NotImplementedError(f"repair: method must be one of {REPAIRS}, got {opts.repair!r}")
    fixed = jnp.where(pair, r.corr, eye)
    rep = {"repair_n_negative": r.n_negative, "repair_min_eig_before": r.min_eig_before,
           "repair_min_eig_after": r.min_eig_after,
           "repair_frobenius_distance": r.frobenius_distance,
           "repair_converged": r.converged, "repair_n_iter": r.n_iter,
           "repair_floor": jnp.asarray(opts.eig_floor)}
    return fixed, rep


def orthant_log_beta(opts: PricingOptions, method: str | None = None):
    """``(key, tau, corr) -> Estimate`` through the Gaussian orthant engine (one device):
    adaptive QMC to ``opts.rel_error`` unless ``orthant_samples`` fixes the count."""
    from .. import orthant as _orth

    method = method or opts.orthant_method
    n = opts.n_samples()
    if method == "auto":
        def f(key, tau, corr):
            r = _orth.mvn_orthant(key, tau, corr, method="auto", n_samples=n, devices=None)
            return estimate(r.log_prob, r.std_err, r.status, MC + r.method, r.n_samples)
        return f
    target = opts.target() if method == "qmc" else None
    est = _orth.make_orthant_estimator(method, n, devices=None, jit=False, rel_error=target)

    def g(key, tau, corr):
        r = est(key, tau, corr)
        return estimate(r.log_prob, r.std_err, r.status, MC + r.method, r.n_samples)
    return g


# ---------------------------------------------------------------------------------------
# registry

from . import clayton as _clayton  # noqa: E402
from . import equal_loading as _equal_loading  # noqa: E402
from . import fitted_loading as _fitted_loading  # noqa: E402
from . import gaussian as _gaussian  # noqa: E402
from . import student_t as _student_t  # noqa: E402

REGISTRY: dict[str, Callable[[PricingOptions], Copula]] = {
    "equal_loading": _equal_loading.make,
    "fitted_loading": _fitted_loading.make,
    "gaussian": _gaussian.make,
    "clayton": _clayton.make,
    "student_t": _student_t.make,
}
"""Every copula, by its one name, in output order."""

NAMES = tuple(REGISTRY)

ALIASES = {"one-factor": "equal_loading", "one-factor-fitted": "fitted_loading",
           "one_factor": "fitted_loading", "student-t": "student_t"}
"""Old names that still work (a one-line note names the new one)."""


def canonical(name: str, *, where: str = "", stream=None) -> str:
    """The registry name of ``name``; an old alias prints one note naming the new name."""
    if name in REGISTRY:
        return name
    if name in ALIASES:
        new = ALIASES[name]
        print(f"note: {where + ': ' if where else ''}{name!r} is now called {new!r} "
              f"(the old name still works)", file=stream or sys.stderr)
        return new
    raise KeyError(name)


def get(name: str, opts: PricingOptions | None = None) -> Copula:
    """The copula registered as ``name`` (or an alias), built with ``opts``."""
    return REGISTRY[canonical(name)](opts or PricingOptions())


def make_copulas(names: Sequence[str], opts: PricingOptions | None = None) -> tuple[Copula, ...]:
    """The copulas ``names`` (registry order is not imposed), built with ``opts``."""
    opts = opts or PricingOptions()
    return tuple(REGISTRY[canonical(n)](opts) for n in names)


def label(name: str) -> str:
    return get(name).label


def colour(name: str) -> str:
    return get(name).colour
