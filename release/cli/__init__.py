"""The ``release`` command line: the only place that prints or exits.

Each command group lives in its own module under ``release.cli`` and exposes
``register(subparsers)``; handlers have the signature ``(args, out) -> int``.
Command modules keep heavy imports (sigstore, PyGithub, rich) inside their
handlers so read paths such as ``release status`` stay fast.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from release import __version__
from release.cli._output import Output
from release.errors import ReleaseError

# Order here is the order of `release --help`.
COMMAND_MODULES: tuple[str, ...] = (
    "release.cli.info",
    "release.cli.signing",
    "release.cli.channel",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="release",
        description="Signed, resumable edge and stable release channels.",
    )
    parser.add_argument("--version", action="version", version=f"release-channels {__version__}")
    parser.add_argument(
        "--repo", type=Path, default=Path("."), help="git repository to work on (default: .)"
    )
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more logging")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    _configure_logging(args.verbose)
    out = Output(json_mode=args.json)
    try:
        code: int = args.handler(args, out)
    except ReleaseError as err:
        out.error(err)
        return err.exit_code
    except KeyboardInterrupt:
        out.error(ReleaseError("interrupted"))
        return 130
    return code


def _configure_logging(verbosity: int) -> None:
    level = logging.WARNING if verbosity == 0 else logging.INFO if verbosity == 1 else logging.DEBUG
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    from release.logging import install_redaction

    install_redaction(handler)
    root = logging.getLogger("release")
    root.handlers[:] = [handler]
    root.setLevel(level)
    root.propagate = False
