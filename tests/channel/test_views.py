"""The store's views: versions.json, the page, the Atom feeds (and what renders them)."""

from __future__ import annotations

import html
import json
import re
import subprocess
from datetime import timedelta
from pathlib import Path

import feedparser
import pytest

from release.channel import views
from release.channel.store import ChannelStore
from release.channel.views import is_view_path, render_views, write_views
from release.channel.views.page import render_page
from release.config import DEV_ISSUER, ChannelConfig, Identity
from release.versions import TagFormat
from tests.helpers.channelkit import (
    EDGE,
    EDGE_ID,
    NOW,
    PROJECT,
    STABLE,
    STABLE_ID,
    KeyRoot,
    publish,
)

CHROMIUM = Path("/usr/bin/chromium")
DEV_EDGE_ID = Identity("edge@dev.invalid", DEV_ISSUER)
DEV_EDGE = ChannelConfig("edge", "edge", TagFormat("edge-{yy}.{m}.{n}"), signer=DEV_EDGE_ID)
NOTES = (
    "### Fixed\n- <script>alert(1)</script> escaped\n- [click](javascript:alert(1))\n"
    "- ![pixel](https://tracker.example/p.gif)\n\n"
    + "".join(f"- change number {i} with a [link](https://example.org/{i})\n" for i in range(120))
)


def _store(tmp_path: Path, *, dev_edge: bool = False) -> ChannelStore:
    keys = KeyRoot()
    store = ChannelStore(tmp_path / "store", durable=False)
    stable = keys.signer(STABLE_ID)
    for i, v in enumerate(["2.13.0", "2.14.0", "2.14.1", "2.15.0"]):
        publish(
            store,
            STABLE,
            v,
            stable,
            now=NOW + timedelta(minutes=i),
            platforms=(("linux", "amd64"), ("darwin", "arm64")),
            notes=NOTES if v == "2.15.0" else None,
        )
    edge_channel, edge_id = (DEV_EDGE, DEV_EDGE_ID) if dev_edge else (EDGE, EDGE_ID)
    publish(store, edge_channel, "26.11.1", keys.signer(edge_id), now=NOW + timedelta(hours=1))
    publish(store, edge_channel, "26.11.2", keys.signer(edge_id), now=NOW + timedelta(hours=2))
    return store


def test_versions_json_is_the_flat_latest_map(tmp_path: Path) -> None:
    store = _store(tmp_path)
    files = render_views(store.view_input(NOW))
    assert json.loads(files["versions.json"]) == {
        "edge": "edge-26.11.2",
        "edge-26.11": "edge-26.11.2",
        "stable": "stable-2.15.0",
        "stable-2.15": "stable-2.15.0",
        "stable-2.14": "stable-2.14.1",
        "stable-2.13": "stable-2.13.0",
    }
    assert json.loads(files["channels/edge/versions.json"]) == {
        "edge": "edge-26.11.2",
        "edge-26.11": "edge-26.11.2",
    }
    # No clock inside: the same documents render the same bytes later (a signature holds).
    later = render_views(store.view_input(NOW + timedelta(days=3)))
    assert later["channels/stable/versions.json"] == files["channels/stable/versions.json"]
    assert later["versions.json"] == files["versions.json"]
    signer = KeyRoot().signer(STABLE_ID)
    later_now = NOW + timedelta(hours=3)
    store.withdraw(STABLE, "2.15.0", reason="bad", project=PROJECT, now=later_now, signer=signer)
    after = json.loads(render_views(store.view_input(NOW))["versions.json"])
    assert (after["stable"], "stable-2.15" in after) == ("stable-2.14.1", False)


def test_view_paths_are_exactly_the_rendered_files(tmp_path: Path) -> None:
    files = render_views(_store(tmp_path).view_input(NOW))
    assert all(is_view_path(p) for p in files)
    assert is_view_path("channels/stable/versions.json.sigstore.json")
    for key in (
        "index.json",
        "channels/stable/v3.json",
        "channels/stable/lines/2.15/v1.json",
        "releases/stable-2.15.0/install.sh",
        "channels/a/b/feed.xml",
        "metadata/timestamp.json",
    ):
        assert not is_view_path(key), key


