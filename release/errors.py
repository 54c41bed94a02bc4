"""The one error tree of release-channels.

Every error carries a one-line ``message`` and an optional ``hint`` (what to do
about it). Library code raises these; only :mod:`release.cli` prints them. Exit
codes group the families so scripts can tell a user mistake from a failed
verification.
"""

from __future__ import annotations

from collections.abc import Iterable


class ReleaseError(Exception):
    """Base class. ``str(err)`` is the one-line message."""

    exit_code: int = 1

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message


class UsageError(ReleaseError):
    """Bad command-line input (a date, a line, a range)."""

    exit_code = 2


class ConfigError(ReleaseError):
    """``[tool.release]`` or ``channels/*.toml`` is missing, malformed or inconsistent."""

    exit_code = 2


class InvalidVersion(ReleaseError, ValueError):
    """A string is not a version of the expected form."""

    exit_code = 2


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

    exit_code = 3


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


class StateError(ConfigError):
    """The client state (a file under the state directory) is corrupt or unwritable.
    The message names the file."""
