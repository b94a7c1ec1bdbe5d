"""One pipeline: ``cofail price`` and the sweep's full-pool (k = K) row give the same
predicted beta for every copula, on the embedded example (two boundary pairs) and on
MMLU-Pro; old copula names still work with a note."""

import os

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from cofail_jax._src import copulas as C
from cofail_jax._src import pricing as P
from cofail_jax._src import sweep as S
from cofail_jax._src.data import example_path
from cofail_jax._src.io import load_matrix
from cofail_jax.cli.price import price_matrix

MMLU = os.path.join(os.path.dirname(__file__), "fixtures", "shared", "mmlupro_mmlu-pro.csv")


@pytest.mark.parametrize("path", [example_path("math-l5"), MMLU])
def test_price_equals_sweep_full_pool_row(path, monkeypatch):
    # one row: a micro-batch of 1 (the default pads it to 8 identical rows, 8x the work;
    # a row's numbers do not depend on the micro-batch it is computed in)
    monkeypatch.setattr(S, "MICRO", 1)
    m = load_matrix(path)
    m = m.select_models([x for x in m.models if x not in {d for d, _ in m.degenerate_models()}])
    seed = 3
    # both at their defaults (adaptive QMC to copulas.QMC_REL_ERROR): no option to match
    res = price_matrix(m, seed=seed)
    errors = np.asarray(m.errors)
    n, kk = errors.shape
    stats = jax.jit(S.pool_stats)(errors, jnp.ones((n,), jnp.float64))
    sweep = S.make_subset_sweep(C.NAMES)
    row = sweep(P.run_key(seed), stats, errors, [kk], [0], np.ones((1, kk), bool))
    for i, name in enumerate(C.NAMES):
        got = res["predictions"][name]
        np.testing.assert_allclose(got["beta"], row.beta_pred[0, i], rtol=1e-12, err_msg=name)
        assert got["n_samples"] == row.n_samples[0, i]
        if got["method"] == "qmc":  # reached the target, or used the whole cap
            assert (got["rel_error"] <= C.QMC_REL_ERROR
                    or got["n_samples"] >= C.QMC_MAX_SAMPLES), (name, got)
    np.testing.assert_allclose(res["mean_tetrachoric"], row.mean_rho[0], rtol=1e-12)
    if path == MMLU:
        return
    # the example has two boundary pairs: left out of the mean correlation (one rule)
    assert res["n_pairs_boundary"] == 2
    ok = (np.asarray(stats.status) == 0) & ~np.eye(kk, dtype=bool)
    np.testing.assert_allclose(res["mean_tetrachoric"], np.asarray(stats.rho)[ok].mean(), rtol=1e-12)


def test_aliases_name_the_new_name(capsys):
    assert C.canonical("one-factor") == "equal_loading"
    assert "'equal_loading'" in capsys.readouterr().err
    assert C.canonical("one_factor") == "fitted_loading"
    assert C.canonical("one-factor-fitted") == "fitted_loading"
    with pytest.raises(KeyError):
        C.canonical("gaussian-ish")
    assert set(C.NAMES) == {"equal_loading", "fitted_loading", "gaussian", "clayton", "student_t"}
    for name in C.NAMES:  # one module + one registry line: every field present
        c = C.get(name)
        assert c.name == name and c.label and c.colour
