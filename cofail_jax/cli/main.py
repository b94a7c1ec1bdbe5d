"""``cofail``: entry point. Each command is a module in ``cofail_jax.cli`` with
``add_parser(subparsers)`` that registers its arguments and sets ``func(args) -> int``.

Bad input (:class:`~cofail_jax.InputError`) prints one line on stderr and exits with
status 2, with no traceback.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys

# One OpenBLAS thread unless the user chose: jaxlib's CPU eigh/cholesky call LAPACK from
# scipy's OpenBLAS, whose own thread pool competes with XLA's (a 67 x 67 eigh took 30x
# longer with OpenBLAS's default threads on a loaded 2-core machine; benchmarks/RESULTS.md).
# Set before any command imports numpy or scipy, which read it once when they load.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

# Command name -> (module, one-line description). The table is static so that
# ``cofail --help`` and ``cofail --version`` import no command module (and no JAX), and
# ``cofail COMMAND ...`` imports only that command's module.
COMMANDS: dict[str, tuple[str, str]] = {
    "certify": ("cofail_jax.cli.certify",
                "beta, its interval, the ceiling and the certified gain bound"),
    "correlations": ("cofail_jax.cli.correlations",
                     "tetrachoric and Pearson correlations of the models' errors, with repair"),
    "price": ("cofail_jax.cli.price",
              "observed beta vs the beta that latent copulas predict (underpricing)"),
    "sweep": ("cofail_jax.cli.sweep",
              "underpricing sweep: beta_obs / beta_pred by pool size, with bootstrap"),
    "report": ("cofail_jax.cli.report", "figures of any results file (PNG, SVG, PDF)"),
    "simulate": ("cofail_jax.cli.simulate", "draw an outcome matrix from a law whose beta is known"),
    "counterexample": ("cofail_jax.cli.counterexample",
                       "two error laws with identical marginals and pairwise correlations but "
                       "different beta"),
    "identify": ("cofail_jax.cli.identify",
                 "observed beta vs the range [beta_min, beta_max] that pairwise statistics allow"),
    "vote": ("cofail_jax.cli.vote",
             "votes vs the single best and the ceiling, with bootstrap intervals"),
    "route": ("cofail_jax.cli.route",
              "learned or external router: realized fraction of G on held-out queries"),
    "cascade": ("cofail_jax.cli.cascade",
                "cost-ordered cascades: accuracy and cost per correct vs the single best"),
    "ensembles": ("cofail_jax.cli.ensembles",
                  "same-model vs mixed-model ensembles at matched quality (repeated samples)"),
    "formats": ("cofail_jax.cli.formats",
                "beta under two answer formats: common and full sets, exact tests"),
    "judges": ("cofail_jax.cli.judges",
               "judge panel: Fleiss' and Cohen's kappa, beta under each grading rule"),
    "audit": ("cofail_jax.cli.audit",
              "evidence that all-wrong events are grading artefacts; audit sheet"),
    "regrade": ("cofail_jax.cli.regrade",
                "re-check every cell's answer against the reference; list flips"),
    "convert": ("cofail_jax.cli.convert",
                "convert any supported input to CSV, JSONL, Parquet, HDF5 or EEE"),
    "export": ("cofail_jax.cli.export", "turn an HDF5 results file into tidy CSV tables"),
}


# What Ctrl-C (or SIGTERM) leaves behind, per command. Outputs are written atomically,
# so a command that is not listed has written nothing partial.
_NOTHING = "no output was written (outputs are written whole or not at all)"
INTERRUPTED: dict[str, str] = {
    "sweep": "finished chunks are kept in the partial results file; run the same command "
             "again to resume",
}


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # exactly one line, exit 2 (argparse's own status)
        message = " ".join(str(message).split())
        self.exit(2, f"{self.prog}: error: {message} (see '{self.prog} --help')\n")


def version() -> str:
    """The installed version, from the package metadata (imports nothing heavy)."""
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as _v

    try:
        return _v("cofail_jax")
    except PackageNotFoundError:  # a source tree that is not installed
        from .._src.version import __version__

        return __version__


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The ``cofail`` parser. ``only=None`` builds every command in full; ``only=NAME``
    imports only that command's module (the others are listed by their one-line
    description); ``only=""`` imports none (for ``cofail --help``)."""
    parser = _Parser(
        prog="cofail",
        description="How often do all your models fail together, and what does that cap? "
                    "Run 'cofail COMMAND --help' for each command.",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"cofail_jax {version()}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for name, (module, help_) in COMMANDS.items():
        if only is not None and name != only:
            sub.add_parser(name, help=help_, add_help=False)
            continue
        try:
            mod = importlib.import_module(module)
        except ModuleNotFoundError as e:
            if e.name == module:
                continue
            raise
        mod.add_parser(sub)
    return parser


def _command_of(argv: list[str]) -> str:
    """The command named on the command line ("" when none or unknown)."""
    for tok in argv:
        if tok == "--":
            break
        if not tok.startswith("-"):
            return tok if tok in COMMANDS else ""
    return ""


def _check_outputs(args) -> str | None:
    """A message when an output named on the command line is also an input."""
    from .._src.h5 import _same_file
    from .common import run_paths

    ins, outs = run_paths(args)
    for oopt, out in outs:
        for iopt, inp in ins:
            if _same_file(out, inp):
                name = iopt.lstrip("-").upper() if iopt == "--file" else iopt
                return (f"{oopt}: {out} is also the input {name} of this run; refusing to "
                        "overwrite it (choose another output file)")
    return None


class _Terminated(KeyboardInterrupt):
    """SIGTERM, unwound like Ctrl-C so temporary files are removed."""


def _on_sigterm(signum, frame):
    raise _Terminated


def main(argv: list[str] | None = None) -> int:
    import signal
    import threading

    parser = build_parser(only=_command_of(sys.argv[1:] if argv is None else list(argv)))
    try:
        args = parser.parse_args(argv)
    except SystemExit as e:  # a bad option: its one-line message is out; return the status
        if e.code in (0, None):  # --help, --version
            raise
        return e.code if isinstance(e.code, int) else 2
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    from .._src.errors import InputError
    from .._src.h5 import set_run_context
    from .common import error_message, run_paths

    clash = _check_outputs(args)
    if clash:
        print(f"cofail {args.command}: error: {clash}", file=sys.stderr)
        return 2
    set_run_context([p for _, p in run_paths(args)[0]],
                    report=lambda msg: print(msg, file=sys.stderr))
    for dest, v in vars(args).items():  # the tags did their work: plain str from here on
        if isinstance(v, str) and type(v) is not str:
            setattr(args, dest, str(v))
    old_term = None
    if threading.current_thread() is threading.main_thread():
        old_term = signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        return int(args.func(args) or 0)
    except InputError as e:
        print(f"cofail {args.command}: error: {error_message(e)}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # output piped into head & co.: stop quietly
        import os

        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0
    except KeyboardInterrupt as e:
        print(f"cofail {args.command}: interrupted; {INTERRUPTED.get(args.command, _NOTHING)}",
              file=sys.stderr)
        return 143 if isinstance(e, _Terminated) else 130
    except OSError as e:  # a file the run could not read or write: one line, not a traceback
        where = f"{e.filename}: " if getattr(e, "filename", None) else ""
        print(f"cofail {args.command}: error: {where}{e.strerror or e} "
              "(check the path, free space and permissions)", file=sys.stderr)
        return 2
    finally:
        set_run_context()
        if old_term is not None:
            signal.signal(signal.SIGTERM, old_term)


if __name__ == "__main__":
    sys.exit(main())
