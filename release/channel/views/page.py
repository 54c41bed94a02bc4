"""``index.html``: the page of a channel store (pure: a :class:`ViewInput` in, HTML out).

Downloads come first: the newest release of each channel and of each supported line,
one row per file, with platform, size, sha256 and the commands that verify it (they
work as shown in a directory holding the file, its bundle and, for dev signatures,
the release's ``dev-trust-config.json``). A dev-signed channel gets a banner that its
signatures are not trusted. Then the channels with their lines (phase, EOL), then the
release history with notes rendered from markdown (raw HTML escaped), each collapsed
beyond a screen. No scripts, no external assets; every value is HTML-escaped.
"""

from __future__ import annotations

import html
import shlex

from release.channel import strictjson as sj
from release.channel.model import Artifact, Release
from release.channel.views import (
    DEV_TRUST_CONFIG,
    ViewInput,
    downloads,
    is_dev_signed,
    release_dir,
)
from release.channel.views.markdown import render_markdown

HISTORY_PER_LINE = 20

_CSS = """
body{font-family:system-ui,sans-serif;margin:0 auto;max-width:80rem;padding:.5rem 1rem;
color:#1b1b1b;line-height:1.35}
h1{font-size:1.5rem;margin:.4rem 0}h2{font-size:1.2rem;margin:1rem 0 .3rem}
h3{font-size:1.05rem;margin:.8rem 0 .2rem}
table{border-collapse:collapse;margin:.3rem 0 .8rem}td,th{border:1px solid #ccc;
padding:.15rem .4rem;text-align:left;vertical-align:top}
code,pre{font-family:ui-monospace,monospace;font-size:.8em}pre{margin:.2rem 0;
white-space:pre-wrap;word-break:break-all;user-select:all;background:#f4f4f4;padding:.2rem}
.sha{word-break:break-all;font-size:.75em}
.banner{background:#fff1c2;border:2px solid #b58100;padding:.4rem .6rem;margin:.3rem 0;
font-weight:600}
.phase-active{color:#075e00}.phase-maintenance{color:#7a5600}.phase-eol{color:#9b0000}
.withdrawn{text-decoration:line-through}.meta{color:#555;font-size:.9em;margin:.2rem 0}
.notes{max-height:24rem;overflow:auto;border-left:3px solid #ddd;padding-left:.6rem}
details>summary{cursor:pointer}
"""


def _e(value: object) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def size_text(n: int) -> str:
    """``512 B``, ``1.5 KiB (1536 bytes)``, …"""
    if n < 1024:
        return f"{n} B"
    value, unit = n / 1024, "KiB"
    for bigger in ("MiB", "GiB"):
        if value < 1024:
            break
        value, unit = value / 1024, bigger
    return f"{value:.1f} {unit} ({n} bytes)"


def verify_commands(art: Artifact, release: Release) -> list[str]:
    """The commands that verify ``art``, run where it was downloaded with its bundle.

    For dev signatures they name the release's ``dev-trust-config.json`` (download it
    from the same directory): without it, the dev bundle fails against the public root.
    """
    name = shlex.quote(art.name)
    bundle = shlex.quote(art.sigstore_bundle.path.rsplit("/", 1)[-1])
    trust = f" --trust-config {DEV_TRUST_CONFIG}" if is_dev_signed(release) else ""
    return [
        f"echo {shlex.quote(art.sha256 + '  ' + art.name)} | sha256sum -c -",
        f"release verify {name} --bundle {bundle} "
        f"--identity {shlex.quote(release.signer.identity)} "
        f"--issuer {shlex.quote(release.signer.issuer)}{trust}",
    ]


def _file_links(art: Artifact, release: Release) -> str:
    links = [
        f'<a href="{_e(art.path)}">{_e(art.name)}</a>',
        f'(<a href="{_e(art.sigstore_bundle.path)}">bundle</a>',
    ]
    if is_dev_signed(release):
        links.append(
            f'<a href="{_e(release_dir(release))}/{DEV_TRUST_CONFIG}">dev trust config</a>'
        )
    return " ".join(links[:1]) + " " + ", ".join(links[1:]) + ")"


def _verify_cell(art: Artifact, release: Release) -> str:
    cmds = "".join(f"<pre><code>{_e(c)}</code></pre>" for c in verify_commands(art, release))
    return f'<details class="verify"><summary>verify</summary>{cmds}</details>'


