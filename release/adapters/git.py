"""The git CLI, thin: one subprocess per question, errors translated to :class:`GitError`.

Tags come from one ``for-each-ref`` call and commit ranges from one ``git log``
pass, whatever their size. Nothing here computes versions; callers pass tag
names to :mod:`release.versions`.
"""

from __future__ import annotations

import logging
import os
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from release.errors import GitError
from release.faults import point as fault_point

log = logging.getLogger(__name__)

_FIELD = "\x1f"
_RECORD = "\x1e"


@dataclass(frozen=True)
class TagInfo:
    name: str
    commit: str  # the commit the tag points to (peeled)
    date: datetime  # tagger date for annotated tags, committer date otherwise
    annotated: bool
    subject: str = ""


@dataclass(frozen=True)
class Commit:
    sha: str
    author: str
    email: str
    date: datetime
    subject: str
    body: str = ""
    parents: tuple[str, ...] = field(default=())

    @property
    def short(self) -> str:
        return self.sha[:7]


@dataclass(frozen=True)
class CommandResult:
    returncode: int
    stdout: str
    stderr: str


class Git:
    """A repository driven through the git CLI.

    ``env`` entries are added to the process environment (tests use it to pin
    dates and identities); ``GIT_*`` variables of the caller are kept.
    """

    def __init__(self, root: Path, env: Mapping[str, str] | None = None) -> None:
        self.root = Path(root)
        self._env = dict(env or {})

    # -- plumbing ---------------------------------------------------------------
    def run(
        self,
        *args: str,
        check: bool = True,
        input: str | None = None,
        extra_env: Mapping[str, str] | None = None,
    ) -> CommandResult:
        """Run ``git ARGS`` in the repository. Raises :class:`GitError` when ``check`` fails."""
        env = {**os.environ, **self._env, **(extra_env or {})}
        env.setdefault("GIT_TERMINAL_PROMPT", "0")
        env["LC_ALL"] = "C"
        try:
            proc = subprocess.run(
                ["git", *args],
                cwd=self.root,
                env=env,
                capture_output=True,
                text=True,
                input=input,
                check=False,
                encoding="utf-8",
                errors="replace",
            )
        except FileNotFoundError as exc:
            if not self.root.is_dir():
                raise GitError(
                    f"{self.root} is not a directory", hint="pass --repo PATH of a git clone"
                ) from exc
            raise GitError("the git command is not installed", hint="install git") from exc
        result = CommandResult(proc.returncode, proc.stdout, proc.stderr)
        if check and proc.returncode != 0:
            raise GitError(f"git {args[0]} failed: {stderr_summary(proc.stderr)}")
        return result

    def out(self, *args: str) -> str:
        return self.run(*args).stdout.strip()

    # -- repository facts -------------------------------------------------------
    def ensure_repo(self) -> Path:
        """The work tree root. Raises :class:`GitError` when this is not a git repository."""
        res = self.run("rev-parse", "--show-toplevel", check=False)
        if res.returncode != 0:
            raise GitError(
                f"{self.root} is not a git repository",
                hint="run inside a clone, or pass --repo PATH",
            )
        return Path(res.stdout.strip())

    def is_shallow(self) -> bool:
        return self.out("rev-parse", "--is-shallow-repository") == "true"

    def tags_disabled_remotes(self) -> list[str]:
        """Remotes configured with ``tagOpt = --no-tags`` (a clone made with ``--no-tags``)."""
        res = self.run("config", "--get-regexp", r"^remote\..*\.tagopt$", check=False)
        names = []
        for line in res.stdout.splitlines():
            key, _, value = line.partition(" ")
            if value.strip() == "--no-tags":
                names.append(key.split(".", 1)[1].rsplit(".", 1)[0])
        return names

    def ensure_full_history(self) -> None:
        """Refuse shallow clones and clones without tags: versions from them would be wrong."""
        self.ensure_repo()
        if self.is_shallow():
            raise GitError(
                "this is a shallow clone; versions computed from a partial history are wrong",
                hint="git fetch --tags --unshallow (in GitHub Actions: fetch-depth: 0)",
            )
        no_tags = self.tags_disabled_remotes()
        if no_tags:
            raise GitError(
                f"remote {no_tags[0]} is configured not to fetch tags (--no-tags)",
                hint=(
                    f"git config --unset remote.{no_tags[0]}.tagOpt && "
                    f"git fetch --tags {no_tags[0]}"
                ),
            )

    def head(self) -> str | None:
        res = self.run("rev-parse", "--verify", "-q", "HEAD^{commit}", check=False)
        return res.stdout.strip() or None

    def current_branch(self) -> str | None:
        """The checked-out branch, or ``None`` for a detached HEAD."""
        res = self.run("symbolic-ref", "-q", "--short", "HEAD", check=False)
        return res.stdout.strip() or None

    def status_porcelain(self) -> list[str]:
        return [ln for ln in self.run("status", "--porcelain").stdout.splitlines() if ln]

    def resolve(self, ref: str) -> str:
        """The commit ``ref`` names. Raises :class:`GitError` for an unknown ref."""
        res = self.run(
            "rev-parse", "--verify", "-q", "--end-of-options", f"{ref}^{{commit}}", check=False
        )
        if res.returncode != 0:
            raise GitError(
                f"unknown revision {ref!r}", hint="check the name with git log / git tag"
            )
        return res.stdout.strip()

    def is_ancestor(self, ancestor: str, descendant: str) -> bool:
        return (
            self.run("merge-base", "--is-ancestor", ancestor, descendant, check=False).returncode
            == 0
        )

    def remote_url(self, remote: str = "origin") -> str | None:
        res = self.run("remote", "get-url", remote, check=False)
        return res.stdout.strip() or None

    def has_remote(self, remote: str = "origin") -> bool:
        return self.remote_url(remote) is not None

    def branches(self, *patterns: str) -> dict[str, str]:
        """Branch name -> commit under ``patterns`` (default ``refs/heads``), one call."""
        out = self.out(
            "for-each-ref",
            "--format=%(refname:short) %(objectname)",
            *(patterns or ("refs/heads",)),
        )
        return dict(line.split(" ", 1) for line in out.splitlines() if line)

    # -- tags -------------------------------------------------------------------
    def tags(self) -> list[TagInfo]:
        """Every tag with its peeled commit and date, in one ``for-each-ref`` call."""
        fmt = (
            _FIELD.join(
                [
                    "%(refname:strip=2)",
                    "%(objecttype)",
                    "%(objectname)",
                    "%(*objectname)",
                    "%(creatordate:iso-strict)",
                    "%(contents:subject)",
                ]
            )
            + _RECORD
        )
        out = self.run("for-each-ref", f"--format={fmt}", "refs/tags").stdout
        tags = []
        for rec in out.split(_RECORD):
            rec = rec.strip("\n")
            if not rec:
                continue
            name, otype, obj, peeled, when, subject = rec.split(_FIELD)
            annotated = otype == "tag"
            commit = peeled if annotated and peeled else obj
            try:
                date = datetime.fromisoformat(when)
            except ValueError:
                log.debug("tag %s has no usable date; skipped", name)
                continue
            tags.append(TagInfo(name, commit, date, annotated, subject if annotated else ""))
        return tags

    def tag_message(self, tag: str) -> str:
        return self.out("for-each-ref", "--format=%(contents)", f"refs/tags/{tag}")

    def remote_tags(self, remote: str = "origin") -> dict[str, str]:
        """Tags on ``remote`` (name -> object id), via ``ls-remote``. Raises :class:`GitError`."""
        res = self.run("ls-remote", "--tags", "--refs", remote, check=False)
        if res.returncode != 0:
            detail = (res.stderr.strip().splitlines() or ["no answer"])[-1]
            raise GitError(f"cannot list tags on remote {remote}: {detail}")
        tags = {}
        for line in res.stdout.splitlines():
            sha, _, ref = line.partition("\t")
            tags[ref.removeprefix("refs/tags/")] = sha
        return tags

    def create_tag(self, name: str, commit: str, message: str) -> None:
        """Create an annotated tag. Never moves an existing one (git refuses without -f)."""
        self.run("tag", "-a", "--cleanup=verbatim", "-F", "-", name, commit, input=message)

    # -- history ----------------------------------------------------------------
    def log(
        self,
        rev_range: Sequence[str],
        *,
        first_parent: bool = False,
        no_merges: bool = False,
        topo_order: bool = False,
    ) -> list[Commit]:
        """Commits of ``rev_range`` (e.g. ``["A..B"]`` or ``["B", "^A"]``), newest first,
        in one ``git log`` pass. ``topo_order`` lists children before their parents.
        Raises :class:`GitError` for unknown revisions."""
        fmt = _FIELD.join(["%H", "%P", "%an", "%ae", "%aI", "%s", "%b"]) + _RECORD
        args = ["log", f"--format={fmt}"]
        if first_parent:
            args.append("--first-parent")
        if no_merges:
            args.append("--no-merges")
        if topo_order:
            args.append("--topo-order")
        res = self.run(*args, *rev_range, "--", check=False)
        if res.returncode != 0:
            detail = (res.stderr.strip().splitlines() or ["(no output)"])[-1]
            raise GitError(
                f"cannot read history {' '.join(rev_range)}: {detail}",
                hint="check that both ends of the range exist (git tag, git log)",
            )
        return parse_log(res.stdout)

    def commit_count(self) -> int:
        head = self.head()
        return int(self.out("rev-list", "--count", "HEAD")) if head else 0


