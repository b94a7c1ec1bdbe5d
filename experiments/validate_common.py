"""Shared plumbing of the validation studies: config, output paths, provenance, figures."""

from __future__ import annotations

import argparse
import os
import sys
import tomllib

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)


def parse(name: str, doc: str) -> tuple[dict, argparse.Namespace]:
    """Read ``configs/validate_<name>.toml`` (or --config), apply ``[quick]`` with --quick."""
    p = argparse.ArgumentParser(description=doc)
    p.add_argument("--config", default=os.path.join(ROOT, "configs", f"validate_{name}.toml"))
    p.add_argument("--quick", action="store_true", help="small run (overrides from [quick])")
    p.add_argument("--out", default=None, help="HDF5 results (default results/validate_<name>.h5)")
    p.add_argument(
        "--figure", default=None, help=f"PNG figure (default docs/figures/validate_{name}.png)"
    )
    args = p.parse_args()
    with open(args.config, "rb") as f:
        cfg = tomllib.load(f)
    quick = cfg.pop("quick", {})
    if args.quick:
        cfg.update(quick)
    args.out = args.out or os.path.join(ROOT, "results", f"validate_{name}.h5")
    args.figure = args.figure or os.path.join(ROOT, "docs", "figures", f"validate_{name}.png")
    return cfg, args


def save(
    args, name: str, cfg: dict, tree: dict, *, dims=None, coords=None, method: str = "", fig=None
) -> None:
    """Write the HDF5 results (with provenance) and the figure, atomically."""
    import cofail_jax  # noqa: F401  (x64)
    from cofail_jax._src.h5 import atomic_output, provenance, write_results

    prov = provenance(
        command=" ".join(sys.argv),
        config=cfg,
        seed=cfg.get("seed"),
        method=method,
        extra={"study": f"validate_{name}"},
    )
    write_results(args.out, tree, attrs=prov, dims=dims or {}, coords=coords or {})
    if fig is not None:
        with atomic_output(args.figure, suffix=".png") as tmp:
            fig.savefig(tmp, dpi=110)
    print(f"wrote {args.out}" + (f" and {args.figure}" if fig is not None else ""))


def fitted_prices(err, sizes):
    """The pricing core's fitted one-factor price of the first m columns, m in ``sizes``
    (one compiled, vmapped call; the library's one code path)."""
    import jax
    import jax.numpy as jnp
    import numpy as np

    from cofail_jax._src import copulas as C
    from cofail_jax._src import pricing as P

    err = jnp.asarray(err, bool)
    n, k = err.shape
    w = jnp.ones((n,))
    cops = (C.get("fitted_loading"),)
    masks = jnp.asarray(np.arange(k)[None, :] < np.asarray(sizes)[:, None])

    @jax.jit
    def run(err, w, masks):
        stats = P.pool_stats(err, w)
        price = lambda m: P.price_pool(jax.random.key(0), stats, err, w, m, cops).beta_pred[0]
        return jax.vmap(price)(masks)

    return np.asarray(run(err, w, masks))
