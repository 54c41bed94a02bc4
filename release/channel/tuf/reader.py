"""Reading a channel store's TUF metadata as its publisher does (no signature checks on
the hot path; :meth:`StoreReader.verify_metadata` checks them all), and the views
rendered from what the metadata lists.

The layout is described in :mod:`release.channel.tuf.repo`, which publishes. Consumers
read through :mod:`release.channel.tuf.client` (python-tuf's ``Updater``), never here.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from securesystemslib.signer._signer import Signer
from tuf.api._payload import Root, Snapshot, TargetFile, Targets, Timestamp
from tuf.api.exceptions import RepositoryError, UnsignedMetadataError
from tuf.api.metadata import Metadata

from release.channel import model
from release.channel.backends import Backend
from release.channel.model import Release
from release.channel.tuf import metadata as tm
from release.channel.tuf.metadata import serialize
from release.errors import ChannelError, VerificationError

if TYPE_CHECKING:
    from release.channel.views import ViewInput

Raw = dict[str, Any]


@dataclass
class StoreState:
    """The store as one publisher read it (the timestamp's etag guards the swap)."""

    root: Metadata[Root]
    timestamp_etag: str | None
    timestamp: Metadata[Timestamp] | None
    snapshot: Metadata[Snapshot] | None
    targets: Metadata[Targets]
    roles: dict[str, Metadata[Targets]] = field(default_factory=dict)

    def version_of(self, role: str) -> int:
        """The version of ``role`` the snapshot lists (0: not listed)."""
        if self.snapshot is None:
            return 0
        meta = self.snapshot.signed.meta.get(f"{role}.json")
        return meta.version if meta is not None else 0


def parse_metadata(data: bytes, key: str) -> Metadata[Any]:
    try:
        return Metadata.from_bytes(data)
    except (RepositoryError, ValueError, KeyError, TypeError) as exc:
        raise ChannelError(f"{key} in the channel store is not TUF metadata: {exc}") from exc


class StoreReader:
    """Reads the TUF metadata of one store through ``backend``."""

    def __init__(self, backend: Backend, *, max_attempts: int = 20) -> None:
        self.backend = backend
        self.max_attempts = max_attempts
        self._parsed: dict[tuple[str, str], Metadata[Any]] = {}

    # --- reading ---------------------------------------------------------------

    def _read(self, key: str) -> bytes | None:
        blob = self.backend.read(key)
        return None if blob is None else blob.data

    def _metadata(self, key: str) -> Metadata[Any] | None:
        blob = self.backend.read(key)
        if blob is None:
            return None
        cached = self._parsed.get((key, blob.etag))
        if cached is None:
            cached = parse_metadata(blob.data, key)
            if len(self._parsed) > 256:
                self._parsed.clear()
            self._parsed[(key, blob.etag)] = cached
        # Callers may edit what they get; hand out a copy of immutable keys only once.
        return Metadata.from_bytes(serialize(cached)) if key in tm.MUTABLE_KEYS else cached

    def root(self) -> Metadata[Root] | None:
        """The newest root the store holds (``metadata/root.json``), or None."""
        md = self._metadata(tm.ROOT_KEY)
        if md is None:
            return None
        if not isinstance(md.signed, Root):
            raise ChannelError(f"{tm.ROOT_KEY} is a {md.signed.type} role, not root")
        return md

    def read_state(self) -> StoreState | None:
        """The current state, or None when the store has no root yet.

        Raises :class:`ChannelError` for a store whose metadata is missing or broken.
        """
        root = self.root()
        if root is None:
            return None
        blob = self.backend.read(tm.TIMESTAMP_KEY)
        timestamp: Metadata[Timestamp] | None = None
        snapshot: Metadata[Snapshot] | None = None
        targets_version = 0
        if blob is not None:
            timestamp = parse_metadata(blob.data, tm.TIMESTAMP_KEY)
            sv = timestamp.signed.snapshot_meta.version
            snapshot = self._required(tm.metadata_key("snapshot", sv))
            targets_meta = snapshot.signed.meta.get("targets.json")
            targets_version = targets_meta.version if targets_meta else 0
        targets = self._newest_targets(targets_version)
        return StoreState(
            root=root,
            timestamp_etag=blob.etag if blob is not None else None,
            timestamp=timestamp,
            snapshot=snapshot,
            targets=targets,
        )

    def _required(self, key: str) -> Metadata[Any]:
        md = self._metadata(key)
        if md is None:
            raise ChannelError(
                f"{key} is missing from the channel store {self.backend.description}",
                hint="the store is incomplete: restore it from a copy (or the pages branch)",
            )
        return md

    def _newest_targets(self, at_least: int) -> Metadata[Targets]:
        """The top-level targets: the snapshot's version, or a newer one the maintainers
        installed since (``release trust`` puts it before any snapshot lists it)."""
        version = max(at_least, 1)
        md = self._metadata(tm.metadata_key("targets", version))
        if md is None:
            raise ChannelError(
                f"{tm.metadata_key('targets', version)} is missing from the channel store",
                hint="initialise the store's trust: `release trust init` (or --sign dev)",
            )
        while True:
            newer = self._metadata(tm.metadata_key("targets", md.signed.version + 1))
            if newer is None:
                return md
            md = newer

    def role(self, state: StoreState, name: str) -> Metadata[Targets] | None:
        """The version of delegated role ``name`` the snapshot lists."""
        if name in state.roles:
            return state.roles[name]
        version = state.version_of(name)
        if version == 0:
            return None
        md: Metadata[Targets] = self._required(tm.metadata_key(name, version))
        state.roles[name] = md
        return md

    def read_target(self, info: TargetFile) -> bytes:
        """The bytes of a target, checked against its length and sha256."""
        data = self._read(info.path)
        if data is None:
            raise ChannelError(f"{info.path} is missing from the channel store")
        try:
            info.verify_length_and_hashes(data)
        except Exception as exc:  # tuf raises LengthOrHashMismatchError
            raise VerificationError(f"{info.path} is not the file its role lists: {exc}") from exc
        return data

    def channel_document(self, state: StoreState, channel: str) -> tuple[str, Raw] | None:
        role = self.role(state, channel)
        if role is None:
            return None
        found = tm.channel_document_of(role.signed, channel)
        if found is None:
            raise ChannelError(f"role {channel} lists no channel document")
        _, info = found
        # Our own published bytes, checked against the role's hash: plain JSON suffices.
        return info.path, json.loads(self.read_target(info))

    def line_document(self, doc: Raw, line: str) -> tuple[str, Raw] | None:
        found = self.line_document_data(doc, line)
        return None if found is None else (found[0], found[2])

    def line_document_data(self, doc: Raw, line: str) -> tuple[str, bytes, Raw] | None:
        """The current document of ``line`` in channel document ``doc``: key, bytes (as
        the channel document pins them) and content."""
        entry = next((e for e in doc["lines"] if e["line"] == line), None)
        if entry is None:
            return None
        pin = model.Pin.from_dict(entry["document"], "document")
        data = self._read(pin.path)
        if data is None:
            raise ChannelError(f"line document {pin.path} is missing from the channel store")
        pin.check(data, "line document")
        return pin.path, data, json.loads(data)

    def lines_of(self, channels: set[str]) -> dict[str, set[str]]:
        """The lines each of ``channels`` has published (from its current document)."""
        state = self.read_state()
        out: dict[str, set[str]] = {}
        if state is None or state.timestamp is None:
            return out
        for name in channels:
            found = self.channel_document(state, name)
            if found is not None:
                out[name] = {e["line"] for e in found[1]["lines"]}
        return out

    def orphans(self) -> list[str]:
        """Keys a crashed or losing publisher left: metadata versions above what the
        snapshot lists, and documents above the versions the metadata reaches. Older
        versions are history (clients may still be reading them) and are not listed."""
        state = self.read_state()
        if state is None or state.timestamp is None or state.snapshot is None:
            return []
        listed = {n.removesuffix(".json"): m.version for n, m in state.snapshot.signed.meta.items()}
        listed["snapshot"] = state.snapshot.signed.version
        found: list[str] = []
        for key in self.backend.list(f"{tm.METADATA_DIR}/"):
            head, _, rest = key.removeprefix(f"{tm.METADATA_DIR}/").partition(".")
            role = rest.removesuffix(".json")
            if not head.isdigit() or role in ("root", "targets"):
                continue  # root and targets come from the maintainers, never orphaned
            if role not in listed or int(head) > listed[role]:
                found.append(key)
        reached: dict[str, int] = {}  # document directory -> current version
        for name in listed:
            if "." in name or name in ("snapshot", "targets"):
                continue
            current = self.channel_document(state, name)
            if current is None:
                continue
            doc = current[1]
            reached[f"channels/{name}"] = doc["version"]
            for entry in doc["lines"]:
                pin = entry["document"]
                reached[pin["path"].rsplit("/", 1)[0]] = pin["version"]
        for key in self.backend.list("channels/"):
            folder, _, leaf = key.rpartition("/")
            if not (leaf.startswith("v") and leaf.endswith(".json") and leaf[1:-5].isdigit()):
                continue
            if folder not in reached or int(leaf[1:-5]) > reached[folder]:
                found.append(key)
        return sorted(found)

    def root_chain(self) -> Iterator[bytes]:
        """Every root version the store holds, from 1 up."""
        version = 1
        while (data := self._read(tm.metadata_key("root", version))) is not None:
            yield data
            version += 1

    # --- state the publisher checks ---------------------------------------------

    def _state_or_fail(self) -> StoreState:
        state = self.read_state()
        if state is None:
            raise ChannelError(
                f"the channel store {self.backend.description} has no TUF root",
                hint="publish with --sign dev (sets up a dev root) or run `release trust init`",
            )
        return state

    def _check_publisher(self, state: StoreState, channel: str, signer: Signer) -> None:
        """The signer's key must be one the store's roles accept for what it signs."""
        keyid = signer.public_key.keyid
        delegations = state.targets.signed.delegations
        roles = delegations.roles if delegations is not None else None
        if not roles or channel not in roles:
            raise ChannelError(
                f"channel {channel} is not delegated by the targets role of this store",
                hint="add it with `release trust rotate` (the maintainers sign targets)",
            )
        if keyid not in roles[channel].keyids:
            from release.channel.tuf.trust import unauthorised

            identity = str(signer.public_key.keyval.get("identity", keyid[:16]))
            message, hint = unauthorised(state.targets.signed, channel, identity)
            raise VerificationError(message, hint=hint)
        for role in ("snapshot", "timestamp"):
            if keyid not in state.root.signed.roles[role].keyids:
                raise VerificationError(
                    f"the signing identity is not a key of role {role} in root "
                    f"v{state.root.signed.version}",
                    hint="declare the channel's signer in channels/*.toml and rotate the root",
                )

    # --- checks ------------------------------------------------------------------

    def verify_release_files(self, release: Release) -> None:
        """Every file ``release`` references is in the store with its size and sha256.

        Compared by :meth:`~release.channel.backends.Backend.digest` (recorded at write
        time where the backend can), so artifacts are not downloaded back.
        """
        for ref in release.files():
            digest = self.backend.digest(ref.path)
            if digest is None:
                raise ChannelError(
                    f"{release.tag}: {ref.path} is not in the channel store",
                    hint="copy the release files before publishing the metadata",
                )
            if digest != ref.sha256:
                raise VerificationError(
                    f"{ref.path}: store has sha256 {digest[:16]}…, the release record says "
                    f"{ref.size} bytes sha256 {ref.sha256[:16]}…"
                )

    def verify_metadata(self, state: StoreState) -> None:
        """Check every signature of the current metadata against the store's root
        (under the caller's :func:`~release.channel.tuf.keys.verification_trust`).

        Raises :class:`VerificationError` naming the role.
        """
        root = state.root.signed
        checks: list[tuple[str, Any, Metadata[Any]]] = [
            ("targets", root, state.targets),
        ]
        if state.snapshot is not None:
            checks.append(("snapshot", root, state.snapshot))
        if state.timestamp is not None:
            checks.append(("timestamp", root, state.timestamp))
        delegations = state.targets.signed.delegations
        for ch in (delegations.roles or {}) if delegations else {}:
            crole = self.role(state, ch)
            if crole is None:
                continue
            checks.append((ch, state.targets.signed, crole))
            for ln in crole.signed.delegations.roles or {} if crole.signed.delegations else {}:
                lrole = self.role(state, ln)
                if lrole is not None:
                    checks.append((ln, crole.signed, lrole))
        for name, delegator, md in checks:
            try:
                delegator.verify_delegate(name, md.signed_bytes, md.signatures)
            except UnsignedMetadataError as exc:
                raise VerificationError(f"role {name}: {exc}") from exc


def view_input(store: StoreReader, now: datetime, *, base_url: str | None = None) -> ViewInput:
    """What the views are rendered from: the channel documents the metadata lists, and
    the line documents of live (not EOL) lines plus the line of each channel's latest.

    Raises :class:`ChannelError` on a store without a published channel.
    """
    from release.channel.views import ViewInput

    channels, lines = all_documents(store, live_only=True)
    if not channels:
        raise ChannelError("the store has no published channel yet")
    project = next(iter(channels.values())).project
    return ViewInput(project, channels, lines, now, base_url=base_url)


def all_documents(
    store: StoreReader, *, live_only: bool = False
) -> tuple[dict[str, model.ChannelDocument], dict[tuple[str, str], model.LineDocument]]:
    """The channel and line documents the metadata lists now (``live_only``: the line
    documents of lines not EOL, plus the line of each channel's latest)."""
    state = store._state_or_fail()
    delegations = state.targets.signed.delegations
    channels: dict[str, model.ChannelDocument] = {}
    lines: dict[tuple[str, str], model.LineDocument] = {}
    for name in sorted((delegations.roles or {}) if delegations else {}):
        found = store.channel_document(state, name)
        if found is None:
            continue
        doc = channels[name] = model.ChannelDocument.from_dict(found[1], found[0])
        for e in doc.lines:
            if live_only and e.support.phase == "eol" and e.latest != doc.latest:
                continue
            line_found = store.line_document(found[1], e.line)
            if line_found is not None:
                lines[(name, e.line)] = model.LineDocument.from_dict(line_found[1], line_found[0])
    return channels, lines


def render_views(
    store: StoreReader,
    out: Path,
    now: datetime,
    *,
    signer: Any = None,
    channel: str | None = None,
    base_url: str | None = None,
) -> list[str]:
    """Regenerate the views (page, versions.json, feeds, install scripts) of the store
    directory ``out`` from what the TUF metadata lists. Returns the paths written."""
    from release.channel import views

    files = views.render_views(view_input(store, now, base_url=base_url))
    return views.write_views(out, files, signer=signer, channel=channel)


def timestamp_version(store_dir: Path) -> int:
    """The version of ``<store_dir>/metadata/timestamp.json`` (0: none or unreadable)."""
    try:
        signed = json.loads((store_dir / tm.TIMESTAMP_KEY).read_bytes())["signed"]
        version = signed["version"]
    except (OSError, ValueError, KeyError, TypeError):
        return 0
    return version if isinstance(version, int) else 0
