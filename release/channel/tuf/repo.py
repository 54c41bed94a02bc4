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

Reading the store (state, roles, documents, signature checks) and the views rendered
from it live in :mod:`release.channel.tuf.reader`; the two roles every publication
rewrites are built as plain data by :mod:`release.channel.tuf.rawrole`.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from securesystemslib.signer._signer import Signer
from tuf.api._payload import Targets
from tuf.api.metadata import Metadata

from release.channel import model
from release.channel import strictjson as sj
from release.channel.backends import ObjectExists, SwapConflict
from release.channel.model import Release
from release.channel.strictjson import DocumentError
from release.channel.tuf import metadata as tm
from release.channel.tuf import rawrole
from release.channel.tuf.metadata import Expiry, serialize
from release.channel.tuf.reader import StoreReader, StoreState, parse_metadata
from release.config import ChannelConfig, Identity
from release.errors import ChannelError, VerificationError

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


class TufStore(StoreReader):
    """Publishes a store's TUF metadata through ``backend`` (reading: :class:`StoreReader`)."""

    # --- trust installation ----------------------------------------------------

    def install(self, roots: list[bytes], targets: bytes | None) -> None:
        """Put root versions (oldest first) and a top-level targets version, then move
        ``metadata/root.json`` to the newest root. Immutable keys are never overwritten.

        Raises :class:`ChannelError` (e.g. :class:`ObjectExists` for a different root
        under the same version: the chain was forked).
        """
        newest: bytes | None = None
        for data in roots:
            md = parse_metadata(data, "root")
            self.backend.put_if_absent(tm.metadata_key("root", md.signed.version), data)
            newest = data
        if targets is not None:
            md = parse_metadata(targets, "targets")
            self.backend.put_if_absent(tm.metadata_key("targets", md.signed.version), targets)
        if newest is not None:
            self._move_root_copy(newest)

    def _move_root_copy(self, newest: bytes) -> None:
        new_version = parse_metadata(newest, "root").signed.version
        for _ in range(self.max_attempts):
            blob = self.backend.read(tm.ROOT_KEY)
            if blob is not None:
                if blob.data == newest:
                    return
                if parse_metadata(blob.data, tm.ROOT_KEY).signed.version >= new_version:
                    return
            try:
                self.backend.compare_and_swap(
                    tm.ROOT_KEY, newest, blob.etag if blob is not None else None
                )
                return
            except SwapConflict:
                continue
        raise ChannelError("gave up moving metadata/root.json: it keeps changing")

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
                previous = self._raw_role(state, channel.name)
                assert previous is not None  # the snapshot lists it: role() found it
                found = rawrole.channel_document_of(previous, channel.name)
                if found is None:
                    raise ChannelError(f"role {channel.name} lists no channel document")
                changed[channel.name] = rawrole.channel_role(
                    version=previous.version + 1,
                    now=now,
                    expiry=expiry,
                    document=found,
                    previous=previous,
                    key=signer.public_key,
                    line=None,
                    per_line_keys=per_line,
                )
            result = self._commit(state, changed, signer, now, expiry, attempt)
            if result is not None:
                return result
        raise ChannelError(f"gave up refreshing after {self.max_attempts} concurrent updates")

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
        doc = current[2] if current else None
        if doc is not None and (doc["kind"], doc["tag_format"]) != (
            channel.kind,
            channel.tag_format.template,
        ):
            raise ChannelError(
                f"channel {channel.name} is published as {doc['kind']} {doc['tag_format']!r}; "
                f"the configuration says {channel.kind} {channel.tag_format.template!r}"
            )
        found = self.line_document_data(doc, line) if doc else None
        prev_line = found[2] if found else None
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

        # Both documents are written reusing the bytes of their unchanged records.
        lrel, ldata, line_raw = self._write_document(
            prev_line["version"] + 1 if prev_line else 1,
            lambda v: (model.line_document_path(channel.name, line, v), apply(prev_line, v)),
            reuse=(prev_line, found[1], "releases") if found and prev_line else None,
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
            reuse=(doc, current[1], "lines") if current and doc else None,
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
    ) -> tuple[str, bytes, Raw]:
        found = rawrole.channel_document_of(role, channel)
        if found is None:
            raise ChannelError(f"role {channel} lists no channel document")
        path, (length, sha256) = found
        data = self.read_target(tm.target_ref(path, length, sha256))
        # Our own published bytes, checked against the role's hash: plain JSON suffices.
        return path, data, json.loads(data)

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
            crole: rawrole.RawTargets | None = None
            for entry in doc["lines"]:
                line = entry["line"]
                lpath, ldata = line_docs[line]
                ldoc = sj.loads(ldata, what=lpath)
                targets = [(lpath, len(ldata), hashlib.sha256(ldata).hexdigest())]
                for r in ldoc["releases"]:
                    for ref in Release.from_dict(r, f"release {r.get('version')}").files():
                        targets.append((ref.path, ref.size, ref.sha256))
                lname = tm.line_role(name, line)
                lsigner = line_signers(line) if line_signers else signer
                changed[lname] = rawrole.line_role(
                    version=1, now=now, expiry=expiry, targets=targets
                )
                if line_signers is not None:
                    written[lname] = self._write_metadata(lname, changed.pop(lname), lsigner)
                sample = ldoc["releases"][0]["tag"] if ldoc["releases"] else None
                if sample is None:
                    raise ChannelError(f"line {line} of {name} has no release to delegate")
                crole = rawrole.channel_role(
                    version=1, now=now, expiry=expiry,
                    document=(path, (len(data), hashlib.sha256(data).hexdigest())),
                    previous=crole, key=lsigner.public_key,
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

    def _write_metadata(self, role: str, md: Role | Metadata[Any], signer: Signer) -> int:
        """Sign and create the first free version ``>= md``'s version of ``role``."""
        sign: Callable[[int], bytes]
        if isinstance(md, rawrole.RawTargets):
            raw, start = md, md.version

            def sign(version: int) -> bytes:
                raw.version = version
                return rawrole.signed_file(raw, signer)
        else:
            tuf_md, start = md, md.signed.version

            def sign(version: int) -> bytes:
                tuf_md.signed.version = version
                return tm.signed_file(tuf_md, signer)

        version = start
        for _ in range(self.max_attempts * 10):
            try:  # the create is the existence check: no read first (a round trip on S3)
                self.backend.put_if_absent(tm.metadata_key(role, version), sign(version))
            except ObjectExists:
                version += 1  # an orphan of a crashed or losing publisher
                continue
            return version
        raise ChannelError(f"no free version of role {role} after {start}")

    def _write_document(
        self,
        start: int,
        render: Callable[[int], tuple[str, Raw]],
        *,
        reuse: tuple[Raw, bytes, str] | None = None,
    ) -> tuple[str, bytes, Raw]:
        """Create the first free version ``>= start`` of the document ``render`` gives.
        ``reuse``: the previous document, its bytes, and its list field whose unchanged
        items keep their bytes (:func:`~release.channel.strictjson.dumps_reusing`)."""
        version = start
        for _ in range(self.max_attempts * 10):
            key, raw = render(version)
            if reuse is None:
                data = sj.dumps(raw)
            else:
                data = sj.dumps_reusing(raw, old=reuse[0], old_bytes=reuse[1], field=reuse[2])
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