def test_write_views_rewrites_only_what_changed_and_signs_versions(tmp_path: Path) -> None:
    store = _store(tmp_path)
    signer = KeyRoot().signer(STABLE_ID)
    first = store.render_views(NOW, signer=signer, channel="stable")
    assert "channels/stable/versions.json.sigstore.json" in first
    assert signer.signed == [store.root / "channels" / "stable" / "versions.json"]
    again = store.render_views(NOW, signer=signer, channel="stable")
    assert again == []  # same documents, same time: nothing rewritten, nothing re-signed
    assert len(signer.signed) == 1
    with pytest.raises(Exception, match="not a view path"):
        write_views(store.root, {"index.json": b"{}"})
    assert json.loads((store.root / "index.json").read_bytes())["version"] > 0


def test_page_puts_downloads_first_and_renders_notes_safely(tmp_path: Path) -> None:
    store = _store(tmp_path)
    page = render_page(store.view_input(NOW))
    assert page.index('id="downloads"') < page.index('id="channels"') < page.index('id="history"')
    downloads = page[page.index('id="downloads"') : page.index('id="channels"')]
    rows = re.findall(r'<tr class="download" data-channel="(\w+)" data-line="([\d.]*)"', downloads)
    # newest of each channel, then the newest of each other live line (2.13 is EOL)
    assert rows == [
        ("edge", ""),
        ("stable", ""),
        ("stable", ""),
        ("stable", "2.14"),
        ("stable", "2.14"),
    ]
    doc = store.read_channel("stable")
    assert doc is not None
    line = store.read_line(doc, "2.15")
    assert line is not None
    art = line.releases[-1].artifacts[0]
    assert f'<code class="sha">{art.sha256}</code>' in downloads
    assert "1.6 KiB (1664 bytes)" in downloads
    # markdown rendered, raw HTML and javascript: links escaped / refused
    assert "<h3>Fixed</h3>" in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<script" not in page
    assert 'href="javascript:' not in page
    assert "<img" not in page  # no external assets, no tracking pixels
    assert '<a href="https://tracker.example/p.gif">pixel</a>' in page
    assert '<a href="https://example.org/7">link</a>' in page
    assert '<div class="notes">' in page  # collapsed beyond a screen (max-height, scroll)
    # lines with phase and EOL
    assert '<tr class="line" data-line="2.13"><td>2.13</td><td class="phase-eol">eol</td>' in page
    assert "dev signatures" not in page


def test_page_banner_and_verify_command_for_dev_signatures(tmp_path: Path) -> None:
    store = _store(tmp_path, dev_edge=True)
    page = render_page(store.view_input(NOW))
    assert '<p class="banner" id="dev-banner" role="alert">dev signatures: not trusted' in page
    assert "(channel edge)" in page
    commands = [html.unescape(c) for c in re.findall(r"<pre><code>(.*?)</code></pre>", page)]
    dev = [c for c in commands if c.startswith("release verify demo-edge-26.11.2-linux-amd64")]
    assert (
        dev
        == [
            "release verify demo-edge-26.11.2-linux-amd64.tar.gz --bundle "
            "demo-edge-26.11.2-linux-amd64.tar.gz.sigstore.json --identity edge@dev.invalid "
            "--issuer https://dev.invalid --trust-config dev-trust-config.json"
        ]
        * 2
    )  # downloads row and history
    assert 'href="releases/edge-26.11.2/dev-trust-config.json">dev trust config</a>' in page
    stable = [c for c in commands if c.startswith("release verify demo-stable-2.15.0-linux")]
    assert stable
    assert all("--trust-config" not in c for c in stable)


