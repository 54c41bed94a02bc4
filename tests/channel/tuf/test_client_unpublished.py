"""A channel the root/targets declare that has published nothing yet (a fresh project
that shipped edges only), told apart from a published channel an attacker hides.

A real root (``release trust init``) and a dev root (``--sign dev``) delegate every
configured channel up front, so until stable's first release its role is "delegated
but not in the snapshot". Consumers say so (exit 3: there is no answer yet) instead of
failing with python-tuf's error, ``list`` and ``verify`` still cover the other channels,
and nothing ever falls back to another channel. Once stable published, a snapshot
without its role is refused: by python-tuf (client with state), by the state's record
of verified channels, and, without state, by the role's first version that the store
still holds signed by the stable key.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from release import cli
from release.adapters.devsigstore import DEV_ISSUER
from release.channel.backends.directory import DirectoryBackend
from release.channel.store import ChannelStore
from release.channel.tuf import keys
from release.channel.tuf import trust as tt
from release.channel.tuf.client import open_client
from release.channel.tuf.repo import TufStore
from release.channel.tuf.trust import sign_with
from release.config import Identity, load_config
from release.errors import ChannelNotPublished, TrustError
from tests.helpers.channelkit import KeyRoot, make_release
from tests.helpers.sigstore import DevInstance
from tests.helpers.tufrepo import Ed25519Store

NOT_YET = r"channel stable is declared by the targets role of .*, but has published nothing yet"


class Fresh:
    """An Ed25519 store whose targets delegate edge and stable; only edge published."""

    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.now = datetime.now(UTC).replace(microsecond=0)
        self.s = Ed25519Store(tmp / "store", now=self.now)
        self.s.publish("edge", "26.11.1")
        self.root_file = tmp / "root.json"
        self.root_file.write_bytes((self.s.root / "metadata/1.root.json").read_bytes())
        self.state_dir = tmp / "state"
        self.n = 0

    def state(self, mode: str) -> Path:
        if mode == "with-state":
            return self.state_dir
        self.n += 1
        return self.tmp / f"fresh-{self.n}"

    def client(self, mode: str) -> Any:
        return open_client(
            str(self.s.root), root=self.root_file, state_dir=self.state(mode), env={}
        )

    def cli(self, capsys: pytest.CaptureFixture[str], mode: str, *args: str) -> Any:
        code = cli.main(
            [
                *(("--json",) if args and args[0] == "--json" else ()),
                "channel", *[a for a in args if a != "--json"],
                "--source", str(self.s.root), "--root", str(self.root_file),
                "--state-dir", str(self.state(mode)),
            ]
        )  # fmt: skip
        out = capsys.readouterr()
        return code, out.out, out.err

    def snapshot_without(self, role: str, key: Any) -> None:
        """A publisher holding the snapshot key (every workflow does) signs a snapshot
        leaving ``role`` and its line roles out, and a timestamp for it."""
        meta = self.s.root / "metadata"
        newest = max(int(p.name.split(".")[0]) for p in meta.glob("*.snapshot.json"))
        snap = self.s.metadata(f"{newest}.snapshot.json")
        snap.signed.meta = {
            k: v
            for k, v in snap.signed.meta.items()
            if k != f"{role}.json" and not k.startswith(f"{role}.")
        }
        snap.signed.version = newest + 1
        (meta / f"{newest + 1}.snapshot.json").write_bytes(sign_with(snap, [key]))
        ts = self.s.metadata("timestamp.json")
        ts.signed.version += 1
        ts.signed.snapshot_meta.version = newest + 1
        (meta / "timestamp.json").write_bytes(sign_with(ts, [key]))


@pytest.fixture
def fresh(tmp_path: Path) -> Fresh:
    return Fresh(tmp_path)


@pytest.fixture(params=["with-state", "without-state"])
def mode(request: pytest.FixtureRequest, fresh: Fresh) -> str:
    if request.param == "with-state":
        c = fresh.client("with-state")
        c.verify_all()
        assert c.save()
    return str(request.param)


def test_library_says_declared_but_not_published(fresh: Fresh, mode: str) -> None:
    c = fresh.client(mode)
    assert c.channels() == ["edge", "stable"]
    assert c.published_channels() == ["edge"]
    assert c.unpublished() == ["stable"]
    assert c.default_channel() == "stable"  # declared: never a fallback to edge
    with pytest.raises(ChannelNotPublished, match=NOT_YET) as info:
        c.latest("stable")
    err = info.value
    assert (err.exit_code, err.channel) == (3, "stable")
    assert "metadata/1.snapshot.json lists no role stable" in err.message
    assert "pass --channel edge" in (err.hint or "")
    for ask in (
        lambda: c.resolve("2.15.1", None),
        lambda: c.resolve("stable-2.15.1", None),
        lambda: c.find("stable", "2.15.1"),
        lambda: c.check("stable", "2.15.1"),
    ):
        with pytest.raises(ChannelNotPublished, match=NOT_YET):
            ask()
    assert c.latest("edge") == "26.11.1"
    assert c.resolve("edge-26.11.1", None) == ("edge", "26.11.1")
    assert c.resolve("26.11.1", None) == ("edge", "26.11.1")
    assert c.verify_all() == {"channels": 1, "lines": 1, "releases": 1}


def test_consumer_commands(fresh: Fresh, mode: str, capsys: pytest.CaptureFixture[str]) -> None:
    for args in (
        ("latest",),
        ("latest", "--channel", "stable"),
        ("show", "2.15.1"),
        ("download", "stable-2.15.1", "--to", str(fresh.tmp / "dl")),
    ):
        code, out, err = fresh.cli(capsys, mode, *args)
        assert (code, out) == (3, ""), args
        lines = err.splitlines()
        assert len(lines) == 2
        assert lines[0].startswith("error: channel stable is declared by")
        assert "has published nothing yet (metadata/1.snapshot.json lists no role stable)" in err
        assert lines[1].startswith("hint: channels with releases: edge; pass --channel edge")
        assert "Role stable was delegated" not in err
    assert not (fresh.tmp / "dl").exists()

    assert fresh.cli(capsys, mode, "latest", "--channel", "edge")[:2] == (0, "26.11.1\n")
    code, out, err = fresh.cli(capsys, mode, "list")
    assert (code, err) == (0, "")
    assert out.startswith("edge (edge): latest 26.11.1\n")
    assert out.endswith("stable: no releases yet (declared by the targets role)\n")
    code, out, _ = fresh.cli(capsys, mode, "--json", "list")
    listed = json.loads(out)["channels"]
    assert (code, listed["stable"]) == (
        0,
        {"published": False, "kind": None, "latest": None, "lines": []},
    )
    assert (listed["edge"]["published"], listed["edge"]["latest"]) == (True, "26.11.1")

    code, out, err = fresh.cli(capsys, mode, "verify", "--all-files")
    assert code == 0
    assert out == (
        "verified 1 channels, 1 lines, 1 releases; 3 files of 1 releases; "
        "declared, no releases yet: stable\n"
    )
    code, out, err = fresh.cli(capsys, mode, "--json", "check", "2.15.1")
    answer = json.loads(out)
    assert code == 3
    assert (answer["status"], answer["channel"], answer["published"]) == (
        "unknown",
        "stable",
        False,
    )
    assert "has published nothing yet" in answer["message"]
    assert "pass --channel edge" in err
    code, out, _ = fresh.cli(capsys, mode, "check", "edge-26.11.1")
    assert (code, out) == (0, "26.11.1 is up to date (edge, line 26.11)\n")


def test_first_publication_then_hiding_it_is_refused(fresh: Fresh, mode: str) -> None:
    fresh.s.publish("stable", "2.15.0")
    c = fresh.client(mode)
    assert c.published_channels() == ["edge", "stable"]
    assert c.latest("stable") == "2.15.0"
    if mode == "with-state":
        assert c.save()
    # The edge workflow holds a snapshot key: it signs a snapshot without stable.
    fresh.snapshot_without("stable", fresh.s.keys["edge"])
    if mode == "with-state":
        with pytest.raises(TrustError, match=r"New snapshot is missing info for 'stable"):
            fresh.client(mode).latest("edge")
        return
    c = fresh.client(mode)
    assert c.latest("edge") == "26.11.1"
    for ask in (lambda: c.latest("stable"), c.verify_all, lambda: c.published("stable")):
        with pytest.raises(
            TrustError,
            match=r"^metadata/\d+\.snapshot\.json \(role snapshot\) does not list role stable, "
            r"but metadata/1\.stable\.json \(role stable\) is in the store, signed by the keys "
            r"targets delegates stable to",
        ):
            ask()


def test_replaying_the_timestamp_from_before_stable_existed(fresh: Fresh, mode: str) -> None:
    """The server replays the (unexpired) timestamp signed before stable's first
    release: a client without state cannot tell it from the newest by its version, but
    the stable role's first version in the store gives the hidden channel away."""
    old_timestamp = (fresh.s.root / "metadata/timestamp.json").read_bytes()
    fresh.s.publish("stable", "2.15.0")
    if mode == "with-state":
        c = fresh.client(mode)
        assert c.latest("stable") == "2.15.0"
        assert c.save()
    (fresh.s.root / "metadata/timestamp.json").write_bytes(old_timestamp)
    c = fresh.client(mode)
    with pytest.raises(TrustError) as info:
        c.latest("stable")
    if mode == "with-state":
        assert "(rollback refused)" in info.value.message
    else:
        assert "does not list role stable, but metadata/1.stable.json (role stable) is in" in (
            info.value.message
        )


