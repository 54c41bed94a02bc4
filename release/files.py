"""Atomic file writes, the one implementation every writer uses.

A temp file in the same directory (named per process and thread, so concurrent
writers never share one), optionally fsynced, then ``os.replace`` (replace) or
``os.link`` (create once). These raise ``OSError``; callers translate it into
their own :class:`~release.errors.ReleaseError`.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from pathlib import Path


def fsync_dir(directory: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _temp_write(path: Path, data: bytes, durable: bool, mode: int) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(
        f".{path.name}.{os.getpid()}.{threading.get_ident()}.{time.monotonic_ns()}.tmp"
    )
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            if durable:
                os.fsync(fh.fileno())
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return tmp


def write_atomic(path: Path, data: bytes, *, durable: bool = True, mode: int = 0o644) -> None:
    """Replace ``path`` with ``data``: readers see the old or the new bytes, never a mix."""
    tmp = _temp_write(path, data, durable, mode)
    try:
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    if durable:
        fsync_dir(path.parent)


def create_once(path: Path, data: bytes, *, durable: bool = True, mode: int = 0o644) -> bool:
    """Create ``path`` with ``data`` unless it exists (never overwritten). True if created."""
    tmp = _temp_write(path, data, durable, mode)
    try:
        os.link(tmp, path)
    except FileExistsError:
        return False
    finally:
        tmp.unlink(missing_ok=True)
    if durable:
        fsync_dir(path.parent)
    return True
