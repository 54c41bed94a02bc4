"""Changelog rendering (pure): conventional commits into Keep a Changelog sections.

Facts (commits, tags, dates) come from :mod:`release.adapters.git`; this module
only turns values into markdown and updates CHANGELOG.md text (``str -> str``).

A section looks like::

    ## [edge-26.11.1] - 2026-11-25

    ### Features

    - **proxy:** retry idempotent requests ([#123](https://github.com/o/r/pull/123))
      ([abc1234](https://github.com/o/r/commit/abc1234…)) by Jane Doe

Breaking changes come first, then one group per conventional type, then
"Other changes" for subjects that are not conventional. When no commit of the
range is conventional the section is one flat list. Merge commits are skipped.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    from release.adapters.git import Commit

__all__ = [
    "CHANGELOG_HEADER",
    "Conventional",
    "Entry",
    "entries",
    "insert_release",
    "is_release_commit",
    "normalize_repository_url",
    "parse_conventional",
    "render_section",
]

CHANGELOG_HEADER = (
    "# Changelog\n\n"
    "All notable changes to this project are documented in this file. The format is\n"
    "based on [Keep a Changelog](https://keepachangelog.com/en/1.1.0/).\n"
)

# (title, types) in the order sections are rendered; "Breaking Changes" comes first.
GROUPS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Features", ("feat", "feature")),
    ("Bug Fixes", ("fix", "bugfix")),
    ("Performance", ("perf",)),
    ("Refactoring", ("refactor",)),
    ("Documentation", ("docs", "doc")),
    ("Build and CI", ("build", "ci")),
    ("Tests", ("test", "tests")),
    ("Style", ("style",)),
    ("Chores", ("chore", "deps")),
    ("Reverts", ("revert",)),
)
NOTES_LIMIT = 400  # entries listed in release notes; the rest are counted (GitHub caps bodies)
FIRST_RELEASE_LIMIT = 50  # a first release's notes: the newest changes and a link to the rest
BREAKING = "Breaking Changes"
OTHER = "Other changes"
_GROUP_OF = {t: title for title, types in GROUPS for t in types}
_CONVENTIONAL_RE = re.compile(
    r"(?P<type>[A-Za-z][\w-]*)(?:\((?P<scope>[^()\r\n]*)\))?(?P<bang>!)?:[ \t]+(?P<desc>\S.*)"
)
_PR_RE = re.compile(r"\s*\(#(?P<n>\d+)\)\s*$")
_BREAKING_FOOTER_RE = re.compile(r"^BREAKING[ -]CHANGE:\s*(?P<text>.+)$", re.MULTILINE)


class Conventional(NamedTuple):
    """A parsed subject. ``type`` is ``None`` when the subject is not conventional."""

    type: str | None
    scope: str | None
    breaking: bool
    description: str


def parse_conventional(subject: str) -> Conventional:
    """Split ``type(scope)!: description``; non-conventional subjects keep their text.

    The type is lower-cased; an empty scope ``()`` is ``None``.
    """
    text = subject.strip()
    m = _CONVENTIONAL_RE.fullmatch(text)
    if not m:
        return Conventional(None, None, False, text)
    scope = (m["scope"] or "").strip() or None
    return Conventional(m["type"].lower(), scope, bool(m["bang"]), m["desc"].strip())


def normalize_repository_url(url: str | None) -> str | None:
    """``https://host/owner/repo`` for a web or git remote URL, or ``None``.

    Accepts ``https://github.com/o/r``, ``…/r.git``, ``git@github.com:o/r.git``,
    ``ssh://git@github.com/o/r.git`` and ``git://host/o/r``. Local paths and
    ``file://`` URLs have no web page and give ``None``.
    """
    if not url:
        return None
    u = url.strip()
    m = re.fullmatch(r"(?:[\w.-]+@)?(?P<host>[\w.-]+\.[a-z]{2,}):(?P<path>[^/][^:]*)", u)
    if m and "://" not in u:
        host, path = m["host"], m["path"]
    else:
        m = re.fullmatch(
            r"(?:https?|ssh|git|git\+ssh)://(?:[^@/]+@)?(?P<host>[\w.-]+)(?::\d+)?/(?P<path>.+)", u
        )
        if not m:
            return None
        host, path = m["host"], m["path"]
    path = path.strip("/").removesuffix(".git").strip("/")
    if path.count("/") < 1 or not re.fullmatch(r"[\w.\-/~]+", path):
        return None
    return f"https://{host}/{path}"


@dataclass(frozen=True)
class Entry:
    """One rendered commit: its group, and the facts the line is made of."""

    group: str
    sha: str
    type: str | None
    scope: str | None
    breaking: bool
    description: str
    pr: int | None
    author: str

    def to_dict(self) -> dict[str, object]:
        return {
            "sha": self.sha,
            "group": self.group,
            "type": self.type,
            "scope": self.scope,
            "breaking": self.breaking,
            "description": self.description,
            "pr": self.pr,
            "author": self.author,
        }


_RELEASE_COMMIT_RE = re.compile(
    r"(?:Release|Released|Bump version to|chore\(release\):|release:)\s+v?[\w.+-]*\d[\w.+-]*",
    re.IGNORECASE,
)


def is_release_commit(subject: str) -> bool:
    """Whether a subject is a release commit (``Release edge-26.11.1``, the pipeline's
    changelog commit, or ``chore(release): 2.15.0``): not a change of its own."""
    return _RELEASE_COMMIT_RE.fullmatch(subject.strip()) is not None


def entries(commits: Sequence[Commit]) -> list[Entry]:
    """The changelog entries of ``commits`` in input order; merge commits and release
    commits (:func:`is_release_commit`) are skipped."""
    return [
        _entry(c.sha, c.subject, c.body, c.author)
        for c in commits
        if len(c.parents) <= 1 and not is_release_commit(c.subject)
    ]


@lru_cache(maxsize=1 << 16)
def _entry(sha: str, subject: str, body: str, author: str) -> Entry:
    # cached: with --all a commit on main is rendered once per channel that contains it
    conv = parse_conventional(subject)
    if conv.type is not None and conv.type not in _GROUP_OF and not conv.breaking:
        # an unknown type ("wip: …") is not a conventional group: keep the subject whole
        conv = Conventional(conv.type, None, False, subject.strip())
    description = conv.description
    pr = None
    m = _PR_RE.search(description)
    if m:
        pr = int(m["n"])
        description = description[: m.start()].rstrip()
    breaking = conv.breaking or (
        conv.type in _GROUP_OF and _BREAKING_FOOTER_RE.search(body) is not None
    )
    if breaking:
        group = BREAKING
    elif conv.type is None:
        group = OTHER
    else:
        group = _GROUP_OF.get(conv.type, OTHER)
    return Entry(group, sha, conv.type, conv.scope, breaking, description, pr, author)


def _line(entry: Entry, repository: str | None, note: str = "") -> str:
    text = entry.description
    if entry.scope:
        text = f"**{entry.scope}:** {text}"
    parts = [f"- {text}"]
    if entry.pr is not None:
        parts.append(
            f"([#{entry.pr}]({repository}/pull/{entry.pr}))" if repository else f"(#{entry.pr})"
        )
    short = entry.sha[:7]
    parts.append(f"([{short}]({repository}/commit/{entry.sha}))" if repository else f"({short})")
    if entry.author:
        parts.append(f"by {entry.author}")
    if note:
        parts.append(f"({note})")
    return " ".join(parts)


def render_section(
    title: str,
    day: date | None,
    commits: Sequence[Commit],
    *,
    repository: str | None,
    intro: str = "",
    notes: Mapping[str, str] | None = None,
    limit: int | None = None,
    history_ref: str | None = None,
) -> str:
    """A markdown section ``## [title] - YYYY-MM-DD`` for ``commits`` (newest first).

    ``repository`` is a web URL or a git remote URL (normalized with
    :func:`normalize_repository_url`); when known, PR numbers and short SHAs are
    links. ``intro`` is a paragraph under the heading; ``notes`` adds a remark to the
    entry of a commit (``{sha: "also in edge-26.11.1"}``). With ``limit``, only the
    newest ``limit`` entries are listed and one line counts the rest and links to the
    full history of ``history_ref`` (default ``title``). The text ends with exactly
    one newline.
    """
    repo = normalize_repository_url(repository)
    heading = f"## [{title}]" + (f" - {day.isoformat()}" if day else "")
    items = entries(commits)
    hidden = 0
    if limit is not None and len(items) > limit:
        hidden = len(items) - limit
        items = items[:limit]
    remarks = notes or {}
    out = [heading, ""]
    if intro:
        out += [intro, ""]
    if not items:
        out += ["_No changes._", ""]
    elif all(e.group == OTHER for e in items):
        out += [_line(e, repo, remarks.get(e.sha, "")) for e in items]
        out.append("")
    else:
        order = [BREAKING, *(title for title, _ in GROUPS), OTHER]
        grouped: dict[str, list[Entry]] = {}
        for e in items:
            grouped.setdefault(e.group, []).append(e)
        for group in order:
            if group in grouped:
                out += [f"### {group}", ""]
                out += [_line(e, repo, remarks.get(e.sha, "")) for e in grouped[group]]
                out.append("")
    if hidden:
        ref = history_ref or title
        where = f"[the full history]({repo}/commits/{ref})" if repo else f"`git log {ref}`"
        noun = "change" if hidden == 1 else "changes"
        out += [f"… and {hidden} earlier {noun}: see {where}.", ""]
    return "\n".join(out).rstrip("\n") + "\n"


_H2_RE = re.compile(r"^## (?!#)")
_UNRELEASED_RE = re.compile(r"^## \[?unreleased\]?\s*$", re.IGNORECASE)


def _h2_indexes(lines: Sequence[str]) -> list[int]:
    """Indexes of ``## `` headings outside fenced code blocks."""
    found = []
    fence = False
    for i, line in enumerate(lines):
        if line.lstrip().startswith(("```", "~~~")):
            fence = not fence
        elif not fence and _H2_RE.match(line):
            found.append(i)
    return found


