"""Shared pieces of the figure modules: captions, intervals, label thinning."""

from __future__ import annotations

import json
import os
import textwrap
from typing import Any

import numpy as np


def caption(tree: dict[str, Any], *parts: str) -> str:
    """One grey line under a figure: the input file, the method, the seed, ``parts``."""
    bits = []
    if tree.get("input_path"):
        bits.append(os.path.basename(str(tree["input_path"]).rstrip("/")))
    bits += [p for p in parts if p]
    if tree.get("seed") is not None:
        bits.append(f"seed {tree['seed']}")
    if tree.get("cofail_jax_version"):
        bits.append(f"cofail_jax {tree['cofail_jax_version']}")
    return "; ".join(bits)


def finish(fig, text: str, width: int = 110):
    """Caption at the bottom, tight layout; returns ``fig``."""
    lines = textwrap.wrap(text, width)
    fig.text(0.01, 0.01, "\n".join(lines), fontsize=7, color="0.35", ha="left", va="bottom")
    fig.tight_layout(rect=(0, 0.025 * (len(lines) + 1), 1, 1))
    return fig


def config(tree: dict[str, Any]) -> dict[str, Any]:
    c = tree.get("config")
    if isinstance(c, str):
        try:
            return json.loads(c)
        except ValueError:
            return {}
    return c or {}


def estimate(node: dict[str, Any] | None) -> tuple[float, float, float]:
    """(estimate, lower, upper) of a bootstrap group, NaN where absent."""
    node = node or {}
    return tuple(float(node.get(k, np.nan)) for k in ("estimate", "lower", "upper"))  # type: ignore[return-value]


def tick_labels(ax, axis: str, labels, max_labels: int = 40, rotation: float = 60,
                start: int = 0) -> None:
    """Name ticks ``start, start + 1, ...`` with ``labels``, every j-th one when there are
    more than ``max_labels``."""
    labels = [str(s) for s in labels]
    step = max(1, int(np.ceil(len(labels) / max_labels)))
    idx = np.arange(0, len(labels), step)
    pos = idx + start
    shown = [labels[i] if len(labels[i]) <= 28 else labels[i][:26] + "…" for i in idx]
    if axis == "x":
        ax.set_xticks(pos)
        ax.set_xticklabels(shown, rotation=rotation, ha="right", fontsize=7)
    else:
        ax.set_yticks(pos)
        ax.set_yticklabels(shown, fontsize=7)
