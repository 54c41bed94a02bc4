"""``versions.json``: the latest tag of every channel and line, one flat JSON object.

The shape Linkerd's ``linkerd version`` check reads (``{"edge": "edge-26.11.1"}``),
extended with one key per line, ``<channel>-<line>``::

    {"edge": "edge-26.11.2", "edge-26.11": "edge-26.11.2",
     "stable": "stable-2.15.1", "stable-2.15": "stable-2.15.1", "stable-2.14": "stable-2.14.8"}

Withdrawn releases never appear (a line whose releases are all withdrawn has no key).
No timestamp inside: the bytes change only when a latest tag does, so a signature over
a channel's file stays valid across re-renders. A convenience view: the signed channel
and line documents remain the source of truth.
"""

from __future__ import annotations

import json

from release.channel import model
from release.channel.model import ChannelDocument
from release.channel.views import ViewInput
from release.versions import TagFormat


def tag_of(doc: ChannelDocument, version: str) -> str:
    """The tag of ``version`` in the channel's tag format."""
    return TagFormat(doc.tag_format).format(model.parse_version(doc.kind, version))


def latest_tags(doc: ChannelDocument) -> dict[str, str]:
    """``{channel: tag, "<channel>-<line>": tag, …}`` for one channel document."""
    out: dict[str, str] = {}
    if doc.latest is not None:
        out[doc.channel] = tag_of(doc, doc.latest)
    for entry in doc.lines:
        if entry.latest is not None:
            out[f"{doc.channel}-{entry.line}"] = tag_of(doc, entry.latest)
    return out


def render_versions(view: ViewInput, channel: str | None = None) -> bytes:
    """The flat JSON of one ``channel``, or of every channel merged (``channel=None``)."""
    names = [channel] if channel is not None else sorted(view.channels)
    merged: dict[str, str] = {}
    for name in names:
        merged.update(latest_tags(view.channels[name]))
    return (json.dumps(merged, indent=2, sort_keys=True) + "\n").encode()
