"""A synthetic Linkerd-like history, built in seconds with ``git fast-import``.

Main gets a steady stream of conventional and non-conventional commits, pull
request merges, and an edge tag every ``every`` commits (several a month, with
year rollovers). Stable lines are cut from edge tags; each line gets a ``X.Y.x``
branch with backport commits and point releases dated after later edges, so
lines interleave by date. A few junk tags (``v18.7.1``, ``edge-1.2.3``,
``git-1a18ca8f``, ``version-2.15``) are mixed in, as in the real Linkerd repo.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

AUTHORS = [f"Dev {chr(65 + i)} <dev{i}@example.com>" for i in range(20)]
KINDS = [
    "feat(proxy)",
    "fix",
    "fix(cli)",
    "chore(deps)",
    "docs",
    "refactor(policy)",
    "perf",
    "ci",
    "test",
    "build",
    None,
    None,
]
START = datetime(2022, 1, 3, 9, 0, tzinfo=UTC)


@dataclass(frozen=True)
class SynthStats:
    commits: int
    tags: int
    release_tags: int


def _data(text: str) -> str:
    raw = text.encode()
    return f"data {len(raw)}\n{text}\n"


def _ident(who: str, when: datetime) -> str:
    return f"{who} {int(when.timestamp())} +0000"


def build(
    path: Path,
    *,
    main_commits: int = 8000,
    every: int = 18,
    line_every: int = 1000,
    points: int | Sequence[int] = 5,
) -> SynthStats:
    """Create a non-bare repository at ``path`` (which must not exist). ``points``: point
    releases per stable line (a sequence: per line in order, its last value repeated)."""
    per_line = [points] if isinstance(points, int) else list(points)
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("GIT_")},
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_CONFIG_GLOBAL": os.devnull,
    }
    subprocess.run(["git", "init", "-q", "-b", "main", str(path)], check=True, env=env)
    out: list[str] = []
    mark = 0
    when = START
    step = timedelta(hours=3, minutes=20)
    pr = 1000
    edge_month: tuple[int, int] | None = None
    edge_n = 0
    edge_tags: list[tuple[str, int, datetime]] = []  # (tag, mark, date)
    n_commits = 0
    n_tags = 0
    prev: int | None = None

    def commit(ref: str, subject: str, body: str, parent: int | None, merge: int | None = None):
        nonlocal mark, when, n_commits
        mark += 1
        n_commits += 1
        who = AUTHORS[mark % len(AUTHORS)]
        msg = subject + ("\n\n" + body if body else "")
        out.append(f"commit {ref}\nmark :{mark}\n")
        out.append(f"author {_ident(who, when)}\ncommitter {_ident(who, when)}\n")
        out.append(_data(msg))
        if parent is not None:
            out.append(f"from :{parent}\n")
        if merge is not None:
            out.append(f"merge :{merge}\n")
        out.append(f"M 644 inline src/file{mark % 50}.txt\n{_data(f'{subject} {mark}')}\n")
        return mark

    def tag(name: str, target: int, at: datetime) -> None:
        nonlocal n_tags
        n_tags += 1
        out.append(f"tag {name}\nfrom :{target}\ntagger {_ident('Releaser <r@example.com>', at)}\n")
        out.append(_data(name))

    i = 0
    while i < main_commits:
        i += 1
        when += step
        kind = KINDS[i % len(KINDS)]
        pr += 1
        if i % 40 == 0 and prev is not None:
            # a pull request branch of two commits, merged with a merge commit
            side = commit("refs/heads/pr", f"wip: part one of #{pr}", "", prev)
            when += timedelta(minutes=5)
            side = commit("refs/heads/pr", f"fix: part two of #{pr}", "", side)
            when += timedelta(minutes=5)
            prev = commit(
                "refs/heads/main",
                f"Merge pull request #{pr} from dev/topic-{pr}",
                "",
                prev,
                merge=side,
            )
            i += 2
        else:
            desc = f"change number {i} in the {'proxy' if i % 3 else 'control plane'} (#{pr})"
            subject = f"{kind}: {desc}" if kind else f"Update component {i} (#{pr})"
            if kind and i % 97 == 0:
                subject = f"{kind}!: {desc}"
            body = "BREAKING CHANGE: the old flag is gone" if i % 389 == 0 else ""
            prev = commit("refs/heads/main", subject, body, prev)
        if i % every == 0:
            month = (when.year, when.month)
            edge_n = edge_n + 1 if month == edge_month else 1
            edge_month = month
            name = f"edge-{when.year % 100:02d}.{when.month}.{edge_n}"
            tag(name, prev, when + timedelta(minutes=1))
            edge_tags.append((name, prev, when))
    main_end = when

    # stable lines, cut from an edge every `line_every` main commits
    line_minor = 10
    per_line_points: list[tuple[int, int, datetime]] = []
    line_releases = 0
    for k, (_name, target, cut_at) in enumerate(edge_tags):
        if (k + 1) % max(1, line_every // every) != 0:
            continue
        line_minor += 1
        branch = f"refs/heads/2.{line_minor}.x"
        at = cut_at + timedelta(days=2)
        tag(f"stable-2.{line_minor}.0", target, at)
        per_line_points.append((line_minor, target, at))
        line_releases += 1
        parent = target
        n_points = per_line[min(len(per_line_points) - 1, len(per_line) - 1)]
        for p in range(1, n_points + 1):
            when = at + timedelta(days=12 * p)
            parent = commit(
                branch,
                f"fix: backport a fix to 2.{line_minor} (#{pr + p})",
                f"(cherry picked from commit {p:040d})",
                parent,
            )
            when += timedelta(hours=1)
            parent = commit(branch, f"chore: bump 2.{line_minor} dependencies", "", parent)
            tag(f"stable-2.{line_minor}.{p}", parent, when + timedelta(minutes=1))
            line_releases += 1
    when = main_end

    # junk tags that must never break version math
    first = edge_tags[0][1]
    for junk in ("v18.7.1", "edge-1.2.3", "git-1a18ca8f", "version-2.15"):
        tag(junk, first, START + timedelta(days=1))

    proc = subprocess.run(
        ["git", "fast-import", "--quiet"],
        cwd=path,
        input="".join(out).encode(),
        env=env,
        capture_output=True,
        check=False,
    )
    if proc.returncode != 0:
        raise RuntimeError(proc.stderr.decode(errors="replace"))
    subprocess.run(["git", "checkout", "-q", "-f", "main"], cwd=path, check=True, env=env)
    release_tags = len(edge_tags) + line_releases
    return SynthStats(n_commits, n_tags, release_tags)
