"""The behaviour every store backend shares (directory, S3): one suite, run per backend.

A test module subclasses :class:`BackendContract` and provides a ``backend`` fixture
returning a fresh, empty backend.
"""

from __future__ import annotations

import hashlib
import threading
from typing import Any

import pytest

from release.channel.backends import Backend, ObjectExists, SwapConflict
from release.errors import ChannelError

BAD_KEYS = ["", "/abs", "a/../b", "..", "a//b", "./a", "a/", "a\\b"]


def increment(backend: Backend, key: str, rounds: int, errors: list[BaseException]) -> None:
    """Read-modify-CAS a counter ``rounds`` times, retrying lost swaps."""
    try:
        for _ in range(rounds):
            while True:
                blob = backend.read(key)
                value = int(blob.data) if blob else 0
                try:
                    backend.compare_and_swap(key, b"%d" % (value + 1), blob.etag if blob else None)
                    break
                except SwapConflict:
                    continue
    except BaseException as exc:  # reported by the test thread
        errors.append(exc)


class BackendContract:
    """Tests for the :class:`~release.channel.backends.Backend` protocol."""

    race_threads = 4
    race_rounds = 25

    def test_read_absent_is_none(self, backend: Backend) -> None:
        assert backend.read("metadata/timestamp.json") is None
        assert list(backend.list()) == []

    def test_put_then_read(self, backend: Backend) -> None:
        assert backend.put_if_absent("releases/t/a.tar.gz", b"artifact") is True
        blob = backend.read("releases/t/a.tar.gz")
        assert blob is not None
        assert blob.data == b"artifact"
        assert blob.etag

    def test_digest_is_the_sha256_of_the_bytes(self, backend: Backend) -> None:
        assert backend.digest("releases/t/a") is None
        backend.put_if_absent("releases/t/a", b"bytes")
        assert backend.digest("releases/t/a") == hashlib.sha256(b"bytes").hexdigest()
        backend.compare_and_swap("index.json", b"v2", None)
        assert backend.digest("index.json") == hashlib.sha256(b"v2").hexdigest()

    def test_same_bytes_again_is_a_noop(self, backend: Backend) -> None:
        assert backend.put_if_absent("channels/edge/v1.json", b"{}") is True
        assert backend.put_if_absent("channels/edge/v1.json", b"{}") is False

    def test_different_bytes_are_refused_and_kept(self, backend: Backend) -> None:
        backend.put_if_absent("channels/edge/v1.json", b"first")
        with pytest.raises(ObjectExists, match=r"channels/edge/v1\.json"):
            backend.put_if_absent("channels/edge/v1.json", b"second")
        blob = backend.read("channels/edge/v1.json")
        assert blob is not None
        assert blob.data == b"first"

    def test_swap_creates_only_when_absent(self, backend: Backend) -> None:
        etag = backend.compare_and_swap("metadata/timestamp.json", b"v1", None)
        blob = backend.read("metadata/timestamp.json")
        assert blob is not None
        assert (blob.data, blob.etag) == (b"v1", etag)
        with pytest.raises(SwapConflict, match=r"metadata/timestamp\.json"):
            backend.compare_and_swap("metadata/timestamp.json", b"v2", None)
        blob = backend.read("metadata/timestamp.json")
        assert blob is not None
        assert blob.data == b"v1"

    def test_swap_replaces_only_the_version_read(self, backend: Backend) -> None:
        first = backend.compare_and_swap("index.json", b"one", None)
        second = backend.compare_and_swap("index.json", b"two", first)
        assert second != first
        with pytest.raises(SwapConflict):
            backend.compare_and_swap("index.json", b"three", first)
        blob = backend.read("index.json")
        assert blob is not None
        assert (blob.data, blob.etag) == (b"two", second)

    def test_swap_on_a_deleted_expectation_conflicts(self, backend: Backend) -> None:
        with pytest.raises(SwapConflict):
            backend.compare_and_swap("index.json", b"x", "0" * 64)
        assert backend.read("index.json") is None

    def test_list_by_prefix_sorted(self, backend: Backend) -> None:
        keys = [
            "releases/edge-26.1.1/a.whl",
            "releases/edge-26.1.1/a.whl.sigstore.json",
            "releases/edge-26.1.10/b",
            "metadata/1.root.json",
            "index.json",
            "releases-notes.txt",
        ]
        for key in keys:
            backend.put_if_absent(key, key.encode())
        assert list(backend.list()) == sorted(keys)
        releases = sorted(k for k in keys if k.startswith("releases/"))
        assert list(backend.list("releases/")) == releases
        assert list(backend.list("releases/edge-26.1.1/")) == keys[:2]
        assert list(backend.list("releases/edge-26.1.1")) == [*keys[:2], keys[2]]
        assert list(backend.list("nothing/")) == []

    @pytest.mark.parametrize("key", BAD_KEYS)
    def test_keys_leaving_the_store_are_refused(self, backend: Backend, key: str) -> None:
        with pytest.raises(ChannelError, match=r"not a plain relative path"):
            backend.put_if_absent(key, b"x")
        with pytest.raises(ChannelError, match=r"not a plain relative path"):
            backend.compare_and_swap(key, b"x", None)
        with pytest.raises(ChannelError, match=r"not a plain relative path"):
            backend.read(key)
        if key not in ("", "a/"):  # list(""): everything; list("a/"): under a
            with pytest.raises(ChannelError, match=r"not a plain relative path"):
                list(backend.list(key))
        assert list(backend.list()) == []

    def test_racing_swaps_lose_no_update(self, backend: Backend) -> None:
        errors: list[BaseException] = []
        threads = [
            threading.Thread(target=increment, args=(backend, "counter", self.race_rounds, errors))
            for _ in range(self.race_threads)
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert errors == []
        blob = backend.read("counter")
        assert blob is not None
        assert int(blob.data) == self.race_threads * self.race_rounds

    def test_racing_creators_one_wins(self, backend: Backend) -> None:
        results: dict[int, Any] = {}

        def create(i: int) -> None:
            try:
                results[i] = backend.put_if_absent("channels/edge/v7.json", b"writer %d" % i)
            except ObjectExists as exc:
                results[i] = exc

        threads = [threading.Thread(target=create, args=(i,)) for i in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        winners = [i for i, r in results.items() if r is True]
        assert len(winners) == 1
        assert all(isinstance(r, ObjectExists) for i, r in results.items() if i != winners[0])
        blob = backend.read("channels/edge/v7.json")
        assert blob is not None
        assert blob.data == b"writer %d" % winners[0]

    def test_binary_bytes_round_trip(self, backend: Backend) -> None:
        data = bytes(range(256)) * 1000
        backend.put_if_absent("releases/t/bin", data)
        blob = backend.read("releases/t/bin")
        assert blob is not None
        assert hashlib.sha256(blob.data).digest() == hashlib.sha256(data).digest()
