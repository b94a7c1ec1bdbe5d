"""List functions longer than N lines under the given paths (ast-based).

    python scripts/long_functions.py [-n 80] [PATH ...]   # default: cofail_jax

A function's length runs from its ``def`` (decorators excluded) to its last line. A
function whose docstring holds a line starting with "Long:" (the one-line reason) is
marked, and ``--strict`` exits 1 when an unmarked one is over the limit.
"""

from __future__ import annotations

import argparse
import ast
import pathlib
import sys


def long_functions(root: pathlib.Path, limit: int):
    files = [root] if root.is_file() else sorted(root.rglob("*.py"))
    for path in files:
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                n = node.end_lineno - node.lineno + 1
                if n > limit:
                    doc = ast.get_docstring(node) or ""
                    reason = any(line.strip().startswith("Long:") for line in doc.splitlines())
                    yield path, node.lineno, node.name, n, reason


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("paths", nargs="*", default=["cofail_jax"])
    p.add_argument("-n", type=int, default=80, help="line limit")
    p.add_argument("--strict", action="store_true", help="exit 1 on an unexplained one")
    a = p.parse_args(argv)
    bad = 0
    for root in a.paths:
        for path, line, name, n, reason in long_functions(pathlib.Path(root), a.n):
            print(f"{n:4d}  {path}:{line}  {name}{'  (reason given)' if reason else ''}")
            bad += not reason
    return 1 if a.strict and bad else 0


if __name__ == "__main__":
    sys.exit(main())
