"""The client against stores built by the real publisher (``release.channel.tuf.repo``),
attacked the way a server owner or a compromised workflow would: by writing metadata
the publisher itself refuses to write. Client with state and without."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from tuf.api.metadata import Metadata

from release.channel.tuf.client import open_client
from release.channel.tuf.trust import sign_with
from release.errors import TrustError
from tests.helpers.tufrepo import Ed25519Store
from tests.helpers.tufstore import TufRepo


class Pipeline:
    def __init__(self, tmp_path: Path) -> None:
        self.tmp = tmp_path
        self.now = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)
        self.s = Ed25519Store(tmp_path / "store", now=self.now)
        for i, v in enumerate(["2.14.0", "2.14.1", "2.15.0"]):
            self.s.publish("stable", v, now=self.now + timedelta(minutes=i))
        self.s.publish("edge", "26.11.1", now=self.now + timedelta(minutes=5))
        self.root_file = tmp_path / "root.json"
        self.root_file.write_bytes(self.meta_bytes("1.root.json"))
        self.state_dir = tmp_path / "state"
        self.fresh = 0

    @property
    def root(self) -> Path:
        return self.s.root

    def meta_bytes(self, name: str) -> bytes:
        return (self.root / "metadata" / name).read_bytes()

    def md(self, name: str) -> Any:
        return Metadata.from_bytes(self.meta_bytes(name))

    def newest(self, role: str) -> str:
        versions = [
            int(p.name.split(".", 1)[0])
            for p in (self.root / "metadata").glob(f"*.{role}.json")
            if p.name.split(".", 1)[1] == f"{role}.json"
        ]
        return f"{max(versions)}.{role}.json"

    def client(self, mode: str) -> Any:
        if mode == "with-state":
            state = self.state_dir
        else:
            self.fresh += 1
            state = self.tmp / f"fresh-{self.fresh}"
        return open_client(str(self.root), root=self.root_file, state_dir=state, env={})

    def write_role(self, role: str, md: Any, key: Any) -> None:
        """Publish ``md`` as the next version of ``role``, signed with ``key``, and a
        snapshot and timestamp (signed with ``key`` too: every workflow may sign those)."""
        md.signed.version += 1
        data = sign_with(md, [key])
        (self.root / "metadata" / f"{md.signed.version}.{role}.json").write_bytes(data)
        snap = self.md(self.newest("snapshot"))
        snap.signed.meta[f"{role}.json"].version = md.signed.version
        self.bump_snapshot(snap, key)

    def bump_snapshot(self, snap: Any, key: Any) -> None:
        snap.signed.version += 1
        data = sign_with(snap, [key])
        (self.root / "metadata" / f"{snap.signed.version}.snapshot.json").write_bytes(data)
        ts = self.md("timestamp.json")
        ts.signed.version += 1
        ts.signed.snapshot_meta.version = snap.signed.version
        (self.root / "metadata" / "timestamp.json").write_bytes(sign_with(ts, [key]))


@pytest.fixture
def p(tmp_path: Path) -> Pipeline:
    return Pipeline(tmp_path)


@pytest.fixture(params=["with-state", "without-state"])
def mode(request: pytest.FixtureRequest, p: Pipeline) -> str:
    if request.param == "with-state":
        c = p.client("with-state")
        c.verify_all()
        assert c.save()
    return str(request.param)


def _verify_all(p: Pipeline, mode: str) -> None:
    p.client(mode).verify_all()


def refused(p: Pipeline, mode: str, match: str) -> TrustError:
    with pytest.raises(TrustError, match=match) as info:
        _verify_all(p, mode)
    return info.value


def test_honest_pipeline_store(p: Pipeline, mode: str) -> None:
    c = p.client(mode)
    assert (c.latest("stable"), c.latest("edge")) == ("2.15.0", "26.11.1")
    assert c.verify_release("stable", "2.15.0")
    assert c.check("stable", "stable-2.14.0").status == "patch-available"


def test_takeover_by_a_foreign_identity(p: Pipeline, mode: str) -> None:
    evil = TufRepo(p.root, p.now)  # new keys for every role, root included
    for _ in range(4):
        evil.publish()
    refused(p, mode, r"metadata/timestamp\.json \(role timestamp\) is not signed")


def test_edge_workflow_signs_the_stable_role(p: Pipeline, mode: str) -> None:
    stable = p.md(p.newest("stable"))
    stable.signed.targets.clear()  # drop the stable channel's documents
    p.write_role("stable", stable, p.s.keys["edge"])
    refused(p, mode, r"metadata/\d+\.stable\.json \(role stable\) is not signed")


def test_edge_workflow_drops_stable_from_targets(p: Pipeline, mode: str) -> None:
    targets = p.md(p.newest("targets"))
    del targets.signed.delegations.roles["stable"]
    p.write_role("targets", targets, p.s.keys["edge"])
    refused(p, mode, r"metadata/\d+\.targets\.json \(role targets\) is not signed")


def test_edge_workflow_drops_stable_from_the_snapshot(p: Pipeline, mode: str) -> None:
    snap = p.md(p.newest("snapshot"))
    snap.signed.meta = {k: v for k, v in snap.signed.meta.items() if not k.startswith("stable")}
    p.bump_snapshot(snap, p.s.keys["edge"])
    if mode == "with-state":
        refused(p, mode, r"\(role snapshot\): New snapshot is missing info for 'stable")
        return
    c = p.client(mode)
    assert c.default_channel() == "stable"  # no silent fallback to edge
    with pytest.raises(
        TrustError, match=r"does not list role stable, but metadata/1\.stable\.json \(role stable\)"
    ):
        c.latest("stable")


def test_release_files_edited_on_the_server(p: Pipeline, mode: str) -> None:
    for name in ("SHA256SUMS", "demo-stable-2.15.0-linux-amd64.tar.gz.sigstore.json"):
        path = p.root / "releases" / "stable-2.15.0" / name
        original = path.read_bytes()
        path.write_bytes(original + b"\n")
        with pytest.raises(TrustError, match=rf"stable-2\.15\.0/{name} \(role stable\.2\.15\)"):
            p.client(mode).verify_release("stable", "2.15.0")
        path.write_bytes(original)


def test_rollback_and_freeze(p: Pipeline, mode: str) -> None:
    old = p.meta_bytes("timestamp.json")
    p.s.publish("stable", "2.15.1", now=p.now + timedelta(minutes=9))
    ts = p.md("timestamp.json")
    if mode == "with-state":
        c = p.client(mode)
        assert c.latest("stable") == "2.15.1"
        assert c.save()
    (p.root / "metadata" / "timestamp.json").write_bytes(old)
    if mode == "with-state":
        refused(p, mode, r"timestamp\.json \(role timestamp\).*rollback refused")
    else:  # within its expiry an old timestamp is all a fresh client can know
        assert p.client(mode).latest("stable") == "2.15.0"
    ts.signed.version += 10
    ts.signed.expires = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=1)
    (p.root / "metadata" / "timestamp.json").write_bytes(sign_with(ts, [p.s.keys["edge"]]))
    refused(p, mode, r"timestamp\.json \(role timestamp\) has expired")


def test_a_newer_root_missing_one_step(p: Pipeline, mode: str) -> None:
    root = p.md("1.root.json")
    for version in (2, 3):
        root.signed.version = version
        (p.root / "metadata" / f"{version}.root.json").write_bytes(
            sign_with(root, [p.s.maintainer])
        )
    (p.root / "metadata" / "root.json").write_bytes(p.meta_bytes("3.root.json"))
    (p.root / "metadata" / "2.root.json").unlink()
    c = p.client(mode)  # 2 is missing: the client stays on root 1 (and still verifies)
    assert c.latest("stable") == "2.15.0"
    assert c.view.updater._trusted_set.root.version == 1
