"""cofail sweep / report end to end on a tiny pool: HDF5 layout, chunk-size invariance,
config errors (exit 2, clear message, no output file), refusal to resume another config."""

import json
import os

import h5py
import numpy as np
import pytest

from cofail_jax.cli.main import main
from sweep_helpers import assert_same, no_outputs, write_config, write_matrix


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    d = tmp_path_factory.mktemp("sweep")
    return d, write_matrix(d / "pool.csv")


@pytest.fixture(scope="module")
def reference(data):
    d, csv = data
    cfg = write_config(d / "a.toml", csv, d / "a.h5")
    assert main(["sweep", cfg, "--no-progress"]) == 0
    return d / "a.h5"


def test_layout_and_numbers(reference, data):
    d, csv = data
    e = ~np.loadtxt(csv, delimiter=",", skiprows=1, usecols=range(1, 6)).astype(bool)
    with h5py.File(reference) as f:
        assert f.attrs["schema"] == "cofail_jax.results/1" and "input_sha256" in f.attrs
        assert json.loads(f.attrs["config"])["seed"] == 3 and f.attrs["seed"] == 3
        k = f["sweep/k"][()]
        np.testing.assert_array_equal(k, [2, 3, 4, 5])
        np.testing.assert_array_equal(f["sweep/n_subsets"][()], [4, 4, 4, 1])
        members = f["sweep/members"][()].astype(bool)
        bo = f["sweep/beta_obs"][()]
        for g in range(4):
            for j in range(f["sweep/n_subsets"][g]):
                want = np.mean(np.all(e[:, members[g, j]], axis=1))
                assert members[g, j].sum() == k[g]
                assert bo[g, j] == pytest.approx(want, abs=1e-15)
        assert np.isnan(bo[3, 1:]).all()  # padding beyond the single k = K subset
        r = f["sweep/ratio/clayton"][()]
        bp = f["sweep/beta_pred/clayton"][()]
        ok = bo > 0
        np.testing.assert_allclose(r[ok], bo[ok] / bp[ok])
        assert np.isnan(r[bo == 0]).all()
        # k = K is the full pool: same numbers, and a zero-width band
        assert f["sweep/ratio_lower/clayton"][3] == f["sweep/ratio_upper/clayton"][3]
        assert f["full"].attrs["beta_obs"] == bo[3, 0]
        assert f["full/ratio"].attrs["clayton"] == pytest.approx(r[3, 0], rel=1e-15)
        assert f["full"].attrs["all_wrong"] == int(np.sum(np.all(e, axis=1)))
        b = f["bootstrap"]
        assert b["ratio/equal_loading"].shape == (24,) and b.attrs["n_replicates"] == 24
        assert b.attrs["n_used"] + b.attrs["n_dropped"] == 24
        lo = b["ratio_lower"].attrs["clayton"]
        rr = b["ratio/clayton"][()]
        assert lo == pytest.approx(np.percentile(rr[np.isfinite(rr)], 5))
        # NetCDF dimension scales
        assert f["sweep/ratio/clayton"].dims[0][0].name.endswith("/pool_size")
    xr = pytest.importorskip("xarray")
    ds = xr.open_dataset(reference, group="sweep", engine="h5netcdf")
    assert ds["beta_obs"].dims == ("pool_size", "subset")
    ds.close()


def test_chunk_size_does_not_change_results(reference, data, tmp_path):
    d, csv = data
    cfg = write_config(tmp_path / "b.toml", csv, tmp_path / "b.h5", bootstrap_chunk=5, subset_chunk=3)
    assert main(["sweep", cfg, "--no-progress"]) == 0
    assert_same(reference, tmp_path / "b.h5")


def _same(a, b):
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, (np.ndarray, float)):
        return np.array_equal(a, b, equal_nan=True)
    return a == b


