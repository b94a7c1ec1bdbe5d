"""Results files open in xarray (h5netcdf engine), group by group, with named
dimensions and coordinates, and turn into tidy CSV tables (issue 10)."""

import csv
import json
import os

import h5py
import numpy as np
import pytest

from cofail_jax import (
    ensure_netcdf,
    load_matrix,
    provenance,
    results_tables,
    save_matrix_h5,
    write_results,
)
from cofail_jax.cli.main import main

xr = pytest.importorskip("xarray")
pytest.importorskip("h5netcdf")
FIX = os.path.join(os.path.dirname(__file__), "fixtures", "importers")


def groups(path):
    with h5py.File(path, "r") as f:
        out = ["/"]
        f.visit(lambda n: out.append("/" + n) if isinstance(f[n], h5py.Group) else None)
    return out


def open_all(path):
    """Every group as an xarray Dataset (loaded, file closed)."""
    out = {}
    for g in groups(path):
        with xr.open_dataset(path, group=g, engine="h5netcdf") as ds:
            out[g] = ds.load()
    return out


def test_write_results_opens_in_xarray(tmp_path):
    rng = np.random.default_rng(0)
    sweep = rng.random((3, 40))
    tree = {
        "sweep": {
            "pool_size": np.array([2, 4, 8]),
            "ratio": sweep,
            "rho": 0.3,
            "method": "qmc",
            "detail": {"se": sweep / 10},
        },
        "matrix": {
            "correct": np.array([[1, 0], [0, 0], [1, 1]], bool),
            "cell": {"answer": np.array([["4", None], ["x", "é"], ["7", "7"]], object)},
        },
        "big": {"draws": rng.random((200, 30))},  # chunked and compressed
        "loose": np.arange(4.0),
    }
    dims = {
        "sweep/pool_size": ("pool_size",),
        "sweep/ratio": ("pool_size", "replicate"),
        "sweep/detail/se": ("pool_size", "replicate"),
        "matrix/correct": ("query", "model"),
        "matrix/cell/answer": ("query", "model"),
        "big/draws": ("replicate", "model"),
    }
    coords = {"query": np.array(["q1", "q2", "q3"], object), "model": np.array(["a", "b"], object)}
    path = write_results(
        str(tmp_path / "r.h5"),
        tree,
        attrs=provenance(command="test", seed=7),
        dims=dims,
        coords=coords,
    )
    ds = open_all(path)
    assert set(ds) == {"/", "/sweep", "/sweep/detail", "/matrix", "/matrix/cell", "/big"}
    assert ds["/"].attrs["seed"] == 7 and ds["/"].attrs["schema"] == "cofail_jax.results/1"
    np.testing.assert_array_equal(ds["/"]["loose"].values, np.arange(4.0))
    s = ds["/sweep"]
    assert s["ratio"].dims == ("pool_size", "replicate")
    np.testing.assert_array_equal(s["pool_size"].values, [2, 4, 8])  # coordinate variable
    np.testing.assert_allclose(s["ratio"].sel(pool_size=4).values, sweep[1])
    assert s.attrs["method"] == "qmc" and s.attrs["rho"] == 0.3
    np.testing.assert_allclose(ds["/sweep/detail"]["se"].values, sweep / 10)
    m = ds["/matrix"]
    assert list(m["model"].values) == ["a", "b"] and list(m["query"].values) == ["q1", "q2", "q3"]
    np.testing.assert_array_equal(m["correct"].sel(query="q3").values, [1, 1])
    assert ds["/matrix/cell"]["answer"].sel(query="q2", model="b").item() == "é"
    np.testing.assert_allclose(ds["/big"]["draws"].values, tree["big"]["draws"])
    with h5py.File(path) as f:
        assert f["big/draws"].compression == "gzip" and f["big/draws"].chunks is not None
        assert h5py.check_string_dtype(f["matrix/model"].dtype).encoding == "utf-8"


