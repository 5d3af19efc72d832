"""`slipway` console script: the entry the nox sessions call inside a project's environment."""

from __future__ import annotations

import argparse
import sys

from slipway import __version__


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="slipway", description=__doc__)
    parser.add_argument("--version", action="version", version=f"slipway {__version__}")
    return parser


def main(argv: list[str] | None = None) -> int:
    build_parser().parse_args(argv)
    return 0


if __name__ == "__main__":
    sys.exit(main())
