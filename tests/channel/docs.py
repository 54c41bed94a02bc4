"""In-memory channel documents for model tests (no files, no signatures)."""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

from release.channel import model
from release.channel.model import Artifact, FileRef, Release, Source
from tests.helpers.channelkit import EDGE, EDGE_ID, NOW, PROJECT, STABLE, STABLE_ID


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def release(kind: str, version: str, *, at: datetime = NOW) -> Release:
    cfg = EDGE if kind == "edge" else STABLE
    ident = EDGE_ID if kind == "edge" else STABLE_ID
    tag = cfg.tag_format.format(model.parse_version(kind, version))
    name = f"demo-{tag}-linux-amd64.tar.gz"
    base = f"releases/{tag}/"
    return Release(
        version=version,
        tag=tag,
        published_at=at,
        source=Source("https://github.com/demo/demo", "a" * 40, f"refs/tags/{tag}"),
        signer=ident,
        artifacts=(
            Artifact(
                name=name,
                path=base + name,
                size=10,
                sha256=sha(name),
                kind="archive",
                os="linux",
                arch="amd64",
                sigstore_bundle=FileRef(base + name + ".sigstore.json", 5, sha(name + "b")),
            ),
        ),
        checksums=FileRef(base + "SHA256SUMS", 3, sha(tag)),
    )


def line_doc(kind: str, versions: list[str], *, at: datetime = NOW) -> model.LineDocument:
    cfg = EDGE if kind == "edge" else STABLE
    ident = EDGE_ID if kind == "edge" else STABLE_ID
    doc = None
    for i, v in enumerate(versions):
        doc = model.add_release(
            doc,
            release(kind, v, at=at + timedelta(days=i)),
            project=PROJECT,
            channel=cfg.name,
            kind=kind,
            tag_format=cfg.tag_format.template,
            signer=ident,
            now=at + timedelta(days=i),
        )
    assert doc is not None
    return doc


def channel_with(
    kind: str, lines: dict[str, list[str]]
) -> tuple[model.ChannelDocument, dict[str, model.LineDocument]]:
    """A channel document over line documents built from ``lines`` (in the given order)."""
    cfg = EDGE if kind == "edge" else STABLE
    ident = EDGE_ID if kind == "edge" else STABLE_ID
    doc = None
    docs = {}
    for line, versions in lines.items():
        ldoc = line_doc(kind, versions)
        docs[line] = ldoc
        data = ldoc.to_bytes()
        pin = model.pin_for(
            model.line_document_path(cfg.name, line, ldoc.version), ldoc.version, data
        )
        doc = model.update_channel(doc, ldoc, pin, signer=ident, policy=cfg.support, now=NOW)
    assert doc is not None
    return doc, docs


def index_for(*docs: model.ChannelDocument) -> model.Index:
    idx = None
    for d in docs:
        cfg = EDGE if d.kind == "edge" else STABLE
        data = d.to_bytes()
        pin = model.pin_for(model.channel_document_path(d.channel, d.version), d.version, data)
        entry = model.channel_entry(d, pin, cfg.expected_signer(False))
        idx = model.next_index(
            idx,
            project=PROJECT,
            channel=d.channel,
            entry=entry,
            signer=cfg.expected_signer(False),
            now=NOW,
            expires_in=timedelta(days=30),
        )
    assert idx is not None
    return idx
