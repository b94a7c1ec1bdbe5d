"""Shared pieces of the sweep tests: a small outcome matrix, configs, file comparison."""

import os

import h5py
import numpy as np

MODELS = ["m0", "m1", "m2", "m3", "m4"]


def write_matrix(path, n=60, seed=5):
    rs = np.random.RandomState(seed)
    f = rs.randn(n, 1)
    z = 0.6 * f + 0.8 * rs.randn(n, len(MODELS))
    correct = z > np.array([-0.2, -0.5, 0.0, -0.3, -0.6])[None, :]
    with open(path, "w") as fh:
        fh.write("query_id," + ",".join(MODELS) + "\n")
        for i in range(n):
            fh.write(f"q{i}," + ",".join(str(int(c)) for c in correct[i]) + "\n")
    return path


def write_config(path, input_path, output, **over):
    cfg = dict(input=str(input_path), output=str(output), seed=3, pool_sizes="all", subsets=4,
               bootstrap=24, copulas=["equal_loading", "clayton"], bootstrap_chunk=8,
               subset_chunk=8)
    cfg.update(over)
    lines = []
    for k, v in cfg.items():
        if v is None:
            continue
        if isinstance(v, str):
            lines.append(f'{k} = "{v}"')
        elif isinstance(v, list):
            lines.append(f"{k} = [" + ", ".join(f'"{x}"' if isinstance(x, str) else str(x)
                                                for x in v) + "]")
        elif isinstance(v, bool):
            lines.append(f"{k} = {'true' if v else 'false'}")
        else:
            lines.append(f"{k} = {v}")
    with open(path, "w") as fh:
        fh.write("\n".join(lines) + "\n")
    return str(path)


VOLATILE = {"created_utc", "sessions", "command", "config", "device_count", "output"}


def read_all(path):
    """Every dataset and attribute of an HDF5 file, by path (volatile provenance left out)."""
    out = {}
    with h5py.File(path, "r") as f:
        def visit(name, obj):
            if isinstance(obj, h5py.Dataset):
                out["D:" + name] = obj[()]
            for k, v in obj.attrs.items():
                if k in ("DIMENSION_LIST", "REFERENCE_LIST", "CLASS", "NAME"):
                    continue
                out[f"A:{name}@{k}"] = v
        visit("/", f)
        f.visititems(visit)
    return {k: v for k, v in out.items() if k.split("@")[-1] not in VOLATILE}


def assert_same(a, b, rtol=0.0):
    fa, fb = read_all(a), read_all(b)
    assert sorted(fa) == sorted(fb)
    for k in fa:
        x, y = np.asarray(fa[k]), np.asarray(fb[k])
        if x.dtype.kind in "fc" and rtol:
            np.testing.assert_allclose(x, y, rtol=rtol, atol=1e-300, equal_nan=True, err_msg=k)
        elif x.dtype.kind in "fc":
            np.testing.assert_array_equal(x, y, err_msg=k)
        else:
            assert np.array_equal(x, y), k


def no_outputs(folder):
    return [p for p in os.listdir(folder) if p.endswith((".h5", ".partial", ".tmp"))]