def _downloads(view: ViewInput) -> list[str]:
    rows = downloads(view)
    out = ['<section id="downloads"><h2>Downloads</h2>']
    if not rows:
        out.append("<p>No releases yet.</p></section>")
        return out
    out.append(
        '<table class="downloads"><thead><tr><th>Channel</th><th>Release</th>'
        "<th>Platform</th><th>File</th><th>Size</th><th>sha256</th><th>Verify</th>"
        "</tr></thead><tbody>"
    )
    for d in rows:
        r, a = d.release, d.artifact
        where = d.channel if d.line is None else f"{d.channel} {d.line}"
        dev = ' <span class="dev">(dev-signed)</span>' if is_dev_signed(r) else ""
        out.append(
            f'<tr class="download" data-channel="{_e(d.channel)}" data-line="{_e(d.line or "")}"'
            f' data-name="{_e(a.name)}"><td>{_e(where)}{dev}</td>'
            f'<td><a href="#{_e(d.channel)}-{_e(r.version)}">{_e(r.tag)}</a></td>'
            f"<td>{_e(a.platform)}</td><td>{_file_links(a, r)}</td>"
            f"<td>{_e(size_text(a.size))}</td>"
            f'<td><code class="sha">{_e(a.sha256)}</code></td>'
            f"<td>{_verify_cell(a, r)}</td></tr>"
        )
    out.append("</tbody></table>")
    installs = []
    for name in sorted(view.channels):
        script = f"channels/{name}/install.sh"
        if view.base_url:
            command = f"curl -fsSL {shlex.quote(view.base_url + '/' + script)} | sh"
        else:  # the store does not know its URL: the script needs it
            command = "BASE_URL=<the URL of this page's directory> sh install.sh"
        installs.append(
            f"<li>{_e(name)}: <code>{_e(command)}</code> "
            f'(<a href="{_e(script)}">install.sh</a>, '
            f'<a href="channels/{_e(name)}/feed.xml">feed</a>)</li>'
        )
    out.append(
        '<p class="meta">Install scripts (sha256 checked against the signed line document; '
        "the Sigstore bundle too when <code>sigstore</code> or <code>cosign</code> is "
        f'installed):</p><ul class="installs">{"".join(installs)}</ul>'
        '<p class="meta">Latest tags as JSON: <a href="versions.json">versions.json</a>.</p>'
        "</section>"
    )
    return out


def _banner(view: ViewInput) -> list[str]:
    dev = [n for n in sorted(view.channels) if is_dev_signed(view.channels[n])]
    if not dev:
        return []
    names = ", ".join(dev)
    return [
        f'<p class="banner" id="dev-banner" role="alert">dev signatures: not trusted '
        f"(channel {_e(names)}). They were made by a local development Sigstore instance "
        "(<code>--sign dev</code>): they show the files are intact, not who published "
        "them.</p>"
    ]


def _channels(view: ViewInput) -> list[str]:
    body = ['<section id="channels"><h2>Channels</h2>']
    for name in sorted(view.channels):
        doc = view.channels[name]
        body += [
            f'<h3 id="channel-{_e(name)}">{_e(name)} ({_e(doc.kind)})</h3>',
            f'<p>Latest: <strong class="latest">{_e(doc.latest or "none")}</strong>. '
            f"Signed by <code>{_e(doc.signer.identity)}</code> "
            f"(<code>{_e(doc.signer.issuer)}</code>), document v{doc.version}.</p>",
            "<table><tr><th>Line</th><th>Phase</th><th>Released</th><th>EOL</th>"
            "<th>Latest</th><th>Releases</th></tr>",
        ]
        for e in reversed(doc.lines):
            s = e.support
            phase = s.phase_on(view.now.date())
            body.append(
                f'<tr class="line" data-line="{_e(e.line)}"><td>{_e(e.line)}</td>'
                f'<td class="phase-{_e(phase)}">{_e(phase)}</td>'
                f"<td>{_e(sj.format_day(s.released) or '')}</td>"
                f"<td>{_e(sj.format_day(s.eol) or '')}</td>"
                f"<td>{_e(e.latest or '')}</td><td>{e.releases}</td></tr>"
            )
        body.append("</table>")
    body.append("</section>")
    return body


def _release(channel: str, release: Release, *, open_notes: bool) -> list[str]:
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
        attr = " open" if open_notes else ""
        out.append(
            f"<details{attr}><summary>Release notes</summary>"
            f'<div class="notes">{render_markdown(release.notes)}</div></details>'
        )
    if release.artifacts:
        out.append(
            "<table><tr><th>File</th><th>Platform</th><th>Size</th><th>sha256</th>"
            "<th>Verify</th></tr>"
        )
        for a in release.artifacts:
            out.append(
                f'<tr class="artifact" data-name="{_e(a.name)}">'
                f"<td>{_file_links(a, release)}</td>"
                f"<td>{_e(a.platform)}</td><td>{_e(size_text(a.size))}</td>"
                f'<td><code class="sha">{_e(a.sha256)}</code></td>'
                f"<td>{_verify_cell(a, release)}</td></tr>"
            )
        out.append("</table>")
    out.append("</section>")
    return out


def _history(view: ViewInput) -> list[str]:
    body = ['<section id="history"><h2>Releases</h2>']
    for name in sorted(view.channels):
        doc = view.channels[name]
        for ldoc in view.line_docs(name):
            body.append(f"<h3>{_e(name)} {_e(ldoc.line)}</h3>")
            shown = list(reversed(ldoc.releases))[:HISTORY_PER_LINE]
            for r in shown:
                body += _release(name, r, open_notes=r.version == doc.latest)
            hidden = len(ldoc.releases) - len(shown)
            if hidden:
                body.append(
                    f'<p class="meta">{hidden} older releases of {_e(ldoc.line)}: '
                    f"<code>release channel show VERSION</code>.</p>"
                )
    body.append("</section>")
    return body


def render_page(view: ViewInput) -> str:
    """The HTML page of a channel store."""
    title = f"{view.project} release channels"
    body = [
        f"<header><h1>{_e(title)}</h1>",
        *_banner(view),
        f'<p class="meta">Rendered {_e(sj.format_time(view.now))} from the signed channel '
        "documents; verify downloads with the commands shown.</p></header><main>",
        *_downloads(view),
        *_channels(view),
        *_history(view),
        "</main>",
    ]
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{_e(title)}</title><style>{_CSS}</style></head><body>\n"
        + "\n".join(body)
        + "\n</body></html>\n"
    )
