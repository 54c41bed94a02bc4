from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from release.channel.backends.directory import LOCK_NAME, DirectoryBackend, Lock
from release.errors import ChannelError
from release.files import temp_name
from tests.backends.contract import BackendContract


class TestDirectoryBackend(BackendContract):
    @pytest.fixture
    def backend(self, tmp_path: Path) -> DirectoryBackend:
        return DirectoryBackend(tmp_path / "store", durable=False)


def test_etag_is_the_sha256_of_the_bytes(tmp_path: Path) -> None:
    b = DirectoryBackend(tmp_path)
    b.put_if_absent("a/b.json", b"hello")
    blob = b.read("a/b.json")
    assert blob is not None
    assert blob.etag == hashlib.sha256(b"hello").hexdigest()
    assert b.compare_and_swap("index.json", b"x", None) == hashlib.sha256(b"x").hexdigest()
    assert (tmp_path / "a" / "b.json").read_bytes() == b"hello"


def test_list_skips_lock_temp_files_and_git(tmp_path: Path) -> None:
    b = DirectoryBackend(tmp_path, durable=False)
    b.compare_and_swap("index.json", b"1", None)  # creates the lock file
    assert (tmp_path / LOCK_NAME).exists()
    (tmp_path / ".git" / "objects").mkdir(parents=True)
    (tmp_path / ".git" / "HEAD").write_text("ref: refs/heads/gh-pages\n")
    (tmp_path / "channels").mkdir()
    temp_name(tmp_path / "channels" / "v1.json").write_bytes(b"partial")  # release.files
    (tmp_path / ".nojekyll").touch()
    assert list(b.list()) == [".nojekyll", "index.json"]


def test_a_file_in_the_way_is_one_error_naming_the_key(tmp_path: Path) -> None:
    b = DirectoryBackend(tmp_path, durable=False)
    b.put_if_absent("releases", b"a file where a directory should be")
    with pytest.raises(ChannelError, match=r"cannot write releases/t/a in the channel store"):
        b.put_if_absent("releases/t/a", b"x")
    assert b.read("releases/t/a") is None


def test_a_directory_under_a_key_is_one_error(tmp_path: Path) -> None:
    b = DirectoryBackend(tmp_path, durable=False)
    (tmp_path / "index.json").mkdir()
    with pytest.raises(ChannelError, match=r"cannot read index\.json"):
        b.read("index.json")
    with pytest.raises(ChannelError, match=r"cannot read index\.json"):
        b.compare_and_swap("index.json", b"x", None)
    with pytest.raises(ChannelError, match=r"cannot read index\.json"):
        b.put_if_absent("index.json", b"x")


def test_unwritable_root_is_one_error(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("not a directory")
    b = DirectoryBackend(tmp_path / "file" / "store", durable=False)
    with pytest.raises(ChannelError, match=r"cannot write index\.json"):
        b.put_if_absent("index.json", b"x")
    with pytest.raises(ChannelError, match=r"cannot open the store lock"):
        b.compare_and_swap("index.json", b"x", None)
    with pytest.raises(ChannelError, match=r"cannot list"):
        list(b.list())


def test_a_missing_root_lists_nothing(tmp_path: Path) -> None:
    assert list(DirectoryBackend(tmp_path / "absent").list()) == []


def test_symlinks_out_of_the_store_are_refused(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret").write_bytes(b"secret")
    root = tmp_path / "store"
    root.mkdir()
    os.symlink(outside, root / "releases")
    b = DirectoryBackend(root, durable=False)
    with pytest.raises(ChannelError, match=r"resolves outside the channel store"):
        b.read("releases/secret")
    with pytest.raises(ChannelError, match=r"resolves outside the channel store"):
        b.put_if_absent("releases/new", b"x")
    assert not (outside / "new").exists()


def test_lock_timeout_is_one_error(tmp_path: Path) -> None:
    b = DirectoryBackend(tmp_path, durable=False, lock_timeout=0.05)
    with (
        Lock(tmp_path / LOCK_NAME, 1).held(),
        pytest.raises(ChannelError, match=r"locked by another publisher"),
    ):
        b.compare_and_swap("index.json", b"x", None)
    assert b.read("index.json") is None
    b.compare_and_swap("index.json", b"x", None)
