"""Figures of every kind of results file, one module per kind behind one contract.

A results file says what wrote it in its root attribute ``kind`` (files written before
the attribute existed are recognised by their groups). Each kind is a :class:`Figures`
entry of :data:`FIGURES`: ``draw(tree)`` takes the file read as a nested dict
(:func:`cofail_jax._src.h5.read_tree`) and returns ``[(name, matplotlib Figure), ...]``;
:func:`write_report` saves each figure in every requested format (PNG, SVG, PDF),
atomically, and returns the paths. Sweep files are drawn by
:func:`cofail_jax._src.report.write_figures`.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

from ..errors import InputError
from ..h5 import guard_h5_read

FORMATS = ("png", "svg", "pdf")


class Figures(NamedTuple):
    """The figures of one kind of results file.

    Attributes:
      kind: the file's ``kind`` attribute (``certificate``, ``vote``, ...).
      names: the figure names it draws (file stems), for the documentation.
      draw: ``draw(tree) -> [(name, Figure)]``, ``tree`` the whole file as a dict.
    """

    kind: str
    names: tuple[str, ...]
    draw: Callable[[dict[str, Any]], list[tuple[str, Any]]]


def _registry() -> dict[str, Figures]:
    from . import audit, certificate, correlations, formats, identify, judges, policies, price

    entries = (certificate.FIGURES, correlations.FIGURES, identify.FIGURES,
               identify.COUNTEREXAMPLE, price.FIGURES, *policies.FIGURES, audit.FIGURES,
               judges.FIGURES, formats.FIGURES)
    return {f.kind: f for f in entries}


# kind -> group that only that kind writes (files without a ``kind`` attribute)
_GROUPS = (("certificate", "certificate"), ("correlations", "correlations"),
           ("identify", "identify"), ("sweep", "sweep"), ("price", "observed"),
           ("route", "cost_frontier"), ("cascade", "cascades"), ("vote", "reference"),
           ("counterexample", "law_max"), ("matrix", "matrix"), ("audit", "sensitivity"),
           ("judges", "agreement"), ("formats", "common"))


@guard_h5_read("report reads files written with --out")
def read_results(path: str) -> tuple[str, dict[str, Any]]:
    """``(kind, tree)`` of a results file."""
    import h5py

    from ..h5 import read_tree

    if not os.path.isfile(path):
        raise InputError("results file not found", source=path,
                         hint="give a file written with --out (or by 'cofail sweep')")
    try:
        f = h5py.File(path, "r")
    except OSError:
        raise InputError("is not an HDF5 results file", source=path,
                         hint="give a file written with --out (or by 'cofail sweep')") from None
    with f:
        kind = f.attrs.get("kind")
        kind = kind.decode() if isinstance(kind, bytes) else kind
        if kind is None:
            kind = next((k for k, g in _GROUPS if g in f), None)
        if kind is None and "same" in f and "mixed" in f:
            kind = "ensembles"
        if kind == "sweep":
            return kind, {}
        return kind or "unknown", read_tree(f)


def parse_formats(spec: str) -> tuple[str, ...]:
    """``"png,svg"`` -> ``("png", "svg")``; an unknown format is an :class:`InputError`."""
    out = tuple(dict.fromkeys(s.strip().lower() for s in spec.split(",") if s.strip()))
    bad = [s for s in out if s not in FORMATS]
    if bad or not out:
        raise InputError(f"unknown figure format {', '.join(bad) or repr(spec)}", where="--format",
                         hint=f"use a comma-separated list of {', '.join(FORMATS)}")
    return out


def write_report(path: str, outdir: str | None = None,
                 formats: Sequence[str] = ("png",)) -> list[str]:
    """Draw every figure of the results file ``path`` into ``outdir`` (default:
    ``<path without .h5>_figures``) in each of ``formats``; returns the paths written."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from ..h5 import atomic_output

    kind, tree = read_results(path)
    if kind == "sweep":
        from ..report import write_figures

        return write_figures(path, outdir, formats)
    registry = _registry()
    if kind not in registry:
        raise InputError(f"has no figures yet (a '{kind}' results file)", source=path,
                         hint="report draws " + ", ".join(sorted([*registry, "sweep"]))
                         + " files")
    outdir = outdir or os.path.splitext(path)[0] + "_figures"
    os.makedirs(outdir, exist_ok=True)
    written = []
    with plt.rc_context({"svg.fonttype": "none", "pdf.fonttype": 42, "font.size": 9}):
        for name, fig in registry[kind].draw(tree):
            try:
                for fmt in formats:
                    out = os.path.join(outdir, f"{name}.{fmt}")
                    with atomic_output(out, suffix="." + fmt) as tmp:
                        fig.savefig(tmp, dpi=150, format=fmt)
                    written.append(out)
            finally:
                plt.close(fig)
    return written
