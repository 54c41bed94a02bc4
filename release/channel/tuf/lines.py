"""Which lines of a ``{line}`` channel the maintainers authorise (``release trust``).

A vendor channel whose signer is templated with ``{line}`` (one Sigstore identity per
stable line, e.g. ``…/stable.yml@refs/heads/release/{line}``) has one key per line in
the top-level targets. ``release trust init|rotate`` names these lines from, together:

- the lines the previous targets already authorise (a line identity is never dropped
  silently);
- the lines the repository has: release tags of the channel and branches named by its
  ``branch-format`` (two ``for-each-ref`` calls, whatever the number of lines);
- ``--line X.Y``: a line authorised before it is cut.

Removing one is explicit (``--retire-line X.Y``) and refused while the line is still
supported (its phase, from its release tags, is not ``eol``). A retired line stays
bound to its identity in targets, so what it published stays readable, but the
identity is no key of any role any more. A line retired before is not brought back by
its tags: only ``--line`` authorises it again.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date

from release.adapters.git import Git
from release.config import ChannelConfig, ProjectConfig
from release.errors import UsageError
from release.versions import StableVersion, parse_line


@dataclass(frozen=True)
class LineFacts:
    """What the repository says about a channel's lines."""

    found: frozenset[str] = frozenset()  # lines with a release tag or a branch
    phases: Mapping[str, str] = field(default_factory=dict)  # lines with a release


@dataclass(frozen=True)
class LinePlan:
    """The lines a channel's targets delegation names after ``release trust``."""

    lines: frozenset[str]
    retired: frozenset[str]
    added: frozenset[str]
    dropped: frozenset[str]  # retired by this run


def per_line(channels: Iterable[ChannelConfig], dev: bool = False) -> list[ChannelConfig]:
    """The channels whose signer is templated with ``{line}``."""
    out = []
    for ch in channels:
        ident = ch.dev_signer if dev else ch.signer
        if ident is not None and "{line}" in ident.identity:
            out.append(ch)
    return out


def branch_pattern(branch_format: str) -> re.Pattern[str]:
    """A regex matching the branches of ``branch_format`` (``release/{line}``,
    ``acme-{major}.{minor}.x``), with groups ``major``/``minor`` or ``line``."""
    number = r"(?:0|[1-9][0-9]*)"
    parts = {
        "{major}": f"(?P<major>{number})",
        "{minor}": f"(?P<minor>{number})",
        "{line}": f"(?P<line>{number}\\.{number})",
    }
    out, seen = [], set()
    for piece in re.split(r"(\{major\}|\{minor\}|\{line\})", branch_format):
        if piece in parts and piece not in seen:
            out.append(parts[piece])
            seen.add(piece)
        elif piece in parts:  # a placeholder twice: the same value again
            out.append(f"(?P={piece[1:-1]})")
        else:
            out.append(re.escape(piece))
    return re.compile("".join(out))


def line_of_branch(pattern: re.Pattern[str], name: str) -> str | None:
    m = pattern.fullmatch(name)
    if m is None:
        return None
    found = m.groupdict()
    if found.get("line"):
        return found["line"]
    if found.get("major") is not None and found.get("minor") is not None:
        return f"{found['major']}.{found['minor']}"
    return None


def repo_line_facts(
    git: Git, config: ProjectConfig, channels: Sequence[ChannelConfig], today: date
) -> dict[str, LineFacts]:
    """The lines each of ``channels`` has in the repository (release tags, as
    ``release status`` counts them, and line branches, local or on origin) and the
    support phase of those with releases. Two git calls for all channels."""
    from release.history import releases_by_channel
    from release.support import line_statuses

    if not channels:
        return {}
    by_channel = releases_by_channel(git.tags(), config)
    branches = [
        name.removeprefix("origin/") if name.startswith("origin/") else name
        for name in git.branches("refs/heads", "refs/remotes/origin")
    ]
    out: dict[str, LineFacts] = {}
    for ch in channels:
        releases = by_channel.get(ch.name, [])
        found = {str(r.version.line) for r in releases}
        stable = [
            (r.name, r.version, r.date.date())
            for r in releases
            if isinstance(r.version, StableVersion)
        ]
        phases = {str(s.line): s.phase for s in line_statuses(stable, ch.support, today)}
        if ch.kind == "stable":
            pattern = branch_pattern(ch.branch_format)
            found |= {ln for b in branches if (ln := line_of_branch(pattern, b)) is not None}
        out[ch.name] = LineFacts(frozenset(found), phases)
    return out


def parse_lines(values: Sequence[str], flag: str) -> list[str]:
    """``--line`` values as ``X.Y``. Raises :class:`UsageError` naming the flag."""
    out = []
    for text in values:
        try:
            out.append(str(parse_line(text)))
        except UsageError:
            raise UsageError(
                f"{flag} {text!r} is not a release line",
                hint="lines look like 2.15 (MAJOR.MINOR, no leading zeros)",
            ) from None
    return out


def plan_lines(
    channels: Sequence[ChannelConfig],
    previous: Mapping[str, tuple[set[str], set[str]]],
    facts: Mapping[str, LineFacts],
    *,
    add: Sequence[str] = (),
    retire: Sequence[str] = (),
) -> dict[str, LinePlan]:
    """The lines of each ``{line}`` channel in ``channels``: the previous authorised
    lines (``previous[name] = (authorised, retired)``), plus the repository's lines
    that were never retired, plus ``add``; minus ``retire`` (each must be authorised
    by at least one channel, and end-of-life or never released).

    Raises :class:`UsageError`.
    """
    both = sorted(set(add) & set(retire))
    if both:
        raise UsageError(f"--line and --retire-line both name {', '.join(both)}")
    out: dict[str, LinePlan] = {}
    retiring: dict[str, list[str]] = {ln: [] for ln in retire}
    for ch in channels:
        authorised, gone = previous.get(ch.name, (set(), set()))
        fact = facts.get(ch.name, LineFacts())
        lines = set(authorised) | (set(fact.found) - set(gone)) | set(add)
        retired = set(gone) - set(add)
        for ln in retire:
            if ln not in lines:
                continue
            phase = fact.phases.get(ln)
            if phase not in (None, "eol"):
                raise UsageError(
                    f"line {ln} of channel {ch.name} is still supported ({phase}): refusing "
                    "to retire its identity",
                    hint="a line's identity is retired once the line is end-of-life "
                    "([support] of the channel decides when)",
                )
            lines.discard(ln)
            retired.add(ln)
            retiring[ln].append(ch.name)
        out[ch.name] = LinePlan(
            frozenset(lines),
            frozenset(retired),
            frozenset(lines - set(authorised)),
            frozenset(retired - set(gone)),
        )
    unknown = sorted(ln for ln, names in retiring.items() if not names)
    if unknown:
        names = ", ".join(ch.name for ch in channels)
        raise UsageError(
            f"--retire-line {', '.join(unknown)}: no line identity to retire in {names}",
            hint="`release trust show` lists the authorised lines",
        )
    return out
