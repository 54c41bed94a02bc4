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
            detail = (proc.stderr.strip().splitlines() or ["(no output)"])[-1]
            raise GitError(f"git {args[0]} failed: {detail}")
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

    def branches(self, pattern: str = "refs/heads") -> dict[str, str]:
        out = self.out("for-each-ref", "--format=%(refname:short) %(objectname)", pattern)
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
    env: dict[str, str] = {}
    for kind in ("AUTHOR", "COMMITTER"):
        for part, key in (("NAME", "user.name"), ("EMAIL", "user.email")):
            var = f"GIT_{kind}_{part}"
            if os.environ.get(var):
                continue
            if git.run("config", "--get", key, check=False).stdout.strip():
                continue
            env[var] = _FALLBACK_IDENTITY[var]
    return env


def commit_with_file(
    git: Git, parent: str, path: str, content: bytes, message: str, *, when: str | None = None
) -> str:
    """A new commit on top of ``parent`` that sets ``path`` to ``content``.

    Built with plumbing and a private index file, so no branch, index or working
    tree file changes: until a ref points at it the commit is invisible.
    """
    import tempfile

    env = identity_env(git)
    if when:
        env["GIT_AUTHOR_DATE"] = env["GIT_COMMITTER_DATE"] = when
    with tempfile.TemporaryDirectory(prefix="release-index-") as tmp:
        env["GIT_INDEX_FILE"] = str(Path(tmp) / "index")
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
