"""Channel index v1: how the next document follows the previous one (used by the stores),
as dataclasses and, for the publisher's fast path, on canonical dicts."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import date, datetime, timedelta
from typing import Any

from release.channel import strictjson as sj
from release.channel.model.documents import (
    ChannelDocument,
    ChannelEntry,
    Index,
    LineDocument,
    LineEntry,
    LineSummary,
)
from release.channel.model.records import (
    CLOCK_SKEW,
    SCHEMA_VERSION,
    TYPE_CHANNEL,
    TYPE_LINE,
    Pin,
    Release,
    Support,
    Withdrawal,
    _check_line,
    _check_tag_format,
    _identity_dict,
    _line_of,
    _max_active,
    _max_version,
    parse_version,
)
from release.channel.strictjson import fail
from release.config import Identity, SupportPolicy

# --- how the next document follows the previous one (used by the store) -------------


def add_release(
    doc: LineDocument | None,
    release: Release,
    *,
    project: str,
    channel: str,
    kind: str,
    tag_format: str,
    signer: Identity,
    now: datetime,
    version: int | None = None,
) -> LineDocument:
    """The line document after publishing ``release``.

    Raises :class:`DocumentError` when the version exists, is not above every version
    of its line (versions only move forward), or does not fit the channel.
    """
    v = parse_version(kind, release.version, f"release {release.version!r}")
    line = str(v.line)
    releases: tuple[Release, ...] = ()
    if doc is not None:
        if doc.line != line or doc.channel != channel:
            fail(
                f"release {release.version} belongs to {channel}/{line}, not "
                f"{doc.channel}/{doc.line}"
            )
        if doc.release(release.version) is not None:
            fail(
                f"{channel} {release.version} is already published",
                "published releases are immutable; withdraw it and publish a new version",
            )
        top = max(parse_version(kind, r.version) for r in doc.releases)
        if not top < v:
            fail(
                f"{channel} {release.version} is not above {top}, the highest release of "
                f"line {line}",
                "versions of a line only move forward",
            )
        releases = doc.releases
    new = (*releases, release)
    return LineDocument(
        project=project,
        channel=channel,
        kind=kind,
        tag_format=tag_format,
        line=line,
        version=version if version is not None else (doc.version + 1 if doc else 1),
        generated_at=now,
        signer=signer,
        latest=_max_active(kind, new),
        releases=new,
    )


def withdraw(
    doc: LineDocument,
    version: str,
    *,
    reason: str,
    now: datetime,
    signer: Identity,
    replacement: str | None = None,
    doc_version: int | None = None,
) -> LineDocument:
    """The line document after withdrawing ``version``. Raises :class:`DocumentError`."""
    target = doc.release(version)
    if target is None:
        fail(f"{doc.channel} {version} is not a release of line {doc.line}")
    if not target.active:
        fail(f"{doc.channel} {version} is already withdrawn")
    if replacement is not None:
        parse_version(doc.kind, replacement, "replacement")
        if replacement == version:
            fail("a release cannot replace itself")
        same_line = doc.release(replacement)
        if _line_of(doc.kind, replacement, "replacement") == doc.line and (
            same_line is None or not same_line.active
        ):
            fail(f"replacement {replacement} is not an active release of line {doc.line}")
    w = Withdrawal(reason=reason, withdrawn_at=now, replacement=replacement)
    releases = tuple(
        replace(r, status="withdrawn", withdrawal=w) if r.version == version else r
        for r in doc.releases
    )
    return replace(
        doc,
        version=doc_version if doc_version is not None else doc.version + 1,
        generated_at=now,
        signer=signer,
        releases=releases,
        latest=_max_active(doc.kind, releases),
    )


def compute_support(
    kind: str, released: Mapping[str, date | None], policy: SupportPolicy, today: date
) -> dict[str, Support]:
    """Support of every line (the rule of :func:`release.history.line_support`, shared
    with ``release status``)."""
    return {
        name: Support(phase=phase, released=rel, eol=eol)
        for name, (phase, rel, eol) in _support_table(kind, released, policy, today).items()
    }


def _support_table(
    kind: str, released: Mapping[str, date | None], policy: SupportPolicy, today: date
) -> dict[str, tuple[str, date | None, date | None]]:
    """Line name -> (phase, released, eol) by :func:`release.history.line_support`, in
    line order."""
    from release.history import line_support

    names = {_check_line(name, "line"): name for name in released}
    table = line_support({ln: released[n] for ln, n in names.items()}, policy, today, kind=kind)
    return {names[ln]: table[ln] for ln in sorted(names)}


def update_channel(
    prev: ChannelDocument | None,
    line_doc: LineDocument,
    pin: Pin,
    *,
    signer: Identity,
    policy: SupportPolicy,
    now: datetime,
    version: int | None = None,
) -> ChannelDocument:
    """The channel document after ``line_doc`` (pinned by ``pin``) changed.

    Support is recomputed for every line (a new line can push an old one to EOL).
    Raises :class:`DocumentError`.
    """
    entries = {e.line: e for e in prev.lines} if prev else {}
    first = min((r.published_at for r in line_doc.releases), default=now)
    old = entries.get(line_doc.line)
    entries[line_doc.line] = LineEntry(
        line=line_doc.line,
        latest=line_doc.latest,
        support=old.support if old else Support("active", first.date()),
        document=pin,
        releases=len(line_doc.releases),
    )
    released = {k: e.support.released for k, e in entries.items()}
    support = compute_support(line_doc.kind, released, policy, now.date())
    lines = tuple(
        replace(entries[k], support=support[k])
        for k in sorted(entries, key=lambda s: _check_line(s, "line"))
    )
    return ChannelDocument(
        project=line_doc.project,
        channel=line_doc.channel,
        kind=line_doc.kind,
        tag_format=line_doc.tag_format,
        version=version if version is not None else (prev.version + 1 if prev else 1),
        generated_at=now,
        signer=signer,
        latest=_max_version(line_doc.kind, (e.latest for e in lines)),
        lines=lines,
    )


def channel_entry(doc: ChannelDocument, pin: Pin, signer_template: Identity) -> ChannelEntry:
    """The index entry of a channel document: latest, live lines, pin."""
    return ChannelEntry(
        kind=doc.kind,
        tag_format=doc.tag_format,
        signer=signer_template,
        latest=doc.latest,
        document=pin,
        lines={
            e.line: LineSummary(e.latest, e.support, e.document)
            for e in doc.lines
            if e.support.phase != "eol"
        },
    )


def next_index(
    prev: Index | None,
    *,
    project: str,
    channel: str,
    entry: ChannelEntry,
    signer: Identity,
    now: datetime,
    expires_in: timedelta,
    version: int | None = None,
) -> Index:
    """The index after ``channel`` changed to ``entry``: version + 1, new expiry.

    Raises :class:`DocumentError` when ``now`` is before the previous index (the
    clock went backwards) or the project differs.
    """
    channels: dict[str, ChannelEntry] = {}
    if prev is not None:
        if prev.project != project:
            fail(f"the store belongs to project {prev.project!r}, not {project!r}")
        if now < prev.generated_at - CLOCK_SKEW:
            fail(
                f"now ({sj.format_time(now)}) is before the current index "
                f"({sj.format_time(prev.generated_at)})",
                "check the clock",
            )
        # Two publishers' clocks differ by seconds: time in the index never goes back.
        now = max(now, prev.generated_at)
        channels = dict(prev.channels)
    channels[channel] = entry
    return Index(
        project=project,
        version=version if version is not None else (prev.version + 1 if prev else 1),
        generated_at=now,
        expires=now + expires_in,
        signer=signer,
        published_by=channel,
        channels=dict(sorted(channels.items())),
    )


def consistent(entry: ChannelEntry, name: str, doc: ChannelDocument) -> None:
    """Refuse a channel document that does not say what its index entry says."""
    if doc.channel != name or doc.kind != entry.kind or doc.tag_format != entry.tag_format:
        fail(
            f"channel document {doc.channel}/{doc.kind} does not match index channel "
            f"{name}/{entry.kind}"
        )
    if doc.version != entry.document.version:
        fail(f"channel document version {doc.version} is not the pinned {entry.document.version}")
    if doc.latest != entry.latest:
        fail(f"channel {name}: index says latest {entry.latest}, its document says {doc.latest}")
    live = {
        e.line: LineSummary(e.latest, e.support, e.document)
        for e in doc.lines
        if e.support.phase != "eol"
    }
    if dict(entry.lines) != live:
        fail(f"channel {name}: the index's lines do not match the channel document")


def line_consistent(entry: LineEntry, doc: LineDocument, channel: ChannelDocument) -> None:
    """Refuse a line document that does not say what the channel document says."""
    if (doc.channel, doc.line, doc.kind, doc.tag_format) != (
        channel.channel,
        entry.line,
        channel.kind,
        channel.tag_format,
    ):
        fail(
            f"line document {doc.channel}/{doc.line} does not match {channel.channel}/{entry.line}"
        )
    if doc.version != entry.document.version:
        fail(f"line document version {doc.version} is not the pinned {entry.document.version}")
    if doc.latest != entry.latest or len(doc.releases) != entry.releases:
        fail(
            f"line {entry.line}: channel document says latest {entry.latest} of "
            f"{entry.releases}, the line document says {doc.latest} of {len(doc.releases)}"
        )


# --- the same transitions on canonical dicts (the store's fast path) -----------------
#
# A publisher's previous documents were validated when they were published and are
# read back through their pins, so the store need not rebuild thousands of records to
# append one. These functions give byte-identical results to add_release /
# update_channel / channel_entry (tests/channel/test_fastpath.py) while checking
# everything about the new release and the ordering invariants of the line.


def append_release_dict(
    prev: Mapping[str, Any] | None,
    release: Release,
    *,
    project: str,
    channel: str,
    kind: str,
    tag_format: str,
    signer: Identity,
    now: datetime,
    version: int,
) -> dict[str, Any]:
    """:func:`add_release` on the canonical dict of the previous line document."""
    v = parse_version(kind, release.version, f"release {release.version!r}")
    line = str(v.line)
    if str(v) != release.version:
        fail(f"release {release.version!r} is not in normal form ({v})")
    expected_tag = _check_tag_format(tag_format, kind, "tag_format").format(v)
    if release.tag != expected_tag:
        fail(
            f"release {release.version} has tag {release.tag!r}, the {channel} channel "
            f"tags it {expected_tag!r}",
            "an edge release cannot enter a stable channel (or the reverse)",
        )
    if release.from_edge is not None and kind != "stable":
        fail(f"release {release.version}: from_edge is only for stable releases")
    releases: list[Any] = []
    latest: str | None = None
    if prev is not None:
        if prev["line"] != line or prev["channel"] != channel:
            fail(
                f"release {release.version} belongs to {channel}/{line}, not "
                f"{prev['channel']}/{prev['line']}"
            )
        releases = list(prev["releases"])
        versions = [r["version"] for r in releases]
        if release.version in versions:
            fail(
                f"{channel} {release.version} is already published",
                "published releases are immutable; withdraw it and publish a new version",
            )
        top = parse_version(kind, versions[-1])  # releases are kept in version order
        if not top < v:
            fail(
                f"{channel} {release.version} is not above {top}, the highest release of "
                f"line {line}",
                "versions of a line only move forward",
            )
        latest = prev["latest"]
    if release.active:
        latest = release.version  # above every earlier version of the line
    releases.append(release.to_dict())
    return {
        "schema_version": SCHEMA_VERSION,
        "type": TYPE_LINE,
        "project": project,
        "channel": channel,
        "kind": kind,
        "tag_format": tag_format,
        "line": line,
        "version": version,
        "generated_at": sj.format_time(now),
        "signer": _identity_dict(signer),
        "latest": latest,
        "releases": releases,
    }


def update_channel_dict(
    prev: Mapping[str, Any] | None,
    line_doc: Mapping[str, Any],
    pin: Pin,
    *,
    signer: Identity,
    policy: SupportPolicy,
    now: datetime,
    version: int,
) -> dict[str, Any]:
    """:func:`update_channel` on canonical dicts."""
    kind = line_doc["kind"]
    line = line_doc["line"]
    entries: dict[str, dict[str, Any]] = {e["line"]: dict(e) for e in prev["lines"]} if prev else {}
    old = entries.get(line)
    first = min((r["published_at"] for r in line_doc["releases"]), default=sj.format_time(now))
    entries[line] = {
        "line": line,
        "latest": line_doc["latest"],
        "support": old["support"] if old else {"phase": "active", "released": first[:10]},
        "document": pin.to_dict(),
        "releases": len(line_doc["releases"]),
    }
    released = {k: sj.day(e["support"].get("released"), "released") for k, e in entries.items()}
    lines = []
    for k, (phase, rel, eol) in _support_table(kind, released, policy, now.date()).items():
        entry = entries[k]
        entry["support"] = {
            "phase": phase,
            "released": sj.format_day(rel),
            "eol": sj.format_day(eol),
        }
        lines.append(entry)
    return {
        "schema_version": SCHEMA_VERSION,
        "type": TYPE_CHANNEL,
        "project": line_doc["project"],
        "channel": line_doc["channel"],
        "kind": kind,
        "tag_format": line_doc["tag_format"],
        "version": version,
        "generated_at": sj.format_time(now),
        "signer": _identity_dict(signer),
        "latest": _max_version(kind, (e["latest"] for e in lines)),
        "lines": lines,
    }


def channel_entry_dict(doc: Mapping[str, Any], pin: Pin, signer_template: Identity) -> ChannelEntry:
    """:func:`channel_entry` of a channel document given as a canonical dict."""
    return ChannelEntry(
        kind=doc["kind"],
        tag_format=doc["tag_format"],
        signer=signer_template,
        latest=doc["latest"],
        document=pin,
        lines={
            e["line"]: LineSummary(
                e["latest"],
                Support.from_dict(e["support"], "support"),
                Pin.from_dict(e["document"], "document"),
            )
            for e in doc["lines"]
            if e["support"]["phase"] != "eol"
        },
    )
