"""Where a channel store's bytes live: one small interface, several backends.

Publication order (immutable files first, the mutable entry point last, swapped with a
compare-and-swap) is decided once, above the backends, in the store. A backend only
knows keys (``/``-separated relative paths, never ``..`` nor absolute) and bytes:

- :meth:`Backend.read` returns the bytes and a version tag (``etag``), or ``None``;
- :meth:`Backend.put_if_absent` creates an object once: the same bytes again is a
  no-op, different bytes raise :class:`ObjectExists` (never overwritten);
- :meth:`Backend.compare_and_swap` replaces an object only if its etag is still the one
  read (``None``: only if it does not exist yet), else raises :class:`SwapConflict`;
- :meth:`Backend.list` yields the keys under a prefix, sorted;
- :meth:`Backend.digest` gives the sha256 of an object (recorded at write time where
  the backend can, so comparing two stores does not download them).

Every other failure is raised as :class:`~release.errors.ChannelError` naming the key
and the backend. Backends: :mod:`.directory` (a local directory or a pages checkout;
a lock file plus ``os.replace`` gives the compare-and-swap) and :mod:`.s3` (conditional
writes: ``If-None-Match: *`` and ``If-Match``).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Protocol

from release.errors import ChannelError

# Cache headers a CDN understands (used by backends that can set them).
IMMUTABLE_CACHE = "public, max-age=31536000, immutable"
MUTABLE_CACHE = "public, max-age=60, must-revalidate"


class ObjectExists(ChannelError):
    """put_if_absent found different bytes under the key (nothing was written)."""


class SwapConflict(ChannelError):
    """compare_and_swap lost: somebody changed the object since it was read."""


@dataclass(frozen=True)
class Blob:
    data: bytes
    etag: str


def check_key(key: str) -> str:
    """Refuse keys that could leave the store. Raises :class:`ChannelError`."""
    parts = key.split("/")
    if not key or key.startswith("/") or "\\" in key or any(p in ("", ".", "..") for p in parts):
        raise ChannelError(f"refusing store key {key!r}: not a plain relative path")
    return key


def check_list_prefix(prefix: str) -> str:
    """A :meth:`Backend.list` prefix: empty, or a key prefix (a trailing ``/`` allowed)."""
    if prefix:
        check_key(prefix[:-1] if prefix.endswith("/") else prefix)
    return prefix


class Backend(Protocol):
    """The four operations a channel store needs from where its bytes live."""

    @property
    def description(self) -> str:
        """Human-readable location for messages (never carries credentials)."""
        ...

    def read(self, key: str) -> Blob | None: ...

    def put_if_absent(self, key: str, data: bytes, *, immutable: bool = True) -> bool:
        """Create ``key``. True if created, False if the same bytes were already there.

        Raises :class:`ObjectExists` when different bytes are there.
        """
        ...

    def compare_and_swap(self, key: str, data: bytes, expected_etag: str | None) -> str:
        """Replace ``key`` if its etag is ``expected_etag`` (None: absent). Returns the new etag.

        Raises :class:`SwapConflict` when the object changed since it was read.
        """
        ...

    def list(self, prefix: str = "") -> Iterator[str]: ...

    def digest(self, key: str) -> str | None:
        """The sha256 hex of the object's bytes, or None if absent (cheap when recorded)."""
        ...
