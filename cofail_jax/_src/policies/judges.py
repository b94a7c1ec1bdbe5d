"""Judge panels: agreement between graders and what the grading rule does to beta.

When several judges grade every (query, model) cell, the correctness bits depend on
the rule that combines them. Given labels (J, n, k) with 1 = judged correct, 0 = judged
wrong, -1 = not graded:

* Fleiss' kappa over all graded cells (items) and the J judges (two categories);
* Cohen's kappa for every pair of judges, on the cells both graded;
* the majority label per cell with a stated tie rule (default: a tie counts as wrong);
* beta (all models wrong) under the **unanimous** rule (a cell is correct only if every
  judge who graded it says correct: the strictest reading), the majority rule and the
  **lenient** rule (correct if any judge says correct), each with a Clopper-Pearson
  interval, and the paired McNemar exact test of unanimous vs lenient beta (lenient
  beta can never exceed unanimous beta).

References:
  Fleiss, J. L. (1971). Measuring nominal scale agreement among many raters.
  Psychological Bulletin 76, 378-382.
  Cohen, J. (1960). A coefficient of agreement for nominal scales. Educational and
  Psychological Measurement 20, 37-46.
  Zheng, L. et al. (2023). Judging LLM-as-a-judge with MT-Bench and Chatbot Arena.
  NeurIPS Datasets and Benchmarks.
"""

from __future__ import annotations

import csv
import itertools
from collections.abc import Sequence
from typing import NamedTuple

import numpy as np

from ..certificate import clopper_pearson
from ..errors import InputError
from .formats import mcnemar_exact
from .tree import Flat, Interval, Split, Var

__all__ = [
    "JUDGE_RULES",
    "JudgePanel",
    "PanelTest",
    "RuleBeta",
    "cohen_kappa",
    "combine_judges",
    "fleiss_kappa",
    "judge_panel",
    "read_judge_labels",
]

JUDGE_RULES = ("unanimous", "majority", "lenient")


def fleiss_kappa(counts) -> float:
    """Fleiss' kappa from an (items, categories) table of how many raters chose each
    category. Every item must have the same number of raters (at least 2).

    Examples:
      >>> import numpy as np
      >>> round(fleiss_kappa(np.array([[2, 0], [0, 2], [1, 1]])), 4)
      0.3333
    """
    x = np.asarray(counts, np.float64)
    r = x.sum(axis=1)
    if x.ndim != 2 or x.shape[0] == 0 or np.any(r != r[0]) or r[0] < 2:
        raise ValueError("fleiss_kappa: every item needs the same number (>= 2) of ratings")
    N, m = x.shape[0], r[0]
    p = x.sum(axis=0) / (N * m)
    P_i = ((x * x).sum(axis=1) - m) / (m * (m - 1))
    Pbar = P_i.mean()
    Pe = (p * p).sum()
    return float((Pbar - Pe) / (1 - Pe)) if Pe < 1 else float("nan")


def cohen_kappa(a, b) -> float:
    """Cohen's kappa of two raters' 0/1 labels (NaN when chance agreement is 1)."""
    a = np.asarray(a, bool)
    b = np.asarray(b, bool)
    if a.size == 0:
        return float("nan")
    po = float((a == b).mean())
    pa, pb = a.mean(), b.mean()
    pe = float(pa * pb + (1 - pa) * (1 - pb))
    return (po - pe) / (1 - pe) if pe < 1 else float("nan")


def combine_judges(labels, rule: str = "majority", *, tie: str = "wrong") -> np.ndarray:
    """bool (n, k) correctness from judge labels (J, n, k) (1/0, -1 = not graded).

    ``unanimous``: correct iff every judge who graded the cell says correct; ``lenient``:
    correct iff any says correct; ``majority``: correct iff more judges say correct than
    wrong, a tie decided by ``tie`` (``"wrong"`` default, or ``"correct"``). A cell no
    judge graded counts as wrong.
    """
    if rule not in JUDGE_RULES:
        raise ValueError(f"combine_judges: rule must be one of {JUDGE_RULES}, got {rule!r}")
    if tie not in ("wrong", "correct"):
        raise ValueError(f"combine_judges: tie must be 'wrong' or 'correct', got {tie!r}")
    lab = np.asarray(labels, np.int8)
    yes = (lab == 1).sum(axis=0)
    no = (lab == 0).sum(axis=0)
    graded = (yes + no) > 0
    if rule == "unanimous":
        return graded & (no == 0)
    if rule == "lenient":
        return yes > 0
    return (yes > no) | ((yes == no) & graded & (tie == "correct"))


class RuleBeta(NamedTuple):
    """beta under one grading rule (K of n all wrong, Clopper-Pearson ``ci``) and each
    model's accuracy (k,) under that rule."""

    beta: float
    K: int
    n: int
    ci: tuple[float, float]
    accuracy: np.ndarray

    def to_tree(self, models: Sequence[str]) -> dict:
        return {"beta": self.beta, "K": self.K, "n": self.n, "ci": Interval(*self.ci),
                "accuracy": Var(self.accuracy, ("model",), models)}


