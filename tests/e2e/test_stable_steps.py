"""The pipeline's prepare and tag steps on stable plans: cherry-picks onto the line in a
temporary worktree, a new line branch created, a not-checked-out branch advanced by
compare-and-swap, the user's checkout untouched."""

from __future__ import annotations

from pathlib import Path

import pytest

from release.adapters.git import CherryPickConflict
from release.errors import JournalError
from release.journal import Journal
from release.pipeline import Run
from release.plan import ReleasePlan, plan_to_journal
from release.stable import plan_backport, plan_cut, plan_point, stable_channel
from tests.helpers.stablerepo import StableRepo, make_stable_repo


def _prepare_and_tag(sr: StableRepo, plan: ReleasePlan, tmp: Path) -> dict[str, str]:
    config = sr.config()
    journal = Journal(tmp / f"j-{plan.tag}.json", {"plan": plan_to_journal(plan)})
    events: list[tuple[str, str, str]] = []
    run = Run(
        sr.git,
        config,
        config.channel(plan.channel),
        plan,
        sr.opts(tmp),
        journal,
        lambda *e: events.append(e),
    )
    journal.record("prepare", run.step_prepare())
    return run.step_tag()


@pytest.fixture
def sr(tmp_path: Path) -> StableRepo:
    return make_stable_repo(tmp_path)


def test_cut_point_point_backport_git_effects(sr: StableRepo, tmp_path: Path) -> None:
    config = sr.config()
    ch = stable_channel(config, None)
    main_before = sr.head_of("main")
    status_before = sr.repo.git("status", "--porcelain", "--ignored")

    # cut 2.14 from the older edge, then 2.15 from the latest
    plan = plan_cut(sr.git, config, ch, sr.opts(tmp_path), from_edge="edge-26.10.1", line=None)
    res = _prepare_and_tag(sr, plan, tmp_path)
    assert res == {"tag": "stable-2.14.0", "commit": sr.shas["1"], "branch": "2.14.x"}
    assert sr.head_of("2.14.x") == sr.shas["1"]
    assert "Cut from edge-26.10.1." in sr.repo.git("tag", "-l", "--format=%(contents)", res["tag"])
    plan = plan_cut(sr.git, config, ch, sr.opts(tmp_path), from_edge=None, line=None)
    assert _prepare_and_tag(sr, plan, tmp_path)["tag"] == "stable-2.15.0"

    # two point releases on 2.15 with picks
    plan = plan_point(sr.git, config, ch, sr.opts(tmp_path), line="2.15", picks=["#4"])
    res = _prepare_and_tag(sr, plan, tmp_path)
    assert res["tag"] == "stable-2.15.1"
    assert sr.head_of("2.15.x") == res["commit"]
    assert sr.head_of("2.15.x^") == sr.head_of("stable-2.15.0^{commit}")
    body = sr.repo.git("log", "-1", "--format=%B", "2.15.x")
    assert f"(cherry picked from commit {sr.shas['4']})" in body
    plan = plan_point(sr.git, config, ch, sr.opts(tmp_path), line="2.15", picks=["#4", "#5"])
    assert plan.picks == (sr.shas["5"],)  # #4 is skipped, not duplicated
    res = _prepare_and_tag(sr, plan, tmp_path)
    assert res["tag"] == "stable-2.15.2"
    subjects = sr.repo.git("log", "--format=%s", "stable-2.15.0..2.15.x").splitlines()
    assert subjects == ["fix: five (#5)", "fix: four (#4)"]

    # a backport to 2.14 while 2.15 exists
    plan = plan_backport(sr.git, config, ch, sr.opts(tmp_path), line="2.14", picks=["#4", "#2"])
    assert plan.make_latest is False
    res = _prepare_and_tag(sr, plan, tmp_path)
    assert res["tag"] == "stable-2.14.1"
    subjects = sr.repo.git("log", "--format=%s", "stable-2.14.0..2.14.x").splitlines()
    assert subjects == ["fix: four (#4)", "fix: two (#2)"]  # main's order: #2 first

    # the user never left main, and main did not move
    assert sr.repo.git("symbolic-ref", "--short", "HEAD") == "main"
    assert sr.head_of("main") == main_before
    assert sr.repo.git("status", "--porcelain", "--ignored") == status_before
    assert sr.repo.git("worktree", "list").count("\n") == 0


