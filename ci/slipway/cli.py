"""`slipway` console script: the entry the nox sessions call inside a project's environment.

Each subcommand lives in its own module exposing `add_command(subparsers)`, which adds a parser whose
`handler` default takes the parsed arguments and returns an exit code. Heavy imports (mlflow,
pandas) stay inside the handlers, so `slipway --help` is instant.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys

from slipway import __version__
from slipway.errors import SlipwayError
from slipway.redact import redact
from slipway.stores import store_failure

# Modules that add subcommands, in --help order.
COMMAND_MODULES: tuple[str, ...] = (
    "slipway.gates.evaluate",
    "slipway.gates.deploy",
    "slipway.gates.rollback",
    "slipway.gates.history",
    "slipway.serve.command",
    "slipway.monitor.command",
    "slipway.adopt",
    "slipway.remotes",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="slipway", description="Gates shared by slipway projects.")
    parser.add_argument("--version", action="version", version=f"slipway {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(name).add_command(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.getLogger("mlflow").setLevel(logging.WARNING)  # our tables say what its INFO lines would
    if args.command is None:
        parser.print_help()
        return 2
    try:
        return int(args.handler(args))
    except SlipwayError as exc:
        print(f"slipway {args.command}: {redact(str(exc))}", file=sys.stderr)  # e.g. a store's URI
        return 1
    except Exception as exc:  # only a tracking store slipway cannot use becomes a line; the rest is a bug
        line = store_failure(exc)
        if line is None:
            raise
        print(f"slipway {args.command}: {line}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
