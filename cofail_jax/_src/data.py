"""The example data shipped inside the package."""

from __future__ import annotations

import os

EXAMPLES = {
    "math-l5": "zeroeval_math-l5.csv",
}


def example_path(name: str = "math-l5") -> str:
    """Path of an embedded example outcome matrix (see ``cofail_jax/data/PROVENANCE.md``).

    ``math-l5``: 721 MATH level-5 problems x 38 models, from the ZeroEval project
    (Apache-2.0), 18 all-wrong queries.
    """
    if name not in EXAMPLES:
        raise ValueError(f"example_path: unknown example {name!r}; choose from {sorted(EXAMPLES)}")
    return os.path.join(os.path.dirname(os.path.dirname(__file__)), "data", EXAMPLES[name])
