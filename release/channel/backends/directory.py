"""A channel store in a local directory (or a checkout of a pages branch).

Objects are files under the root. ``put_if_absent`` creates a file once with a hard
link (:func:`release.files.create_once`), so it is never replaced; the compare-and-swap
of a mutable key holds an exclusive ``fcntl`` lock on ``<root>/.release-channels.lock``
while it compares and replaces the file atomically (:func:`release.files.write_atomic`).
The etag of an object is the sha256 hex of its bytes.

The lock file, the temp files of atomic writes and a pages checkout's ``.git`` are not
part of the store: :meth:`DirectoryBackend.list` never yields them.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import re
import time
from collections.abc import Iterator
from pathlib import Path

from release.channel.backends import (
    Blob,
    ObjectExists,
    SwapConflict,
    check_key,
    check_list_prefix,
)
from release.errors import ChannelError
from release.files import create_once, write_atomic

# Not part of the published store: leave it out of a pages branch.
LOCK_NAME = ".release-channels.lock"
# release.files temp names: .<name>.rc-<pid>-<thread>-<ns>.tmp (release.files.partial_pid)
_TEMP = re.compile(r"^\..+\.rc-\d+(?:-\d+)*\.tmp$")
_SKIP_DIRS = frozenset({".git", ".release-work"})


class Lock:
    """An exclusive ``fcntl`` lock on a file (between threads and processes).

    Raises :class:`ChannelError` when it cannot be taken within ``timeout`` seconds.
    """

    def __init__(self, path: Path, timeout: float) -> None:
        self.path = path
        self.timeout = timeout

    @contextlib.contextmanager
    def held(self) -> Iterator[None]:
        import fcntl

        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise ChannelError(
                f"cannot open the store lock {self.path}: {exc.strerror}",
                hint="check that the channel store directory is writable",
            ) from exc
        try:
            deadline = time.monotonic() + self.timeout
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except OSError as exc:
                    if exc.errno not in (errno.EAGAIN, errno.EACCES):
                        raise ChannelError(f"cannot lock {self.path}: {exc.strerror}") from exc
                    if time.monotonic() > deadline:
                        raise ChannelError(
                            f"the channel store is locked by another publisher ({self.path})",
                            hint="wait for it to finish; the lock is released when it exits",
                        ) from None
                    time.sleep(0.005)
            yield
        finally:
            os.close(fd)  # closing releases the flock


def etag_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class DirectoryBackend:
    """The :class:`~release.channel.backends.Backend` of a local directory.

    ``durable=False`` skips fsync (tests, benchmarks on throwaway stores).
    """

    def __init__(self, root: Path, *, durable: bool = True, lock_timeout: float = 120.0) -> None:
        self.root = Path(root)
        self.durable = durable
        self.lock = Lock(self.root / LOCK_NAME, lock_timeout)

    @property
    def description(self) -> str:
        return f"directory {self.root}"

    def path(self, key: str) -> Path:
        """The file of ``key`` (checked: a plain relative path). Raises ChannelError."""
        return self.root.joinpath(*check_key(key).split("/"))

    def _inside(self, key: str, target: Path) -> None:
        # A symlink in the checkout must not let a key read or write outside the root.
        root = self.root.resolve()
        if root not in target.resolve().parents:
            raise ChannelError(f"{key} resolves outside the channel store {self.root}")

    def _error(self, action: str, key: str, exc: OSError) -> ChannelError:
        return ChannelError(
            f"cannot {action} {key} in the channel store {self.root}: {exc.strerror or exc}",
            hint="check the store directory's permissions and free space",
        )

    def _read_bytes(self, key: str) -> bytes | None:
        target = self.path(key)
        try:
            data = target.read_bytes()
        except (FileNotFoundError, NotADirectoryError):
            return None
        except OSError as exc:
            raise self._error("read", key, exc) from exc
        self._inside(key, target)
        return data

    def read(self, key: str) -> Blob | None:
        """The bytes of ``key`` and their sha256, or None. Raises ChannelError."""
        data = self._read_bytes(key)
        return None if data is None else Blob(data, etag_of(data))

    def digest(self, key: str) -> str | None:
        """The sha256 of ``key``'s bytes (streamed), or None. Raises ChannelError."""
        target = self.path(key)
        try:
            with target.open("rb") as fh:
                self._inside(key, target)
                return hashlib.file_digest(fh, "sha256").hexdigest()
        except (FileNotFoundError, NotADirectoryError):
            return None
        except OSError as exc:
            raise self._error("read", key, exc) from exc

    def put_if_absent(self, key: str, data: bytes, *, immutable: bool = True) -> bool:
        """Create ``key`` once. False if the same bytes are there.

        Raises :class:`ObjectExists` (different bytes, left as they are) or ChannelError.
        """
        target = self.path(key)
        try:
            if target.parent != self.root:
                target.parent.mkdir(parents=True, exist_ok=True)
                self._inside(key, target)
            if create_once(target, data, durable=self.durable):
                return True
        except OSError as exc:
            raise self._error("write", key, exc) from exc
        existing = self._read_bytes(key)
        if existing == data:
            return False
        found = "unreadable" if existing is None else f"sha256 {etag_of(existing)[:16]}…"
        raise ObjectExists(
            f"{key} already exists in the channel store {self.root} with different bytes "
            f"({found}, new sha256 {etag_of(data)[:16]}…)",
            hint="published files are immutable; it is never overwritten",
        )

    def compare_and_swap(self, key: str, data: bytes, expected_etag: str | None) -> str:
        """Replace ``key`` if its sha256 is ``expected_etag`` (None: only if absent).

        Returns the new etag. Raises :class:`SwapConflict` or ChannelError.
        """
        target = self.path(key)
        with self.lock.held():
            current = self._read_bytes(key)
            etag = None if current is None else etag_of(current)
            if etag != expected_etag:
                raise SwapConflict(
                    f"{key} in the channel store {self.root} changed since it was read",
                    hint="another publisher moved it first; re-read and retry",
                )
            try:
                write_atomic(target, data, durable=self.durable)
            except OSError as exc:
                raise self._error("write", key, exc) from exc
        return etag_of(data)

    def list(self, prefix: str = "") -> Iterator[str]:
        """The keys starting with ``prefix``, sorted. Raises ChannelError."""
        check_list_prefix(prefix)
        base = prefix.rsplit("/", 1)[0] if "/" in prefix else ""
        start = self.root.joinpath(*base.split("/")) if base else self.root
        keys: list[str] = []

        def fail(exc: OSError) -> None:
            if not isinstance(exc, FileNotFoundError) or Path(exc.filename) != start:
                raise self._error("list", prefix or "the store", exc)

        for dirpath, dirnames, filenames in os.walk(start, onerror=fail):
            dirnames[:] = [d for d in dirnames if d not in _SKIP_DIRS]
            rel = Path(dirpath).relative_to(self.root).as_posix()
            head = "" if rel == "." else rel + "/"
            for name in filenames:
                if name == LOCK_NAME or _TEMP.match(name):
                    continue
                key = head + name
                if key.startswith(prefix):
                    keys.append(key)
        yield from sorted(keys)
