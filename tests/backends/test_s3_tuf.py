"""The TUF publisher on S3 (a real SeaweedFS): races, SIGKILLed publishers, HTTP readers."""

from __future__ import annotations

import os
import signal
import threading
import time
import warnings
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from release.channel.backends import Blob
from release.channel.backends.location import S3Location
from release.channel.backends.s3 import S3Backend
from release.channel.target import release_keys, upload_files
from release.channel.tuf.repo import PublishResult, TufStore
from release.errors import ChannelError
from tests.backends.conftest import BUCKET
from tests.helpers.channelkit import PROJECT
from tests.helpers.seaweed import REGION, Seaweed
from tests.helpers.tufrepo import Ed25519Store


class S3Store(Ed25519Store):
    """An Ed25519-signed TUF store whose bytes live in the bucket (files staged locally)."""

    def __init__(self, root: Path, seaweed: Seaweed, prefix: str) -> None:
        # Real time: TUF clients check expiry against the clock.
        super().__init__(root, now=datetime.now(UTC).replace(microsecond=0))
        self.seaweed = seaweed
        self.prefix = prefix
        self.location = S3Location(BUCKET, prefix, seaweed.endpoint, REGION)
        self.backend = S3Backend(self.location)  # type: ignore[assignment]
        self.store = TufStore(self.backend)
        local = TufStore(self.files_backend())
        self.store.install(list(local.root_chain()), self._local_targets())

    def files_backend(self) -> Any:
        from release.channel.backends.directory import DirectoryBackend

        return DirectoryBackend(self.root, durable=False)

    def _local_targets(self) -> bytes:
        return (self.root / "metadata" / "1.targets.json").read_bytes()

    def publisher(self) -> TufStore:
        """Another publisher process's view: its own client and caches."""
        return TufStore(S3Backend(self.location))

    def publish(  # type: ignore[override]
        self,
        channel: str,
        version: str,
        *,
        store: TufStore | None = None,
        now: Any = None,
        **kwargs: Any,
    ) -> PublishResult:
        when = now or self.now
        release = self.release(channel, version, published_at=when, **kwargs)
        target = store or self.store
        upload_files(self.root, release_keys(self.root, release.tag), target.backend)
        return target.publish(
            self.channels[channel],
            release,
            project=PROJECT,
            now=when,
            signer=self.keys[channel],
            identity=self.identities[channel],
        )

    def url(self) -> str:
        return self.seaweed.public_url(BUCKET, self.prefix)


def read_over_http(s: S3Store, state: Path) -> Any:
    """The project's TUF client over plain HTTP: anonymous, no boto3 on this path."""
    from release.channel.tuf.client import open_client

    return open_client(s.url(), root=s.root / "metadata" / "1.root.json", state_dir=state, env={})


@pytest.fixture
def s3store(tmp_path: Path, seaweed: Seaweed, prefix: str, s3_env: None) -> S3Store:
    return S3Store(tmp_path / "local", seaweed, prefix)


def test_edge_and_stable_publish_to_the_bucket_and_read_over_http(
    s3store: S3Store, tmp_path: Path
) -> None:
    s3store.publish("edge", "26.11.1")
    s3store.publish("stable", "2.15.0")
    s3store.publish("stable", "2.15.1")
    s3store.publish("edge", "26.11.2")
    client = read_over_http(s3store, tmp_path / "state")
    assert client.verified
    assert client.latest("edge") == "26.11.2"
    assert client.latest("stable") == "2.15.1"
    got = client.download("stable", "2.15.1", tmp_path / "dl")
    assert got
    for path in got:
        blob = s3store.backend.read(f"releases/stable-2.15.1/{path.name}")
        assert blob is not None
        assert path.read_bytes() == blob.data
    # Nothing is left only in the local staging directory that the store needs.
    assert s3store.backend.read("metadata/timestamp.json") is not None


def test_two_publishers_racing_100_times_lose_no_release(s3store: S3Store) -> None:
    rounds = 100
    stores = [s3store.publisher(), s3store.publisher()]
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []
    attempts: list[int] = []

    def run(i: int) -> None:
        try:
            for n in range(rounds):
                barrier.wait(timeout=60)
                # Two lines of one channel: the channel role, snapshot and timestamp
                # are contended on every round.
                result = s3store.publish("stable", f"2.{15 + i}.{n}", store=stores[i])
                attempts.append(result.attempts)
        except BaseException as exc:
            errors.append(exc)
            barrier.abort()

    started = time.monotonic()
    threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert max(attempts) > 1, "the publishers never actually raced"
    state = s3store.store.read_state()
    assert state is not None
    found = s3store.store.channel_document(state, "stable")
    assert found is not None
    for minor in (15, 16):
        line = s3store.store.line_document(found[1], f"2.{minor}")
        assert line is not None
        versions = [r["version"] for r in line[1]["releases"]]
        assert sorted(versions) == sorted(f"2.{minor}.{n}" for n in range(rounds))
    assert time.monotonic() - started < 240


