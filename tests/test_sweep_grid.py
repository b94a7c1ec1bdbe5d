"""The sweep on a large pool: log-spaced pool sizes (``pool_sizes = "log"``) and the
full-correlation copulas skipped, with a status and a note, where unaffordable (a low
``full_corr_max_k`` on a 5-model pool keeps it cheap)."""

import json

import h5py
import numpy as np
import pytest

from cofail_jax._src.sweep_io.grid import full_matrix_flops, log_pool_sizes
from cofail_jax.cli.main import main
from sweep_helpers import write_config, write_matrix


def test_log_pool_sizes():
    for kk, c in [(4000, 16), (4000, 8), (1000, 12), (100, 10), (67, 30)]:
        ks = np.asarray(log_pool_sizes(kk, c))
        assert ks[0] == 2 and ks[-1] == kk and len(ks) <= c
        assert np.all(np.diff(ks) > 0)
        want = np.geomspace(2, kk, c)  # every size is the rounded log-spaced point
        assert set(ks) == set(np.round(want).astype(int))
    assert log_pool_sizes(5, 4) == (2, 3, 4, 5)  # count >= K - 1: every size
    assert log_pool_sizes(5, 30) == (2, 3, 4, 5)
    with pytest.raises(ValueError, match="count"):
        log_pool_sizes(10, 1)


def test_flops_grow_as_stated():
    # O(d^3) repair + O(points d^2) QMC-SOV, linear in units and copulas
    assert full_matrix_flops(200, 0, 1) == pytest.approx(8 * full_matrix_flops(100, 0, 1))
    assert full_matrix_flops(10, 10 ** 9, 1) == pytest.approx(1e11, rel=1e-3)
    assert full_matrix_flops(50, 1024, 6, 2) == pytest.approx(12 * full_matrix_flops(50, 1024, 1))


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    d = tmp_path_factory.mktemp("grid")
    csv = write_matrix(d / "pool.csv")
    common = dict(pool_sizes="log", pool_size_count=3, subsets=2, bootstrap=8,
                  orthant_samples=256)
    a = write_config(d / "a.toml", csv, d / "a.h5", copulas=["equal_loading", "gaussian"],
                     full_corr_max_k=3, **common)
    b = write_config(d / "b.toml", csv, d / "b.h5", copulas=["equal_loading"], **common)
    return d, a, b


def test_skipped_where_unaffordable(runs, capsys):
    d, a, b = runs
    capsys.readouterr()
    assert main(["sweep", a, "--no-progress"]) == 0
    out = capsys.readouterr()
    notes = [x for x in out.err.splitlines() if "not priced" in x]
    assert len(notes) == 1  # one line, saying what, where and why
    assert "gaussian" in notes[0] and "unaffordable at k = 5" in notes[0]
    assert "O(k^3) repair + QMC-SOV" in notes[0] and "full_corr_max_k = 3" in notes[0]
    assert "skipped" in out.out
    with h5py.File(d / "a.h5") as f:
        np.testing.assert_array_equal(f["sweep/k"][()], [2, 3, 5])
        assert "unaffordable at k = 5" in f.attrs["full_corr_skipped"]
        assert json.loads(f.attrs["config"])["pool_size_count"] == 3
        np.testing.assert_array_equal(f["sweep/priced/gaussian"][()], [1, 1, 0])
        np.testing.assert_array_equal(f["sweep/priced/equal_loading"][()], [1, 1, 1])
        g = f["sweep/beta_pred/gaussian"][()]
        n_sub = f["sweep/n_subsets"][()]
        assert np.isfinite(g[0, :n_sub[0]]).all() and np.isfinite(g[1, :n_sub[1]]).all()
        assert np.isnan(g[2]).all() and (f["sweep/n_samples/gaussian"][2] == 0).all()
        assert np.isnan(f["full/beta_pred"].attrs["gaussian"])
        assert f["full/status"].attrs["gaussian"].startswith("skipped: unaffordable at k = 5")
        assert f["full/status"].attrs["equal_loading"] == "ok"
        assert f["bootstrap/status"].attrs["gaussian"].startswith("skipped")
        assert np.isnan(f["bootstrap/beta_pred/gaussian"][()]).all()
        assert "not priced" in f["sweep"].attrs["skip_note"]
        ea = {k: f[f"sweep/{k}/equal_loading"][()] for k in ("beta_pred", "ratio")}
        ea["boot"] = f["bootstrap/beta_pred/equal_loading"][()]
        ea["full"] = f["full/beta_pred"].attrs["equal_loading"]
    # the copulas still priced give the numbers of a run without the skipped ones
    assert main(["sweep", b, "--no-progress"]) == 0
    with h5py.File(d / "b.h5") as f:
        assert "full_corr_skipped" not in f.attrs
        np.testing.assert_array_equal(f["sweep/beta_pred/equal_loading"][()], ea["beta_pred"])
        np.testing.assert_array_equal(f["sweep/ratio/equal_loading"][()], ea["ratio"])
        np.testing.assert_array_equal(f["bootstrap/beta_pred/equal_loading"][()], ea["boot"])
        assert f["full/beta_pred"].attrs["equal_loading"] == ea["full"]


