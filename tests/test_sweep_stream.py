"""The sweep's streamed query bootstrap (pools above tetrachoric.PAIR_CHUNK pairs) and its
compact dimensions for large pools.

Reference: the micro-batch bootstrap (`sweep.make_bootstrap`, the fused all-pairs
program) on the same replicates. Both draw replicate i's resample and Monte Carlo key
from fold_in(key_boot, i); the chunked and fused tetrachorics solve the same equations,
so the numbers agree to rounding."""

import jax
import numpy as np

from cofail_jax._src import sweep as S
from cofail_jax._src import sweep_stream as SS


def _pool():
    # the 60 x 5 pool and copulas of the sweep tests (their programs are reused)
    rs = np.random.RandomState(0)
    e = rs.rand(60, 5) < 0.5
    e[:, 4] = False
    e[[3, 9], 4] = True
    return e


def test_streamed_bootstrap_matches_micro_batches():
    e = _pool()
    key = jax.random.key(11)
    idx = np.array([0, 1, 2, 5, 9, 17, 30, 31])
    fused = S.make_bootstrap(("equal_loading", "clayton"))(key, e, np.ones(5, bool), idx)
    streamed = SS.make_streamed_bootstrap(("equal_loading", "clayton"))(
        key, e, np.ones(5, bool), idx)
    for f in S.Prices._fields:
        a, b = np.asarray(getattr(fused, f)), np.asarray(getattr(streamed, f))
        assert a.shape == b.shape, f
        if a.dtype.kind == "f":
            np.testing.assert_allclose(b, a, rtol=1e-9, atol=1e-12, equal_nan=True, err_msg=f)
        else:
            np.testing.assert_array_equal(b, a, err_msg=f)
    assert np.isfinite(streamed.beta_pred).any()
    # a replicate's numbers depend on its index alone
    one = SS.make_streamed_bootstrap(("equal_loading", "clayton"))(
        key, e, np.ones(5, bool), idx[3:4])
    np.testing.assert_array_equal(one.beta_pred[0], streamed.beta_pred[3])


def test_large_pools_get_power_of_two_dimensions():
    # pools under 96 models keep 8, 16, 32, 48 or K (the 67-model analysis unchanged)
    assert [S._compact_dim(k, 67) for k in (5, 40, 49, 67)] == [8, 48, 67, 67]
    assert S._compact_dim(60, 95) == 95 and S._compact_dim(60, 96) == 64
    assert [S._compact_dim(k, 300) for k in (49, 65, 110, 129, 300)] == [64, 128, 128, 300, 300]
    assert [S._compact_dim(k, 4000) for k in (300, 1000, 2000, 2049)] == [512, 1024, 2048, 4000]


def test_sweep_above_pair_chunk_streams_its_bootstrap(tmp_path, monkeypatch):
    # with PAIR_CHUNK below the pool's 10 pairs, the driver computes the full pool's
    # statistics and every bootstrap replicate pair-chunked; same file as the fused run
    from cofail_jax._src import tetrachoric as T
    from cofail_jax._src.tetrachoric import dense
    from cofail_jax.cli.main import main
    from sweep_helpers import assert_same, write_config, write_matrix

    csv = write_matrix(tmp_path / "pool.csv")
    over = dict(pool_sizes=[2], subsets=2, bootstrap=8)
    a = write_config(tmp_path / "a.toml", csv, tmp_path / "a.h5", **over)
    assert main(["sweep", a, "--no-progress"]) == 0
    used = []
    make = SS.make_streamed_bootstrap
    monkeypatch.setattr(SS, "make_streamed_bootstrap", lambda *a, **k: used.append(a) or make(*a, **k))
    monkeypatch.setattr(T, "PAIR_CHUNK", 4)
    monkeypatch.setattr(dense, "PAIR_CHUNK", 4)
    b = write_config(tmp_path / "b.toml", csv, tmp_path / "b.h5", **over)
    assert main(["sweep", b, "--no-progress"]) == 0
    assert used
    assert_same(tmp_path / "a.h5", tmp_path / "b.h5", rtol=1e-9)