# Lines of git's stderr that say what went wrong, in the order to look for them.
_RELEVANT = (
    "cannot lock ref",
    "non-fast-forward",
    "fetch first",
    "atomic push failed",
    "rejected",
    "permission denied",
    "could not read from remote",
    "fatal:",
    "error:",
)


def stderr_summary(stderr: str) -> str:
    """All of git's stderr on one line, the line that says what went wrong first
    ("cannot lock ref", "non-fast-forward", …), then the others in order."""
    lines = [ln.strip() for ln in stderr.strip().splitlines() if ln.strip()]
    if not lines:
        return "(no output)"
    for needle in _RELEVANT:
        for i, ln in enumerate(lines):
            if needle in ln.lower():
                return " | ".join([ln, *lines[:i], *lines[i + 1 :]])
    return " | ".join([lines[-1], *lines[:-1]])


def parse_log(out: str) -> list[Commit]:
    commits = []
    for rec in out.split(_RECORD):
        rec = rec.lstrip("\n")
        if not rec:
            continue
        sha, parents, author, email, when, subject, body = rec.split(_FIELD, 6)
        commits.append(
            Commit(
                sha,
                author,
                email,
                datetime.fromisoformat(when),
                subject,
                body.strip(),
                tuple(parents.split()),
            )
        )
    return commits


