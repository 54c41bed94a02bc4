"""Publishing a channel store as a TUF repository (schema 2), through a store ``Backend``.

Layout (relative keys, the same over a directory, HTTP or S3)::

    metadata/{N}.root.json      every root version (the rotation chain), immutable
    metadata/root.json          a copy of the newest root
    metadata/{N}.targets.json   top-level targets (maintainers): one role per channel
    metadata/{N}.<ch>.json      channel role: the current channel document, line roles
    metadata/{N}.<ch>.<line>.json   line role: the line document and its releases' files
    metadata/{N}.snapshot.json  every role's version
    metadata/timestamp.json     the only mutable TUF file, compare-and-swapped LAST
    channels/<ch>/v{N}.json, channels/<ch>/lines/<line>/v{N}.json   documents (v1 model)
    releases/<tag>/<file>       artifacts, bundles, SHA256SUMS, provenance
    index.json                  a schema 2.0 stub: v1 clients refuse it

Publishing order: every file the release names is checked against its record; new
documents and metadata are created once (``put_if_absent``; a version held by an orphan
of a crashed or losing publisher is skipped, never overwritten); the timestamp swap is
last. A lost swap re-reads the store, rebuilds and retries (bounded), so racing
publishers lose nothing and a crash anywhere leaves the previous timestamp valid.

The publisher refuses to sign what its key may not: a role whose keys do not include
its signer (the edge identity cannot sign the stable role), a snapshot without a role
the previous one listed, or a channel the top-level targets role does not delegate.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from securesystemslib.signer._signer import Signer
from tuf.api._payload import Root, Snapshot, TargetFile, Targets, Timestamp
from tuf.api.exceptions import RepositoryError, UnsignedMetadataError
from tuf.api.metadata import Metadata

from release.channel import model
from release.channel import strictjson as sj
from release.channel.backends import Backend, ObjectExists, SwapConflict
from release.channel.model import Release
from release.channel.strictjson import DocumentError
from release.channel.tuf import metadata as tm
from release.channel.tuf import rawrole
from release.channel.tuf.metadata import Expiry, serialize
from release.config import ChannelConfig, Identity
from release.errors import ChannelError, ConfigError, VerificationError

if TYPE_CHECKING:
    from release.channel.views import ViewInput

log = logging.getLogger(__name__)
Raw = dict[str, Any]
Apply = Callable[[Raw | None, int], Raw]
Role = Metadata[Targets] | rawrole.RawTargets
"""A role a publication writes: python-tuf's, or as plain data (:mod:`rawrole`)."""
INDEX_STUB_BYTES = sj.dumps(tm.INDEX_STUB)


@dataclass(frozen=True)
class PublishResult:
    """What a publication did (keys relative to the store)."""

    timestamp_version: int
    snapshot_version: int
    channel_document: str | None
    line_document: str | None
    changed: bool
    attempts: int
    roles: tuple[str, ...] = ()


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


def _parse(data: bytes, key: str) -> Metadata[Any]:
    try:
        return Metadata.from_bytes(data)
    except (RepositoryError, ValueError, KeyError, TypeError) as exc:
        raise ChannelError(f"{key} in the channel store is not TUF metadata: {exc}") from exc


