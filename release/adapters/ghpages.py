"""Publish the channel store to a GitHub Pages branch with the real git CLI.

The store tree becomes the whole content of the branch (plus ``.nojekyll``, so Pages
serves every path as is, and any ``CNAME`` the branch already had). The commit is built
in a temporary ``git worktree`` with an empty index: the user's working tree, index,
HEAD and branches are never touched, and no local branch is created. The push is a
plain fast-forward; when someone else moved the branch meanwhile, the commit is rebuilt
on top of theirs and pushed again. Publishing an unchanged store is a no-op.
"""

from __future__ import annotations

import logging
import shutil
import subprocess
import tarfile
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path

from release.errors import GitError
from release.logging import redact

log = logging.getLogger("release.pages")

KEEP_FROM_BRANCH = ("CNAME",)
_REJECTED = ("[rejected]", "non-fast-forward", "fetch first", "stale info", "cannot lock ref")


def _git(
    cwd: Path, *args: str, env: Mapping[str, str] | None = None, check: bool = True
) -> subprocess.CompletedProcess[str]:
    try:
        proc = subprocess.run(
            ["git", *args],
            cwd=cwd,
            env=None if env is None else dict(env),
            capture_output=True,
            text=True,
            check=False,
        )
    except OSError as exc:
        raise GitError(f"cannot run git: {exc.strerror}", hint="install the git CLI") from None
    if check and proc.returncode != 0:
        detail = redact(proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else "")
        raise GitError(
            f"git {args[0]} failed: {detail or f'exit {proc.returncode}'}", hint=_hint(proc.stderr)
        )
    return proc


def _hint(stderr: str) -> str | None:
    if "tell me who you are" in stderr or "empty ident" in stderr:
        return "set user.name and user.email (or GIT_COMMITTER_NAME / GIT_COMMITTER_EMAIL)"
    if "Authentication failed" in stderr or "could not read Username" in stderr:
        return "the push needs credentials with contents: write on the repository"
    return None


def _remote_branch(
    repo_root: Path, remote: str, branch: str, env: Mapping[str, str] | None
) -> str | None:
    """Fetch ``remote/branch`` and return its commit, or None when the branch is missing."""
    ref = f"refs/heads/{branch}"
    out = _git(repo_root, "ls-remote", "--heads", remote, ref, env=env).stdout.split()
    if not out:
        return None
    _git(
        repo_root,
        "fetch",
        "--quiet",
        "--no-tags",
        remote,
        f"+{ref}:refs/remotes/{remote}/{branch}",
        env=env,
    )
    return out[0]


def _build_commit(
    repo_root: Path,
    store_dir: Path,
    parent: str | None,
    message: str,
    keep: Sequence[str],
    env: Mapping[str, str] | None,
) -> str:
    """Commit the store tree on top of ``parent`` (or as an orphan). Returns the commit,
    which is ``parent`` itself when the tree did not change."""
    with tempfile.TemporaryDirectory(prefix="release-pages-") as tmp:
        wt = Path(tmp) / "pages"
        base = parent or "HEAD"
        _git(
            repo_root,
            "worktree",
            "add",
            "--quiet",
            "--detach",
            "--no-checkout",
            str(wt),
            base,
            env=env,
        )
        try:
            shutil.copytree(
                store_dir,
                wt,
                dirs_exist_ok=True,
                # The run's work directory (journal, dev Sigstore keys) and lock or temp
                # files of the store are never published.
                ignore=shutil.ignore_patterns(
                    ".git", ".release-work", ".*.tmp", ".lock*", ".release-channels.lock"
                ),
            )
            (wt / ".nojekyll").touch()
            for name in keep if parent else ():
                shown = _git(wt, "show", f"{parent}:{name}", env=env, check=False)
                if shown.returncode == 0 and not (wt / name).exists():
                    (wt / name).write_text(shown.stdout)
            _git(wt, "add", "--all", "--force", ".", env=env)
            tree = _git(wt, "write-tree", env=env).stdout.strip()
            if (
                parent
                and tree == _git(wt, "rev-parse", f"{parent}^{{tree}}", env=env).stdout.strip()
            ):
                return parent
            args = ["commit-tree", tree, "-m", message]
            if parent:
                args += ["-p", parent]
            return _git(wt, *args, env=env).stdout.strip()
        finally:
            _git(repo_root, "worktree", "remove", "--force", str(wt), env=env, check=False)
            _git(repo_root, "worktree", "prune", env=env, check=False)


