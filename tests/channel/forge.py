"""An attacker's (or a buggy publisher's) toolkit: rewrite documents, re-pin, re-sign.

Documents are written as raw dicts, bypassing every check of the model, so the
client is what has to refuse them.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

from release.channel import model
from release.channel import strictjson as sj
from tests.helpers.channelkit import KeySigner

Mut = Callable[[dict[str, Any]], None]


def _write(root: Path, rel: str, data: bytes, signer: KeySigner | None) -> dict[str, Any]:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    if signer is not None:
        signer.sign(path)
    return {"path": rel, "length": len(data), "sha256": hashlib.sha256(data).hexdigest()}


def read_index(root: Path) -> dict[str, Any]:
    return sj.loads((root / "index.json").read_bytes())


def read_pinned(root: Path, pin: dict[str, Any]) -> dict[str, Any]:
    return sj.loads((root / pin["path"]).read_bytes())


def forge(
    root: Path,
    signer: KeySigner | None,
    channel: str,
    *,
    line: str | None = None,
    line_mut: Mut | None = None,
    line_pin: dict[str, Any] | None = None,
    channel_mut: Mut | None = None,
    index_mut: Mut | None = None,
    index_signer: KeySigner | None = None,
    bump: int = 1,
) -> dict[str, Any]:
    """Publish a forged index (version + ``bump``) whose ``channel`` was rewritten."""
    index = read_index(root)
    entry = index["channels"][channel]
    cdoc = read_pinned(root, entry["document"])
    if line is not None:
        pos = next(i for i, e in enumerate(cdoc["lines"]) if e["line"] == line)
        le = cdoc["lines"][pos]
        if line_pin is None:
            ldoc = read_pinned(root, le["document"])
            if line_mut is not None:
                line_mut(ldoc)
            ldoc["version"] = le["document"]["version"] + 100
            rel = model.line_document_path(channel, line, ldoc["version"])
            line_pin = {**_write(root, rel, sj.dumps(ldoc), signer), "version": ldoc["version"]}
            le.update(latest=ldoc["latest"], releases=len(ldoc["releases"]))
        else:
            ldoc = read_pinned(root, line_pin)
            le.update(latest=ldoc["latest"], releases=len(ldoc["releases"]))
        le["document"] = line_pin
        actives = [e["latest"] for e in cdoc["lines"] if e["latest"]]
        cdoc["latest"] = max(
            actives, key=lambda v: model.parse_version(cdoc["kind"], v), default=None
        )
    if channel_mut is not None:
        channel_mut(cdoc)
    cdoc["version"] = entry["document"]["version"] + 100
    rel = model.channel_document_path(channel, cdoc["version"])
    entry["document"] = {**_write(root, rel, sj.dumps(cdoc), signer), "version": cdoc["version"]}
    entry["latest"] = cdoc["latest"]
    entry["lines"] = {
        e["line"]: {"latest": e["latest"], "support": e["support"], "document": e["document"]}
        for e in cdoc["lines"]
        if e["support"]["phase"] != "eol"
    }
    return forge_index(root, index_signer or signer, index, index_mut=index_mut, bump=bump)


def forge_index(
    root: Path,
    signer: KeySigner | None,
    index: dict[str, Any] | None = None,
    *,
    index_mut: Mut | None = None,
    bump: int = 1,
) -> dict[str, Any]:
    index = index if index is not None else read_index(root)
    index["version"] += bump
    if signer is not None:  # sign as the channel this signer publishes
        ident = {"identity": signer.identity.identity, "issuer": signer.identity.issuer}
        for name, entry in index["channels"].items():
            if entry["signer"] == ident:
                index.update(signer=ident, published_by=name)
    if index_mut is not None:
        index_mut(index)
    data = sj.dumps(index)
    _write(root, model.index_version_path(index["version"]), data, signer)
    (root / "index.json").write_bytes(data)
    return index
