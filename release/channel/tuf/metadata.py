"""Pure TUF metadata for a channel store (schema 2): roles, paths, expiry.

Roles (see ``TUF-CONTRACT.md`` and ``docs/channel-trust.md``):

- ``root``: the maintainers' keys and threshold; keys of ``targets`` (the same
  maintainers), ``snapshot`` and ``timestamp`` (every publishing identity,
  threshold 1); the Sigstore trust in ``x-release-channels``;
- ``targets``: delegates one terminating role per channel (its key: the channel's
  signer), paths limited to that channel's documents and release tags;
- ``<ch>``: lists the channel's current document and delegates one terminating role
  per line, ``<ch>.<line>``, whose targets are the line document and every file of
  the line's releases. Publishing release 10,001 rewrites one line role, not a role
  listing 10,000 releases.

Everything here takes values and returns values (``now`` is given).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from securesystemslib.signer._key import Key
from tuf.api._payload import (  # tuf.api.metadata re-exports without __all__
    DelegatedRole,
    Delegations,
    MetaFile,
    Root,
    Signed,
    Snapshot,
    TargetFile,
    Targets,
    Timestamp,
)
from tuf.api.metadata import Metadata
from tuf.api.serialization import SignedSerializer
from tuf.api.serialization.json import CanonicalJSONSerializer, JSONSerializer

from release.channel.tuf.keys import SigstoreTrust, root_fields_for
from release.errors import ConfigError

METADATA_DIR = "metadata"
TIMESTAMP_KEY = "metadata/timestamp.json"
ROOT_KEY = "metadata/root.json"
INDEX_KEY = "index.json"
MUTABLE_KEYS = (TIMESTAMP_KEY, ROOT_KEY, INDEX_KEY)
"""The only keys replaced in place (compare-and-swap); a sync copies them last."""

INDEX_STUB_SCHEMA = "2.0"
INDEX_STUB: dict[str, Any] = {
    "schema_version": INDEX_STUB_SCHEMA,
    "type": "release-channels/index",
    "message": "this store moved to schema 2; upgrade release-channels to read it",
    "metadata": "metadata/root.json",
}
"""What ``index.json`` holds in a schema-2 store: v1 clients refuse its schema major."""

_CHANNEL_DOC = re.compile(r"channels/([^/]+)/v([1-9][0-9]*)\.json")


@dataclass(frozen=True)
class Expiry:
    """How long each role's metadata is valid (``channels/trust.toml`` [expires])."""

    timestamp: timedelta = timedelta(days=2)
    snapshot: timedelta = timedelta(days=7)
    channel: timedelta = timedelta(days=30)
    targets: timedelta = timedelta(days=365)
    root: timedelta = timedelta(days=365)

    def __post_init__(self) -> None:
        for name in ("timestamp", "snapshot", "channel", "targets", "root"):
            if getattr(self, name) < timedelta(hours=1):
                raise ConfigError(f"expiry of {name} must be at least one hour")

    def of(self, role: str) -> timedelta:
        """The validity of ``role`` (channel and line roles share ``channel``)."""
        if role in ("timestamp", "snapshot", "targets", "root"):
            return getattr(self, role)  # type: ignore[no-any-return]
        return self.channel


_ESCAPE = re.compile(r'\\[^"\\]')


class FastCanonical(SignedSerializer):
    """OLPC canonical JSON (what TUF signs) via the C ``json`` encoder.

    Both escape only ``"`` and ``\\``; they differ on control characters, which
    ``json.dumps`` writes as ``\\n``, ``\\u0001``…: any such escape falls back to
    securesystemslib's pure-Python encoder, so the bytes are always the canonical ones
    (signing a 50 KB role drops from ~5 ms to well under 1 ms).
    """

    def serialize(self, signed_obj: Signed) -> bytes:
        text = json.dumps(
            signed_obj.to_dict(), sort_keys=True, separators=(",", ":"), ensure_ascii=False
        )
        if _ESCAPE.search(text):
            return CanonicalJSONSerializer().serialize(signed_obj)
        return text.encode("utf-8")


CANONICAL = FastCanonical()


