"""``release channel migrate``: a schema 1 store (``index.json`` v1) becomes a TUF store.

Every release, file and document stays where it is, byte for byte: the current channel
and line documents become targets of new channel and line roles, signed by each
channel's identity, then snapshot and timestamp. ``index.json`` becomes the schema 2.0
stub, which v1 clients refuse ("upgrade"); the v1 history (``index/vN.json``) stays, so
channels can be migrated one publishing identity at a time (``--channel``).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from release.channel import model
from release.channel.backends.directory import DirectoryBackend
from release.channel.tuf.repo import PublishResult, TufStore
from release.config import ChannelConfig, Identity
from release.errors import ChannelError, UsageError

OpenSigner = Callable[[Identity], contextlib.AbstractContextManager[Any]]


@dataclass(frozen=True)
class V1Channel:
    name: str
    document: tuple[str, bytes]
    lines: dict[str, tuple[str, bytes]]


def newest_v1_index(root: Path) -> model.Index:
    """The newest v1 index: ``index.json``, or after a partial migration the newest
    ``index/vN.json``. Raises :class:`ChannelError` when the store has none."""
    data = None
    path = root / model.INDEX_PATH
    if path.is_file():
        raw = path.read_bytes()
        if b'"schema_version":"1.' in raw or b'"schema_version": "1.' in raw:
            data = raw
    if data is None:
        versions = [
            int(p.name[1:-5]) for p in (root / "index").glob("v*.json") if p.name[1:-5].isdigit()
        ]
        if versions:
            data = (root / "index" / f"v{max(versions)}.json").read_bytes()
    if data is None:
        raise ChannelError(
            f"{root} has no schema 1 index to migrate",
            hint="point --store at a channel store published by an earlier release-channels",
        )
    return model.parse_index(data).document


def read_v1(root: Path, index: model.Index) -> list[V1Channel]:
    """Every channel's current document and all its line documents, checked by pins."""
    out = []
    for name, entry in sorted(index.channels.items()):
        pin = entry.document
        data = (root / pin.path).read_bytes()
        pin.check(data, "channel document")
        doc = model.parse_channel(data, pin.path).document
        lines = {}
        for line in doc.lines:
            lpin = line.document
            ldata = (root / lpin.path).read_bytes()
            lpin.check(ldata, "line document")
            lines[line.line] = (lpin.path, ldata)
        out.append(V1Channel(name, (pin.path, data), lines))
    return out


def migrate(
    root: Path,
    channels: Sequence[ChannelConfig],
    *,
    dev: bool,
    open_signer: OpenSigner,
    now: datetime,
    trust_setup: Callable[[TufStore, dict[str, set[str]]], None],
    only: Sequence[str] = (),
) -> list[PublishResult]:
    """Migrate the channels of the v1 store at ``root`` (``only``: those channels).

    ``trust_setup(store, lines)`` gives the store its root and targets first. Raises
    :class:`ChannelError`, :class:`~release.errors.UsageError`.
    """
    index = newest_v1_index(root)
    v1 = read_v1(root, index)
    configs = {c.name: c for c in channels}
    chosen = [c for c in v1 if not only or c.name in only]
    unknown = [n for n in only if n not in index.channels]
    if unknown:
        raise UsageError(
            f"the store has no channel {unknown[0]!r}",
            hint=f"channels: {', '.join(index.channels)}",
        )
    missing = [c.name for c in chosen if c.name not in configs]
    if missing:
        raise UsageError(f"channel {missing[0]!r} is in the store but not in channels/*.toml")
    store = TufStore(DirectoryBackend(root))
    lines = {c.name: set(c.lines) for c in v1 if c.name in configs}
    trust_setup(store, lines)
    results = []
    for ch in chosen:
        config = configs[ch.name]
        template = config.expected_signer(dev)
        per_line = "{line}" in template.identity
        with contextlib.ExitStack() as stack:
            line_signers: dict[str, Any] = {}
            if per_line:
                for line in ch.lines:
                    line_signers[line] = stack.enter_context(open_signer(template.for_line(line)))
                signer = line_signers[max(ch.lines, key=model.line_key)]
            else:
                signer = stack.enter_context(open_signer(template))
            results.append(
                store.adopt_channel(
                    ch.name,
                    ch.document,
                    ch.lines,
                    now=now,
                    signer=signer,
                    line_signers=line_signers.__getitem__ if per_line else None,
                )
            )
    return results
