"""Crash-testing hooks (the fault-injection tests of ``docs/failures.md``).

``RELEASE_CHANNELS_FAULT`` is a comma-separated list of ``ACTION:POINT``: at the named
point the process sends itself a signal: ``kill-after`` / ``kill-at`` SIGKILL,
``term-at`` SIGTERM, ``int-at`` SIGINT (Ctrl-C). Points: every pipeline step name
(right after it is journaled), ``finish`` (done, before its record), ``pick`` (inside
the pick worktree, after a cherry-pick), ``push-sent`` (pushed, not yet journaled),
``publish-files`` (release files placed, channel not yet updated), ``publish-index``
(index swapped, page not yet written), ``startup`` (before the command is parsed).

``RELEASE_CHANNELS_FAULT_FS=ERRNO:PREFIX`` makes every file write of
:mod:`release.files` under ``PREFIX`` fail with ``ERRNO`` (e.g. ``ENOSPC``), for
machines where the tests cannot mount a small tmpfs.
Unset (always, outside tests) these cost one environment lookup.
"""

from __future__ import annotations

import errno
import os
import signal

ENV = "RELEASE_CHANNELS_FAULT"
FS_ENV = "RELEASE_CHANNELS_FAULT_FS"
_SIGNALS = {
    "kill-after": signal.SIGKILL,
    "kill-at": signal.SIGKILL,
    "term-at": signal.SIGTERM,
    "int-at": signal.SIGINT,
}


def point(name: str) -> None:
    """Signal ourselves if a fault is requested at ``name``."""
    spec = os.environ.get(ENV)
    if not spec:
        return
    for item in spec.split(","):
        action, _, where = item.partition(":")
        if where == name and action in _SIGNALS:
            os.kill(os.getpid(), _SIGNALS[action])


def check_write(path: os.PathLike[str] | str) -> None:
    """Raise the injected ``OSError`` for a write to ``path``, if one is requested."""
    spec = os.environ.get(FS_ENV)
    if not spec:
        return
    name, _, prefix = spec.partition(":")
    if prefix and os.fspath(path).startswith(prefix):
        code = getattr(errno, name, errno.EIO)
        raise OSError(code, os.strerror(code), os.fspath(path))
