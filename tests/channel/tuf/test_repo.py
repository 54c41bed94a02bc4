"""The TUF publisher: layout, signatures, races, crashes, and what it refuses to sign."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from tuf.api.metadata import Metadata

from release.channel import model
from release.channel.backends import SwapConflict
from release.channel.tuf import metadata as tm
from release.channel.tuf.reader import all_documents
from release.channel.tuf.repo import TufStore
from release.errors import ChannelError, VerificationError
from tests.helpers.tufrepo import Ed25519Store


@pytest.fixture
def s(tmp_path: Path) -> Ed25519Store:
    return Ed25519Store(tmp_path / "store")


def test_publish_writes_the_contract_layout(s: Ed25519Store) -> None:
    s.publish("stable", "2.15.0")
    s.publish("edge", "26.11.1")
    s.publish("stable", "2.15.1", now=s.later(1))
    names = set(s.files_now())
    for key in (
        "metadata/1.root.json",
        "metadata/root.json",
        "metadata/1.targets.json",
        "metadata/timestamp.json",
        "metadata/3.snapshot.json",
        "metadata/2.stable.json",
        "metadata/2.stable.2.15.json",
        "metadata/1.edge.json",
        "metadata/1.edge.26.11.json",
        "channels/stable/v2.json",
        "channels/stable/lines/2.15/v2.json",
        "index.json",
    ):
        assert key in names, key
    snap = s.metadata("3.snapshot.json")
    assert {k: m.version for k, m in snap.signed.meta.items()} == {
        "targets.json": 1,
        "edge.json": 1,
        "edge.26.11.json": 1,
        "stable.json": 2,
        "stable.2.15.json": 2,
    }
    ts = Metadata.from_bytes((s.root / "metadata/timestamp.json").read_bytes())
    assert (ts.signed.version, ts.signed.snapshot_meta.version) == (3, 3)
    line = s.metadata("2.stable.2.15.json").signed
    assert "channels/stable/lines/2.15/v2.json" in line.targets
    assert "releases/stable-2.15.0/SHA256SUMS" in line.targets
    assert any(p.startswith("releases/stable-2.15.1/") for p in line.targets)
    channel = s.metadata("2.stable.json").signed
    assert list(channel.targets) == ["channels/stable/v2.json"]
    assert channel.delegations.roles["stable.2.15"].paths == [
        "channels/stable/lines/2.15/*",
        "releases/stable-2.15.*/*",
    ]
    state = s.store.read_state()
    assert state is not None
    s.store.verify_metadata(state)  # every signature by the right key
    # No v1 index is written: index.json is the schema 2.0 stub.
    assert model.INDEX_PATH == tm.INDEX_KEY
    assert not (s.root / "index").exists()


def test_v1_clients_refuse_the_stub(s: Ed25519Store) -> None:
    """The v1 client code parses index.json first: it stops at the schema major."""
    from release.channel.strictjson import DocumentError

    s.publish("edge", "26.11.1")
    with pytest.raises(DocumentError) as err:
        model.parse_index((s.root / "index.json").read_bytes())
    assert "unsupported schema_version 2.0" in err.value.message
    assert "upgrade" in (err.value.hint or "")
    assert b"this store moved to schema 2; upgrade" in (s.root / "index.json").read_bytes()


def test_republishing_the_same_release_is_a_no_op(s: Ed25519Store) -> None:
    s.publish("edge", "26.11.1")
    before = s.files_now()
    result = s.publish("edge", "26.11.1")
    assert not result.changed
    assert s.files_now() == before


def test_edge_identity_cannot_sign_stable(s: Ed25519Store) -> None:
    s.publish("stable", "2.15.0")
    before = s.files_now()
    release = s.release("stable", "2.15.1")
    # The edge workflow's key, publishing a stable record signed by the stable identity.
    with pytest.raises(VerificationError, match="not a key of role stable"):
        s.store.publish(
            s.channels["stable"],
            release,
            project="demo",
            now=s.later(1),
            signer=s.keys["edge"],
            identity=s.identities["stable"],
        )
    after = s.files_now()
    assert {k: v for k, v in after.items() if not k.startswith("releases/")} == {
        k: v for k, v in before.items() if not k.startswith("releases/")
    }
    # ... and an edge record on the stable channel is refused before anything is signed.
    edge_release = s.release("stable", "2.15.2")
    edge_like = model.Release(
        **{**edge_release.__dict__, "signer": s.identities["edge"]}  # type: ignore[arg-type]
    )
    with pytest.raises(VerificationError, match="not a key of role stable"):
        s.store.publish(
            s.channels["stable"],
            edge_like,
            project="demo",
            now=s.later(2),
            signer=s.keys["edge"],
            identity=s.identities["edge"],
        )


def test_edge_publisher_never_drops_stable(s: Ed25519Store) -> None:
    """An edge run whose configuration lost the stable channel still lists it."""
    s.publish("stable", "2.15.0")
    s.channels.pop("stable")
    s.publish("edge", "26.11.1", now=s.later(1))
    snap = s.metadata("2.snapshot.json").signed
    assert {"stable.json", "stable.2.15.json"} <= set(snap.meta)


def test_unknown_channel_is_refused(tmp_path: Path) -> None:
    from tests.helpers.channelkit import EDGE

    s = Ed25519Store(tmp_path / "store", channels=(EDGE,))
    from tests.helpers.channelkit import STABLE

    s.channels["stable"] = STABLE
    s.keys["stable"] = s.keys["edge"]
    with pytest.raises(ChannelError, match="not delegated by the targets role"):
        s.publish("stable", "2.15.0")


class FlakyBackend:
    """A backend that 'crashes' on the n-th compare-and-swap of a key."""

    def __init__(self, inner: object, key: str) -> None:
        self.inner = inner
        self.key = key
        self.crash = True

    def __getattr__(self, name: str) -> object:
        return getattr(self.inner, name)

    def compare_and_swap(self, key: str, data: bytes, expected: str | None) -> str:
        if key == self.key and self.crash:
            self.crash = False
            raise KeyboardInterrupt("power cut before the timestamp swap")
        return self.inner.compare_and_swap(key, data, expected)  # type: ignore[attr-defined, no-any-return]


def test_a_crash_before_the_swap_leaves_the_previous_state(s: Ed25519Store) -> None:
    s.publish("edge", "26.11.1")
    ts_before = (s.root / tm.TIMESTAMP_KEY).read_bytes()
    flaky = FlakyBackend(s.backend, tm.TIMESTAMP_KEY)
    crashing = TufStore(flaky)  # type: ignore[arg-type]
    release = s.release("edge", "26.11.2")
    with pytest.raises(KeyboardInterrupt):
        crashing.publish(
            s.channels["edge"],
            release,
            project="demo",
            now=s.later(1),
            signer=s.keys["edge"],
            identity=s.identities["edge"],
        )
    # Orphans were written, but the timestamp (and so the whole state) is unchanged.
    assert (s.root / "metadata/2.snapshot.json").exists()
    assert (s.root / tm.TIMESTAMP_KEY).read_bytes() == ts_before
    state = s.store.read_state()
    assert state is not None
    assert state.version_of("edge.26.11") == 1
    s.store.verify_metadata(state)
    # The next run skips the orphans' versions and publishes.
    result = crashing.publish(
        s.channels["edge"],
        release,
        project="demo",
        now=s.later(2),
        signer=s.keys["edge"],
        identity=s.identities["edge"],
    )
    assert result.changed
    assert result.snapshot_version == 3
    _, lines = all_documents(s.store)
    assert [r.version for r in lines[("edge", "26.11")].releases] == ["26.11.1", "26.11.2"]


class RacingBackend:
    """Lets another publisher win right before our timestamp swap (once)."""

    def __init__(self, inner: object, rival: object) -> None:
        self.inner = inner
        self.rival = rival
        self.raced = False

    def __getattr__(self, name: str) -> object:
        return getattr(self.inner, name)

    def compare_and_swap(self, key: str, data: bytes, expected: str | None) -> str:
        if key == tm.TIMESTAMP_KEY and not self.raced:
            self.raced = True
            self.rival()  # type: ignore[operator]
        return self.inner.compare_and_swap(key, data, expected)  # type: ignore[attr-defined, no-any-return]


def test_a_lost_swap_rebuilds_and_loses_nothing(s: Ed25519Store) -> None:
    s.publish("stable", "2.15.0")
    s.publish("edge", "26.11.1")
    racing = RacingBackend(s.backend, lambda: s.publish("stable", "2.15.1", now=s.later(1)))
    store = TufStore(racing)  # type: ignore[arg-type]
    result = store.publish(
        s.channels["edge"],
        s.release("edge", "26.11.2"),
        project="demo",
        now=s.later(2),
        signer=s.keys["edge"],
        identity=s.identities["edge"],
    )
    assert result.attempts == 2
    channels, _lines = all_documents(s.store)
    assert channels["stable"].latest == "2.15.1"
    assert channels["edge"].latest == "26.11.2"
    state = s.store.read_state()
    assert state is not None
    s.store.verify_metadata(state)


def test_concurrent_publishers_lose_nothing(s: Ed25519Store) -> None:
    s.publish("stable", "2.14.0")
    errors: list[BaseException] = []

    def run(channel: str, versions: list[str]) -> None:
        try:
            for i, v in enumerate(versions):
                s.publish(channel, v, now=s.later(1 + i))
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [
        threading.Thread(target=run, args=("edge", [f"26.11.{n}" for n in range(1, 5)])),
        threading.Thread(target=run, args=("stable", ["2.15.0", "2.15.1", "2.15.2", "2.15.3"])),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    channels, lines = all_documents(s.store)
    assert len(lines[("edge", "26.11")].releases) == 4
    assert len(lines[("stable", "2.15")].releases) == 4
    assert channels["stable"].latest == "2.15.3"
    state = s.store.read_state()
    assert state is not None
    s.store.verify_metadata(state)


def test_swap_conflict_bounded(s: Ed25519Store) -> None:
    s.publish("edge", "26.11.1")

    class AlwaysLose(FlakyBackend):
        def compare_and_swap(self, key: str, data: bytes, expected: str | None) -> str:
            if key == tm.TIMESTAMP_KEY:
                raise SwapConflict("somebody else won")
            return self.inner.compare_and_swap(key, data, expected)  # type: ignore[attr-defined, no-any-return]

    store = TufStore(AlwaysLose(s.backend, tm.TIMESTAMP_KEY), max_attempts=3)  # type: ignore[arg-type]
    with pytest.raises(ChannelError, match="gave up publishing after 3"):
        store.publish(
            s.channels["edge"],
            s.release("edge", "26.11.2"),
            project="demo",
            now=s.later(1),
            signer=s.keys["edge"],
            identity=s.identities["edge"],
        )


def test_withdraw_and_refresh(s: Ed25519Store) -> None:
    s.publish("stable", "2.15.0")
    s.publish("stable", "2.15.1", now=s.later(1))
    s.store.withdraw(
        s.channels["stable"],
        "2.15.1",
        reason="broken",
        now=s.later(2),
        signer=s.keys["stable"],
        identity=s.identities["stable"],
    )
    channels, lines = all_documents(s.store)
    assert channels["stable"].latest == "2.15.0"
    r = lines[("stable", "2.15")].release("2.15.1")
    assert r is not None
    assert r.withdrawal is not None
    # Refresh 20 days later: the channel roles expire within half their validity.
    later = s.now + tm.Expiry().channel * 2 // 3
    result = s.store.refresh(s.channels["stable"], now=later, signer=s.keys["stable"])
    assert set(result.roles) == {"stable", "stable.2.15"}
    ts = Metadata.from_bytes((s.root / tm.TIMESTAMP_KEY).read_bytes())
    assert ts.signed.expires == later + tm.Expiry().timestamp
    state = s.store.read_state()
    assert state is not None
    s.store.verify_metadata(state)
    assert s.store.role(state, "stable").signed.expires == later + tm.Expiry().channel  # type: ignore[union-attr]


def test_missing_or_changed_release_files_stop_before_any_document(s: Ed25519Store) -> None:
    s.publish("edge", "26.11.1")
    release = s.release("edge", "26.11.2")
    before = {k: v for k, v in s.files_now().items() if not k.startswith("releases/")}
    artifact = s.root / release.artifacts[0].path
    artifact.write_bytes(b"swapped after it was recorded")
    with pytest.raises(VerificationError, match="the release record says"):
        s.store.publish(
            s.channels["edge"], release, project="demo", now=s.later(1),
            signer=s.keys["edge"], identity=s.identities["edge"],
        )  # fmt: skip
    artifact.unlink()
    with pytest.raises(ChannelError, match="is not in the channel store"):
        s.store.publish(
            s.channels["edge"], release, project="demo", now=s.later(1),
            signer=s.keys["edge"], identity=s.identities["edge"],
        )  # fmt: skip
    assert {k: v for k, v in s.files_now().items() if not k.startswith("releases/")} == before


def test_orphan_documents_never_block_and_are_never_overwritten(s: Ed25519Store) -> None:
    s.publish("edge", "26.11.1")
    orphan = s.root / "channels/edge/lines/26.11/v2.json"
    orphan.write_bytes(b'{"left": "by a crashed publisher"}')
    meta_orphan = s.root / "metadata/2.edge.26.11.json"
    meta_orphan.write_bytes(b"{}")
    result = s.publish("edge", "26.11.2", now=s.later(1))
    assert result.line_document == "channels/edge/lines/26.11/v3.json"
    assert orphan.read_bytes() == b'{"left": "by a crashed publisher"}'
    assert meta_orphan.read_bytes() == b"{}"
    state = s.store.read_state()
    assert state is not None
    assert state.version_of("edge.26.11") == 3
    s.store.verify_metadata(state)
    # What a crash leaves above the current versions is what `release doctor` reports.
    assert s.store.orphans() == []
    (s.root / "metadata/9.edge.26.11.json").write_bytes(b"{}")
    (s.root / "channels/edge/v7.json").write_bytes(b"{}")
    assert s.store.orphans() == ["channels/edge/v7.json", "metadata/9.edge.26.11.json"]


def test_fast_canonical_json_is_the_canonical_json(s: Ed25519Store) -> None:
    """What the publisher signs is byte for byte securesystemslib's canonical JSON."""
    from tuf.api.metadata import Targets
    from tuf.api.serialization.json import CanonicalJSONSerializer

    s.publish("stable", "2.15.0")
    stock = CanonicalJSONSerializer()
    for name in ("1.root.json", "1.targets.json", "1.stable.json", "1.stable.2.15.json"):
        signed = s.metadata(name).signed
        assert tm.CANONICAL.serialize(signed) == stock.serialize(signed), name
        md = s.metadata(name)
        assert tm.signed_file(md, s.maintainer) == tm.serialize(md), name
    tricky = Targets(expires=s.now)
    tricky.unrecognized_fields["x"] = 'quote " backslash \\ newline \n tab \t nul \x00 é ✓'
    assert tm.CANONICAL.serialize(tricky) == stock.serialize(tricky)
