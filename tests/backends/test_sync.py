"""``release channel sync`` between a directory store and S3 (a real SeaweedFS)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from release.channel.backends.directory import DirectoryBackend
from release.channel.backends.location import S3Location
from release.channel.backends.s3 import S3Backend
from release.channel.client import ChannelClient
from release.channel.fetch import HttpFetcher
from release.channel.store import ChannelStore
from release.channel.sync import MUTABLE_KEYS, is_mutable, sync
from release.cli import main
from release.errors import ChannelError
from tests.backends.conftest import BUCKET
from tests.helpers.channelkit import EDGE, EDGE_ID, NOW, STABLE, STABLE_ID, KeyRoot, publish
from tests.helpers.seaweed import REGION, Seaweed


@pytest.fixture(scope="module")
def built_store(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, KeyRoot]:
    """A directory store with edge and stable releases (built once for the module)."""
    root = tmp_path_factory.mktemp("store")
    store = ChannelStore(root, durable=False)
    keys = KeyRoot()
    for v in ("26.11.1", "26.11.2", "26.11.3"):
        publish(store, EDGE, v, keys.signer(EDGE_ID))
    for v in ("1.0.0", "1.0.1", "1.1.0"):
        publish(store, STABLE, v, keys.signer(STABLE_ID))
    store.render_views(NOW)
    return root, keys


def s3_at(seaweed: Seaweed, prefix: str) -> S3Backend:
    return S3Backend(S3Location(BUCKET, prefix, seaweed.endpoint, REGION))


def url_of(seaweed: Seaweed, prefix: str) -> str:
    return f"s3://{BUCKET}/{prefix}?endpoint={seaweed.endpoint}&region={REGION}"


def views(keys: dict[str, bytes]) -> list[str]:
    """The mutable non-entry keys (page, schemas), in sync order."""
    return [k for k in sorted(keys) if is_mutable(k) and k not in MUTABLE_KEYS]


def tree(root: Path) -> dict[str, bytes]:
    backend = DirectoryBackend(root)
    return {k: (root / k).read_bytes() for k in backend.list()}


@pytest.mark.usefixtures("s3_env")
def test_directory_to_s3_and_back_byte_for_byte(
    built_store: tuple[Path, KeyRoot], seaweed: Seaweed, prefix: str, tmp_path: Path
) -> None:
    root, keys = built_store
    order: list[str] = []
    result = sync(
        DirectoryBackend(root), s3_at(seaweed, prefix), progress=lambda k, key: order.append(key)
    )
    source = tree(root)
    assert sorted(order) == sorted(source)
    assert order[-1] == "index.json"  # the entry point moves last
    assert all(not is_mutable(k) for k in order[: len(result.copied)])
    assert result.swapped == [*views(source), "index.json"]

    # Clients read the bucket anonymously over plain HTTP: no credentials, no boto3.
    client = ChannelClient(
        HttpFetcher(seaweed.public_url(BUCKET, prefix)), now=NOW, verifier=keys.verifier()
    )
    assert client.latest("edge") == "26.11.3"
    assert client.latest("stable") == "1.1.0"
    assert client.verify_all()["releases"] == 6
    got = client.download("stable", "1.1.0", tmp_path / "dl")
    name = "demo-stable-1.1.0-linux-amd64.tar.gz"
    assert sorted(p.name for p in got) == [name, name + ".sigstore.json"]

    # And back to a directory (a pages checkout): the same bytes.
    mirror = tmp_path / "pages"
    (mirror / ".git").mkdir(parents=True)
    again = sync(s3_at(seaweed, prefix), DirectoryBackend(mirror))
    assert len(again.copied) + len(again.swapped) == len(source)
    assert tree(mirror) == source


@pytest.mark.usefixtures("s3_env")
def test_a_second_sync_copies_nothing(
    built_store: tuple[Path, KeyRoot], seaweed: Seaweed, prefix: str
) -> None:
    root, _ = built_store
    sync(DirectoryBackend(root), s3_at(seaweed, prefix))
    again = sync(DirectoryBackend(root), s3_at(seaweed, prefix))
    assert (again.copied, again.swapped) == ([], [])
    assert again.present == len(tree(root))


@pytest.mark.usefixtures("s3_env")
def test_diverged_immutable_file_stops_before_the_index(
    built_store: tuple[Path, KeyRoot], seaweed: Seaweed, prefix: str
) -> None:
    root, _ = built_store
    dst = s3_at(seaweed, prefix)
    victim = next(k for k in tree(root) if k.endswith(".tar.gz"))
    dst.put_if_absent(victim, b"other bytes")
    with pytest.raises(ChannelError, match=r"differs between") as err:
        sync(DirectoryBackend(root), dst)
    assert "diverged" in (err.value.hint or "")
    assert dst.read("index.json") is None
    blob = dst.read(victim)
    assert blob is not None
    assert blob.data == b"other bytes"


def test_an_index_is_never_moved_backwards(
    built_store: tuple[Path, KeyRoot], tmp_path: Path
) -> None:
    root, keys = built_store
    newer = tmp_path / "newer"
    sync(DirectoryBackend(root), DirectoryBackend(newer))
    publish(ChannelStore(newer, durable=False), EDGE, "26.11.4", keys.signer(EDGE_ID))
    before = (newer / "index.json").read_bytes()
    with pytest.raises(ChannelError, match=r"refusing to move it backwards"):
        sync(DirectoryBackend(root), DirectoryBackend(newer))
    assert (newer / "index.json").read_bytes() == before
    # The other way round is a plain update.
    older = tmp_path / "older"
    sync(DirectoryBackend(root), DirectoryBackend(older))
    result = sync(DirectoryBackend(newer), DirectoryBackend(older))
    assert "index.json" in result.swapped
    assert tree(older) == tree(newer)


def test_an_empty_source_is_one_error(tmp_path: Path) -> None:
    with pytest.raises(ChannelError, match=r"no channel store at directory"):
        sync(DirectoryBackend(tmp_path / "nothing"), DirectoryBackend(tmp_path / "dst"))
    assert not (tmp_path / "dst").exists()


def test_mutable_keys() -> None:
    from release.channel.tuf import metadata as tm

    assert set(MUTABLE_KEYS) == set(tm.MUTABLE_KEYS)  # the publisher's, timestamp last
    assert MUTABLE_KEYS[-1] == "metadata/timestamp.json"
    for key in ("index.html", "channels/edge/feed.xml", "channels/edge/install.sh"):
        assert is_mutable(key)
    for key in ("metadata/3.root.json", "channels/edge/v3.json", "index/v3.json", "releases/t/a"):
        assert not is_mutable(key)


@pytest.mark.usefixtures("s3_env")
def test_cli_sync_json(
    built_store: tuple[Path, KeyRoot],
    seaweed: Seaweed,
    prefix: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    root, _ = built_store
    assert main(["--json", "channel", "sync", str(root), url_of(seaweed, prefix)]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["swapped"] == [*views(tree(root)), "index.json"]
    assert len(report["copied"]) == len(tree(root)) - len(report["swapped"])
    assert main(["channel", "sync", str(root), url_of(seaweed, prefix)]) == 0
    assert "0 copied, 0 swapped" in capsys.readouterr().out


def test_cli_bad_destination_is_one_error(
    built_store: tuple[Path, KeyRoot], capsys: pytest.CaptureFixture[str]
) -> None:
    root, _ = built_store
    assert main(["channel", "sync", str(root), "s3://bucket/a/../b"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: refusing S3 prefix")
    assert err.count("error:") == 1


@pytest.mark.usefixtures("s3_env")
def test_a_killed_sync_resumes(
    built_store: tuple[Path, KeyRoot], seaweed: Seaweed, prefix: str
) -> None:
    root, keys = built_store
    dst = s3_at(seaweed, prefix)
    argv = [sys.executable, "-m", "release", "channel", "sync", "--workers", "1"]
    argv += [str(root), url_of(seaweed, prefix)]
    env = {**os.environ, "PYTHONPATH": os.getcwd()}
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and len(list(dst.list())) < 5:
        time.sleep(0.01)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    copied = list(dst.list())
    assert 5 <= len(copied) < len(tree(root))
    assert "index.json" not in copied  # nothing names a missing object
    result = sync(DirectoryBackend(root), dst)
    assert result.present >= len(copied) - 1
    assert "index.json" in result.swapped
    client = ChannelClient(
        HttpFetcher(seaweed.public_url(BUCKET, prefix)), now=NOW, verifier=keys.verifier()
    )
    assert client.latest("stable") == "1.1.0"