_FALLBACK_IDENTITY = {
    "GIT_AUTHOR_NAME": "release-channels",
    "GIT_AUTHOR_EMAIL": "release-channels@users.noreply.github.com",
    "GIT_COMMITTER_NAME": "release-channels",
    "GIT_COMMITTER_EMAIL": "release-channels@users.noreply.github.com",
}


def identity_env(git: Git) -> dict[str, str]:
    """Author/committer variables for commits and tags the tool makes.

    The user's configured identity wins; a fresh machine with none configured (a
    newcomer's first ``nox -s edge``, a CI runner) gets the tool's own identity
    instead of git's "please tell me who you are".
    """
    out = git.run("config", "--get-regexp", r"^user\.(name|email)$", check=False).stdout
    configured = {
        key for key, _, value in (ln.partition(" ") for ln in out.splitlines()) if value.strip()
    }
    env: dict[str, str] = {}
    for kind in ("AUTHOR", "COMMITTER"):
        for part, key in (("NAME", "user.name"), ("EMAIL", "user.email")):
            var = f"GIT_{kind}_{part}"
            if not os.environ.get(var) and key not in configured:
                env[var] = _FALLBACK_IDENTITY[var]
    return env


def commit_with_file(
    git: Git, parent: str, path: str, content: bytes, message: str, *, when: str | None = None
) -> str:
    """A new commit on top of ``parent`` that sets ``path`` to ``content``.

    Built with plumbing and a private index file, so no branch, index or working
    tree file changes: until a ref points at it the commit is invisible.
    """
    import shutil

    from release.files import marked_tempdir

    env = identity_env(git)
    if when:
        env["GIT_AUTHOR_DATE"] = env["GIT_COMMITTER_DATE"] = when
    tmp = marked_tempdir("release-index-")
    try:
        env["GIT_INDEX_FILE"] = str(tmp / "index")
        git.run("read-tree", parent, extra_env=env)
        blob = git.run(
            "hash-object",
            "-w",
            "--stdin",
            "--path",
            path,
            input=content.decode("utf-8"),
            extra_env=env,
        ).stdout.strip()
        mode = "100644"
        ls = git.run("ls-tree", parent, "--", path).stdout.split()
        if ls:
            mode = ls[0]
        git.run("update-index", "--add", "--cacheinfo", f"{mode},{blob},{path}", extra_env=env)
        tree = git.run("write-tree", extra_env=env).stdout.strip()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return git.run(
        "commit-tree", tree, "-p", parent, "-F", "-", input=message, extra_env=env
    ).stdout.strip()


