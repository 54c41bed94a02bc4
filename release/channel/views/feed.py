"""``channels/<ch>/feed.xml``: an Atom feed (RFC 4287) of a channel's releases.

One entry per release, newest first (at most :data:`MAX_ENTRIES`), with its tag, time,
status and notes (markdown rendered to escaped HTML). Built with ElementTree, so every
value is XML-escaped. Links are absolute when the store's base URL is known.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from release.channel import strictjson as sj
from release.channel.model import Release
from release.channel.views import ViewInput, is_dev_signed
from release.channel.views.markdown import render_markdown

ATOM = "http://www.w3.org/2005/Atom"
MAX_ENTRIES = 50


def _link(view: ViewInput, rel: str) -> str:
    return f"{view.base_url}/{rel}" if view.base_url else rel


def _entry_html(release: Release) -> str:
    parts = []
    if release.withdrawal is not None:
        w = release.withdrawal
        repl = f" Use {w.replacement}." if w.replacement else ""
        parts.append(f"<p><strong>Withdrawn</strong>: {_text(w.reason)}.{_text(repl)}</p>")
    if is_dev_signed(release):
        parts.append("<p><strong>dev signatures: not trusted</strong></p>")
    if release.notes:
        parts.append(render_markdown(release.notes))
    files = "".join(
        f"<li>{_text(a.name)} ({_text(a.platform)}, {a.size} bytes, sha256 "
        f"<code>{_text(a.sha256)}</code>)</li>"
        for a in release.artifacts
    )
    if files:
        parts.append(f"<ul>{files}</ul>")
    return "".join(parts)


def _text(value: str) -> str:
    import html

    return html.escape(value, quote=True)


def render_feed(view: ViewInput, channel: str) -> bytes:
    """The Atom feed of ``channel`` (UTF-8 bytes)."""
    ET.register_namespace("", ATOM)
    doc = view.channels[channel]
    releases = [r for ldoc in view.line_docs(channel) for r in ldoc.releases]
    releases.sort(key=lambda r: (r.published_at, r.version), reverse=True)
    releases = releases[:MAX_ENTRIES]
    updated = max([doc.generated_at, *(r.published_at for r in releases)])

    def sub(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
        el = ET.SubElement(parent, f"{{{ATOM}}}{tag}", attrs)
        if text is not None:
            el.text = text
        return el

    feed = ET.Element(f"{{{ATOM}}}feed")
    sub(feed, "id", f"urn:release-channels:{view.project}:{channel}")
    sub(feed, "title", f"{view.project} {channel} releases")
    sub(feed, "updated", sj.format_time(updated))
    sub(feed, "author").append(_named(view.project))
    sub(feed, "link", href=_link(view, "index.html"), rel="alternate", type="text/html")
    sub(feed, "link", href=_link(view, f"channels/{channel}/feed.xml"), rel="self")
    for r in releases:
        entry = sub(feed, "entry")
        sub(entry, "id", f"urn:release-channels:{view.project}:{channel}:{r.tag}")
        title = r.tag + ("" if r.active else " (withdrawn)")
        sub(entry, "title", title)
        sub(
            entry,
            "updated",
            sj.format_time(r.withdrawal.withdrawn_at if r.withdrawal else r.published_at),
        )
        sub(entry, "published", sj.format_time(r.published_at))
        sub(entry, "link", href=_link(view, f"index.html#{channel}-{r.version}"), rel="alternate")
        sub(entry, "content", _entry_html(r), type="html")
    ET.indent(feed)
    body: bytes = ET.tostring(feed, encoding="utf-8", xml_declaration=True)
    return body + b"\n"


def _named(name: str) -> ET.Element:
    el = ET.Element(f"{{{ATOM}}}name")
    el.text = name
    return el
