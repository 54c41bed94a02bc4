"""Release history (pure): which tags are releases of which channel, lines, previous releases.

Input is the list of :class:`~release.adapters.git.TagInfo` read in one
``for-each-ref`` call and the configured channels; output is plain values.
Tags that match no channel's tag format (``v18.7.1``, ``edge-1.2.3``,
``git-1a18ca8f``) are skipped with a debug log, never an error.

"Previous release" — the lower end of a release's changelog range — is the
release just below it in version order within its channel: for an edge the
edge before it, for a stable point release the previous patch of its line, for
a line's ``.0`` the newest release of the line below (so ``stable-2.15.0``
covers everything since the 2.14 line), and ``None`` for a channel's first
release (the whole history reachable from it).

:func:`assign_commits` answers "which commits does each release introduce" for
every release at once, from one topologically ordered ``git log`` pass.

Anomalies (:func:`tag_anomalies`): a tag that parses as a release but breaks its
channel's order — its date disagrees with its neighbours in version order, or it is
a lightweight tag amid annotated releases (a stray ``git tag edge-19.6.13`` on an
old commit) — is not a release. It is reported (``release status``, ``release
init``) and left out of every "previous release" chain, so changelogs and next
versions stay right. ``[history] ignore-tags`` excludes tags explicitly and
``[history] keep-tags`` keeps a tag the detection would exclude.
"""

from __future__ import annotations

import bisect
import logging
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import cached_property
from typing import TYPE_CHECKING, TypeVar

from release.versions import EdgeVersion, Line, StableVersion, next_edge

if TYPE_CHECKING:
    from release.adapters.git import Commit, TagInfo
    from release.config import ChannelConfig, ProjectConfig, SupportPolicy

log = logging.getLogger(__name__)

__all__ = [
    "Anomaly",
    "History",
    "LineSummary",
    "ReleaseTag",
    "add_months",
    "assign_commits",
    "build_history",
    "classify_tag",
    "line_support",
    "next_edge_for",
    "phase_on",
    "releases_by_channel",
    "stable_lines",
    "support_phases",
    "tag_anomalies",
]

Version = EdgeVersion | StableVersion
Day = date  # ReleaseTag has a field called ``date``
K = TypeVar("K", bound=Hashable)


@dataclass(frozen=True)
class ReleaseTag:
    """A tag that names a release of a channel."""

    name: str
    version: EdgeVersion | StableVersion
    commit: str
    date: datetime  # tagger date (annotated tags) or committer date
    channel: str
    annotated: bool = True

    @property
    def day(self) -> Day:
        """The UTC calendar day of the release."""
        return self.date.astimezone(UTC).date()

    @property
    def line(self) -> Line:
        return self.version.line

    @property
    def kind(self) -> str:
        return "edge" if isinstance(self.version, EdgeVersion) else "stable"


@dataclass(frozen=True)
class LineSummary:
    """One release line of a channel (stable ``2.15``, or an edge month ``26.11``)."""

    channel: str
    line: Line
    releases: tuple[ReleaseTag, ...]  # ascending by version, never empty

    @property
    def latest(self) -> ReleaseTag:
        return self.releases[-1]

    @property
    def first(self) -> ReleaseTag:
        return self.releases[0]

    @property
    def count(self) -> int:
        return len(self.releases)

    @property
    def first_date(self) -> datetime:
        return min(r.date for r in self.releases)

    @property
    def last_date(self) -> datetime:
        return max(r.date for r in self.releases)


def _channels(config: ProjectConfig | Mapping[str, ChannelConfig]) -> Mapping[str, ChannelConfig]:
    if isinstance(config, Mapping):
        return config
    return config.channels


def classify_tag(
    name: str, config: ProjectConfig | Mapping[str, ChannelConfig]
) -> tuple[str, EdgeVersion | StableVersion] | None:
    """``(channel name, version)`` of a tag, or ``None`` when no channel's format matches.

    Channels are tried in configuration order; the first match wins.
    """
    for channel in _channels(config).values():
        version = channel.tag_format.parse(name)
        if version is not None:
            return channel.name, version
    return None


