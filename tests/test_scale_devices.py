"""Issue 17 at k in the thousands, on small stand-ins: the query bootstrap of the
tetrachorics streams replicates through the pair-chunked solver (memory of a few k x k
arrays, never B of them) with the numbers of the one-call path, and the pair-chunked
kernels give on the 4 host devices (conftest) exactly what one device gives."""

import jax
import numpy as np

from cofail_jax import OutcomeMatrix
from cofail_jax._src import tetrachoric as T
from cofail_jax.cli import correlations as C


def _errors(n=150, k=12, seed=3):
    rng = np.random.default_rng(seed)
    z = 0.7 * rng.standard_normal((n, 1)) + 0.7 * rng.standard_normal((n, k))
    return z < rng.uniform(-0.8, 0.3, k)


def test_streamed_bootstrap_matches_one_call():
    E = _errors()
    key = jax.random.key(2)
    a = T.tetrachoric_bootstrap(key, E, 6)  # 66 pairs: one jitted call, (B, k, k) stacked
    b = T.tetrachoric_bootstrap(key, E, 6, chunk_size=16)  # streamed, 5 chunks a replicate
    assert isinstance(b.rho_sd, np.ndarray)
    np.testing.assert_allclose(b.mean_rho, np.asarray(a.mean_rho), rtol=0, atol=1e-12)
    np.testing.assert_allclose(b.mean_phi, np.asarray(a.mean_phi), rtol=0, atol=1e-12)
    np.testing.assert_array_equal(b.n_ok, np.asarray(a.n_ok))
    np.testing.assert_array_equal(b.n_not_converged, np.asarray(a.n_not_converged))
    np.testing.assert_allclose(b.rho_sd, np.asarray(a.rho_sd), rtol=0, atol=1e-12,
                               equal_nan=True)
    # replicate i is tetrachoric on the resample drawn from fold_in(key, i)
    idx = jax.random.randint(jax.random.fold_in(key, 4), (E.shape[0],), 0, E.shape[0])
    w = np.bincount(np.asarray(idx), minlength=E.shape[0]).astype(float)
    assert abs(float(T.tetrachoric(E, w).mean_rho) - b.mean_rho[4]) < 1e-12
    calls = []
    T.tetrachoric_bootstrap(key, E, 3, chunk_size=16, progress=lambda d, t: calls.append(d))
    assert calls == [0, 1, 2, 3]


def test_pair_chunked_kernels_identical_on_four_devices(monkeypatch):
    assert jax.device_count() == 4  # conftest forces 4 host devices
    E = _errors(n=120, k=14, seed=8)  # 91 pairs in chunks of 16: 2 rounds of 4 devices
    one = T.tetrachoric(E, chunk_size=16)
    four = T.tetrachoric(E, chunk_size=16, devices="all")
    for f in one._fields:
        if f == "se":  # the SPMD program rounds its last steps differently (~1e-14)
            np.testing.assert_allclose(four.se, one.se, rtol=1e-12, atol=0, equal_nan=True)
            continue
        np.testing.assert_array_equal(np.asarray(getattr(four, f)),
                                      np.asarray(getattr(one, f)), err_msg=f)
    key = jax.random.key(5)
    b1 = T.tetrachoric_bootstrap(key, E, 3, chunk_size=16)
    b4 = T.tetrachoric_bootstrap(key, E, 3, chunk_size=16, devices="all")
    for f in b1._fields:
        np.testing.assert_array_equal(getattr(b4, f), getattr(b1, f), err_msg=f)
    # `cofail correlations` spreads the chunks over every device of the host
    from cofail_jax._src.tetrachoric import dense

    monkeypatch.setattr(T, "PAIR_CHUNK", 16)
    monkeypatch.setattr(dense, "PAIR_CHUNK", 16)
    m = OutcomeMatrix(correct=~E, query_ids=tuple(f"q{i}" for i in range(E.shape[0])),
                      models=tuple(f"m{j}" for j in range(E.shape[1])))
    r4 = C.compute(m, bootstrap=0)
    r1 = C.compute(m, bootstrap=0, devices=None)
    assert r4["mean_rho"] == r1["mean_rho"] == float(four.mean_rho) == float(one.mean_rho)
    np.testing.assert_array_equal(r4["matrices"]["rho"], four.rho)


def test_tetrachoric_matrix_in_blocks_matches_one_solve(monkeypatch):
    from cofail_jax._src.identify import rates

    E = _errors(n=300, k=10, seed=1)
    p = E.mean(axis=0)
    p2 = (E.T.astype(float) @ E) / E.shape[0]
    whole = rates.tetrachoric_matrix(p, p2)  # 45 pairs, one padded solve
    monkeypatch.setattr(rates, "_PAIR_BLOCK", 16)  # 3 blocks, no de-duplication
    blocks = rates.tetrachoric_matrix(p, p2)
    np.testing.assert_array_equal(blocks, whole)
    ref = T.tetrachoric(E).rho  # the same equation solved from the data
    np.testing.assert_allclose(blocks, np.asarray(ref), rtol=0, atol=1e-9)


def test_pool_stats_spread_over_devices_identical(monkeypatch):
    """`cofail price` and the sweep's full-pool statistics hand every device of the host
    to the pair-chunked tetrachorics (above PAIR_CHUNK pairs): same numbers as one."""
    from cofail_jax._src import pricing as P
    from cofail_jax._src.tetrachoric import dense

    from cofail_jax._src import sharding

    monkeypatch.setattr(dense, "PAIR_CHUNK", 16)  # the solver compiled by the test above
    meshes = []
    resolve = sharding.resolve_mesh
    monkeypatch.setattr(sharding, "resolve_mesh", lambda d: meshes.append(resolve(d)) or meshes[-1])
    E = _errors(n=120, k=14, seed=8)
    ones = np.ones(E.shape[0])
    four = P.pool_stats(E, ones, "all")
    one = P.pool_stats(E, ones, 1)
    assert [1 if m is None else m.size for m in meshes] == [4, 1]
    for f in ("p_wrong", "tau", "rho", "phi", "p_both", "status"):
        np.testing.assert_array_equal(np.asarray(getattr(four, f)),
                                      np.asarray(getattr(one, f)), err_msg=f)
    np.testing.assert_allclose(np.asarray(one.rho), T.tetrachoric(E).rho, rtol=0, atol=1e-10)