class KillingBackend:
    """The S3 backend of a publisher that SIGKILLs itself right after write number ``at``."""

    def __init__(self, inner: S3Backend, at: int) -> None:
        self.inner = inner
        self.at = at
        self.writes = 0
        self.description = inner.description

    def _step(self) -> None:
        if self.writes == self.at:
            os.kill(os.getpid(), signal.SIGKILL)
        self.writes += 1

    def read(self, key: str) -> Blob | None:
        return self.inner.read(key)

    def list(self, prefix: str = "") -> Any:
        return self.inner.list(prefix)

    def digest(self, key: str) -> str | None:
        return self.inner.digest(key)

    def put_if_absent(self, key: str, data: bytes, *, immutable: bool = True) -> bool:
        self._step()
        return self.inner.put_if_absent(key, data, immutable=immutable)

    def compare_and_swap(self, key: str, data: bytes, expected_etag: str | None) -> str:
        self._step()
        return self.inner.compare_and_swap(key, data, expected_etag)


def test_a_publisher_killed_at_every_step(s3store: S3Store, tmp_path: Path) -> None:
    s3store.publish("stable", "2.15.0")
    release = s3store.release("stable", "2.15.1")  # staged (and signed) once
    step = 0
    while True:
        pid = _fork_publisher(s3store, release, step)
        _, status = os.waitpid(pid, 0)
        if os.WIFEXITED(status):
            assert os.WEXITSTATUS(status) == 0
            break
        assert os.WTERMSIG(status) == signal.SIGKILL
        # Killed after `step` writes: the channel is still valid, at the old release.
        client = read_over_http(s3store, tmp_path / f"state-{step}")
        assert client.latest("stable") in ("2.15.0", "2.15.1")
        step += 1
        assert step < 60, "the publication never completed"
    assert step > 5  # files, documents, metadata, timestamp: each a step
    client = read_over_http(s3store, tmp_path / "state-final")
    assert client.latest("stable") == "2.15.1"
    # The re-run after the last kill is a no-op.
    again = s3store.publisher().publish(
        s3store.channels["stable"],
        release,
        project=PROJECT,
        now=s3store.now,
        signer=s3store.keys["stable"],
        identity=s3store.identities["stable"],
    )
    assert again.changed is False


def _fork_publisher(s3store: S3Store, release: Any, at: int) -> int:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # fork: nothing runs in threads
        pid = os.fork()
    if pid:
        return pid
    code = 1
    try:
        backend = KillingBackend(S3Backend(s3store.location), at)
        upload_files(s3store.root, release_keys(s3store.root, release.tag), backend)  # type: ignore[arg-type]
        TufStore(backend).publish(  # type: ignore[arg-type]
            s3store.channels["stable"],
            release,
            project=PROJECT,
            now=s3store.now,
            signer=s3store.keys["stable"],
            identity=s3store.identities["stable"],
        )
        code = 0
    finally:
        os._exit(code)


def test_publishing_while_the_server_is_down_changes_nothing(tmp_path: Path, s3_env: None) -> None:
    from tests.helpers.seaweed import running_seaweed

    with running_seaweed(tmp_path / "weed") as server:
        server.make_bucket(BUCKET)
        s = S3Store(tmp_path / "local", server, "store")
        s.publish("edge", "26.11.1")
        release = s.release("edge", "26.11.2")
        backend = S3Backend(s.location)
        upload_files(s.root, release_keys(s.root, release.tag), backend)
        server.kill()
        with pytest.raises(ChannelError, match=r"cannot reach the S3 endpoint"):
            TufStore(backend).publish(
                s.channels["edge"],
                release,
                project=PROJECT,
                now=s.now,
                signer=s.keys["edge"],
                identity=s.identities["edge"],
            )
        server.start()
        client = read_over_http(s, tmp_path / "state")
        assert client.latest("edge") == "26.11.1"
        s.store = TufStore(S3Backend(s.location))
        result = s.store.publish(
            s.channels["edge"],
            release,
            project=PROJECT,
            now=s.now,
            signer=s.keys["edge"],
            identity=s.identities["edge"],
        )
        assert result.changed
        assert read_over_http(s, tmp_path / "state2").latest("edge") == "26.11.2"