def signed_file(md: Metadata[Any], signer: Any) -> bytes:
    """Sign ``md`` (replacing its signatures) and return the bytes to publish: those of
    :func:`serialize`, built around the canonical bytes just signed when they hold no
    escape and no non-ASCII character (then the two encoders agree byte for byte)."""
    signed_bytes = CANONICAL.serialize(md.signed)
    signature = signer.sign(signed_bytes)
    md.signatures.clear()
    md.signatures[signature.keyid] = signature
    if md.unrecognized_fields or not signed_bytes.isascii() or b"\\" in signed_bytes:
        return serialize(md)
    sigs = json.dumps(
        [sig.to_dict() for sig in md.signatures.values()], separators=(",", ":"), sort_keys=True
    )
    return b'{"signatures":' + sigs.encode() + b',"signed":' + signed_bytes + b"}"


def serialize(md: Metadata[Any]) -> bytes:
    """The bytes published for ``md`` (compact canonical-order JSON)."""
    return md.to_bytes(JSONSerializer(compact=True))


def line_role(channel: str, line: str) -> str:
    return f"{channel}.{line}"


def metadata_key(role: str, version: int) -> str:
    """Where version ``version`` of ``role`` lives (consistent snapshots)."""
    if role == "timestamp":
        return TIMESTAMP_KEY
    return f"{METADATA_DIR}/{version}.{role}.json"


def expires_at(now: datetime, role: str, expiry: Expiry) -> datetime:
    return (now + expiry.of(role)).replace(microsecond=0)


def tag_glob(tag_format: str) -> str:
    """``edge-{yy}.{m}.{n}`` -> ``edge-*.*.*`` (python-tuf matches per path component)."""
    return re.sub(r"\{[a-z]+\}", "*", tag_format)


def channel_paths(channel: str, tag_format: str) -> list[str]:
    return [
        f"channels/{channel}/*",
        f"channels/{channel}/lines/*/*",
        f"releases/{tag_glob(tag_format)}/*",
    ]


def line_paths(channel: str, line: str, sample_tag: str) -> list[str]:
    """Paths of line ``line``: its documents and the release tags that start with it.

    ``sample_tag`` is any tag of the line (``stable-2.15.0`` -> ``stable-2.15.*``).
    Raises :class:`ConfigError` when the tag does not spell the line.
    """
    at = sample_tag.find(f"{line}.")
    if at < 0:
        raise ConfigError(f"tag {sample_tag} does not spell its line {line} followed by '.'")
    prefix = sample_tag[: at + len(line) + 1]
    if any(c in prefix for c in "*?[]"):
        raise ConfigError(f"tag {sample_tag} holds a glob character")
    return [f"channels/{channel}/lines/{line}/*", f"releases/{prefix}*/*"]


def target_file(path: str, data: bytes) -> TargetFile:
    return TargetFile(len(data), {"sha256": hashlib.sha256(data).hexdigest()}, path)


def target_ref(path: str, size: int, sha256: str) -> TargetFile:
    return TargetFile(size, {"sha256": sha256}, path)


def channel_document_of(role: Targets, channel: str) -> tuple[int, TargetFile] | None:
    """The newest channel document a channel role lists (version, target)."""
    best: tuple[int, TargetFile] | None = None
    for path, info in role.targets.items():
        m = _CHANNEL_DOC.fullmatch(path)
        if m and m[1] == channel and (best is None or int(m[2]) > best[0]):
            best = (int(m[2]), info)
    return best


# --- building roles ----------------------------------------------------------------


@dataclass(frozen=True)
class ChannelDelegation:
    """A channel the top-level targets role delegates, and the key(s) that sign it.

    A channel whose identity has ``{line}`` lists one key per line (any may sign the
    channel role; each signs its own line role).
    """

    name: str
    tag_format: str
    keys: tuple[Key, ...]


def build_root(
    *,
    version: int,
    now: datetime,
    expiry: Expiry,
    root_keys: Sequence[Key],
    threshold: int,
    publisher_keys: Sequence[Key],
    trust: SigstoreTrust | None,
) -> Metadata[Root]:
    """Root ``version``: maintainers sign root and targets; publishers snapshot and timestamp.

    Raises :class:`ConfigError` for an unreachable threshold or no publisher.
    """
    if not root_keys:
        raise ConfigError("the root needs at least one maintainer identity")
    if not 1 <= threshold <= len({k.keyid for k in root_keys}):
        raise ConfigError(
            f"root threshold {threshold} cannot be met by {len(root_keys)} identities"
        )
    if not publisher_keys:
        raise ConfigError("the root needs at least one publishing identity")
    root = Root(
        version=version,
        expires=expires_at(now, "root", expiry),
        consistent_snapshot=True,
        unrecognized_fields=root_fields_for(trust) if trust is not None else None,
    )
    for key in root_keys:
        root.add_key(key, "root")
        root.add_key(key, "targets")
    root.roles["root"].threshold = threshold
    root.roles["targets"].threshold = threshold
    for key in publisher_keys:
        root.add_key(key, "snapshot")
        root.add_key(key, "timestamp")
    return Metadata(root)


