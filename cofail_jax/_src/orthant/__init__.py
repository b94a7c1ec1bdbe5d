"""Full-covariance Gaussian copula: P(Z <= tau), Z ~ N(0, corr), three estimators.

* ``"mc"``: plain Monte Carlo. ``Z = L e`` with ``L`` the Cholesky factor; every chunk
  makes its standard normals from a counter-based hash of (chunk key, counter) (two
  rounds of a 32-bit avalanche mixer, then the inverse error function, in float32), does
  the product, the comparison and the count in one fused kernel, and returns an exact
  integer hit count. Memory is bounded by the chunk, whatever the number of draws.
* ``"qmc"``: Genz's separation of variables (SOV). After a greedy reordering that puts the
  tightest conditional constraints first (Genz and Bretz 2009, section 4.1.3), the
  probability is the integral over the unit cube of ``prod_i e_i(w)``,
  ``e_i = Phi((tau_i - sum_{j<i} L_ij w_j) / L_ii)``, ``w_i = Phi^{-1}(u_i e_i)``. The points
  are a randomly shifted Richtmyer (Kronecker) lattice with the baker's (tent)
  transform; the error comes from independent random shifts. The integrand runs in a
  fast float32 kernel (dimension-major blocks, AS 241 quantiles; :mod:`.sov`) whose
  rounding, 1e-7 relative per dimension, is added to the standard error; in the far
  tail (adaptive estimate below 1e-20; fixed-size: a block whose largest value is below
  1e-25) the estimate is redone in log space in the caller's dtype, accurate far below
  float underflow.
* ``"tilting"``: Botev's minimax exponential tilting. The same sequential conditioning,
  but each ``w_i`` is drawn from a normal with mean ``mu_i`` truncated to the constraint;
  ``mu`` comes from the saddle point of a convex-concave function ``psi(x, mu)`` solved by
  damped Newton steps. ``exp(psi*)`` bounds every importance weight, which keeps the
  relative error bounded as the probability shrinks (1e-5 and far below).

Every estimator is ``(key, tau, corr) -> OrthantResult``, pure and fixed-shape, built
with :func:`make_orthant_estimator` (optionally with a ``progress(done, total)`` callback
called after every chunk: :mod:`.progress`). Its chunks are spread over all devices
(:mod:`cofail_jax._src.sharding`); chunk ``c`` uses ``fold_in(key, c)`` alone and the
per-chunk sums are reduced in a fixed order, so the same key and sample count give the same
bits on 1 or many devices. ``tau_i = +inf`` excludes model i (exact factor 1).

References:
  Genz, A. (1992). Numerical computation of multivariate normal probabilities. Journal of
  Computational and Graphical Statistics 1, 141-149.
  Genz, A. and Bretz, F. (2009). Computation of Multivariate Normal and t Probabilities.
  Lecture Notes in Statistics 195, Springer.
  Richtmyer, R. D. (1951). The evaluation of definite integrals, and a quasi-Monte-Carlo
  method based on the properties of algebraic numbers. Report LA-1342, Los Alamos.
  Hickernell, F. J. (2002). Obtaining O(N^{-2+eps}) convergence for lattice quadrature
  rules (the baker's transform). In Monte Carlo and Quasi-Monte Carlo Methods 2000.
  Botev, Z. I. (2017). The normal law under linear restrictions: simulation and
  estimation via minimax tilting. JRSS B 79(1), 125-148.
  Wellons, C. (2018). Prospecting for hash functions (the 32-bit mixer constants).
  Giles, M. (2011). Approximating the erfinv function. GPU Computing Gems Jade Edition.
  Wichura, M. J. (1988). Algorithm AS 241: the percentage points of the normal
  distribution. Applied Statistics 37, 477-484.

Modules: :mod:`.common` (statuses, result, checks, reordering), :mod:`.mc`, :mod:`.qmc`
(lattice and adaptive loop), :mod:`.sov` (the SOV integrand kernels), :mod:`.tilting`,
:mod:`.progress`, :mod:`.api` (the public builders).
"""

from __future__ import annotations


from __future__ import annotations

from .api import AUTO_THRESHOLD as AUTO_THRESHOLD
from .api import _cached as _cached
from .api import make_orthant_estimator as make_orthant_estimator
from .api import mvn_orthant as mvn_orthant
from .common import BIG as BIG
from .common import METHODS as METHODS
from .common import NONFINITE as NONFINITE
from .common import NOT_CONVERGED as NOT_CONVERGED
from .common import NOT_PD as NOT_PD
from .common import OK as OK
from .common import STATUS_MESSAGES as STATUS_MESSAGES
from .common import OrthantResult as OrthantResult
from .common import _check as _check
from .common import _cholesky as _cholesky
from .common import _factor as _factor
from .common import is_pd as is_pd
from .common import ndtri_log as ndtri_log
from .common import pd_tol as pd_tol
from .common import reorder_cholesky as reorder_cholesky
from .mc import _mc as _mc
from .mc import hash_normals as hash_normals
from .progress import reporting as reporting
from .qmc import QMC_BLOCK as QMC_BLOCK
from .qmc import grow_lattice as grow_lattice
from .qmc import _lattice_block as _lattice_block
from .qmc import _qmc as _qmc
from .qmc import _qmc_adaptive as _qmc_adaptive
from .qmc import _sov_logf as _sov_logf
from .sov import ndtri32 as ndtri32
from .sov import sov_f32 as sov_f32
from .sov import sov_logf as sov_logf
from .qmc import adaptive_lattice as adaptive_lattice
from .qmc import richtmyer_alpha as richtmyer_alpha
from .tilting import N_BACKTRACK as N_BACKTRACK
from .tilting import N_TILT_NEWTON as N_TILT_NEWTON
from .tilting import _tilting as _tilting
from .tilting import tilting_saddle as tilting_saddle