def test_the_state_remembers_verified_channels(fresh: Fresh) -> None:
    """Even when python-tuf's own copy of the snapshot is gone from the state."""
    fresh.s.publish("stable", "2.15.0")
    c = fresh.client("with-state")
    c.verify_all()
    assert c.save()
    fresh.snapshot_without("stable", fresh.s.keys["edge"])
    for p in (fresh.s.root / "metadata").glob("*.stable*.json"):
        p.unlink()  # and the server hides every trace of the role
    (c.state.metadata_dir / "snapshot.json").unlink()
    with pytest.raises(
        TrustError,
        match=r"snapshot\.json \(role snapshot\) does not list role stable, but this client "
        r"verified channel stable \(document version 1\) before",
    ):
        fresh.client("with-state").latest("stable")


def test_without_state_a_fully_hidden_channel_is_only_ever_unanswered(fresh: Fresh) -> None:
    """The limit of a stateless client (docs/channel-client.md): a snapshot signer that
    also deletes every version of the stable role makes stable look unpublished. The
    client still never answers from another channel: no result, exit 3."""
    fresh.s.publish("stable", "2.15.0")
    fresh.snapshot_without("stable", fresh.s.keys["edge"])
    for p in (fresh.s.root / "metadata").glob("*.stable*.json"):
        p.unlink()
    c = fresh.client("without-state")
    with pytest.raises(ChannelNotPublished, match=NOT_YET):
        c.latest(c.default_channel())
    with pytest.raises(ChannelNotPublished):
        c.resolve("2.15.0", None)