class TufStore:
    """Reads and publishes the TUF metadata of one store through ``backend``."""

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
            cached = _parse(blob.data, key)
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
            timestamp = _parse(blob.data, tm.TIMESTAMP_KEY)
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
        entry = next((e for e in doc["lines"] if e["line"] == line), None)
        if entry is None:
            return None
        pin = model.Pin.from_dict(entry["document"], "document")
        data = self._read(pin.path)
        if data is None:
            raise ChannelError(f"line document {pin.path} is missing from the channel store")
        pin.check(data, "line document")
        return pin.path, json.loads(data)

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

    # --- trust installation ----------------------------------------------------

    def install(self, roots: list[bytes], targets: bytes | None) -> None:
        """Put root versions (oldest first) and a top-level targets version, then move
        ``metadata/root.json`` to the newest root. Immutable keys are never overwritten.

        Raises :class:`ChannelError` (e.g. :class:`ObjectExists` for a different root
        under the same version: the chain was forked).
        """
        newest: bytes | None = None
        for data in roots:
            md = _parse(data, "root")
            self.backend.put_if_absent(tm.metadata_key("root", md.signed.version), data)
            newest = data
        if targets is not None:
            md = _parse(targets, "targets")
            self.backend.put_if_absent(tm.metadata_key("targets", md.signed.version), targets)
        if newest is not None:
            self._move_root_copy(newest)

    def _move_root_copy(self, newest: bytes) -> None:
        new_version = _parse(newest, "root").signed.version
        for _ in range(self.max_attempts):
            blob = self.backend.read(tm.ROOT_KEY)
            if blob is not None:
                if blob.data == newest:
                    return
                if _parse(blob.data, tm.ROOT_KEY).signed.version >= new_version:
                    return
            try:
                self.backend.compare_and_swap(
                    tm.ROOT_KEY, newest, blob.etag if blob is not None else None
                )
                return
            except SwapConflict:
                continue
        raise ChannelError("gave up moving metadata/root.json: it keeps changing")

    def root_chain(self) -> Iterator[bytes]:
        """Every root version the store holds, from 1 up."""
        version = 1
        while (data := self._read(tm.metadata_key("root", version))) is not None:
            yield data
            version += 1

    # --- publishing --------------------------------------------------------------

    def publish(
        self,
        channel: ChannelConfig,
        release: Release,
        *,
        project: str,
        now: datetime,
        signer: Signer,
        identity: Identity,
        expiry: Expiry | None = None,
        per_line_keys: bool = False,
    ) -> PublishResult:
        """Publish ``release`` on ``channel``; the timestamp moves last. Idempotent.

        ``identity`` is the channel's signer (``release.signer`` must be it; ``signer``
        signs as it); ``per_line_keys``: the channel's identity has ``{line}`` (each line
        role keeps its own key). Raises :class:`ChannelError`, :class:`VerificationError`.
        """
        line = _line_of(channel, release.version)
        if release.signer != identity:
            raise VerificationError(
                f"{release.tag} is signed by {release.signer.identity} "
                f"({release.signer.issuer}); channel {channel.name} line {line} expects "
                f"{identity.identity} ({identity.issuer})",
                hint="one channel's signer cannot publish on another channel",
            )
        self.verify_release_files(release)

        def apply(prev_line: Raw | None, version: int) -> Raw:
            return model.append_release_dict(
                prev_line,
                release,
                project=project,
                channel=channel.name,
                kind=channel.kind,
                tag_format=channel.tag_format.template,
                signer=identity,
                now=now,
                version=version,
            )

        return self._update(
            channel,
            line,
            release.tag,
            apply,
            same=lambda doc: _release_in(doc, release.version) == release,
            now=now,
            signer=signer,
            identity=identity,
            expiry=expiry or Expiry(),
            per_line=per_line_keys,
        )

    def withdraw(
        self,
        channel: ChannelConfig,
        version: str,
        *,
        reason: str,
        now: datetime,
        signer: Signer,
        identity: Identity,
        replacement: str | None = None,
        expiry: Expiry | None = None,
        per_line_keys: bool = False,
    ) -> PublishResult:
        """Withdraw a published release (it stays listed with the reason).

        Raises :class:`ChannelError` when it is not published or already withdrawn.
        """
        line = _line_of(channel, version)

        def apply(prev_line: Raw | None, doc_version: int) -> Raw:
            if prev_line is None:
                raise ChannelError(f"{channel.name} has no release {version} to withdraw")
            new = model.withdraw(
                model.LineDocument.from_dict(prev_line),
                version,
                reason=reason,
                now=now,
                signer=identity,
                replacement=replacement,
                doc_version=doc_version,
            )
            return new.to_dict()

        def same(doc: Raw) -> bool:
            r = _release_in(doc, version)
            return (
                r is not None
                and r.withdrawal is not None
                and (r.withdrawal.reason, r.withdrawal.replacement) == (reason, replacement)
            )

        return self._update(
            channel,
            line,
            None,
            apply,
            same=same,
            now=now,
            signer=signer,
            identity=identity,
            expiry=expiry or Expiry(),
            per_line=per_line_keys,
        )

    def refresh(
        self,
        channel: ChannelConfig,
        *,
        now: datetime,
        signer: Signer,
        expiry: Expiry | None = None,
    ) -> PublishResult:
        """Re-sign snapshot and timestamp, and every role of ``channel`` that expires
        within half its validity. No content changes. Raises :class:`ChannelError`."""
        expiry = expiry or Expiry()
        for attempt in range(1, self.max_attempts + 1):
            state = self._state_or_fail()
            self._check_publisher(state, channel.name, signer)
            role = self.role(state, channel.name)
            if role is None:
                raise ChannelError(f"the store has no channel {channel.name!r} to refresh")
            horizon = now + expiry.channel / 2
            changed: dict[str, Role] = {}
            names = [channel.name, *sorted(role.signed.delegations.roles or {})]  # type: ignore[union-attr]
            keyid = signer.public_key.keyid
            delegated = role.signed.delegations.roles or {}  # type: ignore[union-attr]
            per_line = any(keyid not in d.keyids for d in delegated.values())
            rekeyed = (
                {}
                if per_line
                else self._rekeyed_lines(
                    state, ((n, d.keyids) for n, d in delegated.items()), signer, now, expiry
                )
            )
            for name in names[1:]:
                md = self.role(state, name)
                if per_line and keyid not in delegated[name].keyids:
                    continue  # another line's identity signs that role
                if md is not None and (md.signed.expires <= horizon or name in rekeyed):
                    changed[name] = _next_version(md, now, expiry)
            if changed or role.signed.expires <= horizon:
                found = tm.channel_document_of(role.signed, channel.name)
                if found is None:
                    raise ChannelError(f"role {channel.name} lists no channel document")
                changed[channel.name] = tm.build_channel_role(
                    version=role.signed.version + 1,
                    now=now,
                    expiry=expiry,
                    document=found[1],
                    previous=role.signed,
                    key=signer.public_key,
                    line=None,
                    per_line_keys=per_line,
                )
            result = self._commit(state, changed, signer, now, expiry, attempt)
            if result is not None:
                return result
        raise ChannelError(f"gave up refreshing after {self.max_attempts} concurrent updates")

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
            raise VerificationError(
                f"the signing identity is not a key of role {channel}: refusing to sign "
                f"{channel} metadata",
                hint="one channel's signer cannot publish on another channel",
            )
        for role in ("snapshot", "timestamp"):
            if keyid not in state.root.signed.roles[role].keyids:
                raise VerificationError(
                    f"the signing identity is not a key of role {role} in root "
                    f"v{state.root.signed.version}",
                    hint="declare the channel's signer in channels/*.toml and rotate the root",
                )

    def _update(
        self,
        channel: ChannelConfig,
        line: str,
        sample_tag: str | None,
        apply: Apply,
        *,
        same: Callable[[Raw], bool],
        now: datetime,
        signer: Signer,
        identity: Identity,
        expiry: Expiry,
        per_line: bool,
    ) -> PublishResult:
        for attempt in range(1, self.max_attempts + 1):
            try:
                result = self._attempt(
                    channel,
                    line,
                    sample_tag,
                    apply,
                    same,
                    (now, signer, identity, expiry, per_line),
                    attempt,
                )
            except DocumentError as exc:
                raise ChannelError(exc.message, hint=exc.hint) from exc
            if result is not None:
                return result
        raise ChannelError(
            f"gave up publishing after {self.max_attempts} concurrent updates",
            hint="another publisher keeps moving the timestamp; retry later",
        )

    def _attempt(
        self,
        channel: ChannelConfig,
        line: str,
        sample_tag: str | None,
        apply: Apply,
        same: Callable[[Raw], bool],
        how: tuple[datetime, Signer, Identity, Expiry, bool],
        attempt: int,
    ) -> PublishResult | None:
        now, signer, identity, expiry, per_line = how
        state = self._state_or_fail()
        self._check_publisher(state, channel.name, signer)
        # The two roles every publication rewrites are handled as plain data (rawrole):
        # their cost grows with the channel's history, python-tuf objects' cost with it.
        prev_crole = self._raw_role(state, channel.name)
        current = self._raw_channel_document(prev_crole, channel.name) if prev_crole else None
        doc = current[1] if current else None
        if doc is not None and (doc["kind"], doc["tag_format"]) != (
            channel.kind,
            channel.tag_format.template,
        ):
            raise ChannelError(
                f"channel {channel.name} is published as {doc['kind']} {doc['tag_format']!r}; "
                f"the configuration says {channel.kind} {channel.tag_format.template!r}"
            )
        found = self.line_document(doc, line) if doc else None
        prev_line = found[1] if found else None
        if current is not None and found is not None and prev_line is not None and same(prev_line):
            ts = state.timestamp
            return PublishResult(
                ts.signed.version if ts else 0,
                state.version_of("snapshot") or (ts.signed.snapshot_meta.version if ts else 0),
                current[0],
                found[0],
                False,
                attempt,
            )
        if sample_tag is None and prev_line is not None and prev_line["releases"]:
            sample_tag = prev_line["releases"][0]["tag"]

        lrel, ldata, line_raw = self._write_document(
            prev_line["version"] + 1 if prev_line else 1,
            lambda v: (model.line_document_path(channel.name, line, v), apply(prev_line, v)),
        )
        lpin = model.pin_for(lrel, line_raw["version"], ldata)
        crel, cdata, _ = self._write_document(
            doc["version"] + 1 if doc else 1,
            lambda v: (
                model.channel_document_path(channel.name, v),
                model.update_channel_dict(
                    doc,
                    line_raw,
                    lpin,
                    signer=identity,
                    policy=channel.support,
                    now=now,
                    version=v,
                ),
            ),
        )
        lrole_name = tm.line_role(channel.name, line)
        line_targets = [(lrel, len(ldata), lpin.sha256)]
        for r in line_raw["releases"]:
            line_targets += _raw_files(r)
        lrole = rawrole.line_role(
            version=state.version_of(lrole_name) + 1, now=now, expiry=expiry, targets=line_targets
        )
        if sample_tag is None:
            raise ChannelError(f"line {line} of {channel.name} has no release to delegate")
        crole = rawrole.channel_role(
            version=(prev_crole.version if prev_crole else 0) + 1,
            now=now,
            expiry=expiry,
            document=(crel, (len(cdata), hashlib.sha256(cdata).hexdigest())),
            previous=prev_crole,
            key=signer.public_key,
            line=(lrole_name, sample_tag),
            per_line_keys=per_line,
        )
        changed: dict[str, Role] = {}
        if not per_line and prev_crole is not None:
            delegated = prev_crole.signed["delegations"]["roles"]
            changed.update(
                self._rekeyed_lines(
                    state, ((r["name"], r["keyids"]) for r in delegated), signer, now, expiry
                )
            )
        changed.update({lrole_name: lrole, channel.name: crole})
        result = self._commit(state, changed, signer, now, expiry, attempt)
        return (
            None if result is None else replace(result, channel_document=crel, line_document=lrel)
        )

    def _raw_role(self, state: StoreState, name: str) -> rawrole.RawTargets | None:
        """The version of channel role ``name`` the snapshot lists, as plain data."""
        version = state.version_of(name)
        if version == 0:
            return None
        key = tm.metadata_key(name, version)
        data = self._read(key)
        if data is None:
            raise ChannelError(
                f"{key} is missing from the channel store {self.backend.description}",
                hint="the store is incomplete: restore it from a copy (or the pages branch)",
            )
        return rawrole.parse_channel_role(data, key)

    def _raw_channel_document(
        self, role: rawrole.RawTargets, channel: str
    ) -> tuple[str, Raw] | None:
        found = rawrole.channel_document_of(role, channel)
        if found is None:
            raise ChannelError(f"role {channel} lists no channel document")
        path, (length, sha256) = found
        data = self._read(path)
        if data is None:
            raise ChannelError(f"{path} is missing from the channel store")
        if len(data) != length or hashlib.sha256(data).hexdigest() != sha256:
            raise VerificationError(
                f"{path} is not the file its role lists: expected {length} bytes with "
                f"sha256 {sha256}"
            )
        # Our own published bytes, checked against the role's hash: plain JSON suffices.
        return path, json.loads(data)

    def adopt_channel(
        self,
        name: str,
        channel_doc: tuple[str, bytes],
        line_docs: dict[str, tuple[str, bytes]],
        *,
        now: datetime,
        signer: Signer,
        line_signers: Callable[[str], Signer] | None = None,
        expiry: Expiry | None = None,
    ) -> PublishResult:
        """List existing (schema 1) documents of channel ``name`` in new TUF roles: the
        channel document and every line document stay where they are, byte for byte.
        ``line_signers`` (a channel whose identity has ``{line}``) gives each line's
        signer. Idempotent per channel. Raises :class:`ChannelError`."""
        expiry = expiry or Expiry()
        for attempt in range(1, self.max_attempts + 1):
            state = self._state_or_fail()
            self._check_publisher(state, name, signer)
            if self.role(state, name) is not None:
                ts = state.timestamp
                return PublishResult(
                    ts.signed.version if ts else 0, state.version_of("snapshot"),
                    channel_doc[0], None, False, attempt,
                )  # fmt: skip
            path, data = channel_doc
            doc = sj.loads(data, what=path)
            changed: dict[str, Role] = {}
            written: dict[str, int] = {}
            crole: Metadata[Targets] | None = None
            for entry in doc["lines"]:
                line = entry["line"]
                lpath, ldata = line_docs[line]
                ldoc = sj.loads(ldata, what=lpath)
                targets = [tm.target_file(lpath, ldata)]
                for r in ldoc["releases"]:
                    for ref in Release.from_dict(r, f"release {r.get('version')}").files():
                        targets.append(tm.target_ref(ref.path, ref.size, ref.sha256))
                lname = tm.line_role(name, line)
                lsigner = line_signers(line) if line_signers else signer
                changed[lname] = tm.build_line_role(
                    version=1, now=now, expiry=expiry, targets=targets
                )
                if line_signers is not None:
                    written[lname] = self._write_metadata(lname, changed.pop(lname), lsigner)
                sample = ldoc["releases"][0]["tag"] if ldoc["releases"] else None
                if sample is None:
                    raise ChannelError(f"line {line} of {name} has no release to delegate")
                crole = tm.build_channel_role(
                    version=1, now=now, expiry=expiry, document=tm.target_file(path, data),
                    previous=crole.signed if crole else None, key=lsigner.public_key,
                    line=(lname, sample), per_line_keys=line_signers is not None,
                )  # fmt: skip
            if crole is None:
                raise ChannelError(f"channel {name} has no line to migrate")
            changed[name] = crole
            if line_signers is not None:
                # Their line roles were written above, each by its own line identity.
                for lname, version in written.items():
                    changed[lname] = self._metadata_at(lname, version)
            result = self._commit(state, changed, signer, now, expiry, attempt, presigned=True)
            if result is not None:
                return replace(result, channel_document=path)
        raise ChannelError(f"gave up migrating {name} after {self.max_attempts} attempts")

    def _metadata_at(self, role: str, version: int) -> Metadata[Targets]:
        md: Metadata[Targets] = self._required(tm.metadata_key(role, version))
        return md

    def _rekeyed_lines(
        self,
        state: StoreState,
        delegated: Iterable[tuple[str, list[str]]],
        signer: Signer,
        now: datetime,
        expiry: Expiry,
    ) -> dict[str, Metadata[Targets]]:
        """Line roles the previous channel role delegated (``delegated``: name and key
        ids) to another key (the channel's key was rotated): re-signed copies, so the
        new delegation covers them."""
        out: dict[str, Metadata[Targets]] = {}
        keyid = signer.public_key.keyid
        for name, keyids in delegated:
            if keyids == [keyid]:
                continue
            md = self.role(state, name)
            if md is not None:
                out[name] = _next_version(md, now, expiry)
        return out

    def _commit(
        self,
        state: StoreState,
        changed: dict[str, Role],
        signer: Signer,
        now: datetime,
        expiry: Expiry,
        attempt: int,
        *,
        presigned: bool = False,
    ) -> PublishResult | None:
        """Sign and write ``changed`` roles, a snapshot, then swap the timestamp
        (``presigned``: roles that carry signatures are already written as they are).

        None when another publisher moved the timestamp first (nothing is lost: the
        caller re-reads and rebuilds).
        """
        meta: dict[str, int] = {}
        if state.snapshot is not None:
            meta = {
                name[: -len(".json")]: m.version for name, m in state.snapshot.signed.meta.items()
            }
        meta["targets"] = state.targets.signed.version
        for name, md in changed.items():
            if presigned and isinstance(md, Metadata) and md.signatures:
                meta[name] = md.signed.version
                continue
            meta[name] = self._write_metadata(name, md, signer)
        prev_snapshot = state.snapshot.signed.version if state.snapshot else 0
        snapshot = tm.build_snapshot(version=prev_snapshot + 1, now=now, expiry=expiry, meta=meta)
        if state.snapshot is not None:
            lost = set(state.snapshot.signed.meta) - set(snapshot.signed.meta)
            if lost:
                raise ChannelError(f"refusing a snapshot that drops {sorted(lost)}")
        sv = self._write_metadata("snapshot", snapshot, signer)
        prev_ts = state.timestamp.signed.version if state.timestamp else 0
        ts = tm.build_timestamp(version=prev_ts + 1, now=now, expiry=expiry, snapshot_version=sv)
        ts.sign(signer, signed_serializer=tm.CANONICAL)
        try:
            self.backend.compare_and_swap(tm.TIMESTAMP_KEY, serialize(ts), state.timestamp_etag)
        except SwapConflict:
            log.info("timestamp moved during publication (attempt %d); rebuilding", attempt)
            return None
        self._write_index_stub()
        return PublishResult(ts.signed.version, sv, None, None, True, attempt, tuple(changed))

    def _write_metadata(
        self, role: str, md: Metadata[Any] | rawrole.RawTargets, signer: Signer
    ) -> int:
        """Sign and create the first free version ``>= md``'s version of ``role``."""
        start: int = md.version if isinstance(md, rawrole.RawTargets) else md.signed.version
        version = start
        for _ in range(self.max_attempts * 10):
            if isinstance(md, rawrole.RawTargets):
                md.version = version
            else:
                md.signed.version = version
            key = tm.metadata_key(role, version)
            if self.backend.read(key) is not None:
                version += 1  # an orphan of a crashed or losing publisher
                continue
            data = (
                rawrole.signed_file(md, signer)
                if isinstance(md, rawrole.RawTargets)
                else tm.signed_file(md, signer)
            )
            try:
                self.backend.put_if_absent(key, data)
            except ObjectExists:
                version += 1
                continue
            return version
        raise ChannelError(f"no free version of role {role} after {start}")

    def _write_document(
        self, start: int, render: Callable[[int], tuple[str, Raw]]
    ) -> tuple[str, bytes, Raw]:
        version = start
        for _ in range(self.max_attempts * 10):
            key, raw = render(version)
            data = sj.dumps(raw)
            try:
                self.backend.put_if_absent(key, data)
            except ObjectExists:
                version += 1
                continue
            return key, data, raw
        raise ChannelError(f"no free document version after {start}")

    def _write_index_stub(self) -> None:
        blob = self.backend.read(tm.INDEX_KEY)
        if blob is not None and blob.data == INDEX_STUB_BYTES:
            return
        try:
            self.backend.compare_and_swap(
                tm.INDEX_KEY, INDEX_STUB_BYTES, blob.etag if blob is not None else None
            )
        except SwapConflict:
            log.info("index.json changed while writing the stub; left to the next publisher")

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