def publish_pages(
    store_dir: Path,
    repo_root: Path,
    branch: str = "gh-pages",
    remote: str = "origin",
    *,
    message: str,
    expected_parent: str | None = None,
    env: Mapping[str, str] | None = None,
    attempts: int = 3,
    keep: Sequence[str] = KEEP_FROM_BRANCH,
) -> str:
    """Make ``remote/branch`` hold exactly the channel store; return the branch's commit.

    Creates the branch as an orphan when it is missing. Idempotent: an unchanged store
    pushes nothing and returns the current commit.

    ``expected_parent`` is the commit :func:`fetch_pages` returned when the store was
    seeded from the branch (``""``: the branch did not exist). When given, a branch that
    has moved since is never overwritten: GitError, so the caller rebuilds its index on
    top of the other publisher's. When None, the store is authoritative and a push race
    is retried on top of the new head.

    Raises GitError: git failed, no credentials, no index.json in ``store_dir``, the
    branch moved past ``expected_parent``, or it kept moving for ``attempts`` tries.
    """
    if not (store_dir / "index.json").is_file():
        raise GitError(f"{store_dir} has no index.json", hint="publish the channel store first")
    if not _git(repo_root, "rev-parse", "--git-dir", env=env, check=False).stdout.strip():
        raise GitError(f"{repo_root} is not a git repository")
    for attempt in range(1, attempts + 1):
        parent = _remote_branch(repo_root, remote, branch, env)
        if expected_parent is not None and (parent or "") != expected_parent:
            raise GitError(
                f"{remote}/{branch} is at {(parent or 'nothing')[:12]}, not at "
                f"{expected_parent[:12] or 'nothing'} where the channel store was read",
                hint="another publisher moved it: re-run to rebuild the index on top",
            )
        commit = _build_commit(repo_root, store_dir, parent, message, keep, env)
        if commit == parent:
            log.info("%s/%s already holds this channel store (%s)", remote, branch, commit[:12])
            return commit
        push = _git(
            repo_root,
            "push",
            "--porcelain",
            remote,
            f"{commit}:refs/heads/{branch}",
            env=env,
            check=False,
        )
        if push.returncode == 0:
            log.info("pushed %s to %s/%s", commit[:12], remote, branch)
            return commit
        output = push.stdout + push.stderr
        if not any(marker in output for marker in _REJECTED):
            last = redact(push.stderr.strip().splitlines()[-1] if push.stderr.strip() else "")
            raise GitError(f"git push to {remote}/{branch} failed: {last}", hint=_hint(push.stderr))
        log.info(
            "%s/%s moved while publishing (attempt %d); rebuilding on top", remote, branch, attempt
        )
    raise GitError(
        f"{remote}/{branch} kept moving; gave up after {attempts} attempts",
        hint="another publisher is running: let it finish, then re-run",
    )


def fetch_pages(
    repo_root: Path,
    dest: Path,
    branch: str = "gh-pages",
    remote: str = "origin",
    *,
    env: Mapping[str, str] | None = None,
) -> str:
    """Copy the files of ``remote/branch`` into the empty directory ``dest``.

    Returns the commit they came from, to pass as ``publish_pages(expected_parent=…)``,
    or ``""`` when the branch does not exist yet (``dest`` is left empty). ``.nojekyll``
    is not copied. Raises GitError (git failed, ``dest`` not empty).
    """
    dest.mkdir(parents=True, exist_ok=True)
    if any(dest.iterdir()):
        raise GitError(f"{dest} is not empty", hint="fetch the pages branch into a new directory")
    commit = _remote_branch(repo_root, remote, branch, env)
    if commit is None:
        return ""
    proc = subprocess.Popen(
        ["git", "archive", "--format=tar", commit],
        cwd=repo_root,
        env=None if env is None else dict(env),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdout is not None
    assert proc.stderr is not None
    try:
        with tarfile.open(fileobj=proc.stdout, mode="r|") as tar:
            tar.extractall(dest, filter="data")
    except (tarfile.TarError, OSError) as exc:
        proc.kill()
        raise GitError(f"cannot unpack {remote}/{branch}: {exc}") from None
    finally:
        proc.stdout.close()
        err = proc.stderr.read().decode(errors="replace")
        proc.stderr.close()
        returncode = proc.wait()
    if returncode != 0:
        raise GitError(f"git archive failed: {redact(err.strip())}")
    (dest / ".nojekyll").unlink(missing_ok=True)
    return commit
