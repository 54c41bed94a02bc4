"""The targets roles a publication writes, as plain data: channel roles and line roles.

Every publication writes a new version of its line role (every file of the line's
releases) and of its channel role (one delegation per line). Built through python-tuf's
objects, both cost time in proportion to the channel's history: one ``TargetFile`` or
``DelegatedRole`` per entry, validated, then turned back into a dict to be signed. Here
they are the dicts ``Targets.to_dict()`` gives, built and edited directly; every reader
parses them with python-tuf, which gives back the same bytes (tested).

Pure: values in, values out.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from securesystemslib.signer._key import Key
from securesystemslib.signer._signer import Signer
from tuf.api._payload import SPECIFICATION_VERSION

from release.channel.tuf.metadata import (
    Expiry,
    canonical,
    envelope,
    expires_at,
    line_paths,
    newest_channel_document,
)
from release.errors import ChannelError

SPEC_VERSION = ".".join(SPECIFICATION_VERSION)

Entry = tuple[int, str]
"""A target as (length, sha256 hex)."""


@dataclass
class RawTargets:
    """The ``signed`` part of a targets role as plain data (``Targets.to_dict()``)."""

    signed: dict[str, Any]

    @property
    def version(self) -> int:
        version: int = self.signed["version"]
        return version

    @version.setter
    def version(self, value: int) -> None:
        self.signed["version"] = value


def signed_file(role: RawTargets, signer: Signer) -> bytes:
    """Sign ``role`` and return the bytes to publish (what python-tuf's compact
    serializer gives for it)."""
    signed_bytes = canonical(role.signed)
    sigs = [signer.sign(signed_bytes).to_dict()]
    data = envelope(signed_bytes, sigs)
    if data is None:
        doc = {"signatures": sigs, "signed": role.signed}
        data = json.dumps(doc, separators=(",", ":"), sort_keys=True).encode("utf-8")
    return data


def _common(version: int, now: datetime, expiry: Expiry) -> dict[str, Any]:
    return {
        "_type": "targets",
        "version": version,
        "spec_version": SPEC_VERSION,
        "expires": expires_at(now, "channel", expiry).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }


def _target(entry: Entry) -> dict[str, Any]:
    return {"length": entry[0], "hashes": {"sha256": entry[1]}}


def line_role(
    *, version: int, now: datetime, expiry: Expiry, targets: Iterable[tuple[str, int, str]]
) -> RawTargets:
    """Line role ``version``: ``targets`` as (path, length, sha256)."""
    signed = _common(version, now, expiry)
    signed["targets"] = {path: _target((size, sha)) for path, size, sha in targets}
    return RawTargets(signed)


def parse_channel_role(data: bytes, key: str) -> RawTargets:
    """The ``signed`` part of a channel role file, shape-checked where a publication
    reads it. Raises :class:`ChannelError`."""
    try:
        signed = json.loads(data)["signed"]
        ok = (
            signed["_type"] == "targets"
            and isinstance(signed["version"], int)
            and isinstance(signed["targets"], dict)
            and isinstance(signed["delegations"]["keys"], dict)
            and isinstance(signed["delegations"]["roles"], list)
            and all(
                isinstance(r, dict) and isinstance(r["name"], str) and isinstance(r["keyids"], list)
                for r in signed["delegations"]["roles"]
            )
        )
    except (ValueError, KeyError, TypeError) as exc:
        raise ChannelError(f"{key} in the channel store is not a channel role: {exc!r}") from exc
    if not ok:
        raise ChannelError(f"{key} in the channel store is not a channel role")
    return RawTargets(signed)


def channel_document_of(role: RawTargets, channel: str) -> tuple[str, Entry] | None:
    """The newest channel document ``role`` lists: (path, (length, sha256))."""
    path = newest_channel_document(role.signed["targets"], channel)
    if path is None:
        return None
    info = role.signed["targets"][path]
    try:
        return path, (int(info["length"]), str(info["hashes"]["sha256"]))
    except (KeyError, TypeError, ValueError) as exc:
        raise ChannelError(f"role {channel} lists {path} without length and sha256") from exc


def channel_role(
    *,
    version: int,
    now: datetime,
    expiry: Expiry,
    document: tuple[str, Entry],
    previous: RawTargets | None,
    key: Key,
    line: tuple[str, str] | None,
    per_line_keys: bool = False,
) -> RawTargets:
    """Role ``<ch>``: its current document, and the previous line delegations plus
    ``line`` (``(role name, sample tag)`` of a line to delegate; kept as it was if
    already delegated).

    Without ``per_line_keys`` every line role is signed by ``key`` (the channel's), and
    after a key rotation the old delegations name the new key (the publisher re-signs
    those line roles). With ``per_line_keys`` (the channel's identity has ``{line}``)
    ``key`` signs ``line`` and the other lines keep the keys they had.
    """
    signed = _common(version, now, expiry)
    signed["targets"] = {document[0]: _target(document[1])}
    roles: list[dict[str, Any]] = []
    keys: dict[str, Any] = {}
    names: set[str] = set()
    own = line[0] if line is not None else None
    mine = key.keyid
    if previous is not None:
        old_keys = previous.signed["delegations"]["keys"]
        for old in previous.signed["delegations"]["roles"]:
            name = old["name"]
            per_line = per_line_keys and name != own
            wanted = old["keyids"] if per_line else [mine]
            if old["keyids"] == wanted:
                roles.append(old)
            else:
                paths = list(old.get("paths") or [])
                roles.append(_delegation(name, wanted, paths))
            for kid in wanted:
                if kid == mine:
                    keys[kid] = key.to_dict()
                elif kid in old_keys:
                    keys[kid] = old_keys[kid]
                else:
                    raise ChannelError(f"role {name} names key {kid} that its channel lacks")
            names.add(name)
    if line is not None:
        name, sample_tag = line
        if name not in names:
            channel, _, line_name = name.partition(".")
            roles.append(_delegation(name, [mine], line_paths(channel, line_name, sample_tag)))
            keys[mine] = key.to_dict()
    signed["delegations"] = {"keys": keys, "roles": roles}
    return RawTargets(signed)


def _delegation(name: str, keyids: list[str], paths: list[str]) -> dict[str, Any]:
    return {"name": name, "terminating": True, "keyids": keyids, "threshold": 1, "paths": paths}
