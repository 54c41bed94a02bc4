"""The one error tree of release-channels.

Every error carries a one-line ``message`` and an optional ``hint`` (what to do
about it). Library code raises these; only :mod:`release.cli` prints them, and maps
the families to exit codes once (:mod:`release.cli.exitcodes`), so scripts can tell a
user mistake from a failed verification.
"""

from __future__ import annotations

import errno
import os
from collections.abc import Iterable
from pathlib import Path


class ReleaseError(Exception):
    """Base class. ``str(err)`` is the one-line message."""

    # The exit code of a family comes from the table in release.cli.exitcodes; a class
    # sets this only to differ from its family (e.g. a fetch error: "could not decide").
    exit_code: int = 1

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message


class UsageError(ReleaseError):
    """Bad command-line input (a date, a line, a range)."""


class ConfigError(ReleaseError):
    """``[tool.release]`` or ``channels/*.toml`` is missing, malformed or inconsistent."""


class InvalidVersion(ReleaseError, ValueError):
    """A string is not a version of the expected form."""


class GitError(ReleaseError):
    """The git CLI failed, or the repository is not usable (not a repo, shallow, …)."""


class PreflightError(ReleaseError):
    """One or more preconditions of a release are not met. Carries every problem."""

    def __init__(self, problems: Iterable[str], *, hint: str | None = None) -> None:
        self.problems = tuple(problems)
        n = len(self.problems)
        head = (
            self.problems[0] if n == 1 else f"{n} preflight problems: " + "; ".join(self.problems)
        )
        super().__init__(head, hint=hint)


class BuildError(ReleaseError):
    """A build command failed or produced unexpected artifacts."""


class SigningError(ReleaseError):
    """Signing failed, or no identity is available for the chosen signing mode."""


class VerificationError(ReleaseError):
    """A signature, digest, identity or document did not verify."""


class JournalError(ReleaseError):
    """The release journal does not match the inputs of this run (refuse to resume)."""


class ChannelError(ReleaseError):
    """A channel store or channel document is invalid, or a publish was refused."""


class GitHubError(ReleaseError):
    """The GitHub API failed or refused an operation."""


class TrustError(VerificationError):
    """Channel metadata or a file failed TUF verification: an attack or a broken store
    was refused. The message names the file and the role it concerns."""

    exit_code = 1


class UndecidedError(ReleaseError):
    """The answer is unknown: the store could not be reached, or no root of trust is
    available to verify it."""

    exit_code = 3


class ChannelNotPublished(UndecidedError):
    """A channel the root/targets declare has published nothing yet: there is no answer
    to give about it (exit 3, like a file that is not found). Not a refusal: a channel
    that did publish and then vanished from the snapshot is a :class:`TrustError`."""

    def __init__(self, channel: str, message: str, *, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.channel = channel


class StateError(ConfigError):
    """The client state (a file under the state directory) is corrupt or unwritable.
    The message names the file."""


class StorageError(ReleaseError):
    """A file could not be read or written (disk full, permissions, read-only, …)."""

    def __init__(self, message: str, *, hint: str | None = None, errno_: int | None = None):
        super().__init__(message, hint=hint)
        self.errno = errno_


_OS_HINTS: dict[int, str] = {
    errno.ENOSPC: "the disk is full: free space there (or choose another directory) and run "
    "again; a release resumes where it stopped",
    errno.EDQUOT: "the disk quota is exhausted: free space there and run again",
    errno.EACCES: "this user may not write there: fix the permissions or choose another directory",
    errno.EPERM: "the operation is not permitted there: fix the permissions or choose "
    "another directory",
    errno.EROFS: "that filesystem is read-only: choose a writable directory",
    errno.EISDIR: "a directory is in the way where a file is expected: choose another path",
    errno.ENOTDIR: "a file is in the way where a directory is expected: choose another path",
    errno.ENOENT: "check the path",
    errno.EEXIST: "something already exists there: choose another path",
    errno.ENAMETOOLONG: "choose a shorter path",
    errno.EIO: "the device reported an I/O error: check the disk",
    errno.EMFILE: "too many open files: raise the limit (ulimit -n)",
}


def os_error(
    exc: OSError, *, action: str = "access", path: str | Path | None = None
) -> StorageError:
    """``exc`` as a :class:`StorageError` naming the path and what to do about it."""
    where = path if path is not None else exc.filename
    if where is not None and not isinstance(where, str | Path):
        where = os.fsdecode(where)
    reason = exc.strerror or str(exc) or type(exc).__name__
    message = f"cannot {action} {where}: {reason}" if where else f"cannot {action}: {reason}"
    code = exc.errno
    hint = _OS_HINTS.get(code) if code is not None else None
    return StorageError(message, hint=hint or "check the path and run again", errno_=code)
