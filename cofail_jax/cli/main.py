"""``cofail``: entry point. Each command is a module in ``cofail_jax.cli`` with
``add_parser(subparsers)`` that registers its arguments and sets ``func(args) -> int``.

Bad input (:class:`~cofail_jax.InputError`) prints one line on stderr and exits with
status 2, with no traceback.
"""

from __future__ import annotations

import argparse
import importlib
import sys

# Command name -> module. Modules that are not present yet are skipped.
COMMANDS = {
    "certify": "cofail_jax.cli.certify",
    "correlations": "cofail_jax.cli.correlations",
    "price": "cofail_jax.cli.price",
    "sweep": "cofail_jax.cli.sweep",
    "report": "cofail_jax.cli.report",
    "simulate": "cofail_jax.cli.simulate",
    "counterexample": "cofail_jax.cli.counterexample",
    "identify": "cofail_jax.cli.identify",
    "vote": "cofail_jax.cli.vote",
    "route": "cofail_jax.cli.route",
    "cascade": "cofail_jax.cli.cascade",
    "ensembles": "cofail_jax.cli.ensembles",
    "formats": "cofail_jax.cli.formats",
    "judges": "cofail_jax.cli.judges",
    "audit": "cofail_jax.cli.audit",
    "regrade": "cofail_jax.cli.regrade",
    "convert": "cofail_jax.cli.convert",
    "export": "cofail_jax.cli.export",
}


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # exactly one line, exit 2 (argparse's own status)
        message = " ".join(str(message).split())
        self.exit(2, f"{self.prog}: error: {message} (see '{self.prog} --help')\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="cofail",
        description="How often do all your models fail together, and what does that cap? "
                    "Run 'cofail COMMAND --help' for each command.",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    from .. import __version__

    parser.add_argument("--version", action="version", version=f"cofail_jax {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for name, module in COMMANDS.items():
        try:
            mod = importlib.import_module(module)
        except ModuleNotFoundError as e:
            if e.name == module:
                continue
            raise
        mod.add_parser(sub)
    return parser


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

    from .._src.errors import InputError
    from .._src.h5 import set_run_context
    from .common import error_message, run_paths

    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as e:  # a bad option: its one-line message is out; return the status
        if e.code in (0, None):  # --help, --version
            raise
        return e.code if isinstance(e.code, int) else 2
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
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
        print(f"cofail {args.command}: interrupted; finished work is kept", file=sys.stderr)
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