def _explicit(
    config: ProjectConfig | Mapping[str, ChannelConfig],
) -> tuple[frozenset[str], frozenset[str]]:
    """``([history] ignore-tags, [history] keep-tags)`` of a project configuration."""
    if isinstance(config, Mapping):
        return frozenset(), frozenset()
    return frozenset(config.ignore_tags), frozenset(config.keep_tags)


def _candidates(
    tags: Iterable[TagInfo], channels: Mapping[str, ChannelConfig]
) -> dict[str, list[ReleaseTag]]:
    """Every tag that parses as a release of a channel, ascending by version; of two
    tags naming the same version the older one wins."""
    result: dict[str, list[ReleaseTag]] = {name: [] for name in channels}
    seen: dict[tuple[str, Version], ReleaseTag] = {}
    for tag in tags:
        found = classify_tag(tag.name, channels)
        if found is None:
            log.debug("tag %s is not a release of any channel; ignored", tag.name)
            continue
        channel, version = found
        release = ReleaseTag(tag.name, version, tag.commit, tag.date, channel, tag.annotated)
        key = (channel, version)
        other = seen.get(key)
        if other is not None:
            keep, drop = (other, release) if other.date <= release.date else (release, other)
            log.debug(
                "tags %s and %s name the same release; using %s", keep.name, drop.name, keep.name
            )
            seen[key] = keep
            continue
        seen[key] = release
    for (channel, _), release in seen.items():
        result[channel].append(release)
    for releases in result.values():
        releases.sort(key=lambda r: _sort_key(r.version))
    return result


@dataclass(frozen=True)
class Anomaly:
    """A tag that parses as a release of ``channel`` but is not counted as one."""

    tag: str
    channel: str
    commit: str
    date: datetime
    reason: str
    explicit: bool = False  # listed in [history] ignore-tags

    def to_dict(self) -> dict[str, object]:
        return {
            "tag": self.tag,
            "channel": self.channel,
            "commit": self.commit,
            "date": self.date.isoformat(),
            "reason": self.reason,
            "explicit": self.explicit,
        }


def _groups(channel: ChannelConfig, releases: Sequence[ReleaseTag]) -> list[list[ReleaseTag]]:
    """The runs whose dates must rise with their versions: a whole edge channel; each
    line of a stable channel (backports to old lines interleave with newer lines)."""
    if channel.kind == "edge":
        return [list(releases)]
    by_line: dict[Line, list[ReleaseTag]] = {}
    for r in releases:
        by_line.setdefault(r.line, []).append(r)
    return list(by_line.values())


def _in_date_order(group: Sequence[ReleaseTag]) -> set[int]:
    """Indexes (into ``group``, ascending by version) of a longest run whose dates never
    go back: the releases that agree with each other. O(n log n) patience sorting."""
    tails: list[datetime] = []
    tail_at: list[int] = []
    parent: list[int] = [-1] * len(group)
    for i, r in enumerate(group):
        k = bisect.bisect_right(tails, r.date)
        parent[i] = tail_at[k - 1] if k > 0 else -1
        if k == len(tails):
            tails.append(r.date)
            tail_at.append(i)
        else:
            tails[k] = r.date
            tail_at[k] = i
    keep: set[int] = set()
    i = tail_at[-1] if tail_at else -1
    while i >= 0:
        keep.add(i)
        i = parent[i]
    return keep


def _detect(channel: ChannelConfig, releases: Sequence[ReleaseTag]) -> dict[str, str]:
    """``{tag: reason}`` for the releases of one channel that break its order."""
    found: dict[str, str] = {}
    for group in _groups(channel, releases):
        for i, r in enumerate(group):
            if (
                not r.annotated
                and 0 < i < len(group) - 1
                and group[i - 1].annotated
                and group[i + 1].annotated
            ):
                found[r.name] = (
                    f"a lightweight tag amid annotated releases "
                    f"({group[i - 1].name} and {group[i + 1].name})"
                )
        rest = [r for r in group if r.name not in found]
        keep = _in_date_order(rest)
        kept = [r for i, r in enumerate(rest) if i in keep]
        for i, r in enumerate(rest):
            if i in keep:
                continue
            below = next(
                (k for k in reversed(kept) if _sort_key(k.version) < _sort_key(r.version)), None
            )
            above = next((k for k in kept if _sort_key(k.version) > _sort_key(r.version)), None)
            around = " and ".join(
                f"{k.name} ({k.day.isoformat()})" for k in (below, above) if k is not None
            )
            found[r.name] = f"dated {r.day.isoformat()}, out of order" + (
                f" with {around}" if around else ""
            )
    return found


