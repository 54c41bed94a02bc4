"""Copy a channel store between two backends (directory, pages checkout, S3).

``sync`` lists the source, hashes every object it copies or compares, and writes in the
store's publication order:

1. immutable objects with ``put_if_absent`` (the ones already at the destination with
   the same sha256 are skipped; a different sha256 there is an error and nothing of the
   mutable entry points moves);
2. the other mutable objects (views: page, feeds, install scripts), swapped;
3. :data:`MUTABLE_KEYS` last, the timestamp (or index) at the very end, each swapped
   with compare-and-swap against what the destination had.

A killed sync is resumed by running it again: what is there is checked and skipped. A
mutable document is never moved backwards: a destination whose index or timestamp has
a higher version than the source's is refused.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from release.channel.backends import Backend, Blob, ObjectExists, SwapConflict
from release.channel.views import is_view_path
from release.errors import ChannelError

# The store's mutable entry points, in the order they are written (timestamp last).
TIMESTAMP = "metadata/timestamp.json"
MUTABLE_KEYS = ("metadata/root.json", "index.json", TIMESTAMP)
# Besides the views (page, versions.json, feeds, install scripts: regenerated on every
# publication, never pinned by a document), files a store rewrites in place.
_REWRITTEN = re.compile(r"dev-trust-config\.json|schema/[^/]+\.schema\.json")
WORKERS = 16

Progress = Callable[[str, str], None]


def is_mutable(key: str) -> bool:
    """Whether ``key`` is replaced in place (entry points and views) rather than immutable."""
    return key in MUTABLE_KEYS or is_view_path(key) or bool(_REWRITTEN.fullmatch(key))


@dataclass
class SyncResult:
    """What a sync did (keys relative to the store root)."""

    copied: list[str] = field(default_factory=list)
    present: int = 0
    swapped: list[str] = field(default_factory=list)


def _version(data: bytes) -> int | None:
    """The version of an index / TUF metadata document (None: not one)."""
    try:
        doc = json.loads(data)
    except ValueError:
        return None
    if not isinstance(doc, dict):
        return None
    for holder in (doc.get("signed"), doc):
        if isinstance(holder, dict) and isinstance(holder.get("version"), int):
            return int(holder["version"])
    return None


def _read(backend: Backend, key: str) -> Blob:
    blob = backend.read(key)
    if blob is None:
        raise ChannelError(
            f"{key} vanished from {backend.description} during the sync",
            hint="the source changed while it was copied; run the sync again",
        )
    return blob


def _copy_immutable(src: Backend, dst: Backend, key: str, present: bool) -> bool:
    """Copy one immutable object; True if it was written. Raises ChannelError.

    An object already at the destination is compared by sha256 (never re-copied).
    """
    if present:
        theirs, ours = dst.digest(key), src.digest(key)
        if theirs is not None and theirs == ours:
            return False
        if theirs is not None:
            raise _diverged(src, dst, key)
    data = _read(src, key).data
    try:
        return dst.put_if_absent(key, data)
    except ObjectExists as exc:
        raise _diverged(src, dst, key) from exc


def _diverged(src: Backend, dst: Backend, key: str) -> ChannelError:
    return ChannelError(
        f"{key} differs between {src.description} and {dst.description}",
        hint="published files are immutable: the stores have diverged; nothing mutable was moved",
    )


def _swap(src: Backend, dst: Backend, key: str) -> bool:
    """Bring a mutable ``key`` to the source's bytes. True if it changed."""
    new = _read(src, key).data
    old = dst.read(key)
    if old is not None and old.data == new:
        return False
    if old is not None and key in MUTABLE_KEYS:
        theirs, ours = _version(old.data), _version(new)
        if theirs is not None and ours is not None and theirs > ours:
            raise ChannelError(
                f"{key} is at version {theirs} in {dst.description} but {ours} in "
                f"{src.description}; refusing to move it backwards",
                hint="sync from the newer store to the older one",
            )
    try:
        dst.compare_and_swap(key, new, None if old is None else old.etag)
    except SwapConflict as exc:
        raise ChannelError(
            f"{key} changed in {dst.description} during the sync",
            hint="another publisher is writing there; run the sync again",
        ) from exc
    return True


def sync(
    src: Backend, dst: Backend, *, progress: Progress | None = None, workers: int = WORKERS
) -> SyncResult:
    """Copy what ``dst`` lacks from ``src``, entry points last. Raises ChannelError.

    ``progress(kind, key)`` is called for each object written (kind: ``copy``/``swap``).
    """
    keys = list(src.list())
    if not keys:
        raise ChannelError(
            f"no channel store at {src.description}",
            hint="check the source path, bucket and prefix",
        )
    present = set(dst.list())
    immutable = [k for k in keys if not is_mutable(k)]
    entry = [k for k in MUTABLE_KEYS if k in keys]
    views = [k for k in keys if is_mutable(k) and k not in MUTABLE_KEYS]
    result = SyncResult()
    note = progress or (lambda kind, key: None)

    def copy(key: str) -> tuple[str, bool]:
        return key, _copy_immutable(src, dst, key, key in present)

    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        # map yields in submission order and re-raises the first failure.
        for key, written in pool.map(copy, immutable):
            if written:
                result.copied.append(key)
                note("copy", key)
            else:
                result.present += 1
    for key in [*views, *entry]:
        if _swap(src, dst, key):
            result.swapped.append(key)
            note("swap", key)
        else:
            result.present += 1
    return result