@pytest.mark.parametrize("planted", ["edge-key", "garbage", "not-targets"])
def test_planted_role_files_do_not_fake_a_publication(fresh: Fresh, planted: str) -> None:
    """A first version of the stable role that the stable key did not sign is no
    evidence: the channel stays "nothing published yet", not a false alarm."""
    md = fresh.s.metadata("1.edge.json")
    data = {
        "edge-key": sign_with(md, [fresh.s.keys["edge"]]),
        "garbage": b"{not json",
        "not-targets": (fresh.s.root / "metadata/1.snapshot.json").read_bytes(),
    }[planted]
    (fresh.s.root / "metadata/1.stable.json").write_bytes(data)
    with pytest.raises(ChannelNotPublished, match=NOT_YET):
        fresh.client("without-state").latest("stable")


def test_a_listed_role_file_that_is_missing_is_refused(fresh: Fresh, mode: str) -> None:
    fresh.s.publish("stable", "2.15.0")
    (fresh.s.root / "metadata/1.stable.json").unlink()
    c = fresh.client(mode)
    with pytest.raises(
        TrustError,
        match=r"^metadata/1\.stable\.json \(role stable\) is listed by the snapshot, but the "
        r"store does not have it",
    ) as info:
        c.latest("stable")
    assert info.value.exit_code == 1


def test_no_verify_reads_the_published_channels(fresh: Fresh) -> None:
    c = open_client(str(fresh.s.root), verify=False)
    assert (c.channels(), c.published_channels()) == (["edge", "stable"], ["edge"])
    with pytest.raises(ChannelNotPublished):
        c.latest("stable")
    # The publisher's views (page, feeds) of such a store render the published channels.
    written = ChannelStore(fresh.s.root, durable=False).render_views(fresh.now)
    assert any(p.endswith("channels/edge/versions.json") for p in written)
    assert not any("channels/stable/" in p for p in written)


# --- roots made by `release trust init` ------------------------------------------------

EDGE_CI = Identity("edge@ci.invalid", DEV_ISSUER)
STABLE_CI = Identity("stable@ci.invalid", DEV_ISSUER)
ALICE = Identity("alice@dev.invalid", DEV_ISSUER)


