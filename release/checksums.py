"""Streaming SHA-256 and ``SHA256SUMS`` files (``sha256sum -c`` compatible).

Files are hashed in 1 MiB chunks into a reused buffer; hashlib releases the GIL
on large updates, so several files hash in parallel on a thread pool.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from release.errors import ReleaseError, VerificationError
from release.files import write_atomic

CHUNK = 1 << 20
_LINE = re.compile(r"^([0-9a-f]{64}) [ *](.+)$")


@dataclass(frozen=True)
class Digest:
    name: str
    size: int
    sha256: str


def sha256_stream(path: Path) -> tuple[int, str]:
    """Size and hex SHA-256 of ``path``, streamed into a reused buffer. Raises OSError."""
    h = hashlib.sha256()
    size = 0
    buf = bytearray(CHUNK)
    view = memoryview(buf)
    with open(path, "rb", buffering=0) as fh:
        while n := fh.readinto(buf):
            h.update(view[:n])
            size += n
    return size, h.hexdigest()


def hash_file(path: Path) -> Digest:
    """Size and SHA-256 of ``path``, streamed. Raises :class:`ReleaseError` if unreadable."""
    try:
        size, digest = sha256_stream(path)
    except OSError as exc:
        raise ReleaseError(f"cannot read {path}: {exc.strerror or exc}") from exc
    return Digest(path.name, size, digest)


def hash_files(paths: Sequence[Path], *, workers: int | None = None) -> list[Digest]:
    """Hash many files concurrently (one stream per core), results in input order."""
    if len(paths) <= 1:
        return [hash_file(p) for p in paths]
    workers = workers or min(len(paths), os.cpu_count() or 1)
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(hash_file, paths))


def render_sums(digests: Iterable[Digest]) -> str:
    """``SHA256SUMS`` text: ``<hex>  <name>`` per line, sorted by name."""
    lines = []
    for d in sorted(digests, key=lambda d: d.name):
        if "\n" in d.name or "/" in d.name:
            raise ReleaseError(f"artifact name {d.name!r} cannot go into SHA256SUMS")
        lines.append(f"{d.sha256}  {d.name}\n")
    return "".join(lines)


def parse_sums(text: str) -> dict[str, str]:
    """Parse ``SHA256SUMS`` into name -> hex. Raises :class:`VerificationError` if malformed."""
    result: dict[str, str] = {}
    for i, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        m = _LINE.match(line)
        if not m:
            raise VerificationError(f"SHA256SUMS line {i} is malformed")
        if m[2] in result:
            raise VerificationError(f"SHA256SUMS names {m[2]!r} twice")
        result[m[2]] = m[1]
    return result


def atomic_write(path: Path, data: bytes) -> None:
    """:func:`release.files.write_atomic`, failures as :class:`ReleaseError`."""
    try:
        write_atomic(path, data)
    except OSError as exc:
        raise ReleaseError(f"cannot write {path}: {exc.strerror or exc}") from exc
