"""Stable releases that talk to GitHub (the loopback stand-in): --label picks, and the
draft pull request of --conflict-branch with --push."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from release.errors import PreflightError
from release.stable import (
    BackportConflict,
    StableRequest,
    github_slug,
    plan_backport,
    release_stable,
    stable_channel,
)
from tests.helpers.github_server import GitHubStandIn
from tests.helpers.stablerepo import StableRepo, make_stable_repo

TOKEN = "standin-token-8e1d0c"


@pytest.fixture
def server() -> Iterator[GitHubStandIn]:
    with GitHubStandIn(TOKEN) as s:
        yield s


@pytest.fixture
def sr(tmp_path: Path) -> StableRepo:
    sr = make_stable_repo(tmp_path, repository="https://github.com/acme/widget")
    for line, edge in (("2.14", "edge-26.10.1"), ("2.15", "edge-26.11.1")):
        sr.repo.git("branch", f"{line}.x", edge)
        sr.repo.tag(f"stable-{line}.0", ref=f"{line}.x")
    return sr


def _env(server: GitHubStandIn) -> dict[str, str]:
    return {"GITHUB_TOKEN": TOKEN, "GITHUB_API_URL": server.base_url}


def test_github_slug() -> None:
    assert github_slug("https://github.com/acme/widget") == "acme/widget"
    assert github_slug("git@github.com:acme/widget.git") == "acme/widget"
    assert github_slug("/srv/git/widget") is None
    assert github_slug(None) is None


def test_label_picks_merged_prs_in_merge_order(
    sr: StableRepo, server: GitHubStandIn, tmp_path: Path
) -> None:
    server.add_pull(
        "fix four", labels=["backport/2.14"], merged_at="2026-11-10T11:00:00Z", sha=sr.shas["4"]
    )
    server.add_pull(
        "fix two", labels=["backport/2.14"], merged_at="2026-10-10T11:00:00Z", sha=sr.shas["2"]
    )
    server.add_pull("other", labels=["backport/2.13"], merged_at="2026-11-01T11:00:00Z")
    server.add_pull("open", labels=["backport/2.14"], merged_at=None)
    config = sr.config()
    ch = stable_channel(config, None)
    opts = sr.opts(tmp_path, env=_env(server))
    plan = plan_backport(sr.git, config, ch, opts, line="2.14", label="backport/2.14")
    assert plan.picks == (sr.shas["2"], sr.shas["4"])
    # with --pick too, and one of the labelled PRs already on the line: skipped
    sr.repo.git("checkout", "-q", "2.14.x")
    sr.repo.git("cherry-pick", "-x", sr.shas["2"])
    sr.repo.git("checkout", "-q", "main")
    plan = plan_backport(sr.git, config, ch, opts, line="2.14", picks=["#5"], label="backport/2.14")
    assert plan.picks == (sr.shas["4"], sr.shas["5"])
    assert any("matched by trailer" in w for w in plan.warnings)


def test_label_problems(sr: StableRepo, server: GitHubStandIn, tmp_path: Path) -> None:
    config = sr.config()
    ch = stable_channel(config, None)
    with pytest.raises(PreflightError, match="no merged pull request of acme/widget"):
        plan_backport(
            sr.git, config, ch, sr.opts(tmp_path, env=_env(server)), line="2.14", label="none"
        )
    with pytest.raises(PreflightError, match="GITHUB_TOKEN"):
        plan_backport(sr.git, config, ch, sr.opts(tmp_path), line="2.14", label="backport/2.14")


def test_conflict_branch_with_push_opens_a_draft_pr(
    sr: StableRepo, server: GitHubStandIn, tmp_path: Path
) -> None:
    sr.repo.git("checkout", "-q", "2.14.x")
    sr.repo.commit("line-only: five", files={"five.txt": "2.14 version\n"})
    sr.repo.git("checkout", "-q", "main")
    sr.repo.git("push", "-q", "origin", "2.14.x", "2.15.x", "--tags")
    opts = sr.opts(tmp_path, env=_env(server), push=True)
    request = StableRequest("backport", line="2.14", picks=("#5",), conflict_branch=True)
    with pytest.raises(BackportConflict) as info:
        release_stable(sr.git, sr.config(), opts, lambda *e: None, request)
    branch = f"backport/2.14/{sr.shas['5'][:7]}"
    assert "draft PR #1" in info.value.message
    assert f"{server.base_url}" in info.value.message or "pull/1" in info.value.message
    (pull,) = server.pulls.values()
    assert (pull.head, pull.base, pull.draft) == (branch, "2.14.x", True)
    assert "five.txt" in pull.body
    assert sr.repo.git("ls-remote", "origin", f"refs/heads/{branch}").split()[0] == sr.head_of(
        branch
    )
    assert "stable-2.14.1" not in sr.tags()
    assert not (tmp_path / "out").exists()


def test_pushed_backport_from_a_fresh_clone_is_never_github_latest(
    sr: StableRepo, server: GitHubStandIn, tmp_path: Path
) -> None:
    """The line exists only on origin (as in a CI checkout): the local branch is created
    at the release commit, branch and tag are pushed, and the backport's GitHub release
    is published with make_latest=false."""
    sr.repo.git("push", "-q", "origin", "2.14.x", "2.15.x", "--tags")
    sr.repo.git("branch", "-D", "2.14.x", "2.15.x")
    sr.repo.git("fetch", "-q", "origin")
    opts = sr.opts(tmp_path, env=_env(server), push=True, sign="dev", allow_dev_signatures=True)
    request = StableRequest("backport", line="2.14", picks=("#2",))
    result = release_stable(sr.git, sr.config(), opts, lambda *e: None, request)
    assert result.state == "released"
    remote = sr.repo.git("ls-remote", "origin", "refs/heads/2.14.x", "refs/tags/stable-2.14.1^{}")
    assert [line.split("\t")[0] for line in remote.splitlines()] == [sr.head_of("2.14.x")] * 2
    assert sr.repo.git("log", "-1", "--format=%s", "2.14.x") == "fix: two (#2)"
    (release,) = server.releases.values()
    assert (release.tag_name, release.draft) == ("stable-2.14.1", False)
    assert server.make_latest_seen[-1] == "false"
    assert server.latest_release_id is None