def advance_branch(git: Git, branch: str, new: str, old: str | None) -> None:
    """Move ``branch`` from ``old`` to ``new`` (compare-and-swap; ``old=None`` creates it).

    When the branch is checked out the working tree follows with a fast-forward,
    which refuses rather than overwriting local changes. Raises :class:`GitError`.
    """
    if git.current_branch() == branch:
        head = git.head()
        if head != old:
            raise GitError(f"branch {branch} moved during the release ({old} -> {head})")
        git.run("merge", "--ff-only", "--quiet", new)
        return
    ref = f"refs/heads/{branch}"
    git.run("update-ref", "-m", "release-channels", ref, new, old or "0" * 40)


def export_tree(git: Git, commit: str, dest: Path) -> None:
    """Write the tree of ``commit`` into ``dest`` (``git archive`` | tar), no .git."""
    import io
    import tarfile

    dest.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, **git._env, "LC_ALL": "C"}
    proc = subprocess.run(
        ["git", "archive", "--format=tar", commit],
        cwd=git.root,
        env=env,
        capture_output=True,
        check=False,
    )
    if proc.returncode != 0:
        raise GitError(f"git archive {commit[:12]} failed: {proc.stderr.decode(errors='replace')}")
    with tarfile.open(fileobj=io.BytesIO(proc.stdout)) as tar:
        tar.extractall(dest, filter="data")


# -- cherry-picks (stable point releases and backports) ---------------------------------


class CherryPickConflict(GitError):
    """A cherry-pick did not apply cleanly; the repository was left exactly as it was."""

    def __init__(
        self, commit: str, files: Sequence[str], base: str, *, hint: str | None = None
    ) -> None:
        self.commit = commit
        self.files = tuple(files)
        self.base = base
        shown = ", ".join(self.files[:5]) + (" …" if len(self.files) > 5 else "")
        super().__init__(
            f"cherry-pick of {commit[:12]} onto {base[:12]} conflicts in "
            f"{shown or '(no file: the change is already there, the pick is empty)'}",
            hint=hint
            or "nothing was changed; backport it by hand, or re-run with --conflict-branch "
            "to get the conflicting state on a branch for a human",
        )


@dataclass(frozen=True)
class ConflictBranch:
    """The conflicting state of a backport, committed for a human to resolve."""

    branch: str
    commit: str
    conflicted: str  # the main commit whose pick conflicted
    files: tuple[str, ...]


def order_by_history(git: Git, base: str, picks: Sequence[str]) -> list[str]:
    """``picks`` (full SHAs) oldest first, in the topological order of their history.

    One ``rev-list`` over the commits not already in ``base``; picks that are in
    ``base`` keep their relative order at the front (git would refuse nothing there).
    """
    wanted = list(dict.fromkeys(picks))
    if len(wanted) < 2:
        return wanted
    listed = git.run("rev-list", "--topo-order", "--reverse", *wanted, f"^{base}").stdout.split()
    rank = {sha: i for i, sha in enumerate(listed)}
    return sorted(wanted, key=lambda s: (s in rank, rank.get(s, 0)))