def test_files_written_before_the_copula_rename_read_the_same(reference, tmp_path, capsys):
    """A results file of the old layout (config key 'methods', the old skip note) reads
    as the new one, and 'cofail report' draws it."""
    import shutil

    from cofail_jax._src.report import read_sweep

    with h5py.File(reference) as f:
        cfg = json.loads(f.attrs["config"])
        assert cfg["copulas"] == ["equal_loading", "clayton"] and "methods" not in cfg
    old = tmp_path / "old.h5"
    shutil.copyfile(reference, old)
    with h5py.File(old, "a") as f:
        cfg["methods"] = cfg.pop("copulas")
        f.attrs["config"] = json.dumps(cfg)
        f["sweep"].attrs["skip_note"] = "every configured method priced at every pool size"
    new_d, old_d = read_sweep(str(reference)), read_sweep(str(old))
    assert old_d["copulas"] == new_d["copulas"] == ["equal_loading", "clayton"]
    assert old_d["config"]["copulas"] == ["equal_loading", "clayton"]
    old_d["path"] = new_d["path"]
    assert _same(old_d, new_d)
    assert main(["report", str(old), "--outdir", str(tmp_path / "fig")]) == 0
    assert len(os.listdir(tmp_path / "fig")) == 4


def test_report_writes_four_figures(reference, tmp_path, capsys):
    assert main(["report", str(reference), "--outdir", str(tmp_path / "fig")]) == 0
    names = sorted(os.listdir(tmp_path / "fig"))
    assert names == ["beta_by_pool_size.png", "beta_vs_rho.png", "bootstrap_ratio.png",
                     "ratio_vs_pool_size.png"]
    for n in names:
        with open(tmp_path / "fig" / n, "rb") as fh:
            assert fh.read(8) == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize("over, key, words", [
    (dict(models=["m0", "nope"]), "models", "unknown model 'nope'"),
    (dict(pool_sizes=[2, 9]), "pool_sizes", "outside 2..5"),
    (dict(subsets=0), "subsets", "P > 0"),
    (dict(subsets=-3), "subsets", "P > 0"),
    (dict(input="missing.csv"), "input", "not found"),
    (dict(input="GARBAGE"), "input", "cannot"),
    (dict(colour="red"), "colour", "unknown config key"),
    (dict(copulas=["gaussian", "vine"]), "copulas", "unknown copula 'vine'"),
    (dict(methods=["gaussian"], copulas=["gaussian"]), "methods", "both are given"),
    (dict(interval=[95, 5]), "interval", "percentiles"),
])
def test_bad_config_exits_2_without_output(data, tmp_path, capsys, over, key, words):
    d, csv = data
    if over.get("input") == "GARBAGE":
        garbage = tmp_path / "garbage.csv"
        garbage.write_text("query_id,a,b\nq1,1,maybe\n")
        over = dict(input=str(garbage))
    elif over.get("input") == "missing.csv":
        over = dict(input=str(tmp_path / "missing.csv"))
    cfg = write_config(tmp_path / "bad.toml", csv, tmp_path / "out.h5", **over)
    rc = main(["sweep", cfg])
    out, err = capsys.readouterr()
    assert rc == 2
    line = err.strip()
    assert "\n" not in line and "Traceback" not in line
    assert "bad.toml" in line and f"key '{key}'" in line and words in line, line
    assert no_outputs(tmp_path) == []


def test_refuses_to_resume_a_different_config(data, tmp_path, capsys):
    d, csv = data
    out = tmp_path / "c.h5"
    cfg = write_config(tmp_path / "c.toml", csv, out, bootstrap=0, pool_sizes=[2])
    # a partial file left by a run with another seed
    other = write_config(tmp_path / "other.toml", csv, out, seed=99, bootstrap=0, pool_sizes=[2])
    from cofail_jax._src.sweep_io import Checkpoint, load_config

    c2 = load_config(other)
    Checkpoint(str(out) + ".partial", c2.hash(), {"seed": 99}, other)
    rc = main(["sweep", cfg, "--no-progress"])
    err = capsys.readouterr().err
    assert rc == 2 and "different config" in err and "c.toml" in err
    assert not out.exists() and (tmp_path / "c.h5.partial").exists()