def test_tag_step_refuses_a_branch_that_moved(sr: StableRepo, tmp_path: Path) -> None:
    config = sr.config()
    ch = stable_channel(config, None)
    sr.repo.git("branch", "2.14.x", "edge-26.11.1")
    sr.repo.tag("stable-2.14.0", ref="2.14.x")
    plan = plan_point(sr.git, config, ch, sr.opts(tmp_path), line="2.14", picks=["#4"])
    sr.repo.git("branch", "-f", "2.14.x", sr.shas["4"])  # someone else moved the line
    with pytest.raises(JournalError, match=r"branch 2\.14\.x is at .*, expected"):
        _prepare_and_tag(sr, plan, tmp_path)
    assert "stable-2.14.1" not in sr.tags()


def test_changelog_commit_goes_on_the_line_branch(tmp_path: Path) -> None:
    sr = make_stable_repo(tmp_path, changelog_commit=True)
    config = sr.config()
    ch = stable_channel(config, None)
    main_before = sr.head_of("main")
    sr.repo.git("branch", "2.14.x", "edge-26.11.1")
    sr.repo.tag("stable-2.14.0", ref="2.14.x")
    plan = plan_point(sr.git, config, ch, sr.opts(tmp_path), line="2.14", picks=["#5"])
    res = _prepare_and_tag(sr, plan, tmp_path)
    changelog = sr.repo.git("show", "2.14.x:CHANGELOG.md")
    assert "## [stable-2.14.1] - 2026-11-25" in changelog
    assert sr.repo.git("log", "-1", "--format=%s", "2.14.x") == "Release stable-2.14.1"
    assert sr.head_of("2.14.x~1") != sr.head_of("stable-2.14.0^{commit}")  # the pick
    assert res["commit"] == sr.head_of("2.14.x")
    assert sr.head_of("main") == main_before
    assert "stable-2.14.1" not in sr.repo.git("show", "main:CHANGELOG.md")


def test_conflict_in_prepare_leaves_the_repo_byte_identical(sr: StableRepo, tmp_path: Path) -> None:
    config = sr.config()
    ch = stable_channel(config, None)
    sr.repo.git("branch", "2.14.x", "edge-26.10.1")
    sr.repo.tag("stable-2.14.0", ref="2.14.x")
    sr.repo.git("checkout", "-q", "2.14.x")
    sr.repo.commit("line-only change", files={"five.txt": "line version\n"})
    sr.repo.git("checkout", "-q", "main")
    plan = plan_point(sr.git, config, ch, sr.opts(tmp_path), line="2.14", picks=["#2", "#5"])
    before = sr.repo.snapshot()
    with pytest.raises(CherryPickConflict) as info:
        _prepare_and_tag(sr, plan, tmp_path)
    assert info.value.commit == sr.shas["5"]
    assert info.value.files == ("five.txt",)
    assert sr.repo.snapshot() == before


def test_a_checked_out_line_branch_follows_by_fast_forward(sr: StableRepo, tmp_path: Path) -> None:
    config = sr.config()
    ch = stable_channel(config, None)
    sr.repo.git("branch", "2.14.x", "edge-26.11.1")
    sr.repo.tag("stable-2.14.0", ref="2.14.x")
    sr.repo.git("checkout", "-q", "2.14.x")
    plan = plan_point(sr.git, config, ch, sr.opts(tmp_path), line="2.14", picks=["#5"])
    res = _prepare_and_tag(sr, plan, tmp_path)
    assert sr.repo.git("symbolic-ref", "--short", "HEAD") == "2.14.x"
    assert sr.head_of("HEAD") == res["commit"]
    assert (sr.path / "five.txt").read_text() == "5\n"
    assert sr.repo.git("status", "--porcelain") == ""


def test_pick_a_merged_pull_request_by_number(sr: StableRepo, tmp_path: Path) -> None:
    sr.repo.git("branch", "2.14.x", "edge-26.11.1")
    sr.repo.tag("stable-2.14.0", ref="2.14.x")
    sr.repo.git("checkout", "-q", "-b", "topic", "main~2")
    sr.repo.commit("part one", files={"topic1.txt": "1\n"})
    sr.repo.commit("part two", files={"topic2.txt": "2\n"})
    sr.repo.git("checkout", "-q", "main")
    sr.repo.git("merge", "-q", "--no-ff", "-m", "Merge pull request #9 from dev/topic", "topic")
    merge = sr.head_of("main")
    config = sr.config()
    plan = plan_point(
        sr.git, config, stable_channel(config, None), sr.opts(tmp_path), line="2.14", picks=["#9"]
    )
    assert plan.picks == (merge,)
    res = _prepare_and_tag(sr, plan, tmp_path)
    assert sr.repo.git("show", f"{res['commit']}:topic2.txt") == "2"
    assert f"(cherry picked from commit {merge})" in sr.repo.git(
        "log", "-1", "--format=%B", res["commit"]
    )
