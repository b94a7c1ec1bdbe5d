"""One pipeline: ``cofail price`` and the sweep's full-pool (k = K) row give the same
predicted beta for every copula, on 8-model pools of the embedded example (with its two
boundary pairs) and of MMLU-Pro; old copula names still work with a note.

Both pools have the same shape (721 queries x 8 models), so each of the two five-copula
programs (price's and the sweep's) is compiled once for both cases, and the orthant
estimators run in 8 dimensions instead of 38 and 28."""

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


N_QUERIES = 721  # the example's; MMLU-Pro's first 721 queries
# the example: its first four models and the three of its two boundary pairs
# (o1-mini with Yi-1.5-9B-Chat and with gemma-2-2b-it), plus one; MMLU-Pro: its first eight
POOLS = {"example": (example_path("math-l5"), [0, 1, 2, 3, 16, 27, 35, 37]),
         "mmlu": (MMLU, list(range(8)))}


@pytest.mark.parametrize("pool", sorted(POOLS))
def test_price_equals_sweep_full_pool_row(pool, monkeypatch):
    # one row: a micro-batch of 1 (the default pads it to 8 identical rows, 8x the work;
    # a row's numbers do not depend on the micro-batch it is computed in)
    monkeypatch.setattr(S, "MICRO", 1)
    path, models = POOLS[pool]
    m = load_matrix(path).select_models(models).select_queries(np.arange(N_QUERIES))
    assert not m.degenerate_models() and m.all_wrong.any()
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
    if pool == "mmlu":
        assert res["n_pairs_boundary"] == 0
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
