"""Adopting an existing repository (pure): what its tags and branches say about its channels.

:func:`infer` takes the tags (one ``for-each-ref`` read) and branch names and
returns an :class:`Inference`: the edge channel's tag format, the stable and vendor
channels with their tag formats, branch formats and lines, the development branch,
the tags that are not releases, and the reason for each choice. ``release init``
prints it and writes the files of :mod:`release.scaffold` from it.

How tags are read: a tag ``<prefix>A.B.C`` belongs to the group of its prefix. A
group is *calendar* (an edge channel, ``<prefix>{yy}.{m}.{n}``) when most of its
versions name the month they were tagged in (``edge-25.12.3`` tagged in December
2025), else *semantic* (a stable channel, ``<prefix>{version}``). A group needs two
tags to be a channel; a lone tag is reported and left alone. The branch format of a
stable channel is the branch name pattern that names the most of its lines
(``release/stable-2.13`` → ``release/stable-{major}.{minor}``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date

from release.adapters.git import TagInfo
from release.config.model import (
    DEFAULT_BRANCH_FORMAT,
    DEFAULT_EDGE_TAG,
    DEFAULT_STABLE_TAG,
    ChannelConfig,
    SupportPolicy,
)
from release.history import line_support
from release.versions import Line, TagFormat

_VERSION_TAG = re.compile(r"(?P<prefix>(?:.*[^0-9.])?)(?P<a>\d+)\.(?P<b>\d+)\.(?P<c>\d+)")
_RESERVED_NAMES = frozenset({"edge", "stable", "trust", "none"})
SHOWN = 8  # tags listed by name in a reason before "and N more"


@dataclass(frozen=True)
class LineFacts:
    line: Line
    latest: str  # the newest release tag of the line
    count: int
    branch: str | None  # the branch found for the line under the chosen format
    first: date | None = None  # the UTC day of the line's first release
    last: date | None = None  # the UTC day of its newest release


@dataclass(frozen=True)
class InferredChannel:
    name: str
    kind: str  # "edge" | "stable"
    tag_format: str
    tags: tuple[str, ...]  # the tags of the channel, oldest version first
    branch_format: str = DEFAULT_BRANCH_FORMAT  # stable only
    lines: tuple[LineFacts, ...] = ()  # stable only, newest line first
    reasons: tuple[str, ...] = ()
    eol_months: int | None = None  # stable only: the date rule the history needs, if any

    @property
    def latest(self) -> str | None:
        return self.tags[-1] if self.tags else None

    def to_dict(self) -> dict[str, object]:
        return {
            "name": self.name,
            "kind": self.kind,
            "tag_format": self.tag_format,
            "branch_format": self.branch_format if self.kind == "stable" else None,
            "count": len(self.tags),
            "latest": self.latest,
            "lines": [
                {"line": str(f.line), "latest": f.latest, "count": f.count, "branch": f.branch}
                for f in self.lines
            ],
            "reasons": list(self.reasons),
            "eol_months": self.eol_months,
        }


@dataclass(frozen=True)
class Inference:
    channels: tuple[InferredChannel, ...]
    branch: str  # the development branch edge releases come from
    branch_reason: str
    ignored: Mapping[str, str] = field(default_factory=dict)  # tag -> why it is not a release
    tag_count: int = 0

    @property
    def edge(self) -> InferredChannel | None:
        return next((c for c in self.channels if c.kind == "edge"), None)

    def stable_channels(self) -> list[InferredChannel]:
        return [c for c in self.channels if c.kind == "stable"]

    def channel_configs(self) -> dict[str, ChannelConfig]:
        """The inferred channels as configuration (to find anomalies, or check the result)."""
        return {
            c.name: ChannelConfig(
                c.name,
                c.kind,
                TagFormat(c.tag_format),
                branch=self.branch,
                branch_format=c.branch_format,
            )
            for c in self.channels
        }

    def to_dict(self) -> dict[str, object]:
        return {
            "tags": self.tag_count,
            "branch": self.branch,
            "branch_reason": self.branch_reason,
            "channels": [c.to_dict() for c in self.channels],
            "ignored": dict(self.ignored),
        }


@dataclass
class _Group:
    prefix: str
    tags: list[tuple[TagInfo, tuple[int, int, int], bool]] = field(default_factory=list)

    @property
    def calendar_count(self) -> int:
        return sum(1 for _, _, cal in self.tags if cal)

    @property
    def is_calendar(self) -> bool:
        return self.calendar_count >= 2 and self.calendar_count * 5 >= len(self.tags) * 3


def _is_calendar(tag: TagInfo, a: str, b: str) -> bool:
    """``A.B`` reads as the month the tag was made in (one month of slack either way)."""
    if len(a) != 2 or b.startswith("0") or not 1 <= int(b) <= 12:
        return False
    when = tag.date.astimezone(UTC)
    tagged = when.year * 12 + when.month
    named = (2000 + int(a)) * 12 + int(b)
    return abs(tagged - named) <= 1


def _listing(names: Sequence[str]) -> str:
    shown = ", ".join(names[:SHOWN])
    return shown + (f" and {len(names) - SHOWN} more" if len(names) > SHOWN else "")


def _channel_name(prefix: str, taken: set[str]) -> str:
    base = re.sub(r"[^a-z0-9]+", "-", prefix.lower()).strip("-") or "stable"
    name = base if base not in taken and base not in _RESERVED_NAMES else f"{base}-stable"
    n = 2
    while name in taken:
        name = f"{base}-{n}"
        n += 1
    return name


def _line_pattern(line: Line) -> re.Pattern[str]:
    return re.compile(rf"(?<![0-9.]){line.major}\.{line.minor}(?![0-9])")


def infer_branch_format(
    lines: Sequence[Line], branches: Iterable[str], hint: str = ""
) -> tuple[str, dict[Line, str], str]:
    """The branch name pattern naming the most ``lines`` (ties: one naming ``hint``, then
    the shortest), the branch of each line under it, and why."""
    by_template: dict[str, dict[Line, str]] = {}
    names = sorted(set(branches))
    for line in lines:
        pattern = _line_pattern(line)
        for name in names:
            if len(pattern.findall(name)) != 1:
                continue
            template = pattern.sub("{major}.{minor}", name)
            by_template.setdefault(template, {}).setdefault(line, name)
    if not by_template:
        why = (
            f"no branch names a line ({', '.join(str(x) for x in lines[:3])}…); "
            f"kept the default {DEFAULT_BRANCH_FORMAT}"
            if lines
            else f"no stable lines yet; the default {DEFAULT_BRANCH_FORMAT}"
        )
        return DEFAULT_BRANCH_FORMAT, {}, why
    best = max(
        by_template.items(),
        key=lambda kv: (len(kv[1]), bool(hint) and hint in kv[0], -len(kv[0]), kv[0]),
    )
    template, found = best
    shown = _listing([found[x] for x in lines if x in found])
    why = f"branches {shown} name {len(found)} of {len(lines)} lines"
    return template, found, why


def _main_branch(branches: Sequence[str], current: str | None) -> tuple[str, str]:
    for name in ("main", "master"):
        if name in branches:
            return name, f"the branch {name!r} exists"
    if current:
        return current, f"no main or master branch; the checked-out branch {current!r}"
    return "main", "no main, master or checked-out branch; the default 'main'"


def infer(
    tags: Sequence[TagInfo], branches: Sequence[str], current: str | None = None
) -> Inference:
    """What ``tags`` and ``branches`` (names, remote ones without ``origin/``) say."""
    groups: dict[str, _Group] = {}
    ignored: dict[str, str] = {}
    for tag in tags:
        m = _VERSION_TAG.fullmatch(tag.name)
        if m is None:
            ignored[tag.name] = "not a version"
            continue
        version = (int(m["a"]), int(m["b"]), int(m["c"]))
        cal = _is_calendar(tag, m["a"], m["b"])
        groups.setdefault(m["prefix"], _Group(m["prefix"])).tags.append((tag, version, cal))
    branch, branch_reason = _main_branch(branches, current)
    channels: list[InferredChannel] = []
    calendar = sorted(
        (g for g in groups.values() if g.is_calendar), key=lambda g: -g.calendar_count
    )
    semantic = sorted(
        (g for g in groups.values() if not g.is_calendar and len(g.tags) >= 2),
        key=lambda g: ("stable" not in g.prefix, -len(g.tags), g.prefix),
    )
    for g in groups.values():
        if len(g.tags) < 2 and not g.is_calendar:
            ignored[g.tags[0][0].name] = "a lone tag of its form"
    if calendar:
        g = calendar[0]
        kept = [t for t, _, cal in g.tags if cal]
        for t, _, cal in g.tags:
            if not cal:
                ignored[t.name] = f"its version is not the month it was tagged in ({g.prefix}…)"
        kept.sort(key=lambda t: t.date)
        template = f"{g.prefix}{{yy}}.{{m}}.{{n}}"
        reason = (
            f"{len(kept)} tags {template}: their versions name the month they were tagged in "
            f"(e.g. {kept[-1].name} on {kept[-1].date.astimezone(UTC).date()})"
        )
        channels.append(
            InferredChannel("edge", "edge", template, _by_version(g, kept), reasons=(reason,))
        )
        for other in calendar[1:]:
            for t, _, _ in other.tags:
                ignored[t.name] = f"a second calendar series ({other.prefix}…); one edge channel"
    taken: set[str] = set()
    for i, g in enumerate(semantic):
        name = "stable" if i == 0 else _channel_name(g.prefix, taken)
        taken.add(name)
        template = f"{g.prefix}{{version}}"
        by_line: dict[Line, list[tuple[tuple[int, int, int], str]]] = {}
        days: dict[Line, list[date]] = {}
        for t, v, _ in g.tags:
            by_line.setdefault(Line(v[0], v[1]), []).append((v, t.name))
            days.setdefault(Line(v[0], v[1]), []).append(t.date.astimezone(UTC).date())
        lines = sorted(by_line, reverse=True)
        fmt, found, why = infer_branch_format(lines, branches, hint=g.prefix.strip("-/_"))
        facts = tuple(
            LineFacts(
                x,
                max(by_line[x])[1],
                len(by_line[x]),
                found.get(x),
                min(days[x]),
                max(days[x]),
            )
            for x in lines
        )
        eol_months, support_why = infer_support(facts)
        ordered = tuple(name for _, name in sorted(n for x in lines for n in by_line[x]))
        reason = (
            f"{len(g.tags)} tags {template} in {len(lines)} lines "
            f"({', '.join(str(x) for x in lines[:4])}{'…' if len(lines) > 4 else ''})"
        )
        channels.append(
            InferredChannel(
                name,
                "stable",
                template,
                ordered,
                fmt,
                facts,
                (reason, f"branch-format: {why}", f"support: {support_why}"),
                eol_months,
            )
        )
    if not calendar:
        why = "no tag names the month it was made in: edge releases start with the default"
        channels.insert(0, InferredChannel("edge", "edge", DEFAULT_EDGE_TAG, (), reasons=(why,)))
    if not semantic:
        why = "no series of X.Y.Z tags: stable releases start with the default"
        channels.append(InferredChannel("stable", "stable", DEFAULT_STABLE_TAG, (), reasons=(why,)))
    return Inference(tuple(channels), branch, branch_reason, ignored, len(tags))


MAX_EOL_MONTHS = 120


def _released_while_eol(facts: Sequence[LineFacts], policy: SupportPolicy) -> LineFacts | None:
    """The first line with a release on a day the support rule calls it end-of-life."""
    released = {f.line: f.first for f in facts}
    for f in facts:
        if f.last is None:
            continue
        phase, _, _ = line_support(released, policy, f.last)[f.line]
        if phase == "eol":
            return f
    return None


def infer_support(facts: Sequence[LineFacts]) -> tuple[int | None, str]:
    """The support rule the history needs: ``None`` when the default count rule never
    calls a line end-of-life before its last release, else the fewest ``eol-months``
    (end of life N months after the next line's ``.0``) that never does."""
    late = _released_while_eol(facts, SupportPolicy())
    if late is None:
        return None, "no line shipped after the default rule (two lines) ends it"
    for months in range(1, MAX_EOL_MONTHS + 1):
        if _released_while_eol(facts, SupportPolicy(eol_months=months)) is None:
            return months, (
                f"{late.latest} shipped on {late.last} when two newer lines existed; lines "
                f"get releases up to {months} months after the next line's .0"
            )
    return None, f"{late.latest} shipped long after newer lines: set [support] by hand"


def _by_version(g: _Group, kept: Sequence[TagInfo]) -> tuple[str, ...]:
    names = {t.name for t in kept}
    return tuple(t.name for t, v, _ in sorted(g.tags, key=lambda x: x[1]) if t.name in names)


def defaults_inference(branches: Sequence[str], current: str | None) -> Inference:
    """No release tags: Linkerd's two channels, as the defaults would have them."""
    branch, why = _main_branch(branches, current)
    return Inference(
        (
            InferredChannel(
                "edge", "edge", DEFAULT_EDGE_TAG, (), reasons=("no tags yet: Linkerd's default",)
            ),
            InferredChannel(
                "stable",
                "stable",
                DEFAULT_STABLE_TAG,
                (),
                reasons=("no tags yet: Linkerd's default",),
            ),
        ),
        branch,
        why,
    )