def _split(
    tags: Iterable[TagInfo], config: ProjectConfig | Mapping[str, ChannelConfig]
) -> tuple[dict[str, list[ReleaseTag]], list[Anomaly]]:
    channels = _channels(config)
    ignore, keep = _explicit(config)
    candidates = _candidates(tags, channels)
    anomalies: list[Anomaly] = []
    result: dict[str, list[ReleaseTag]] = {}
    for name, releases in candidates.items():
        explicit = [r for r in releases if r.name in ignore]
        rest = [r for r in releases if r.name not in ignore]
        detected = _detect(channels[name], rest)
        for r in explicit:
            anomalies.append(
                Anomaly(r.name, name, r.commit, r.date, "listed in [history] ignore-tags", True)
            )
        for r in rest:
            if r.name in detected and r.name not in keep:
                anomalies.append(Anomaly(r.name, name, r.commit, r.date, detected[r.name]))
        dropped = {a.tag for a in anomalies}
        result[name] = [r for r in releases if r.name not in dropped]
    anomalies.sort(key=lambda a: (a.channel, a.date))
    return result, anomalies


def tag_anomalies(
    tags: Iterable[TagInfo], config: ProjectConfig | Mapping[str, ChannelConfig]
) -> list[Anomaly]:
    """The tags that parse as releases but are not counted as releases, each with its
    reason: listed in ``[history] ignore-tags``, a lightweight tag whose neighbours
    (in version order, within its channel — within its line for a stable channel)
    are annotated, or a tag whose date breaks the order of the others (the tags kept
    are a longest run whose dates rise with their versions). ``[history] keep-tags``
    overrides the detection. Pure; for ``release status`` and ``release init``."""
    return _split(tags, config)[1]


def releases_by_channel(
    tags: Iterable[TagInfo], config: ProjectConfig | Mapping[str, ChannelConfig]
) -> dict[str, list[ReleaseTag]]:
    """The releases of every configured channel, each list ascending by version.

    Every configured channel has a key (possibly with an empty list). When two
    tags name the same version of a channel, the older tag wins and the other is
    skipped with a debug log. Anomalies (:func:`tag_anomalies`) are left out.
    """
    return _split(tags, config)[0]


def _sort_key(version: Version) -> tuple[int, int, int]:
    if isinstance(version, EdgeVersion):
        return (version.year, version.month, version.n)
    return (version.major, version.minor, version.patch)


def stable_lines(releases: Sequence[ReleaseTag]) -> list[LineSummary]:
    """Group one channel's releases by line, newest line first."""
    groups: dict[Line, list[ReleaseTag]] = {}
    for release in releases:
        groups.setdefault(release.line, []).append(release)
    return [
        LineSummary(rels[0].channel, line, tuple(sorted(rels, key=lambda r: _sort_key(r.version))))
        for line, rels in sorted(groups.items(), key=lambda kv: kv[0], reverse=True)
    ]


