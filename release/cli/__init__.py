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
import os
import signal
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from release.cli._output import Output
from release.errors import ReleaseError

# Order here is the order of `release --help`; each module and the commands it adds.
COMMAND_MODULES: tuple[str, ...] = (
    "release.cli.info",
    "release.cli.releasing",
    "release.cli.builds",
    "release.cli.signing",
    "release.cli.channel",
    "release.cli.setup",
    "release.cli.doctor",
    "release.cli.trust",
)
COMMANDS: dict[str, str] = {
    "status": "release.cli.info",
    "next": "release.cli.info",
    "changelog": "release.cli.info",
    "edge": "release.cli.releasing",
    "stable": "release.cli.releasing",
    "build": "release.cli.builds",
    "assemble": "release.cli.builds",
    "sign": "release.cli.signing",
    "verify": "release.cli.signing",
    "channel": "release.cli.channel",
    "config": "release.cli.setup",
    "init": "release.cli.setup",
    "doctor": "release.cli.doctor",
    "trust": "release.cli.trust",
}


class _VersionAction(argparse.Action):
    """``--version``, reading the installed version only when asked (it is slow to import)."""

    def __init__(self, option_strings: Sequence[str], dest: str = argparse.SUPPRESS) -> None:
        super().__init__(
            option_strings, dest=dest, default=argparse.SUPPRESS, nargs=0, help="show the version"
        )

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: object,
        option_string: str | None = None,
    ) -> None:
        from release import __version__

        print(f"release-channels {__version__}")
        parser.exit()


def _command_of(argv: Sequence[str]) -> str | None:
    """The command word of ``argv`` (skipping global options and their values)."""
    skip = False
    for word in argv:
        if skip:
            skip = False
        elif word == "--repo":
            skip = True
        elif not word.startswith("-"):
            return word
    return None


def build_parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The parser; given ``argv`` naming a known command, only that command's module is
    imported (a read command does not pay for the import of every other one)."""
    _cache_argparse_messages()
    parser = argparse.ArgumentParser(
        prog="release",
        description="Signed, resumable edge and stable release channels.",
    )
    parser.add_argument("--version", action=_VersionAction)
    parser.add_argument(
        "--repo", type=Path, default=Path("."), help="git repository to work on (default: .)"
    )
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more logging")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    command = _command_of(argv) if argv is not None else None
    modules = (COMMANDS[command],) if command in COMMANDS else COMMAND_MODULES
    for name in modules:
        importlib.import_module(name).register(sub)
    _accept_globals_anywhere(parser)
    return parser


def _cache_argparse_messages() -> None:
    """argparse translates its messages through ``gettext`` (50 to 130 lookups per
    parser), and every lookup searches the locale directories again: about 4 ms of
    every start-up. The same answers, looked up once per process."""
    import functools
    import gettext

    module = vars(argparse)
    if module.get("_") is gettext.gettext:
        module["_"] = functools.cache(gettext.gettext)


def _accept_globals_anywhere(parser: argparse.ArgumentParser) -> None:
    """Let ``--json``, ``--repo`` and ``-v`` also follow the (sub)command name.

    ``release status --json`` is what people type; the sub-parser copies default to
    SUPPRESS so a value given before the command is not reset.
    """
    for action in parser._actions:
        if not isinstance(action, argparse._SubParsersAction):
            continue
        for child in set(action.choices.values()):
            taken = {opt for a in child._actions for opt in a.option_strings}
            if "--json" not in taken:
                child.add_argument(
                    "--json",
                    action="store_true",
                    default=argparse.SUPPRESS,
                    help="machine-readable output",
                )
            if "--repo" not in taken:
                child.add_argument(
                    "--repo",
                    type=Path,
                    default=argparse.SUPPRESS,
                    help="git repository to work on (default: .)",
                )
            if "-v" not in taken and "--verbose" not in taken:
                child.add_argument(
                    "-v",
                    "--verbose",
                    action="count",
                    default=argparse.SUPPRESS,
                    help="more logging",
                )
            _accept_globals_anywhere(child)


class Terminated(BaseException):
    """SIGTERM, raised in the main thread so every ``finally`` (worktrees, temp dirs,
    the undo of a failed run) runs, as for Ctrl-C."""


def _on_sigterm(signum: int, frame: object) -> None:
    raise Terminated


def main(argv: Sequence[str] | None = None) -> int:
    """The ``release`` command. Never lets a traceback out except for a bug of ours
    (exit 70, with a line saying so); exit codes: :mod:`release.cli.exitcodes`."""
    from release.cli import exitcodes

    for stream in (sys.stdout, sys.stderr):
        # Paths that are not UTF-8 print as their bytes, never as an encoding traceback.
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None and getattr(stream, "errors", None) == "strict":
            reconfigure(errors="surrogateescape")
    out = Output(json_mode=False)
    previous = _install_sigterm()
    try:
        from release.faults import point as fault_point

        fault_point("startup")
        argv = list(sys.argv[1:] if argv is None else argv)
        out.json_mode = "--json" in argv
        parser = build_parser(argv)
        args = parser.parse_args(argv)
        _configure_logging(args.verbose)
        out.json_mode = args.json
        code: int = args.handler(args, out)
        return code
    except ReleaseError as err:
        out.error(err)
        return exitcodes.exit_code(err)
    except OSError as exc:
        if isinstance(exc, BrokenPipeError):
            # `release … | head`: the reader left; not an error worth a traceback.
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            return 0
        from release.errors import os_error

        out.error(os_error(exc))
        return exitcodes.FAILED
    except KeyboardInterrupt:
        out.error(ReleaseError("interrupted", hint=_INTERRUPTED_HINT))
        return exitcodes.INTERRUPTED
    except Terminated:
        out.error(ReleaseError("terminated (SIGTERM)", hint=_INTERRUPTED_HINT))
        return exitcodes.TERMINATED
    except SystemExit:
        raise
    except Exception:
        import traceback

        traceback.print_exc()
        sys.stderr.write(
            "error: this is a bug in release-channels (the traceback above); please report it\n"
            "hint: a release run resumes where it stopped once fixed (docs/failures.md)\n"
        )
        return exitcodes.BUG
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


_INTERRUPTED_HINT = (
    "a release run stopped before its tag changed nothing; after it, run the same "
    "command again to resume (docs/failures.md#interrupted)"
)


def _install_sigterm() -> Any:
    if threading.current_thread() is not threading.main_thread():
        return None
    return signal.signal(signal.SIGTERM, _on_sigterm)


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
