"""Arguments and checks shared by the policy commands (vote, route, cascade, ensembles,
formats, judges). Not a command itself."""

from __future__ import annotations

import numpy as np

from .._src.errors import InputError
from .common import add_output_args, add_seed_arg, count, finish, input_path, open_probability


def add_eval_args(p, *, split: bool = True) -> None:
    """--seed, --test-fraction, --n-boot, --level, --json, --out."""
    add_seed_arg(p, "PRNG seed (split and bootstrap)")
    if split:
        p.add_argument(
            "--test-fraction",
            type=open_probability,
            default=0.5,
            help="share of queries held out for scoring (the rest choose the single "
            "best and fit weights)",
        )
    p.add_argument("--n-boot", type=count(2, 10**6), default=1000,
                   help="query-bootstrap replicates")
    p.add_argument("--level", type=open_probability, default=0.95,
                   help="bootstrap interval coverage")
    add_output_args(p)


def add_alpha_args(p) -> None:
    """--alpha (intervals at level 1 - alpha), --json, --out."""
    p.add_argument("--alpha", type=open_probability, default=0.05,
                   help="intervals at level 1 - alpha")
    add_output_args(p)


def check_alpha(args) -> None:
    if not 0 < args.alpha < 1:
        raise InputError(
            f"must lie strictly between 0 and 1, got {args.alpha}", where="--alpha", hint="use 0.05"
        )


def check_eval_args(args) -> None:
    if getattr(args, "test_fraction", None) is not None and not 0 < args.test_fraction < 1:
        raise InputError(
            f"must lie strictly between 0 and 1, got {args.test_fraction}",
            where="--test-fraction",
            hint="for a half split use 0.5",
        )
    if args.n_boot < 2:
        raise InputError(
            f"must be at least 2, got {args.n_boot}",
            where="--n-boot",
            hint="use 1000 or more for reported intervals",
        )
    if not 0 < args.level < 1:
        raise InputError(
            f"must lie strictly between 0 and 1, got {args.level}",
            where="--level",
            hint="for 95 percent intervals use 0.95",
        )


def config(args) -> dict:
    return {k: v for k, v in vars(args).items() if k != "func"}


def finish_tree(args, command: str, tree: dict, method: str, render, *, inputs=None,
                extra: dict | None = None, seed: bool = True,
                numbers_as_variables: bool = True) -> int:
    """A policy command's last step, from its one result tree (see
    ``_src/policies/tree.py``): provenance, the HDF5 file with --out, then the JSON
    document with --json or the text ``render(plain_tree)`` returns."""
    from .._src.h5 import provenance, write_results
    from .._src.policies.tree import h5_layout, plain

    boot = {"n_boot": args.n_boot, "level": args.level} if hasattr(args, "n_boot") else {}
    prov = provenance(
        input_path=inputs or input_path(args),
        **({"seed": args.seed} if seed else {}),
        config=config(args),
        method=method,
        **({"extra": boot | (extra or {})} if boot or extra else {}),
    )
    if args.out:
        h5_tree, dims, coords = h5_layout(tree, numbers_as_variables=numbers_as_variables)
        write_results(args.out, h5_tree, attrs={**prov, "kind": command}, dims=dims,
                      coords=coords)
    result = plain(tree)
    return finish(args, command, result, prov, lambda: render(result))


def parse_costs(spec: str | None, m) -> np.ndarray | None:
    """Costs from --costs 'model=value,...' (every model), else the matrix's own cost
    (cell_meta['cost'] per query, model_meta['cost'] per model), else None."""
    if spec:
        vals = {}
        for part in spec.split(","):
            if not part.strip():
                continue
            if "=" not in part:
                raise InputError(
                    f"{part!r} is not model=value",
                    where="--costs",
                    hint="write --costs small=0.1,large=2.0",
                )
            name, v = part.split("=", 1)
            try:
                vals[name.strip()] = float(v)
            except ValueError:
                raise InputError(
                    f"cost {v!r} of {name.strip()!r} is not a number",
                    where="--costs",
                    hint="write --costs small=0.1,large=2.0",
                ) from None
        unknown = [n for n in vals if n not in m.models]
        if unknown:
            raise InputError(
                f"unknown model {unknown[0]!r}",
                source=m.source,
                where="--costs",
                hint=f"choose from: {', '.join(m.models[:10])}",
            )
        missing = [n for n in m.models if n not in vals]
        if missing:
            raise InputError(
                f"no cost for model {missing[0]!r} ({len(missing)} missing)",
                where="--costs",
                hint="give every analysed model a cost, or use --models",
            )
        c = np.asarray([vals[n] for n in m.models], np.float64)
        if (c < 0).any() or not np.isfinite(c).all():
            raise InputError(
                "costs must be finite and non-negative",
                where="--costs",
                hint="write --costs small=0.1,large=2.0",
            )
        return c
    if "cost" in m.cell_meta:
        c = np.asarray(m.cell_meta["cost"], np.float64)
        bad = np.isnan(c).all(axis=0)
        if bad.any():
            raise InputError(
                f"model {m.models[int(np.argmax(bad))]!r} has no cost values",
                source=m.source,
                where="column 'cost'",
                hint="fill in its cost column, or pass --costs",
            )
        if (c[~np.isnan(c)] < 0).any():
            raise InputError(
                "negative cost",
                source=m.source,
                where="column 'cost'",
                hint="costs must be non-negative",
            )
        return c
    if "cost" in m.model_meta:
        return np.asarray(m.model_meta["cost"], np.float64)
    return None


def get_answers(m):
    return m.cell_meta.get("answer") if "answer" in m.cell_meta else None


def ci(lo, hi, digits: int = 4) -> str:
    return f"[{z(lo, digits):.{digits}f}, {z(hi, digits):.{digits}f}]"


def z(x, digits: int = 4) -> float:
    """x rounded, with -0.0 turned into 0.0 (so tables never print "-0.0000")."""
    x = float(x)
    return round(x, digits) + 0.0 if np.isfinite(x) else x


def gain_row(name: str, boot: dict, label: str = "") -> tuple:
    """Table row: name, accuracy [ci], gain [ci], realized fraction of G [ci], label."""
    a, g, f = (
        {k: z(v, 6) for k, v in boot[name].items()}
        for name in ("policy_accuracy", "gain", "realized_fraction")
    )
    frac = (
        "n/a (G = 0)"
        if not np.isfinite(f["estimate"])
        else f"{f['estimate']:+.3f} {ci(f['lower'], f['upper'], 3)}"
    )
    return (
        name,
        f"{a['estimate']:.4f} {ci(a['lower'], a['upper'])}",
        f"{g['estimate']:+.4f} {ci(g['lower'], g['upper'])}",
        frac,
        label,
    )


GAIN_HEADER = (
    "policy",
    "accuracy [CI]",
    "gain over single best [CI]",
    "fraction of G [CI]",
    "notes",
)