def cherry_pick_onto(git: Git, base: str, picks: Sequence[str], *, when: str) -> str:
    """Cherry-pick ``picks`` (``-x``) onto ``base``; returns the new commit.

    The picks are applied in the order of their history, in a temporary detached
    worktree: no branch, index, working tree or tag of the repository changes (refs
    move later, in the pipeline's tag step). Authors are kept; the committer date
    is ``when`` so a resumed run makes the same commit. Raises
    :class:`CherryPickConflict` naming the commit and files (the repository is
    exactly as before), :class:`GitError` for other failures.
    """
    with _pick_worktree(git, base) as wt:
        head = _apply_picks(git, wt, base, order_by_history(git, base, picks), when, abort=True)
        if isinstance(head, CherryPickConflict):
            raise head
        return head


def commit_conflict_branch(
    git: Git, base: str, picks: Sequence[str], *, when: str, branch: str
) -> ConflictBranch | None:
    """Apply ``picks`` onto ``base`` and commit the first conflicting state, conflict
    markers included, on the new branch ``branch`` (for a human to resolve).

    Returns ``None`` when every pick applies cleanly (no branch is created). The
    user's working tree, index and other refs are untouched. Raises
    :class:`GitError` when ``branch`` already exists.
    """
    ref = f"refs/heads/{branch}"
    if git.run("rev-parse", "-q", "--verify", ref, check=False).stdout.strip():
        raise GitError(
            f"branch {branch} already exists",
            hint=f"resolve or delete it first: git branch -D {branch}",
        )
    with _pick_worktree(git, base) as wt:
        result = _apply_picks(git, wt, base, order_by_history(git, base, picks), when, abort=False)
        if not isinstance(result, CherryPickConflict):
            return None
        if not result.files:
            raise result  # an empty pick: nothing for a human to resolve
        env = {**identity_env(git), "GIT_COMMITTER_DATE": when}
        wgit = Git(wt, env=git._env)
        wgit.run("add", "-A", extra_env=env)
        subject, author, authored = wgit.out(
            "log", "-1", "--format=%s%x1f%an <%ae>%x1f%aI", result.commit
        ).split(_FIELD)
        message = (
            f"CONFLICT backport of {result.commit[:12]}: {subject}\n\n"
            "The cherry-pick conflicted; this commit holds the conflict markers.\n"
            "Resolve them, then merge this branch into the release line.\n\n"
            + "".join(f"Conflicted: {f}\n" for f in result.files)
            + f"(cherry picked from commit {result.commit})\n"
        )
        wgit.run(
            *_PICK_CONFIG,
            "commit",
            "--no-verify",
            "--allow-empty",
            "-q",
            f"--author={author}",
            f"--date={authored}",
            "-F",
            "-",
            input=message,
            extra_env=env,
        )
        commit = wgit.out("rev-parse", "HEAD")
    git.run("update-ref", "-m", "release-channels: backport conflict", ref, commit, "0" * 40)
    return ConflictBranch(branch, commit, result.commit, result.files)


# Deterministic commits whatever the user's configuration: no hooks, no GPG signature
# (it would change the commit on a resumed run), no recorded resolutions applied.
_PICK_CONFIG = (
    "-c",
    "core.hooksPath=/dev/null",
    "-c",
    "commit.gpgSign=false",
    "-c",
    "rerere.enabled=false",
)


