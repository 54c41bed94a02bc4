"""``python -m release`` and the ``release`` script: the CLI, Ctrl-C safe from the start."""

import sys


def run() -> int:
    """Import and run the CLI; a Ctrl-C even while importing exits 130, no traceback."""
    try:
        from release.cli import main

        return main()
    except KeyboardInterrupt:
        sys.stderr.write("error: interrupted\n")
        return 130


if __name__ == "__main__":
    raise SystemExit(run())
