"""One name for the copula concept: the sweep config key ``copulas`` (old key ``methods``
still read, with a note; the config hash unchanged), ``cofail price --copula`` (old
``--model``), and the Python keyword ``copulas=`` (old ``methods=``, with a warning).
Pure Python: no pricing program is compiled here."""

import pytest

from cofail_jax._src import sweep as S
from cofail_jax._src import sweep_stream as SS
from cofail_jax._src.sweep_io import Checkpoint, load_config
from sweep_helpers import write_config, write_matrix

# The hash of this config (input: write_matrix(path), seed 3, copulas gaussian,
# equal_loading, clayton) on main before the rename (commit a13209d), computed with
#   python -c 'from sweep_helpers import *; from cofail_jax._src.sweep_io.config import
#   load_config; c = write_matrix("m.csv"); print(load_config(write_config("c.toml", c,
#   "out.h5", methods=["gaussian", "equal_loading", "clayton"])).hash())'
# (run in tests/'s folder on the path). A run started then must still resume now.
HASH_BEFORE_RENAME = "559f5381ca3a0c61661dd63710fe60ba2eae504dd669ed091a83d8dfab64686d"
NAMES = ["gaussian", "equal_loading", "clayton"]


@pytest.fixture
def csv(tmp_path):
    return write_matrix(tmp_path / "m.csv")


def test_old_key_same_config_same_hash(csv, tmp_path, capsys):
    new = load_config(write_config(tmp_path / "new.toml", csv, tmp_path / "o.h5", copulas=NAMES))
    assert "deprecated" not in capsys.readouterr().err
    path = write_config(tmp_path / "old.toml", csv, tmp_path / "o.h5", copulas=None,
                        methods=NAMES)
    old = load_config(path)
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"note: {path}: key 'methods' is deprecated; rename it to 'copulas' "
                   "(it works the same)"]
    assert old.copulas == new.copulas == ("equal_loading", "gaussian", "clayton")
    assert old.hash() == new.hash() == HASH_BEFORE_RENAME
    # default copulas: the old and the new default agree too
    dflt = load_config(write_config(tmp_path / "d.toml", csv, tmp_path / "o.h5", copulas=None))
    assert dflt.copulas == S.COPULAS
    with pytest.warns(DeprecationWarning, match="copulas"):
        assert new.methods == new.copulas


def test_run_started_under_the_old_key_resumes(csv, tmp_path, capsys):
    out = tmp_path / "o.h5"
    old = load_config(write_config(tmp_path / "c.toml", csv, out, copulas=None, methods=NAMES))
    Checkpoint(str(out) + ".partial", old.hash(), {"seed": 3}, old.path)
    # the user renames the key; the checkpoint is the same config's
    new = load_config(write_config(tmp_path / "c.toml", csv, out, copulas=NAMES))
    ck = Checkpoint(str(out) + ".partial", new.hash(), {"seed": 3}, new.path)
    assert ck.sessions == 2


def test_both_keys_is_a_config_error(csv, tmp_path, capsys):
    from cofail_jax.cli.main import main

    path = write_config(tmp_path / "b.toml", csv, tmp_path / "o.h5", methods=NAMES,
                        copulas=NAMES)
    assert main(["sweep", path]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "Traceback" not in err
    assert "b.toml" in err and "key 'methods'" in err and "'copulas'" in err
    assert not (tmp_path / "o.h5").exists()


@pytest.mark.parametrize("build", [S.make_subset_pricer, S.make_subset_sweep, S.make_bootstrap,
                                   SS.make_streamed_bootstrap])
def test_old_keyword_still_works(build):
    with pytest.warns(DeprecationWarning, match=r"\(copulas=...\)"):
        old = build(methods=("equal_loading", "clayton"))
    new = build(copulas=("equal_loading", "clayton"))
    if build is S.make_subset_pricer:
        assert [c.name for c in old.copulas] == [c.name for c in new.copulas] == [
            "equal_loading", "clayton"]
    else:  # cached builders: the very same function
        assert old is new
    with pytest.raises(TypeError, match="once"):
        build(("clayton",), methods=("clayton",))


def test_price_help_names_copula_not_the_old_option(capsys):
    import re

    from cofail_jax.cli.main import main

    with pytest.raises(SystemExit):
        main(["price", "--help"])
    out = capsys.readouterr().out
    assert "--copula {" in out and not re.search(r"--model(?!s)", out)