def _title_of(heading: str) -> str:
    m = re.match(r"^## \[(?P<t>[^\]]+)\]", heading)
    return m["t"] if m else heading[3:].strip()


def insert_release(changelog_text: str, section: str) -> str:
    """Put the release ``section`` (from :func:`render_section`) right below ``## [Unreleased]``.

    The hand-written entries under ``## [Unreleased]`` move into the new section,
    followed by the generated commit list under ``### Commits`` (its groups become
    ``####``); ``## [Unreleased]`` stays, empty. When the changelog is empty or has
    no Unreleased heading, the structure is created. A section whose title is
    already present leaves the text unchanged (re-runs are no-ops). Raises
    ``ValueError`` when ``section`` does not start with a ``## `` heading.
    """
    sec_lines = section.strip("\n").splitlines()
    if not sec_lines or not _H2_RE.match(sec_lines[0]):
        raise ValueError("a release section starts with a '## [title]' heading")
    heading, generated = sec_lines[0], sec_lines[1:]
    title = _title_of(heading)
    text = changelog_text.replace("\r\n", "\n")
    if not text.strip():
        text = CHANGELOG_HEADER
    lines = text.rstrip("\n").splitlines()
    h2 = _h2_indexes(lines)
    if any(_title_of(lines[i]).lower() == title.lower() for i in h2):
        return changelog_text
    unreleased = next((i for i in h2 if _UNRELEASED_RE.match(lines[i])), None)
    if unreleased is None:
        at = h2[0] if h2 else len(lines)
        head = lines[:at]
        while head and not head[-1].strip():
            head.pop()
        lines = [*head, "", "## [Unreleased]", "", *lines[at:]]
        h2 = _h2_indexes(lines)
        unreleased = next(i for i in h2 if _UNRELEASED_RE.match(lines[i]))
    end = next((i for i in h2 if i > unreleased), len(lines))
    handwritten = lines[unreleased + 1 : end]
    while handwritten and not handwritten[0].strip():
        handwritten.pop(0)
    while handwritten and not handwritten[-1].strip():
        handwritten.pop()
    body = [("#" + ln) if ln.startswith("### ") else ln for ln in generated]
    while body and not body[0].strip():
        body.pop(0)
    new_section = [heading, ""]
    if handwritten:
        new_section += [*handwritten, ""]
    new_section += ["### Commits", "", *body]
    while new_section and not new_section[-1].strip():
        new_section.pop()
    rest = lines[end:]
    result = [*lines[: unreleased + 1], "", *new_section]
    if rest:
        result += ["", *rest]
    return "\n".join(result) + "\n"
