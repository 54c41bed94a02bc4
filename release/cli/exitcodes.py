"""The one exit-code table of every ``release`` command (also in the README).

=====  ==========================================================================
code   meaning
=====  ==========================================================================
0      ok
1      failed: verification failed, an attack was refused, or an operation failed
       (build, git, signing, publishing, a file could not be written)
2      usage or configuration error (bad arguments, bad config, bad version)
3      unknown / could not decide (network, a missing trusted root, a fetch failed)
4      a precondition is not met (dirty tree, tag exists, EOL line, a run in progress,
       a corrupt journal set aside)
70     a bug in release-channels (a traceback is shown; please report it)
130    interrupted (Ctrl-C); 143: terminated (SIGTERM). Same guarantees as a failure.
=====  ==========================================================================
"""

from __future__ import annotations

from release.errors import (
    ConfigError,
    InvalidVersion,
    JournalError,
    PreflightError,
    ReleaseError,
    UsageError,
    VerificationError,
)

OK = 0
FAILED = 1
USAGE = 2
UNKNOWN = 3
PRECONDITION = 4
BUG = 70
INTERRUPTED = 130
TERMINATED = 143

# Most specific class first; the first match in an error's MRO wins.
_TABLE: dict[type[ReleaseError], int] = {
    UsageError: USAGE,
    ConfigError: USAGE,
    InvalidVersion: USAGE,
    VerificationError: FAILED,
    PreflightError: PRECONDITION,
    JournalError: PRECONDITION,
}


def exit_code(err: ReleaseError) -> int:
    """The exit code of ``err``: walking its classes, most specific first, the first that
    is in the table above or sets its own ``exit_code`` decides."""
    for cls in type(err).__mro__:
        if cls in _TABLE:
            return _TABLE[cls]
        if "exit_code" in vars(cls):
            return int(vars(cls)["exit_code"])
    return FAILED
