"""Run one underpricing sweep config through the library and draw its figures.

    .venv/bin/python experiments/underpricing.py configs/example.toml [--out FILE.h5]

A thin wrapper: :func:`cofail_jax.load_sweep_config`, :func:`cofail_jax.run_sweep`,
:func:`cofail_jax.write_sweep_figures` (the library never imports ``experiments/``).
Rerunning after an interruption resumes from ``FILE.h5.partial``.
"""

from __future__ import annotations

import argparse
import json
import sys


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("config")
    ap.add_argument("--out", default=None, help="results file (overrides the config's output)")
    ap.add_argument("--outdir", default=None, help="folder for the figures")
    args = ap.parse_args(argv)

    import cofail_jax

    try:
        cfg = cofail_jax.load_sweep_config(args.config, output=args.out)
    except cofail_jax.InputError as e:
        print(f"underpricing: error: {e.format()}", file=sys.stderr)
        return 2
    summary = cofail_jax.run_sweep(cfg)
    figs = cofail_jax.write_sweep_figures(cfg.output, args.outdir)
    full = summary["full"]
    print(json.dumps({"output": cfg.output, "beta_obs": full["beta_obs"], "ratio": full["ratio"],
                      "ratio_interval": full.get("ratio_interval"), "figures": figs}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
