"""`release channel migrate`: a schema 1 store becomes a TUF store, keeping every release
and file; v1 clients reading it are told to upgrade."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from release import cli
from release.channel.client import ChannelClient
from release.channel.fetch import DirectoryFetcher
from release.channel.store import ChannelStore
from release.errors import ReleaseError
from tests.helpers.channelkit import EDGE, EDGE_ID, NOW, STABLE, STABLE_ID, KeyRoot, publish
from tests.helpers.tufcheck import TufReader


def _digests(root: Path) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in root.rglob("*")
        if p.is_file() and p.name != ".release-channels.lock"
    }


@pytest.fixture
def v1_store(tmp_path: Path) -> Path:
    root = tmp_path / "store"
    store = ChannelStore(root, durable=False)
    keys = KeyRoot()
    for i, v in enumerate(["2.14.0", "2.14.1", "2.15.0"]):
        publish(store, STABLE, v, keys.signer(STABLE_ID), now=NOW.replace(hour=i))
    publish(store, EDGE, "26.11.1", keys.signer(EDGE_ID), now=NOW.replace(hour=5))
    return root


def _repo(tmp_path: Path) -> Path:
    repo = tmp_path / "repo"
    (repo / "channels").mkdir(parents=True)
    (repo / "pyproject.toml").write_text('[tool.release]\nproject = "demo"\n')
    for ch, ident in (("edge", EDGE_ID), ("stable", STABLE_ID)):
        (repo / "channels" / f"{ch}.toml").write_text(
            f'name = "{ch}"\nkind = "{ch}"\n[dev-signer]\nidentity = "{ident.identity}"\n'
            f'issuer = "{ident.issuer}"\n'
        )
    return repo


def test_migrate_keeps_every_release_and_v1_clients_are_told_to_upgrade(
    v1_store: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = _digests(v1_store)
    repo = _repo(tmp_path)
    args = ["--repo", str(repo), "channel", "migrate", "--store", str(v1_store), "--sign", "dev"]
    assert cli.main(args) == 0, capsys.readouterr().err
    assert "migrated edge, stable to schema 2" in capsys.readouterr().out
    after = _digests(v1_store)
    changed = {k for k in before if after.get(k) != before[k]}
    assert changed <= {"index.json", "index.html"} | {
        k for k in before if "versions.json" in k or k.endswith((".xml", ".sh", ".ps1"))
    }
    assert "index.json" in changed
    assert any(k.startswith("metadata/") for k in after)

    reader = TufReader(v1_store)
    assert reader.channels() == ["edge", "stable"]
    assert reader.latest("stable") == "2.15.0"
    assert reader.latest("edge") == "26.11.1"
    for line in ("2.14", "2.15"):
        for release in reader.line("stable", line).releases:
            for ref in release.files():
                assert reader.read(ref.path) == (v1_store / ref.path).read_bytes()

    # The v1 client code stops at the stub, with the upgrade message.
    v1 = ChannelClient(DirectoryFetcher(v1_store), now=NOW)
    with pytest.raises(ReleaseError) as err:
        v1.index()
    assert "unsupported schema_version 2.0" in err.value.message
    assert "upgrade" in (err.value.hint or "")
    assert "this store moved to schema 2; upgrade" in (v1_store / "index.json").read_text()

    # Again: nothing to do.
    assert cli.main(args) == 0
    assert "nothing (already done)" in capsys.readouterr().out


def test_migrate_one_channel_at_a_time(
    v1_store: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Real signing migrates one channel per signer; the v1 history stays readable."""
    repo = _repo(tmp_path)
    base = ["--repo", str(repo), "channel", "migrate", "--store", str(v1_store), "--sign", "dev"]
    assert cli.main([*base, "--channel", "stable"]) == 0
    assert TufReader(v1_store).latest("stable") == "2.15.0"
    assert cli.main([*base, "--channel", "edge"]) == 0
    assert TufReader(v1_store).latest("edge") == "26.11.1"
    assert cli.main([*base, "--channel", "nope"]) != 0
    assert "unknown channel 'nope'" in capsys.readouterr().err


def test_migrate_refuses_a_store_without_a_v1_index(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = _repo(tmp_path)
    empty = tmp_path / "empty"
    empty.mkdir()
    args = ["--repo", str(repo), "channel", "migrate", "--store", str(empty), "--sign", "dev"]
    assert cli.main(args) != 0
    assert "has no schema 1 index to migrate" in capsys.readouterr().err