def build_targets(
    *, version: int, now: datetime, expiry: Expiry, channels: Iterable[ChannelDelegation]
) -> Metadata[Targets]:
    """Top-level targets: one terminating role per channel, no targets of its own."""
    targets = Targets(version=version, expires=expires_at(now, "targets", expiry))
    targets.delegations = Delegations(keys={}, roles={})
    for ch in sorted(channels, key=lambda c: c.name):
        roles = targets.delegations.roles
        assert roles is not None
        roles[ch.name] = DelegatedRole(
            ch.name, [], 1, True, paths=channel_paths(ch.name, ch.tag_format)
        )
        for key in ch.keys:
            targets.add_key(key, ch.name)
    return Metadata(targets)


def build_channel_role(
    *,
    version: int,
    now: datetime,
    expiry: Expiry,
    document: TargetFile,
    previous: Targets | None,
    key: Key,
    line: tuple[str, str] | None,
    per_line_keys: bool = False,
) -> Metadata[Targets]:
    """Role ``<ch>``: its current document, and the previous line delegations plus ``line``.

    ``line`` is ``(role name, sample tag)`` of a line to delegate (kept as it was if
    already delegated). ``key`` signs every line role, unless ``per_line_keys`` (the
    channel's identity has ``{line}``): then it signs ``line`` and the other lines keep
    the keys they had.
    """
    role = Targets(version=version, expires=expires_at(now, "channel", expiry))
    role.targets[document.path] = document
    roles: dict[str, DelegatedRole] = {}
    keys: dict[str, Key] = {}
    own = line[0] if line is not None else None
    if previous is not None and previous.delegations is not None:
        old_keys = previous.delegations.keys
        for name, old in (previous.delegations.roles or {}).items():
            # Without {line}: every line role is signed by the channel's key, and after a
            # key rotation the old delegations name the new key (the publisher re-signs
            # those line roles). With {line}: each line keeps its own key.
            wanted = [old_keys[k] for k in old.keyids] if per_line_keys and name != own else [key]
            if old.keyids == [k.keyid for k in wanted]:
                roles[name] = old  # unchanged: never mutated, shared with the parsed role
            else:
                roles[name] = DelegatedRole(
                    name, [k.keyid for k in wanted], 1, True, paths=list(old.paths or [])
                )
            for k in wanted:
                keys[k.keyid] = k
    if line is not None:
        own, sample_tag = line
        if own not in roles:
            channel, _, line_name = own.partition(".")
            roles[own] = DelegatedRole(
                own, [key.keyid], 1, True, paths=line_paths(channel, line_name, sample_tag)
            )
            keys[key.keyid] = key
    role.delegations = Delegations(keys=keys, roles=roles)
    return Metadata(role)


def build_line_role(
    *, version: int, now: datetime, expiry: Expiry, targets: Iterable[TargetFile]
) -> Metadata[Targets]:
    role = Targets(version=version, expires=expires_at(now, "channel", expiry))
    for t in targets:
        role.targets[t.path] = t
    return Metadata(role)


def build_snapshot(
    *, version: int, now: datetime, expiry: Expiry, meta: Mapping[str, int]
) -> Metadata[Snapshot]:
    snap = Snapshot(version=version, expires=expires_at(now, "snapshot", expiry))
    snap.meta = {f"{name}.json": MetaFile(v) for name, v in sorted(meta.items())}
    return Metadata(snap)


def build_timestamp(
    *, version: int, now: datetime, expiry: Expiry, snapshot_version: int
) -> Metadata[Timestamp]:
    return Metadata(
        Timestamp(
            version=version,
            expires=expires_at(now, "timestamp", expiry),
            snapshot_meta=MetaFile(snapshot_version),
        )
    )