@dataclass(frozen=True)
class History:
    """Every release of every channel, with lookups. Build it with :func:`build_history`."""

    channels: Mapping[str, Sequence[ReleaseTag]]  # ascending by version
    anomalies: Sequence[Anomaly] = ()  # tags left out of the chains, with their reasons

    def releases(self, channel: str) -> Sequence[ReleaseTag]:
        """The releases of ``channel`` ascending by version (empty for an unknown channel)."""
        return self.channels.get(channel, ())

    def versions(self, channel: str) -> list[EdgeVersion | StableVersion]:
        return [r.version for r in self.releases(channel)]

    def edge_versions(self, channel: str = "edge") -> list[EdgeVersion]:
        return [r.version for r in self.releases(channel) if isinstance(r.version, EdgeVersion)]

    def stable_versions(self, channel: str = "stable") -> list[StableVersion]:
        return [r.version for r in self.releases(channel) if isinstance(r.version, StableVersion)]

    def latest(self, channel: str) -> ReleaseTag | None:
        """The highest version of ``channel``, or ``None``."""
        rels = self.releases(channel)
        return rels[-1] if rels else None

    def lines(self, channel: str) -> list[LineSummary]:
        """The lines of ``channel``, newest first."""
        return stable_lines(self.releases(channel))

    def line(self, channel: str, line: Line) -> LineSummary | None:
        for summary in self.lines(channel):
            if summary.line == line:
                return summary
        return None

    def find(self, tag: str) -> ReleaseTag | None:
        """The release a tag name denotes, or ``None`` when it is not a release tag."""
        for rels in self.channels.values():
            for release in rels:
                if release.name == tag:
                    return release
        return None

    def previous(self, release: ReleaseTag) -> ReleaseTag | None:
        """The release just below ``release`` in version order within its channel.

        For an edge: the edge before it. For a stable ``X.Y.Z`` with ``Z > 0``: the
        previous patch of its line. For ``X.Y.0``: the newest release of the line
        below. ``None`` for the first release of a channel.
        """
        rels = self.releases(release.channel)
        keys = self._keys.get(release.channel, [])
        i = bisect.bisect_left(keys, _sort_key(release.version))
        return rels[i - 1] if i > 0 else None

    @cached_property
    def _keys(self) -> dict[str, list[tuple[int, int, int]]]:
        return {ch: [_sort_key(r.version) for r in rels] for ch, rels in self.channels.items()}

    def all_releases(self) -> list[ReleaseTag]:
        """Every release of every channel, newest first (by tag date, then version)."""
        flat = [r for rels in self.channels.values() for r in rels]
        flat.sort(key=lambda r: (r.date, r.kind, _sort_key(r.version)), reverse=True)
        return flat


def build_history(
    tags: Iterable[TagInfo], config: ProjectConfig | Mapping[str, ChannelConfig]
) -> History:
    """:class:`History` of ``tags`` under the configured channels' tag formats, with
    the anomalies (:func:`tag_anomalies`) left out of the chains and listed."""
    by_channel, anomalies = _split(tags, config)
    return History({name: tuple(rels) for name, rels in by_channel.items()}, tuple(anomalies))


def next_edge_for(history: History, channel: ChannelConfig, today: date) -> EdgeVersion:
    """The next edge of ``channel`` for ``today`` (UTC), past any number a tag left out
    as an anomaly already holds (tags never move). Raises :class:`UsageError`."""
    version = next_edge(history.edge_versions(channel.name), today)
    taken = {a.tag for a in history.anomalies}
    while channel.tag_format.format(version) in taken:
        version = EdgeVersion(version.year, version.month, version.n + 1)
    return version


def assign_commits(
    commits: Sequence[Commit],
    heads: Mapping[K, str],
    previous: Mapping[K, K | None],
) -> dict[K, list[Commit]]:
    """For every target ``k``: the commits reachable from ``heads[k]`` and not from the
    head of ``previous[k]`` (``git log prev..head`` for all targets in one pass).

    ``commits`` must be in topological order, children before parents (``git log
    --topo-order``), and contain every commit reachable from the heads. Each
    commit carries a bitmask of the targets that reach it, propagated from children
    to parents; commits sharing a mask share the membership answer, so the cost is
    one pass plus one small computation per distinct mask. Result lists keep the
    order of ``commits``. Raises ``KeyError`` if a head is not among ``commits``.
    """
    keys = list(heads)
    bit = {k: 1 << i for i, k in enumerate(keys)}
    masks: dict[str, int] = {}
    for k in keys:
        sha = heads[k]
        masks[sha] = masks.get(sha, 0) | bit[k]
    present = {c.sha for c in commits}
    for k in keys:
        if heads[k] not in present:
            raise KeyError(heads[k])
    prev_bit = {k: (bit[p] if (p := previous.get(k)) is not None else 0) for k in keys}
    result: dict[K, list[Commit]] = {k: [] for k in keys}
    members: dict[int, list[K]] = {}
    for c in commits:
        mask = masks.pop(c.sha, 0)
        if not mask:
            continue
        for parent in c.parents:
            masks[parent] = masks.get(parent, 0) | mask
        owners = members.get(mask)
        if owners is None:
            owners = []
            rest = mask
            while rest:
                low = rest & -rest
                k = keys[low.bit_length() - 1]
                if not mask & prev_bit[k]:
                    owners.append(k)
                rest ^= low
            members[mask] = owners
        for k in owners:
            result[k].append(c)
    return result