def _project(tmp: Path, table: str, edge: Identity, stable: Identity) -> Path:
    repo = tmp / "repo"
    (repo / "channels").mkdir(parents=True)
    (repo / "pyproject.toml").write_text('[tool.release]\nproject = "demo"\n')
    for name, ident in (("edge", edge), ("stable", stable)):
        (repo / "channels" / f"{name}.toml").write_text(
            f'name = "{name}"\nkind = "{name}"\n[{table}]\nidentity = "{ident.identity}"\n'
            f'issuer = "{ident.issuer}"\n'
        )
    (repo / "channels" / "trust.toml").write_text(
        f'[root]\nthreshold = 1\nidentities = [{{ identity = "{ALICE.identity}", '
        f'issuer = "{ALICE.issuer}" }}]\n'
    )
    return repo


def _publish_edge(repo: Path, store: Path, setup: Any, ident: Identity) -> None:
    edge = load_config(repo).channels["edge"]
    now = datetime.now(UTC).replace(microsecond=0)
    release = make_release(
        ChannelStore(store, durable=False),
        edge,
        "26.11.1",
        KeyRoot().signer(ident),
        published_at=now,
    )
    with keys.open_signer(setup, ident) as signer:
        TufStore(DirectoryBackend(store, durable=False)).publish(
            edge, release, project="demo", now=now, signer=signer, identity=ident
        )


def _consumer_sees_stable_unpublished(
    store: Path, root_args: list[str], tmp: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for state in ("a", "a", "b"):  # fresh, then with the state of the first run, fresh
        base = ["channel", "--source", str(store), "--state-dir", str(tmp / state), *root_args]
        assert cli.main([*base[:1], "latest", *base[1:]]) == 3
        err = capsys.readouterr().err
        assert "error: channel stable is declared by the targets role of" in err
        assert "has published nothing yet" in err
        assert cli.main([*base[:1], "latest", "--channel", "edge", *base[1:]]) == 0
        assert capsys.readouterr().out == "26.11.1\n"
        assert cli.main([*base[:1], "list", *base[1:]]) == 0
        assert "stable: no releases yet" in capsys.readouterr().out


def test_real_root_from_trust_init(
    tmp_path: Path, dev_sigstore: DevInstance, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = _project(tmp_path, "signer", EDGE_CI, STABLE_CI)
    init = ["--repo", str(repo), "trust", "init", "--sign", "trust-config"]
    token = dev_sigstore.token(ALICE)
    init += ["--trust-config", str(dev_sigstore.trust_config), "--identity-token", token]
    assert cli.main(init) == 0
    store = tmp_path / "store"
    store.mkdir()
    tt.install_repo_trust(TufStore(DirectoryBackend(store, durable=False)), repo / "channels")
    _publish_edge(repo, store, dev_sigstore.setup(EDGE_CI), EDGE_CI)
    capsys.readouterr()
    root = repo / "channels" / "root.json"
    _consumer_sees_stable_unpublished(store, ["--root", str(root)], tmp_path, capsys)
    # The repository's own channels/root.json, found from --repo.
    _consumer_sees_stable_unpublished(store, ["--repo", str(repo)], tmp_path / "r", capsys)


def test_dev_root_from_trust_init(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from release.adapters.sigstore import SigningSetup

    edge, stable = (
        Identity("edge@dev.invalid", DEV_ISSUER),
        Identity("stable@dev.invalid", DEV_ISSUER),
    )
    repo = _project(tmp_path, "dev-signer", edge, stable)
    store = tmp_path / "store"
    args = ["--repo", str(repo), "trust", "init", "--sign", "dev", "--store", str(store)]
    assert cli.main(args) == 0
    _publish_edge(repo, store, SigningSetup(mode="dev"), edge)
    capsys.readouterr()
    root = store / "metadata" / "1.root.json"
    _consumer_sees_stable_unpublished(store, ["--root", str(root)], tmp_path, capsys)
    _consumer_sees_stable_unpublished(store, ["--dev"], tmp_path / "d", capsys)


def test_library_api_answers_unknown_or_raises(fresh: Fresh) -> None:
    from release.channel import api

    root = fresh.root_file.read_bytes()
    source, state = str(fresh.s.root), fresh.tmp / "api-state"
    checked = api.check("2.15.1", source=source, root=root, state_dir=state)
    assert (checked.status, checked.verified) == ("unknown", False)
    assert "channel stable is declared by the targets role" in checked.message
    with pytest.raises(ChannelNotPublished, match=NOT_YET):
        api.latest(source=source, root=root, state_dir=state)
    assert api.latest(source=source, root=root, channel="edge", state_dir=state).version == (
        "26.11.1"
    )
