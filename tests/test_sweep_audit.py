"""cofail sweep --audit: the sweep runs on the artefact-corrected matrix."""

import os

import h5py
import pytest

from cofail_jax import load_matrix
from cofail_jax._src.audit.adjudicate import apply_adjudications, read_adjudications
from cofail_jax.cli.main import main
from sweep_helpers import write_config

FIX = os.path.join(os.path.dirname(__file__), "fixtures", "audit")
POOL = os.path.join(FIX, "pool.csv")
SHEET = os.path.join(FIX, "pool_verdicts.csv")


def test_sweep_audit_uses_corrected_matrix(tmp_path, capsys):
    m = load_matrix(POOL)
    fixed = apply_adjudications(m, read_adjudications(SHEET, m))
    assert fixed.n < m.n  # the sheet adjudicates some events as artefacts
    cfg = write_config(tmp_path / "a.toml", POOL, tmp_path / "a.h5", bootstrap=0,
                       pool_sizes=[2, 4], subsets=2)
    assert main(["sweep", cfg, "--no-progress", "--audit", SHEET]) == 0
    with h5py.File(tmp_path / "a.h5") as f:
        assert f["full"].attrs["beta_obs"] == pytest.approx(fixed.all_wrong.mean(), abs=1e-15)
        assert '"audit_sha256"' in f.attrs["config"]
    # a different audit (none) is a different config: refusing to mix is the resume rule
    assert main(["sweep", cfg, "--no-progress", "--out", str(tmp_path / "b.h5")]) == 0
    with h5py.File(tmp_path / "b.h5") as f:
        assert f["full"].attrs["beta_obs"] == pytest.approx(m.all_wrong.mean(), abs=1e-15)
    capsys.readouterr()
    bad = write_config(tmp_path / "c.toml", POOL, tmp_path / "c.h5", audit="nope.csv")
    assert main(["sweep", bad, "--no-progress"]) == 2
    assert "key 'audit'" in capsys.readouterr().err
    assert not (tmp_path / "c.h5").exists()
