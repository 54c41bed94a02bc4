"""cherry_pick_onto / commit_conflict_branch / patch_ids against real git repositories."""

from __future__ import annotations

from pathlib import Path

import pytest

from release.adapters.git import (
    CherryPickConflict,
    Git,
    cherry_pick_onto,
    commit_conflict_branch,
    order_by_history,
    patch_ids,
)
from release.errors import GitError, ReleaseError
from tests.helpers.gitrepo import Repo

WHEN = "2026-11-25T12:00:00+00:00"


def _history(repo: Repo) -> dict[str, str]:
    shas = {"base": repo.commit("base", date="2026-01-01T00:00:00Z", files={"a.txt": "a\nb\nc\n"})}
    shas["x"] = repo.commit(
        "fix: x (#10)", date="2026-01-02T00:00:00Z", files={"x.txt": "x\n"}, author="Ann <a@e.x>"
    )
    shas["y"] = repo.commit("fix: y (#11)", date="2026-01-03T00:00:00Z", files={"y.txt": "y\n"})
    shas["z"] = repo.commit(
        "change a (#12)", date="2026-01-04T00:00:00Z", files={"a.txt": "a\nB-main\nc\n"}
    )
    return shas


def test_picks_in_history_order_without_touching_the_repo(repo: Repo) -> None:
    shas = _history(repo)
    git = Git(repo.path)
    before = repo.snapshot()
    # given newest first: applied oldest first anyway
    new = cherry_pick_onto(git, shas["base"], [shas["y"], shas["x"]], when=WHEN)
    assert repo.snapshot() == before
    assert repo.git("worktree", "list").count("\n") == 0  # only the main worktree
    log = repo.git("log", "--format=%s|%an|%cI", f"{shas['base']}..{new}").splitlines()
    assert [entry.split("|")[0] for entry in log] == ["fix: y (#11)", "fix: x (#10)"]
    assert log[1].split("|")[1] == "Ann"  # author kept
    assert all(entry.endswith("2026-11-25T12:00:00+00:00") for entry in log)  # committer date
    body = repo.git("log", "-1", "--format=%b", new)
    assert f"(cherry picked from commit {shas['y']})" in body
    # deterministic: a resumed run makes the same commit
    assert cherry_pick_onto(git, shas["base"], [shas["x"], shas["y"]], when=WHEN) == new


def test_order_by_history(repo: Repo) -> None:
    shas = _history(repo)
    git = Git(repo.path)
    got = order_by_history(git, shas["base"], [shas["z"], shas["x"], shas["y"]])
    assert got == [shas["x"], shas["y"], shas["z"]]


def _conflicting(repo: Repo) -> tuple[dict[str, str], str]:
    shas = _history(repo)
    repo.git("checkout", "-q", "-b", "1.0.x", shas["base"])
    line = repo.commit(
        "line change", date="2026-01-05T00:00:00Z", files={"a.txt": "a\nB-line\nc\n"}
    )
    repo.git("checkout", "-q", "main")
    return shas, line


def test_conflict_aborts_and_leaves_the_repo_byte_identical(repo: Repo) -> None:
    shas, line = _conflicting(repo)
    (repo.path / "untracked.txt").write_text("mine\n")  # the user's stuff stays
    git = Git(repo.path)
    before = repo.snapshot()
    with pytest.raises(CherryPickConflict) as info:
        cherry_pick_onto(git, line, [shas["x"], shas["z"]], when=WHEN)
    err = info.value
    assert isinstance(err, ReleaseError)
    assert err.commit == shas["z"]
    assert err.files == ("a.txt",)
    assert shas["z"][:12] in err.message
    assert "a.txt" in err.message
    assert repo.snapshot() == before
    assert repo.git("worktree", "list").count("\n") == 0
    assert not (repo.path / ".git" / "worktrees").exists() or not any(
        (repo.path / ".git" / "worktrees").iterdir()
    )


def test_conflict_branch_holds_the_markers(repo: Repo) -> None:
    shas, line = _conflicting(repo)
    git = Git(repo.path)
    before = repo.snapshot()
    made = commit_conflict_branch(
        git, line, [shas["x"], shas["z"]], when=WHEN, branch="backport/1.0/" + shas["z"][:7]
    )
    assert made is not None
    assert made.conflicted == shas["z"]
    assert made.files == ("a.txt",)
    after = repo.snapshot()
    assert after["head"] == before["head"]
    assert after["status"] == before["status"]
    assert repo.git("rev-parse", made.branch) == made.commit
    content = repo.git("show", f"{made.branch}:a.txt")
    assert "<<<<<<<" in content
    assert "B-line" in content
    assert "B-main" in content
    assert repo.git("show", f"{made.branch}:x.txt") == "x"  # the earlier pick is in
    assert repo.git("rev-parse", f"{made.commit}~2") == line
    # the branch name is never reused silently
    with pytest.raises(GitError, match="already exists"):
        commit_conflict_branch(git, line, [shas["z"]], when=WHEN, branch=made.branch)


def test_conflict_branch_not_made_when_picks_apply(repo: Repo) -> None:
    shas = _history(repo)
    git = Git(repo.path)
    assert commit_conflict_branch(git, shas["base"], [shas["x"]], when=WHEN, branch="b/1") is None
    assert repo.git("branch", "--list", "b/1") == ""


def test_empty_pick_is_reported(repo: Repo) -> None:
    shas = _history(repo)
    git = Git(repo.path)
    before = repo.snapshot()
    # x is already in y's history: the pick changes nothing
    with pytest.raises(CherryPickConflict, match="already there"):
        cherry_pick_onto(git, shas["y"], [shas["x"]], when=WHEN)
    assert repo.snapshot() == before


def test_patch_ids_one_pipeline_match_a_cherry_pick(repo: Repo) -> None:
    shas, line = _conflicting(repo)
    git = Git(repo.path)
    picked = cherry_pick_onto(git, line, [shas["x"]], when=WHEN)
    main_ids = patch_ids(git, ["main", f"^{shas['base']}"])
    line_ids = patch_ids(git, [picked, f"^{shas['base']}"])
    assert set(main_ids) == {shas["x"], shas["y"], shas["z"]}
    assert line_ids[picked] == main_ids[shas["x"]]
    assert line_ids[line] != main_ids[shas["z"]]
    with pytest.raises(GitError):
        patch_ids(git, ["no-such-ref"])


def test_worktree_failure_cleans_up(repo: Repo, tmp_path: Path) -> None:
    _history(repo)
    git = Git(repo.path)
    with pytest.raises(GitError):
        cherry_pick_onto(git, "0" * 40, ["HEAD"], when=WHEN)
    assert repo.git("worktree", "list").count("\n") == 0


def test_user_config_cannot_change_the_commits(repo: Repo) -> None:
    shas = _history(repo)
    git = Git(repo.path)
    expected = cherry_pick_onto(git, shas["base"], [shas["x"]], when=WHEN)
    # signing that would fail (or change the commit), a hook that would fail
    repo.git("config", "commit.gpgSign", "true")
    repo.git("config", "gpg.program", "false")
    hooks = repo.path / ".git" / "hooks"
    hooks.mkdir(exist_ok=True)
    hook = hooks / "prepare-commit-msg"
    hook.write_text("#!/bin/sh\nexit 1\n")
    hook.chmod(0o755)
    assert cherry_pick_onto(git, shas["base"], [shas["x"]], when=WHEN) == expected