def test_atom_feed_per_channel_reads_with_feedparser(tmp_path: Path) -> None:
    store = _store(tmp_path)
    view = store.view_input(NOW)
    files = render_views(
        views.ViewInput(view.project, view.channels, view.lines, NOW, "https://x.example")
    )
    feed = feedparser.parse(files["channels/stable/feed.xml"])
    assert not feed.bozo, feed.get("bozo_exception")
    assert feed.feed.title == "demo stable releases"
    assert [e.title for e in feed.entries] == [
        "stable-2.15.0",
        "stable-2.14.1",
        "stable-2.14.0",
    ]  # 2.13 is EOL: its line document is not loaded for the views
    first = feed.entries[0]
    assert first.link == "https://x.example/index.html#stable-2.15.0"
    assert first.published == "2026-11-25T12:03:00Z"
    assert "<h3>Fixed</h3>" in first.content[0].value
    assert "<script>" not in first.content[0].value
    edge = feedparser.parse(files["channels/edge/feed.xml"])
    assert [e.title for e in edge.entries] == ["edge-26.11.2", "edge-26.11.1"]


def _layout(page: Path, tmp_path: Path) -> dict[str, object]:
    """Render ``page`` in headless Chromium at 1280x800 and measure it (a copy with a probe)."""
    probe = tmp_path / "probe.html"
    probe.write_text(
        page.read_text().replace(
            "</body>",
            "<script>(function(){var r=function(s){var e=document.querySelector(s);"
            "if(!e)return null;var b=e.getBoundingClientRect();return [b.top,b.bottom];};"
            "var o={downloads:r('#downloads'),first:r('tr.download'),"
            "table:r('table.downloads'),banner:r('#dev-banner'),h:window.innerHeight,"
            "w:window.innerWidth};var p=document.createElement('pre');p.id='layout';"
            "p.textContent=JSON.stringify(o);document.body.appendChild(p);})();</script></body>",
        )
    )
    proc = subprocess.run(
        [
            str(CHROMIUM),
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
            "--window-size=1280,800",
            f"--user-data-dir={tmp_path / 'chromium'}",
            "--dump-dom",
            probe.as_uri(),
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    found = re.search(r'<pre id="layout">(.*?)</pre>', proc.stdout)
    assert found, proc.stdout[-2000:]
    measured: dict[str, object] = json.loads(html.unescape(found[1]))
    return measured


@pytest.mark.chromium
@pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian chromium (/usr/bin/chromium)")
def test_downloads_visible_without_scrolling_and_dev_banner(tmp_path: Path) -> None:
    store = _store(tmp_path, dev_edge=True)
    store.render_views(NOW)
    m = _layout(store.root / "index.html", tmp_path)
    # a 1280x800 window: its viewport is at most that (headless keeps room for the UI)
    height = m["h"]
    assert m["w"] == 1280, m
    assert isinstance(height, int)
    assert 600 <= height <= 800, m
    table = m["table"]
    banner = m["banner"]
    assert isinstance(table, list)
    assert isinstance(banner, list)
    # the whole downloads table (every channel's and line's newest) fits the first screen
    assert table[0] >= 0
    assert table[1] <= height, m
    assert banner[0] >= 0
    assert banner[1] <= height, m
    plain = _store(tmp_path / "plain")
    plain.render_views(NOW)
    assert _layout(plain.root / "index.html", tmp_path / "plain")["banner"] is None


def test_views_of_a_schema_2_store_come_from_its_channel_roles(tmp_path: Path) -> None:
    from tests.helpers.tufstore import TufWorld

    world = TufWorld(tmp_path)
    # a schema-2 store: index.json is only the stub that sends v1 clients away
    (world.root / "index.json").write_text('{"schema_version": "2.0"}\n')
    ChannelStore(world.root, durable=False).render_views(NOW)
    assert json.loads((world.root / "versions.json").read_bytes()) == {
        "edge": "edge-26.11.1",
        "edge-26.11": "edge-26.11.1",
        "stable": "stable-2.15.1",
        "stable-2.15": "stable-2.15.1",
        "stable-2.14": "stable-2.14.1",
        "stable-2.13": "stable-2.13.0",
    }
    page = (world.root / "index.html").read_text()
    assert 'data-name="demo-stable-2.15.1-linux-amd64.tar.gz"' in page
    script = (world.root / "channels" / "stable" / "install.sh").read_text()
    assert script.count("\n2.14.1|stable-2.14.1|2.14|") == 2  # linux/amd64, darwin/arm64
