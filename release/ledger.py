"""The backport ledger: which main commit each stable-line commit came from, and back.

A commit on a line (since its cut from main) is matched to a main commit by, in
order: its ``(cherry picked from commit …)`` trailer, its ``git patch-id
--stable``, the PR number ``(#123)`` in its subject, and equivalence
(:mod:`release.equivalence`: referenced PR numbers, subject similarity and file
overlap, for backports squashed under a new PR number with a hand-resolved diff).
The first three are certain; an equivalence carries a confidence, and one below
:data:`~release.equivalence.CONFIDENT` is shown as a possible origin, never counted.
Patch-ids and file lists are cached by commit (:mod:`release.adapters.commitcache`).

:func:`match_lines` is pure; the other functions gather facts with the git
adapter and call it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

from release.adapters.commitcache import CommitCache
from release.adapters.git import Commit, Git
from release.changelog import is_release_commit
from release.config import ChannelConfig
from release.equivalence import Evidence, match_equivalent
from release.errors import GitError
from release.versions import EdgeVersion, Line, TagFormat

TRAILER = "trailer"
PATCH_ID = "patch-id"
PR = "pr"
EQUIVALENCE = "equivalence"
CUT = "cut"  # the main commit is an ancestor of the line: carried since the cut

_TRAILER_RE = re.compile(r"\(cherry picked from commit ([0-9a-f]{7,40})\)")
_PR_RE = re.compile(r"\(#(\d+)\)")
_MERGE_PR_RE = re.compile(r"Merge pull request #(\d+)\b")


def pr_numbers(subject: str) -> list[int]:
    """The PR numbers of a subject, last first: ``fix: thing (#123)`` (squash merge),
    ``Merge pull request #123 from …`` (merge commit). A backport PR squashed onto a
    line often reads ``fix: thing (#123) (#130)`` (main's PR, then the backport PR)."""
    found = [int(n) for n in reversed(_PR_RE.findall(subject))]
    merge = _MERGE_PR_RE.match(subject)
    return [*found, int(merge[1])] if merge else found


def pr_number(subject: str) -> int | None:
    """The PR a subject names last (see :func:`pr_numbers`)."""
    found = pr_numbers(subject)
    return found[0] if found else None


def trailers(body: str) -> list[str]:
    """The SHAs named by ``(cherry picked from commit …)`` trailers, in order."""
    return _TRAILER_RE.findall(body)


@dataclass(frozen=True)
class Origin:
    """Where a line commit came from on main, and how that was established."""

    main_commit: str
    how: str  # trailer | patch-id | pr | equivalence
    evidence: Evidence | None = None  # equivalence only
    also: tuple[str, ...] = ()  # more main commits a squashed backport carries

    @property
    def confidence(self) -> float:
        return 1.0 if self.evidence is None else self.evidence.confidence

    def describe(self) -> str:
        """``trailer``, ``patch-id``, ``pr`` or ``equivalence 0.87``."""
        if self.evidence is None:
            return self.how
        return f"{self.how} {self.confidence:.2f}"

    def to_dict(self) -> dict[str, object]:
        return {
            "main_commit": self.main_commit,
            "how": self.how,
            "confidence": self.confidence,
            "evidence": self.evidence.describe() if self.evidence else None,
            "also": list(self.also),
        }


FileFacts = Mapping[str, frozenset[str]] | Callable[[Sequence[str]], Mapping[str, frozenset[str]]]


@dataclass(frozen=True)
class Matching:
    """The result of :func:`match_lines`: certain and confident origins are counted,
    possible ones (low-confidence equivalences) only shown."""

    origins: dict[str, Origin]
    possible: dict[str, Origin]


def match_origins(
    line_commits: Sequence[Commit],
    line_pids: Mapping[str, str],
    main_commits: Sequence[Commit],
    main_pids: Mapping[str, str],
) -> dict[str, Origin]:
    """``{line commit: Origin}`` by the three certain strategies (see :func:`match_lines`)."""
    return match_lines(line_commits, line_pids, main_commits, main_pids).origins


def match_lines(
    line_commits: Sequence[Commit],
    line_pids: Mapping[str, str],
    main_commits: Sequence[Commit],
    main_pids: Mapping[str, str],
    files: FileFacts | None = None,
) -> Matching:
    """``{line commit: Origin}`` for every line commit that came from a main commit.

    Pure. Each main commit is claimed at most once per method priority: a trailer
    wins, then an identical patch-id, then the PR number in the subject, then (with
    ``files``, the paths each commit touches, or a function returning them for the
    commits it is given) equivalence for the main commits still unclaimed, over the
    line commits that are neither merges nor release commits.
    """
    by_sha = {c.sha: c for c in main_commits}
    by_pid: dict[str, list[str]] = {}
    for c in reversed(main_commits):  # oldest first: a re-applied change maps to its first
        pid = main_pids.get(c.sha)
        if pid:
            by_pid.setdefault(pid, []).append(c.sha)
    by_pr: dict[int, str] = {}
    pr_of: dict[str, int | None] = {}
    for c in reversed(main_commits):
        n = pr_number(c.subject)
        pr_of[c.sha] = n
        if n is not None:
            by_pr.setdefault(n, c.sha)
    result: dict[str, Origin] = {}
    for c in line_commits:
        origin = _by_trailer(c, by_sha)
        if origin is None:
            pid = line_pids.get(c.sha)
            if pid and by_pid.get(pid):
                origin = Origin(by_pid[pid][0], PATCH_ID)
        if origin is None:
            n = next((n for n in pr_numbers(c.subject) if n in by_pr), None)
            if n is not None:
                origin = Origin(by_pr[n], PR)
        if origin is not None:
            result[c.sha] = origin
    possible: dict[str, Origin] = {}
    if files is None:
        return Matching(result, possible)
    claimed = {o.main_commit for o in result.values()}
    rest = [
        c
        for c in line_commits
        if len(c.parents) <= 1
        and not is_release_commit(c.subject)
        and (c.sha not in result or _squash(c))
    ]
    unclaimed = [c for c in main_commits if c.sha not in claimed]
    if not rest or not unclaimed:
        return Matching(result, possible)
    if callable(files):
        files = files([*(c.sha for c in rest), *(c.sha for c in unclaimed)])
    extra: dict[str, list[str]] = {}
    for m in match_equivalent(rest, unclaimed, files, pr_of):
        origin = Origin(m.main_commit, EQUIVALENCE, m.evidence)
        if not m.confident:
            if m.line_commit not in result and m.line_commit not in possible:
                possible[m.line_commit] = origin
            continue
        if m.line_commit in result:
            extra.setdefault(m.line_commit, []).append(m.main_commit)
        else:
            result[m.line_commit] = origin
            possible.pop(m.line_commit, None)
    for sha, more in extra.items():
        o = result[sha]
        result[sha] = Origin(o.main_commit, o.how, o.evidence, (*o.also, *more))
    return Matching(result, possible)


def _squash(commit: Commit) -> bool:
    """A commit whose body lists other commits (a squash merge of several changes)."""
    return sum(1 for ln in commit.body.splitlines() if ln.lstrip().startswith(("* ", "- "))) > 1


def _by_trailer(commit: Commit, by_sha: Mapping[str, Commit]) -> Origin | None:
    for ref in trailers(commit.body):
        if ref in by_sha:
            return Origin(ref, TRAILER)
        if len(ref) < 40:
            hits = [s for s in by_sha if s.startswith(ref)]
            if len(hits) == 1:
                return Origin(hits[0], TRAILER)
    return None


@dataclass(frozen=True)
class LedgerEntry:
    commit: str
    subject: str
    origin: Origin | None  # None: a commit made on the line itself (release, direct fix)
    merge: bool = False
    possible: Origin | None = None  # a low-confidence equivalence: shown, never counted

    def to_dict(self) -> dict[str, object]:
        return {
            "commit": self.commit,
            "subject": self.subject,
            "main_commit": self.origin.main_commit if self.origin else None,
            "how": self.origin.how if self.origin else None,
            "origin": self.origin.to_dict() if self.origin else None,
            "possible": self.possible.to_dict() if self.possible else None,
            "merge": self.merge,
        }


@dataclass(frozen=True)
class LineLedger:
    line: str
    branch: str
    ref: str  # the ref read (refs/heads/… or refs/remotes/origin/…)
    cut_base: str  # where the line left main
    entries: tuple[LedgerEntry, ...]  # oldest first

    def carried(self) -> dict[str, str]:
        """``{main commit: line commit}`` of every main commit picked onto the line
        (possible matches are not counted)."""
        out: dict[str, str] = {}
        for e in self.entries:
            if e.origin:
                for sha in (e.origin.main_commit, *e.origin.also):
                    out.setdefault(sha, e.commit)
        return out

    def to_dict(self) -> dict[str, object]:
        return {
            "line": self.line,
            "branch": self.branch,
            "ref": self.ref,
            "cut_base": self.cut_base,
            "entries": [e.to_dict() for e in self.entries],
        }


def branch_ref(git: Git, branch: str, remote: str = "origin") -> str | None:
    """The local branch when it exists, else its remote-tracking ref, else ``None``."""
    for ref in (f"refs/heads/{branch}", f"refs/remotes/{remote}/{branch}"):
        if git.run("rev-parse", "-q", "--verify", f"{ref}^{{commit}}", check=False).stdout:
            return ref
    return None


def line_commits(git: Git, ref: str, main: str) -> list[Commit]:
    """Commits on the line since it left main, newest first."""
    return git.log([ref, f"^{main}"])


def line_ledger(git: Git, line: str, branch: str, main: str) -> LineLedger:
    """The ledger of one line: each commit since its cut and the main commit it came
    from. Raises :class:`GitError` when the branch or ``main`` does not exist."""
    return line_ledgers(git, [(line, branch)], main)[0]


def line_ledgers(
    git: Git,
    lines: Sequence[tuple[str, str]],
    main: str,
    *,
    cache: CommitCache | None = None,
) -> list[LineLedger]:
    """Ledgers of several lines ``(line, branch)``. Main's commits since the oldest cut
    are read once (one ``git log``) and shared; each line adds one ``git log`` and one
    ``rev-list``. Patch-ids and file lists come from ``cache`` (default: the
    repository's :class:`CommitCache`), computed only for commits not seen before.
    Raises :class:`GitError` when a branch does not exist."""
    cache = cache or CommitCache(git)
    main_ref = branch_ref(git, main) or main
    refs = []
    for line, branch in lines:
        ref = branch_ref(git, branch)
        if ref is None:
            raise GitError(
                f"line {line} has no branch {branch}",
                hint="git fetch origin; if the line branches are named otherwise, set "
                "branch-format in channels/*.toml (release init --dry-run infers it)",
            )
        refs.append(ref)
    bases = [git.run("merge-base", r, main_ref, check=False).stdout.strip() for r in refs]
    if len(refs) == 1:
        since = [f"^{refs[0]}"]  # exactly the main commits the line does not have
    else:
        known = sorted({b for b in bases if b})
        oldest = git.run("merge-base", "--octopus", *known, check=False).stdout.strip()
        since = [f"^{oldest}"] if oldest else []
    main_commits: list[Commit] | None = None
    main_pids: dict[str, str] = {}
    out = []
    for (line, branch), ref, base in zip(lines, refs, bases, strict=True):
        commits = line_commits(git, ref, main_ref)
        matching = Matching({}, {})
        if commits:
            if main_commits is None:
                main_commits = git.log([main_ref, *since], no_merges=True)
                main_pids = cache.patch_ids([main_ref, *since]) if main_commits else {}
            candidates = main_commits
            if len(refs) > 1:
                missing = set(git.run("rev-list", main_ref, f"^{ref}").stdout.split())
                candidates = [c for c in main_commits if c.sha in missing]
            line_pids = cache.patch_ids([ref, f"^{main_ref}"])
            matching = _match(cache, commits, line_pids, candidates, main_pids)
        entries = tuple(
            LedgerEntry(
                c.sha,
                c.subject,
                matching.origins.get(c.sha),
                merge=len(c.parents) > 1,
                possible=matching.possible.get(c.sha),
            )
            for c in reversed(commits)
        )
        out.append(LineLedger(line, branch, ref, base, entries))
    return out


def _match(
    cache: CommitCache,
    commits: Sequence[Commit],
    line_pids: Mapping[str, str],
    candidates: Sequence[Commit],
    main_pids: Mapping[str, str],
) -> Matching:
    """All four strategies; file lists are read (from the cache) only when some line
    commit is left for equivalence."""
    return match_lines(commits, line_pids, candidates, main_pids, cache.files)


def find_on_line(
    git: Git,
    ref: str,
    main: str,
    candidates: Sequence[Commit],
    *,
    possible: dict[str, tuple[str, str]] | None = None,
    cache: CommitCache | None = None,
) -> dict[str, tuple[str, str]]:
    """Which of the main ``candidates`` the line ``ref`` already carries:
    ``{main commit: (line commit or main commit, how)}`` (how: cut, trailer, patch-id,
    pr, or ``equivalence 0.87``). Low-confidence equivalences go to ``possible``
    instead (same shape), never into the answer.

    One ``git log`` of the line; patch-ids and files from the commit cache.
    """
    cache = cache or CommitCache(git)
    found: dict[str, tuple[str, str]] = {}
    rest = []
    for c in candidates:
        if git.is_ancestor(c.sha, ref):
            found[c.sha] = (c.sha, CUT)
        else:
            rest.append(c)
    if not rest:
        return found
    commits = line_commits(git, ref, main)
    if not commits:
        return found
    line_pids = cache.patch_ids([ref, f"^{main}"])
    cand_pids = cache.patch_ids(["--no-walk=unsorted", *(c.sha for c in rest)])
    matching = _match(cache, commits, line_pids, rest, cand_pids)
    for line_sha, origin in matching.origins.items():
        for sha in (origin.main_commit, *origin.also):
            found.setdefault(sha, (line_sha, origin.describe()))
    if possible is not None:
        for line_sha, origin in matching.possible.items():
            if origin.main_commit not in found:
                possible.setdefault(origin.main_commit, (line_sha, origin.describe()))
    return found


@dataclass(frozen=True)
class Carrier:
    line: str
    branch: str
    commit: str  # the line commit carrying the change (the main commit itself for "cut")
    how: str


def lines_carrying(
    git: Git, channel: ChannelConfig, lines: Iterable[Line], main_commit: str
) -> list[Carrier]:
    """Every line of ``channel`` (among ``lines``) that carries ``main_commit``, newest
    line first. Raises :class:`GitError` for an unknown commit."""
    sha = git.resolve(main_commit)
    commit = git.log(["--no-walk", sha])[0]
    main_ref = branch_ref(git, channel.branch) or channel.branch
    out = []
    for line in sorted(set(lines), reverse=True):
        branch = channel.branch_for(line)
        ref = branch_ref(git, branch)
        if ref is None:
            continue
        hit = find_on_line(git, ref, main_ref, [commit]).get(sha)
        if hit:
            out.append(Carrier(str(line), branch, hit[0], hit[1]))
    return out


def first_edge_containing(git: Git, edge_format: TagFormat, commit: str) -> str | None:
    """The first edge release (lowest version) whose tag contains ``commit``."""
    res = git.run("tag", "--contains", commit, check=False)
    best: tuple[EdgeVersion, str] | None = None
    for name in res.stdout.split():
        v = edge_format.parse(name)
        if isinstance(v, EdgeVersion) and (best is None or v < best[0]):
            best = (v, name)
    return best[1] if best else None
