"""The outcome matrix: n queries x k models of booleans (True = correct).

This is the data type every analysis reads. It lives at the edge (numpy, strings,
metadata); the numerical kernels take its ``correct`` array, or ``errors`` (its
negation), as plain arrays.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from .errors import InputError


@dataclasses.dataclass(frozen=True, eq=False)
class OutcomeMatrix:
    """n queries x k models of correctness bits, with ids, names and optional extras.

    Attributes:
      correct: bool array (n, k); True where the model answered the query correctly.
        With repeated samples this is sample 0 (see ``samples``).
      query_ids: n query ids (strings), unique.
      models: k model names (strings), unique.
      query_meta: per-query columns, each an array of length n (for example
        ``domain``, ``prompt``, ``reference``, ``choices``).
      cell_meta: per-cell columns, each an (n, k) array (for example ``answer``,
        ``cost``, ``confidence``, ``output_tokens``, ``finish_reason``).
      model_meta: per-model columns, each an array of length k (for example ``cost``).
      samples: optional int8 array (S, n, k) of repeated samples: 1 correct,
        0 wrong, -1 missing. ``correct`` equals ``samples[0] == 1``.
      source: where the matrix came from (a path), used in messages.
      notes: what loading dropped or changed, one line each.
      sample_meta: per-sample answer columns (``answer``, ``extracted``,
        ``raw_answer``), each an object array (S, n, k) matching ``samples``, so the
        audit and regrading read every sample's answer; ``cell_meta`` holds sample 0.
    """

    correct: np.ndarray
    query_ids: tuple[str, ...]
    models: tuple[str, ...]
    query_meta: Mapping[str, np.ndarray] = dataclasses.field(default_factory=dict)
    cell_meta: Mapping[str, np.ndarray] = dataclasses.field(default_factory=dict)
    model_meta: Mapping[str, np.ndarray] = dataclasses.field(default_factory=dict)
    samples: np.ndarray | None = None
    source: str = "<array>"
    notes: tuple[str, ...] = ()
    sample_meta: Mapping[str, np.ndarray] = dataclasses.field(default_factory=dict)

    def __post_init__(self):
        correct = np.asarray(self.correct)
        if correct.dtype != np.bool_:
            raise TypeError(f"OutcomeMatrix: correct must be a bool array, got {correct.dtype}")
        if correct.ndim != 2:
            raise ValueError(f"OutcomeMatrix: correct must be (n, k), got shape {correct.shape}")
        n, k = correct.shape
        object.__setattr__(self, "correct", correct)
        object.__setattr__(self, "query_ids", tuple(str(q) for q in self.query_ids))
        object.__setattr__(self, "models", tuple(str(m) for m in self.models))
        if len(self.query_ids) != n:
            raise ValueError(f"OutcomeMatrix: {len(self.query_ids)} query ids for {n} rows")
        if len(self.models) != k:
            raise ValueError(f"OutcomeMatrix: {len(self.models)} model names for {k} columns")
        check_unique(self.query_ids, "query id", self.source)
        check_unique(self.models, "model name", self.source)
        for name, col in self.query_meta.items():
            if len(col) != n:
                raise ValueError(f"OutcomeMatrix: query_meta[{name!r}] has {len(col)} rows, want {n}")
        for name, col in self.cell_meta.items():
            if np.shape(col) != (n, k):
                raise ValueError(f"OutcomeMatrix: cell_meta[{name!r}] has shape {np.shape(col)}, want {(n, k)}")
        for name, col in self.model_meta.items():
            if len(col) != k:
                raise ValueError(f"OutcomeMatrix: model_meta[{name!r}] has {len(col)} entries, want {k}")
        if self.samples is not None:
            s = np.asarray(self.samples, dtype=np.int8)
            if s.ndim != 3 or s.shape[1:] != (n, k):
                raise ValueError(f"OutcomeMatrix: samples must be (S, {n}, {k}), got {s.shape}")
            object.__setattr__(self, "samples", s)
        for name, col in self.sample_meta.items():
            S = None if self.samples is None else self.samples.shape[0]
            if np.ndim(col) != 3 or np.shape(col)[1:] != (n, k) or (S is not None and len(col) != S):
                raise ValueError(f"OutcomeMatrix: sample_meta[{name!r}] has shape {np.shape(col)}, "
                                 f"want ({S or 'S'}, {n}, {k})")

    # ---- basic views -------------------------------------------------------------
    @property
    def n(self) -> int:
        """Number of queries."""
        return self.correct.shape[0]

    @property
    def k(self) -> int:
        """Number of models."""
        return self.correct.shape[1]

    @property
    def errors(self) -> np.ndarray:
        """bool (n, k): True where the model is wrong."""
        return ~self.correct

    @property
    def accuracy(self) -> np.ndarray:
        """float64 (k,): each model's accuracy."""
        return self.correct.mean(axis=0)

    @property
    def all_wrong(self) -> np.ndarray:
        """bool (n,): queries on which every model is wrong."""
        return ~self.correct.any(axis=1)

    def degenerate_models(self) -> list[tuple[str, str]]:
        """Models that are always right or always wrong: (name, 'always right'|'always wrong').

        They are kept for the certificate but have no finite latent threshold.
        """
        acc = self.correct.mean(axis=0)
        out = []
        for m, a in zip(self.models, acc):
            if a == 1.0:
                out.append((m, "always right"))
            elif a == 0.0:
                out.append((m, "always wrong"))
        return out

    def model_index(self, names: Sequence[str], param: str = "models") -> np.ndarray:
        """Column indices of ``names``; unknown names raise :class:`InputError` naming
        ``param`` (the parameter that listed them; the CLI shows its flag)."""
        lookup = {m: i for i, m in enumerate(self.models)}
        idx = []
        for name in names:
            if name not in lookup:
                raise InputError(
                    f"unknown model {name!r}", source=self.source, param=param,
                    hint=f"choose from: {', '.join(self.models[:10])}{' ...' if self.k > 10 else ''}")
            idx.append(lookup[name])
        if len(set(idx)) != len(idx):
            raise InputError("a model is named twice", source=self.source, param=param,
                             hint="name each model once")
        return np.asarray(idx, dtype=np.int64)

    def select_models(self, names_or_idx: Sequence[str] | Sequence[int] | np.ndarray) -> "OutcomeMatrix":
        """The matrix restricted to some models (by name or column index), in that order."""
        sel = list(names_or_idx)
        if sel and isinstance(sel[0], str):
            idx = self.model_index(sel)  # type: ignore[arg-type]
        else:
            idx = np.asarray(sel, dtype=np.int64)
        return dataclasses.replace(
            self,
            correct=self.correct[:, idx],
            models=tuple(self.models[i] for i in idx),
            cell_meta={k: v[:, idx] for k, v in self.cell_meta.items()},
            model_meta={k: np.asarray(v)[idx] for k, v in self.model_meta.items()},
            samples=None if self.samples is None else self.samples[:, :, idx],
            sample_meta={k: v[:, :, idx] for k, v in self.sample_meta.items()},
        )

    def select_queries(self, mask_or_idx: np.ndarray) -> "OutcomeMatrix":
        """The matrix restricted to some queries (a boolean mask or row indices)."""
        idx = np.asarray(mask_or_idx)
        if idx.dtype == np.bool_:
            idx = np.flatnonzero(idx)
        return dataclasses.replace(
            self,
            correct=self.correct[idx],
            query_ids=tuple(self.query_ids[i] for i in idx),
            query_meta={k: np.asarray(v)[idx] for k, v in self.query_meta.items()},
            cell_meta={k: v[idx] for k, v in self.cell_meta.items()},
            samples=None if self.samples is None else self.samples[:, idx],
            sample_meta={k: v[:, idx] for k, v in self.sample_meta.items()},
        )

    def with_notes(self, *notes: str) -> "OutcomeMatrix":
        return dataclasses.replace(self, notes=self.notes + tuple(notes))

    def summary(self) -> dict[str, Any]:
        """n, k, the all-wrong count and the best single model, as plain Python values."""
        acc = self.accuracy
        best = int(np.argmax(acc))
        return {
            "n": self.n,
            "k": self.k,
            "all_wrong": int(self.all_wrong.sum()),
            "best_model": self.models[best],
            "best_accuracy": float(acc[best]),
        }


def check_unique(names: Sequence[str], what: str, source: str) -> None:
    """Raise :class:`InputError` naming the first repeated ``what`` (query id, model name)."""
    seen: dict[str, int] = {}
    for i, name in enumerate(names):
        if name in seen:
            raise InputError(
                f"duplicate {what} {name!r} (positions {seen[name] + 1} and {i + 1})",
                source=source, hint=f"make each {what} unique")
        seen[name] = i