def test_certify_out_opens_in_xarray(tmp_path, capsys):
    out = tmp_path / "cert.h5"
    assert main(["certify", os.path.join(FIX, "eee"), "--out", str(out)]) == 0
    capsys.readouterr()
    ds = open_all(str(out))
    cert = ds["/certificate"]
    m = load_matrix(os.path.join(FIX, "eee"))
    np.testing.assert_allclose(cert["accuracy"].values, m.accuracy)
    assert list(cert["model"].values) == list(m.models)  # a dimension coordinate
    assert cert["K"].item() == 1 and cert["n"].item() == 5  # scalar variables
    assert cert["beta_ci_lower"] <= cert["beta"] <= cert["beta_ci_upper"]
    assert ds["/curve"]["beta"].dims == ("step",)
    assert list(ds["/curve"]["step"].values) == [1, 2, 3]
    assert ds["/"].attrs["kind"] == "certificate" and "input_sha256" in ds["/"].attrs


# results file kind -> (group, variable along ``model``, scalar variables it must hold)
SEL_MODEL = {
    "certify": ("/certificate", "accuracy", ("beta", "beta_ci_lower", "beta_ci_upper",
                                             "ceiling", "asb", "oracle_gain", "gain_bound")),
    "correlations": ("/correlations", "rho", ("mean_rho", "mean_phi", "n_pairs")),
    "identify": ("/identify", "error_rate", ("beta_observed", "beta_min", "beta_max",
                                             "gaussian_beta")),
    "counterexample": ("/law_max", "p", ("beta",)),
    "price": ("/observed", "tau", ("beta", "beta_ci_lower", "beta_ci_upper", "K")),
    "simulate": ("/matrix", "correct", ()),
    "convert": ("/matrix", "correct", ()),
    "vote": ("/policies/weighted_majority", "weights", ()),
    "route": ("/policies/learned_router", "route_share", ()),
    "cascade": ("/models", "accuracy", ()),
    "ensembles": ("/", "accuracy", ("mean_diff",)),
}


@pytest.mark.parametrize("command", sorted(SEL_MODEL))
def test_every_results_file_selects_by_model_name(command, tmp_path_factory):
    """``.sel(model=name)`` works on every kind of results file: ``model`` is a string
    dimension coordinate, and the headline numbers are variables, not only attributes."""
    from results_helpers import produce

    _, path = produce(command, tmp_path_factory)
    group, var, scalars = SEL_MODEL[command]
    with xr.open_dataset(path, group=group, engine="h5netcdf") as ds:
        names = [str(v) for v in ds["model"].values]
        assert ds["model"].dims == ("model",) and all(isinstance(v, str) for v in names)
        picked = ds[var].sel(model=names[-1])
        assert "model" not in picked.dims
        np.testing.assert_array_equal(picked.values, ds[var].isel(model=-1).values)
        for name in scalars:
            assert ds[name].dims == () and np.isfinite(float(ds[name])), name
    with xr.open_dataset(path, group="/", engine="h5netcdf") as root:
        assert root.attrs.get("kind") in (None, command, "certificate", "matrix")
    if command == "price":  # the copulas along one dimension, headline numbers as variables
        with xr.open_dataset(path, group="/predictions", engine="h5netcdf") as ds:
            assert list(ds["copula"].values) == ["equal_loading", "fitted_loading"]
            for var in ("beta", "std_err", "ratio", "ratio_ci_lower", "ratio_ci_upper"):
                assert ds[var].dims == ("copula",)
            one = ds.sel(copula="fitted_loading")
            assert one["ratio_ci_lower"] <= one["ratio"] <= one["ratio_ci_upper"]


def test_matrix_file_with_samples_and_metadata_opens(tmp_path, capsys):
    out = tmp_path / "m.h5"
    assert main(["convert", os.path.join(FIX, "inspect"), "--to", str(out)]) == 0
    capsys.readouterr()
    ds = open_all(str(out))
    m = load_matrix(os.path.join(FIX, "inspect"))
    g = ds["/matrix"]
    assert g["samples"].dims == ("sample", "query", "model")
    np.testing.assert_array_equal(g["samples"].values, m.samples)
    assert list(g["model"].values) == list(m.models)
    assert ds["/matrix/cell"]["answer"].sel(query="2", model=m.models[0]).item() == "40"
    np.testing.assert_array_equal(
        ds["/matrix/cell"]["output_tokens"].values, m.cell_meta["output_tokens"]
    )
    assert list(ds["/matrix/query_meta"]["reference"].values) == list(m.query_meta["reference"])
    assert ds["/"].attrs["method"] == "convert"


