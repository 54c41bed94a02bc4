"""publish_pages against a real temp repository with a bare origin."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from release.adapters.ghpages import fetch_pages, publish_pages
from release.errors import GitError
from tests.helpers.gitrepo import Repo


def origin_git(repo: Repo, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=repo.origin, env=repo.env, capture_output=True, text=True, check=True
    ).stdout.strip()


def make_store(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    return root


@pytest.fixture
def started(repo: Repo) -> Repo:
    repo.commit("initial", files={"README.md": "hello\n"})
    repo.git("push", "-q", "origin", "main")
    return repo


def user_view(repo: Repo) -> dict[str, str]:
    snap = repo.snapshot()
    return {
        "head": snap["head"],
        "symbolic": snap["symbolic"],
        "status": snap["status"],
        "branches": repo.git("for-each-ref", "refs/heads"),
        "worktrees": repo.git("worktree", "list", "--porcelain"),
    }


def test_creates_orphan_branch_without_touching_the_user(started, tmp_path):
    (started.path / "wip.txt").write_text("uncommitted\n")
    before = user_view(started)
    store = make_store(
        tmp_path / "store", {"index.json": '{"version": 1}', "channels/edge/v1.json": "{}"}
    )
    sha = publish_pages(store, started.path, message="channel index v1")

    assert origin_git(started, "rev-parse", "refs/heads/gh-pages") == sha
    assert origin_git(started, "ls-tree", "-r", "--name-only", sha).split() == [
        ".nojekyll",
        "channels/edge/v1.json",
        "index.json",
    ]
    assert origin_git(started, "rev-list", "--count", sha) == "1"  # orphan
    assert origin_git(started, "log", "-1", "--format=%s", sha) == "channel index v1"
    assert origin_git(started, "show", f"{sha}:index.json") == '{"version": 1}'
    assert user_view(started) == before
    assert origin_git(started, "rev-parse", "refs/heads/main") == started.git("rev-parse", "HEAD")


def test_rerun_is_a_no_op_and_changes_stack(started, tmp_path):
    store = make_store(tmp_path / "store", {"index.json": "1", "old.json": "x"})
    first = publish_pages(store, started.path, message="v1")
    assert publish_pages(store, started.path, message="v1 again") == first

    (store / "old.json").unlink()
    (store / "index.json").write_text("2")
    second = publish_pages(store, started.path, message="v2")
    assert second != first
    assert origin_git(started, "rev-parse", f"{second}^") == first
    assert origin_git(started, "ls-tree", "-r", "--name-only", second).split() == [
        ".nojekyll",
        "index.json",
    ]


def test_existing_branch_keeps_cname_and_history(started, tmp_path):
    started.git("checkout", "-q", "--orphan", "gh-pages")
    started.git("rm", "-rq", "--cached", ".")
    (started.path / "CNAME").write_text("channels.example.org\n")
    started.git("add", "CNAME")
    started.git("commit", "-qm", "pages: custom domain")
    theirs = started.git("rev-parse", "HEAD")
    started.git("push", "-q", "origin", "gh-pages")
    started.git("checkout", "-qf", "main")
    started.git("branch", "-qD", "gh-pages")

    store = make_store(tmp_path / "store", {"index.json": "1"})
    sha = publish_pages(store, started.path, message="publish")
    assert origin_git(started, "rev-parse", f"{sha}^") == theirs
    assert origin_git(started, "show", f"{sha}:CNAME") == "channels.example.org"


def test_concurrent_publisher_is_rebased_onto(started, tmp_path):
    # A pre-push hook plays the other publisher: the first time we push, it moves
    # origin/gh-pages under our feet, so our push is rejected as non-fast-forward.
    other = make_store(tmp_path / "other", {"index.json": "theirs"})
    first = publish_pages(other, started.path, message="base")
    hook = started.path / ".git" / "hooks" / "pre-push"
    marker = tmp_path / "raced"
    hook.write_text(f"""#!/bin/sh
[ -e "{marker}" ] && exit 0
touch "{marker}"
tree=$(git -C "{started.origin}" rev-parse {first}^{{tree}})
c=$(git -C "{started.origin}" commit-tree "$tree" -p {first} -m "other publisher")
git -C "{started.origin}" update-ref refs/heads/gh-pages "$c"
""")
    hook.chmod(0o755)
    store = make_store(tmp_path / "store", {"index.json": "ours"})
    sha = publish_pages(store, started.path, message="ours")
    parent = origin_git(started, "rev-parse", f"{sha}^")
    assert origin_git(started, "log", "-1", "--format=%s", parent) == "other publisher"
    assert origin_git(started, "rev-parse", "refs/heads/gh-pages") == sha
    assert marker.exists()


def test_errors_are_git_errors(started, tmp_path):
    with pytest.raises(GitError, match=r"has no index\.json"):
        publish_pages(tmp_path, started.path, message="x")
    store = make_store(tmp_path / "store", {"index.json": "1"})
    with pytest.raises(GitError, match="git ls-remote failed"):
        publish_pages(store, started.path, remote="nowhere", message="x")
    assert started.git("worktree", "list").count("\n") == 0  # no leftover worktree


def test_fetch_then_publish_with_expected_parent(started, tmp_path):
    seed = tmp_path / "seed"
    assert fetch_pages(started.path, seed) == ""
    assert list(seed.iterdir()) == []

    store = make_store(tmp_path / "store", {"index.json": "1", "channels/edge/v1.json": "{}"})
    first = publish_pages(store, started.path, message="v1", expected_parent="")
    copy = tmp_path / "copy"
    assert fetch_pages(started.path, copy) == first
    assert sorted(p.relative_to(copy).as_posix() for p in copy.rglob("*") if p.is_file()) == [
        "channels/edge/v1.json",
        "index.json",
    ]
    assert (copy / "index.json").read_text() == "1"

    (copy / "index.json").write_text("2")
    second = publish_pages(copy, started.path, message="v2", expected_parent=first)
    assert origin_git(started, "rev-parse", f"{second}^") == first

    # A store read at `first` must not overwrite what `second` published.
    with pytest.raises(GitError, match=r"not at .* where the channel store was read"):
        publish_pages(store, started.path, message="stale", expected_parent=first)
    with pytest.raises(GitError, match="is at"):
        publish_pages(store, started.path, message="stale", expected_parent="")
    assert origin_git(started, "rev-parse", "refs/heads/gh-pages") == second
    with pytest.raises(GitError, match="is not empty"):
        fetch_pages(started.path, copy)
