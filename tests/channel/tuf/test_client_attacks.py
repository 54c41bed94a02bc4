"""Attacks on a TUF channel store, as a server owner or a compromised publisher would try
them, against a client with state (it verified the store before) and one without (a
container, a CI job). Every refusal is a TrustError naming the file and the role.

The cases of ``shared/notes/channel-index.md`` that still apply are here; those that
TUF makes moot (the v1 index signer, trust on first use of signer identities) are
replaced by the takeover and role-separation attacks.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from tuf.api.metadata import Metadata, MetaFile, Snapshot, Timestamp

from release.channel import strictjson as sj
from release.errors import TrustError, UsageError
from tests.channel.forge import forge
from tests.helpers.tufstore import TufRepo, TufWorld, new_key


@pytest.fixture
def world(tmp_path: Path) -> TufWorld:
    return TufWorld(tmp_path)


@pytest.fixture(params=["with-state", "without-state"])
def mode(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def prime(world: TufWorld, mode: str) -> None:
    """Before the attack: the client with state has verified the honest store."""
    if mode == "with-state":
        world.seen()


def client_for(world: TufWorld, mode: str, **kwargs: Any) -> Any:
    state = world.state_dir if mode == "with-state" else world.fresh_state()
    return world.client(state_dir=state, **kwargs)


def _read_everything(world: TufWorld, mode: str, **kwargs: Any) -> None:
    c = client_for(world, mode, **kwargs)
    c.verify_all()
    c.latest("stable")


def refused(world: TufWorld, mode: str, match: str, **kwargs: Any) -> TrustError:
    with pytest.raises(TrustError, match=match) as info:
        _read_everything(world, mode, **kwargs)
    err = info.value
    assert "\n" not in err.message
    assert err.exit_code == 1
    return err


def test_honest_store_both_ways(world: TufWorld, mode: str) -> None:
    prime(world, mode)
    c = client_for(world, mode)
    assert c.latest("stable") == "2.15.1"
    assert c.latest("edge") == "26.11.1"
    assert c.verify_all() == {"channels": 2, "lines": 4, "releases": 6}


def test_whole_store_takeover_by_a_foreign_identity(world: TufWorld, mode: str) -> None:
    prime(world, mode)
    # The server's owner re-creates every role with their own keys (root included),
    # twice so that every version is ahead of the honest one.
    evil = TufRepo(world.root, world.now)
    evil.publish()
    evil.publish()
    refused(world, mode, r"metadata/timestamp\.json \(role timestamp\) is not signed")
    # Their new root as the next version of ours: not signed by our root keys.
    evil.rotate(new_root_keys=1)
    (world.root / "metadata" / "2.root.json").write_bytes(evil.root_bytes())
    refused(world, mode, r"metadata/2\.root\.json \(role root\) is not signed")


def test_edge_identity_signs_stable_documents(world: TufWorld, mode: str) -> None:
    prime(world, mode)
    edge_key = world.repo.key("edge")
    forge(world.root, world.stable, "stable", channel_mut=lambda d: d.update(latest="2.14.1"))
    # The edge workflow may sign snapshot and timestamp, but not the stable role.
    world.repo.publish(signers={"stable": [edge_key]})
    refused(world, mode, r"metadata/\d+\.stable\.json \(role stable\) is not signed")


def test_edge_identity_drops_the_stable_channel(world: TufWorld, mode: str) -> None:
    prime(world, mode)
    edge_key = world.repo.key("edge")
    world.repo.publish(drop=("stable",), signers={"targets": [edge_key]})
    # A client with state notices the snapshot losing the stable roles first.
    refused(
        world,
        mode,
        r"metadata/\d+\.targets\.json \(role targets\) is not signed"
        if mode == "without-state"
        else r"snapshot\.json \(role snapshot\): New snapshot is missing info for 'stable",
    )


def test_stable_missing_from_the_snapshot_is_never_a_fallback_to_edge(
    world: TufWorld, mode: str
) -> None:
    prime(world, mode)
    # A publisher holding the snapshot key leaves the stable role out.
    snap: Any = world.repo.written["snapshot"]
    meta = {k: v for k, v in snap.signed.meta.items() if not k.startswith("stable")}
    new = Snapshot(version=snap.signed.version + 1, expires=snap.signed.expires, meta=meta)
    world.repo.versions["snapshot"] = new.version
    world.repo.write("snapshot", Metadata(new))
    world.repo.timestamp(new.version)
    if mode == "with-state":
        refused(world, mode, r"\(role snapshot\): New snapshot is missing info for 'stable")
        return
    c = client_for(world, mode)
    assert c.default_channel() == "stable"  # declared by targets: no silent fallback
    # Without state the stable role's first version, signed by its own key, gives the
    # hidden channel away: a refusal, not "nothing published yet".
    with pytest.raises(
        TrustError,
        match=r"^metadata/\d+\.snapshot\.json \(role snapshot\) does not list role stable, "
        r"but metadata/1\.stable\.json \(role stable\) is in the store, signed by",
    ):
        c.latest("stable")
    assert c.latest("edge") == "26.11.1"


def test_a_declared_channel_without_a_document_is_an_error(world: TufWorld, mode: str) -> None:
    prime(world, mode)
    doc = world.repo.current_channel_doc("stable")
    # The stable role (its own key) lists something, but no channel document.
    world.repo.publish(channel_docs={"stable": doc.replace(".json", ".json.sigstore.json")})
    refused(world, mode, r"role stable lists no channel document")


def test_undeclared_channel_gets_a_did_you_mean(world: TufWorld) -> None:
    c = world.client()
    with pytest.raises(UsageError, match=r"channel 'stabel' is not delegated") as info:
        c.latest("stabel")
    assert "did you mean --channel stable?" in (info.value.hint or "")


def test_stable_identity_adds_an_edge_format_line_to_stable(world: TufWorld, mode: str) -> None:
    prime(world, mode)
    edge_index = sj.loads((world.root / "index.json").read_bytes())["channels"]["edge"]
    edge_line_pin = edge_index["lines"]["26.11"]["document"]
    edge_line = sj.loads((world.root / edge_line_pin["path"]).read_bytes())
    edge_line.update(channel="stable", version=1)
    rel = "channels/stable/lines/26.11/v1.json"
    (world.root / rel).parent.mkdir(parents=True)
    data = sj.dumps(edge_line)
    (world.root / rel).write_bytes(data)
    import hashlib

    entry = {
        "line": "26.11",
        "latest": edge_line["latest"],
        "releases": len(edge_line["releases"]),
        "support": {"phase": "active", "released": "2026-11-16", "eol": None},
        "document": {
            "path": rel,
            "version": 1,
            "length": len(data),
            "sha256": hashlib.sha256(data).hexdigest(),
        },
    }

    def add_line(cd: dict[str, Any]) -> None:
        cd["lines"].append(entry)
        cd["latest"] = edge_line["latest"]  # consistent, as a careful attacker makes it

    forge(world.root, world.stable, "stable", channel_mut=add_line)
    world.repo.publish()  # signed with the stable role's own (legitimate) keys
    refused(world, mode, r"lines/26\.11/v1\.json \(role stable\.26\.11\).*edge")


def test_huge_version_then_recovery_through_key_rotation(world: TufWorld) -> None:
    world.seen()
    # A leaked timestamp key signs version 2**40.
    world.repo.versions["timestamp"] = 2**40 - 1
    world.repo.timestamp(world.repo.versions["snapshot"])
    world.seen()
    # The honest publisher continues at its own numbers: the client is stuck on 2**40 …
    world.repo.versions["timestamp"] = 5
    world.repo.publish()
    with pytest.raises(TrustError, match=r"role timestamp\).*rollback refused"):
        world.client().latest("stable")
    # … until the maintainers rotate the timestamp key (root v2): the client recovers.
    world.repo.rotate(replace=("timestamp",))
    world.repo.publish()
    c = world.client()
    assert c.latest("stable") == "2.15.1"
    assert c.save()
    state = sj.loads((c.state.path).read_bytes())
    assert state["timestamp_version"] < 2**40
    assert state["root_version"] == 2


def test_rollback_to_an_older_timestamp(world: TufWorld) -> None:
    old = (world.root / "metadata" / "timestamp.json").read_bytes()
    world.repo.publish()
    world.seen()
    (world.root / "metadata" / "timestamp.json").write_bytes(old)
    with pytest.raises(TrustError, match=r"metadata/timestamp\.json \(role timestamp\).*rollback"):
        world.client().latest("stable")


def test_old_timestamp_for_a_fresh_client(world: TufWorld) -> None:
    """A fresh client cannot tell an old timestamp from the newest while it is unexpired:
    TUF bounds that window by the timestamp's expiry (2 days). Once expired, it is a
    freeze and refused; once the timestamp key rotated, it is refused at once."""
    world.repo.publish(timestamp_expires=world.now + timedelta(seconds=2))
    old = (world.root / "metadata" / "timestamp.json").read_bytes()
    world.repo.publish()
    (world.root / "metadata" / "timestamp.json").write_bytes(old)
    assert world.client(state_dir=world.fresh_state()).latest("stable") == "2.15.1"
    import time

    time.sleep(2.1)
    with pytest.raises(TrustError, match=r"metadata/timestamp\.json \(role timestamp\).*expired"):
        world.client(state_dir=world.fresh_state()).latest("stable")
    world.repo.rotate(replace=("timestamp",))
    world.repo.publish()
    (world.root / "metadata" / "timestamp.json").write_bytes(old)
    with pytest.raises(TrustError, match=r"role timestamp\) is not signed"):
        world.client(state_dir=world.fresh_state()).latest("stable")


def test_expired_timestamp_is_a_freeze(world: TufWorld, mode: str) -> None:
    prime(world, mode)
    ts: Any = world.repo.written["timestamp"]
    t = Timestamp(
        version=ts.signed.version + 1,
        expires=world.now - timedelta(minutes=1),
        snapshot_meta=MetaFile(ts.signed.snapshot_meta.version),
    )
    world.repo.write("timestamp", Metadata(t))
    refused(world, mode, r"timestamp\.json \(role timestamp\) has expired")


def test_root_not_signed_by_its_threshold(world: TufWorld, tmp_path: Path) -> None:
    two = TufRepo(tmp_path / "other", world.now, root_keys=2, threshold=2)
    md: Any = two.root_md
    md.signatures.clear()
    md.sign(two.root_signers[0])
    (tmp_path / "weak-root.json").write_bytes(TufRepo._bytes(md))
    with pytest.raises(TrustError, match=r"--root .*weak-root\.json \(role root\)"):
        world.client(root=tmp_path / "weak-root.json", state_dir=world.fresh_state())


def test_rotated_root_signed_only_by_the_new_keys(world: TufWorld, mode: str) -> None:
    prime(world, mode)
    world.repo.rotate(new_root_keys=1, sign_with_old=False)
    world.repo.publish()
    refused(world, mode, r"metadata/2\.root\.json \(role root\) is not signed")


def test_rotated_root_missing_one_step(world: TufWorld, mode: str) -> None:
    prime(world, mode)
    world.repo.rotate(replace=("timestamp",))
    world.repo.rotate(replace=("timestamp",))
    world.repo.publish()
    (world.root / "metadata" / "2.root.json").unlink()
    err = refused(world, mode, r"timestamp\.json \(role timestamp\) is not signed")
    assert "metadata/2.root.json is missing" in (err.hint or "")


def test_channel_document_edited_after_signing(world: TufWorld, mode: str) -> None:
    prime(world, mode)
    doc = world.root / world.repo.current_channel_doc("stable")
    doc.write_bytes(doc.read_bytes().replace(b'"latest":"2.15.1"', b'"latest":"2.15.0"'))
    refused(world, mode, r"channels/stable/v\d+\.json \(role stable\)")


def test_line_document_not_the_one_the_channel_pins(world: TufWorld, mode: str) -> None:
    prime(world, mode)
    index = sj.loads((world.root / "index.json").read_bytes())
    pinned = index["channels"]["stable"]["lines"]["2.15"]["document"]["path"]
    older = pinned.replace(f"/v{pinned.rsplit('/v', 1)[1]}", "/v1.json")
    assert (world.root / older).is_file()
    assert older != pinned
    # The line role lists an older line document at the pinned path's bytes.
    (world.root / pinned).write_bytes((world.root / older).read_bytes())
    world.repo.publish()
    refused(world, mode, r"is not the document channel stable pins")


def test_declared_latest_that_is_not_the_maximum(world: TufWorld, mode: str) -> None:
    prime(world, mode)
    forge(world.root, world.stable, "stable", channel_mut=lambda d: d.update(latest="2.14.1"))
    world.repo.publish()
    refused(world, mode, r"declared latest '2\.14\.1' is not the highest")


def test_edge_release_smuggled_into_a_stable_line(world: TufWorld, mode: str) -> None:
    prime(world, mode)
    from tests.helpers.channelkit import EDGE, make_release

    edge_release = make_release(world.store, EDGE, "26.11.2", world.edge)

    def smuggle(ld: dict[str, Any]) -> None:
        ld["releases"].append(edge_release.to_dict())

    forge(world.root, world.stable, "stable", line="2.15", line_mut=smuggle)
    world.repo.publish()
    refused(world, mode, r"release 26\.11\.2 belongs to line 26\.11, not 2\.15")


def test_oversized_timestamp_is_cut_off(world: TufWorld, mode: str) -> None:
    prime(world, mode)
    (world.root / "metadata" / "timestamp.json").write_bytes(b" " * (1 << 20))
    refused(world, mode, r"timestamp\.json \(role timestamp\) is longer than allowed")


@pytest.mark.parametrize(
    "which",
    [
        "SHA256SUMS",
        "provenance.intoto.jsonl",
        "demo-stable-2.15.1-linux-amd64.tar.gz.sigstore.json",
        "artifact",
    ],
)
def test_edited_release_files_fail_verify(world: TufWorld, mode: str, which: str) -> None:
    prime(world, mode)
    directory = world.root / "releases" / "stable-2.15.1"
    name = "demo-stable-2.15.1-linux-amd64.tar.gz" if which == "artifact" else which
    path = directory / name
    data = bytearray(path.read_bytes())
    data[-2] ^= 1
    path.write_bytes(bytes(data))
    c = client_for(world, mode)
    assert c.latest("stable") == "2.15.1"  # documents are intact …
    with pytest.raises(
        TrustError, match=rf"releases/stable-2\.15\.1/{name} \(role stable\.2\.15\)"
    ):
        c.verify_release("stable", "2.15.1")  # … the release file is not


def test_newer_schema_minor_with_extra_fields_is_accepted(world: TufWorld, mode: str) -> None:
    prime(world, mode)
    forge(
        world.root,
        world.stable,
        "stable",
        channel_mut=lambda d: d.update(schema_version="1.3", mirrors=["https://m.example/"]),
    )
    world.repo.publish()
    c = client_for(world, mode)
    assert c.latest("stable") == "2.15.1"
    assert any("1.3" in w for w in c.warnings)


def test_a_stale_lock_in_the_store_is_ignored(world: TufWorld, mode: str) -> None:
    prime(world, mode)
    (world.root / ".release-channels.lock").write_text("4242 publisher\n")
    assert client_for(world, mode).latest("stable") == "2.15.1"


def test_an_unsigned_snapshot_key_swap_is_refused(world: TufWorld, mode: str) -> None:
    prime(world, mode)
    world.repo.publish(signers={"snapshot": [new_key()]})
    refused(world, mode, r"snapshot\.json \(role snapshot\) is not signed")


def test_channel_document_version_going_down(world: TufWorld) -> None:
    world.seen()
    # The stable role itself (its key holder) lists an older channel document as current.
    world.repo.publish(channel_docs={"stable": "channels/stable/v5.json"})
    assert world.client(state_dir=world.fresh_state()).latest("stable") == "2.15.1"
    with pytest.raises(
        TrustError,
        match=r"channels/stable/v5\.json \(role stable\): channel document version 5 is older "
        r"than version \d+ this client verified before \(rollback\)",
    ) as info:
        world.client().latest("stable")
    assert "state.json" in (info.value.hint or "")


def _line_2_15(world: TufWorld) -> dict[str, Any]:
    index = sj.loads((world.root / "index.json").read_bytes())
    pin = index["channels"]["stable"]["lines"]["2.15"]["document"]
    return dict(sj.loads((world.root / pin["path"]).read_bytes()))


def _regress(ld: dict[str, Any]) -> None:
    ld["releases"] = [r for r in ld["releases"] if r["version"] != "2.15.1"]
    ld["latest"] = "2.15.0"


def _withdrawn(original: dict[str, Any]) -> Any:
    def mut(ld: dict[str, Any]) -> None:
        ld["releases"] = [*ld["releases"], dict(original)]
        ld["releases"][-1].update(
            status="withdrawn",
            withdrawal={
                "reason": "corrupts data",
                "withdrawn_at": "2026-11-29T00:00:00Z",
                "replacement": "2.15.0",
            },
        )
        ld["latest"] = "2.15.0"

    return mut


def test_regression_without_withdrawal_then_with(world: TufWorld) -> None:
    world.seen()
    original = _line_2_15(world)["releases"][-1]
    forge(world.root, world.stable, "stable", line="2.15", line_mut=_regress)
    world.repo.publish()
    with pytest.raises(
        TrustError,
        match=r"line 2\.15 of stable went from 2\.15\.1 down to 2\.15\.0 without a withdrawal",
    ):
        world.client().latest("stable")
    forge(world.root, world.stable, "stable", line="2.15", line_mut=_withdrawn(original))
    world.repo.publish()
    c = world.client()
    assert c.latest("stable") == "2.15.0"
    result = c.check("stable", "2.15.1")
    assert (result.status, result.message) == (
        "withdrawn",
        "2.15.1 was withdrawn: corrupts data; use 2.15.0",
    )


@pytest.mark.parametrize(
    ("raw", "match"),
    [
        (lambda b: b.replace(b'{"', b'{"latest":"9.9.9","', 1), r"duplicate key"),
        (lambda b: b"\xef\xbb\xbf" + b, r"starts with a byte-order mark"),
        (
            lambda b: b.replace(b'"schema_version":"1.0"', b'"schema_version":"2.0"'),
            r"unsupported schema_version 2\.0",
        ),
    ],
)
def test_malformed_documents_signed_by_the_role(
    world: TufWorld, mode: str, raw: Any, match: str
) -> None:
    prime(world, mode)
    doc = world.root / world.repo.current_channel_doc("stable")
    data = raw(doc.read_bytes())
    assert data != doc.read_bytes()
    doc.write_bytes(data)
    world.repo.publish()  # the role signs these very bytes
    refused(world, mode, rf"channels/stable/v\d+\.json \(role stable\).*({match})")


def test_same_timestamp_version_with_other_bytes_keeps_the_trusted_one(world: TufWorld) -> None:
    world.seen()
    ts: Any = world.repo.written["timestamp"]
    forged = Timestamp(
        version=ts.signed.version,  # the same version …
        expires=ts.signed.expires + timedelta(hours=1),  # … other bytes
        snapshot_meta=MetaFile(ts.signed.snapshot_meta.version + 7),
    )
    world.repo.write("timestamp", Metadata(forged))
    c = world.client()
    assert c.latest("stable") == "2.15.1"  # answered from the trusted copy
    assert c.save()
    assert (
        sj.loads(c.state.path.read_bytes())["snapshot_version"] == ts.signed.snapshot_meta.version
    )
