"""A small Linkerd-like history in a real git repository.

Main gets conventional commits with PR numbers, a merge commit, eight edges in
December 2025 and edges across the year rollover into 2026. Stable line 2.13 is
cut from ``edge-25.12.2`` and gets backports up to ``stable-2.13.7`` on branch
``2.13.x``; line 2.14 is cut from ``edge-25.12.8`` and gets ``stable-2.14.1`` on
``2.14.x`` — released *before* ``stable-2.13.7``, so lines interleave by date.
Junk tags (``v18.7.1``, ``edge-1.2.3``, ``git-1a18ca8f``, ``version-2.15``) sit
among the releases.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from tests.helpers.gitrepo import Repo, make_repo

JUNK_TAGS = ("v18.7.1", "edge-1.2.3", "git-1a18ca8f", "version-2.15")
DEC_EDGES = tuple(f"edge-25.12.{n}" for n in range(1, 9))
JAN_EDGES = ("edge-26.1.1", "edge-26.1.2")
EDGES = (*DEC_EDGES, *JAN_EDGES)
STABLE_213 = tuple(f"stable-2.13.{n}" for n in range(8))
STABLE_214 = ("stable-2.14.0", "stable-2.14.1")


@dataclass
class LinkerdHistory:
    repo: Repo
    sha: dict[str, str] = field(default_factory=dict)  # tag or label -> commit

    @property
    def path(self) -> Path:
        return self.repo.path


def _day(d: int, month: int = 12, year: int = 2025, hour: int = 12) -> str:
    return f"{year}-{month:02d}-{d:02d}T{hour:02d}:00:00+00:00"


def build_linkerd_history(tmp: Path) -> LinkerdHistory:
    repo = make_repo(tmp)
    h = LinkerdHistory(repo)
    pr = 100

    def main_commit(subject: str, date: str, **kw: str) -> str:
        nonlocal pr
        pr += 1
        return repo.commit(f"{subject} (#{pr})", date=date, **kw)

    h.sha["root"] = repo.commit("Initial import", date=_day(1, 11))
    repo.tag("v18.7.1", date=_day(1, 11))
    repo.git("tag", "git-1a18ca8f")  # lightweight junk tag
    kinds = ["feat(proxy)", "fix", "docs", "chore(deps)", "refactor", "perf", "fix(cli)", "ci"]
    for n in range(1, 9):
        day = 2 * n
        main_commit(f"{kinds[n - 1]}: change {n} for december", _day(day, hour=9))
        if n == 3:
            # a pull request merged with a merge commit
            repo.git("checkout", "-q", "-b", "topic")
            repo.commit("feat: topic work on the branch", date=_day(day, hour=10))
            repo.git("checkout", "-q", "main")
            repo.git(
                "merge",
                "-q",
                "--no-ff",
                "topic",
                "-m",
                "Merge pull request #999 from x/topic",
                date=_day(day, hour=11),
            )
            h.sha["merge"] = repo.git("rev-parse", "HEAD")
        if n == 5:
            main_commit(
                "feat(api)!: drop the v1 API",
                _day(day, hour=10),
                body="BREAKING CHANGE: v1 clients must upgrade",
            )
        tag = f"edge-25.12.{n}"
        h.sha[tag] = repo.git("rev-parse", "HEAD")
        repo.tag(tag, date=_day(day, hour=13))
        if n == 2:
            repo.tag("edge-1.2.3", date=_day(day, hour=14))
            repo.tag("stable-2.13.0", date=_day(day + 1))
            h.sha["stable-2.13.0"] = h.sha[tag]
        if n == 8:
            repo.tag("stable-2.14.0", date=_day(day + 1))
            h.sha["stable-2.14.0"] = h.sha[tag]
    main_commit("Update the README", _day(1, 1, 2026))
    repo.tag("version-2.15", date=_day(1, 1, 2026))
    h.sha["edge-26.1.1"] = main_commit("fix: year rollover fix", _day(3, 1, 2026))
    repo.tag("edge-26.1.1", date=_day(3, 1, 2026, 13))
    h.sha["edge-26.1.2"] = main_commit("feat: january feature", _day(9, 1, 2026))
    repo.tag("edge-26.1.2", date=_day(9, 1, 2026, 13))
    h.sha["unreleased"] = main_commit("fix: not released yet", _day(12, 1, 2026))

    # 2.14.x: one backport, released 2026-01-10
    repo.git("checkout", "-q", "-b", "2.14.x", "stable-2.14.0")
    h.sha["stable-2.14.1"] = repo.commit(
        "fix: backport year rollover fix (#120)", date=_day(10, 1, 2026)
    )
    repo.tag("stable-2.14.1", date=_day(10, 1, 2026, 13))
    # 2.13.x: seven backports, the last one after stable-2.14.1
    repo.git("checkout", "-q", "-b", "2.13.x", "stable-2.13.0")
    for n in range(1, 8):
        when = _day(5 + 3 * n) if n < 7 else _day(14, 1, 2026)
        h.sha[f"stable-2.13.{n}"] = repo.commit(f"fix: backport number {n} to 2.13", date=when)
        repo.tag(f"stable-2.13.{n}", date=when.replace("T12", "T13"))
    repo.git("checkout", "-q", "main")
    return h


STRAY_EDGE = "edge-25.12.13"


def add_stray_edge(h: LinkerdHistory) -> str:
    """A stray lightweight ``edge-25.12.13`` on the commit of ``edge-25.12.1`` (dated
    2025-12-02, a fortnight before ``edge-25.12.8``), as Linkerd's ``edge-19.6.13``:
    read as a release it would be the previous edge of ``edge-26.1.1`` and the base
    of December's next edge number."""
    h.repo.git("tag", STRAY_EDGE, h.sha["edge-25.12.1"])
    h.sha[STRAY_EDGE] = h.sha["edge-25.12.1"]
    return STRAY_EDGE