class PanelTest(NamedTuple):
    """Unanimous vs lenient beta: discordant counts, difference, McNemar exact p-value."""

    only_unanimous: int
    only_lenient: int
    difference: float
    p_value: float
    test: str


class JudgePanel(NamedTuple):
    """Result of :func:`judge_panel`."""

    judges: tuple[str, ...]
    n: int
    k: int
    fleiss_kappa: float
    n_cells_all_judges: int
    cohen_kappa: np.ndarray
    pair_cells: np.ndarray
    judge_accept_rate: np.ndarray
    tie_rule: str
    majority_ties: int
    rules: dict[str, RuleBeta]
    unanimous_vs_lenient: PanelTest
    alpha: float

    def to_tree(self, models: Sequence[str]) -> dict:
        """The result tree (``--json`` and ``--out``, see ``tree.py``): the agreement
        statistics (top level in JSON, group ``agreement`` in HDF5), ``rules`` and
        ``unanimous_vs_lenient``; ``models`` name the accuracy columns."""
        pair = {"judge": self.judges, "judge_b": self.judges}
        agreement = {
            "fleiss_kappa": self.fleiss_kappa,
            "n_cells_all_judges": self.n_cells_all_judges,
            "cohen_kappa": Var(self.cohen_kappa, ("judge", "judge_b"), coords=pair),
            "pair_cells": Var(self.pair_cells, ("judge", "judge_b"), coords=pair),
            "judge_accept_rate": Var(self.judge_accept_rate, ("judge",), self.judges),
            "tie_rule": self.tie_rule,
            "majority_ties": self.majority_ties,
        }
        return {
            "judges": Split(list(self.judges), None),
            "n": Split(self.n, None),
            "k": Split(self.k, None),
            "agreement": Flat(agreement),
            "rules": {name: r.to_tree(models) for name, r in self.rules.items()},
            "unanimous_vs_lenient": self.unanimous_vs_lenient._asdict(),
            "alpha": Split(self.alpha, None),
            "models": Split(list(models), None),
        }


def judge_panel(labels, judges: Sequence[str], *, tie: str = "wrong",
                alpha: float = 0.05) -> JudgePanel:
    """Agreement statistics and beta under each combining rule.

    Args:
      labels: int (J, n, k) judge labels, 1 correct / 0 wrong / -1 not graded.
      judges: J judge names.
      tie: tie rule of the majority label.
      alpha: Clopper-Pearson intervals at level 1 - alpha.

    Returns:
      :class:`JudgePanel`: ``fleiss_kappa`` (over cells graded by every judge),
      ``n_cells_all_judges``, ``cohen_kappa`` (J, J) with ``pair_cells`` (J, J) counts,
      ``judge_accept_rate`` (J,), ``rules`` {rule: :class:`RuleBeta`},
      ``unanimous_vs_lenient`` (:class:`PanelTest`), ``majority_ties``.
    """
    lab = np.asarray(labels, np.int8)
    if lab.ndim != 3:
        raise ValueError(f"judge_panel: labels must be (J, n, k), got {lab.shape}")
    J, n, k = lab.shape
    if J < 2:
        raise ValueError("judge_panel: needs at least 2 judges")
    flat = lab.reshape(J, -1)
    full = (flat >= 0).all(axis=0)
    yes = (flat[:, full] == 1).sum(axis=0)
    fk = fleiss_kappa(np.stack([yes, J - yes], axis=1)) if full.any() else float("nan")
    ck = np.full((J, J), np.nan)
    pc = np.zeros((J, J), np.int64)
    for a, b in itertools.combinations(range(J), 2):
        both = (flat[a] >= 0) & (flat[b] >= 0)
        ck[a, b] = ck[b, a] = cohen_kappa(flat[a, both] == 1, flat[b, both] == 1)
        pc[a, b] = pc[b, a] = int(both.sum())
    for a in range(J):
        ck[a, a] = 1.0
        pc[a, a] = int((flat[a] >= 0).sum())
    rules = {}
    allwrong = {}
    for rule in JUDGE_RULES:
        c = combine_judges(lab, rule, tie=tie)
        w = ~c.any(axis=1)
        K = int(w.sum())
        lo, hi = clopper_pearson(K, n, alpha)
        rules[rule] = RuleBeta(K / n, K, n, (float(lo), float(hi)), c.mean(axis=0))
        allwrong[rule] = w
    yes_all = (lab == 1).sum(axis=0)
    no_all = (lab == 0).sum(axis=0)
    only_u = int((allwrong["unanimous"] & ~allwrong["lenient"]).sum())
    only_l = int((~allwrong["unanimous"] & allwrong["lenient"]).sum())
    with np.errstate(invalid="ignore"):
        rate = np.where(
            (flat >= 0).sum(axis=1) > 0,
            (flat == 1).sum(axis=1) / np.maximum((flat >= 0).sum(axis=1), 1),
            np.nan,
        )
    test = PanelTest(only_u, only_l, (only_u - only_l) / n, mcnemar_exact(only_u, only_l),
                     "McNemar exact on paired all-wrong indicators")
    return JudgePanel(tuple(str(j) for j in judges), n, k, fk, int(full.sum()), ck, pc, rate,
                      tie, int(((yes_all == no_all) & (yes_all > 0)).sum()), rules, test, alpha)