def add_months(day: date, months: int) -> date:
    """``day`` plus ``months`` calendar months (the 31st becomes the month's last day)."""
    month0 = day.month - 1 + months
    year, month = day.year + month0 // 12, month0 % 12 + 1
    for d in (day.day, 30, 29, 28):
        try:
            return date(year, month, d)
        except ValueError:
            continue
    raise AssertionError("unreachable")  # pragma: no cover


def line_support(
    released: Mapping[Line, date | None],
    policy: SupportPolicy,
    today: date,
    *,
    kind: str = "stable",
) -> dict[Line, tuple[str, date | None, date | None]]:
    """``line -> (phase, released, eol)``: the ONE support rule of ``release status``,
    the releases' ``--force-eol`` check, the channel index (``channel list``, ``show``
    and the page read what it wrote; see :func:`phase_on` for a later day).

    The newest line is ``active``. Older lines, by the policy:

    - **date rule** (``eol-months = N``): a line is in ``maintenance`` from the day the
      next line's ``.0`` was released, and ``eol`` N months after that day;
    - **count** (default, ``maintained-lines``): the next ``maintained_lines - 1`` lines
      are in ``maintenance``, older ones ``eol`` from the day the line that pushed them
      out was released. Edge lines (months) have no maintenance: only the newest is
      active.

    An explicit ``[support.lines."X.Y"]`` date wins: from its ``eol`` day on the line is
    ``eol``, before it the line keeps its rule's phase (never ``eol``); an explicit
    ``released`` replaces the first release's day. An EOL date is never before the
    line's own release.
    """
    ordered = sorted(released, reverse=True)
    keep = 1 if kind == "edge" else policy.maintained_lines
    months = policy.eol_months if kind == "stable" else None
    explicits = policy.lines if kind == "stable" else {}
    # Each line's first day, once (a channel of 200 lines asks 400 times otherwise).
    first: list[date | None] = []
    for line in ordered:
        explicit = explicits.get(str(line)) if explicits else None
        first.append(
            (explicit.released if explicit and explicit.released else None) or released[line]
        )

    out: dict[Line, tuple[str, date | None, date | None]] = {}
    for i, line in enumerate(ordered):
        explicit = explicits.get(str(line)) if explicits else None
        rel = first[i]
        by_place = "active" if i == 0 else "maintenance"
        eol: date | None
        if explicit is not None and explicit.eol is not None:
            eol = explicit.eol
            phase = "eol" if today >= eol else by_place
        elif months is not None:
            successor = first[i - 1] if i > 0 else None
            eol = add_months(successor, months) if successor is not None else None
            phase = "eol" if eol is not None and today >= eol else by_place
        elif i >= keep:
            eol, phase = first[i - keep], "eol"
        else:
            eol, phase = None, by_place
        if rel is not None and eol is not None and eol < rel:
            eol = rel
        out[line] = (phase, rel, eol)
    return out


def phase_on(phase: str, eol: date | None, today: date) -> str:
    """The phase of a line on ``today`` from a recorded ``(phase, eol)`` (e.g. the
    channel index, written on an earlier day by :func:`line_support`): ``eol`` from the
    EOL day on, the recorded phase before. Consumers (``channel list``, ``channel
    show``, the page) use this so they agree with ``release status`` on any day."""
    if eol is not None and today >= eol:
        return "eol"
    return phase


def support_phases(
    lines: Iterable[Line],
    policy: SupportPolicy,
    today: date,
    *,
    released: Mapping[Line, date | None] | None = None,
) -> dict[Line, tuple[str, date | None]]:
    """``line -> (phase, eol)`` of stable lines (see :func:`line_support`); ``released``
    gives each line's first release day, from which count-based EOL dates follow."""
    dates = released or {}
    table = line_support({ln: dates.get(ln) for ln in set(lines)}, policy, today)
    return {ln: (phase, eol) for ln, (phase, _, eol) in table.items()}
