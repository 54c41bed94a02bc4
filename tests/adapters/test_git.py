"""The git adapter and the release history on real repositories."""

from __future__ import annotations

import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest

from release.adapters.git import Git
from release.config import default_channels
from release.errors import GitError
from release.history import assign_commits, build_history
from release.versions import EdgeVersion, Line, StableVersion
from tests.helpers.gitrepo import Repo
from tests.helpers.linkerd import (
    EDGES,
    JUNK_TAGS,
    STABLE_213,
    STABLE_214,
    LinkerdHistory,
    build_linkerd_history,
)


@pytest.fixture(scope="module")
def linkerd(tmp_path_factory: pytest.TempPathFactory) -> LinkerdHistory:
    return build_linkerd_history(tmp_path_factory.mktemp("linkerd"))


@pytest.fixture
def git(linkerd: LinkerdHistory) -> Git:
    return Git(linkerd.path, env=linkerd.repo.env)


def test_tags_in_one_call_with_peeled_commits_and_dates(linkerd: LinkerdHistory, git: Git) -> None:
    tags = {t.name: t for t in git.tags()}
    assert set(tags) == {*EDGES, *STABLE_213, *STABLE_214, *JUNK_TAGS}
    for name in (*EDGES, *STABLE_213, *STABLE_214):
        assert tags[name].commit == linkerd.sha[name], name
        assert tags[name].annotated
    assert not tags["git-1a18ca8f"].annotated
    assert tags["git-1a18ca8f"].commit == linkerd.sha["root"]
    assert tags["stable-2.13.7"].date == datetime(2026, 1, 14, 13, tzinfo=UTC)
    assert tags["edge-25.12.8"].subject == "edge-25.12.8"


def test_log_range_newest_first_with_parents(linkerd: LinkerdHistory, git: Git) -> None:
    commits = git.log(["edge-25.12.3", "^edge-25.12.2"])
    subjects = [c.subject for c in commits]
    assert subjects[0] == "Merge pull request #999 from x/topic"
    assert set(subjects[1:]) == {
        "feat: topic work on the branch",
        "docs: change 3 for december (#103)",
    }
    assert len(commits[0].parents) == 2
    assert all(len(c.parents) == 1 for c in commits[1:])
    assert commits[0].sha == linkerd.sha["edge-25.12.3"]
    assert commits[0].author == "Test Author"


def test_log_bodies_survive(git: Git) -> None:
    (commit,) = [c for c in git.log(["edge-25.12.5", "^edge-25.12.4"]) if "!" in c.subject]
    assert commit.body == "BREAKING CHANGE: v1 clients must upgrade"


def test_log_unknown_revision_is_a_git_error(git: Git) -> None:
    with pytest.raises(GitError, match="cannot read history") as info:
        git.log(["edge-99.1.1", "^edge-25.12.1"])
    assert info.value.hint


def test_resolve_unknown_ref(git: Git) -> None:
    with pytest.raises(GitError, match="unknown revision 'nope'"):
        git.resolve("nope")
    assert git.resolve("edge-25.12.1") == git.out("rev-parse", "edge-25.12.1^{commit}")


def test_topo_order_lists_children_before_parents(git: Git) -> None:
    commits = git.log(["main", "2.13.x", "2.14.x"], topo_order=True)
    position = {c.sha: i for i, c in enumerate(commits)}
    for c in commits:
        for p in c.parents:
            assert position[p] > position[c.sha]


def test_history_skips_junk_and_orders_by_version(git: Git) -> None:
    history = build_history(git.tags(), default_channels())
    assert [r.name for r in history.releases("edge")] == list(EDGES)
    stable = [r.name for r in history.releases("stable")]
    assert stable == [*STABLE_213, *STABLE_214]
    # month with eight edges, then the year rolls over to edge-26.1.1
    assert history.edge_versions()[7:9] == [EdgeVersion(2025, 12, 8), EdgeVersion(2026, 1, 1)]
    lines = history.lines("stable")
    assert [(s.line, s.count, s.latest.name) for s in lines] == [
        (Line(2, 14), 2, "stable-2.14.1"),
        (Line(2, 13), 8, "stable-2.13.7"),
    ]
    # 2.13.7 came out after 2.14.1: the newest release by date is a backport
    assert history.all_releases()[0].name == "stable-2.13.7"
    assert lines[1].last_date > lines[0].last_date
    assert history.find("v18.7.1") is None


def test_assign_commits_matches_git_log_for_every_release(
    linkerd: LinkerdHistory, git: Git
) -> None:
    history = build_history(git.tags(), default_channels())
    releases = history.all_releases()
    heads = {r.name: r.commit for r in releases}
    previous = {r.name: (p.name if (p := history.previous(r)) else None) for r in releases}
    commits = git.log(sorted(set(heads.values())), topo_order=True)
    assigned = assign_commits(commits, heads, previous)
    for r in releases:
        prev = history.previous(r)
        expected = git.log([r.commit, f"^{prev.commit}"] if prev else [r.commit])
        assert {c.sha for c in assigned[r.name]} == {c.sha for c in expected}, r.name
    # the .0 of a line starts from the newest release of the line below
    p = history.previous(history.find("stable-2.14.0"))  # type: ignore[arg-type]
    assert p is not None
    assert p.name == "stable-2.13.7"
    assert history.previous(history.find("stable-2.13.0")) is None  # type: ignore[arg-type]
    assert StableVersion(2, 13, 7) in history.stable_versions()


def _clone(src: Path, dest: Path, env: dict[str, str], *args: str) -> Git:
    subprocess.run(["git", "clone", "-q", *args, f"file://{src}", str(dest)], env=env, check=True)
    return Git(dest, env=env)


def test_full_clone_is_accepted(linkerd: LinkerdHistory, tmp_path: Path) -> None:
    clone = _clone(linkerd.path, tmp_path / "full", linkerd.repo.env)
    clone.ensure_full_history()
    assert not clone.is_shallow()


def test_shallow_clone_is_refused(linkerd: LinkerdHistory, tmp_path: Path) -> None:
    clone = _clone(linkerd.path, tmp_path / "shallow", linkerd.repo.env, "--depth", "1")
    assert clone.is_shallow()
    with pytest.raises(GitError, match="shallow clone") as info:
        clone.ensure_full_history()
    assert info.value.hint is not None
    assert "unshallow" in info.value.hint


def test_no_tags_clone_is_refused(linkerd: LinkerdHistory, tmp_path: Path) -> None:
    clone = _clone(linkerd.path, tmp_path / "notags", linkerd.repo.env, "--no-tags")
    assert clone.tags() == []
    with pytest.raises(GitError, match="--no-tags") as info:
        clone.ensure_full_history()
    assert info.value.hint is not None
    assert "git fetch --tags origin" in info.value.hint


def test_not_a_repository(tmp_path: Path) -> None:
    with pytest.raises(GitError, match="is not a git repository"):
        Git(tmp_path).ensure_repo()
    with pytest.raises(GitError, match="not a directory"):
        Git(tmp_path / "missing").ensure_repo()


def test_empty_repository(repo: Repo) -> None:
    git = Git(repo.path, env=repo.env)
    git.ensure_full_history()
    assert git.head() is None
    assert git.tags() == []
    assert git.commit_count() == 0