def _next_version(md: Metadata[Targets], now: datetime, expiry: Expiry) -> Metadata[Targets]:
    """A fresh copy of ``md``: version + 1, new expiry, no signatures."""
    fresh: Metadata[Targets] = Metadata.from_bytes(serialize(md))
    fresh.signatures.clear()
    fresh.signed.version = md.signed.version + 1
    fresh.signed.expires = tm.expires_at(now, "channel", expiry)
    return fresh


def _raw_files(release: Raw) -> Iterator[tuple[str, int, str]]:
    """``Release.files()`` of a release record as published (a validated canonical dict):
    (path, size, sha256) of artifacts, their bundles, SHA256SUMS and provenance."""
    for a in release["artifacts"]:
        yield a["path"], a["size"], a["sha256"]
        b = a["sigstore_bundle"]
        yield b["path"], b["size"], b["sha256"]
    sums = release.get("checksums")
    if sums is not None:
        yield sums["path"], sums["size"], sums["sha256"]
    prov = release.get("provenance")
    if prov is not None:
        yield prov["path"], prov["size"], prov["sha256"]
        if prov.get("sigstore_bundle") is not None:
            b = prov["sigstore_bundle"]
            yield b["path"], b["size"], b["sha256"]


def _line_of(channel: ChannelConfig, version: str) -> str:
    try:
        return str(model.parse_version(channel.kind, version).line)
    except DocumentError as exc:
        raise ChannelError(exc.message, hint=exc.hint) from exc


def _release_in(doc: Raw, version: str) -> Release | None:
    for r in doc["releases"]:
        if r.get("version") == version:
            return Release.from_dict(r, f"release {version}")
    return None


def check_identity_template(channel: ChannelConfig, identity: Identity) -> None:
    """The TUF layout signs channel and line roles with one key per channel."""
    if "{line}" in identity.identity:
        raise ConfigError(
            f"channel {channel.name}: signer identities with {{line}} are not supported "
            "by the TUF layout",
            hint="declare one identity per channel in channels/*.toml",
        )


def stub_is_current(data: bytes) -> bool:
    try:
        return bool(json.loads(data).get("schema_version") == tm.INDEX_STUB_SCHEMA)
    except (ValueError, AttributeError):
        return False


def view_input(store: TufStore, now: datetime, *, base_url: str | None = None) -> ViewInput:
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
    store: TufStore, *, live_only: bool = False
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
    store: TufStore,
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