def test_ensure_netcdf_names_every_axis(tmp_path):
    path = str(tmp_path / "raw.h5")
    with h5py.File(path, "w") as f:
        f.create_dataset("x", data=np.ones((2, 3)))
        f.create_group("g").create_dataset("y", data=np.arange(4))
        ensure_netcdf(f)
    ds = open_all(path)
    assert ds["/"]["x"].dims == ("x_dim0", "x_dim1") and ds["/g"]["y"].dims == ("y_dim0",)


def test_dimension_clash_is_refused(tmp_path):
    with pytest.raises(ValueError, match="cannot also be dimension 'model'"):
        write_results(
            str(tmp_path / "c.h5"),
            {"g": {"model": np.array(["a", "b"], object), "acc": np.ones(2)}},
            dims={"g/model": ("model_index",), "g/acc": ("model",)},
        )
    assert not (tmp_path / "c.h5").exists()


def test_export_csv_tables_match_the_file(tmp_path, capsys):
    m = load_matrix(os.path.join(FIX, "helm"))
    h5 = save_matrix_h5(m, str(tmp_path / "m.h5"), attrs=provenance(command="t", seed=1))
    folder = tmp_path / "tables"
    assert main(["export", h5, "--csv", str(folder), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["schema"] == "cofail_jax.json/1" and doc["command"] == "export"
    names = sorted(os.listdir(folder))
    assert "matrix.csv" in names and "matrix_cell.csv" in names and "attributes.csv" in names
    with open(folder / "matrix.csv") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == m.n * m.k  # tidy: one row per (query, model)
    for r in rows:
        i, j = m.query_ids.index(r["query"]), m.models.index(r["model"])
        assert int(r["correct"]) == int(m.correct[i, j])
    with open(folder / "matrix_cell.csv") as f:
        cell = list(csv.DictReader(f))
    assert {"query", "model", "answer", "output_tokens", "score"} <= set(cell[0])
    with open(folder / "attributes.csv") as f:
        attrs = {(r["group"], r["name"]): r["value"] for r in csv.DictReader(f)}
    assert attrs[("/", "seed")] == "1" and attrs[("/", "command")] == "t"
    tables = results_tables(h5)
    assert tables["matrix"][0][:2] == ["query", "model"]


def test_export_bad_input_exit_2(tmp_path, capsys):
    bad = tmp_path / "x.h5"
    bad.write_text("not hdf5")
    assert main(["export", str(bad), "--csv", str(tmp_path / "t")]) == 2
    err = capsys.readouterr().err
    assert (
        "x.h5" in err and "not an HDF5 results file" in err and len(err.strip().splitlines()) == 1
    )
    assert not (tmp_path / "t").exists()


# ---- the --json document (docs/json_schema.md) --------------------------------------------
def _schema():
    doc = os.path.join(os.path.dirname(__file__), "..", "docs", "schemas", "envelope.json")
    with open(doc) as f:
        return json.load(f)


def _check(instance, schema):
    """The subset of JSON Schema the envelope uses: type, const, required, properties,
    pattern, minLength, additionalProperties=false."""
    import re

    types = {"object": dict, "string": str, "integer": int}
    if "type" in schema:
        assert isinstance(instance, types[schema["type"]]), (instance, schema["type"])
    if "const" in schema:
        assert instance == schema["const"]
    if "minLength" in schema:
        assert len(instance) >= schema["minLength"]
    if "pattern" in schema:
        assert re.match(schema["pattern"], instance)
    for key in schema.get("required", []):
        assert key in instance, key
    props = schema.get("properties", {})
    for key, sub in props.items():
        if key in instance:
            _check(instance[key], sub)
    if schema.get("additionalProperties") is False:
        assert set(instance) <= set(props), set(instance) - set(props)


@pytest.mark.parametrize(
    "argv", [["certify", "{eee}", "--json"], ["convert", "{eee}", "--to", "{tmp}/x.h5", "--json"]]
)
def test_json_documents_follow_the_documented_schema(argv, tmp_path, capsys):
    argv = [a.format(eee=os.path.join(FIX, "eee"), tmp=tmp_path) for a in argv]
    assert main(argv) == 0
    doc = json.loads(capsys.readouterr().out)
    schema = _schema()
    _check(doc, schema)
    assert doc["command"] == argv[0]
    with pytest.raises(AssertionError):
        _check({**doc, "schema": "cofail_jax.json/2"}, schema)


@pytest.mark.parametrize("command", ["vote", "route"])
def test_other_commands_results_open_in_xarray(command, tmp_path, capsys):
    """Conformance across commands: a results file written by another command's --out
    opens group by group, and its --json follows the documented envelope."""
    import importlib.util

    if importlib.util.find_spec(f"cofail_jax.cli.{command}") is None:
        pytest.skip(f"cofail {command} is not present")
    out = tmp_path / f"{command}.h5"
    rc = main([command, os.path.join(FIX, "inspect"), "--out", str(out), "--json"])
    captured = capsys.readouterr()
    assert rc == 0, captured.err
    _check(json.loads(captured.out), _schema())
    ds = open_all(str(out))
    assert len(ds) > 1 and all(isinstance(d, xr.Dataset) for d in ds.values())


def test_outputs_get_ordinary_permissions(tmp_path):
    umask = os.umask(0o022)
    try:
        path = write_results(str(tmp_path / "p.h5"), {"g": {"v": np.ones(2)}})
    finally:
        os.umask(umask)
    assert os.stat(path).st_mode & 0o777 == 0o644


def test_netcdf_c_reads_results_files(tmp_path, capsys):
    """The stricter reader: netCDF-C (through netCDF4-python) opens every group,
    variable and attribute. Skipped where netCDF4 is not installed."""
    netCDF4 = pytest.importorskip("netCDF4")
    out = tmp_path / "m.h5"
    assert main(["convert", os.path.join(FIX, "inspect"), "--to", str(out)]) == 0
    capsys.readouterr()

    def walk(g):
        yield g
        for sub in g.groups.values():
            yield from walk(sub)

    with netCDF4.Dataset(str(out)) as ds:
        seen = 0
        for g in walk(ds):
            for v in g.variables.values():
                v[:]
                seen += 1
            for a in g.ncattrs():
                g.getncattr(a)
        assert seen > 5 and ds["matrix"].dimensions["query"].size == 5


def test_export_headline_numbers_are_a_long_table(tmp_path_factory, tmp_path, capsys):
    """scalars.csv: one row per number with its interval, numbers not strings."""
    from results_helpers import produce

    doc, path = produce("certify", tmp_path_factory)
    assert main(["export", path, "--csv", str(tmp_path)]) == 0
    capsys.readouterr()
    with open(tmp_path / "scalars.csv") as f:
        rows = {(r["group"], r["variable"]): r for r in csv.DictReader(f)}
    beta = rows[("/certificate", "beta")]
    r = doc["result"]
    assert float(beta["value"]) == pytest.approx(r["beta"])
    assert [float(beta["lower"]), float(beta["upper"])] == pytest.approx(r["beta_ci"])
    assert ("/certificate", "beta_ci_lower") not in rows  # folded into beta's row
    assert float(rows[("/certificate", "gain_bound")]["value"]) == pytest.approx(r["gain_bound"])
    with open(tmp_path / "curve.csv") as f:
        curve = list(csv.DictReader(f))
    assert [c["model"] for c in curve] == r["curve"]["model"]
    with open(tmp_path / "attributes.csv") as f:
        names = {row["name"] for row in csv.DictReader(f)}
    assert "kind" in names and "beta" not in names
