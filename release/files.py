"""Atomic file writes, the one implementation every writer uses.

A temp file in the same directory (named per process and thread, so concurrent
writers never share one), optionally fsynced, then ``os.replace`` (replace) or
``os.link`` (create once). These raise ``OSError``; callers translate it into
their own :class:`~release.errors.ReleaseError`.
"""

from __future__ import annotations

import contextlib
import os
import re
import threading
import time
from pathlib import Path

from release.faults import check_write


def fsync_dir(directory: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _temp_write(path: Path, data: bytes, durable: bool, mode: int) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = temp_name(path)
    try:
        check_write(path)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    except OSError as exc:
        raise _naming(exc, path) from None
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            if durable:
                os.fsync(fh.fileno())
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise _naming(exc, path) from None
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return tmp


def _naming(exc: OSError, path: Path) -> OSError:
    """``exc`` naming ``path`` (a failed write() names no file), for the error message."""
    if exc.filename is None or str(exc.filename).endswith(".tmp"):
        return type(exc)(exc.errno, exc.strerror, str(path))
    return exc


_PARTIAL = re.compile(r"^\.(?P<name>.+)\.rc-(?P<pid>[0-9]+)(?:-[0-9]+)*\.tmp$")


def temp_name(path: Path) -> Path:
    """The temp file of ``path`` for this process and thread. The ``rc-PID`` marker lets a
    later run recognise (and remove) what a killed run of this tool left, and only that."""
    return path.with_name(
        f".{path.name}.rc-{os.getpid()}-{threading.get_ident()}-{time.monotonic_ns()}.tmp"
    )


def partial_pid(name: str) -> int | None:
    """The process id of a temp file name of ours (:func:`temp_name`), else ``None``."""
    m = _PARTIAL.match(name)
    return int(m["pid"]) if m else None


def write_atomic(path: Path, data: bytes, *, durable: bool = True, mode: int = 0o644) -> None:
    """Replace ``path`` with ``data``: readers see the old or the new bytes, never a mix."""
    tmp = _temp_write(path, data, durable, mode)
    try:
        os.replace(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise _naming(exc, path) from None
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    if durable:
        fsync_dir(path.parent)


def copy_atomic(src: Path, dest: Path) -> None:
    """Copy ``src`` to ``dest`` through a temp file of ours: ``dest`` appears complete or
    not at all, and a failed copy (a full disk) leaves no partial file behind."""
    import shutil

    tmp = temp_name(dest)
    try:
        check_write(dest)
        shutil.copyfile(src, tmp)
        os.replace(tmp, dest)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise _naming(exc, dest) from None
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


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


# A temporary directory of ours holds this file with the creating process id, so a
# later run removes what a killed run left, and never another tool's directories.
TEMP_MARKER = ".release-channels-pid"
TEMP_PREFIXES = ("release-pick-", "release-index-")


def marked_tempdir(prefix: str) -> Path:
    """A new directory in the system temp dir, marked as this process's."""
    import tempfile

    path = Path(tempfile.mkdtemp(prefix=prefix))
    (path / TEMP_MARKER).write_text(f"{os.getpid()}\n")
    return path


def pid_alive(pid: int) -> bool:
    """Whether process ``pid`` exists (a reused pid counts as alive: we keep its files)."""
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # EPERM: it exists, as another user
        return True
    return True


def tempdir_owner(path: Path) -> int | None:
    """The pid in the marker of a temp dir of ours, ``None`` if it is not one of ours."""
    if not path.name.startswith(TEMP_PREFIXES):
        return None
    try:
        text = (path / TEMP_MARKER).read_text().strip()
    except (OSError, UnicodeDecodeError):
        return None
    return int(text) if text.isdigit() else None
