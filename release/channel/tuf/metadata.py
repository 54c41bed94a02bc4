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

from securesystemslib.formats import encode_canonical
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
from tuf.api.serialization.json import JSONSerializer

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


def canonical(signed: Mapping[str, Any]) -> bytes:
    """OLPC canonical JSON of a role's ``signed`` dict (what TUF signs), via the C
    ``json`` encoder.

    Both escape only ``"`` and ``\\``; they differ on control characters, which
    ``json.dumps`` writes as ``\\n``, ``\\u0001``…: any such escape falls back to
    securesystemslib's pure-Python encoder, so the bytes are always the canonical ones
    (signing a 50 KB role drops from ~5 ms to well under 1 ms).
    """
    text = json.dumps(signed, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    if _ESCAPE.search(text):
        out = encode_canonical(dict(signed))
        assert out is not None  # None only when writing to an output function
        return out.encode("utf-8")
    return text.encode("utf-8")


class FastCanonical(SignedSerializer):
    """python-tuf's ``CanonicalJSONSerializer``, byte for byte, through :func:`canonical`."""

    def serialize(self, signed_obj: Signed) -> bytes:
        return canonical(signed_obj.to_dict())


CANONICAL = FastCanonical()


def envelope(signed_bytes: bytes, signatures: Iterable[Mapping[str, Any]]) -> bytes | None:
    """The published file (what :func:`serialize` gives) built around the canonical
    bytes just signed, when they hold no escape and no non-ASCII character (then the two
    encoders agree byte for byte); None otherwise: serialize the whole role instead."""
    if not signed_bytes.isascii() or b"\\" in signed_bytes:
        return None
    sigs = json.dumps(list(signatures), separators=(",", ":"), sort_keys=True)
    return b'{"signatures":' + sigs.encode() + b',"signed":' + signed_bytes + b"}"


def signed_file(md: Metadata[Any], signer: Any) -> bytes:
    """Sign ``md`` (replacing its signatures) and return the bytes to publish."""
    signed_bytes = CANONICAL.serialize(md.signed)
    signature = signer.sign(signed_bytes)
    md.signatures.clear()
    md.signatures[signature.keyid] = signature
    data = None if md.unrecognized_fields else envelope(signed_bytes, [signature.to_dict()])
    return serialize(md) if data is None else data


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


def newest_channel_document(paths: Iterable[str], channel: str) -> str | None:
    """The newest document of ``channel`` (``channels/<ch>/v{N}.json``) among ``paths``."""
    best: tuple[int, str] | None = None
    for path in paths:
        m = _CHANNEL_DOC.fullmatch(path)
        if m and m[1] == channel and (best is None or int(m[2]) > best[0]):
            best = (int(m[2]), path)
    return None if best is None else best[1]


def channel_document_of(role: Targets, channel: str) -> tuple[str, TargetFile] | None:
    """The newest channel document a channel role lists (path, target)."""
    path = newest_channel_document(role.targets, channel)
    return None if path is None else (path, role.targets[path])


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
