"""Read-only commands: ``release status``, ``release next …``, ``release changelog``.

They work on any repository (``--repo PATH``) and only read: tags in one
``for-each-ref`` call, commits in one ``git log`` pass. No sigstore, PyGithub or
rich is imported here, so they start fast.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from release.adapters.git import Commit, Git
from release.changelog import entries, render_section
from release.cli._output import Output
from release.config import ChannelConfig, ProjectConfig, load_config
from release.errors import ReleaseError, UsageError
from release.history import (
    History,
    ReleaseTag,
    assign_commits,
    build_history,
    next_edge_for,
    support_phases,
)
from release.versions import (
    EdgeVersion,
    StableVersion,
    next_line_release,
    next_minor,
    parse_date,
    parse_line,
    pep440,
)

UNRELEASED = "Unreleased"


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("status", help="latest edge, every stable line, next versions")
    p.add_argument("--date", help="UTC date for the next edge (default: today)")
    p.set_defaults(handler=cmd_status)

    p = sub.add_parser("next", help="print the next version of a channel")
    nsub = p.add_subparsers(dest="next_kind", metavar="KIND")
    nsub.required = True
    q = nsub.add_parser("edge", help="the next edge tag, e.g. edge-26.11.1")
    q.add_argument("--date", help="UTC date YYYY-MM-DD (default: today)")
    q.set_defaults(handler=cmd_next)
    q = nsub.add_parser("stable", help="the .0 of the next stable line")
    q.add_argument("--channel", help="stable channel (default: the first one)")
    q.set_defaults(handler=cmd_next)
    for kind, text in (("point", "next point release"), ("backport", "next backport")):
        q = nsub.add_parser(kind, help=f"the {text} of LINE, e.g. stable-2.15.3")
        q.add_argument("line", metavar="LINE", help="a stable line X.Y")
        q.add_argument("--channel", help="stable channel (default: the first one)")
        q.set_defaults(handler=cmd_next)

    p = sub.add_parser("changelog", help="markdown changelog of a range or of every release")
    p.add_argument(
        "range",
        nargs="?",
        metavar="RANGE",
        help="FROM..TO, or a release tag (from the previous release of its channel); "
        "default: the latest edge release..HEAD",
    )
    p.add_argument("--all", action="store_true", help="a section for every release, newest first")
    p.set_defaults(handler=cmd_changelog)


# -- shared facts ---------------------------------------------------------------


@dataclass(frozen=True)
class Facts:
    git: Git
    config: ProjectConfig
    history: History


def load_facts(repo: Any) -> Facts:
    """Repository, configuration and release history. Raises :class:`ReleaseError`."""
    git = Git(repo)
    root = git.ensure_repo()
    git = Git(root)
    git.ensure_full_history()
    config = load_config(root)
    return Facts(git, config, build_history(git.tags(), config))


def _edge_channel(config: ProjectConfig) -> ChannelConfig | None:
    edges = [c for c in config.channels.values() if c.kind == "edge"]
    return edges[0] if edges else None


def _base_release(facts: Facts) -> ReleaseTag | None:
    """Where "unreleased" starts: the latest edge, or the newest release of any channel
    when no edge channel is configured."""
    edge = _edge_channel(facts.config)
    if edge is not None:
        return facts.history.latest(edge.name)
    releases = facts.history.all_releases()
    return releases[0] if releases else None


def _today(text: str | None) -> date:
    return parse_date(text) if text else datetime.now(UTC).date()


def _stable_channel(config: ProjectConfig, name: str | None) -> ChannelConfig:
    if name is None:
        return config.stable
    channel = config.channel(name)
    if channel.kind != "stable":
        raise UsageError(
            f"channel {name!r} is not a stable channel",
            hint="stable channels: " + ", ".join(c.name for c in config.stable_channels()),
        )
    return channel


def _release_json(r: ReleaseTag | None) -> dict[str, Any] | None:
    if r is None:
        return None
    return {
        "tag": r.name,
        "version": str(r.version),
        "commit": r.commit,
        "date": r.date.isoformat(),
    }


# -- status -----------------------------------------------------------------------


def cmd_status(args: argparse.Namespace, out: Output) -> int:
    facts = load_facts(args.repo)
    today = _today(args.date)
    config, history = facts.config, facts.history
    data: dict[str, Any] = {"date": today.isoformat(), "edge": None, "stable": []}
    lines_txt: list[str] = []
    edge_ch = _edge_channel(config)
    if edge_ch is not None:
        latest_edge = history.latest(edge_ch.name)
        next_edge_tag: str | None = None
        next_edge_note = ""
        try:
            nxt = next_edge_for(history, edge_ch, today)
            next_edge_tag = edge_ch.tag_format.format(nxt)
        except UsageError as exc:
            next_edge_note = exc.message
        count = len(history.releases(edge_ch.name))
        data["edge"] = {
            "channel": edge_ch.name,
            "latest": _release_json(latest_edge),
            "count": count,
            "next": next_edge_tag,
        }
        lines_txt += [
            f"{edge_ch.name}: latest {latest_edge.name if latest_edge else '(none)'}"
            + (f" ({latest_edge.day})" if latest_edge else "")
            + f", {count} releases",
            f"  next: {next_edge_tag or 'unavailable: ' + next_edge_note}",
        ]
    for ch in config.stable_channels():
        summaries = history.lines(ch.name)
        phases = support_phases(
            [s.line for s in summaries],
            ch.support,
            today,
            released={s.line: min(r.day for r in s.releases) for s in summaries},
        )
        nxt_minor = ch.tag_format.format(
            next_minor(history.stable_versions(ch.name), config.first_line)
        )
        ch_data: dict[str, Any] = {"channel": ch.name, "next_minor": nxt_minor, "lines": []}
        lines_txt.append(f"{ch.name}: {len(summaries)} lines, next line {nxt_minor}")
        for s in summaries:
            phase, eol = phases[s.line]
            ch_data["lines"].append(
                {
                    "line": str(s.line),
                    "branch": ch.branch_for(s.line),
                    "latest": _release_json(s.latest),
                    "count": s.count,
                    "first_date": s.first_date.isoformat(),
                    "last_date": s.last_date.isoformat(),
                    "phase": phase,
                    "eol": eol.isoformat() if eol else None,
                    "next_point": ch.tag_format.format(s.latest.version.bump_patch())
                    if isinstance(s.latest.version, StableVersion)
                    else None,
                }
            )
            first = s.first_date.astimezone(UTC).date()
            last = s.last_date.astimezone(UTC).date()
            lines_txt.append(
                f"  {s.line!s:<7} {s.latest.name:<20} {s.count:>3} "
                f"release{'s' if s.count != 1 else ' '}  {first} .. {last}  {phase}"
                + (f" (eol {eol})" if eol else "")
            )
        data["stable"].append(ch_data)
    data["anomalies"] = [a.to_dict() for a in history.anomalies]
    if history.anomalies:
        lines_txt.append("not counted as releases:")
        lines_txt += [f"  {a.tag:<20} {a.reason}" for a in history.anomalies]
        if any(not a.explicit for a in history.anomalies):
            lines_txt.append(
                "  (list them in [history] ignore-tags to make this explicit, "
                "or in keep-tags to count one)"
            )
    out.result("\n".join(lines_txt), data)
    return 0


# -- next -------------------------------------------------------------------------


def cmd_next(args: argparse.Namespace, out: Output) -> int:
    kind = args.next_kind
    today = _today(getattr(args, "date", None)) if kind == "edge" else None
    line = parse_line(args.line) if kind in ("point", "backport") else None
    facts = load_facts(args.repo)
    config, history = facts.config, facts.history
    version: EdgeVersion | StableVersion
    if kind == "edge":
        channel = config.edge
        assert today is not None
        version = next_edge_for(history, channel, today)
    else:
        channel = _stable_channel(config, args.channel)
        existing = history.stable_versions(channel.name)
        if kind == "stable":
            version = next_minor(existing, config.first_line)
        else:
            assert line is not None
            version = next_line_release(existing, line, kind)
    tag = channel.tag_format.format(version)
    out.result(
        tag,
        {
            "channel": channel.name,
            "kind": kind,
            "version": str(version),
            "tag": tag,
            "pep440": pep440(version),
        },
    )
    return 0


# -- changelog --------------------------------------------------------------------


@dataclass(frozen=True)
class Section:
    title: str
    day: date | None
    start: str | None  # the ref the range starts after (exclusive), None: from the root
    end: str
    commits: list[Commit]


def _split_range(spec: str) -> tuple[str | None, str]:
    if "..." in spec:
        raise UsageError(f"{spec!r} is a symmetric range", hint="use FROM..TO")
    if ".." not in spec:
        return None, spec
    start, _, end = spec.partition("..")
    if not start:
        raise UsageError(
            f"range {spec!r} has no start", hint="use FROM..TO, e.g. edge-26.8.2..edge-26.8.3"
        )
    return start, end or "HEAD"


def _range_section(facts: Facts, spec: str | None) -> Section:
    git, history = facts.git, facts.history
    latest_edge = _base_release(facts)
    if spec is None:
        start: str | None = latest_edge.name if latest_edge else None
        end = "HEAD"
    else:
        start, end = _split_range(spec)
        if start is None:
            release = history.find(end)
            if release is not None:
                prev = history.previous(release)
                start = prev.name if prev else None
            elif end == "HEAD" or git.resolve(end) == git.head():
                start = latest_edge.name if latest_edge else None
            else:
                raise _not_a_release(facts, end, latest_edge)
    end_sha = git.resolve(end)
    start_sha = git.resolve(start) if start else None
    end_release = history.find(end)
    if end_release is not None:
        title, day = end_release.name, end_release.day
    elif end == "HEAD" or end_sha == git.head():
        title, day = UNRELEASED, None
    else:
        title, day = end, None
    rev = [end_sha, f"^{start_sha}"] if start_sha else [end_sha]
    return Section(title, day, start, end, git.log(rev))


def _not_a_release(facts: Facts, ref: str, latest: ReleaseTag | None) -> UsageError:
    anomaly = next((a for a in facts.history.anomalies if a.tag == ref), None)
    since = latest.name if latest else "FROM"
    if anomaly is not None:
        return UsageError(
            f"{ref} is not counted as a release of {anomaly.channel}: {anomaly.reason}",
            hint=f"name a range instead, e.g. release changelog {since}..{ref}",
        )
    return UsageError(
        f"{ref} is not a release tag of any channel",
        hint=f"name a release tag, or a range such as release changelog {since}..{ref}",
    )


def _all_sections(facts: Facts) -> list[Section]:
    """Every release of every channel (newest first), plus Unreleased, in one git log pass."""
    git, history = facts.git, facts.history
    releases = history.all_releases()
    heads: dict[str, str] = {r.name: r.commit for r in releases}
    previous: dict[str, str | None] = {}
    for r in releases:
        prev = history.previous(r)
        previous[r.name] = prev.name if prev else None
    head = git.head()
    latest_edge = _base_release(facts)
    if head is not None and UNRELEASED not in heads:
        heads[UNRELEASED] = head
        previous[UNRELEASED] = latest_edge.name if latest_edge else None
    if not heads:
        return []
    commits = git.log(sorted(set(heads.values())), topo_order=True)
    assigned = assign_commits(commits, heads, previous)
    sections = []
    if UNRELEASED in heads and assigned[UNRELEASED]:
        sections.append(
            Section(UNRELEASED, None, previous[UNRELEASED], "HEAD", assigned[UNRELEASED])
        )
    for r in releases:
        sections.append(Section(r.name, r.day, previous[r.name], r.name, assigned[r.name]))
    return sections


def _section_json(s: Section, repository: str | None) -> dict[str, Any]:
    return {
        "title": s.title,
        "date": s.day.isoformat() if s.day else None,
        "from": s.start,
        "to": s.end,
        "entries": [e.to_dict() for e in entries(s.commits)],
        "markdown": render_section(s.title, s.day, s.commits, repository=repository),
    }


def cmd_changelog(args: argparse.Namespace, out: Output) -> int:
    if args.all and args.range:
        raise UsageError(
            "--all renders every release; it takes no RANGE",
            hint="release changelog --all, or release changelog FROM..TO",
        )
    facts = load_facts(args.repo)
    repository = facts.config.repository or facts.git.remote_url()
    if facts.git.head() is None:
        raise ReleaseError("the repository has no commits", hint="commit something first")
    sections = _all_sections(facts) if args.all else [_range_section(facts, args.range)]
    if out.json_mode:
        data: Any = [_section_json(s, repository) for s in sections]
        out.result("", data if args.all else data[0])
        return 0
    text = "\n".join(
        render_section(s.title, s.day, s.commits, repository=repository) for s in sections
    )
    out.result(text)
    return 0