def read_judge_labels(path: str, *, judge_key: str = "judge", label_key: str = "correct"):
    """Read judge labels from a long CSV or JSONL: one row per (query_id, model, judge)
    with a 0/1 ``correct`` column.

    Returns:
      (labels int8 (J, n, k) with -1 for ungraded, query_ids, models, judges).

    Long: one reader for CSV and JSONL with a located error for every bad row.
    """
    from ..io.formats import check_text_file, iter_jsonl
    from ..io.tables import parse_cell

    what = "a CSV or JSONL file of judge labels"
    check_text_file(path, what)  # a folder, binary, gzip, HDF5 or UTF-16 file: one line
    records: list[tuple[dict, str]] = []
    where = "line 1"
    reader = None
    try:
        with open(path, encoding="utf-8-sig", newline="") as f:
            head = f.read(1)
            f.seek(0)
            if head == "{":
                for ln, rec in iter_jsonl(
                    f, path, hint="one JSON object per line", invalid="not valid JSON",
                    objects_only=False,
                ):
                    where = f"line {ln}"
                    if not isinstance(rec, dict):
                        raise InputError("is not a JSON object", source=path, where=where,
                                         hint="one JSON object per line")
                    records.append((rec, where))
            else:
                reader = csv.DictReader(f)
                for r, row in enumerate(reader, start=2):
                    where = f"row {r}"
                    records.append(({(k or "").strip(): v for k, v in row.items()}, where))
    except OSError as e:
        raise InputError(
            f"cannot read judge labels ({e.strerror})", source=path, hint="check the path"
        ) from None
    except UnicodeDecodeError:
        raise InputError("is not UTF-8 text", source=path, where=f"after {where}",
                         hint="save it as UTF-8") from None
    except csv.Error as e:
        raise InputError(f"is not valid CSV ({e})", source=path,
                         where=f"near line {reader.line_num + 1}" if reader is not None else where,
                         hint="one row per query_id, model, judge, correct") from None
    except RecursionError:
        raise InputError("nests JSON too deeply", source=path, where=f"after {where}",
                         hint="one flat JSON object per line") from None
    if not records:
        raise InputError(
            "has no judge labels",
            source=path,
            hint=f"one row per query_id, model, {judge_key}, {label_key}",
        )
    q: dict[str, int] = {}
    m: dict[str, int] = {}
    jd: dict[str, int] = {}
    cells = []
    for rec, where in records:
        for key in ("query_id", "model", judge_key, label_key):
            if key not in rec or rec[key] in (None, ""):
                raise InputError(
                    f"has no {key!r}",
                    source=path,
                    where=where,
                    hint=f"each row needs query_id, model, {judge_key} and {label_key}",
                )
        try:
            v = parse_cell(rec[label_key])
        except ValueError:
            raise InputError(
                f"{label_key} value {rec[label_key]!r} is not 0/1",
                source=path,
                where=where,
                hint="write 1 if the judge accepted the answer, 0 if not",
            ) from None
        qi = q.setdefault(str(rec["query_id"]).strip(), len(q))
        mi = m.setdefault(str(rec["model"]).strip(), len(m))
        ji = jd.setdefault(str(rec[judge_key]).strip(), len(jd))
        cells.append((ji, qi, mi, v, where))
    if len(jd) * len(q) * len(m) > 500_000_000:
        raise InputError(
            f"{len(jd)} judges x {len(q)} queries x {len(m)} models is too large a panel",
            source=path,
            hint="check the query_id, model and judge columns (are they swapped?)",
        )
    lab = np.full((len(jd), len(q), len(m)), -1, np.int8)
    for ji, qi, mi, v, where in cells:
        if lab[ji, qi, mi] != -1:
            raise InputError(
                "duplicate label for this query, model and judge",
                source=path,
                where=where,
                hint="keep one label per query, model and judge",
            )
        lab[ji, qi, mi] = v
    if len(jd) < 2:
        raise InputError(
            f"names {len(jd)} judge(s); a panel needs at least 2",
            source=path,
            where=f"column {judge_key!r}",
            hint="add the other judges' labels",
        )
    return lab, tuple(q), tuple(m), tuple(jd)
