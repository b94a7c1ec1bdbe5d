"""``cofail report`` draws every kind of results file (Agg backend, the small fixtures'
results files of tests/results_helpers.py): each figure appears, non-empty, in each
requested format; a file of a kind without figures and a bad --format exit 2."""

import os

import pytest

from cofail_jax.cli.main import main
from results_helpers import produce

pytest.importorskip("matplotlib")

KINDS = {
    "certify": ["beta_curve"],
    "correlations": ["rho_heatmap"],
    "identify": ["beta_range"],
    "price": ["price_vs_observed"],
    "counterexample": ["beta_range"],
    "vote": ["vote_accuracy", "vote_gain_vs_rho"],
    "route": ["route_frontier", "route_realized_fraction"],
    "cascade": ["cascade_frontier"],
    "ensembles": ["ensembles_same_vs_mixed"],
    "audit": ["audit_sensitivity"],
    "judges": ["judges_agreement"],
    "formats": ["formats_beta"],
}


@pytest.mark.parametrize("command", sorted(KINDS))
def test_report_draws_every_kind(command, tmp_path_factory, tmp_path, capsys):
    _, h5 = produce(command, tmp_path_factory)
    formats = "png,svg,pdf" if command in ("certify", "formats") else "png"
    assert main(["report", h5, "--outdir", str(tmp_path), "--format", formats]) == 0
    out = capsys.readouterr().out
    want = {f"{name}.{fmt}" for name in KINDS[command] for fmt in formats.split(",")}
    assert set(os.listdir(tmp_path)) == want
    for name in want:
        assert os.path.getsize(tmp_path / name) > 1000 and name in out
    with open(tmp_path / f"{KINDS[command][0]}.png", "rb") as f:
        assert f.read(8) == b"\x89PNG\r\n\x1a\n"
    if command == "certify":
        with open(tmp_path / "beta_curve.pdf", "rb") as f:
            assert f.read(5) == b"%PDF-"
        assert "<svg" in (tmp_path / "beta_curve.svg").read_text()


def test_report_refuses_what_it_cannot_draw(tmp_path_factory, tmp_path, capsys):
    _, h5 = produce("convert", tmp_path_factory)  # an outcome matrix: no figures
    assert main(["report", h5, "--outdir", str(tmp_path / "f")]) == 2
    err = capsys.readouterr().err
    assert "has no figures" in err and "certificate" in err and len(err.strip().splitlines()) == 1
    _, cert = produce("certify", tmp_path_factory)
    assert main(["report", cert, "--format", "png,gif", "--outdir", str(tmp_path / "g")]) == 2
    assert "--format" in capsys.readouterr().err
    assert not (tmp_path / "g").exists()


def test_cluster_order_groups_correlated_models():
    import numpy as np

    from cofail_jax._src.figures.correlations import cluster_order

    # two blocks {0, 2, 4} and {1, 3}: the leaves order keeps each block together
    rho = np.full((5, 5), 0.05)
    for block in ([0, 2, 4], [1, 3]):
        rho[np.ix_(block, block)] = 0.8
    np.fill_diagonal(rho, 1.0)
    order = list(cluster_order(rho))
    pos = {m: order.index(m) for m in range(5)}
    assert max(pos[m] for m in (0, 2, 4)) - min(pos[m] for m in (0, 2, 4)) == 2
    assert abs(pos[1] - pos[3]) == 1


@pytest.mark.parametrize("command", ["audit", "judges", "formats"])
def test_new_kinds_write_their_kind(command, tmp_path_factory):
    import h5py

    _, h5 = produce(command, tmp_path_factory)
    with h5py.File(h5, "r") as f:
        assert f.attrs["kind"] == command


def test_new_figures_draw_the_file_numbers(tmp_path_factory):
    """The drawn values are the file's: audit β per j and the class counts, judges κ,
    formats β per format and each model's accuracy per format."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    from cofail_jax._src.figures import read_results
    from cofail_jax._src.figures import audit as fa
    from cofail_jax._src.figures import formats as ff
    from cofail_jax._src.figures import judges as fj

    _, tree = read_results(produce("audit", tmp_path_factory)[1])
    (_, fig), = fa.draw(tree)
    ax_b, _, ax_e = fig.axes
    np.testing.assert_allclose(ax_b.lines[0].get_ydata(), tree["sensitivity"]["beta"])
    classes = [str(c) for c in tree["evidence"]["suggested_class"]]
    widths = [p.get_width() for p in ax_e.patches]
    assert widths == [classes.count(c) for c in fa.CLASSES] and sum(widths) == len(classes)
    plt.close(fig)

    _, tree = read_results(produce("judges", tmp_path_factory)[1])
    (_, fig), = fj.draw(tree)
    np.testing.assert_allclose(fig.axes[0].images[0].get_array(),
                               tree["agreement"]["cohen_kappa"])
    plt.close(fig)

    _, tree = read_results(produce("formats", tmp_path_factory)[1])
    (_, fig), = ff.draw(tree)
    ys = sorted(round(float(line.get_ydata()[0]), 12) for line in fig.axes[0].lines
                if len(line.get_ydata()) == 1 and line.get_marker() == "o")
    want = sorted(round(float(tree[g][s]["beta"]), 12) for g in ("common", "full")
                  for s in ("a", "b"))
    assert ys == want
    acc = tree["common"]["accuracy"]  # per-model accuracy per format: the second panel
    xs = sorted(round(float(x), 12) for line in fig.axes[1].lines if line.get_marker() == "s"
                for x in line.get_xdata())
    assert xs == sorted(round(float(v), 12) for s in ("a", "b") for v in acc[s])
    assert [str(t.get_text()) for t in fig.axes[1].get_yticklabels()] == [
        str(m) for m in acc["model"]]
    plt.close(fig)
