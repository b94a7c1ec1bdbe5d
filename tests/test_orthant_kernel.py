"""The float32 QMC-SOV kernel (orthant/sov.py): its normal CDF and quantile against
scipy, the lattice rows it makes itself against the float64 lattice, its mean against the
exact log-space kernel on the same points, and the honesty of the QMC standard error
(spread of the estimates over keys against the reported SE)."""

import jax
import jax.numpy as jnp
import numpy as np
from scipy import special

from cofail_jax._src.orthant import make_orthant_estimator
from cofail_jax._src.orthant.qmc import (
    _lattice_block,
    lattice_base,
    lattice_offset,
    richtmyer_alpha,
)
from cofail_jax._src.orthant.sov import (
    LatticeRows,
    arithmetic_rel_error,
    ndtr32,
    ndtri32,
    scaled_factor,
    segments,
    sov_f32,
    sov_logf_exact,
)


def test_ndtr32_and_ndtri32_match_scipy():
    b = np.linspace(-12.0, 8.0, 20001).astype(np.float32)
    got = np.asarray(jax.jit(ndtr32)(jnp.asarray(b)), np.float64)
    ref = special.ndtr(b.astype(np.float64))
    rel = np.abs(got - ref) / ref
    assert rel[(b < 0) & (b >= -5)].max() < 2e-6
    assert rel[b < 0].max() < 2e-5  # the rounding of b^2 in exp(-b^2 / 2) at b = -12
    assert np.abs(got - ref)[b >= 0].max() < 2e-7
    p = np.concatenate([np.logspace(-37, -1, 5000), np.linspace(0.05, 0.95, 5000),
                        1 - np.logspace(-7, -1, 500)]).astype(np.float32)
    got = np.asarray(jax.jit(ndtri32)(jnp.asarray(p)), np.float64)
    ref = special.ndtri(p.astype(np.float64))
    assert np.abs(got - ref).max() < 5e-6
    assert (np.abs(got - ref) / np.maximum(np.abs(ref), 1e-3)).max() < 5e-7


def _problem(k=30, rho=0.7, seed=0):
    rng = np.random.default_rng(seed)
    tau = rng.uniform(-1.5, 0.5, k)
    corr = np.full((k, k), rho)
    np.fill_diagonal(corr, 1.0)
    return jnp.asarray(tau), jnp.asarray(corr)


def test_segments_cover_the_dimensions_in_order():
    assert segments(2) == [0, 2] and segments(23) == [0, 23]
    assert segments(30) == [0, 15, 30]  # the kernel test below runs two segments
    assert segments(67) == [0, 17, 34, 50, 67]
    for k in (1, 24, 67, 128, 1000):
        b = segments(k)
        assert b[0] == 0 and b[-1] == k and all(x < y for x, y in zip(b, b[1:]))
        assert len(b) - 1 <= 8


def test_lattice_rows_and_float32_kernel_match_the_float64_path():
    tau, corr = _problem()  # k = 30: two segments (the second takes the first's part)
    k = tau.shape[0]
    L = jnp.linalg.cholesky(corr)
    alpha = jnp.asarray(richtmyer_alpha(k))
    shifts = jax.random.uniform(jax.random.key(3), (16, k), jnp.float64)
    start, b = 640, 64
    U = _lattice_block(alpha, shifts, start, b)  # (16 * b, k), float64
    rows = LatticeRows(lattice_base(alpha, b), lattice_offset(alpha, shifts, jnp.int32(start)))
    made = jnp.stack([rows.row(i).reshape(-1) for i in range(k)], axis=1)
    np.testing.assert_allclose(np.asarray(made), np.asarray(U), atol=3e-7)
    # the kernel's float32 arithmetic on these points, against the float64 log-space
    # kernel on the same (float32) points: pointwise the rounding is visible, the mean
    # moves by far less than the arithmetic error the estimators add to their SE. (The
    # rows' own rounding, up to 3e-7 absolute, moves a 1,024-point mean by about 1e-6 at
    # random: over 24 blocks of 4,096 points the shift was 7e-8 +- 2.6e-7, part of the
    # spread across the random shifts, no bias.)
    f32 = np.asarray(sov_f32(rows, *scaled_factor(tau, L)), np.float64)
    f64 = np.exp(np.asarray(sov_logf_exact(made.astype(jnp.float64), tau, L)))
    assert abs(f32.mean() - f64.mean()) / f64.mean() < arithmetic_rel_error(k) / 4


def test_qmc_standard_error_matches_the_spread_over_keys():
    # fixed point count (rel_error=0: the adaptive path's kernel run to the cap); 64 keys:
    # the spread's own relative sd is about 1 / sqrt(2 * 63) = 9 %
    tau, corr = _problem(k=12, rho=0.6, seed=1)
    est = make_orthant_estimator("qmc", 2 ** 12, devices=None, rel_error=0.0)
    r = jax.vmap(est, in_axes=(0, None, None))(jax.random.split(jax.random.key(7), 64),
                                              tau, corr)
    p, se = np.asarray(r.prob), np.asarray(r.std_err)
    ratio = np.std(p, ddof=1) / np.sqrt(np.mean(se ** 2))
    assert 0.65 < ratio < 1.45, ratio


def test_cpu_compiler_options_follow_the_host_and_the_switch(monkeypatch):
    from cofail_jax._src import sharding

    monkeypatch.setattr(sharding, "_host_has_avx512", lambda: True)
    monkeypatch.delenv("COFAIL_XLA_CPU_DEFAULTS", raising=False)
    sharding._cpu_options.cache_clear()
    try:
        want = {"xla_cpu_prefer_vector_width": 512} if jax.default_backend() == "cpu" else {}
        assert sharding.cpu_compiler_options() == want
        for switch, host in (("1", True), ("", False)):
            sharding._cpu_options.cache_clear()
            monkeypatch.setattr(sharding, "_host_has_avx512", lambda host=host: host)
            monkeypatch.setenv("COFAIL_XLA_CPU_DEFAULTS", switch)
            assert sharding.cpu_compiler_options() == {}
    finally:
        sharding._cpu_options.cache_clear()  # the real host again afterwards