class _pick_worktree:
    """A temporary detached worktree at ``base``, removed (and pruned) on exit."""

    def __init__(self, git: Git, base: str) -> None:
        self.git = git
        self.base = base
        self.tmp: str | None = None

    def __enter__(self) -> Path:
        from release.files import marked_tempdir

        self.tmp = str(marked_tempdir("release-pick-"))
        path = Path(self.tmp) / "wt"
        try:
            self.git.run("worktree", "add", "--detach", "--quiet", str(path), self.base)
        except BaseException:
            self._cleanup(path)
            raise
        return path

    def __exit__(self, *exc: object) -> None:
        assert self.tmp is not None
        self._cleanup(Path(self.tmp) / "wt")

    def _cleanup(self, path: Path) -> None:
        import shutil

        if path.exists():
            self.git.run("worktree", "remove", "--force", str(path), check=False)
        if self.tmp is not None:
            shutil.rmtree(self.tmp, ignore_errors=True)
        self.git.run("worktree", "prune", check=False)


def _apply_picks(
    git: Git, wt: Path, base: str, picks: Sequence[str], when: str, *, abort: bool
) -> str | CherryPickConflict:
    """Pick each commit in the worktree ``wt``: the new HEAD, or the conflict (the
    cherry-pick aborted when ``abort``, else its conflicting state left in ``wt``)."""
    wgit = Git(wt, env=git._env)
    env = {**identity_env(git), "GIT_COMMITTER_DATE": when}
    for sha in picks:
        parents = wgit.out("rev-list", "--parents", "-n", "1", sha).split()[1:]
        args = [*_PICK_CONFIG, "cherry-pick", "-x", "--no-rerere-autoupdate"]
        if len(parents) > 1:
            args += ["-m", "1"]
        res = wgit.run(*args, sha, check=False, extra_env=env)
        fault_point("pick")
        if res.returncode != 0:
            files = wgit.run("diff", "--name-only", "--diff-filter=U", check=False).stdout.split()
            if abort:
                wgit.run("cherry-pick", "--abort", check=False)
            return CherryPickConflict(sha, files, base)
    return wgit.out("rev-parse", "HEAD")


def patch_ids(git: Git, rev_range: Sequence[str], *, commits: Sequence[str] = ()) -> dict[str, str]:
    """``{commit: stable patch-id}`` for the non-merge commits of ``rev_range``, or of
    exactly ``commits`` (given on stdin, any number) when ``rev_range`` is empty.

    One ``git log -p | git patch-id --stable`` pipeline for the whole range (not a
    process per commit). Commits with an empty diff have no patch-id and are absent.
    Raises :class:`GitError`.
    """
    if not rev_range and not commits:
        return {}
    if not rev_range:
        rev_range = ["--no-walk=unsorted", "--stdin"]
    env = {**os.environ, **git._env, "LC_ALL": "C"}
    log_cmd = [
        "git",
        "-c",
        "diff.noprefix=false",
        "-c",
        "diff.mnemonicPrefix=false",
        "log",
        "-p",
        "--no-merges",
        "--no-color",
        "--no-ext-diff",
        "--no-textconv",
        "--format=commit %H",
        *rev_range,
        "--",
    ]
    producer = subprocess.Popen(
        log_cmd,
        cwd=git.root,
        env=env,
        stdin=subprocess.PIPE if commits else subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert producer.stdout is not None
    if commits:
        assert producer.stdin is not None
        try:  # git reads every revision before it writes: no deadlock
            producer.stdin.write("".join(f"{c}\n" for c in commits).encode())
        finally:
            producer.stdin.close()
    try:
        consumer = subprocess.run(
            ["git", "patch-id", "--stable"],
            cwd=git.root,
            env=env,
            stdin=producer.stdout,
            capture_output=True,
            check=False,
        )
    finally:
        producer.stdout.close()
        err = producer.stderr.read() if producer.stderr else b""
        if producer.stderr:
            producer.stderr.close()
        code = producer.wait()
    if code != 0 or consumer.returncode != 0:
        detail = (err or consumer.stderr).decode(errors="replace").strip().splitlines()
        raise GitError(
            f"cannot compute patch-ids for {' '.join(rev_range)}: "
            f"{detail[-1] if detail else 'no output'}"
        )
    ids: dict[str, str] = {}
    for line in consumer.stdout.decode().splitlines():
        parts = line.split()
        if len(parts) == 2:
            ids[parts[1]] = parts[0]
    return ids
