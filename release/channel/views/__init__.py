"""Convenience views of a channel store, rendered from its channel and line documents.

Pure: :func:`render_views` takes a :class:`ViewInput` (documents and facts) and returns
``{relative path: bytes}``; :func:`write_views` puts them into a store directory. Every
command that changes the store calls both, so the views are never stale.

The views, all mutable and regenerated on every change:

* ``index.html`` — the page: downloads first (newest release of each channel and each
  line, per platform, with size, sha256 and a verify command), lines with phase and
  EOL, release notes rendered from markdown (:mod:`.page`);
* ``versions.json`` — the latest tag of every channel and every line in one flat JSON
  object, the shape Linkerd's version check reads (:mod:`.versions`); merged from the
  per-channel files, unsigned;
* ``channels/<ch>/versions.json`` — the same for one channel, signed by the channel's
  signer (``versions.json.sigstore.json``) when that channel publishes;
* ``channels/<ch>/feed.xml`` — an Atom feed of the channel's releases (:mod:`.feed`);
* ``channels/<ch>/install.sh`` — a POSIX ``sh`` installer that embeds the sha256 of
  the newest release of the channel and of each line (:mod:`.install`).

They are conveniences, not trust anchors: the signed channel and line documents (and
their TUF metadata) stay the source of truth, and :mod:`release.channel.api` and
``release channel …`` verify those.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from release.channel.model import Artifact, ChannelDocument, LineDocument, Release
from release.channel.signing import DocumentSigner
from release.config import DEV_ISSUER
from release.errors import ChannelError
from release.files import write_atomic

PAGE = "index.html"
VERSIONS = "versions.json"
CHANNEL_VIEWS = ("versions.json", "feed.xml", "install.sh")
DEV_TRUST_CONFIG = "dev-trust-config.json"
_VIEW_RE = re.compile(r"channels/[^/]+/(versions\.json(\.sigstore\.json)?|feed\.xml|install\.sh)")


def is_view_path(key: str) -> bool:
    """Whether ``key`` (a store-relative path) is a view: mutable, overwritten on render."""
    return key in (PAGE, VERSIONS) or bool(_VIEW_RE.fullmatch(key))


@dataclass(frozen=True)
class ViewInput:
    """What the views are rendered from.

    ``channels``: every channel's current document; ``lines``: the line documents by
    ``(channel, line)`` (a line left out is shown without its releases); ``now``: the
    rendering time; ``base_url``: where the store is served (``https://…``, no trailing
    slash), used for absolute links in the feed and the install command, else None.
    """

    project: str
    channels: Mapping[str, ChannelDocument]
    lines: Mapping[tuple[str, str], LineDocument]
    now: datetime
    base_url: str | None = None
    extra: Mapping[str, str] = field(default_factory=dict)

    def line_docs(self, channel: str) -> list[LineDocument]:
        """The channel's line documents, newest line first."""
        doc = self.channels[channel]
        return [
            self.lines[(channel, e.line)]
            for e in reversed(doc.lines)
            if (channel, e.line) in self.lines
        ]

    def release(self, channel: str, version: str | None) -> Release | None:
        """The release ``version`` of ``channel`` from the line documents given."""
        if version is None:
            return None
        for ldoc in self.line_docs(channel):
            found = ldoc.release(version)
            if found is not None:
                return found
        return None


def is_dev_signed(release_or_doc: Release | ChannelDocument | LineDocument) -> bool:
    """Signed on the local, untrusted dev Sigstore instance (``--sign dev``)."""
    return release_or_doc.signer.issuer == DEV_ISSUER


def release_dir(release: Release) -> str:
    """``releases/<tag>``: where the release's files live in the store."""
    return (
        release.artifacts[0].path.rsplit("/", 1)[0]
        if release.artifacts
        else (f"releases/{release.tag}")
    )


@dataclass(frozen=True)
class Download:
    """One row of the downloads: the newest release of a channel or of a line."""

    channel: str
    line: str | None  # None: the channel's newest
    release: Release
    artifact: Artifact


def downloads(view: ViewInput) -> list[Download]:
    """Per channel: its newest release's artifacts, then each line's newest (other lines).

    Lines whose newest is the channel's newest are not repeated; EOL lines are left out.
    """
    rows: list[Download] = []
    for name in sorted(view.channels):
        doc = view.channels[name]
        newest = view.release(name, doc.latest)
        if newest is not None:
            rows += [Download(name, None, newest, a) for a in newest.artifacts]
        for entry in reversed(doc.lines):
            if entry.support.phase == "eol" or entry.latest in (None, doc.latest):
                continue
            rel = view.release(name, entry.latest)
            if rel is not None:
                rows += [Download(name, entry.line, rel, a) for a in rel.artifacts]
    return rows


def render_views(view: ViewInput) -> dict[str, bytes]:
    """Every view of the store, as ``{relative path: bytes}``. Pure.

    Raises :class:`~release.channel.strictjson.DocumentError` only on documents that
    are not timezone-aware (never for parsed documents).
    """
    from release.channel.views import feed, install, page, versions

    out: dict[str, bytes] = {PAGE: page.render_page(view).encode("utf-8")}
    out[VERSIONS] = versions.render_versions(view)
    for name in sorted(view.channels):
        out[f"channels/{name}/versions.json"] = versions.render_versions(view, channel=name)
        out[f"channels/{name}/feed.xml"] = feed.render_feed(view, name)
        out[f"channels/{name}/install.sh"] = install.render_install(view, name).encode()
    return out


def write_views(
    root: Path,
    files: Mapping[str, bytes],
    *,
    signer: DocumentSigner | None = None,
    channel: str | None = None,
    durable: bool = True,
) -> list[str]:
    """Write the views into the store directory ``root``; returns the paths changed.

    Unchanged files are left alone (their bundles stay valid). With ``signer`` and
    ``channel``, ``channels/<channel>/versions.json`` is signed when it changed or has
    no bundle yet. Raises :class:`ChannelError` when a file cannot be written, and
    what the signer raises.
    """
    changed: list[str] = []
    for rel, data in sorted(files.items()):
        if not is_view_path(rel):
            raise ChannelError(f"{rel} is not a view path")
        path = root.joinpath(*rel.split("/"))
        try:
            same = path.read_bytes() == data
        except FileNotFoundError:
            same = False
        except OSError as exc:
            raise ChannelError(f"cannot read {rel}: {exc.strerror}") from exc
        if same:
            continue
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            write_atomic(path, data, durable=durable)
        except OSError as exc:
            raise ChannelError(f"cannot write {rel}: {exc.strerror}") from exc
        changed.append(rel)
    if signer is not None and channel is not None:
        rel = f"channels/{channel}/versions.json"
        path = root.joinpath(*rel.split("/"))
        bundle = path.with_name(path.name + ".sigstore.json")
        if path.is_file() and (rel in changed or not bundle.is_file()):
            signer.sign(path)
            changed.append(rel + ".sigstore.json")
    return changed


__all__ = [
    "CHANNEL_VIEWS",
    "DEV_TRUST_CONFIG",
    "PAGE",
    "VERSIONS",
    "Download",
    "ViewInput",
    "downloads",
    "is_dev_signed",
    "is_view_path",
    "release_dir",
    "render_views",
    "write_views",
]
