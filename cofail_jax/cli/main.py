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
    def error(self, message):  # one line, exit 2 (argparse's own convention)
        self.print_usage(sys.stderr)
        self.exit(2, f"{self.prog}: error: {message}\n")


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


def main(argv: list[str] | None = None) -> int:
    from .._src.errors import InputError

    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except InputError as e:
        print(f"cofail {args.command}: error: {e.format()}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # output piped into head & co.: stop quietly
        import os

        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0
    except KeyboardInterrupt:
        print(f"cofail {args.command}: interrupted; finished work is kept", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
