"""The documentation runs: every ```python block of README.md and docs/*.md is executed.

Blocks of one file run in order in one namespace, like a doctest session, in a scratch
folder (``tests`` and ``configs`` of the repository are linked into it, so relative paths
in the docs work and nothing is written into the checkout). A block preceded by
``<!-- docs: skip: REASON -->`` is not run; the reason is required (only for what cannot
run here, such as a multi-host launch).

Also checked: the README's test command is the one ``.ci/run`` runs, the pages mkdocs
lists exist, the README's links to docs pages resolve, and pandas DataFrames keep their
model names through the entry points that accept an outcome matrix.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
DOC_FILES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
FENCE = re.compile(r"^```(\w*)\s*$")
SKIP = re.compile(r"^<!--\s*docs:\s*skip(?::\s*(?P<reason>.*?))?\s*-->$")


def python_blocks(path: Path) -> list[tuple[int, str, str | None]]:
    """(first line number, code, skip reason or None) of every ```python block."""
    lines = path.read_text(encoding="utf-8").splitlines()
    blocks, i = [], 0
    while i < len(lines):
        m = FENCE.match(lines[i])
        if not m or not m.group(1):
            i += 1
            continue
        lang, start = m.group(1), i + 1
        j = start
        while j < len(lines) and lines[j].strip() != "```":
            j += 1
        if j == len(lines):
            raise AssertionError(f"{path.name}:{i + 1}: unclosed code fence")
        if lang == "python":
            prev = next((lines[p].strip() for p in range(i - 1, -1, -1) if lines[p].strip()), "")
            skip = SKIP.match(prev)
            reason = None
            if skip:
                reason = skip.group("reason") or ""
                assert reason, f"{path.name}:{i}: '<!-- docs: skip -->' needs a reason: " \
                               "<!-- docs: skip: why it cannot run in the tests -->"
            blocks.append((start + 1, "\n".join(lines[start:j]), reason))
        i = j + 1
    return blocks


def _files_with_python():
    return [p for p in DOC_FILES if python_blocks(p)]


@pytest.mark.parametrize("path", _files_with_python(), ids=lambda p: p.relative_to(ROOT).as_posix())
def test_python_blocks_run(path, tmp_path, monkeypatch):
    for name in ("tests", "configs"):
        os.symlink(ROOT / name, tmp_path / name)
    monkeypatch.chdir(tmp_path)
    namespace: dict = {"__name__": f"docs:{path.name}"}
    ran = 0
    for line, code, skip in python_blocks(path):
        if skip is not None:
            continue
        try:
            exec(compile(code, f"{path.relative_to(ROOT)}:{line}", "exec"), namespace)
        except Exception as e:  # say which block, then show the original traceback
            raise AssertionError(f"{path.relative_to(ROOT)}: the python block at line {line} "
                                 f"failed: {type(e).__name__}: {e}") from e
        ran += 1
    assert ran, f"{path.name}: every python block is skipped"


def test_skip_markers_are_rare_and_explained():
    skipped = [(p.name, line, why) for p in DOC_FILES for line, _, why in python_blocks(p)
               if why is not None]
    assert all(why for _, _, why in skipped)
    assert len(skipped) <= 3, f"too many skipped blocks: {skipped}"


def test_readme_test_command_is_what_ci_runs():
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    ci_cmd = [ln for ln in ci if ln.startswith("python3 -m venv")]
    assert len(ci_cmd) == 1, ".ci/run should run exactly one command line"
    readme = (ROOT / "README.md").read_text(encoding="utf-8").splitlines()
    assert ci_cmd[0] in readme, "README.md must show the test command of .ci/run byte for byte"


def test_docs_pages_and_links_exist():
    nav = re.findall(r":\s*([\w/.-]+\.md)\s*$", (ROOT / "mkdocs.yml").read_text(), re.M)
    assert nav, "mkdocs.yml lists no pages"
    missing = [p for p in nav if not (ROOT / "docs" / p).is_file()]
    assert not missing, f"mkdocs.yml lists pages that do not exist: {missing}"
    unlisted = [p.name for p in (ROOT / "docs").glob("*.md") if p.name not in nav]
    assert not unlisted, f"docs pages missing from the mkdocs.yml nav: {unlisted}"
    for doc in DOC_FILES:
        base = ROOT if doc.name == "README.md" and doc.parent == ROOT else doc.parent
        for target in re.findall(r"\]\(([^)#\s]+\.(?:md|png))(?:#[^)]*)?\)", doc.read_text()):
            if "://" in target:
                continue
            assert (base / target).is_file(), f"{doc.name}: broken link {target}"


# ---- pandas DataFrames keep their model names -------------------------------------------

def _frame():
    pd = pytest.importorskip("pandas")
    correct = np.array([[1, 0, 1, 0], [0, 1, 1, 0], [0, 0, 0, 0], [1, 1, 0, 1], [1, 0, 0, 1],
                        [0, 1, 1, 1], [0, 0, 1, 0], [1, 1, 1, 0]], bool)
    names = ["alpha", "beta-model", "gamma@host", "delta"]
    df = pd.DataFrame(correct.astype(int), columns=names)
    df.insert(0, "query_id", [f"q{i}" for i in range(len(correct))])
    return pd, df, correct, names


def test_dataframe_names_survive_certificate():
    import cofail_jax as cj

    pd, df, correct, names = _frame()
    ref = cj.certificate(correct, models=names)
    for obj in (df, df.drop(columns=["query_id"]), df.set_index("query_id"),
                cj.from_pandas(df), df.astype(bool).assign(query_id=df["query_id"])):
        c = cj.certificate(obj)
        assert c.models == tuple(names)
        assert c.best_model == ref.best_model == "gamma@host"
        assert (c.K, c.n, c.k) == (ref.K, ref.n, ref.k) == (1, 8, 4)
    # the round trip through to_pandas keeps them too
    assert cj.certificate(cj.to_pandas(cj.from_pandas(df))).models == tuple(names)
    assert np.array_equal(cj.beta_curve(df)[1], cj.beta_curve(correct)[1])


def test_dataframe_and_matrix_through_the_error_entry_points():
    import cofail_jax as cj

    pd, df, correct, names = _frame()
    m = cj.from_pandas(df)
    errors_df = (1 - df.set_index("query_id")).astype(bool)
    ref = cj.tetrachoric(~correct)
    for obj in (m, errors_df):
        res = cj.tetrachoric(obj)
        np.testing.assert_array_equal(np.asarray(res.rho), np.asarray(ref.rho))
    p, p2 = cj.pairwise_rates(m)
    np.testing.assert_allclose(p, (~correct).mean(axis=0))
    assert cj.reference_points(df).best == int(np.argmax(correct.sum(axis=0)))


def test_dataframe_problems_are_named():
    import cofail_jax as cj

    pd, df, correct, names = _frame()
    with pytest.raises(ValueError, match="long layout"):
        cj.certificate(cj.to_pandas(cj.from_pandas(df), "long"))
    bad = df.copy()
    bad["delta"] = bad["delta"].astype(float)
    bad.loc[2, "delta"] = np.nan
    with pytest.raises(ValueError, match="certificate: DataFrame column 'delta' has missing cells"):
        cj.certificate(bad)
    bad = df.copy()
    bad["alpha"] = bad["alpha"].astype(object)
    bad.loc[0, "alpha"] = "yes"
    with pytest.raises(ValueError, match="column 'alpha' has values other than 0/1"):
        cj.certificate(bad)
