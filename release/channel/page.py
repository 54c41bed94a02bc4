"""A static ``index.html`` for a channel store (pure: documents in, HTML text out).

No scripts, no external assets; every value is HTML-escaped. For each file the page
shows its size, sha256 and the exact commands that verify it.
"""

from __future__ import annotations

import html
import shlex
from collections.abc import Mapping
from datetime import datetime

from release.channel import strictjson as sj
from release.channel.model import Artifact, ChannelDocument, Index, LineDocument, Release

_CSS = """
body{font-family:system-ui,sans-serif;margin:2rem auto;max-width:72rem;padding:0 1rem;
color:#1b1b1b}
table{border-collapse:collapse;margin:.5rem 0 1rem}td,th{border:1px solid #ccc;
padding:.25rem .5rem;text-align:left;vertical-align:top}
code,pre{font-family:ui-monospace,monospace;font-size:.85em}pre{margin:.2rem 0;
white-space:pre-wrap;word-break:break-all}
.phase-active{color:#075e00}.phase-maintenance{color:#7a5600}.phase-eol{color:#9b0000}
.withdrawn{text-decoration:line-through}.meta{color:#555}
"""


def _e(value: object) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def _size(n: int) -> str:
    if n < 1024:
        return f"{n} B"
    value = float(n)
    for unit in ("KiB", "MiB", "GiB"):
        value /= 1024
        if value < 1024 or unit == "GiB":
            break
    return f"{value:.1f} {unit} ({n} bytes)"


def verify_commands(art: Artifact, release: Release) -> list[str]:
    """The commands a user runs next to the downloaded file."""
    name = shlex.quote(art.name)
    return [
        f"echo {shlex.quote(art.sha256 + '  ' + art.name)} | sha256sum -c -",
        f"release verify {name} --bundle {shlex.quote(art.name + '.sigstore.json')} "
        f"--identity {shlex.quote(release.signer.identity)} "
        f"--issuer {shlex.quote(release.signer.issuer)}",
    ]


def _release(channel: str, release: Release) -> list[str]:
    cls = "release" + ("" if release.active else " withdrawn")
    out = [
        f'<section class="{cls}" id="{_e(channel)}-{_e(release.version)}">',
        f"<h4>{_e(release.tag)}</h4>",
        f'<p class="meta">published {_e(sj.format_time(release.published_at))} from '
        f"<code>{_e(release.source.repository)}</code> "
        f"<code>{_e(release.source.commit[:12])}</code> ({_e(release.source.ref)})"
        + (f"; cut from {_e(release.from_edge)}" if release.from_edge else "")
        + "</p>",
    ]
    if release.withdrawal is not None:
        w = release.withdrawal
        repl = f"; use {_e(w.replacement)}" if w.replacement else ""
        out.append(
            f'<p class="status">Withdrawn {_e(sj.format_time(w.withdrawn_at))}: '
            f"{_e(w.reason)}{repl}</p>"
        )
    if release.notes:
        out.append(f'<pre class="notes">{_e(release.notes)}</pre>')
    if release.artifacts:
        out.append(
            "<table><tr><th>File</th><th>Platform</th><th>Size</th><th>sha256</th>"
            "<th>Verify</th></tr>"
        )
        for a in release.artifacts:
            cmds = "".join(f"<pre><code>{_e(c)}</code></pre>" for c in verify_commands(a, release))
            out.append(
                f'<tr class="artifact" data-name="{_e(a.name)}">'
                f'<td><a href="{_e(a.path)}">{_e(a.name)}</a> '
                f'(<a href="{_e(a.sigstore_bundle.path)}">bundle</a>)</td>'
                f"<td>{_e(a.platform)}</td><td>{_e(_size(a.size))}</td>"
                f"<td><code>{_e(a.sha256)}</code></td><td>{cmds}</td></tr>"
            )
        out.append("</table>")
    out.append("</section>")
    return out


def render_page(
    index: Index,
    channels: Mapping[str, ChannelDocument],
    lines: Mapping[tuple[str, str], LineDocument],
    *,
    now: datetime,
) -> str:
    """The HTML page of a channel store. ``lines`` may leave out lines (not shown)."""
    title = f"{index.project} release channels"
    body = [
        f"<h1>{_e(title)}</h1>",
        f'<p class="meta">Index version {index.version}, generated '
        f"{_e(sj.format_time(index.generated_at))}, expires "
        f"{_e(sj.format_time(index.expires))}; page rendered "
        f"{_e(sj.format_time(now))}.</p>",
    ]
    for name in sorted(channels):
        doc = channels[name]
        entry = index.channels[name]
        body += [
            f'<h2 id="channel-{_e(name)}">Channel {_e(name)} ({_e(doc.kind)})</h2>',
            f'<p>Latest: <strong class="latest">{_e(doc.latest or "none")}</strong>. '
            f"Signed by <code>{_e(entry.signer.identity)}</code> "
            f"(<code>{_e(entry.signer.issuer)}</code>).</p>",
            "<table><tr><th>Line</th><th>Phase</th><th>Released</th><th>EOL</th>"
            "<th>Latest</th><th>Releases</th></tr>",
        ]
        for e in reversed(doc.lines):
            s = e.support
            body.append(
                f'<tr class="line" data-line="{_e(e.line)}"><td>{_e(e.line)}</td>'
                f'<td class="phase-{_e(s.phase)}">{_e(s.phase)}</td>'
                f"<td>{_e(sj.format_day(s.released) or '')}</td>"
                f"<td>{_e(sj.format_day(s.eol) or '')}</td>"
                f"<td>{_e(e.latest or '')}</td><td>{e.releases}</td></tr>"
            )
        body.append("</table>")
        for e in reversed(doc.lines):
            ldoc = lines.get((name, e.line))
            if ldoc is None:
                continue
            body.append(f"<h3>{_e(name)} {_e(e.line)}</h3>")
            for r in reversed(ldoc.releases):
                body += _release(name, r)
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{_e(title)}</title><style>{_CSS}</style></head><body>\n"
        + "\n".join(body)
        + "\n</body></html>\n"
    )