@pytest.mark.parametrize("over, key, text", [
    (dict(pool_size_count=4), "pool_size_count", "only used with pool_sizes"),
    (dict(pool_sizes="log", pool_size_count=1), "pool_size_count", "at least 2"),
    (dict(pool_sizes="lin"), "pool_sizes", '"log"'),
    (dict(full_corr_budget=-1), "full_corr_budget", "positive"),
    (dict(full_corr_max_k=1), "full_corr_max_k", "at least 2"),
])
def test_bad_grid_keys(tmp_path, capsys, over, key, text):
    csv = write_matrix(tmp_path / "pool.csv")
    cfg = write_config(tmp_path / "c.toml", csv, tmp_path / "c.h5", **over)
    assert main(["sweep", cfg, "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert key in err and text in err and "Traceback" not in err
    assert not (tmp_path / "c.h5").exists()


def test_identify_gaussian_skipped_above_full_corr_max_k(tmp_path, capsys):
    import jax

    from cofail_jax._src import identify as I

    csv = write_matrix(tmp_path / "pool.csv")
    e = ~np.loadtxt(csv, delimiter=",", skiprows=1, usecols=range(1, 6)).astype(bool)
    full = I.identify(e, key=jax.random.key(0))
    cut = I.identify(e, key=jax.random.key(0), full_corr_max_k=4)
    assert full.gaussian.status in ("OK", "REPAIRED") and np.isfinite(full.gaussian.beta)
    assert cut.gaussian.status == "SKIPPED" and np.isnan(cut.gaussian.beta)
    assert "unaffordable at k = 5" in cut.gaussian.message
    assert cut.bounds == full.bounds  # the moment bounds do not depend on it
    np.testing.assert_array_equal(cut.gaussian.rho, full.gaussian.rho)
    assert main(["identify", str(csv), "--full-corr-max-k", "4"]) == 0
    assert "skipped: unaffordable at k = 5" in capsys.readouterr().out


def test_large_pool_statistics_take_the_chunked_path(runs, monkeypatch):
    """Above PAIR_CHUNK pairs the driver computes the pool statistics outside jit (the
    chunked tetrachorics); with a 4-pair chunk on the 5-model pool the numbers agree with
    the fused path to rounding."""
    from cofail_jax._src import tetrachoric as T
    from cofail_jax._src.tetrachoric import dense

    d, _, b = runs
    if not (d / "b.h5").exists():
        assert main(["sweep", b, "--no-progress"]) == 0
    monkeypatch.setattr(T, "PAIR_CHUNK", 4)
    monkeypatch.setattr(dense, "PAIR_CHUNK", 4)
    assert main(["sweep", b, "--no-progress", "--out", str(d / "chunked.h5")]) == 0
    with h5py.File(d / "b.h5") as f, h5py.File(d / "chunked.h5") as g:
        for name in ("full/rho", "sweep/beta_obs", "sweep/beta_pred/equal_loading",
                     "bootstrap/beta_pred/equal_loading"):
            np.testing.assert_allclose(g[name][()], f[name][()], rtol=1e-10, atol=1e-12,
                                       equal_nan=True, err_msg=name)
