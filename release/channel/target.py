"""Where a publication goes: the channel's ``[publish] target`` as a store backend.

The pipeline stages a release's files in the local store directory (``--out``) and
signs them there. With ``target = "s3"`` the store itself lives in the bucket: the
release's files are uploaded (created once, immutable) before any metadata names
them, the TUF store publishes through the S3 backend (timestamp swapped last), and the
views rendered locally afterwards (page, feeds) are swapped in after it. Every other
target publishes into the ``--out`` directory (a pages branch is pushed from there).
"""

from __future__ import annotations

from pathlib import Path

from release.channel.backends import Backend
from release.channel.backends.directory import DirectoryBackend
from release.config import ChannelConfig
from release.errors import ChannelError


def publish_backend(channel: ChannelConfig, out: Path, *, durable: bool = True) -> Backend:
    """The backend ``channel`` publishes to. Raises ChannelError / ConfigError."""
    if channel.publish_target != "s3":
        return DirectoryBackend(out, durable=durable)
    location = channel.publish_s3
    if location is None:  # the schema requires a bucket for target = "s3"
        raise ChannelError(f"channel {channel.name}: [publish] target = 's3' has no bucket")
    from release.channel.backends.location import open_backend

    return open_backend(location)


def target_problems(channel: ChannelConfig, out: Path, *, probe: bool = True) -> list[str]:
    """What stops ``channel`` from publishing to its target (checked before any change).

    For S3: the bucket, the credentials and (``probe``) conditional writes.
    """
    if channel.publish_target != "s3":
        return []
    from release.errors import ReleaseError

    try:
        backend = publish_backend(channel, out)
        check = getattr(backend, "check", None)
        if check is not None:
            check(probe=probe)
    except ReleaseError as exc:
        return [exc.message + (f" ({exc.hint})" if exc.hint else "")]
    return []


def is_remote(backend: Backend, out: Path) -> bool:
    """Whether ``backend`` is somewhere else than the local store directory ``out``."""
    return not (isinstance(backend, DirectoryBackend) and backend.root == out)


def upload_files(out: Path, keys: list[str], backend: Backend, *, workers: int = 8) -> list[str]:
    """Create the store files ``keys`` (read from ``out``) in ``backend``; immutable.

    Files already there with the same bytes are skipped (a resumed run); uploads run in
    parallel. Returns the keys written. Raises ChannelError (different bytes there:
    never overwritten).
    """
    from concurrent.futures import ThreadPoolExecutor

    def put(key: str) -> bool:
        try:
            data = out.joinpath(*key.split("/")).read_bytes()
        except OSError as exc:
            raise ChannelError(f"cannot read {key} from {out}: {exc.strerror}") from exc
        return backend.put_if_absent(key, data)

    with ThreadPoolExecutor(max_workers=max(1, min(workers, len(keys)))) as pool:
        done = list(pool.map(put, keys))
    return [key for key, written in zip(keys, done, strict=True) if written]


def release_keys(out: Path, tag: str) -> list[str]:
    """The store keys of the files staged under ``out/releases/<tag>/``."""
    directory = out / "releases" / tag
    return sorted(
        f"releases/{tag}/{p.name}"
        for p in directory.iterdir()
        if p.is_file() and not p.name.startswith(".")
    )


def view_keys(out: Path) -> list[str]:
    """The view files (page, versions.json and bundle, feeds, install scripts) in ``out``."""
    from release.channel.views import is_view_path

    return [k for k in DirectoryBackend(out).list() if is_view_path(k)]


def push_views(out: Path, keys: list[str], backend: Backend) -> list[str]:
    """Swap the locally rendered views ``keys`` into ``backend`` (mutable, compare-and-swap).

    Returns the keys that changed. Raises ChannelError.
    """
    from release.channel.backends import SwapConflict

    changed = []
    for key in keys:
        data = out.joinpath(*key.split("/")).read_bytes()
        for _ in range(5):
            blob = backend.read(key)
            if blob is not None and blob.data == data:
                break
            try:
                backend.compare_and_swap(key, data, None if blob is None else blob.etag)
            except SwapConflict:
                continue  # another publisher rendered it meanwhile: ours is as current
            changed.append(key)
            break
    return changed
