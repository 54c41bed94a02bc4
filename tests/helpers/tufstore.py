"""A TUF layer over a channel store built by ``channelkit``, signed with Ed25519 keys.

Builds the schema-2 layout of the TUF contract (``../TUF-CONTRACT.md``) with
``tuf.api.metadata`` directly: root, top-level targets delegating one role per
channel, channel roles listing their current channel document and delegating one
role per line, line roles listing the line document and every release file,
snapshot and timestamp (consistent snapshots). Ed25519 keys keep the attack tests
fast; the same client code runs against Sigstore-signed stores in the e2e tests.

Attackers use the same object: :meth:`TufRepo.sign_with` re-signs a role with any
key, :meth:`TufRepo.write` puts any metadata where the client looks.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from securesystemslib.signer import CryptoSigner, Signer
from tuf.api.metadata import (
    DelegatedRole,
    Delegations,
    Metadata,
    MetaFile,
    Root,
    Snapshot,
    TargetFile,
    Targets,
    Timestamp,
)
from tuf.api.serialization.json import JSONSerializer

from release.channel import model
from release.channel import strictjson as sj

EXPIRY = {
    "root": timedelta(days=365),
    "targets": timedelta(days=365),
    "snapshot": timedelta(days=7),
    "timestamp": timedelta(days=2),
    "channel": timedelta(days=30),
}
TAG_GLOB = {"stable": "stable-*", "edge": "edge-*"}


def new_key() -> CryptoSigner:
    return CryptoSigner.generate_ed25519()


def _lenient(data: bytes) -> Any:
    """A document as the publisher of a broken one would read it (BOM, duplicates)."""
    import json

    return json.loads(data.decode("utf-8-sig"))


def _tf(root: Path, rel: str) -> TargetFile:
    data = (root / rel).read_bytes()
    return TargetFile(len(data), {"sha256": hashlib.sha256(data).hexdigest()}, rel)


class TufRepo:
    """Metadata for the channel store at ``root`` (``now``: the publishers' clock)."""

    def __init__(
        self,
        root: Path,
        now: datetime,
        *,
        root_keys: int = 1,
        threshold: int = 1,
        signer_for: Callable[[str], Signer] | None = None,
        root_fields: dict[str, Any] | None = None,
    ):
        """``signer_for(role)`` (default: a new Ed25519 key per role) gives each role's
        signer, root included; ``root_fields`` go into the root (e.g. the Sigstore trust)."""
        self.root = Path(root)
        self.now = now
        self.signer_for = signer_for or (lambda role: new_key())
        self.root_fields = root_fields or {}
        self.root_signers: list[Signer] = [
            self.signer_for("root") if signer_for else new_key() for _ in range(root_keys)
        ]
        self.threshold = threshold
        self.keys: dict[str, Signer] = {
            r: self.signer_for(r) for r in ("targets", "snapshot", "timestamp")
        }
        self.versions: dict[str, int] = {}
        self.written: dict[str, Metadata[Any]] = {}
        self.root_md = self._new_root(1)
        self._sign_and_write(self.root_md, "root", self.root_signers[:threshold])
        (self.root / "metadata" / "root.json").write_bytes(self._bytes(self.root_md))

    # --- keys and roles ------------------------------------------------------

    def key(self, role: str) -> Signer:
        if role not in self.keys:
            self.keys[role] = self.signer_for(role)
        return self.keys[role]

    def _new_root(self, version: int) -> Metadata[Root]:
        r = Root(
            version=version,
            expires=self.now + EXPIRY["root"],
            consistent_snapshot=True,
            unrecognized_fields=dict(self.root_fields),
        )
        for s in self.root_signers:
            r.add_key(s.public_key, "root")
        r.roles["root"].threshold = self.threshold
        for role in ("targets", "snapshot", "timestamp"):
            r.add_key(self.keys[role].public_key, role)
        return Metadata(r)

    def root_bytes(self, version: int | None = None) -> bytes:
        name = "root.json" if version is None else f"{version}.root.json"
        return (self.root / "metadata" / name).read_bytes()

    @staticmethod
    def _bytes(md: Metadata[Any]) -> bytes:
        return md.to_bytes(JSONSerializer(compact=True))

    def _sign_and_write(self, md: Metadata[Any], role: str, signers: list[Signer]) -> bytes:
        md.signatures.clear()
        for s in signers:
            md.sign(s, append=True)
        data = self._bytes(md)
        (self.root / "metadata").mkdir(parents=True, exist_ok=True)
        name = "timestamp.json" if role == "timestamp" else f"{md.signed.version}.{role}.json"
        (self.root / "metadata" / name).write_bytes(data)
        self.written[role] = md
        return data

    def write(self, role: str, md: Metadata[Any], signers: list[Signer] | None = None) -> bytes:
        """Sign ``md`` with ``signers`` (default: the role's own key) and publish it."""
        if role == "root":
            return self._sign_and_write(md, role, signers or self.root_signers[: self.threshold])
        return self._sign_and_write(md, role, signers or [self.key(self._key_role(role))])

    @staticmethod
    def _key_role(role: str) -> str:
        return role

    # --- publishing ----------------------------------------------------------

    def _bump(self, role: str) -> int:
        self.versions[role] = self.versions.get(role, 0) + 1
        return self.versions[role]

    def channels(self) -> list[str]:
        return sorted(p.name for p in (self.root / "channels").iterdir() if p.is_dir())

    def current_channel_doc(self, channel: str) -> str:
        """The channel document the v1 index pins, else the highest ``v{N}.json``."""
        index = sj.loads((self.root / "index.json").read_bytes())
        if "channels" in index:
            return str(index["channels"][channel]["document"]["path"])
        docs = (self.root / "channels" / channel).glob("v*.json")
        newest = max(int(d.name[1:-5]) for d in docs if d.name[1:-5].isdigit())
        return f"channels/{channel}/v{newest}.json"

    def publish(
        self,
        *,
        channel_docs: dict[str, str] | None = None,
        drop: tuple[str, ...] = (),
        signers: dict[str, list[Signer]] | None = None,
        extra_targets: dict[str, list[str]] | None = None,
        timestamp_expires: datetime | None = None,
    ) -> None:
        """Sign a new version of every role from what is on disk (the v1 documents)."""
        signers = signers or {}
        extra = extra_targets or {}
        snapshot_meta: dict[str, MetaFile] = {}
        top = Targets(version=self._bump("targets"), expires=self.now + EXPIRY["targets"])
        top.delegations = Delegations(keys={}, roles={})
        for ch in self.channels():
            if ch in drop:
                continue
            glob = TAG_GLOB.get(ch, f"{ch}-*")
            role = DelegatedRole(
                ch,
                [],
                1,
                True,
                paths=[f"channels/{ch}/*", f"channels/{ch}/lines/*/*", f"releases/{glob}/*"],
            )
            top.delegations.roles[ch] = role
            top.add_key(self.key(ch).public_key, ch)
            listed = (channel_docs or {}).get(ch) or self.current_channel_doc(ch)
            # An override that is not a channel document still delegates the real lines.
            doc_path = (
                listed
                if listed.endswith(".json")
                and "/v" in listed
                and not listed.endswith(".sigstore.json")
                else self.current_channel_doc(ch)
            )
            cdoc = _lenient((self.root / doc_path).read_bytes())
            ch_md = Targets(version=self._bump(ch), expires=self.now + EXPIRY["channel"])
            ch_md.targets[listed] = _tf(self.root, listed)
            for rel in extra.get(ch, []):
                ch_md.targets[rel] = _tf(self.root, rel)
            ch_md.delegations = Delegations(keys={}, roles={})
            for entry in cdoc["lines"]:
                line = entry["line"]
                lrole = f"{ch}.{line}"
                prefix = (
                    cdoc["tag_format"]
                    .replace("{version}", f"{line}.")
                    .replace("{yy}.{m}.{n}", f"{line}.")
                )
                ch_md.delegations.roles[lrole] = DelegatedRole(
                    lrole,
                    [],
                    1,
                    True,
                    paths=[f"channels/{ch}/lines/{line}/*", f"releases/{prefix}*/*"],
                )
                ch_md.add_key(self.key(lrole).public_key, lrole)
                ldoc_path = entry["document"]["path"]
                ldoc = _lenient((self.root / ldoc_path).read_bytes())
                l_md = Targets(version=self._bump(lrole), expires=self.now + EXPIRY["channel"])
                l_md.targets[ldoc_path] = _tf(self.root, ldoc_path)
                for rel in extra.get(lrole, []):
                    l_md.targets[rel] = _tf(self.root, rel)
                for release in ldoc["releases"]:
                    for ref in model.Release.from_dict(release, "release").files():
                        if (self.root / ref.path).is_file():
                            l_md.targets[ref.path] = _tf(self.root, ref.path)
                md = Metadata(l_md)
                self.write(lrole, md, signers.get(lrole))
                snapshot_meta[f"{lrole}.json"] = MetaFile(l_md.version)
            md = Metadata(ch_md)
            self.write(ch, md, signers.get(ch))
            snapshot_meta[f"{ch}.json"] = MetaFile(ch_md.version)
        self.write("targets", Metadata(top), signers.get("targets"))
        snapshot_meta["targets.json"] = MetaFile(top.version)
        snap = Snapshot(version=self._bump("snapshot"), expires=self.now + EXPIRY["snapshot"])
        snap.meta = snapshot_meta
        self.write("snapshot", Metadata(snap), signers.get("snapshot"))
        self.timestamp(snap.version, expires=timestamp_expires, signers=signers.get("timestamp"))

    def timestamp(
        self,
        snapshot_version: int,
        *,
        expires: datetime | None = None,
        signers: list[Signer] | None = None,
    ) -> bytes:
        ts = Timestamp(
            version=self._bump("timestamp"),
            expires=expires or self.now + EXPIRY["timestamp"],
            snapshot_meta=MetaFile(snapshot_version),
        )
        return self.write("timestamp", Metadata(ts), signers)

    def rotate(
        self,
        *,
        new_root_keys: int | None = None,
        replace: tuple[str, ...] = (),
        sign_with_old: bool = True,
    ) -> bytes:
        """Root version +1: new keys for ``replace`` roles (and the root itself if
        ``new_root_keys``), signed by the old and the new root keys."""
        old = list(self.root_signers)
        if new_root_keys is not None:
            self.root_signers = [new_key() for _ in range(new_root_keys)]
        for role in replace:
            self.keys[role] = new_key()  # rotation tests: always a fresh Ed25519 key
        md = self._new_root(self.root_md.signed.version + 1)
        signers = self.root_signers[: self.threshold]
        if sign_with_old:
            signers = [*old[: self.threshold], *[s for s in signers if s not in old]]
        data = self._sign_and_write(md, "root", signers)
        self.root_md = md
        (self.root / "metadata" / "root.json").write_bytes(data)
        return data


class TufWorld:
    """Edge and stable channels (channelkit's v1 documents) under TUF metadata, and a
    client factory. ``seen()`` gives a client that already verified the store (state)."""

    def __init__(self, tmp_path: Path) -> None:
        from datetime import UTC

        from release.channel.store import ChannelStore
        from tests.helpers.channelkit import (
            EDGE,
            EDGE_ID,
            NOW,
            STABLE,
            STABLE_ID,
            KeyRoot,
            publish,
        )

        self.tmp = tmp_path
        self.keys = KeyRoot()
        self.root = tmp_path / "store"
        self.store = ChannelStore(self.root, durable=False)
        self.state_dir = tmp_path / "state"
        self.edge = self.keys.signer(EDGE_ID)
        self.stable = self.keys.signer(STABLE_ID)
        t = NOW - timedelta(days=10)
        for i, v in enumerate(["2.13.0", "2.14.0", "2.14.1", "2.15.0", "2.15.1"]):
            publish(
                self.store,
                STABLE,
                v,
                self.stable,
                now=t + timedelta(hours=i),
                platforms=(("linux", "amd64"), ("darwin", "arm64")),
            )
        publish(self.store, EDGE, "26.11.1", self.edge, now=t + timedelta(days=1))
        self._add_provenance("stable-2.15.1")
        self.now = datetime.now(UTC).replace(microsecond=0)
        self.repo = TufRepo(self.root, self.now)
        self.repo.publish()
        self.root_file = tmp_path / "root.json"
        self.root_file.write_bytes(self.repo.root_bytes(1))

    def _add_provenance(self, tag: str) -> None:
        """Give the release ``tag`` a provenance file (channelkit releases have none)."""
        from tests.channel.forge import forge

        rel = f"releases/{tag}/provenance.intoto.jsonl"
        data = b'{"payloadType":"application/vnd.in-toto+json","payload":"e30=","signatures":[]}\n'
        (self.root / rel).write_bytes(data)
        version = tag.split("-", 1)[1]
        ref = {"path": rel, "size": len(data), "sha256": hashlib.sha256(data).hexdigest()}

        def add(ld: dict[str, Any]) -> None:
            next(r for r in ld["releases"] if r["version"] == version)["provenance"] = ref

        forge(self.root, self.stable, "stable", line=version.rsplit(".", 1)[0], line_mut=add)

    def client(self, *, state_dir: Path | None = None, **kwargs: Any) -> Any:
        from release.channel.tuf.client import open_client

        kwargs.setdefault("root", self.root_file)
        return open_client(str(self.root), state_dir=state_dir or self.state_dir, env={}, **kwargs)

    def seen(self) -> Any:
        """A client run that verified everything and saved its state."""
        c = self.client()
        c.verify_all()
        assert c.save()
        return c

    def fresh_state(self) -> Path:
        """A state directory nobody used (a container, a CI job)."""
        n = len(list(self.tmp.glob("fresh-state-*")))
        return self.tmp / f"fresh-state-{n}"
